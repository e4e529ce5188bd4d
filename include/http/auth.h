#ifndef VB_HTTP_AUTH_H
#define VB_HTTP_AUTH_H

#include <stddef.h>

#include "db/token_store.h"
#include "http/request.h"
#include "util/bounds.h"
#include "util/errors.h"

/*
 * Bearer token authentication of API requests (RFC 6750). A request
 * carries "Authorization: Bearer <token>"; the token's id selects the
 * row in the token table, the hash of its secret part is compared in
 * constant time, and the row must be neither revoked nor expired.
 */

struct app;
struct auth_cache;


/*
 * Split an Authorization header value. The scheme "Bearer" is matched
 * case-insensitively and must be followed by exactly one space and a
 * non-empty b64token (RFC 6750 §2.1: ALPHA DIGIT - . _ ~ + / then
 * optional trailing '=') of at most TOKEN_TEXT_MAX bytes.
 * Returns 0 with *tok / *len set to the token inside hdr;
 * ERR_NOT_FOUND when no bearer credentials were presented (hdr NULL,
 * empty, or another scheme such as "Basic"); ERR_AUTH when the Bearer
 * scheme was used but the rest is malformed ("Bearer", "Bearer  x",
 * "Bearer x y", ...).
 */
int http_auth_parse(const char *hdr, const char **tok, size_t *len) WUR;

/*
 * Authenticate a request and check that its token has every scope bit
 * of need_scope. On 0, *who names the token (and, for a user-bound
 * token, the user: who->user_ref, who->user_name). Returns ERR_AUTH
 * (401: missing, malformed, unknown, wrong secret, revoked or expired,
 * or bound to a user that is deactivated; a deleted user's tokens are
 * gone), ERR_FORBIDDEN (403: valid token without the scope, or a
 * service token where SCOPE_VAULT is needed; *who is filled so the
 * request log can name it), ERR_DB_UNAVAILABLE (503), or another
 * negative ERR_* for an internal failure (500). On ERR_AUTH *who is
 * zeroed. Thread-safe.
 *
 * With app->auth_cache set (auth.cache_ttl_ms > 0, the default), a
 * service token found active in the database is remembered for at most
 * the cache TTL and never past its own "expires" (the time left is
 * computed by PostgreSQL, whose clock is the one every daemon agrees
 * on). A revocation, or any other change of the token's row, takes
 * effect on every daemon sharing the database as soon as its
 * notification arrives (http/auth_watch.h; sql/0007_auth_notify.sql
 * sends it from a trigger, so a revocation by plain SQL counts too),
 * not when the TTL ends. The cache is used only while this daemon's
 * watcher is connected, LISTENing and recently proven alive; otherwise
 * every call asks the database (fail closed). Unknown, revoked and
 * expired tokens are never cached. User-bound tokens are never cached:
 * they are checked, with their user, in the database at every request,
 * so deactivating the user takes effect at once. Without a cache every
 * call asks the database.
 */
int http_auth_check(struct app *app, const char *authorization_header,
    unsigned need_scope, struct principal *who) WUR;

/*
 * The client-facing detail of a 403 from http_auth_check for who on a
 * route needing need_scope ("token is not bound to a user" for a
 * service token on a SCOPE_VAULT route). Static storage.
 */
const char *http_auth_forbidden_detail(
    const struct principal *who, unsigned need_scope);

/*
 * Create the token cache for serve. ttl_ms 0 means no cache: *out is
 * NULL and 0 is returned. Otherwise *out (caller frees with
 * http_auth_cache_free) holds up to HTTP_AUTH_CACHE_MAX tokens, each
 * for at most ttl_ms milliseconds of CLOCK_MONOTONIC. The new cache is
 * off (see http_auth_cache_enable). 0 or ERR_ALLOC.
 */
int http_auth_cache_new(unsigned ttl_ms, struct auth_cache **out) WUR;

/* Wipe and free; NULL is fine. No request or watcher may be using it. */
void http_auth_cache_free(struct auth_cache *c);

/*
 * Switching the cache on and off: what the watcher (http/auth_watch.h)
 * does, exported for it and for the tests. All are thread-safe and
 * no-ops on a NULL cache.
 *
 * The cache is "live" between enable and disable, and only until the
 * lease given by the last enable or renew runs out; a cache that is not
 * live answers every get with ERR_NOT_FOUND and stores nothing on put.
 * Every enable, disable and drop also bumps the generation, which makes
 * put refuse what a request read from the database before the change
 * (see http_auth_cache_ticket).
 *
 * enable: forget every entry, then go live for lease_ms. Call only once
 * notifications of changes are sure to arrive (LISTEN confirmed), since
 * what happened before is not known.
 * renew: stay live for lease_ms from now, if live (no flush).
 * disable: forget every entry and stop being live.
 * drop: forget token id; id NULL, "" or longer than any token id:
 * forget every entry.
 */
void http_auth_cache_enable(struct auth_cache *c, unsigned lease_ms);
void http_auth_cache_renew(struct auth_cache *c, unsigned lease_ms);
void http_auth_cache_disable(struct auth_cache *c);
void http_auth_cache_drop(struct auth_cache *c, const char *id);

/*
 * What a request notes before it reads a token from the database: the
 * generation and the time (CLOCK_MONOTONIC ms). Opaque to callers.
 */
struct auth_cache_ticket {
	unsigned long long gen;
	unsigned long long t0_ms;
};

/* Fill *t (zeroed for a NULL cache). Take it before the database read
 * whose result is to be put. */
void http_auth_cache_ticket(struct auth_cache *c, struct auth_cache_ticket *t);

/*
 * The cache primitives http_auth_check uses (exported for the tests).
 * get: 0 when id is cached, unexpired and hash equals the cached hash
 * (then *who is filled); ERR_AUTH when id is cached but the hash
 * differs; ERR_NOT_FOUND when not cached, expired, or the cache is not
 * live.
 * put: remember an active token (id, hash of its secret, scopes, name)
 * read from the database after ticket t was taken; expires_in_ms is the
 * time the database said the token had left then (-1: no expiry). The
 * entry lasts until t's time + min(ttl, expires_in_ms). Nothing is
 * stored when the cache is not live, the generation moved since t was
 * taken (a change was notified, or the watcher reconnected, meanwhile),
 * the lifetime is already over, or id is too long.
 * Both are no-ops on a NULL cache (get returns ERR_NOT_FOUND).
 */
int http_auth_cache_get(struct auth_cache *c, const char *id,
    const unsigned char hash[TOKEN_HASH_LEN], struct principal *who) WUR;
void http_auth_cache_put(struct auth_cache *c,
    const struct auth_cache_ticket *t, const char *id,
    const unsigned char hash[TOKEN_HASH_LEN], unsigned scopes,
    const char *name, long long expires_in_ms);

#endif
