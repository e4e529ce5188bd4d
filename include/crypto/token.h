#ifndef VB_CRYPTO_TOKEN_H
#define VB_CRYPTO_TOKEN_H

#include <stddef.h>

#include "db/token_store.h"
#include "util/errors.h"

/*
 * Bearer token material. Token text: "vbt_" + 16 hex id + "_" + 43
 * base64url chars (256-bit secret). Only BLAKE2b-256(secret) is stored.
 */

#define CRYPTO_TOKEN_ID_LEN	16

/* sodium_init(); call once at startup. */
int crypto_init(void) WUR;

/* New token: id (NUL-terminated, CRYPTO_TOKEN_ID_LEN chars), full text
 * (into text, size >= TOKEN_TEXT_MAX) and hash of the secret. The caller
 * shows text once and wipes it. */
int crypto_token_new(char *id, size_t idsz, char *text, size_t textsz,
    unsigned char hash[TOKEN_HASH_LEN]) WUR;

/* Split a presented token into id and hash of its secret part.
 * ERR_AUTH if it is not of the token form. */
int crypto_token_parse(const char *text, size_t len, char *id, size_t idsz,
    unsigned char hash[TOKEN_HASH_LEN]) WUR;

/* Constant-time equality of two hashes: 1 equal, 0 not. */
int crypto_token_hash_eq(const unsigned char a[TOKEN_HASH_LEN],
    const unsigned char b[TOKEN_HASH_LEN]);

/* n random bytes as 2n lower-case hex chars + NUL into out. */
void crypto_random_hex(char *out, size_t n);

#endif
