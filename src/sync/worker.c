#include "sync/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "db/outbox.h"
#include "db/pool.h"
#include "util/clock.h"
#include "util/log.h"
#include "vault/backend.h"

/*
 * Each worker thread keeps one connection of the bridge pool for its
 * whole life (so db.pool_size must leave room for the HTTP side): it
 * LISTENs on it for the job channel and runs its claim transactions on
 * it. A round is one transaction: claim up to sync.batch jobs (locked,
 * SKIP LOCKED), apply each through the backend in id order, mark each
 * done / retry / dead, commit. A crash between the backend call and the
 * commit redelivers the job; the backend applies an op_id once.
 */

/* Prune finished history this often (worker 0 of each daemon), at most
 * this many rows per statement and statements per turn. */
#define PRUNE_EVERY_MS		60000
#define PRUNE_BATCH		1000
#define PRUNE_ROUNDS		10

/*
 * A claim slower than this refreshes the outbox's statistics, at most
 * once per ANALYZE_EVERY_MS per daemon. The claim's plan is only as good
 * as PostgreSQL's idea of how many jobs are pending, and a queue swings
 * from none to thousands in seconds while autovacuum analyzes a table
 * at most once a minute: planned on the statistics of an empty outbox,
 * the claim's blocking checks scanned every pending job for every
 * candidate (90 ms per claim with 3,000 pending, 5 ms after ANALYZE).
 */
#define ANALYZE_SLOW_MS		20
#define ANALYZE_EVERY_MS	10000

struct sync_thread {
	struct sync_workers *w;
	unsigned idx;
	pthread_t th;
	int started;
	uint64_t rng;
	char by[DB_OUTBOX_BY_MAX];	/* applied_by: host:pid/idx */
};

struct sync_workers {
	struct app *app;
	atomic_int stop;
	atomic_int kicked;		/* a wake byte is in the pipe */
	atomic_ullong applied, retried, dead, batches;	/* counters */
	atomic_llong next_analyze;	/* mono_ms; see ANALYZE_SLOW_MS */
	int wake[2];			/* stop: flag + a byte each thread
					 * passes on; kick: one byte */
	unsigned n;
	struct sync_thread *t;
};

unsigned
sync_backoff_ms(unsigned base_ms, unsigned max_ms, int attempts,
    unsigned random32)
{
	uint64_t cap, v;

	if (base_ms == 0)
		return 0;
	if (attempts < 1)
		attempts = 1;
	/* base * 2^(attempts-1), saturating at max_ms */
	if (attempts - 1 >= 32)
		cap = max_ms;
	else {
		cap = (uint64_t)base_ms << (attempts - 1);
		if (cap > max_ms)
			cap = max_ms;
	}
	/* full jitter: uniform in [0, cap] */
	v = ((uint64_t)random32 * (cap + 1)) >> 32;
	return v == 0 ? 1 : (unsigned)v;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static unsigned
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (unsigned)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint64_t
rng_seed(unsigned idx)
{
	struct timespec ts;
	uint64_t s;

	clock_gettime(CLOCK_REALTIME, &ts);
	s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
	    ((uint64_t)getpid() << 16) ^ ((uint64_t)(idx + 1) *
	    0x9E3779B97F4A7C15ULL);
	return s != 0 ? s : 0x9E3779B97F4A7C15ULL;
}

/* "<host>:<pid>/<what>" into out. */
static void
worker_name(const char *what, char *out, size_t outsz)
{
	char host[65];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outsz, "%s:%ld/%s", host, (long)getpid(), what);
}

int
sync_apply(struct vault_backend *b, const struct sync_job *j,
    struct vault_error *e)
{
	const struct vault_backend_ops *o;
	unsigned ended = 0;
	int r;

