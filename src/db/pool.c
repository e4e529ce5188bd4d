#include "db/pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db/migrate.h"
#include "db_int.h"
#include "util/bounds.h"
#include "util/log.h"
#include "util/strutil.h"

/*
 * A fixed array of connection slots guarded by one mutex; a condition
 * variable wakes waiters when a slot is released. Connecting happens
 * outside the lock (the slot is marked in use meanwhile), so a slow or
 * dead server never blocks the other threads' release/acquire.
 */
struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *dsn;
	unsigned size;
	unsigned connect_timeout_s;
	unsigned acquire_timeout_ms;
	unsigned statement_timeout_ms;
	struct db_conn *slots;
};

int
db_pool_new(const struct db_pool_opts *o, struct db_pool **out)
{
	struct db_pool *p = NULL;
	pthread_condattr_t ca;
	int r = ERR_ALLOC, have_mu = 0, have_cv = 0;

	*out = NULL;
	if (o == NULL || o->dsn == NULL || o->size < 1 ||
	    o->size > DB_POOL_MAX || strlen(o->dsn) > DB_DSN_MAX)
		return ERR_CONFIG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	if ((p->dsn = strdup(o->dsn)) == NULL ||
	    (p->slots = calloc(o->size, sizeof(*p->slots))) == NULL)
		goto out;
	p->size = o->size;
	p->connect_timeout_s = o->connect_timeout_s;
	p->acquire_timeout_ms = o->acquire_timeout_ms;
	p->statement_timeout_ms = o->statement_timeout_ms;
	r = ERR_INTERNAL;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto out;
	have_mu = 1;
	if (pthread_condattr_init(&ca) != 0)
		goto out;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&p->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto out;
	}
	pthread_condattr_destroy(&ca);
	have_cv = 1;
	*out = p;
	p = NULL;
	r = 0;
out:
	if (p != NULL) {
		if (have_cv)
			pthread_cond_destroy(&p->cv);
		if (have_mu)
			pthread_mutex_destroy(&p->mu);
		free(p->slots);
		free(p->dsn);
		free(p);
	}
	return r;
}

static void
conn_close(struct db_conn *c)
{
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
	c->broken = 0;
	c->begin_pending = 0;
	c->generic_pending = 0;
	/* the server forgot the prepared statements with the session */
	db_stmt_cache_clear(&c->stmts);
}

void
db_pool_free(struct db_pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < p->size; i++)
		conn_close(&p->slots[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->slots);
	free(p->dsn);
	free(p);
}

/*
 * An idle connection whose server went away (restart, fast shutdown,
 * idle timeout) has the server's FATAL message or EOF waiting on its
 * socket; nothing else arrives on an idle session of ours (no LISTEN).
 * Treat any input as the end of the session and reconnect, instead of
 * failing the caller's first statement.
 */
