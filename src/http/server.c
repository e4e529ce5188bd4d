#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "app/app.h"
#include "config/config.h"
#include "crypto/token.h"
#include "http/auth.h"
#include "http/router.h"
#include "scim/error.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

/*
 * libmicrohttpd in thread-per-connection mode. A request goes through
 * srv_access() several times: once when its headers are in (checks,
 * routing, authentication: anything refused here is answered before a
 * byte of body is read), once per slice of body (accumulated up to
 * http.body_max), and once when the request is complete (the handler
 * runs). srv_completed() logs it and frees the per-request state.
 */

#define SRV_REALM "Bearer realm=\"vaultbridge\""
#define SRV_DRAIN_POLL_NS (10 * 1000 * 1000)

/* TLS 1.2 and 1.3 only (GnuTLS priority string). */
static char srv_tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

struct http_server {
	struct MHD_Daemon *d;
	struct app *app;
	MHD_socket listen_fd; /* after quiesce, closed at stop */
	atomic_int quiescing;
	size_t body_max;
	/* request ids: a random prefix per start, then a counter (one
	 * getrandom() per request was 4% of a GET's CPU) */
	char rid_prefix[REQUEST_ID_LEN / 2 + 1];
	atomic_uint_fast32_t rid_seq;
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} addr;
};

/* Per-request state, *con_cls of libmicrohttpd. */
struct srv_req {
	struct http_server *srv;
	struct request req;
	const struct http_route *route;
	struct buf body;
	size_t discarded; /* body bytes dropped after 413 */
	int scim;         /* errors as SCIM JSON */
	int too_large;
	int bad_query;
	int bad_query_filter;	/* the bad one was "filter" */
	int answered; /* a response is queued */
	int status;
	int in_begin;          /* inside srv_begin */
	int has_early;         /* early holds an answer to send */
	struct response early; /* refusal of a body-less request */
	char early_allow[64];
	struct timespec t0;
	char path[HTTP_PATH_MAX]; /* req.path */
	char segs[HTTP_PATH_MAX]; /* copy cut into req.params */
};

static const char *
srv_code(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 413:
		return "payload_too_large";
	case 503:
		return "unavailable";
	default:
		return "internal_error";
	}
}

/* Does the first segment of path belong to SCIM routes? Used to pick
 * the error format when no route matched (404, 405, bad path). */
static int
srv_scim_guess(const struct app *app, const char *path)
{
	size_t n, pn;
	unsigned k;
	const char *pat;

	if (path == NULL || path[0] != '/')
		return 0;
	n = strcspn(path + 1, "/");
	for (k = 0; k < app->nroutes; k++) {
		pat = app->routes[k].pattern;
		if (!app->routes[k].scim || pat == NULL || pat[0] != '/')
			continue;
		pn = strcspn(pat + 1, "/");
		if (pn == n && memcmp(pat + 1, path + 1, n) == 0)
			return 1;
	}
	return 0;
}

static void
srv_resp_init(struct response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, HTTP_RESPONSE_MAX);
}

/* Turn resp into an error answer, keeping nothing the handler set. */
static void
srv_resp_error(const struct srv_req *q, struct response *resp, int status,
    const char *detail)
{
	buf_reset(&resp->body);
	resp->location[0] = '\0';
	resp->etag[0] = '\0';
	resp->retry_after = status == 503 ? 1 : 0;
	resp->www_authenticate = 0;
	resp->www_auth_error = NULL;
	if (q->scim)
		scim_error_response(resp, status, NULL, detail);
	else
		response_json_error(resp, status, srv_code(status), detail);
}

static int
srv_hdr(struct MHD_Response *mr, const char *name, const char *value)
{
	if (MHD_add_response_header(mr, name, value) != MHD_YES) {
		log_warn("response header rejected name=%s", name);
		return ERR_INVALID;
	}
	return 0;
}

/* Only a bare token may go into WWW-Authenticate's error="...". */
static int
srv_auth_error_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 32)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	}
	return 1;
}

