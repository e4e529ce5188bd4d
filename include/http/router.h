#ifndef VB_HTTP_ROUTER_H
#define VB_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"
#include "http/server.h"
#include "util/errors.h"

/*
 * Request-line helpers of the HTTP layer: path decoding and checking,
 * method names and the routing table lookup. All are pure functions
 * (no I/O, no allocation, no global state), implemented in
 * src/http/request.c, so the unit tests reach them without a socket.
 */

/* http_route_find: the path exists, but not for this method (405). */
#define HTTP_ROUTE_BAD_METHOD (-100)

/* Method token as sent ("GET", case-sensitive per RFC 9110) to the enum;
 * anything unknown, or NULL, is HTTP_OTHER. */
enum http_method http_method_parse(const char *s);

/* Upper-case name of m; "OTHER" for HTTP_OTHER. Static storage. */
const char *http_method_name(enum http_method m);

/*
 * Decode %HH escapes of s in place (s stays NUL-terminated, never
 * grows); returns the new length. Malformed escapes are left as they
 * are. An escaped NUL ("%00") becomes the byte 0xff instead, which is
 * never valid UTF-8, so the UTF-8 check that follows rejects it rather
 * than the string being silently cut at the NUL.
 */
size_t http_path_unescape(char *s);

/*
 * Check a decoded request path: it starts with '/', is shorter than
 * HTTP_PATH_MAX, is valid UTF-8, holds no control characters and no
 * "." or ".." segment. 0, ERR_TOO_LARGE (too long) or ERR_INVALID.
 */
int http_path_check(const char *path) WUR;

/*
 * Find the route for method m and path (a decoded path as checked by
 * http_path_check). Patterns are literal segments and "{name}"
 * segments, each capturing one non-empty path segment. One trailing
 * '/' on the path is ignored. Rows are tried in table order and the
 * first one matching both method and path wins, so a literal row such
 * as ".search" must come before the "{id}" row it would otherwise hit.
 * A pattern with more captures than nparams never matches.
 *
 * On 0, *out is the row and params[0..nparams) hold the captures in
 * order (unused slots NULL). A capture points INTO path, at the start
 * of its segment, and runs to the next '/' or to the end of path (see
 * http_route_param_len); nothing is copied or allocated, so path (the
 * caller's buffer) must outlive every use of params. A caller wanting
 * NUL-terminated captures passes a private copy of the path and writes
 * '\0' at params[i] + http_route_param_len(params[i]).
 *
 * Returns 0, ERR_NOT_FOUND (no row has this path: 404) or
 * HTTP_ROUTE_BAD_METHOD (a row has this path with another method: 405;
 * http_route_allow gives the Allow header). On failure *out is NULL and
 * params are NULL.
 */
int http_route_find(const struct http_route *routes, unsigned n,
    enum http_method m, const char *path, const char **params, size_t nparams,
    const struct http_route **out) WUR;

/* Length of a capture returned by http_route_find: bytes up to the next
 * '/' or NUL. */
size_t http_route_param_len(const char *param);

/*
 * Allow header value for path: the distinct methods of every row whose
 * pattern matches path, in table order, as "GET, PUT, DELETE", into out
 * (size outsz, always NUL-terminated; a method that does not fit is
 * left out). Returns how many methods were written.
 */
size_t http_route_allow(const struct http_route *routes, unsigned n,
    const char *path, char *out, size_t outsz);

#endif