static int
conn_alive(struct db_conn *c)
{
	struct pollfd pfd;
	int fd;

	if (c->pg == NULL || c->broken || PQstatus(c->pg) != CONNECTION_OK)
		return 0;
	if ((fd = PQsocket(c->pg)) < 0)
		return 0;
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

void
db_conn_notice(void *arg, const char *message)
{
	char msg[LOG_CLIENT_STR_MAX * 4 + 8];

	(void)arg;
	log_clean(message, msg, sizeof(msg));
	log_debug("database notice: %s", msg);
}

void
db_conn_params(struct db_conn_params *cp, const char *dsn,
    unsigned connect_timeout_s, const char *app_name)
{
	memset(cp, 0, sizeof(*cp));
	snprintf(cp->ct, sizeof(cp->ct), "%u",
	    connect_timeout_s > 0 ? connect_timeout_s : 5);
	/* the DSN first: the settings after it override its own */
	cp->keys[0] = "dbname";
	cp->vals[0] = dsn;
	cp->keys[1] = "connect_timeout";
	cp->vals[1] = cp->ct;
	cp->keys[2] = "application_name";
	cp->vals[2] = app_name;
	cp->keys[3] = "client_encoding";
	cp->vals[3] = "UTF8";
	cp->keys[4] = NULL;
	cp->vals[4] = NULL;
}

static int
conn_open(struct db_pool *p, struct db_conn *c)
{
	struct db_conn_params cp;
	const char *pv[1];
	char st[24];
	char msg[LOG_CLIENT_STR_MAX * 4 + 8];
	int r;

	conn_close(c);
	db_conn_params(&cp, p->dsn, p->connect_timeout_s, "vaultbridge");
	c->pg = PQconnectdbParams(cp.keys, cp.vals, 1);
	if (c->pg == NULL)
		return ERR_ALLOC;
	if (PQstatus(c->pg) != CONNECTION_OK) {
		log_clean(PQerrorMessage(c->pg), msg, sizeof(msg));
		log_warn("database connect failed: %s", msg);
		conn_close(c);
		return ERR_DB_UNAVAILABLE;
	}
	PQsetNoticeProcessor(c->pg, db_conn_notice, NULL);
	if (p->statement_timeout_ms > 0) {
		snprintf(st, sizeof(st), "%u", p->statement_timeout_ms);
		pv[0] = st;
		if ((r = db_exec_cmd(c, "SELECT pg_catalog.set_config("
		    "'statement_timeout', $1, false)", 1, pv)) != 0) {
			conn_close(c);
			return r == ERR_ALLOC ? r : ERR_DB_UNAVAILABLE;
		}
	}
	return 0;
}

static void
deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int
db_acquire(struct db_pool *p, struct db_conn **out)
{
	struct timespec deadline;
	struct db_conn *c = NULL;
	unsigned i;
	int r = 0, rc;

	*out = NULL;
	deadline_after(&deadline, p->acquire_timeout_ms);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		/* prefer a slot that is already connected */
		for (i = 0; i < p->size; i++) {
			if (p->slots[i].in_use)
				continue;
			if (c == NULL || (c->pg == NULL &&
			    p->slots[i].pg != NULL))
				c = &p->slots[i];
		}
		if (c != NULL)
			break;
		rc = pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
		if (rc == ETIMEDOUT) {
			pthread_mutex_unlock(&p->mu);
			log_warn("database pool: no free connection within "
			    "%u ms", p->acquire_timeout_ms);
			return ERR_DB_UNAVAILABLE;
		}
	}
	c->in_use = 1;
	pthread_mutex_unlock(&p->mu);

	c->sqlstate[0] = '\0';
	if (!conn_alive(c))
		r = conn_open(p, c);
	if (r != 0) {
		pthread_mutex_lock(&p->mu);
		c->in_use = 0;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		return r;
	}
	*out = c;
	return 0;
}

void
db_release(struct db_pool *p, struct db_conn *c)
{
	PGTransactionStatusType ts;

	if (c == NULL)
		return;
	c->begin_pending = 0;
	c->generic_pending = 0;
	if (c->pg != NULL && !c->broken &&
	    PQstatus(c->pg) == CONNECTION_OK) {
		ts = PQtransactionStatus(c->pg);
		if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
			db_rollback(c);
		else if (ts != PQTRANS_IDLE)
			c->broken = 1;
	} else if (c->pg != NULL)
		c->broken = 1;
	if (c->broken)
		conn_close(c);
	pthread_mutex_lock(&p->mu);
	c->in_use = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Connection-level failures: the session cannot be used again. */
static int
state_is_fatal(const char *s)
{
	return strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 ||
	    strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0;
}

/* Failures a later retry may not see: report as "unavailable" (503). */
static int
state_is_transient(const char *s)
{
	return strcmp(s, "57014") == 0 || strcmp(s, "40001") == 0 ||
	    strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0 ||
	    strncmp(s, "53", 2) == 0;
}

/*
 * Turn a statement's result into 0 (*resp = res) or an error code, log
 * the failure and free res.
 */
static int
exec_result(struct db_conn *c, PGresult *res, PGresult **resp)
{
	ExecStatusType st;
	const char *s, *m;
	char msg[LOG_CLIENT_STR_MAX * 4 + 8];
	int r = ERR_INTERNAL;

	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*resp = res;
		return 0;
	}
	s = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", s != NULL ? s : "");
	if (PQstatus(c->pg) != CONNECTION_OK || state_is_fatal(c->sqlstate)) {
		c->broken = 1;
		r = ERR_DB_UNAVAILABLE;
	} else if (res == NULL)
		r = ERR_ALLOC;
	else if (strcmp(c->sqlstate, "23505") == 0)
		r = ERR_CONFLICT;
	else if (state_is_transient(c->sqlstate))
		r = ERR_DB_UNAVAILABLE;
	else if (c->sqlstate[0] == '\0') {
		/* no SQLSTATE from the server: protocol trouble */
		c->broken = 1;
		r = ERR_DB_UNAVAILABLE;
	}
	/*
	 * Log the primary message only: details may quote stored or client
	 * values. Client-caused classes (22 data, 23 constraints) are
	 * reported to the caller and logged at debug.
	 */
	m = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL;
	if (m == NULL)
		m = PQerrorMessage(c->pg);
	log_clean(m, msg, sizeof(msg));
	if (strncmp(c->sqlstate, "22", 2) == 0 ||
	    strncmp(c->sqlstate, "23", 2) == 0)
		log_debug("database statement failed sqlstate=%s msg=\"%s\"",
		    c->sqlstate, msg);
	else
		log_warn("database statement failed sqlstate=%s msg=\"%s\"",
		    c->sqlstate[0] != '\0' ? c->sqlstate : "none", msg);
	PQclear(res);
	return r;
}

