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
 * With app->auth_cache set, a service token found active in the
 * database is remembered for the cache TTL, so a revocation or an
 * expiry takes effect after at most that TTL; unknown, revoked and
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
 * for ttl_ms milliseconds of CLOCK_MONOTONIC. 0 or ERR_ALLOC.
 */
int http_auth_cache_new(unsigned ttl_ms, struct auth_cache **out) WUR;

/* Wipe and free; NULL is fine. No request may be using it. */
void http_auth_cache_free(struct auth_cache *c);

/*
 * The cache primitives http_auth_check uses (exported for the tests).
 * get: 0 when id is cached, unexpired and hash equals the cached hash
 * (then *who is filled); ERR_AUTH when id is cached but the hash
 * differs; ERR_NOT_FOUND when not cached (or expired).
 * put: remember an active token (id, hash of its secret, scopes, name).
 * Both are no-ops on a NULL cache (get returns ERR_NOT_FOUND).
 */
int http_auth_cache_get(struct auth_cache *c, const char *id,
    const unsigned char hash[TOKEN_HASH_LEN], struct principal *who) WUR;
void http_auth_cache_put(struct auth_cache *c, const char *id,
    const unsigned char hash[TOKEN_HASH_LEN], unsigned scopes,
    const char *name);

#endif
