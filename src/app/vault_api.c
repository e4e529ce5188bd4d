#include "app/vault_api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "app/app.h"
#include "crypto/seal.h"
#include "crypto/token.h"
#include "db/audit_store.h"
#include "db/pool.h"
#include "policy/policy.h"
#include "util/bounds.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"
#include "vault/backend.h"

/*
 * The vault HTTP API. Bodies are parsed once into typed structs at the
 * edge; everything after works on checked fields. A secret passes
 * through here twice: a set request (the parsed JSON value, wiped as
 * soon as the backend has it) and a retrieval (the backend's guarded
 * copy, written straight into a response body sized beforehand, so
 * that no grown-and-abandoned copy is left in the heap). It is never
 * logged, never put in an audit record, and never echoed in an error.
 */

/* a retrieval's "reason", in characters (not bytes) */
#define VAPI_REASON_MAX VAULT_REASON_MAX
/* room for a JSON-escaped string: \u00XX is 6 bytes per byte */
#define VAPI_ESC_MAX(n) ((n)*6 + 2)

/* "safe/<name>/account/<name>" */
#define VAPI_TARGET_MAX                                                        \
	(sizeof("safe//account/") + VAULT_SAFE_NAME_MAX +                      \
	    VAULT_ACCOUNT_NAME_MAX)

struct vapi_account_in { /* PUT .../accounts/{account} */
	char address[VAULT_ADDRESS_MAX + 1];
	char username[VAULT_USER_NAME_MAX + 1];
};

struct vapi_secret_in {     /* PUT .../secret */
	json_t *root;       /* owns the value below */
	const char *secret; /* in root, or NULL if generate */
	size_t len;
	size_t generate; /* length to generate, 0 = given */
};

struct vapi_retrieve_in { /* POST .../retrieve */
	char reason[VAPI_REASON_MAX * 4 + 1];
};

/* An audit record written around a privileged call (db/audit_store.h). */
struct vapi_audit {
	const char *action;
	char target[VAPI_TARGET_MAX];
	json_t *detail; /* owned; never a secret */
	struct db_pool *pool;
	struct db_conn *c; /* open transaction with the record */
};

/* ---- JSON text ---- */

/* Bytes s[0..n) take as the inside of a JSON string. */
static size_t
vapi_json_esc_len(const unsigned char *s, size_t n)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\' || s[i] == '\b' ||
		    s[i] == '\f' || s[i] == '\n' || s[i] == '\r' ||
		    s[i] == '\t')
			len += 2;
		else if (s[i] < 0x20 || s[i] == 0x7f)
			len += 6;
		else
			len++;
	}
	return len;
}

/* Append s[0..n) (valid UTF-8) as a JSON string literal. Unescaped runs
 * go in with one append each. */
static void
vapi_json_esc(struct buf *b, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char e[6];
	size_t i, run = 0;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		e[0] = '\\';
		switch (s[i]) {
		case '"':
		case '\\':
			e[1] = (char)s[i];
			break;
		case '\b':
			e[1] = 'b';
			break;
		case '\f':
			e[1] = 'f';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\t':
			e[1] = 't';
			break;
		default:
			if (s[i] >= 0x20 && s[i] != 0x7f)
				continue;
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hex[s[i] >> 4];
			e[5] = hex[s[i] & 0xf];
			buf_append(b, s + run, i - run);
			buf_append(b, e, 6);
			run = i + 1;
			continue;
		}
		buf_append(b, s + run, i - run);
		buf_append(b, e, 2);
		run = i + 1;
	}
	buf_append(b, s + run, n - run);
	explicit_bzero(e, sizeof(e));
	buf_putc(b, '"');
}

/* Make sure b can take n more bytes without moving its data. */
static void
vapi_buf_reserve(struct buf *b, size_t n)
{
	static const char zero[4096];
	size_t had = b->len, k;

	while (!buf_failed(b) && b->len - had < n) {
		k = n - (b->len - had);
		buf_append(b, zero, k < sizeof(zero) ? k : sizeof(zero));
	}
	if (!buf_failed(b)) {
		b->len = had;
		b->data[had] = '\0';
	}
}

/* Answer status with the JSON text of j (consumed). */
static int
vapi_reply(struct response *resp, int status, json_t *j)
{
	char *s;

	if (j == NULL) {
		response_json_error(
		    resp, 500, "internal_error", "internal server error");
		return 0;
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL) {
		response_json_error(
		    resp, 500, "internal_error", "internal server error");
		return 0;
	}
	buf_reset(&resp->body);
	buf_puts(&resp->body, s);
	free(s);
	resp->status = status;
	resp->content_type = CT_JSON;
	return 0;
}