/* A response body that holds a secret: wiped when libmicrohttpd is done
 * with it (it frees plain buffers without wiping). */
struct srv_wipe {
	char *data;
	size_t len;
};

static void
srv_wipe_free(void *cls)
{
	struct srv_wipe *w = cls;

	explicit_bzero(w->data, w->len);
	free(w->data);
	free(w);
}

/* NULL on failure; data stays the caller's then. */
static struct MHD_Response *
srv_secret_response(char *data, size_t len)
{
	struct MHD_Response *mr;
	struct srv_wipe *w;

	if ((w = malloc(sizeof(*w))) == NULL)
		return NULL;
	w->data = data;
	w->len = len;
	mr = MHD_create_response_from_buffer_with_free_callback_cls(len, data,
	    srv_wipe_free, w);
	if (mr == NULL)
		free(w);
	return mr;
}

/*
 * Queue resp (which is consumed) with the common headers. allow is the
 * Allow header of a 405 or NULL.
 */
static enum MHD_Result
srv_send(struct MHD_Connection *conn, struct srv_req *q, struct response *resp,
    const char *allow)
{
	struct MHD_Response *mr = NULL;
	enum MHD_Result ret = MHD_NO;
	char *data = NULL, num[24], wa[96];
	size_t len = 0;
	int status, has_body;

	if (resp->status < 100 || resp->status > 599) {
		log_error("bad response status rid=%s status=%d",
		    q->req.request_id, resp->status);
		srv_resp_error(q, resp, 500, "internal server error");
	}
	if (buf_failed(&resp->body)) {
		log_error("response body over limit rid=%s", q->req.request_id);
		srv_resp_error(q, resp, 500, "internal server error");
	}
	status = resp->status;
	if (status == 204 || status == 304 || status < 200)
		buf_reset(&resp->body);
	has_body = resp->body.len > 0;
	if (has_body) {
		if ((data = buf_steal(&resp->body, &len)) == NULL)
			goto out;
		if (resp->wipe_body)
			mr = srv_secret_response(data, len);
		else
			mr = MHD_create_response_from_buffer(
			    len, data, MHD_RESPMEM_MUST_FREE);
		if (mr == NULL) {
			explicit_bzero(data, len);
			free(data);
			goto out;
		}
	} else if ((mr = MHD_create_response_from_buffer(
			0, NULL, MHD_RESPMEM_PERSISTENT)) == NULL)
		goto out;
	if (has_body)
		(void)srv_hdr(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
		    resp->content_type != NULL ? resp->content_type : CT_JSON);
	if (resp->location[0] != '\0')
		(void)srv_hdr(mr, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->etag[0] != '\0')
		(void)srv_hdr(mr, MHD_HTTP_HEADER_ETAG, resp->etag);
	if (resp->retry_after > 0) {
		snprintf(num, sizeof(num), "%u", resp->retry_after);
		(void)srv_hdr(mr, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (resp->www_authenticate) {
		if (srv_auth_error_ok(resp->www_auth_error))
			snprintf(wa, sizeof(wa), "%s, error=\"%s\"", SRV_REALM,
			    resp->www_auth_error);
		else
			snprintf(wa, sizeof(wa), "%s", SRV_REALM);
		(void)srv_hdr(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE, wa);
	}
	if (allow != NULL)
		(void)srv_hdr(mr, MHD_HTTP_HEADER_ALLOW, allow);
	(void)srv_hdr(mr, "X-Request-Id", q->req.request_id);
	(void)srv_hdr(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	(void)srv_hdr(mr, "X-Content-Type-Options", "nosniff");
	/* while draining, tell keep-alive clients to go elsewhere */
	if (atomic_load(&q->srv->quiescing))
		(void)srv_hdr(mr, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, (unsigned)status, mr);
	if (ret == MHD_YES) {
		q->answered = 1;
		q->status = status;
	}
out:
	if (mr != NULL)
		MHD_destroy_response(mr);
	buf_free(&resp->body);
	return ret;
}

/* Does the request announce a body? */
static int
srv_has_body(struct MHD_Connection *conn)
{
	const char *cl;

	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
		return 1;
	cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl != NULL && strcmp(cl, "0") != 0;
}

/*
 * Send a refusal decided while the headers were examined. A response
 * queued before the body is read makes the library close the
 * connection; that is right when a body is coming (it is never read),
 * but a body-less request keeps its keep-alive connection if the answer
 * waits for the final call, which follows at once.
 */
static enum MHD_Result
srv_early(struct MHD_Connection *conn, struct srv_req *q, struct response *resp,
    const char *allow)
{
	if (!q->in_begin || srv_has_body(conn))
		return srv_send(conn, q, resp, allow);
	q->early = *resp;
	memset(resp, 0, sizeof(*resp));
	snprintf(q->early_allow, sizeof(q->early_allow), "%s",
	    allow != NULL ? allow : "");
	q->has_early = 1;
	return MHD_YES;
}

/* Answer with an error before the handler ran. */
static enum MHD_Result
srv_fail(struct MHD_Connection *conn, struct srv_req *q, int status,
    const char *detail)
{
	struct response resp;

	srv_resp_init(&resp);
	srv_resp_error(q, &resp, status, detail);
	return srv_early(conn, q, &resp, NULL);
}

/* A query string refused before routing. On SCIM routes the error names
 * the scimType a SCIM client expects: a filter that is too long or not
 * UTF-8 is an invalidFilter, any other parameter an invalidValue. */
static enum MHD_Result
srv_fail_query(struct MHD_Connection *conn, struct srv_req *q)
{
	struct response resp;
	const char *detail = q->bad_query_filter ?
	    "filter is too long or not valid UTF-8" :
	    "invalid query string: too many parameters, a value too long, "
	    "or not valid UTF-8";

	srv_resp_init(&resp);
	srv_resp_error(q, &resp, 400, detail);
	if (q->scim)
		scim_error_response(&resp, 400, q->bad_query_filter ?
		    SCIM_ET_INVALID_FILTER : SCIM_ET_INVALID_VALUE, detail);
	return srv_early(conn, q, &resp, NULL);
}

static enum MHD_Result
srv_fail_405(struct MHD_Connection *conn, struct srv_req *q)
{
	struct response resp;
	const struct app *app = q->srv->app;
	char allow[64];

	(void)http_route_allow(
	    app->routes, app->nroutes, q->path, allow, sizeof(allow));
	srv_resp_init(&resp);
	srv_resp_error(q, &resp, 405, "method not allowed");
	return srv_early(conn, q, &resp, allow);
}

static enum MHD_Result
srv_fail_auth(
    struct MHD_Connection *conn, struct srv_req *q, int err, const char *authz)
{
	struct response resp;
	const char *tok;
	size_t len;

	srv_resp_init(&resp);
	switch (err) {
	case ERR_AUTH:
		srv_resp_error(
		    q, &resp, 401, "missing or invalid bearer token");
		resp.www_authenticate = 1;
		if (http_auth_parse(authz, &tok, &len) != ERR_NOT_FOUND)
			resp.www_auth_error = "invalid_token";
		break;
	case ERR_FORBIDDEN:
		srv_resp_error(q, &resp, 403,
		    http_auth_forbidden_detail(&q->req.who, q->route->scope));
		resp.www_authenticate = 1;
		resp.www_auth_error = "insufficient_scope";
		break;
	case ERR_DB_UNAVAILABLE:
		log_warn(
		    "database unavailable rid=%s step=auth", q->req.request_id);
		srv_resp_error(q, &resp, 503, "database unavailable");
		break;
	default:
		log_error("authentication failed rid=%s err=\"%s\"",
		    q->req.request_id, err_str(err));
		srv_resp_error(q, &resp, 500, "internal server error");
		break;
	}
	return srv_early(conn, q, &resp, NULL);
}

static enum MHD_Result
srv_query_arg(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct srv_req *q = cls;
	size_t kl, vl;

	(void)kind;
	if (key == NULL)
		key = "";
	if (value == NULL)
		value = "";
	kl = strnlen(key, HTTP_QUERY_VALUE_MAX + 1);
	vl = strnlen(value, HTTP_QUERY_VALUE_MAX + 1);
	if (q->req.nquery >= HTTP_QUERY_PARAMS_MAX ||
	    kl > HTTP_QUERY_VALUE_MAX || vl > HTTP_QUERY_VALUE_MAX ||
	    !utf8_valid(key, kl) || !utf8_valid(value, vl)) {
		q->bad_query = 1;
		q->bad_query_filter = kl == 6 && memcmp(key, "filter", 6) == 0;
		return MHD_NO;
	}
	q->req.query[q->req.nquery].name = key;
	q->req.query[q->req.nquery].value = value;
	q->req.nquery++;
	return MHD_YES;
}

/* A request header capped at HTTP_HEADER_VALUE_MAX: 0 (*out may be
 * NULL when absent) or ERR_TOO_LARGE. */
static int
srv_header(struct MHD_Connection *conn, const char *name, const char **out)
{
	const char *v;

	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	*out = v;
	if (v != NULL &&
	    strnlen(v, HTTP_HEADER_VALUE_MAX + 1) > HTTP_HEADER_VALUE_MAX)
		return ERR_TOO_LARGE;
	return 0;
}

/* First call, headers complete: everything but the body. */
static enum MHD_Result
srv_check(struct MHD_Connection *conn, struct srv_req *q, const char *url,
    const char *method)
{
	struct app *app = q->srv->app;
	const char *params[HTTP_ROUTE_PARAMS_MAX], *authz, *cl;
	size_t len, plen[HTTP_ROUTE_PARAMS_MAX], i;
	uint64_t clen;
	int r;

	q->req.app = app;
	q->req.method = http_method_parse(method);
	q->req.method_text = method;
	q->req.base_url = app->base_url;
	q->req.body = "";
	q->req.path = q->path;
	if ((r = http_path_check(url)) != 0) {
		q->scim = srv_scim_guess(app, url);
		return srv_fail(conn, q, 400,
		    r == ERR_TOO_LARGE ? "request path too long"
				       : "invalid request path");
	}
	len = strlen(url);
	memcpy(q->path, url, len + 1);
	memcpy(q->segs, url, len + 1);

	r = http_route_find(app->routes, app->nroutes, q->req.method, q->segs,
	    params, HTTP_ROUTE_PARAMS_MAX, &q->route);
	if (r != 0) {
		q->scim = srv_scim_guess(app, q->path);
		if (r == HTTP_ROUTE_BAD_METHOD)
			return srv_fail_405(conn, q);
		return srv_fail(conn, q, 404, "no such endpoint");
	}
	q->scim = q->route->scim;
	q->req.route = q->route->pattern;
	/* lengths first: cutting one capture must not shorten the next */
	for (i = 0; i < HTTP_ROUTE_PARAMS_MAX; i++)
		plen[i] = http_route_param_len(params[i]);
	for (i = 0; i < HTTP_ROUTE_PARAMS_MAX && params[i] != NULL; i++) {
		q->segs[(size_t)(params[i] - q->segs) + plen[i]] = '\0';
		q->req.params[i] = params[i];
	}

	if (q->route->scope != SCOPE_NONE) {
		authz = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		r = http_auth_check(app, authz, q->route->scope, &q->req.who);
		if (r != 0)
			return srv_fail_auth(conn, q, r, authz);
	}

	cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && parse_u64(cl, 0, UINT64_MAX, &clen) == 0 &&
	    clen > q->srv->body_max) {
		q->too_large = 1;
		return srv_fail(conn, q, 413, "request body too large");
	}

	if (srv_header(conn, MHD_HTTP_HEADER_IF_MATCH, &q->req.if_match) != 0 ||
	    srv_header(conn, MHD_HTTP_HEADER_IF_NONE_MATCH,
		&q->req.if_none_match) != 0 ||
	    srv_header(
		conn, MHD_HTTP_HEADER_CONTENT_TYPE, &q->req.content_type) != 0)
		return srv_fail(conn, q, 400, "request header too long");

	(void)MHD_get_connection_values(
	    conn, MHD_GET_ARGUMENT_KIND, srv_query_arg, q);
	if (q->bad_query)
		return srv_fail_query(conn, q);
	return MHD_YES;
}

static enum MHD_Result
srv_begin(struct MHD_Connection *conn, struct srv_req *q, const char *url,
    const char *method)
{
	enum MHD_Result ret;

	q->in_begin = 1;
	ret = srv_check(conn, q, url, method);
	q->in_begin = 0;
	return ret;
}

/*
 * A slice of body. Past body_max the rest is read and dropped, since the
 * library cannot answer in the middle of an upload; the 413 goes out
 * when the body ends. Dropping costs no memory, but a client sending
 * more than HTTP_BODY_MAX_LIMIT past the limit is disconnected.
 */
static enum MHD_Result
srv_upload(struct srv_req *q, const char *data, size_t n)
{
	size_t max = q->srv->body_max;

	if (!q->too_large && n > max - q->body.len) {
		q->too_large = 1;
		q->discarded = q->body.len;
		buf_free_wipe(&q->body);
		buf_init(&q->body, 0);
	}
	if (!q->too_large) {
		buf_append(&q->body, data, n);
		return MHD_YES;
	}
	q->discarded += n;
	if (q->discarded - max > HTTP_BODY_MAX_LIMIT) {
		q->status = 413;
		log_warn("request body far over limit, closing rid=%s",
		    q->req.request_id);
		return MHD_NO;
	}
	return MHD_YES;
}

/* Last call: the request is complete; run the handler. */
static enum MHD_Result
srv_dispatch(struct MHD_Connection *conn, struct srv_req *q)
{
	struct response resp;
	int r;

	if (q->has_early) {
		q->has_early = 0;
		return srv_send(conn, q, &q->early,
		    q->early_allow[0] != '\0' ? q->early_allow : NULL);
	}
	if (q->too_large)
		return srv_fail(conn, q, 413, "request body too large");
	if (buf_failed(&q->body)) {
		log_error(
		    "request body allocation failed rid=%s", q->req.request_id);
		return srv_fail(conn, q, 500, "internal server error");
	}
	q->req.body = buf_str(&q->body);
	q->req.body_len = q->body.len;
	srv_resp_init(&resp);
	r = q->route->handler(&q->req, &resp);
	if (r == ERR_DB_UNAVAILABLE) {
		log_warn("database unavailable rid=%s route=%s",
		    q->req.request_id, q->req.route);
		srv_resp_error(q, &resp, 503, "database unavailable");
	} else if (r < 0) {
		log_error("handler failed rid=%s route=%s err=\"%s\"",
		    q->req.request_id, q->req.route, err_str(r));
		srv_resp_error(q, &resp, 500, "internal server error");
	}
	return srv_send(conn, q, &resp, NULL);
}

static struct srv_req *
srv_req_new(struct http_server *s)
{
	struct srv_req *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->srv = s;
	clock_gettime(CLOCK_MONOTONIC, &q->t0);
	snprintf(q->req.request_id, sizeof(q->req.request_id), "%s%08x",
	    s->rid_prefix,
	    (unsigned)(atomic_fetch_add(&s->rid_seq, 1) & 0xffffffffu));
	buf_init(&q->body, s->body_max);
	atomic_fetch_add(&s->app->in_flight, 1);
	atomic_fetch_add(&s->app->requests, 1);
	return q;
}

static enum MHD_Result
srv_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct srv_req *q = *con_cls;
	size_t n;

	(void)version;
	if (q == NULL) {
		if ((q = srv_req_new(s)) == NULL)
			return MHD_NO;
		*con_cls = q;
		return srv_begin(conn, q, url, method);
	}
	if (*upload_data_size != 0) {
		n = *upload_data_size;
		*upload_data_size = 0;
		if (q->answered || q->has_early)
			return MHD_YES;
		return srv_upload(q, upload_data, n);
	}
	if (q->answered)
		return MHD_YES;
	return srv_dispatch(conn, q);
}

static void
srv_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct srv_req *q = *con_cls;
	struct timespec t1;
	char method[LOG_CLIENT_STR_MAX * 4 + 8];
	char token[LOG_CLIENT_STR_MAX * 4 + 8];
	double ms;

	(void)conn;
	if (q == NULL)
		return;
	*con_cls = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - q->t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - q->t0.tv_nsec) / 1e6;
	log_clean(q->req.method_text, method, sizeof(method));
	if (q->req.who.token_name[0] != '\0')
		log_clean(q->req.who.token_name, token, sizeof(token));
	else
		snprintf(token, sizeof(token), "-");
	log_info("request rid=%s method=%s route=%s status=%d ms=%.2f "
		 "token=%s",
	    q->req.request_id, method,
	    q->route != NULL ? q->route->pattern : "-", q->status, ms, token);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("request ended early rid=%s toe=%d",
		    q->req.request_id, (int)toe);
	buf_free_wipe(&q->body);
	if (q->has_early)
		buf_free(&q->early.body);
	free(q);
	atomic_fetch_sub(&s->app->in_flight, 1);
}

