#ifndef VB_CRYPTO_SEAL_H
#define VB_CRYPTO_SEAL_H

#include <stddef.h>

#include "util/errors.h"

/*
 * Sealing of vault secrets (libsodium stays inside src/crypto/).
 *
 * Three layers:
 *   master key  32 bytes, read from a 0600 file or a systemd credential,
 *               never from the config file or the database. Held in a
 *               keyring: the current key plus older ones during a
 *               rotation. Each key is known by a 16 hex char key id, a
 *               keyed BLAKE2b of a fixed string, which reveals nothing
 *               about the key.
 *   data key    32 random bytes per safe, stored only wrapped
 *               (XChaCha20-Poly1305-IETF) under a master key. The wrapped
 *               form names the master key id, so a database row says
 *               which key wraps it and `key rotate` can re-wrap every
 *               data key while both keys are loaded, without downtime.
 *               Re-wrapping keeps the data key, so sealed secrets stay
 *               valid.
 *   secret      sealed under its safe's data key, bound by associated
 *               data to its place (e.g. "safe:<uuid>/account:<uuid>"):
 *               a ciphertext moved elsewhere does not open.
 *
 * Blob formats (all integers single bytes):
 *   wrapped data key: version(1) 'D' key_id(8) nonce(24) ct(32) tag(16)
 *   sealed secret:    version(1) 'S' nonce(24) ct(n) tag(16)
 *
 * Everything fails closed: an unknown key id, a failed MAC, a flipped
 * or missing byte, a wrong associated data or data key give ERR_CRYPTO
 * and a message in err. Messages name key ids and paths, never key
 * bytes or plaintext.
 *
 * Errors: every fallible function takes (char *err, size_t errsz) and
 * writes a NUL-terminated one-line reason there on failure (err may be
 * NULL or errsz 0; SEAL_ERR_MAX bytes are enough). The text is meant
 * for the operator's log or terminal; it holds no secret.
 *
 * Threads: a loaded keyring is read-only and may be shared by any number
 * of threads calling the functions below at the same time.
 */

#define SEAL_KEY_LEN		32	/* master and data keys, bytes */
#define SEAL_KEY_ID_LEN		16	/* key id in hex (8 bytes) */
#define SEAL_VERSION		1
#define SEAL_WRAPPED_DEK_LEN	82	/* bytes of a wrapped data key */
#define SEAL_SECRET_OVERHEAD	42	/* sealed = plaintext + this */

struct seal_keyring;
struct seal_secret;

/*
 * Bytes owned by whoever filled the struct (a seal_* function that takes
 * it as an output, or the caller for inputs such as a bytea read back
 * from the database). Ciphertext only: never plaintext.
 */
struct seal_blob {
	unsigned char *data;	/* malloc'd */
	size_t len;
};

/*
 * Load master keys. paths[0] is the current key (new data keys are
 * wrapped under it); paths[1..n) are older keys still accepted for
 * unwrapping during a rotation. 1 <= n <= SEAL_KEYRING_MAX. A path is a
 * file name or "cred:NAME" for $CREDENTIALS_DIRECTORY/NAME (systemd
 * LoadCredential=).
 * A key file must be a regular file, not a symlink, owned by this user
 * or root, without group/other permission bits (0600 or 0400), and hold
 * exactly 32 raw bytes, or 64 hex chars, or 44 base64 chars (standard
 * alphabet, padded), hex and base64 with at most one trailing newline.
 * A key of all zero bytes, or the same key twice, is refused.
 * Keys live in sodium_malloc'd memory (guard pages, mlock'd where the
 * system allows), read-only after loading.
 * Returns 0 and *out (owned by the caller, free with seal_keyring_free),
 * ERR_IO (cannot open or read), ERR_CONFIG (bad mode, owner, type, form
 * or name), ERR_ALLOC, or ERR_INTERNAL (bad arguments).
 */
int seal_keyring_load(const char *const *paths, size_t n,
    struct seal_keyring **out, char *err, size_t errsz) WUR;

/* Wipe every key and free; NULL is fine. */
void seal_keyring_free(struct seal_keyring *kr);

/* Number of keys in kr (>= 1). */
size_t seal_keyring_count(const struct seal_keyring *kr);

/*
 * Key id of key i (0 = current) as SEAL_KEY_ID_LEN hex chars + NUL into
 * id. 0, or ERR_NOT_FOUND if i >= seal_keyring_count(kr).
 */