/* ---- request edge ---- */

/* 1 if s is 1..max bytes of UTF-8 without control characters. */
static int
vapi_text_ok(const char *s, size_t max)
{
	size_t i, n;

	if (s == NULL || s[0] == '\0')
		return 0;
	n = strnlen(s, max + 1);
	if (n > max || !utf8_valid(s, n))
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	}
	return 1;
}

/* The {safe} and {account} of the path; 0 or a 400/404 answered. */
static int
vapi_path(const struct request *req, struct response *resp, int account,
    const char **safe, const char **acct)
{
	*safe = req->params[0];
	if (acct != NULL)
		*acct = account ? req->params[1] : NULL;
	if (!vapi_text_ok(*safe, VAULT_SAFE_NAME_MAX)) {
		response_json_error(resp, 404, "not_found", "no such safe");
		return ERR_NOT_FOUND;
	}
	if (account && !vapi_text_ok(*acct, VAULT_ACCOUNT_NAME_MAX)) {
		response_json_error(resp, 400, "invalid_request",
		    "an account "
		    "name is 1..128 bytes of UTF-8 without control "
		    "characters");
		return ERR_INVALID;
	}
	return 0;
}

/*
 * The body as a JSON object. Parse errors give a position only: the
 * parser's message quotes the input, which may be a secret.
 */
static int
vapi_body(const struct request *req, json_t **out, struct api_error *e)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	if (req->body == NULL || req->body_len == 0)
		return api_error_set(e, 400, "",
		    "request body is empty; a "
		    "JSON object is expected");
	if (!utf8_valid(req->body, req->body_len))
		return api_error_set(e, 400, "", "request body is not UTF-8");
	if (!json_depth_ok(req->body, req->body_len, JSON_DEPTH_MAX))
		return api_error_set(e, 400, "",
		    "JSON nested deeper than %d "
		    "levels",
		    JSON_DEPTH_MAX);
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	explicit_bzero(&jerr, sizeof(jerr));
	if (j == NULL)
		return api_error_set(e, 400, "",
		    "request body is not valid "
		    "JSON");
	if (!json_is_object(j)) {
		json_decref(j);
		return api_error_set(e, 400, "",
		    "request body must be a JSON "
		    "object");
	}
	*out = j;
	return 0;
}

/* Refuse members of o other than the names given (NULL-terminated). */
static int
vapi_only(json_t *o, const char *const *names, struct api_error *e)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach (o, k, v) {
		for (i = 0; names[i] != NULL; i++) {
			if (strcmp(k, names[i]) == 0)
				break;
		}
		if (names[i] == NULL) {
			char clean[LOG_CLIENT_STR_MAX * 4 + 8];

			return api_error_set(e, 400, "",
			    "unknown member "
			    "\"%s\"",
			    log_clean(k, clean, sizeof(clean)));
		}
	}
	return 0;
}

/* Optional string member name of o, 0..max bytes, no controls, into
 * out (size max + 1); absent gives "". */
static int
vapi_opt_str(
    json_t *o, const char *name, size_t max, char *out, struct api_error *e)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	size_t n;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return api_error_set(
		    e, 400, "", "\"%s\" must be a string", name);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > max || strlen(s) != n || (n > 0 && !vapi_text_ok(s, max)))
		return api_error_set(e, 400, "",
		    "\"%s\" must be 0..%zu bytes "
		    "without control characters",
		    name, max);
	memcpy(out, s, n + 1);
	return 0;
}

static int
vapi_account_parse(
    const struct request *req, struct vapi_account_in *in, struct api_error *e)
{
	static const char *const names[] = {"address", "username", NULL};
	json_t *j = NULL;
	int r;

	memset(in, 0, sizeof(*in));
	if ((r = vapi_body(req, &j, e)) != 0 ||
	    (r = vapi_only(j, names, e)) != 0 ||
	    (r = vapi_opt_str(
		 j, "address", VAULT_ADDRESS_MAX, in->address, e)) != 0 ||
	    (r = vapi_opt_str(
		 j, "username", VAULT_USER_NAME_MAX, in->username, e)) != 0)
		goto out;
	r = 0;
out:
	json_decref(j);
	return r;
}

/*
 * Overwrite a JSON string value in place. jansson hands it out const,
 * but it is the library's own malloc'd copy; the cast through uintptr_t
 * states that this one write is deliberate.
 */
