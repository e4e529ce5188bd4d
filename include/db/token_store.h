#ifndef VB_DB_TOKEN_STORE_H
#define VB_DB_TOKEN_STORE_H

#include <stddef.h>

#include "util/bounds.h"
#include "util/errors.h"

/* API bearer tokens: only a hash of the secret part is stored. */

struct db_conn;

#define TOKEN_HASH_LEN	32

struct db_token {
	char id[40];			/* public id, part of the token text */
	char name[TOKEN_NAME_MAX + 1];
	unsigned scopes;		/* SCOPE_* mask */
	unsigned char hash[TOKEN_HASH_LEN];
	char created[40];
	char expires[40];		/* "" = never */
	int revoked;
	int expired;			/* expires <= now() in the database */
};

/* Store a new token. expires_s = 0: never expires. ERR_CONFLICT if the
 * name is taken by a token that is not revoked. */
int db_token_insert(struct db_conn *c, const char *id, const char *name,
    unsigned scopes, const unsigned char hash[TOKEN_HASH_LEN],
    unsigned long long expires_s) WUR;

/* Token by id regardless of state; ERR_NOT_FOUND. */
int db_token_get(struct db_conn *c, const char *id, struct db_token *out)
    WUR;

/* Every token, newest first; *out malloc'd array the caller frees. */
int db_token_list(struct db_conn *c, struct db_token **out, size_t *n) WUR;

/* Revoke by id or by name; ERR_NOT_FOUND when nothing was revoked. */
int db_token_revoke(struct db_conn *c, const char *id_or_name) WUR;

#endif
