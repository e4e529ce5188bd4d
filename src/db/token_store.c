#include "db/token_store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_int.h"
#include "util/bounds.h"
#include "util/log.h"
#include "util/strutil.h"

/* Longest lifetime a token may be given: 100 years. */

#define TS_FMT	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

/*
 * Columns of a token row (alias t) and of its user (alias u, LEFT JOIN
 * on t.user_id): a deactivated user ("active": false) makes user_ok
 * false; a deleted user has no token left (ON DELETE CASCADE). The last
 * column is the time left until expires in whole milliseconds, rounded
 * down and never negative, by the database's clock (NULL: no expiry):
 * the auth cache keeps a token no longer than that.
 */
#define TOKEN_COLS \
	"t.id, t.name, t.scopes, encode(t.hash, 'hex'), " \
	"to_char(t.created AT TIME ZONE 'UTC', " TS_FMT "), " \
	"coalesce(to_char(t.expires AT TIME ZONE 'UTC', " TS_FMT "), ''), " \
	"t.revoked IS NOT NULL, coalesce(t.expires <= now(), false), " \
	"coalesce(t.user_id::text, ''), coalesce(u.doc->>'userName', ''), " \
	"(t.user_id IS NULL OR (u.id IS NOT NULL AND " \
	"coalesce(u.doc->'active' <> 'false'::jsonb, true))), " \
	"CASE WHEN t.expires IS NOT NULL THEN greatest(0, floor(" \
	"(extract(epoch FROM t.expires) - extract(epoch FROM now())) " \
	"* 1000))::bigint END"
#define TOKEN_FROM \
	" FROM api_token t LEFT JOIN scim_user u ON u.id = t.user_id "

static int
token_insert(struct db_conn *c, const char *id, const char *name,
    unsigned scopes, const unsigned char hash[TOKEN_HASH_LEN],
    unsigned long long expires_s, const char *user_ref)
{
	const char *vals[6];
	int lens[6], fmts[6];
	char sc[16], ex[24];
	PGresult *res = NULL;
	size_t nlen;
	int r;

	nlen = name != NULL ? strlen(name) : 0;
	if (id == NULL || *id == '\0' || strlen(id) >= sizeof(
	    ((struct db_token *)NULL)->id) || nlen == 0 ||
	    nlen > TOKEN_NAME_MAX || !utf8_valid(name, nlen) ||
	    expires_s > TOKEN_EXPIRES_MAX)
		return ERR_INVALID;
	snprintf(sc, sizeof(sc), "%u", scopes);
	snprintf(ex, sizeof(ex), "%llu", expires_s);
	memset(lens, 0, sizeof(lens));
	memset(fmts, 0, sizeof(fmts));
	vals[0] = id;
	vals[1] = name;
	vals[2] = sc;
	vals[3] = (const char *)hash;
	lens[3] = TOKEN_HASH_LEN;
	fmts[3] = 1;	/* binary bytea */
	vals[4] = ex;
	vals[5] = user_ref;
	r = db_exec_full(c, "INSERT INTO api_token "
	    "(id, name, scopes, hash, created, expires, user_id) "
	    "VALUES ($1, $2, $3::integer, $4::bytea, now(), "
	    "CASE WHEN $5::bigint > 0 "
	    "THEN now() + make_interval(secs => $5::bigint) END, $6::uuid)",
	    6, vals, lens, fmts, &res);
	PQclear(res);
	if (r == ERR_INTERNAL && user_ref != NULL &&
	    strcmp(c->sqlstate, "23503") == 0)
		r = ERR_NOT_FOUND;	/* the user was deleted meanwhile */
	else if (r == ERR_INTERNAL && db_sqlstate_class(c, "23"))
		r = ERR_INVALID;	/* a check constraint: bad id, scopes */
	return r;
}

int
db_token_insert(struct db_conn *c, const char *id, const char *name,
    unsigned scopes, const unsigned char hash[TOKEN_HASH_LEN],
    unsigned long long expires_s)
{
	return token_insert(c, id, name, scopes, hash, expires_s, NULL);
}

int
db_token_insert_user(struct db_conn *c, const char *id, const char *name,
    unsigned scopes, const unsigned char hash[TOKEN_HASH_LEN],
    unsigned long long expires_s, const char *user_ref)
{
	if (scopes == 0 || (scopes & ~DB_TOKEN_USER_SCOPES) != 0 ||
	    !db_id_ok(user_ref))
		return ERR_INVALID;
	return token_insert(c, id, name, scopes, hash, expires_s, user_ref);
}