static void
vapi_json_wipe(json_t *v)
{
	if (v != NULL && json_is_string(v))
		explicit_bzero((void *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
}

static void
vapi_secret_in_free(struct vapi_secret_in *in)
{
	if (in->root != NULL) {
		vapi_json_wipe(json_object_get(in->root, "secret"));
		json_decref(in->root);
	}
	memset(in, 0, sizeof(*in));
}

/*
 * {"secret": "..."} or {"generate": {"length": n}}, exactly one. A
 * secret over SEAL_SECRET_MAX bytes is ERR_TOO_LARGE (413).
 */
static int
vapi_secret_parse(
    const struct request *req, struct vapi_secret_in *in, struct api_error *e)
{
	static const char *const names[] = {"secret", "generate", NULL};
	static const char *const gnames[] = {"length", NULL};
	json_t *s, *g, *l;
	int r;

	memset(in, 0, sizeof(*in));
	if ((r = vapi_body(req, &in->root, e)) != 0 ||
	    (r = vapi_only(in->root, names, e)) != 0)
		return r;
	s = json_object_get(in->root, "secret");
	g = json_object_get(in->root, "generate");
	if ((s == NULL) == (g == NULL))
		return api_error_set(e, 400, "",
		    "give exactly one of "
		    "\"secret\" and \"generate\"");
	if (s != NULL) {
		if (!json_is_string(s))
			return api_error_set(e, 400, "",
			    "\"secret\" must be a "
			    "string");
		in->secret = json_string_value(s);
		in->len = json_string_length(s);
		if (in->len == 0)
			return api_error_set(e, 400, "",
			    "\"secret\" is "
			    "empty");
		if (in->len > SEAL_SECRET_MAX) {
			api_error_set(e, 413, "",
			    "\"secret\" is longer than "
			    "%d bytes",
			    SEAL_SECRET_MAX);
			return ERR_TOO_LARGE;
		}
		return 0;
	}
	if (!json_is_object(g) || vapi_only(g, gnames, e) != 0)
		return api_error_set(e, 400, "",
		    "\"generate\" must be "
		    "{\"length\": n}");
	l = json_object_get(g, "length");
	if (!json_is_integer(l) || json_integer_value(l) < 1 ||
	    json_integer_value(l) > SEAL_SECRET_MAX)
		return api_error_set(e, 400, "",
		    "\"generate\".\"length\" "
		    "must be an integer in 1..%d",
		    SEAL_SECRET_MAX);
	in->generate = (size_t)json_integer_value(l);
	return 0;
}

static int
vapi_retrieve_parse(
    const struct request *req, struct vapi_retrieve_in *in, struct api_error *e)
{
	static const char *const names[] = {"reason", NULL};
	json_t *j = NULL, *v;
	const char *s;
	size_t n, i, chars = 0, blank = 0;
	int r;

	memset(in, 0, sizeof(*in));
	if ((r = vapi_body(req, &j, e)) != 0 ||
	    (r = vapi_only(j, names, e)) != 0)
		goto out;
	v = json_object_get(j, "reason");
	if (v == NULL) {
		r = api_error_set(e, 400, "", "\"reason\" is required");
		goto out;
	}
	if (!json_is_string(v)) {
		r = api_error_set(e, 400, "", "\"reason\" must be a string");
		goto out;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
		if (s[i] == ' ')
			blank++;
	}
	if (n == 0 || chars > VAPI_REASON_MAX || blank == n ||
	    n >= sizeof(in->reason) || !vapi_text_ok(s, sizeof(in->reason))) {
		r = api_error_set(e, 400, "",
		    "\"reason\" must be 1..%d "
		    "characters of text without control characters",
		    VAPI_REASON_MAX);
		goto out;
	}
	memcpy(in->reason, s, n + 1);
	r = 0;
out:
	json_decref(j);
	return r;
}

/* ---- answers ---- */

static void
vapi_unavailable(struct response *resp, const char *detail)
{
	response_json_error(resp, 503, "unavailable", detail);
	resp->retry_after = 1;
}

/* Answer an input error (r from a parser, e filled). */
static int
vapi_bad_input(struct response *resp, int r, const struct api_error *e)
{
	int status = e->status != 0 ? e->status
	    : r == ERR_TOO_LARGE    ? 413
				    : 400;

	response_json_error(resp, status,
	    status == 413 ? "too_large" : "invalid_request",
	    e->detail[0] != '\0' ? e->detail : "invalid request");
	return 0;
}

/*
 * Answer a backend failure: 503 when it may pass, else the code's
 * status. what names the call for the log.
 */
static int
vapi_backend_fail(const struct request *req, struct response *resp, int r,
    const struct vault_error *e, const char *what)
{
	char clean[LOG_CLIENT_STR_MAX * 4 + 8];

	if (e->temporary || r == ERR_DB_UNAVAILABLE) {
		log_warn("vault unavailable rid=%s op=%s: %s", req->request_id,
		    what, log_clean(e->msg, clean, sizeof(clean)));
		vapi_unavailable(resp, "vault backend unavailable");
		return 0;
	}
	switch (r) {
	case ERR_NOT_FOUND:
		response_json_error(resp, 404, "not_found",
		    e->msg[0] != '\0' ? e->msg : "no such safe or account");
		break;
	case ERR_FORBIDDEN:
		response_json_error(resp, 403, "forbidden",
		    "not permitted "
		    "on this safe");
		break;
	case ERR_CONFLICT:
		response_json_error(resp, 409, "conflict",
		    e->msg[0] != '\0' ? e->msg : "conflict");
		break;
	case ERR_INVALID:
		response_json_error(resp, 400, "invalid_request",
		    e->msg[0] != '\0' ? e->msg : "invalid request");
		break;
	case ERR_TOO_LARGE:
		response_json_error(resp, 413, "too_large", "secret too large");
		break;
	default:
		log_error("vault call failed rid=%s op=%s err=\"%s\": %s",
		    req->request_id, what, err_str(r),
		    log_clean(e->msg, clean, sizeof(clean)));
		response_json_error(
		    resp, 500, "internal_error", "internal server error");
		break;
	}
	return 0;
}

static struct vault_backend *
vapi_backend(const struct request *req, struct response *resp)
{
	if (req->app == NULL || req->app->vault == NULL) {
		vapi_unavailable(resp, "vault backend not configured");
		return NULL;
	}
	return req->app->vault;
}

/* ---- audit ---- */

static void
vapi_audit_init(struct vapi_audit *a, const struct request *req,
    const char *action, const char *safe, const char *account)
{
	memset(a, 0, sizeof(*a));
	a->action = action;
	a->pool = req->app->pool;
	if (account != NULL)
		snprintf(a->target, sizeof(a->target), "safe/%s/account/%s",
		    safe, account);
	else
		snprintf(a->target, sizeof(a->target), "safe/%s", safe);
	a->detail = json_object();
	if (a->detail != NULL) {
		json_object_set_new(a->detail, "safe", json_string(safe));
		if (account != NULL)
			json_object_set_new(
			    a->detail, "account", json_string(account));
	}
}

static int
vapi_audit_put(
    const struct request *req, struct vapi_audit *a, enum db_audit_decision d)
{
	struct db_audit_event ev;
	char *detail;
	int r;

	if (a->detail == NULL ||
	    (detail = json_dumps(a->detail, JSON_COMPACT | JSON_SORT_KEYS)) ==
		NULL)
		return ERR_ALLOC;
	memset(&ev, 0, sizeof(ev));
	ev.actor = req->who.token_name;
	ev.actor_token = req->who.token_id;
	ev.actor_user = req->who.user_ref;
	ev.action = a->action;
	ev.target = a->target;
	ev.decision = d;
	ev.request_id = req->request_id;
	ev.detail = detail;
	r = db_audit_write(a->c, &ev, NULL);
	free(detail);
	return r;
}

/*
 * Open a bridge transaction holding an "allow" record of the call about
 * to be made. Nothing reaches the vault when this fails: 503 answered.
 */
static int
vapi_audit_open(
    const struct request *req, struct response *resp, struct vapi_audit *a)
{
	int r;

	if (a->pool == NULL)
		r = ERR_DB_UNAVAILABLE;
	else if ((r = db_acquire(a->pool, &a->c)) == 0 &&
	    (r = db_begin(a->c)) == 0)
		r = vapi_audit_put(req, a, DB_AUDIT_ALLOW);
	if (r != 0) {
		log_warn(
		    "audit record not written rid=%s action=%s err=\"%s\"; "
		    "refused",
		    req->request_id, a->action, err_str(r));
		db_release(a->pool, a->c);
		a->c = NULL;
		vapi_unavailable(resp,
		    "the audit trail cannot be written; "
		    "nothing was done");
	}
	return r;
}

/* The call succeeded: commit its record. 0 or ERR_*, logged. */
static int
vapi_audit_commit(const struct request *req, struct vapi_audit *a)
{
	int r;

	r = db_commit(a->c);
	db_release(a->pool, a->c);
	a->c = NULL;
	if (r != 0)
		log_error("audit record not committed rid=%s action=%s "
			  "err=\"%s\"",
		    req->request_id, a->action, err_str(r));
	return r;
}

/*
 * The call failed or was refused: drop the "allow" record and write one
 * with decision d and the error instead (best effort, logged).
 */
static void
vapi_audit_fail(const struct request *req, struct vapi_audit *a,
    enum db_audit_decision d, int err)
{
	int r;

	if (a->c == NULL)
		return;
	db_rollback(a->c);
	if (a->detail != NULL)
		json_object_set_new(
		    a->detail, "error", json_string(err_str(err)));
	if ((r = vapi_audit_put(req, a, d)) != 0)
		log_warn("audit record not written rid=%s action=%s "
			 "decision=%s err=\"%s\"",
		    req->request_id, a->action, db_audit_decision_name(d),
		    err_str(r));
	db_release(a->pool, a->c);
	a->c = NULL;
}

static void
vapi_audit_free(struct vapi_audit *a)
{
	if (a->c != NULL)
		db_release(a->pool, a->c);
	json_decref(a->detail);
	memset(a, 0, sizeof(*a));
}

/* ---- safes ---- */

/* The safe the {safe} parameter names: its ref (a uuid) or the name of
 * an active safe (case-insensitive). 0, or an answer was written. */
static int
vapi_find_safe(const struct request *req, struct response *resp,
    struct vault_backend *b, const char *param, struct vault_safe *out)
{
	struct vault_safe *s = NULL;
	struct vault_error e;
	size_t n = 0, i;
	int r;

	memset(&e, 0, sizeof(e));
	memset(out, 0, sizeof(*out));
	if ((r = b->ops->list_safes(b, &s, &n, &e)) != 0) {
		(void)vapi_backend_fail(req, resp, r, &e, "list_safes");
		return r;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(s[i].ref, param) == 0 ||
		    (!s[i].frozen && strcasecmp(s[i].name, param) == 0))
			break;
	}
	if (i == n) {
		response_json_error(resp, 404, "not_found", "no such safe");
		r = ERR_NOT_FOUND;
	} else
		*out = s[i];
	free(s);
	return r;
}

int
vault_h_safes_list(const struct request *req, struct response *resp)
{
	struct vault_backend *b;
	struct vault_safe *s = NULL;
	struct vault_error e;
	json_t *arr;
	size_t n = 0, i;
	int r;

	if ((b = vapi_backend(req, resp)) == NULL)
		return 0;
	memset(&e, 0, sizeof(e));
	if ((r = b->ops->list_safes(b, &s, &n, &e)) != 0)
		return vapi_backend_fail(req, resp, r, &e, "list_safes");
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr,
			json_pack("{ssssss}", "ref", s[i].ref, "name",
			    s[i].name, "state",
			    s[i].frozen ? "frozen" : "active")) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	free(s);
	return vapi_reply(
	    resp, 200, arr != NULL ? json_pack("{so}", "safes", arr) : NULL);
}