/* libmicrohttpd's own errors: one line each, without control chars. */
__attribute__((format(printf, 2, 0))) static void
srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t i, n;

	(void)cls;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	for (i = 0; msg[i] != '\0'; i++) {
		if ((unsigned char)msg[i] < 0x20 || msg[i] == '"' ||
		    msg[i] == 0x7f)
			msg[i] = ' ';
	}
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == ' ')
		msg[--n] = '\0';
	log_warn("httpd msg=\"%s\"", msg);
}

static size_t
srv_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return http_path_unescape(s);
}

/* Fill s->addr from the configured literal ("::1" or "[::1]" for IPv6).
 * *v6, *loopback and *any (needs a dual-stack socket) describe it.
 * 0 or ERR_CONFIG. */
static int
srv_addr(struct http_server *s, const char *listen, unsigned port, int *v6,
    int *loopback, int *any)
{
	char a[INET6_ADDRSTRLEN + 2];
	size_t n;
	const unsigned char *b;

	*v6 = *loopback = *any = 0;
	if (listen == NULL || (n = strlen(listen)) == 0 || n >= sizeof(a))
		return ERR_CONFIG;
	if (listen[0] == '[' && listen[n - 1] == ']') {
		memcpy(a, listen + 1, n - 2);
		a[n - 2] = '\0';
	} else
		memcpy(a, listen, n + 1);
	memset(&s->addr, 0, sizeof(s->addr));
	if (inet_pton(AF_INET, a, &s->addr.v4.sin_addr) == 1) {
		s->addr.v4.sin_family = AF_INET;
		s->addr.v4.sin_port = htons((uint16_t)port);
		b = (const unsigned char *)&s->addr.v4.sin_addr;
		*loopback = b[0] == 127;
		*any = s->addr.v4.sin_addr.s_addr == htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET6, a, &s->addr.v6.sin6_addr) == 1) {
		s->addr.v6.sin6_family = AF_INET6;
		s->addr.v6.sin6_port = htons((uint16_t)port);
		*v6 = 1;
		b = s->addr.v6.sin6_addr.s6_addr;
		*loopback = IN6_IS_ADDR_LOOPBACK(&s->addr.v6.sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&s->addr.v6.sin6_addr) &&
			b[12] == 127);
		/* "::" and v4-mapped addresses need IPv4 on the socket too */
		*any = IN6_IS_ADDR_UNSPECIFIED(&s->addr.v6.sin6_addr) ||
		    IN6_IS_ADDR_V4MAPPED(&s->addr.v6.sin6_addr);
		return 0;
	}
	return ERR_CONFIG;
}