	e->temporary = 0;
	e->msg[0] = '\0';
	if (b == NULL || (o = b->ops) == NULL)
		return vault_error_set(e, ERR_DB_UNAVAILABLE, 1,
		    "no vault backend");
	switch (j->op) {
	case SYNC_SAFE_ENSURE:
		r = o->safe_ensure == NULL ? ERR_INTERNAL :
		    o->safe_ensure(b, j->id, j->safe_ref, j->safe_name, e);
		break;
	case SYNC_SAFE_FREEZE:
		r = o->safe_freeze == NULL ? ERR_INTERNAL :
		    o->safe_freeze(b, j->id, j->safe_ref, e);
		break;
	case SYNC_SAFE_PURGE:
		r = o->safe_purge == NULL ? ERR_INTERNAL :
		    o->safe_purge(b, j->id, j->safe_ref, e);
		break;
	case SYNC_MEMBER_SET:
		r = o->member_set == NULL ? ERR_INTERNAL :
		    o->member_set(b, j->id, j->safe_ref, j->user_ref,
		    j->user_name, j->perms, e);
		break;
	case SYNC_MEMBER_REMOVE:
		r = o->member_remove == NULL ? ERR_INTERNAL :
		    o->member_remove(b, j->id, j->safe_ref, j->user_ref, e);
		break;
	case SYNC_SESSIONS_REVOKE:
		r = o->sessions_revoke == NULL ? ERR_INTERNAL :
		    o->sessions_revoke(b, j->id, j->user_ref, &ended, e);
		break;
	default:
		return vault_error_set(e, ERR_INTERNAL, 0, "unknown job op %d",
		    (int)j->op);
	}
	if (r != 0 && e->msg[0] == '\0')
		vault_error_set(e, r, e->temporary, "%s backend: %s",
		    o->kind != NULL ? o->kind : "vault", err_str(r));
	return r;
}

/*
 * One claim-apply-commit round on c. *handled: jobs marked (done, retry
 * or dead). *unreachable: the backend could not be reached; the round
 * stopped there, the rest of the batch is left untouched (not counted
 * as attempts) for a later round, so a dead backend is not hammered.
 * Returns 0 or the bridge database's error (the round rolled back).
 */
/* The vault_op of a job; the strings stay the job's. */
static void
job_op(const struct sync_job *j, struct vault_op *op)
{
	static const enum vault_op_kind kind[] = {
		[SYNC_SAFE_ENSURE] = VAULT_OP_SAFE_ENSURE,
		[SYNC_SAFE_FREEZE] = VAULT_OP_SAFE_FREEZE,
		[SYNC_SAFE_PURGE] = VAULT_OP_SAFE_PURGE,
		[SYNC_MEMBER_SET] = VAULT_OP_MEMBER_SET,
		[SYNC_MEMBER_REMOVE] = VAULT_OP_MEMBER_REMOVE,
		[SYNC_SESSIONS_REVOKE] = VAULT_OP_SESSIONS_REVOKE,
	};

	memset(op, 0, sizeof(*op));
	op->kind = kind[j->op];
	op->op_id = j->id;
	op->safe_ref = j->safe_ref[0] != '\0' ? j->safe_ref : NULL;
	op->user_ref = j->user_ref[0] != '\0' ? j->user_ref : NULL;
	op->name = j->safe_name;
	op->user_name = j->user_name;
	op->perms = j->perms;
}

/*
 * Apply jobs[0..n) through the backend's apply_batch, all or nothing.
 * 0 when all are applied; else (no batch support, a failure of any
 * kind) nonzero, nothing applied, and the caller goes job by job, which
 * classifies each failure.
 */