/* Reading the results of a pipeline, which ends with its Sync. */
struct pipe {
	PGconn *pg;
	int synced;	/* the Sync's result was read */
};

/*
 * The result of the next query of the pipeline: its first result; any
 * further ones up to the NULL that ends the query are dropped. NULL when
 * the connection failed or the Sync came early.
 */
static PGresult *
pipe_next(struct pipe *p)
{
	PGresult *res, *first = NULL;

	if (p->synced)
		return NULL;
	while ((res = PQgetResult(p->pg)) != NULL) {
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			/* not followed by a NULL */
			p->synced = 1;
			PQclear(res);
			break;
		}
		if (first == NULL)
			first = res;
		else
			PQclear(res);
	}
	return first;
}

static int
res_ok(const PGresult *res)
{
	ExecStatusType st;

	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Keep the first failure of a pipeline (the one to report), drop the
 * other results. */
static void
pipe_keep_error(PGresult **err, PGresult *res)
{
	if (res == NULL)
		return;
	if (*err == NULL && !res_ok(res) &&
	    PQresultStatus(res) != PGRES_PIPELINE_ABORTED)
		*err = res;
	else
		PQclear(res);
}

/* The session cannot be trusted any more: close it on release. */
static int
conn_lost(struct db_conn *c, const char *what)
{
	char msg[LOG_CLIENT_STR_MAX * 4 + 8];

	c->broken = 1;
	log_clean(PQerrorMessage(c->pg), msg, sizeof(msg));
	log_warn("database %s failed: %s", what, msg);
	return ERR_DB_UNAVAILABLE;
}

/* A prepared statement that cannot run any more: its result type changed
 * under it (0A000, after a migration) or it is gone (26000). */
static int
stmt_stale(const PGresult *res)
{
	const char *s;

	if (res == NULL || PQresultStatus(res) != PGRES_FATAL_ERROR ||
	    (s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) == NULL)
		return 0;
	return strcmp(s, "0A000") == 0 || strcmp(s, "26000") == 0;
}

/*
 * One round trip in libpq's pipeline mode: DEALLOCATE of the statements
 * the cache evicted, the BEGIN that db_begin() deferred, the SET of
 * db_plan_generic(), the Parse of a statement new to this connection,
 * its Bind/Execute, and one Sync. The server runs them in order and
 * skips the rest after a failure, whose error is the one reported
 * (through exec_result). Statements longer than DB_STMT_SQL_MAX run
 * unnamed, as PQexecParams would.
 */
static int
conn_run(struct db_conn *c, const char *sql, int n, const char *const *vals,
    const int *lens, const int *fmts, PGresult **resp)
{
	struct db_stmt_cache *sc = &c->stmts;
	struct pipe p;
	PGresult *res = NULL, *err = NULL, *main = NULL;
	char name[DB_STMT_NAME_MAX], dsql[32 + DB_STMT_NAME_MAX];
	size_t len, i, ndrop = 0, dropped = 0;
	uint64_t hash;
	unsigned id = 0;
	int named = 0, prepare = 0, begin, generic, ok = 1, r, fatal = 0;

	p.pg = c->pg;
	p.synced = 0;
	hash = db_stmt_hash(sql, &len);
	if (len <= DB_STMT_SQL_MAX) {
		named = 1;
		if (!db_stmt_cache_find(sc, sql, len, hash, &id)) {
			prepare = 1;
			id = ++sc->next_id;
		}
	}
	/* in a failed transaction every statement fails: send none */
	if (PQtransactionStatus(c->pg) != PQTRANS_INERROR)
		ndrop = sc->ndrop;
	begin = c->begin_pending;
	c->begin_pending = 0;
	generic = c->generic_pending;
	c->generic_pending = 0;

	if (PQenterPipelineMode(c->pg) != 1)
		return conn_lost(c, "pipeline");
	for (i = 0; i < ndrop && ok; i++) {
		db_stmt_name(sc->drop[i], name, sizeof(name));
		snprintf(dsql, sizeof(dsql), "DEALLOCATE %s", name);
		ok = PQsendQueryParams(c->pg, dsql, 0, NULL, NULL, NULL, NULL,
		    0);
	}
	if (ok && begin)
		ok = PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL,
		    NULL, 0);
	if (ok && generic)
		ok = PQsendQueryParams(c->pg, generic == DB_PLAN_CUSTOM ?
		    "SET LOCAL plan_cache_mode = force_custom_plan" :
		    "SET LOCAL plan_cache_mode = force_generic_plan", 0, NULL,
		    NULL, NULL, NULL, 0);
	if (named)
		db_stmt_name(id, name, sizeof(name));
	if (ok && prepare)
		ok = PQsendPrepare(c->pg, name, sql, n, NULL);
	if (ok && named)
		ok = PQsendQueryPrepared(c->pg, name, n, vals, lens, fmts, 0);
	else if (ok)
		ok = PQsendQueryParams(c->pg, sql, n, NULL, vals, lens, fmts,
		    0);
	if (ok)
		ok = PQpipelineSync(c->pg);
	if (!ok) {
		/* part of it may have gone out: the session is in doubt */
		r = conn_lost(c, "send");
		(void)PQexitPipelineMode(c->pg);
		return r;
	}

	for (i = 0; i < ndrop; i++) {
		res = pipe_next(&p);
		if (res_ok(res))
			dropped++;
		else
			fatal = 1;	/* a DEALLOCATE failed: unexpected */
		pipe_keep_error(&err, res);
	}
	if (begin)
		pipe_keep_error(&err, pipe_next(&p));
	if (generic)
		pipe_keep_error(&err, pipe_next(&p));
	if (prepare) {
		res = pipe_next(&p);
		/* prepared on the server, whatever happens next: remember
		 * it, or at least deallocate it later */
		if (res_ok(res) && db_stmt_cache_add(sc, sql, len, hash,
		    id) != 0 && db_stmt_cache_drop(sc, id) != 0)
			fatal = 1;
		pipe_keep_error(&err, res);
	}
	main = pipe_next(&p);
	if (!p.synced)
		PQclear(pipe_next(&p));	/* anything but the Sync: trouble */
	if (!p.synced || PQexitPipelineMode(c->pg) != 1)
		c->broken = 1;
	db_stmt_cache_dropped(sc, dropped);
	if (err != NULL) {
		PQclear(main);
		main = err;
	} else if (named && !prepare && stmt_stale(main))
		fatal = 1;	/* start afresh rather than fail again */
	r = exec_result(c, main, resp);
	if (fatal || c->broken) {
		c->broken = 1;
		if (r == 0) {
			PQclear(*resp);
			*resp = NULL;
		}
		r = ERR_DB_UNAVAILABLE;
	}
	return r;
}

