#ifndef VB_VAULT_BACKEND_H
#define VB_VAULT_BACKEND_H

#include <stddef.h>

#include "util/bounds.h"
#include "util/errors.h"

/*
 * A vault backend: where safes, their members and accounts (privileged
 * credentials) really live. Every backend (the embedded vault, later a
 * PostgreSQL target and external vaults over REST) implements the ops
 * table below; the sync workers, reconciliation and the accounts API
 * reach a backend only through it.
 *
 * Identity. A safe is known by safe_ref, the id (uuid text) of the SCIM
 * Group it comes from, which never changes, and by its name (from the
 * policy naming rules), which may change with the group's displayName.
 * A member is known by user_ref, the SCIM User id, and carries the
 * userName for display (and for backends that need a login name).
 *
 * Lifecycle operations carry op_id, the id of the outbox job they come
 * from. A backend applies an op_id at most once (a second call with the
 * same op_id succeeds and changes nothing), so a job redelivered after a
 * crash has the same effect as once. Workers call lifecycle ops for one
 * (safe, user) in ascending op_id order.
 *
 * Errors. Every call returns 0 or a negative ERR_* and fills *e (which
 * may not be NULL): e->temporary = 1 when a retry may succeed (backend
 * unreachable, timeout, lock or serialization failure, overload),
 * 0 when it will not (refused by the backend, constraint, unknown
 * safe). e->msg says why in one line, for logs and the dead-letter
 * list; it never holds a secret. Accounts calls also return the
 * client-facing codes ERR_NOT_FOUND, ERR_FORBIDDEN, ERR_CONFLICT,
 * ERR_INVALID (e->temporary 0), and ERR_DB_UNAVAILABLE when the backend
 * cannot be reached (e->temporary 1).
 *
 * Threads: a backend object is shared by every worker and request
 * thread; each op must be safe to call concurrently.
 */

#define VAULT_REF_LEN		36	/* uuid text */
#define VAULT_SAFE_NAME_MAX	POLICY_SAFE_NAME_MAX
#define VAULT_USER_NAME_MAX	SCIM_USERNAME_MAX
#define VAULT_ACCOUNT_NAME_MAX	128
#define VAULT_ADDRESS_MAX	512
#define VAULT_ERR_MSG_MAX	256

struct seal_secret;
struct vault_backend;

struct vault_error {
	int temporary;			/* 1: retry may succeed */
	char msg[VAULT_ERR_MSG_MAX];	/* one line, no secrets */
};

/* A safe as the backend has it (reconciliation). */
struct vault_safe {
	char ref[VAULT_REF_LEN + 1];
	char name[VAULT_SAFE_NAME_MAX + 1];
	int frozen;			/* members removed, contents kept */
};

/* A member as the backend has it (reconciliation). */
struct vault_member {
	char user_ref[VAULT_REF_LEN + 1];
	char user_name[VAULT_USER_NAME_MAX + 1];
	unsigned perms;			/* POLICY_PERM_* mask */
};

/* An account (privileged credential) without its secret. */
struct vault_account {
	char name[VAULT_ACCOUNT_NAME_MAX + 1];
	char address[VAULT_ADDRESS_MAX + 1];	/* target host, URL, ... */
	char username[VAULT_USER_NAME_MAX + 1];	/* login on the target */
	long long secret_version;		/* 0: no secret set yet */
	char secret_updated[40];		/* xsd:dateTime or "" */
};

/* One lifecycle operation, for apply_batch. */
enum vault_op_kind {
	VAULT_OP_SAFE_ENSURE, VAULT_OP_SAFE_FREEZE, VAULT_OP_SAFE_PURGE,
	VAULT_OP_MEMBER_SET, VAULT_OP_MEMBER_REMOVE, VAULT_OP_SESSIONS_REVOKE
};

struct vault_op {
	enum vault_op_kind kind;
	long long op_id;
	const char *safe_ref;		/* NULL for sessions_revoke */
	const char *user_ref;		/* NULL for safe ops */
	const char *name;		/* safe_ensure: the safe's name */
	const char *user_name;		/* member_set */
	unsigned perms;			/* member_set */
};

struct vault_backend_ops {
	const char *kind;		/* "embedded", ... */

	/*
	 * Optional (NULL: not offered). Apply ops[0..n) with the effect of
	 * the single-op calls below, in order, in ONE backend transaction:
	 * all or nothing. 0: every op is applied (an op_id seen before
	 * counts as applied and changes nothing). On failure nothing of
	 * the batch is applied and the caller applies the ops one by one
	 * to learn which fails and how. The ops must be independent of
	 * each other's order constraints (the workers claim at most one
	 * pending job per safe and user).
	 */
	int (*apply_batch)(struct vault_backend *b, const struct vault_op *ops,
	    size_t n, struct vault_error *e);

