#include "db/outbox.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_int.h"
#include "policy/policy.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strutil.h"

/*
 * The outbox and the safe bindings (sql/0004_sync.sql explains how the
 * triggers derive jobs and why job ids ascend in commit order per key).
 */

#define TS_FMT	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

/* The notification channel the sync_job trigger notifies. */
#define OUTBOX_CHANNEL	"vb_sync"

/* Most jobs one claim or one list returns (config sync.batch <= 1000),
 * and the longest history kept (config sync.keep_done_s). */
#define SYNC_CLAIM_MAX		1000
#define SYNC_LIST_MAX		1000
#define SYNC_KEEP_MAX_S		315360000ULL

/* Columns of a job row (alias j), read by read_job. */
#define JOB_COLS \
	"j.id, j.op, j.state, coalesce(j.safe_ref::text, ''), " \
	"coalesce(j.user_ref::text, ''), j.safe_name, j.user_name, j.perms, " \
	"j.attempts, to_char(j.created AT TIME ZONE 'UTC', " TS_FMT "), " \
	"to_char(j.not_before AT TIME ZONE 'UTC', " TS_FMT "), " \
	"coalesce(to_char(j.finished AT TIME ZONE 'UTC', " TS_FMT "), ''), " \
	"coalesce(j.last_error, ''), j.origin"
#define JOB_NCOLS	14

static const char *const op_names[] = {
	[SYNC_SAFE_ENSURE] = "safe_ensure",
	[SYNC_SAFE_FREEZE] = "safe_freeze",
	[SYNC_SAFE_PURGE] = "safe_purge",
	[SYNC_MEMBER_SET] = "member_set",
	[SYNC_MEMBER_REMOVE] = "member_remove",
	[SYNC_SESSIONS_REVOKE] = "sessions_revoke",
};
#define NOPS	(sizeof(op_names) / sizeof(op_names[0]))

static const char *const state_names[] = {
	[SYNC_PENDING] = "pending",
	[SYNC_DONE] = "done",
	[SYNC_DEAD] = "dead",
	[SYNC_CANCELLED] = "cancelled",
};
#define NSTATES	(sizeof(state_names) / sizeof(state_names[0]))

const char *
sync_op_name(enum sync_op op)
{
	if ((unsigned)op >= NOPS)
		return "unknown";
	return op_names[op];
}

const char *
sync_state_name(enum sync_state s)
{
	if ((unsigned)s >= NSTATES)
		return "unknown";
	return state_names[s];
}

int
sync_op_parse(const char *s, enum sync_op *out)
{
	size_t i;

	for (i = 0; s != NULL && i < NOPS; i++) {
		if (strcmp(s, op_names[i]) == 0) {
			*out = (enum sync_op)i;
			return 0;
		}
	}
	return ERR_INVALID;
}

int
sync_state_parse(const char *s, enum sync_state *out)
{
	size_t i;

	for (i = 0; s != NULL && i < NSTATES; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum sync_state)i;
			return 0;
		}
	}
	return ERR_INVALID;
}

/* Safe op: no user; sessions_revoke: no safe; member ops: both. */
static int
op_has_safe(enum sync_op op)
{
	return op != SYNC_SESSIONS_REVOKE;
}

static int
op_has_user(enum sync_op op)
{
	return op == SYNC_MEMBER_SET || op == SYNC_MEMBER_REMOVE ||
	    op == SYNC_SESSIONS_REVOKE;
}

/* Copy a text column; longer than dstsz - 1 is a broken invariant. */
static int
copy_col(PGresult *res, int i, int col, char *dst, size_t dstsz)
{
	const char *v = PQgetvalue(res, i, col);
	size_t len = strlen(v);

	if (len >= dstsz)
		return ERR_INTERNAL;
	memcpy(dst, v, len + 1);
	return 0;
}

/* Copy a text column, cut to fit (error messages). */
static void
copy_col_cut(PGresult *res, int i, int col, char *dst, size_t dstsz)
{
	snprintf(dst, dstsz, "%s", PQgetvalue(res, i, col));
}

static int
col_u64(PGresult *res, int i, int col, uint64_t max, uint64_t *out)
{
	if (parse_u64(PQgetvalue(res, i, col), 0, max, out) != 0)
		return ERR_INTERNAL;
	return 0;
}

static int
col_true(PGresult *res, int i, int col)
{
	return strcmp(PQgetvalue(res, i, col), "t") == 0;
}

