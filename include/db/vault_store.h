#ifndef VB_DB_VAULT_STORE_H
#define VB_DB_VAULT_STORE_H

#include <stddef.h>

#include "crypto/seal.h"
#include "util/errors.h"
#include "vault/backend.h"

/*
 * The SQL of the embedded vault (schema "vault", sql/vault/). Used only
 * by src/vault/embedded.c, which holds the transactions (db_begin /
 * db_commit of db/pool.h) and the crypto; these functions run single
 * statements on a connection of the vault's own pool and never see a
 * plaintext secret: data keys and secrets pass through as wrapped or
 * sealed blobs (struct seal_blob).
 *
 * Arguments are checked by the caller (uuid text for refs, lengths);
 * every value goes in as a parameter. Errors are those of db_exec_full
 * (db_int.h): ERR_DB_UNAVAILABLE, ERR_CONFLICT (unique violation),
 * ERR_INTERNAL (anything else, see db_vault_sqlstate), ERR_ALLOC, plus
 * ERR_NOT_FOUND where stated.
 */

struct db_conn;

/* SQLSTATE of the last failed statement on c, "" if none. */
const char *db_vault_sqlstate(const struct db_conn *c);

/*
 * 1 if the failure r of the last statement on c may go away on a retry:
 * ERR_DB_UNAVAILABLE or ERR_ALLOC, or SQLSTATE class 08 (connection),
 * 53 (resources), 40001, 40P01 (serialization, deadlock), 55P03 (lock
 * not available), 57014 (statement timeout/cancel), 57P01-57P03 (server
 * shutting down or starting). 0 for everything else (constraints,
 * syntax, undefined objects, ...).
 */
int db_vault_temporary(const struct db_conn *c, int r);

/*
 * Ledger: record lifecycle op op_id (op name, safe_ref / user_ref may be
 * NULL, perms < 0 for none). *fresh = 1 if op_id was new; a known op_id
 * only has its deliveries counter incremented (*fresh = 0) and its
 * effect must not be applied again. Inside the op's transaction.
 */
int db_vault_op_record(struct db_conn *c, long long op_id, const char *op,
    const char *safe_ref, const char *user_ref, int perms, int *fresh) WUR;

/*
 * Create safe ref (active) with name and wrapped data key dek (named by
 * its master key id), or give the existing one this name and make it
 * active again, keeping its data key. *created = 1 when it was
 * created. ERR_CONFLICT: another active safe has that name.
 */
int db_vault_safe_ensure(struct db_conn *c, long long op_id,
    const char *ref, const char *name, const struct seal_blob *dek,
    const char *dek_key_id, int *created) WUR;

/* Freeze safe ref (if active) and remove its members; a missing safe is
 * no error. */
int db_vault_safe_freeze(struct db_conn *c, long long op_id,
    const char *ref) WUR;

/* Delete safe ref with everything in it if it is frozen; *purged = 1 if
 * it was. */
int db_vault_safe_purge(struct db_conn *c, const char *ref, int *purged)
    WUR;

/* Lock safe ref against a concurrent freeze/purge until the transaction
 * ends (FOR SHARE); *active = 1 unless frozen. ERR_NOT_FOUND. */
int db_vault_safe_lock(struct db_conn *c, const char *ref, int *active)
    WUR;

/* Add or update a member (the safe locked by db_vault_safe_lock). */
int db_vault_member_set(struct db_conn *c, const char *safe_ref,
    const char *user_ref, const char *user_name, unsigned perms) WUR;

/* Remove a member (none is no error). */
int db_vault_member_remove(struct db_conn *c, const char *safe_ref,
    const char *user_ref) WUR;

/* One member op of db_vault_members_apply (borrowed strings). */
struct db_vault_member_op {
	long long op_id;
	int set;		/* 1 member_set, 0 member_remove */
	const char *safe_ref;
	const char *user_ref;
	const char *user_name;	/* member_set */
	int perms;		/* member_set */
};

struct db_vault_members_result {
	unsigned again;		/* op_ids seen before: ledger only */
	unsigned frozen;	/* member_set on a frozen safe: not added */
	unsigned no_safe;	/* member_set on a safe that does not exist */
};

/*
 * ops[0..n) in one statement, inside the caller's transaction: each
 * op's ledger row (in array order) and, for an op_id not seen before,
 * its effect, as db_vault_op_record + db_vault_safe_lock +
 * db_vault_member_set or db_vault_member_remove would do one by one.
 * The (safe_ref, user_ref) pairs must be distinct (ERR_INVALID
 * otherwise: one statement cannot order two effects on one row). A
 * member_set naming a safe that does not exist is counted in
 * out->no_safe and returns ERR_NOT_FOUND: the caller must roll back
 * (its ledger row was written) and may apply the ops one by one to get
 * the precise error. 0, ERR_NOT_FOUND, ERR_INVALID, ERR_ALLOC or a
 * database error.
 */