	/*
	 * Create the safe (with its data key) or, if it exists, give it
	 * this name and unfreeze it. Idempotent.
	 */
	int (*safe_ensure)(struct vault_backend *b, long long op_id,
	    const char *safe_ref, const char *name, struct vault_error *e);
	/* Remove every member, keep contents; no member can be added until
	 * safe_ensure unfreezes it. A missing safe is success. */
	int (*safe_freeze)(struct vault_backend *b, long long op_id,
	    const char *safe_ref, struct vault_error *e);
	/* Delete a frozen safe and everything in it; a missing safe is
	 * success; a safe that is not frozen is left alone (success: it
	 * was re-created meanwhile). */
	int (*safe_purge)(struct vault_backend *b, long long op_id,
	    const char *safe_ref, struct vault_error *e);
	/* Add user_ref with exactly perms, or change its perms. On a frozen
	 * safe: success, nothing added. Missing safe: permanent error. */
	int (*member_set)(struct vault_backend *b, long long op_id,
	    const char *safe_ref, const char *user_ref, const char *user_name,
	    unsigned perms, struct vault_error *e);
	/* Remove user_ref; not a member is success. */
	int (*member_remove)(struct vault_backend *b, long long op_id,
	    const char *safe_ref, const char *user_ref,
	    struct vault_error *e);
	/* End every open session/checkout of user_ref in every safe;
	 * *ended (may be NULL) gets how many. */
	int (*sessions_revoke)(struct vault_backend *b, long long op_id,
	    const char *user_ref, unsigned *ended, struct vault_error *e);

	/* Every safe; *out malloc'd array the caller frees. */
	int (*list_safes)(struct vault_backend *b, struct vault_safe **out,
	    size_t *n, struct vault_error *e);
	/* Members of one safe; ERR_NOT_FOUND for an unknown safe; *out
	 * malloc'd array the caller frees. */
	int (*list_members)(struct vault_backend *b, const char *safe_ref,
	    struct vault_member **out, size_t *n, struct vault_error *e);

	/*
	 * Accounts, addressed by safe NAME and account name as users see
	 * them. account_put creates the account or updates address and
	 * username (the secret is untouched). ERR_NOT_FOUND (no such
	 * active safe), ERR_INVALID (bad name/field).
	 */
	int (*account_put)(struct vault_backend *b, const char *safe_name,
	    const struct vault_account *a, int *created,
	    struct vault_error *e);
	/* Accounts of a safe, no secrets; *out malloc'd, caller frees. */
	int (*account_list)(struct vault_backend *b, const char *safe_name,
	    struct vault_account **out, size_t *n, struct vault_error *e);
	/* Delete an account and its secret. ERR_NOT_FOUND. */
	int (*account_delete)(struct vault_backend *b, const char *safe_name,
	    const char *account, struct vault_error *e);
	/*
	 * Set (or rotate) an account's secret to len bytes of secret (the
	 * caller keeps and wipes its copy). *version gets the new secret
	 * version. ERR_NOT_FOUND, ERR_TOO_LARGE (len > SEAL_SECRET_MAX).
	 */
	int (*secret_set)(struct vault_backend *b, const char *safe_name,
	    const char *account, const void *secret, size_t len,
	    long long *version, struct vault_error *e);
	/*
	 * Hand the secret to user_ref if, at this moment, user_ref is a
	 * member of the (not frozen) safe with POLICY_PERM_RETRIEVE. The
	 * backend records the retrieval (who, which account, when,
	 * request_id) in the same transaction as the read. *out is
	 * guarded memory the caller frees with seal_secret_free as soon as
	 * it is written out. ERR_NOT_FOUND (no such safe or account, or no
	 * secret set), ERR_FORBIDDEN (not a member or no retrieve).
	 */
	int (*secret_retrieve)(struct vault_backend *b, const char *safe_name,
	    const char *account, const char *user_ref, const char *request_id,
	    struct seal_secret **out, long long *version,
	    struct vault_error *e);

	/* Release the backend (its connections, its key material). */
	void (*free)(struct vault_backend *b);
};

/* Every backend struct starts with this. */
struct vault_backend {
	const struct vault_backend_ops *ops;
};

/* NULL-safe b->ops->free(b). */
void vault_backend_free(struct vault_backend *b);

/* Set *e: temporary flag and printf-style message; returns code. */
int vault_error_set(struct vault_error *e, int code, int temporary,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
