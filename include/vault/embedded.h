#ifndef VB_VAULT_EMBEDDED_H
#define VB_VAULT_EMBEDDED_H

#include <stddef.h>

#include "util/errors.h"
#include "vault/backend.h"

/*
 * The embedded vault, the default backend. Its data lives in its own
 * PostgreSQL database (config vault.dsn; it may be the same server, or
 * even the same database: every table is in schema "vault"), reached
 * through its own connection pool, so that the bridge and the vault fail
 * independently as they would with an external vault. Its schema comes
 * from sql/vault/NNNN_name.sql (db_vault_migrations, `vaultbridge
 * migrate`).
 *
 * Secrets are sealed with crypto/seal: a per-safe data key, wrapped by
 * the master key of the keyring; the associated data binds a ciphertext
 * to "safe:<safe ref>/account:<account id>". Plaintext never reaches the
 * database or a log.
 *
 * Applied lifecycle operations are recorded in vault.applied_op (op_id
 * primary key, apply order), which makes every op idempotent and is the
 * evidence of what reached the vault and in which order. Retrievals are
 * recorded in vault.access_log.
 */

struct seal_keyring;

struct vault_embedded_opts {
	const char *dsn;		/* libpq conninfo of the vault db */
	unsigned pool_size;
	unsigned connect_timeout_s;
	unsigned acquire_timeout_ms;
	unsigned statement_timeout_ms;
	const struct seal_keyring *keyring; /* borrowed; must outlive the
					     * backend */
};

/*
 * Create the backend (no connection is opened yet). *out is freed with
 * vault_backend_free. 0, ERR_ALLOC, ERR_CONFIG.
 */
int vault_embedded_new(const struct vault_embedded_opts *o,
    struct vault_backend **out) WUR;

/*
 * Startup check, fail closed: the vault schema is migrated to this
 * binary's version, and for every master key id that wraps some data
 * key in the vault, one such data key opens with the keyring. A wrong
 * or missing master key gives ERR_CRYPTO with a message naming the key
 * ids (never key bytes) in err; an unreachable vault gives
 * ERR_DB_UNAVAILABLE; an unmigrated one ERR_CONFIG.
 */
int vault_embedded_check(struct vault_backend *b, char *err, size_t errsz)
    WUR;

/*
 * `vaultbridge key rotate`: re-wrap every data key that is not wrapped
 * under the keyring's current key (key 0), one safe per transaction,
 * rows locked with FOR UPDATE SKIP LOCKED, so it runs while daemons
 * serve (they must have both keys loaded). *rewrapped / *current get
 * how many data keys were re-wrapped and were already current.
 * 0, ERR_CRYPTO (a data key does not open: message in err),
 * ERR_DB_UNAVAILABLE.
 */
int vault_embedded_rotate(struct vault_backend *b, unsigned *rewrapped,
    unsigned *current, char *err, size_t errsz) WUR;

#endif