/* Derived public URL when http.base_url is not set: scheme, the listen
 * address (IPv6 in brackets) and the port actually bound. */
static void
srv_base_url(
    struct app *app, const char *listen, int v6, int tls, unsigned port)
{
	int br = v6 && listen[0] != '[';

	snprintf(app->base_url, sizeof(app->base_url), "%s://%s%s%s:%u",
	    tls ? "https" : "http", br ? "[" : "", listen, br ? "]" : "", port);
}

static void
srv_pem_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* Read the TLS files named by the config. 0 (both NULL: no TLS),
 * ERR_CONFIG or ERR_IO, logged. */
static int
srv_tls_load(const struct config *cfg, char **cert, size_t *certlen, char **key,
    size_t *keylen)
{
	int r;

	*cert = *key = NULL;
	*certlen = *keylen = 0;
	if (cfg->http_tls_cert == NULL && cfg->http_tls_key == NULL)
		return 0;
	if (cfg->http_tls_cert == NULL || cfg->http_tls_key == NULL) {
		log_error("http.tls_cert and http.tls_key go together");
		return ERR_CONFIG;
	}
	if ((r = file_read_small(
		 cfg->http_tls_cert, TLS_PEM_MAX, cert, certlen)) != 0) {
		log_error("cannot read http.tls_cert path=%s err=\"%s\"",
		    cfg->http_tls_cert, err_str(r));
		return r == ERR_TOO_LARGE ? ERR_CONFIG : ERR_IO;
	}
	if ((r = file_read_small(
		 cfg->http_tls_key, TLS_PEM_MAX, key, keylen)) != 0) {
		log_error("cannot read http.tls_key path=%s err=\"%s\"",
		    cfg->http_tls_key, err_str(r));
		srv_pem_free(*cert, *certlen);
		*cert = NULL;
		return r == ERR_TOO_LARGE ? ERR_CONFIG : ERR_IO;
	}
	return 0;
}