int
db_exec_full(struct db_conn *c, const char *sql, int n,
    const char *const *vals, const int *lens, const int *fmts,
    PGresult **resp)
{
	*resp = NULL;
	c->sqlstate[0] = '\0';
	if (c->pg == NULL || c->broken) {
		c->broken = 1;
		return ERR_DB_UNAVAILABLE;
	}
	return conn_run(c, sql, n, vals, lens, fmts, resp);
}

/* A transaction control statement or a script: simple protocol, never
 * prepared. */
static int
conn_simple(struct db_conn *c, const char *sql, PGresult **resp)
{
	*resp = NULL;
	c->sqlstate[0] = '\0';
	if (c->pg == NULL || c->broken) {
		c->broken = 1;
		return ERR_DB_UNAVAILABLE;
	}
	return exec_result(c, PQexec(c->pg, sql), resp);
}

int
db_exec_script(struct db_conn *c, const char *sql)
{
	PGresult *res = NULL;
	int r;

	/* a script cannot share the deferred BEGIN's round trip */
	if (c->begin_pending) {
		c->begin_pending = 0;
		if ((r = conn_simple(c, "BEGIN", &res)) != 0)
			return r;
		PQclear(res);
		res = NULL;
	}
	r = conn_simple(c, sql, &res);
	PQclear(res);
	return r;
}

int
db_exec(struct db_conn *c, const char *sql, int n, const char *const *vals,
    PGresult **resp)
{
	return db_exec_full(c, sql, n, vals, NULL, NULL, resp);
}

