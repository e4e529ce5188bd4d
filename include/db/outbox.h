#ifndef VB_DB_OUTBOX_H
#define VB_DB_OUTBOX_H

#include <stddef.h>

#include "util/bounds.h"
#include "util/errors.h"
#include "vault/backend.h"

/*
 * The outbox (bridge database): jobs that carry SCIM lifecycle changes
 * to the vault backend, and the safe bindings they are derived from.
 *
 * A binding (table sync_binding) says that a SCIM Group is a safe: its
 * name, the policy rule, the permission mask members get, and whether it
 * is active or frozen (group deleted or no longer matching a rule). The
 * daemon writes bindings from the policy (sync/lifecycle.c); triggers in
 * sql/0004_sync.sql turn every change of a binding, of a group's
 * membership and of a user's "active" into jobs (table sync_job) in the
 * same transaction, whichever code path made the change.
 *
 * Ordering: every transaction that writes jobs for a safe holds that
 * group's row lock (or, for a user's jobs, the user's row lock and a
 * share lock that conflicts with it), so job ids for one (safe, user)
 * ascend in commit order. A job is claimable only when no job with a
 * smaller id for the same safe and the same user (or for the safe
 * itself: user_ref NULL) is still pending.
 *
 * All functions run on the caller's connection and transaction.
 */

struct db_conn;

enum sync_op {
	SYNC_SAFE_ENSURE,	/* create / rename / unfreeze */
	SYNC_SAFE_FREEZE,
	SYNC_SAFE_PURGE,	/* due retention_days after the freeze */
	SYNC_MEMBER_SET,
	SYNC_MEMBER_REMOVE,
	SYNC_SESSIONS_REVOKE	/* safe_ref "" */
};

enum sync_state {
	SYNC_PENDING, SYNC_DONE, SYNC_DEAD, SYNC_CANCELLED
};

struct sync_job {
	long long id;			/* op_id handed to the backend */
	enum sync_op op;
	enum sync_state state;
	char safe_ref[VAULT_REF_LEN + 1];	/* "" for sessions_revoke */
	char user_ref[VAULT_REF_LEN + 1];	/* "" for safe ops */
	char safe_name[VAULT_SAFE_NAME_MAX + 1];
	char user_name[VAULT_USER_NAME_MAX + 1];
	unsigned perms;
	int attempts;
	char created[40];		/* xsd:dateTime, ms */
	char not_before[40];
	char finished[40];		/* done/dead time or "" */
	char last_error[VAULT_ERR_MSG_MAX];
	char origin[32];		/* "scim", "reconcile", ... */
};

/* Text names ("safe_ensure", "pending", ...); static storage. */
const char *sync_op_name(enum sync_op op);
const char *sync_state_name(enum sync_state s);
/* Parse a state name; 0 or ERR_INVALID. */
int sync_state_parse(const char *s, enum sync_state *out) WUR;
/* Parse an op name; 0 or ERR_INVALID. */
int sync_op_parse(const char *s, enum sync_op *out) WUR;

/*
 * Claim up to max due, unblocked pending jobs in id order, locking them
 * (FOR UPDATE SKIP LOCKED) until the caller's transaction ends. Must run
 * inside a transaction. *out malloc'd (caller frees), *n may be 0.
 */
int db_outbox_claim(struct db_conn *c, unsigned max, struct sync_job **out,
    size_t *n) WUR;
/* Mark a claimed job done (finished = now()). */
int db_outbox_done(struct db_conn *c, long long id) WUR;
/* Temporary failure: attempts+1, not_before = now() + delay_ms,
 * last_error = msg. */
int db_outbox_retry(struct db_conn *c, long long id, unsigned delay_ms,
    const char *msg) WUR;
/* Permanent failure (or attempts exhausted): state dead, last_error. */
int db_outbox_dead(struct db_conn *c, long long id, const char *msg) WUR;

/* Size of a worker name ("<host>:<pid>/<thread>") kept in applied_by. */
#define DB_OUTBOX_BY_MAX	96

/*
 * The three above in one, also recording who handled the job (by, may
 * be NULL, cut to DB_OUTBOX_BY_MAX - 1) in applied_by: st SYNC_DONE
 * (msg may be NULL), SYNC_PENDING (retry after delay_ms) or SYNC_DEAD.
 * Every outcome counts one attempt. msg is stored as printable ASCII,
 * cut to VAULT_ERR_MSG_MAX - 1 bytes. ERR_NOT_FOUND if the job is not
 * pending.
 */
int db_outbox_finish(struct db_conn *c, long long id, enum sync_state st,
    unsigned delay_ms, const char *msg, const char *by) WUR;
/* Mark n claimed jobs done at once (after a batch was applied). */
int db_outbox_done_many(struct db_conn *c, const long long *ids, size_t n,
    const char *by) WUR;

/* Enqueue one job (reconciliation repairs). *id (may be NULL) gets its
 * id. */
int db_outbox_enqueue(struct db_conn *c, enum sync_op op,
    const char *safe_ref, const char *user_ref, const char *safe_name,
    const char *user_name, unsigned perms, const char *origin,
    long long *id) WUR;