static int
read_job(PGresult *res, int i, struct sync_job *j)
{
	uint64_t v;
	int r;

	memset(j, 0, sizeof(*j));
	if (PQnfields(res) < JOB_NCOLS)
		return ERR_INTERNAL;
	if ((r = col_u64(res, i, 0, INT64_MAX, &v)) != 0)
		return r;
	j->id = (long long)v;
	if (sync_op_parse(PQgetvalue(res, i, 1), &j->op) != 0 ||
	    sync_state_parse(PQgetvalue(res, i, 2), &j->state) != 0)
		return ERR_INTERNAL;
	if ((r = copy_col(res, i, 3, j->safe_ref, sizeof(j->safe_ref))) != 0 ||
	    (r = copy_col(res, i, 4, j->user_ref, sizeof(j->user_ref))) != 0 ||
	    (r = copy_col(res, i, 5, j->safe_name,
	    sizeof(j->safe_name))) != 0 ||
	    (r = copy_col(res, i, 6, j->user_name,
	    sizeof(j->user_name))) != 0)
		return r;
	if ((r = col_u64(res, i, 7, POLICY_PERM_ALL, &v)) != 0)
		return r;
	j->perms = (unsigned)v;
	if ((r = col_u64(res, i, 8, INT32_MAX, &v)) != 0)
		return r;
	j->attempts = (int)v;
	if ((r = copy_col(res, i, 9, j->created, sizeof(j->created))) != 0 ||
	    (r = copy_col(res, i, 10, j->not_before,
	    sizeof(j->not_before))) != 0 ||
	    (r = copy_col(res, i, 11, j->finished,
	    sizeof(j->finished))) != 0)
		return r;
	copy_col_cut(res, i, 12, j->last_error, sizeof(j->last_error));
	copy_col_cut(res, i, 13, j->origin, sizeof(j->origin));
	return 0;
}