int
http_server_start(struct app *app, struct http_server **out)
{
	const struct config *cfg = app->cfg;
	struct http_server *s = NULL;
	const union MHD_DaemonInfo *di;
	struct MHD_OptionItem tlsopt[4];
	char *cert = NULL, *key = NULL;
	size_t certlen = 0, keylen = 0;
	unsigned flags, backlog, port;
	int r = ERR_CONFIG, v6, loopback, any, tls;

	*out = NULL;
	if (cfg == NULL || app->routes == NULL)
		return ERR_CONFIG;
	if (cfg->http_port > 65535) {
		log_error("http.port out of range port=%u", cfg->http_port);
		goto out;
	}
	if (cfg->http_body_max < 1 ||
	    cfg->http_body_max > HTTP_BODY_MAX_LIMIT) {
		log_error("http.body_max out of range");
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	s->app = app;
	s->listen_fd = MHD_INVALID_SOCKET;
	crypto_random_hex(s->rid_prefix, sizeof(s->rid_prefix) / 2);
	s->body_max = (size_t)cfg->http_body_max;
	if (srv_addr(s, cfg->http_listen, cfg->http_port, &v6, &loopback,
		&any) != 0) {
		log_error("http.listen is not an IP address listen=%s",
		    cfg->http_listen != NULL ? cfg->http_listen : "");
		r = ERR_CONFIG;
		goto out;
	}
	if ((r = srv_tls_load(cfg, &cert, &certlen, &key, &keylen)) != 0)
		goto out;
	tls = cert != NULL;
	if (!tls && !loopback && !cfg->http_allow_plain) {
		/* bearer tokens must not cross a network in clear text */
		log_error("refusing plain HTTP on a non-loopback address "
			  "listen=%s; set http.tls_cert and http.tls_key, or "
			  "http.allow_plain behind a TLS proxy",
		    cfg->http_listen);
		r = ERR_CONFIG;
		goto out;
	}

	/*
	 * A pool of http.threads threads, each with its own epoll set of
	 * connections. One thread per connection, as before, cost twice
	 * the CPU per request on a small machine: 32 clients meant 32
	 * threads waking one another through the database pool's condition
	 * variable, and context switches are what a 2-core VM runs out of
	 * first. A few threads that each take the ready connections in
	 * turn keep the database pool uncontended.
	 */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (v6)
		flags |= any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	memset(tlsopt, 0, sizeof(tlsopt));
	tlsopt[0].option = MHD_OPTION_END;
	if (tls) {
		flags |= MHD_USE_TLS;
		tlsopt[0].option = MHD_OPTION_HTTPS_MEM_CERT;
		tlsopt[0].ptr_value = cert;
		tlsopt[1].option = MHD_OPTION_HTTPS_MEM_KEY;
		tlsopt[1].ptr_value = key;
		tlsopt[2].option = MHD_OPTION_HTTPS_PRIORITIES;
		tlsopt[2].ptr_value = srv_tls_priorities;
		tlsopt[3].option = MHD_OPTION_END;
	}
	backlog = cfg->http_max_conns < 16 ? 16 : cfg->http_max_conns;
	if (backlog > 4096)
		backlog = 4096;
	s->d = MHD_start_daemon(flags, (uint16_t)cfg->http_port, NULL, NULL,
	    srv_access, s, MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, &s->addr.sa, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)cfg->http_max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)cfg->http_conn_timeout_s,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)backlog,
	    MHD_OPTION_NOTIFY_COMPLETED, srv_completed, s,
	    MHD_OPTION_UNESCAPE_CALLBACK, srv_unescape, NULL,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)(cfg->http_threads > 0 ? cfg->http_threads : 1),
	    MHD_OPTION_ARRAY, tlsopt, MHD_OPTION_END);
	if (s->d == NULL) {
		log_error("cannot start HTTP listener listen=%s port=%u tls=%d",
		    cfg->http_listen, cfg->http_port, tls);
		r = ERR_IO;
		goto out;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	port = di != NULL ? di->port : cfg->http_port;
	if (app->base_url[0] == '\0')
		srv_base_url(app, cfg->http_listen, v6, tls, port);
	log_info(
	    "listening addr=%s port=%u tls=%d", cfg->http_listen, port, tls);
	*out = s;
	s = NULL;
	r = 0;
out:
	srv_pem_free(key, keylen);
	srv_pem_free(cert, certlen);
	free(s);
	return r;
}

