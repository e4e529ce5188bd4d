#ifndef VB_HTTP_SERVER_H
#define VB_HTTP_SERVER_H

#include "util/errors.h"
#include "http/request.h"

/*
 * The HTTP listener (libmicrohttpd stays inside src/http/). One thread
 * per connection, bounded by http.max_conns; request bodies over
 * http.body_max are answered 413 without reading them whole. Every
 * request is logged once: method, route, status, latency, token name,
 * request id.
 */

struct app;
struct http_server;

/* A routing table row. Patterns are literal segments and "{id}"
 * (one path segment captured into request.params in order). The first
 * row that matches method and path wins; a path that matches with
 * another method gets 405. scope SCOPE_NONE needs no token. scim = 1:
 * errors (401/403/404/405/413/503) are written as SCIM error JSON. */
struct http_route {
	enum http_method method;
	const char *pattern;
	http_handler_fn handler;
	unsigned scope;
	int scim;
};

/* Bind and start serving app (its cfg, pool, routes). fatal() is not
 * called: errors come back as ERR_IO / ERR_CONFIG with a log line. */
int http_server_start(struct app *app, struct http_server **out) WUR;

/* Stop accepting new connections (SIGTERM), keep serving open ones. */
void http_server_quiesce(struct http_server *s);

/* Wait until no request is in flight or timeout_s passed, then stop and
 * free. NULL is fine. */
void http_server_stop(struct http_server *s, unsigned timeout_s);

#endif
