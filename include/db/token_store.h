#ifndef VB_DB_TOKEN_STORE_H
#define VB_DB_TOKEN_STORE_H

#include <stddef.h>

#include "util/bounds.h"
#include "util/errors.h"

/*
 * API bearer tokens: only a hash of the secret part is stored. A token
 * is either a service token (no user) or bound to one SCIM User, whose
 * deletion deletes the token (sql/0005_user_tokens_audit.sql). A
 * user-bound token carries only SCOPE_VAULT (and later SCOPE_JIT); a
 * service token never carries SCOPE_VAULT (checked by the database too).
 */

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
	long long expires_in_ms;	/* expires - now() in the database,
					 * >= 0; -1 = never expires */
	char user_ref[SCIM_ID_LEN + 1];	/* bound SCIM User id, "" = none */
	char user_name[SCIM_USERNAME_MAX + 1]; /* its userName, or "" */
	int user_ok;			/* 1: no user, or the user exists and
					 * "active" is not false */
};

/* Scopes a user-bound token may carry: SCOPE_VAULT | SCOPE_JIT of
 * http/request.h (the database checks the same mask). */
#define DB_TOKEN_USER_SCOPES	0x42u

/* Store a new service token. expires_s = 0: never expires. ERR_CONFLICT
 * if the name is taken by a token that is not revoked; ERR_INVALID for
 * a bad id or name, or scopes with SCOPE_VAULT (0x40). */
int db_token_insert(struct db_conn *c, const char *id, const char *name,
    unsigned scopes, const unsigned char hash[TOKEN_HASH_LEN],
    unsigned long long expires_s) WUR;

/*
 * The same for a token bound to user_ref (a SCIM User id). ERR_INVALID
 * when scopes has a bit outside DB_TOKEN_USER_SCOPES or user_ref is not
 * a uuid, ERR_NOT_FOUND when the user does not exist (any more).
 */
int db_token_insert_user(struct db_conn *c, const char *id,
    const char *name, unsigned scopes,
    const unsigned char hash[TOKEN_HASH_LEN], unsigned long long expires_s,
    const char *user_ref) WUR;

/*
 * Find a SCIM User by userName, case-insensitively (as userName is
 * unique). user_ref gets its id, *active 0 when its "active" is false.
 * ERR_NOT_FOUND, ERR_INVALID (empty or too long name).
 */
int db_token_user_find(struct db_conn *c, const char *user_name,
    char user_ref[SCIM_ID_LEN + 1], int *active) WUR;

/*
 * Token by id regardless of state; ERR_NOT_FOUND. For a user-bound
 * token the same query reads the user: user_name and user_ok (one round
 * trip, so the auth check sees a deactivation at once).
 */
int db_token_get(struct db_conn *c, const char *id, struct db_token *out)
    WUR;

/* Every token, newest first; *out malloc'd array the caller frees. */
int db_token_list(struct db_conn *c, struct db_token **out, size_t *n) WUR;

/* Revoke by id or by name; ERR_NOT_FOUND when nothing was revoked. */
int db_token_revoke(struct db_conn *c, const char *id_or_name) WUR;

#endif