int
vault_h_safe_members(const struct request *req, struct response *resp)
{
	struct vault_backend *b;
	struct vault_member *m = NULL;
	struct vault_safe safe;
	struct vault_error e;
	const char *param;
	json_t *arr;
	size_t n = 0, i;
	int r;

	if ((b = vapi_backend(req, resp)) == NULL ||
	    vapi_path(req, resp, 0, &param, NULL) != 0 ||
	    vapi_find_safe(req, resp, b, param, &safe) != 0)
		return 0;
	memset(&e, 0, sizeof(e));
	if ((r = b->ops->list_members(b, safe.ref, &m, &n, &e)) != 0)
		return vapi_backend_fail(req, resp, r, &e, "list_members");
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr,
			json_pack("{ssssso}", "user_ref", m[i].user_ref,
			    "user_name", m[i].user_name, "perms",
			    policy_perms_json(m[i].perms))) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	free(m);
	return vapi_reply(resp, 200,
	    arr != NULL ? json_pack("{sssssbso}", "ref", safe.ref, "safe",
			      safe.name, "frozen", safe.frozen, "members", arr)
			: NULL);
}

/* ---- accounts ---- */

int
vault_h_accounts_list(const struct request *req, struct response *resp)
{
	struct vault_backend *b;
	struct vault_account *a = NULL;
	struct vault_error e;
	const char *safe;
	json_t *arr, *o;
	size_t n = 0, i;
	int r;

	if ((b = vapi_backend(req, resp)) == NULL ||
	    vapi_path(req, resp, 0, &safe, NULL) != 0)
		return 0;
	memset(&e, 0, sizeof(e));
	if ((r = b->ops->account_list(b, safe, &a, &n, &e)) != 0)
		return vapi_backend_fail(req, resp, r, &e, "account_list");
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++) {
		o = json_pack("{sssssssI}", "name", a[i].name, "address",
		    a[i].address, "username", a[i].username, "secret_version",
		    (json_int_t)a[i].secret_version);
		if (o != NULL)
			json_object_set_new(o, "secret_updated",
			    a[i].secret_updated[0] != '\0'
				? json_string(a[i].secret_updated)
				: json_null());
		if (json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	free(a);
	return vapi_reply(resp, 200,
	    arr != NULL ? json_pack("{ssso}", "safe", safe, "accounts", arr)
			: NULL);
}

/* Percent-encode s (RFC 3986 unreserved kept) onto b. */
static void
vapi_url_seg(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			buf_putc(b, (char)*p);
		else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 0xf]);
		}
	}
}