static int
batch_apply(struct vault_backend *b, const struct sync_job *jobs, size_t n)
{
	struct vault_op *ops;
	struct vault_error ve;
	size_t i;
	int r;

	if (b == NULL || b->ops->apply_batch == NULL)
		return ERR_INTERNAL;
	for (i = 0; i < n; i++) {
		if ((unsigned)jobs[i].op > SYNC_SESSIONS_REVOKE)
			return ERR_INTERNAL;
	}
	if ((ops = calloc(n, sizeof(*ops))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < n; i++)
		job_op(&jobs[i], &ops[i]);
	memset(&ve, 0, sizeof(ve));
	r = b->ops->apply_batch(b, ops, n, &ve);
	if (r != 0)
		log_debug("sync batch of %zu not applied, going one by one: %s",
		    n, ve.msg);
	free(ops);
	return r;
}

/* The batch is applied: mark its jobs done. */
static int
batch_done(struct db_conn *c, const struct sync_job *jobs, size_t n,
    const char *by)
{
	long long *ids;
	size_t i;
	int r;

	if ((ids = calloc(n, sizeof(*ids))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < n; i++)
		ids[i] = jobs[i].id;
	r = db_outbox_done_many(c, ids, n, by);
	free(ids);
	return r;
}

static int
round_run(struct app *app, struct db_conn *c, const char *by, uint64_t *rng,
    unsigned *handled, int *unreachable, struct sync_counters *cnt,
    long long *claim_ms)
{
	const struct config *cfg = app->cfg;
	struct sync_job *jobs = NULL, *j;
	struct vault_error ve;
	char msg[VAULT_ERR_MSG_MAX + 64], clean[LOG_CLIENT_STR_MAX * 4 + 8];
	size_t i, n = 0;
	unsigned delay;
	int r, ar, attempt;

	*handled = 0;
	*unreachable = 0;
	*claim_ms = 0;
	memset(cnt, 0, sizeof(*cnt));
	if ((r = db_begin(c)) != 0)
		goto out;
	*claim_ms = clock_mono_ms();
	if ((r = db_outbox_claim(c, cfg->sync_batch, &jobs, &n)) != 0)
		goto out;
	*claim_ms = clock_mono_ms() - *claim_ms;
	/* a full batch: more is likely due, so a sleeping peer claims the
	 * next batch while this one is applied (it skips these, locked) */
	if (n >= cfg->sync_batch)
		sync_workers_kick(app->workers);
	/* the whole batch in one backend transaction; if anything in it
	 * fails, nothing of it is applied and the jobs go one by one */
	if (n > 1 && batch_apply(app->vault, jobs, n) == 0) {
		if ((r = batch_done(c, jobs, n, by)) != 0)
			goto out;
		*handled = (unsigned)n;
		cnt->applied += n;
		cnt->batches++;
		n = 0;
	}
	for (i = 0; i < n; i++) {
		j = &jobs[i];
		ar = sync_apply(app->vault, j, &ve);
		attempt = j->attempts + 1;
		if (ar == 0) {
			r = db_outbox_finish(c, j->id, SYNC_DONE, 0, NULL, by);
			cnt->applied++;
		}
		else if (ve.temporary &&
		    (unsigned)attempt < cfg->sync_max_attempts) {
			delay = sync_backoff_ms(cfg->sync_backoff_base_ms,
			    cfg->sync_backoff_max_ms, attempt, rng_next(rng));
			log_debug("sync job retry id=%lld op=%s attempt=%d "
			    "delay_ms=%u error=\"%s\"", j->id,
			    sync_op_name(j->op), attempt, delay,
			    log_clean(ve.msg, clean, sizeof(clean)));
			r = db_outbox_finish(c, j->id, SYNC_PENDING, delay,
			    ve.msg, by);
			cnt->retried++;
		} else {
			if (ve.temporary)
				snprintf(msg, sizeof(msg), "gave up after %d "
				    "attempts: %s", attempt, ve.msg);
			else
				snprintf(msg, sizeof(msg), "%s", ve.msg);
			log_warn("sync job dead id=%lld op=%s attempts=%d "
			    "error=\"%s\"", j->id, sync_op_name(j->op),
			    attempt, log_clean(msg, clean, sizeof(clean)));
			r = db_outbox_finish(c, j->id, SYNC_DEAD, 0, msg, by);
			cnt->dead++;
		}
		if (r != 0)
			goto out;
		(*handled)++;
		if (ar == ERR_DB_UNAVAILABLE && ve.temporary) {
			*unreachable = 1;
			break;
		}
	}
	r = db_commit(c);
out:
	if (r != 0) {
		db_rollback(c);
		*handled = 0;
	}
	free(jobs);
	return r;
}

/* One byte into the wake pipe (non-blocking: a full pipe wakes anyway). */
static void
wake_write(struct sync_workers *w)
{
	ssize_t wr;

	do {
		wr = write(w->wake[1], "x", 1);
	} while (wr < 0 && errno == EINTR);
}

/*
 * A wake byte arrived: take what is in the pipe, then allow the next
 * kick. In that order: a kick that comes while the pipe is read is
 * folded into this wake-up (its jobs committed before it, so the claim
 * that follows sees them), and one after it writes a new byte. The
 * other order lost wake-ups: a kick between clearing the flag and the
 * read had its byte read here and left the flag set with the pipe
 * empty, so later kicks wrote nothing and new jobs waited for
 * sync.poll_ms.
 * On stop, put one byte back so every other thread sees it too.
 */
static void
wake_drain(struct sync_workers *w)
{
	char buf[64];
	ssize_t n;

	do {
		n = read(w->wake[0], buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
	atomic_store(&w->kicked, 0);
	if (atomic_load(&w->stop))
		wake_write(w);
}

void
sync_workers_kick(struct sync_workers *w)
{
	if (w == NULL || atomic_exchange(&w->kicked, 1) != 0)
		return;
	wake_write(w);
}

/*
 * Sleep up to ms, or until the workers are told to stop. Kicks are taken
 * and ignored: this is the pause of an outage, which new jobs do not end.
 */
static void
pause_ms(struct sync_workers *w, unsigned ms)
{
	struct pollfd pfd;
	long long deadline = clock_mono_ms() + ms, left;

	while (!atomic_load(&w->stop) &&
	    (left = deadline - clock_mono_ms()) > 0) {
		pfd.fd = w->wake[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) > 0)
			wake_drain(w);
	}
}

/*
 * The pause after the fails-th round in a row that found the backend or
 * the bridge database unreachable: the jobs' own backoff (up to
 * sync.backoff_max_ms, at least sync.poll_ms), so an outage costs a
 * connection attempt now and then, not a stream of them, and the
 * recovery is seen about as soon as the jobs' retries come due.
 */
static unsigned
outage_pause(const struct config *cfg, unsigned fails, uint64_t *rng)
{
	unsigned cap = cfg->sync_backoff_max_ms;

	if (cap < cfg->sync_poll_ms)
		cap = cfg->sync_poll_ms;
	return sync_backoff_ms(cfg->sync_backoff_base_ms, cap,
	    fails > 64 ? 64 : (int)fails, rng_next(rng));
}

/* Give the worker's connection back (not listening any more). */
static void
conn_drop(struct app *app, struct db_conn *c)
{
	if (c == NULL)
		return;
	/*
	 * A failed UNLISTEN either broke the session (db_release closes
	 * it) or leaves it listening, which the pool's next acquire takes
	 * for a dead session (input on an idle one) and reconnects.
	 */
	if (db_outbox_unlisten(c) != 0)
		log_debug("sync worker: UNLISTEN failed");
	db_release(app->pool, c);
}

static void
prune(struct app *app, struct db_conn *c)
{
	long long n = 0, total = 0;
	int i;

	for (i = 0; i < PRUNE_ROUNDS; i++) {
		if (db_outbox_prune(c, app->cfg->sync_keep_done_s, PRUNE_BATCH,
		    &n) != 0)
			break;
		total += n;
		if (n < PRUNE_BATCH)
			break;
	}
	if (total > 0)
		log_debug("sync pruned finished jobs=%lld", total);
}

/* After a slow claim: ANALYZE the outbox, unless done lately. */
static void
maybe_analyze(struct sync_workers *w, struct db_conn *c, long long claim_ms)
{
	long long now = clock_mono_ms(), due = atomic_load(&w->next_analyze);

	if (now < due || !atomic_compare_exchange_strong(&w->next_analyze,
	    &due, now + ANALYZE_EVERY_MS))
		return;
	if (db_outbox_analyze(c) != 0)
		log_warn("sync: ANALYZE of the outbox failed");
	else
		log_info("sync: a claim took %lld ms: outbox statistics "
		    "refreshed in %lld ms", claim_ms, clock_mono_ms() - now);
}

static void *
worker_main(void *arg)
{
	struct sync_thread *t = arg;
	struct sync_workers *w = t->w;
	struct app *app = w->app;
	const struct config *cfg = app->cfg;
	struct db_conn *c = NULL;
	long long next_prune = clock_mono_ms() + PRUNE_EVERY_MS / 10;
	struct sync_counters cnt;
	long long claim_ms;
	unsigned handled, fails = 0;
	int r, unreachable;

	while (!atomic_load(&w->stop)) {
		if (c == NULL) {
			if ((r = db_acquire(app->pool, &c)) != 0 ||
			    (r = db_outbox_listen(c)) != 0) {
				conn_drop(app, c);
				c = NULL;
				fails++;
				pause_ms(w, outage_pause(cfg, fails, &t->rng));
				continue;
			}
		}
		r = round_run(app, c, t->by, &t->rng, &handled, &unreachable,
		    &cnt, &claim_ms);
		if (r == 0) {
			/* counted once the round's marks are committed */
			atomic_fetch_add(&w->applied, cnt.applied);
			atomic_fetch_add(&w->retried, cnt.retried);
			atomic_fetch_add(&w->dead, cnt.dead);
			atomic_fetch_add(&w->batches, cnt.batches);
		}
		if (r != 0 || unreachable) {
			if (r != 0) {
				log_debug("sync worker %u: bridge database: "
				    "%s", t->idx, err_str(r));
				conn_drop(app, c);
				c = NULL;
			}
			fails++;
			pause_ms(w, outage_pause(cfg, fails, &t->rng));
			continue;
		}
		fails = 0;
		if (claim_ms >= ANALYZE_SLOW_MS)
			maybe_analyze(w, c, claim_ms);
		if (t->idx == 0 && clock_mono_ms() >= next_prune) {
			prune(app, c);
			next_prune = clock_mono_ms() + PRUNE_EVERY_MS;
		}
		if (handled > 0)
			continue;	/* more may be due, or unblocked */
		r = db_outbox_wait_fd(c, cfg->sync_poll_ms, w->wake[0]);
		if (r == 2)
			wake_drain(w);
		else if (r < 0) {
			conn_drop(app, c);
			c = NULL;
		}
	}
	conn_drop(app, c);
	return NULL;
}

int
sync_workers_start(struct app *app, struct sync_workers **out)
{
	const struct config *cfg = app->cfg;
	struct sync_workers *w = NULL;
	char what[16];
	unsigned i, n;
	int r = ERR_ALLOC, e;

	*out = NULL;
	n = cfg->sync_workers;
	if (n > 0 && n >= cfg->db_pool_size) {
		/* each worker keeps a pool connection: leave one for HTTP */
		log_warn("sync.workers = %u leaves no db.pool_size connection "
		    "for requests; starting %u", n, cfg->db_pool_size - 1);
		n = cfg->db_pool_size - 1;
	}
	if (n == 0) {
		log_warn("no sync workers in this daemon: jobs wait for "
		    "another daemon");
		return 0;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ERR_ALLOC;
	w->app = app;
	w->wake[0] = w->wake[1] = -1;
	atomic_init(&w->stop, 0);
	atomic_init(&w->kicked, 0);
	atomic_init(&w->next_analyze, 0);
	atomic_init(&w->applied, 0);
	atomic_init(&w->retried, 0);
	atomic_init(&w->dead, 0);
	atomic_init(&w->batches, 0);
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		log_error("sync workers: pipe: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if ((w->t = calloc(n, sizeof(*w->t))) == NULL)
		goto out;
	w->n = n;
	for (i = 0; i < n; i++) {
		w->t[i].w = w;
		w->t[i].idx = i;
		w->t[i].rng = rng_seed(i);
		snprintf(what, sizeof(what), "%u", i);
		worker_name(what, w->t[i].by, sizeof(w->t[i].by));
		if ((e = pthread_create(&w->t[i].th, NULL, worker_main,
		    &w->t[i])) != 0) {
			log_error("sync workers: pthread_create: %s",
			    strerror(e));
			r = ERR_INTERNAL;
			goto out;
		}
		w->t[i].started = 1;
	}
	log_info("sync workers started workers=%u batch=%u max_attempts=%u "
	    "poll_ms=%u", n, cfg->sync_batch, cfg->sync_max_attempts,
	    cfg->sync_poll_ms);
	*out = w;
	w = NULL;
	r = 0;
out:
	sync_workers_stop(w);
	return r;
}

void
sync_workers_counters(struct sync_workers *w, struct sync_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (w == NULL)
		return;
	out->applied = atomic_load(&w->applied);
	out->retried = atomic_load(&w->retried);
	out->dead = atomic_load(&w->dead);
	out->batches = atomic_load(&w->batches);
	out->workers = w->n;
}

void
sync_workers_stop(struct sync_workers *w)
{
	unsigned i;

	if (w == NULL)
		return;
	atomic_store(&w->stop, 1);
	if (w->wake[1] >= 0)
		wake_write(w);
	for (i = 0; i < w->n; i++) {
		if (w->t[i].started)
			pthread_join(w->t[i].th, NULL);
	}
	if (w->n > 0)
		log_info("sync workers stopped workers=%u", w->n);
	if (w->wake[0] >= 0)
		close(w->wake[0]);
	if (w->wake[1] >= 0)
		close(w->wake[1]);
	free(w->t);
	free(w);
}

int
sync_run_once(struct app *app, unsigned *handled)
{
	struct db_conn *c = NULL;
	char by[DB_OUTBOX_BY_MAX];
	struct sync_counters cnt;
	uint64_t rng = rng_seed(0);
	long long claim_ms;
	int r, unreachable;

	*handled = 0;
	worker_name("once", by, sizeof(by));
	if ((r = db_acquire(app->pool, &c)) != 0)
		goto out;
	r = round_run(app, c, by, &rng, handled, &unreachable, &cnt,
	    &claim_ms);
out:
	db_release(app->pool, c);
	return r;
}