int db_vault_members_apply(struct db_conn *c,
    const struct db_vault_member_op *ops, size_t n,
    struct db_vault_members_result *out) WUR;

/* End every open session of user_ref; *ended gets how many. */
int db_vault_sessions_end(struct db_conn *c, const char *user_ref,
    unsigned *ended) WUR;

/* Every safe, by name; *out malloc'd, caller frees. */
int db_vault_safe_list(struct db_conn *c, struct vault_safe **out,
    size_t *n) WUR;

/* Members of safe ref; ERR_NOT_FOUND for an unknown safe; *out malloc'd,
 * caller frees. */
int db_vault_member_list(struct db_conn *c, const char *safe_ref,
    struct vault_member **out, size_t *n) WUR;

/*
 * Accounts of the active safe named safe_name (case-insensitive). Put
 * creates the account (no secret) or updates address and username;
 * *created = 1 when created. ERR_NOT_FOUND: no such active safe.
 */
int db_vault_account_put(struct db_conn *c, const char *safe_name,
    const struct vault_account *a, int *created) WUR;
/* *out malloc'd (NULL when empty), caller frees. ERR_NOT_FOUND. */
int db_vault_account_list(struct db_conn *c, const char *safe_name,
    struct vault_account **out, size_t *n) WUR;
/* ERR_NOT_FOUND: no such active safe or account. */
int db_vault_account_delete(struct db_conn *c, const char *safe_name,
    const char *account) WUR;

/* An account with what sealing or opening its secret needs. */
struct db_vault_secret {
	char safe_ref[VAULT_REF_LEN + 1];
	char account_id[VAULT_REF_LEN + 1];
	int active;			/* safe not frozen */
	int member;			/* user_ref is a member */
	unsigned perms;			/* its POLICY_PERM_* mask */
	int have_account;
	struct seal_blob dek;		/* wrapped data key */
	struct seal_blob secret;	/* sealed, len 0 if none */
	long long version;		/* 0 if no secret */
};

/* Free the blobs of s (not s). */
void db_vault_secret_clear(struct db_vault_secret *s);

/*
 * For secret_set: the account of the active safe named safe_name,
 * locked FOR UPDATE until the transaction ends (no secret read).
 * ERR_NOT_FOUND (no such active safe or account). out->dek filled;
 * clear with db_vault_secret_clear.
 */
int db_vault_secret_lock(struct db_conn *c, const char *safe_name,
    const char *account, struct db_vault_secret *out) WUR;

/* Store sealed secret ct for account_id; *version gets the new version. */
int db_vault_secret_store(struct db_conn *c, const char *account_id,
    const struct seal_blob *ct, long long *version) WUR;

/*
 * For secret_retrieve: the safe named safe_name (the active one, or else
 * the most recently frozen one), user_ref's membership there and the
 * account with its sealed secret, if any. ERR_NOT_FOUND: no safe of that
 * name. Clear with db_vault_secret_clear.
 */
int db_vault_secret_read(struct db_conn *c, const char *safe_name,
    const char *account, const char *user_ref, struct db_vault_secret *out)
    WUR;

/* Record a retrieval: a checkout session of user_ref and an access_log
 * row (request_id may be NULL). */
int db_vault_access_record(struct db_conn *c, const char *safe_ref,
    const char *account_id, const char *user_ref, const char *request_id,
    long long version) WUR;

/* One data key per master key id in use (startup check). */
struct db_vault_dek {
	char key_id[SEAL_KEY_ID_LEN + 1];
	char safe_name[VAULT_SAFE_NAME_MAX + 1];
	struct seal_blob dek;
};

/* One wrapped data key for each distinct master key id in vault.safe;
 * *out malloc'd, free with db_vault_dek_free(*out, *n). */
int db_vault_dek_by_key(struct db_conn *c, struct db_vault_dek **out,
    size_t *n) WUR;
void db_vault_dek_free(struct db_vault_dek *d, size_t n);

/*
 * Rotation: the next safe whose data key is not wrapped under key_id,
 * locked FOR UPDATE SKIP LOCKED. ERR_NOT_FOUND when none is left (that
 * is not locked by someone else). out->safe_name, out->key_id (of the
 * old key) and out->dek filled; ref into ref.
 */
int db_vault_dek_next(struct db_conn *c, const char *key_id,
    char ref[VAULT_REF_LEN + 1], struct db_vault_dek *out) WUR;
/* Store the re-wrapped data key of safe ref. */
int db_vault_dek_store(struct db_conn *c, const char *ref,
    const struct seal_blob *dek, const char *key_id) WUR;
/* How many safes have their data key under key_id, and how many not. */
int db_vault_dek_count(struct db_conn *c, const char *key_id,
    unsigned *current, unsigned *other) WUR;

#endif
