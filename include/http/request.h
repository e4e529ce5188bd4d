#ifndef VB_HTTP_REQUEST_H
#define VB_HTTP_REQUEST_H

#include <stddef.h>

#include "util/bounds.h"
#include "util/buf.h"

/*
 * What a handler sees of an HTTP request and how it answers. Filled by
 * src/http/server.c; handlers never see libmicrohttpd. Everything a
 * request points to is owned by the server and valid only during the
 * handler call.
 */

struct app;

enum http_method {
	HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_HEAD,
	HTTP_OTHER
};

/* token scopes, a bit mask */
#define SCOPE_SCIM		0x01
#define SCOPE_JIT		0x02
#define SCOPE_APPROVE		0x04
#define SCOPE_KILLSWITCH	0x08
#define SCOPE_CI		0x10
#define SCOPE_ADMIN		0x20
#define SCOPE_VAULT		0x40	/* a user's own vault access */
#define SCOPE_ALL		0x7f
#define SCOPE_NONE		0x00	/* route needs no token */

struct http_kv {
	const char *name;
	const char *value;
};

struct principal {
	char token_id[40];		/* public part of the token */
	char token_name[TOKEN_NAME_MAX + 1];
	unsigned scopes;
	char user_ref[SCIM_ID_LEN + 1];	/* SCIM User id the token acts as,
					 * "" for a service token */
	char user_name[SCIM_USERNAME_MAX + 1]; /* its userName, or "" */
};

struct request {
	struct app *app;		/* daemon context */
	enum http_method method;
	const char *method_text;
	const char *path;		/* URL-decoded path, no query */
	const char *route;		/* route pattern matched, for logs */
	const char *params[HTTP_ROUTE_PARAMS_MAX]; /* {id} captures */
	struct http_kv query[HTTP_QUERY_PARAMS_MAX];
	size_t nquery;
	const char *if_match;		/* header or NULL */
	const char *if_none_match;	/* header or NULL */
	const char *content_type;	/* header or NULL */
	const char *body;		/* NUL-terminated, may be "" */
	size_t body_len;
	const char *base_url;		/* scheme://host[:port] as configured */
	char request_id[REQUEST_ID_LEN + 1];
	struct principal who;		/* set when the route needs a token */
};

/* Value of query parameter name (exact match) or NULL. */
const char *request_query(const struct request *r, const char *name);

struct response {
	int status;
	struct buf body;		/* owned by the response */
	const char *content_type;	/* static string */
	char location[HTTP_PATH_MAX];	/* "" = no Location header */
	char etag[64];			/* "" = no ETag header */
	unsigned retry_after;		/* seconds; 0 = none */
	int www_authenticate;		/* add WWW-Authenticate: Bearer ... */
	const char *www_auth_error;	/* "invalid_token" etc. or NULL */
	int wipe_body;			/* the body holds a secret: the
					 * server wipes it once sent */
};

#define CT_SCIM "application/scim+json"
#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"

/* Handler signature (STYLE.md). Returns 0 after filling resp; a negative
 * ERR_* makes the server answer 500 (503 for ERR_DB_UNAVAILABLE). */
typedef int (*http_handler_fn)(const struct request *, struct response *);

/*
 * Plain JSON error for non-SCIM routes:
 * {"error": code, "detail": detail}. code and detail must be safe to
 * show. Fills resp (status, body, content type).
 */
void response_json_error(struct response *resp, int status,
    const char *code, const char *detail);

#endif