/* Jobs in state s, by id descending from before_id (0 = newest), at most
 * limit. *out malloc'd. */
int db_outbox_list(struct db_conn *c, enum sync_state s, long long before_id,
    unsigned limit, struct sync_job **out, size_t *n) WUR;
/* One job by id; ERR_NOT_FOUND. */
int db_outbox_get(struct db_conn *c, long long id, struct sync_job *out)
    WUR;
/*
 * Operator retry of a dead job: enqueue a copy as a new pending job (new
 * id, so ordering stays by commit; origin "retry") and mark the dead one
 * cancelled. ERR_NOT_FOUND unless id is dead. *new_id gets the copy's
 * id. ERR_CONFLICT when a later job of the same key (member op: same
 * safe and user; safe op: same safe) supersedes it: re-running it would
 * undo that newer change (reconcile repairs what is still wrong).
 */
int db_outbox_requeue(struct db_conn *c, long long id, long long *new_id)
    WUR;

struct outbox_stats {
	long long pending;		/* all pending */
	long long due;			/* pending and not_before <= now() */
	long long dead;
	long long done;			/* kept in the table */
	double oldest_due_s;		/* age of the oldest due job, 0 */
};
int db_outbox_stats(struct db_conn *c, struct outbox_stats *out) WUR;

/* Delete done/cancelled jobs finished more than keep_s seconds ago, at
 * most limit rows; *deleted gets how many. */
int db_outbox_prune(struct db_conn *c, unsigned long long keep_s,
    unsigned limit, long long *deleted) WUR;

/* --- bindings --- */

struct db_binding {
	char group_id[SCIM_ID_LEN + 1];
	char safe_name[VAULT_SAFE_NAME_MAX + 1];
	char rule_id[POLICY_ID_MAX + 1];
	unsigned perms;
	unsigned retention_days;
	int frozen;
};

/* The binding of a group (active or frozen); ERR_NOT_FOUND. */
int db_binding_get(struct db_conn *c, const char *group_id,
    struct db_binding *out) WUR;
/* Insert or update to active with these values (triggers enqueue what
 * changed). The caller holds the group's row lock. */
int db_binding_put(struct db_conn *c, const struct db_binding *b) WUR;
/* Mark frozen (triggers enqueue freeze and the purge job); no binding or
 * already frozen: nothing. *frozen (may be NULL) gets 1 if it froze. */
int db_binding_freeze(struct db_conn *c, const char *group_id, int *frozen)
    WUR;
/*
 * Take the lock that orders a safe's jobs before enqueueing for it
 * outside the SCIM paths (reconciliation): the scim_group row (FOR NO
 * KEY UPDATE) when the group exists, else the binding row (FOR UPDATE).
 * ERR_NOT_FOUND when neither exists.
 */
int db_binding_lock(struct db_conn *c, const char *group_id) WUR;
/* Every binding; *out malloc'd. */
int db_binding_list(struct db_conn *c, struct db_binding **out, size_t *n)
    WUR;

/* Intended members of an active binding: direct User members whose
 * "active" is not false, with userName. *out malloc'd (perms = the
 * binding's). */
int db_binding_members(struct db_conn *c, const char *group_id,
    struct vault_member **out, size_t *n) WUR;

/* 1 if a pending job exists for (safe_ref, user_ref) (user_ref NULL:
 * any job of the safe). */
int db_outbox_has_pending(struct db_conn *c, const char *safe_ref,
    const char *user_ref, int *yes) WUR;

/* --- notification --- */

/*
 * Wake the workers of every daemon (NOTIFY on the job channel when the
 * caller's transaction commits). Not sent for every SCIM write: a
 * notifying commit takes a database-wide lock until it is flushed, which
 * serializes all such commits. SCIM writes wake the workers of their own
 * daemon in-process (sync_workers_kick); other daemons poll every
 * sync.poll_ms. Reconciliation and operator retries notify.
 */
int db_outbox_notify(struct db_conn *c) WUR;

/*
 * ANALYZE sync_job (outside a transaction): the claim's plan depends on
 * how many jobs PostgreSQL believes are pending; workers call this when
 * claims turn slow (sync/worker.c).
 */
int db_outbox_analyze(struct db_conn *c) WUR;

/* LISTEN on the job channel ("vb_sync"). */
int db_outbox_listen(struct db_conn *c) WUR;
/* Wait up to timeout_ms for a notification on c (which has LISTENed);
 * 1 if one came, 0 on timeout; negative ERR_* if the connection broke. */
int db_outbox_wait(struct db_conn *c, unsigned timeout_ms) WUR;
/* The same, also returning 2 as soon as wake_fd (if >= 0) is readable
 * (a worker being stopped); wake_fd is not read. */
int db_outbox_wait_fd(struct db_conn *c, unsigned timeout_ms, int wake_fd)
    WUR;
/* UNLISTEN and drop queued notifications, before c goes back to the
 * pool (an idle pooled session must receive nothing). */
int db_outbox_unlisten(struct db_conn *c) WUR;

#endif