void
http_server_quiesce(struct http_server *s)
{
	MHD_socket fd;

	if (s == NULL || atomic_exchange(&s->quiescing, 1) != 0)
		return;
	fd = MHD_quiesce_daemon(s->d);
	if (fd == MHD_INVALID_SOCKET) {
		log_warn("quiesce: listener was not accepting");
		return;
	}
	/*
	 * The socket may not be closed before MHD_stop_daemon(), but
	 * connections queued in its backlog would wait for nothing until
	 * then. Shutting it down refuses them now (Linux: the socket leaves
	 * the LISTEN state), so a load balancer moves on at once.
	 */
	if (shutdown(fd, SHUT_RDWR) != 0)
		log_debug("quiesce: shutdown of listener failed");
	s->listen_fd = fd;
	log_debug("quiesced in_flight=%d", atomic_load(&s->app->in_flight));
}

void
http_server_stop(struct http_server *s, unsigned timeout_s)
{
	struct timespec now, end, nap = {0, SRV_DRAIN_POLL_NS};
	int left;

	if (s == NULL)
		return;
	http_server_quiesce(s);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)timeout_s;
	for (;;) {
		if ((left = atomic_load(&s->app->in_flight)) <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) {
			log_warn("drain timeout, closing in_flight=%d", left);
			break;
		}
		nanosleep(&nap, NULL);
	}
	MHD_stop_daemon(s->d);
	if (s->listen_fd != MHD_INVALID_SOCKET)
		close(s->listen_fd);
	log_info("stopped requests=%llu",
	    (unsigned long long)atomic_load(&s->app->requests));
	free(s);
}