/* All rows of res as jobs; *out malloc'd (NULL when none). */
static int
read_jobs(PGresult *res, struct sync_job **out, size_t *n)
{
	struct sync_job *v = NULL;
	int i, nt, r;

	*out = NULL;
	*n = 0;
	nt = PQntuples(res);
	if (nt == 0)
		return 0;
	if ((v = calloc((size_t)nt, sizeof(*v))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < nt; i++) {
		if ((r = read_job(res, i, &v[i])) != 0) {
			free(v);
			return r;
		}
	}
	*out = v;
	*n = (size_t)nt;
	return 0;
}

/*
 * A message as it is stored in last_error: printable ASCII only (a
 * backend's text may hold anything; the column must take it), cut to
 * VAULT_ERR_MSG_MAX - 1 bytes.
 */
static void
clean_msg(const char *msg, char *out, size_t outsz)
{
	size_t i, n = 0;
	unsigned char ch;

	for (i = 0; msg != NULL && msg[i] != '\0' && n + 1 < outsz; i++) {
		ch = (unsigned char)msg[i];
		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[n] = '\0';
}

/*
 * The claim: due pending jobs in id order that no earlier pending job
 * blocks. A job of (S, U) waits for earlier pending jobs of (S, U) and
 * of S itself (user NULL); a job of S itself for every earlier pending
 * job of S; sessions_revoke (no safe) for earlier ones of its user. The
 * NOT EXISTS checks also see the jobs other workers hold locked (they
 * are pending until those commit), so two workers never apply two jobs
 * of one key at once; SKIP LOCKED only skips the locked rows themselves.
 * The candidates are the first due pending jobs in id order, a few times
 * the batch (room for the rows other workers hold): the blocking checks
 * then run for those few only, whatever the planner believes about a
 * table whose pending part changes faster than its statistics (a plan
 * joining every pending job with every other one took seconds with a
 * few thousand pending). The earliest due job is always a candidate, so
 * none starves. OFFSET 0 keeps each NOT EXISTS a correlated subplan, an
 * index probe per candidate (sync_job_pending_key / _user), instead of
 * an anti join the planner may build over the whole pending set. And it
 * is planned at every claim (db_plan_custom): a generic plan made while
 * the table was nearly empty kept scanning it whole when it had grown
 * to thousands of rows (claims ran into statement_timeout until
 * autovacuum's ANALYZE invalidated the plan).
 */
static const char claim_sql[] =
	"WITH c AS MATERIALIZED (SELECT id FROM sync_job "
	"WHERE state = 'pending' AND not_before <= now() "
	"ORDER BY id LIMIT $1::integer * 4 + 64) "
	"SELECT " JOB_COLS " FROM c JOIN sync_job j ON j.id = c.id "
	"WHERE j.state = 'pending' "
	"AND NOT EXISTS (SELECT 1 FROM sync_job p WHERE p.state = 'pending' "
	"AND NOT (p.op = 'safe_purge' AND p.not_before > now()) "
	"AND p.safe_ref = j.safe_ref AND p.user_ref = j.user_ref "
	"AND p.id < j.id OFFSET 0) "
	"AND NOT EXISTS (SELECT 1 FROM sync_job p WHERE p.state = 'pending' "
	"AND NOT (p.op = 'safe_purge' AND p.not_before > now()) "
	"AND p.safe_ref = j.safe_ref AND p.user_ref IS NULL AND p.id < j.id "
	"OFFSET 0) "
	"AND NOT EXISTS (SELECT 1 FROM sync_job p WHERE p.state = 'pending' "
	"AND NOT (p.op = 'safe_purge' AND p.not_before > now()) "
	"AND j.user_ref IS NULL AND p.safe_ref = j.safe_ref "
	"AND p.id < j.id OFFSET 0) "
	"AND NOT EXISTS (SELECT 1 FROM sync_job p WHERE p.state = 'pending' "
	"AND NOT (p.op = 'safe_purge' AND p.not_before > now()) "
	"AND j.safe_ref IS NULL AND p.safe_ref IS NULL "
	"AND p.user_ref = j.user_ref AND p.id < j.id OFFSET 0) "
	"ORDER BY j.id LIMIT $1::integer FOR UPDATE OF j SKIP LOCKED";

int
db_outbox_claim(struct db_conn *c, unsigned max, struct sync_job **out,
    size_t *n)
{
	PGresult *res = NULL;
	const char *vals[1];
	char lim[16];
	int r;

	*out = NULL;
	*n = 0;
	if (max == 0)
		return 0;
	if (max > SYNC_CLAIM_MAX)
		max = SYNC_CLAIM_MAX;
	snprintf(lim, sizeof(lim), "%u", max);
	vals[0] = lim;
	/* a plan for the outbox as it is now (see claim_sql) */
	db_plan_custom(c);
	if ((r = db_exec(c, claim_sql, 1, vals, &res)) != 0)
		goto out;
	r = read_jobs(res, out, n);
out:
	PQclear(res);
	return r;
}

int
db_outbox_finish(struct db_conn *c, long long id, enum sync_state st,
    unsigned delay_ms, const char *msg, const char *by)
{
	PGresult *res = NULL;
	const char *vals[5];
	char ids[24], delay[16], m[VAULT_ERR_MSG_MAX], b[DB_OUTBOX_BY_MAX];
	int r;

	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(delay, sizeof(delay), "%u", delay_ms);
	clean_msg(msg, m, sizeof(m));
	clean_msg(by, b, sizeof(b));
	vals[0] = ids;
	vals[1] = msg != NULL ? m : NULL;
	vals[2] = by != NULL ? b : NULL;
	switch (st) {
	case SYNC_DONE:
		r = db_exec(c, "UPDATE sync_job SET state = 'done', "
		    "attempts = attempts + 1, finished = clock_timestamp(), "
		    "applied_by = coalesce($3, applied_by), "
		    "last_error = coalesce($2, last_error) "
		    "WHERE id = $1::bigint AND state = 'pending'", 3, vals,
		    &res);
		break;
	case SYNC_PENDING:
		vals[3] = delay;
		r = db_exec(c, "UPDATE sync_job SET attempts = attempts + 1, "
		    "not_before = clock_timestamp() + "
		    "$4::bigint * interval '1 millisecond', "
		    "applied_by = coalesce($3, applied_by), "
		    "last_error = coalesce($2, 'temporary failure') "
		    "WHERE id = $1::bigint AND state = 'pending'", 4, vals,
		    &res);
		break;
	case SYNC_DEAD:
		r = db_exec(c, "UPDATE sync_job SET state = 'dead', "
		    "attempts = attempts + 1, finished = clock_timestamp(), "
		    "applied_by = coalesce($3, applied_by), "
		    "last_error = coalesce($2, 'permanent failure') "
		    "WHERE id = $1::bigint AND state = 'pending'", 3, vals,
		    &res);
		break;
	default:
		return ERR_INTERNAL;
	}
	if (r == 0 && db_cmd_rows(res) == 0)
		r = ERR_NOT_FOUND;
	PQclear(res);
	return r;
}

int
db_outbox_done_many(struct db_conn *c, const long long *ids, size_t n,
    const char *by)
{
	PGresult *res = NULL;
	const char *vals[2];
	char b[DB_OUTBOX_BY_MAX];
	struct buf arr;
	size_t i;
	int r;

	if (n == 0)
		return 0;
	buf_init(&arr, (size_t)n * 24 + 8);
	buf_putc(&arr, '{');
	for (i = 0; i < n; i++)
		buf_printf(&arr, "%s%lld", i > 0 ? "," : "", ids[i]);
	buf_putc(&arr, '}');
	if (buf_failed(&arr)) {
		r = ERR_ALLOC;
		goto out;
	}
	clean_msg(by, b, sizeof(b));
	vals[0] = arr.data;
	vals[1] = by != NULL ? b : NULL;
	if ((r = db_exec(c, "UPDATE sync_job SET state = 'done', "
	    "attempts = attempts + 1, finished = clock_timestamp(), "
	    "applied_by = coalesce($2, applied_by) "
	    "WHERE id = ANY ($1::bigint[]) AND state = 'pending'", 2, vals,
	    &res)) != 0)
		goto out;
	/* the jobs are the caller's, locked by its claim */
	if (db_cmd_rows(res) != n)
		r = ERR_INTERNAL;
out:
	PQclear(res);
	buf_free(&arr);
	return r;
}

int
db_outbox_done(struct db_conn *c, long long id)
{
	return db_outbox_finish(c, id, SYNC_DONE, 0, NULL, NULL);
}

int
db_outbox_retry(struct db_conn *c, long long id, unsigned delay_ms,
    const char *msg)
{
	return db_outbox_finish(c, id, SYNC_PENDING, delay_ms, msg, NULL);
}

int
db_outbox_dead(struct db_conn *c, long long id, const char *msg)
{
	return db_outbox_finish(c, id, SYNC_DEAD, 0, msg, NULL);
}

/* "" -> NULL parameter; else it must be a uuid. */
static int
ref_param(const char *ref, const char **out)
{
	if (ref == NULL || *ref == '\0') {
		*out = NULL;
		return 0;
	}
	if (!db_id_ok(ref))
		return ERR_INVALID;
	*out = ref;
	return 0;
}

int
db_outbox_enqueue(struct db_conn *c, enum sync_op op, const char *safe_ref,
    const char *user_ref, const char *safe_name, const char *user_name,
    unsigned perms, const char *origin, long long *id)
{
	PGresult *res = NULL;
	const char *vals[7];
	char pm[16];
	uint64_t v;
	int r;

	if (id != NULL)
		*id = 0;
	if ((unsigned)op >= NOPS || perms > POLICY_PERM_ALL ||
	    ref_param(safe_ref, &vals[1]) != 0 ||
	    ref_param(user_ref, &vals[2]) != 0 ||
	    (vals[1] != NULL) != op_has_safe(op) ||
	    (vals[2] != NULL) != op_has_user(op))
		return ERR_INVALID;
	if (safe_name == NULL)
		safe_name = "";
	if (user_name == NULL)
		user_name = "";
	if (origin == NULL || *origin == '\0')
		origin = "scim";
	if (strlen(safe_name) > VAULT_SAFE_NAME_MAX ||
	    strlen(user_name) > VAULT_USER_NAME_MAX ||
	    !utf8_valid(safe_name, strlen(safe_name)) ||
	    !utf8_valid(user_name, strlen(user_name)) ||
	    strlen(origin) >= sizeof(((struct sync_job *)NULL)->origin))
		return ERR_INVALID;
	snprintf(pm, sizeof(pm), "%u", perms);
	vals[0] = op_names[op];
	vals[3] = safe_name;
	vals[4] = user_name;
	vals[5] = pm;
	vals[6] = origin;
	if ((r = db_exec(c, "INSERT INTO sync_job (op, safe_ref, user_ref, "
	    "safe_name, user_name, perms, origin) VALUES ($1, $2::uuid, "
	    "$3::uuid, $4, $5, $6::integer, $7) RETURNING id", 7, vals,
	    &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 || col_u64(res, 0, 0, INT64_MAX, &v) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	if (id != NULL)
		*id = (long long)v;
out:
	PQclear(res);
	return r;
}

int
db_outbox_list(struct db_conn *c, enum sync_state s, long long before_id,
    unsigned limit, struct sync_job **out, size_t *n)
{
	PGresult *res = NULL;
	const char *vals[3];
	char before[24], lim[16];
	int r;

	*out = NULL;
	*n = 0;
	if ((unsigned)s >= NSTATES)
		return ERR_INVALID;
	if (limit == 0)
		return 0;
	if (limit > SYNC_LIST_MAX)
		limit = SYNC_LIST_MAX;
	snprintf(before, sizeof(before), "%lld", before_id > 0 ? before_id :
	    (long long)INT64_MAX);
	snprintf(lim, sizeof(lim), "%u", limit);
	vals[0] = state_names[s];
	vals[1] = before;
	vals[2] = lim;
	if ((r = db_exec(c, "SELECT " JOB_COLS " FROM sync_job j "
	    "WHERE j.state = $1 AND j.id < $2::bigint "
	    "ORDER BY j.id DESC LIMIT $3::integer", 3, vals, &res)) != 0)
		goto out;
	r = read_jobs(res, out, n);
out:
	PQclear(res);
	return r;
}

int
db_outbox_get(struct db_conn *c, long long id, struct sync_job *out)
{
	PGresult *res = NULL;
	const char *vals[1];
	char ids[24];
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(ids, sizeof(ids), "%lld", id);
	vals[0] = ids;
	if ((r = db_exec(c, "SELECT " JOB_COLS " FROM sync_job j "
	    "WHERE j.id = $1::bigint", 1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = read_job(res, 0, out);
out:
	PQclear(res);
	return r;
}

/* Share-lock user row ref (if it still exists) against changes of its
 * "active" while a job for it is enqueued. */
static int
lock_user(struct db_conn *c, const char *ref)
{
	const char *vals[1];

	vals[0] = ref;
	return db_exec_cmd(c, "SELECT 1 FROM scim_user WHERE id = $1::uuid "
	    "FOR SHARE", 1, vals);
}

/*
 * A later job of the same key that is not cancelled supersedes a dead
 * one: for a member op a later member op of (safe, user), for a safe op
 * a later safe op of the safe. Re-running the dead job after it would
 * undo a newer change (grant what SCIM removed, unfreeze a deleted
 * group's safe). sessions_revoke is never superseded.
 */
static const char superseded_sql[] =
	"SELECT EXISTS (SELECT 1 FROM sync_job p WHERE p.id > $1::bigint "
	"AND p.state <> 'cancelled' AND p.safe_ref = $2::uuid AND "
	"(($3::uuid IS NULL AND p.user_ref IS NULL) OR p.user_ref = $3::uuid))";

int
db_outbox_requeue(struct db_conn *c, long long id, long long *new_id)
{
	struct sync_job j;
	PGresult *res = NULL;
	const char *vals[3];
	char ids[24];
	uint64_t v;
	int r;

	*new_id = 0;
	snprintf(ids, sizeof(ids), "%lld", id);
	vals[0] = ids;
	if ((r = db_exec(c, "SELECT " JOB_COLS " FROM sync_job j "
	    "WHERE j.id = $1::bigint AND j.state = 'dead' FOR UPDATE", 1, vals,
	    &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((r = read_job(res, 0, &j)) != 0)
		goto out;
	PQclear(res);
	res = NULL;
	/* the locks that order the safe's and the user's jobs (0004) */
	if (j.safe_ref[0] != '\0') {
		r = db_binding_lock(c, j.safe_ref);
		if (r != 0 && r != ERR_NOT_FOUND)
			goto out;
	}
	if (j.user_ref[0] != '\0' && (r = lock_user(c, j.user_ref)) != 0)
		goto out;
	if (j.safe_ref[0] != '\0') {
		vals[1] = j.safe_ref;
		vals[2] = j.user_ref[0] != '\0' ? j.user_ref : NULL;
		if ((r = db_exec(c, superseded_sql, 3, vals, &res)) != 0)
			goto out;
		if (PQntuples(res) != 1) {
			r = ERR_INTERNAL;
			goto out;
		}
		if (col_true(res, 0, 0)) {
			r = ERR_CONFLICT;
			goto out;
		}
		PQclear(res);
		res = NULL;
	}
	if ((r = db_exec(c, "WITH d AS (UPDATE sync_job SET "
	    "state = 'cancelled', finished = clock_timestamp() "
	    "WHERE id = $1::bigint AND state = 'dead' RETURNING *) "
	    "INSERT INTO sync_job (op, safe_ref, user_ref, safe_name, "
	    "user_name, perms, origin) SELECT op, safe_ref, user_ref, "
	    "safe_name, user_name, perms, 'retry' FROM d RETURNING id", 1, vals,
	    &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (col_u64(res, 0, 0, INT64_MAX, &v) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	*new_id = (long long)v;
	r = 0;
out:
	PQclear(res);
	return r;
}

int
db_outbox_stats(struct db_conn *c, struct outbox_stats *out)
{
	PGresult *res = NULL;
	uint64_t v[4];
	const char *s;
	int r, i;

	memset(out, 0, sizeof(*out));
	if ((r = db_exec(c, "SELECT "
	    "count(*) FILTER (WHERE state = 'pending'), "
	    "count(*) FILTER (WHERE state = 'pending' "
	    "AND not_before <= now()), "
	    "count(*) FILTER (WHERE state = 'dead'), "
	    "count(*) FILTER (WHERE state = 'done'), "
	    "coalesce(extract(epoch FROM now() - min(not_before) FILTER "
	    "(WHERE state = 'pending' AND not_before <= now())), 0)::numeric"
	    "(20,3)::text FROM sync_job", 0, NULL, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_INTERNAL;
		goto out;
	}
	for (i = 0; i < 4; i++) {
		if ((r = col_u64(res, 0, i, INT64_MAX, &v[i])) != 0)
			goto out;
	}
	out->pending = (long long)v[0];
	out->due = (long long)v[1];
	out->dead = (long long)v[2];
	out->done = (long long)v[3];
	s = PQgetvalue(res, 0, 4);
	if (sscanf(s, "%lf", &out->oldest_due_s) != 1 ||
	    out->oldest_due_s < 0)
		out->oldest_due_s = 0;
out:
	PQclear(res);
	return r;
}

int
db_outbox_prune(struct db_conn *c, unsigned long long keep_s,
    unsigned limit, long long *deleted)
{
	PGresult *res = NULL;
	const char *vals[2];
	char keep[24], lim[16];
	int r;

	if (deleted != NULL)
		*deleted = 0;
	if (limit == 0)
		return 0;
	if (keep_s > SYNC_KEEP_MAX_S)
		keep_s = SYNC_KEEP_MAX_S;
	snprintf(keep, sizeof(keep), "%llu", keep_s);
	snprintf(lim, sizeof(lim), "%u", limit);
	vals[0] = keep;
	vals[1] = lim;
	if ((r = db_exec(c, "DELETE FROM sync_job WHERE id IN "
	    "(SELECT id FROM sync_job WHERE state IN ('done', 'cancelled') "
	    "AND finished < now() - $1::bigint * interval '1 second' "
	    "ORDER BY finished LIMIT $2::integer FOR UPDATE SKIP LOCKED)", 2,
	    vals, &res)) != 0)
		goto out;
	if (deleted != NULL)
		*deleted = (long long)db_cmd_rows(res);
out:
	PQclear(res);
	return r;
}

/* --- bindings --- */

#define BINDING_COLS \
	"b.group_id::text, b.safe_name, b.rule_id, b.perms, " \
	"b.retention_days, b.state = 'frozen'"

static int
read_binding(PGresult *res, int i, struct db_binding *b)
{
	uint64_t v;
	int r;

	memset(b, 0, sizeof(*b));
	if ((r = copy_col(res, i, 0, b->group_id, sizeof(b->group_id))) != 0 ||
	    (r = copy_col(res, i, 1, b->safe_name,
	    sizeof(b->safe_name))) != 0 ||
	    (r = copy_col(res, i, 2, b->rule_id, sizeof(b->rule_id))) != 0)
		return r;
	if ((r = col_u64(res, i, 3, POLICY_PERM_ALL, &v)) != 0)
		return r;
	b->perms = (unsigned)v;
	if ((r = col_u64(res, i, 4, POLICY_RETENTION_DAYS_MAX, &v)) != 0)
		return r;
	b->retention_days = (unsigned)v;
	b->frozen = col_true(res, i, 5);
	return 0;
}

int
db_binding_get(struct db_conn *c, const char *group_id,
    struct db_binding *out)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	memset(out, 0, sizeof(*out));
	if (!db_id_ok(group_id))
		return ERR_NOT_FOUND;
	vals[0] = group_id;
	if ((r = db_exec(c, "SELECT " BINDING_COLS " FROM sync_binding b "
	    "WHERE b.group_id = $1::uuid", 1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = read_binding(res, 0, out);
out:
	PQclear(res);
	return r;
}

int
db_binding_put(struct db_conn *c, const struct db_binding *b)
{
	const char *vals[5];
	char pm[16], days[16];
	size_t len;

	len = strlen(b->safe_name);
	if (!db_id_ok(b->group_id) || len == 0 ||
	    len > VAULT_SAFE_NAME_MAX || !utf8_valid(b->safe_name, len) ||
	    b->rule_id[0] == '\0' || b->perms > POLICY_PERM_ALL ||
	    b->retention_days > POLICY_RETENTION_DAYS_MAX)
		return ERR_INVALID;
	snprintf(pm, sizeof(pm), "%u", b->perms);
	snprintf(days, sizeof(days), "%u", b->retention_days);
	vals[0] = b->group_id;
	vals[1] = b->safe_name;
	vals[2] = b->rule_id;
	vals[3] = pm;
	vals[4] = days;
	/* an unchanged active binding is not rewritten */
	return db_exec_cmd(c, "INSERT INTO sync_binding AS b (group_id, "
	    "safe_name, rule_id, perms, retention_days, state) "
	    "VALUES ($1::uuid, $2, $3, $4::integer, $5::integer, 'active') "
	    "ON CONFLICT (group_id) DO UPDATE SET safe_name = "
	    "EXCLUDED.safe_name, rule_id = EXCLUDED.rule_id, "
	    "perms = EXCLUDED.perms, retention_days = EXCLUDED.retention_days, "
	    "state = 'active', updated = now() "
	    "WHERE (b.safe_name, b.rule_id, b.perms, b.retention_days, b.state) "
	    "IS DISTINCT FROM (EXCLUDED.safe_name, EXCLUDED.rule_id, "
	    "EXCLUDED.perms, EXCLUDED.retention_days, 'active')", 5, vals);
}

int
db_binding_freeze(struct db_conn *c, const char *group_id, int *frozen)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	if (frozen != NULL)
		*frozen = 0;
	if (!db_id_ok(group_id))
		return 0;
	vals[0] = group_id;
	if ((r = db_exec(c, "UPDATE sync_binding SET state = 'frozen', "
	    "updated = now() WHERE group_id = $1::uuid AND state = 'active'",
	    1, vals, &res)) != 0)
		return r;
	if (frozen != NULL)
		*frozen = db_cmd_rows(res) > 0;
	PQclear(res);
	return 0;
}

int
db_outbox_notify(struct db_conn *c)
{
	return db_exec_cmd(c, "SELECT pg_catalog.pg_notify('" OUTBOX_CHANNEL
	    "', '')", 0, NULL);
}

int
db_outbox_analyze(struct db_conn *c)
{
	return db_exec_cmd(c, "ANALYZE sync_job", 0, NULL);
}

int
db_binding_lock(struct db_conn *c, const char *group_id)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	if (!db_id_ok(group_id))
		return ERR_NOT_FOUND;
	vals[0] = group_id;
	if ((r = db_exec(c, "SELECT 1 FROM scim_group WHERE id = $1::uuid "
	    "FOR NO KEY UPDATE", 1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) == 1)
		goto out;
	PQclear(res);
	res = NULL;
	if ((r = db_exec(c, "SELECT 1 FROM sync_binding WHERE "
	    "group_id = $1::uuid FOR UPDATE", 1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1)
		r = ERR_NOT_FOUND;
out:
	PQclear(res);
	return r;
}

int
db_binding_list(struct db_conn *c, struct db_binding **out, size_t *n)
{
	struct db_binding *v = NULL;
	PGresult *res = NULL;
	int i, nt, r;

	*out = NULL;
	*n = 0;
	if ((r = db_exec(c, "SELECT " BINDING_COLS " FROM sync_binding b "
	    "ORDER BY b.group_id", 0, NULL, &res)) != 0)
		goto out;
	nt = PQntuples(res);
	if (nt > 0 && (v = calloc((size_t)nt, sizeof(*v))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if ((r = read_binding(res, i, &v[i])) != 0)
			goto out;
	}
	*out = v;
	v = NULL;
	*n = (size_t)nt;
out:
	free(v);
	PQclear(res);
	return r;
}

int
db_binding_members(struct db_conn *c, const char *group_id,
    struct vault_member **out, size_t *n)
{
	struct vault_member *v = NULL;
	PGresult *res = NULL;
	const char *vals[1];
	uint64_t pm;
	int i, nt, r;

	*out = NULL;
	*n = 0;
	if (!db_id_ok(group_id))
		return 0;
	vals[0] = group_id;
	if ((r = db_exec(c, "SELECT u.id::text, "
	    "coalesce(u.doc->>'userName', ''), b.perms "
	    "FROM sync_binding b "
	    "JOIN scim_group_member m ON m.group_id = b.group_id "
	    "AND m.member_type = 'User' "
	    "JOIN scim_user u ON u.id = m.member_id "
	    "WHERE b.group_id = $1::uuid AND b.state = 'active' "
	    "AND vb_user_active(u.doc) ORDER BY u.id", 1, vals, &res)) != 0)
		goto out;
	nt = PQntuples(res);
	if (nt > 0 && (v = calloc((size_t)nt, sizeof(*v))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if ((r = copy_col(res, i, 0, v[i].user_ref,
		    sizeof(v[i].user_ref))) != 0 ||
		    (r = copy_col(res, i, 1, v[i].user_name,
		    sizeof(v[i].user_name))) != 0 ||
		    (r = col_u64(res, i, 2, POLICY_PERM_ALL, &pm)) != 0)
			goto out;
		v[i].perms = (unsigned)pm;
	}
	*out = v;
	v = NULL;
	*n = (size_t)nt;
out:
	free(v);
	PQclear(res);
	return r;
}

int
db_outbox_has_pending(struct db_conn *c, const char *safe_ref,
    const char *user_ref, int *yes)
{
	PGresult *res = NULL;
	const char *vals[2];
	int r;

	*yes = 0;
	if (ref_param(safe_ref, &vals[0]) != 0 ||
	    ref_param(user_ref, &vals[1]) != 0 || vals[0] == NULL)
		return ERR_INVALID;
	if ((r = db_exec(c, "SELECT EXISTS (SELECT 1 FROM sync_job "
	    "WHERE state = 'pending' AND safe_ref = $1::uuid "
	    "AND NOT (op = 'safe_purge' AND not_before > now()) "
	    "AND ($2::uuid IS NULL OR user_ref = $2::uuid "
	    "OR user_ref IS NULL))", 2, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_INTERNAL;
		goto out;
	}
	*yes = col_true(res, 0, 0);
out:
	PQclear(res);
	return r;
}

/* --- notification --- */

int
db_outbox_listen(struct db_conn *c)
{
	return db_exec_cmd(c, "LISTEN " OUTBOX_CHANNEL, 0, NULL);
}

int
db_outbox_unlisten(struct db_conn *c)
{
	PGnotify *nf;
	int r;

	r = db_exec_cmd(c, "UNLISTEN " OUTBOX_CHANNEL, 0, NULL);
	/* what arrived before the UNLISTEN is of no use to anyone now */
	while (c->pg != NULL && (nf = PQnotifies(c->pg)) != NULL)
		PQfreemem(nf);
	return r;
}

/* Drop every queued notification; 1 if there was one. */
static int
drain_notifies(struct db_conn *c)
{
	PGnotify *nf;
	int got = 0;

	while ((nf = PQnotifies(c->pg)) != NULL) {
		got = 1;
		PQfreemem(nf);
	}
	return got;
}


int
db_outbox_wait_fd(struct db_conn *c, unsigned timeout_ms, int wake_fd)
{
	struct pollfd pfd[2];
	long long deadline, left;
	nfds_t nfd;
	int fd, pr;

	if (c->pg == NULL || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
		c->broken = 1;
		return ERR_DB_UNAVAILABLE;
	}
	/* notifications read along with earlier results */
	if (drain_notifies(c))
		return 1;
	if ((fd = PQsocket(c->pg)) < 0) {
		c->broken = 1;
		return ERR_DB_UNAVAILABLE;
	}
	deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		left = deadline - clock_mono_ms();
		if (left <= 0)
			return 0;
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		nfd = 1;
		if (wake_fd >= 0) {
			pfd[1].fd = wake_fd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			nfd = 2;
		}
		pr = poll(pfd, nfd, (int)left);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		if (pr == 0)
			return 0;
		if (nfd == 2 && pfd[1].revents != 0)
			return 2;
		if (pfd[0].revents == 0)
			continue;
		if (PQconsumeInput(c->pg) != 1 ||
		    PQstatus(c->pg) != CONNECTION_OK) {
			/* the server closed the session (restart, kill) */
			c->broken = 1;
			return ERR_DB_UNAVAILABLE;
		}
		if (drain_notifies(c))
			return 1;
	}
}

int
db_outbox_wait(struct db_conn *c, unsigned timeout_ms)
{
	int r = db_outbox_wait_fd(c, timeout_ms, -1);

	return r == 2 ? 0 : r;
}