int
vault_h_account_put(const struct request *req, struct response *resp)
{
	struct vapi_account_in in;
	struct vault_account acc;
	struct vault_backend *b;
	struct vault_error e;
	struct vapi_audit au;
	struct api_error ae;
	const char *safe, *account;
	struct buf loc;
	int r, created = 0;

	memset(&au, 0, sizeof(au));
	api_error_clear(&ae);
	if ((b = vapi_backend(req, resp)) == NULL ||
	    vapi_path(req, resp, 1, &safe, &account) != 0)
		return 0;
	if ((r = vapi_account_parse(req, &in, &ae)) != 0)
		return vapi_bad_input(resp, r, &ae);
	memset(&acc, 0, sizeof(acc));
	snprintf(acc.name, sizeof(acc.name), "%s", account);
	memcpy(acc.address, in.address, sizeof(acc.address));
	memcpy(acc.username, in.username, sizeof(acc.username));
	vapi_audit_init(&au, req, "vault.account.put", safe, account);
	if (au.detail != NULL) {
		json_object_set_new(
		    au.detail, "address", json_string(acc.address));
		json_object_set_new(
		    au.detail, "username", json_string(acc.username));
	}
	if (vapi_audit_open(req, resp, &au) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	if ((r = b->ops->account_put(b, safe, &acc, &created, &e)) != 0) {
		vapi_audit_fail(req, &au, DB_AUDIT_ERROR, r);
		vapi_backend_fail(req, resp, r, &e, "account_put");
		goto out;
	}
	if (vapi_audit_commit(req, &au) != 0) {
		vapi_unavailable(resp,
		    "the account was saved but its audit "
		    "record could not be committed");
		goto out;
	}
	vapi_reply(resp, created ? 201 : 200,
	    json_pack("{sssssssssb}", "safe", safe, "account", acc.name,
		"address", acc.address, "username", acc.username, "created",
		created));
	if (created && resp->status == 201) {
		buf_init(&loc, sizeof(resp->location) - 1);
		buf_puts(&loc, req->base_url != NULL ? req->base_url : "");
		buf_puts(&loc, "/admin/safes/");
		vapi_url_seg(&loc, safe);
		buf_puts(&loc, "/accounts/");
		vapi_url_seg(&loc, acc.name);
		if (!buf_failed(&loc))
			snprintf(resp->location, sizeof(resp->location), "%s",
			    buf_str(&loc));
		buf_free(&loc);
	}
out:
	vapi_audit_free(&au);
	return 0;
}

int
vault_h_account_delete(const struct request *req, struct response *resp)
{
	struct vault_backend *b;
	struct vault_error e;
	struct vapi_audit au;
	const char *safe, *account;
	int r;

	memset(&au, 0, sizeof(au));
	if ((b = vapi_backend(req, resp)) == NULL ||
	    vapi_path(req, resp, 1, &safe, &account) != 0)
		return 0;
	vapi_audit_init(&au, req, "vault.account.delete", safe, account);
	if (vapi_audit_open(req, resp, &au) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	if ((r = b->ops->account_delete(b, safe, account, &e)) != 0) {
		vapi_audit_fail(req, &au, DB_AUDIT_ERROR, r);
		vapi_backend_fail(req, resp, r, &e, "account_delete");
		goto out;
	}
	if (vapi_audit_commit(req, &au) != 0) {
		vapi_unavailable(resp,
		    "the account was deleted but its audit "
		    "record could not be committed");
		goto out;
	}
	buf_reset(&resp->body);
	resp->status = 204;
out:
	vapi_audit_free(&au);
	return 0;
}

/* ---- secrets ---- */

/*
 * len random printable ASCII characters (0x21..0x7e) into out (size >=
 * len + 1), from crypto_random_hex (libsodium stays in crypto/):
 * a byte below 188 = 2 * 94 maps to a character, others are dropped, so
 * every character is equally likely.
 */
static void
vapi_generate(char *out, size_t len)
{
	char hex[2 * 64 + 1];
	size_t i, o = 0;
	unsigned v;

	while (o < len) {
		crypto_random_hex(hex, 64);
		for (i = 0; i < 64 && o < len; i++) {
			v = (unsigned)(((hex[2 * i] <= '9'
						? hex[2 * i] - '0'
						: hex[2 * i] - 'a' + 10)
					   << 4) |
			    (hex[2 * i + 1] <= '9'
				    ? hex[2 * i + 1] - '0'
				    : hex[2 * i + 1] - 'a' + 10));
			if (v < 188)
				out[o++] = (char)(0x21 + v % 94);
		}
	}
	out[len] = '\0';
	explicit_bzero(hex, sizeof(hex));
}

int
vault_h_secret_put(const struct request *req, struct response *resp)
{
	struct vapi_secret_in in;
	struct vault_backend *b;
	struct vault_error e;
	struct vapi_audit au;
	struct api_error ae;
	const char *safe, *account;
	char *gen = NULL;
	const void *secret;
	size_t len;
	long long version = 0;
	int r;

	memset(&au, 0, sizeof(au));
	memset(&in, 0, sizeof(in));
	api_error_clear(&ae);
	if ((b = vapi_backend(req, resp)) == NULL ||
	    vapi_path(req, resp, 1, &safe, &account) != 0)
		goto out;
	if ((r = vapi_secret_parse(req, &in, &ae)) != 0) {
		vapi_bad_input(resp, r, &ae);
		goto out;
	}
	if (in.generate > 0) {
		if ((gen = malloc(in.generate + 1)) == NULL) {
			response_json_error(
			    resp, 500, "internal_error", "out of memory");
			goto out;
		}
		vapi_generate(gen, in.generate);
		secret = gen;
		len = in.generate;
	} else {
		secret = in.secret;
		len = in.len;
	}
	vapi_audit_init(&au, req, "vault.secret.set", safe, account);
	if (au.detail != NULL && in.generate > 0)
		json_object_set_new(au.detail, "generated",
		    json_integer((json_int_t)in.generate));
	if (vapi_audit_open(req, resp, &au) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	r = b->ops->secret_set(b, safe, account, secret, len, &version, &e);
	if (r != 0) {
		vapi_audit_fail(req, &au, DB_AUDIT_ERROR, r);
		vapi_backend_fail(req, resp, r, &e, "secret_set");
		goto out;
	}
	if (vapi_audit_commit(req, &au) != 0) {
		vapi_unavailable(resp,
		    "the secret was set but its audit "
		    "record could not be committed");
		goto out;
	}
	/* never the secret, not even a generated one: it is read through
	 * the audited retrieval */
	vapi_reply(resp, 200,
	    json_pack("{sssssIsb}", "safe", safe, "account", account, "version",
		(json_int_t)version, "generated", in.generate > 0));
out:
	if (gen != NULL) {
		explicit_bzero(gen, in.generate + 1);
		free(gen);
	}
	vapi_secret_in_free(&in);
	vapi_audit_free(&au);
	return 0;
}

/* The stored account name and its address/username, for the answer;
 * "" when the listing fails (logged). */
static void
vapi_account_meta(const struct request *req, struct vault_backend *b,
    const char *safe, const char *account, struct vault_account *out)
{
	struct vault_account *a = NULL;
	struct vault_error e;
	char clean[LOG_CLIENT_STR_MAX * 4 + 8];
	size_t n = 0, i, hit = (size_t)-1;
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", account);
	memset(&e, 0, sizeof(e));
	if ((r = b->ops->account_list(b, safe, &a, &n, &e)) != 0) {
		log_warn("account listing failed rid=%s err=\"%s\": %s",
		    req->request_id, err_str(r),
		    log_clean(e.msg, clean, sizeof(clean)));
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(a[i].name, account) == 0) {
			hit = i;
			break;
		}
		if (hit == (size_t)-1 && strcasecmp(a[i].name, account) == 0)
			hit = i;
	}
	if (hit != (size_t)-1)
		*out = a[hit];
	free(a);
}

/*
 * The retrieval answer, written into a body reserved to its exact size
 * first, so the secret is copied once and never left behind by a
 * growing buffer. ERR_INVALID if the secret is not UTF-8 text.
 */
static int
vapi_secret_reply(struct response *resp, const char *safe,
    const struct vault_account *acc, const struct seal_secret *sec,
    long long version)
{
	const unsigned char *s = seal_secret_data(sec);
	size_t n = seal_secret_len(sec), need;
	char num[32];

	if (!utf8_valid((const char *)s, n))
		return ERR_INVALID;
	snprintf(num, sizeof(num), "%lld", version);
	need = sizeof("{\"safe\":,\"account\":,\"username\":,\"address\":,"
		      "\"secret\":,\"version\":}") +
	    32 + vapi_json_esc_len((const unsigned char *)safe, strlen(safe)) +
	    vapi_json_esc_len(
		(const unsigned char *)acc->name, strlen(acc->name)) +
	    vapi_json_esc_len(
		(const unsigned char *)acc->username, strlen(acc->username)) +
	    vapi_json_esc_len(
		(const unsigned char *)acc->address, strlen(acc->address)) +
	    vapi_json_esc_len(s, n) + strlen(num);
	buf_reset(&resp->body);
	vapi_buf_reserve(&resp->body, need);
	buf_puts(&resp->body, "{\"safe\":");
	vapi_json_esc(&resp->body, (const unsigned char *)safe, strlen(safe));
	buf_puts(&resp->body, ",\"account\":");
	vapi_json_esc(
	    &resp->body, (const unsigned char *)acc->name, strlen(acc->name));
	buf_puts(&resp->body, ",\"username\":");
	vapi_json_esc(&resp->body, (const unsigned char *)acc->username,
	    strlen(acc->username));
	buf_puts(&resp->body, ",\"address\":");
	vapi_json_esc(&resp->body, (const unsigned char *)acc->address,
	    strlen(acc->address));
	buf_puts(&resp->body, ",\"secret\":");
	vapi_json_esc(&resp->body, s, n);
	buf_puts(&resp->body, ",\"version\":");
	buf_puts(&resp->body, num);
	buf_putc(&resp->body, '}');
	if (buf_failed(&resp->body)) {
		buf_free_wipe(&resp->body);
		buf_init(&resp->body, HTTP_RESPONSE_MAX);
		return ERR_ALLOC;
	}
	resp->status = 200;
	resp->content_type = CT_JSON;
	resp->wipe_body = 1;	/* the server wipes it once sent */
	return 0;
}

int
vault_h_secret_retrieve(const struct request *req, struct response *resp)
{
	struct vapi_retrieve_in in;
	struct vault_account meta;
	struct seal_secret *sec = NULL;
	struct vault_backend *b;
	struct vault_error e;
	struct vapi_audit au;
	struct api_error ae;
	const char *safe, *account;
	long long version = 0;
	int r;

	memset(&au, 0, sizeof(au));
	api_error_clear(&ae);
	if (req->who.user_ref[0] == '\0') {
		response_json_error(resp, 403, "forbidden",
		    "token is not "
		    "bound to a user");
		return 0;
	}
	if ((b = vapi_backend(req, resp)) == NULL ||
	    vapi_path(req, resp, 1, &safe, &account) != 0)
		return 0;
	if ((r = vapi_retrieve_parse(req, &in, &ae)) != 0)
		return vapi_bad_input(resp, r, &ae);
	vapi_audit_init(&au, req, "vault.secret.retrieve", safe, account);
	if (au.detail != NULL)
		json_object_set_new(
		    au.detail, "reason", json_string(in.reason));
	/* the record first: no audit trail, no secret */
	if (vapi_audit_open(req, resp, &au) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	r = b->ops->secret_retrieve(b, safe, account, req->who.user_ref,
	    req->request_id, &sec, &version, &e);
	if (r != 0) {
		vapi_audit_fail(req, &au,
		    !e.temporary && (r == ERR_FORBIDDEN || r == ERR_NOT_FOUND)
			? DB_AUDIT_DENY
			: DB_AUDIT_ERROR,
		    r);
		vapi_backend_fail(req, resp, r, &e, "secret_retrieve");
		goto out;
	}
	vapi_account_meta(req, b, safe, account, &meta);
	if (vapi_audit_commit(req, &au) != 0) {
		vapi_unavailable(resp,
		    "the audit trail cannot be written; no "
		    "secret is handed out");
		goto out;
	}
	if ((r = vapi_secret_reply(resp, safe, &meta, sec, version)) != 0) {
		log_error("retrieval answer failed rid=%s err=\"%s\"",
		    req->request_id, err_str(r));
		response_json_error(resp, 500, "internal_error",
		    r == ERR_INVALID ? "the secret is not UTF-8 text"
				     : "internal server error");
		goto out;
	}
	log_info("secret retrieved rid=%s user=%s token=%s version=%lld",
	    req->request_id, req->who.user_ref, req->who.token_id, version);
out:
	seal_secret_free(sec);
	explicit_bzero(&in, sizeof(in));
	vapi_audit_free(&au);
	return 0;
}
