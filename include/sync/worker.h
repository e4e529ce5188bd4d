#ifndef VB_SYNC_WORKER_H
#define VB_SYNC_WORKER_H

#include "util/errors.h"

/*
 * Outbox workers: threads that claim due jobs (db_outbox_claim, FOR
 * UPDATE SKIP LOCKED, so any number of daemons share one job stream),
 * apply each through the vault backend, and mark it done; a temporary
 * error is retried after an exponential backoff with full jitter
 * (sync.backoff_base_ms doubling up to sync.backoff_max_ms), a
 * permanent error or sync.max_attempts attempts park the job as dead.
 * Workers wake when a write of this daemon kicks them
 * (sync_workers_kick), on the job channel's NOTIFY (reconciliation,
 * retries), and at least every sync.poll_ms (jobs written by other
 * daemons, retries that come due).
 */

struct app;
struct sync_workers;
struct sync_job;
struct vault_backend;
struct vault_error;

/* Start app->cfg->sync_workers threads (0: none, *out NULL). */
int sync_workers_start(struct app *app, struct sync_workers **out) WUR;
/*
 * Wake this daemon's workers now (after a commit that may have written
 * jobs). Cheap and coalescing: while a wake is pending, further calls
 * do nothing. NULL w (no workers here) is fine.
 */
void sync_workers_kick(struct sync_workers *w);
/* What this daemon's workers did since start (for /metrics). */
struct sync_counters {
	unsigned long long applied;	/* jobs done */
	unsigned long long retried;	/* temporary failures, retry set */
	unsigned long long dead;	/* jobs parked as dead */
	unsigned long long batches;	/* rounds applied as one batch */
	unsigned workers;		/* threads running */
};

/* Read the counters; all zero for NULL w. */
void sync_workers_counters(struct sync_workers *w, struct sync_counters *out);
/* Ask them to stop, wait for the jobs in hand to finish, free. NULL ok. */
void sync_workers_stop(struct sync_workers *w);

/* Apply one job through backend b (also used by tests and reconcile
 * --apply in the CLI). 0 or negative ERR_* with *e. */
int sync_apply(struct vault_backend *b, const struct sync_job *j,
    struct vault_error *e) WUR;

/*
 * Run one claim-apply-commit round on the app's pool: *applied gets how
 * many jobs were handled (done, retried or dead). For the CLI
 * (`reconcile` without a daemon) and tests.
 */
int sync_run_once(struct app *app, unsigned *handled) WUR;

/* Backoff before attempt n+1 (n >= 1 attempts made), with full jitter:
 * uniform in [0, min(max_ms, base_ms * 2^(n-1))]; never 0 if base_ms>0
 * (at least 1). Exposed for the unit test. */
unsigned sync_backoff_ms(unsigned base_ms, unsigned max_ms, int attempts,
    unsigned random32);

#endif