int seal_keyring_key_id(const struct seal_keyring *kr, size_t i,
    char id[SEAL_KEY_ID_LEN + 1]) WUR;

/*
 * Write a new random master key to path as 64 hex chars and a newline.
 * The file is created (O_EXCL, no symlink followed) with mode 0600; an
 * existing path is never overwritten. If id is not NULL, the new key's
 * id is written there. A partly written file is removed.
 * 0, ERR_CONFLICT (path exists), ERR_IO or ERR_CRYPTO.
 */
int seal_key_generate(const char *path, char id[SEAL_KEY_ID_LEN + 1],
    char *err, size_t errsz) WUR;

/*
 * New random data key, wrapped under the current master key into *out
 * (its previous contents are not freed; out->data owned by the caller,
 * free with seal_blob_free). The plain data key never leaves this call.
 * 0, ERR_ALLOC or ERR_INTERNAL.
 */
int seal_dek_new(const struct seal_keyring *kr, struct seal_blob *out,
    char *err, size_t errsz) WUR;

/*
 * Unwrap in with whichever keyring key its id names and wrap the same
 * data key under the current master key (fresh nonce) into *out (owned
 * by the caller). Secrets sealed under the data key stay valid.
 * 0, ERR_CRYPTO (malformed, unknown key id, failed authentication),
 * ERR_ALLOC or ERR_INTERNAL.
 */
int seal_dek_rewrap(const struct seal_keyring *kr,
    const struct seal_blob *in, struct seal_blob *out, char *err,
    size_t errsz) WUR;

/*
 * Check that the keyring opens a wrapped data key (e.g. at startup, so a
 * wrong master key stops the service with a clear error before a
 * request sees it). 0 or ERR_CRYPTO / ERR_ALLOC / ERR_INTERNAL.
 */
int seal_dek_check(const struct seal_keyring *kr,
    const struct seal_blob *wrapped, char *err, size_t errsz) WUR;

/*
 * Id of the master key that wraps a wrapped data key, as hex + NUL into
 * id (needs no keyring; `key rotate` compares it with key 0's id).
 * 0, or ERR_CRYPTO if b is not a wrapped data key of a known version.
 */
int seal_blob_key_id(const struct seal_blob *b,
    char id[SEAL_KEY_ID_LEN + 1], char *err, size_t errsz) WUR;

/*
 * Seal ptlen bytes of pt (pt may be NULL if ptlen is 0) under the data
 * key wrapped_dek, bound to ad (NUL-terminated, 1..SEAL_AD_MAX bytes,
 * not secret: it is authenticated, not stored). Random nonce: sealing
 * the same plaintext twice gives different blobs. *out owned by the
 * caller (seal_blob_free); pt stays the caller's to wipe.
 * 0, ERR_TOO_LARGE (ptlen > SEAL_SECRET_MAX or ad too long), ERR_CRYPTO
 * (data key does not open), ERR_ALLOC or ERR_INTERNAL (bad arguments,
 * empty ad).
 */
int seal_encrypt(const struct seal_keyring *kr,
    const struct seal_blob *wrapped_dek, const char *ad, const void *pt,
    size_t ptlen, struct seal_blob *out, char *err, size_t errsz) WUR;

/*
 * Open a blob from seal_encrypt with the same data key and ad. On
 * success *out holds the plaintext in sodium_malloc'd memory, owned by
 * the caller, who frees (and so wipes) it with seal_secret_free as soon
 * as it is used. On failure *out is NULL and nothing of the plaintext
 * is left in memory.
 * 0, ERR_CRYPTO (malformed or truncated blob, wrong data key, wrong ad,
 * tampered), ERR_TOO_LARGE (ad too long), ERR_ALLOC or ERR_INTERNAL.
 */
int seal_decrypt(const struct seal_keyring *kr,
    const struct seal_blob *wrapped_dek, const char *ad,
    const struct seal_blob *ct, struct seal_secret **out, char *err,
    size_t errsz) WUR;

/* Plaintext bytes, followed by a NUL not counted in the length (so a
 * password can be used as a C string). Owned by s. */
const unsigned char *seal_secret_data(const struct seal_secret *s);
size_t seal_secret_len(const struct seal_secret *s);
/* Wipe and free; NULL is fine. */
void seal_secret_free(struct seal_secret *s);

/* Free b->data (wiped first) and set b to empty; NULL b is fine. */
void seal_blob_free(struct seal_blob *b);

#endif