int
db_exec_cmd(struct db_conn *c, const char *sql, int n,
    const char *const *vals)
{
	PGresult *res = NULL;
	int r;

	r = db_exec_full(c, sql, n, vals, NULL, NULL, &res);
	PQclear(res);
	return r;
}

unsigned long long
db_cmd_rows(PGresult *res)
{
	uint64_t v = 0;
	const char *s;

	s = PQcmdTuples(res);
	if (s == NULL || *s == '\0' || parse_u64(s, 0, UINT64_MAX, &v) != 0)
		return 0;
	return v;
}

int
db_sqlstate_class(const struct db_conn *c, const char *cls)
{
	return strncmp(c->sqlstate, cls, 2) == 0;
}

int
db_id_ok(const char *s)
{
	size_t i;
	char ch;

	if (s == NULL)
		return 0;
	for (i = 0; i < SCIM_ID_LEN; i++) {
		ch = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return 0;
		} else if (!((ch >= '0' && ch <= '9') ||
		    (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
			return 0;
	}
	return s[SCIM_ID_LEN] == '\0';
}

void
db_plan_generic(struct db_conn *c)
{
	c->generic_pending = DB_PLAN_GENERIC;
}

void
db_plan_custom(struct db_conn *c)
{
	c->generic_pending = DB_PLAN_CUSTOM;
}

/*
 * BEGIN is not sent here: the next statement carries it on its own
 * round trip (conn_run). A transaction in which no statement ran needs
 * no COMMIT or ROLLBACK either.
 */
int
db_begin(struct db_conn *c)
{
	PGTransactionStatusType ts;

	c->sqlstate[0] = '\0';
	if (c->pg == NULL || c->broken) {
		c->broken = 1;
		return ERR_DB_UNAVAILABLE;
	}
	ts = PQtransactionStatus(c->pg);
	if (ts == PQTRANS_INERROR)
		return ERR_INTERNAL;
	if (c->begin_pending || ts != PQTRANS_IDLE) {
		/* as the server does: a warning, the transaction goes on */
		log_debug_f("there is already a transaction in progress");
		return 0;
	}
	c->begin_pending = 1;
	return 0;
}

int
db_commit(struct db_conn *c)
{
	PGresult *res = NULL;
	int r;

	c->generic_pending = 0;
	if (c->begin_pending) {
		c->begin_pending = 0;
		return c->pg == NULL || c->broken ? ERR_DB_UNAVAILABLE : 0;
	}
	if ((r = conn_simple(c, "COMMIT", &res)) != 0)
		return r;
	/* COMMIT of a failed transaction "succeeds" as a rollback */
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_warn_f("transaction was rolled back");
		r = ERR_INTERNAL;
	}
	PQclear(res);
	return r;
}

void
db_rollback(struct db_conn *c)
{
	PGTransactionStatusType ts;
	PGresult *res = NULL;

	if (c == NULL)
		return;
	c->begin_pending = 0;
	c->generic_pending = 0;
	if (c->pg == NULL || c->broken)
		return;
	ts = PQtransactionStatus(c->pg);
	if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
		return;
	if (conn_simple(c, "ROLLBACK", &res) != 0)
		c->broken = 1;
	PQclear(res);
}

int
db_ready(struct db_pool *p)
{
	struct db_conn *c = NULL;
	int r, v = 0;

	if ((r = db_acquire(p, &c)) != 0)
		return r;
	if ((r = db_migrate_current(c, &v)) != 0) {
		if (r != ERR_DB_UNAVAILABLE)
			r = ERR_DB_UNAVAILABLE;
		goto out;
	}
	if (v < db_migrate_latest()) {
		log_warn("database schema version %d, this binary needs %d: "
		    "run \"vaultbridge migrate\"", v, db_migrate_latest());
		r = ERR_CONFIG;
		goto out;
	}
	r = 0;
out:
	db_release(p, c);
	return r;
}

void
db_pool_stats(struct db_pool *p, unsigned *open, unsigned *busy)
{
	unsigned i, o = 0, b = 0;

	pthread_mutex_lock(&p->mu);
	/* a borrowed slot belongs to its holder: count it, do not read it */
	for (i = 0; i < p->size; i++) {
		if (p->slots[i].in_use)
			b++;
		else if (p->slots[i].pg != NULL)
			o++;
	}
	o += b;
	pthread_mutex_unlock(&p->mu);
	if (open != NULL)
		*open = o;
	if (busy != NULL)
		*busy = b;
}