int
db_token_user_find(struct db_conn *c, const char *user_name,
    char user_ref[SCIM_ID_LEN + 1], int *active)
{
	PGresult *res = NULL;
	const char *vals[1];
	size_t n;
	int r;

	user_ref[0] = '\0';
	*active = 0;
	n = user_name != NULL ? strnlen(user_name, SCIM_USERNAME_MAX + 1) : 0;
	if (n == 0 || n > SCIM_USERNAME_MAX || !utf8_valid(user_name, n))
		return ERR_INVALID;
	vals[0] = user_name;
	/* the expression of the unique index scim_user_username_key */
	if ((r = db_exec(c, "SELECT id::text, "
	    "coalesce(doc->'active' <> 'false'::jsonb, true) "
	    "FROM scim_user WHERE lower(doc->>'userName') = lower($1)",
	    1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (strlen(PQgetvalue(res, 0, 0)) != SCIM_ID_LEN) {
		r = ERR_INTERNAL;
		goto out;
	}
	memcpy(user_ref, PQgetvalue(res, 0, 0), SCIM_ID_LEN + 1);
	*active = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
out:
	PQclear(res);
	return r;
}

static int
hex_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int
read_token(PGresult *res, int i, struct db_token *t)
{
	const char *h;
	uint64_t sc, left;
	size_t k;
	int hi, lo;

	memset(t, 0, sizeof(*t));
	if (strlen(PQgetvalue(res, i, 0)) >= sizeof(t->id) ||
	    strlen(PQgetvalue(res, i, 1)) >= sizeof(t->name) ||
	    parse_u64(PQgetvalue(res, i, 2), 0, 0x7fffffff, &sc) != 0)
		return ERR_INTERNAL;
	snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(res, i, 0));
	snprintf(t->name, sizeof(t->name), "%s", PQgetvalue(res, i, 1));
	t->scopes = (unsigned)sc;
	h = PQgetvalue(res, i, 3);
	if (strlen(h) != TOKEN_HASH_LEN * 2)
		return ERR_INTERNAL;
	for (k = 0; k < TOKEN_HASH_LEN; k++) {
		if ((hi = hex_val(h[2 * k])) < 0 ||
		    (lo = hex_val(h[2 * k + 1])) < 0)
			return ERR_INTERNAL;
		t->hash[k] = (unsigned char)(hi << 4 | lo);
	}
	snprintf(t->created, sizeof(t->created), "%s", PQgetvalue(res, i, 4));
	snprintf(t->expires, sizeof(t->expires), "%s", PQgetvalue(res, i, 5));
	t->revoked = strcmp(PQgetvalue(res, i, 6), "t") == 0;
	t->expired = strcmp(PQgetvalue(res, i, 7), "t") == 0;
	if (strlen(PQgetvalue(res, i, 8)) >= sizeof(t->user_ref) ||
	    strlen(PQgetvalue(res, i, 9)) >= sizeof(t->user_name))
		return ERR_INTERNAL;
	snprintf(t->user_ref, sizeof(t->user_ref), "%s",
	    PQgetvalue(res, i, 8));
	snprintf(t->user_name, sizeof(t->user_name), "%s",
	    PQgetvalue(res, i, 9));
	t->user_ok = strcmp(PQgetvalue(res, i, 10), "t") == 0;
	t->expires_in_ms = -1;
	if (!PQgetisnull(res, i, 11)) {
		/* a row written by hand may lie beyond TOKEN_EXPIRES_MAX */
		if (parse_u64(PQgetvalue(res, i, 11), 0, INT64_MAX,
		    &left) != 0)
			return ERR_INTERNAL;
		t->expires_in_ms = (long long)left;
	}
	return 0;
}

int
db_token_get(struct db_conn *c, const char *id, struct db_token *out)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	memset(out, 0, sizeof(*out));
	if (id == NULL || *id == '\0' || strlen(id) >= sizeof(out->id))
		return ERR_NOT_FOUND;
	vals[0] = id;
	if ((r = db_exec(c, "SELECT " TOKEN_COLS TOKEN_FROM
	    "WHERE t.id = $1", 1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = read_token(res, 0, out);
out:
	PQclear(res);
	return r;
}

int
db_token_list(struct db_conn *c, struct db_token **out, size_t *n)
{
	PGresult *res = NULL;
	struct db_token *t = NULL;
	int i, r, nt;

	*out = NULL;
	*n = 0;
	if ((r = db_exec(c, "SELECT " TOKEN_COLS TOKEN_FROM
	    "ORDER BY t.created DESC, t.id", 0, NULL, &res)) != 0)
		goto out;
	nt = PQntuples(res);
	if (nt > 0 && (t = calloc((size_t)nt, sizeof(*t))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if ((r = read_token(res, i, &t[i])) != 0)
			goto out;
	}
	*out = t;
	*n = (size_t)nt;
	t = NULL;
	r = 0;
out:
	free(t);
	PQclear(res);
	return r;
}

int
db_token_revoke(struct db_conn *c, const char *id_or_name)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	if (id_or_name == NULL || *id_or_name == '\0')
		return ERR_NOT_FOUND;
	vals[0] = id_or_name;
	/* an id wins over a name that happens to look the same */
	if ((r = db_exec(c, "UPDATE api_token SET revoked = now() "
	    "WHERE revoked IS NULL AND (id = $1 OR (name = $1 AND "
	    "NOT EXISTS (SELECT 1 FROM api_token WHERE id = $1)))",
	    1, vals, &res)) != 0)
		goto out;
	if (db_cmd_rows(res) == 0)
		r = ERR_NOT_FOUND;
out:
	PQclear(res);
	return r;
}
