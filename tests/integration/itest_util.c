/*
 * Case helpers of the integration harness (declared in itest.h): a pool
 * that owns what a case makes, HTTP calls and JSON reads that fail the
 * case instead of returning errors, and the SCIM requests and checks
 * that the SCIM suites share.
 */

#include "itest.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/strutil.h"

#define SCIM		"/scim/v2"
#define U_CORE		"urn:ietf:params:scim:schemas:core:2.0:User"
#define M_LIST		"urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"

/*
 * Responses and strings made during one case live in a pool that is
 * emptied when the next case starts, so a failed assertion (longjmp)
 * leaks nothing and what the last case left stays reachable.
 */
#define POOL_MAX	512
static struct itest_resp *rpool[POOL_MAX];
static size_t nrpool;
static void *spool[POOL_MAX];
static size_t nspool;

void
itest_pool_reset(void)
{
	size_t i;

	for (i = 0; i < nrpool; i++) {
		itest_resp_free(rpool[i]);
		free(rpool[i]);
	}
	nrpool = 0;
	for (i = 0; i < nspool; i++)
		free(spool[i]);
	nspool = 0;
}

void *
itest_pool_keep(void *p)
{
	if (p == NULL)
		TL_FAIL("out of memory");
	if (nspool == POOL_MAX) {
		free(p);
		TL_FAIL("string pool full");
	}
	spool[nspool++] = p;
	return p;
}

const char *
itest_fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	if (n < 0)
		TL_FAIL("vasprintf");
	return itest_pool_keep(s);
}

const char *
itest_urlenc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o, *p;

	o = itest_pool_keep(malloc(strlen(s) * 3 + 1));
	for (p = o; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return o;
}

const char *
itest_subst(const char *s, const char *tok, const char *val)
{
	const char *p;
	size_t tl = strlen(tok), vl = strlen(val), n = 0;
	char *o, *q;

	for (p = s; (p = strstr(p, tok)) != NULL; p += tl)
		n++;
	o = itest_pool_keep(malloc(strlen(s) + n * vl + 1));
	for (q = o; *s != '\0';) {
		if (strncmp(s, tok, tl) == 0) {
			memcpy(q, val, vl);
			q += vl;
			s += tl;
		} else
			*q++ = *s++;
	}
	*q = '\0';
	return o;
}

const char *
itest_dump(json_t *j)
{
	char *s;

	if (j == NULL)
		TL_FAIL("json build failed");
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return itest_pool_keep(s);
}

struct itest_resp *
itest_call_h(const char *method, const char *path, const char *body,
    const char *const *hdrs)
{
	struct itest_resp *r;

	if (nrpool == POOL_MAX)
		TL_FAIL("response pool full");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		TL_FAIL("out of memory");
	rpool[nrpool++] = r;
	if (itest_http(itest, method, path, NULL, body, hdrs, r) != 0)
		TL_FAIL("transport failure: %s %s", method, path);
	return r;
}

struct itest_resp *
itest_call(const char *method, const char *path, const char *body)
{
	return itest_call_h(method, path, body, NULL);
}

json_t *
itest_jpath(json_t *root, const char *path)
{
	char key[256];
	const char *p = path, *slash;
	json_t *cur = root;
	size_t n;

	while (cur != NULL && *p != '\0') {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (json_is_array(cur)) {
			uint64_t ix;

			if (parse_u64(key, 0, 1000000, &ix) != 0)
				return NULL;
			cur = json_array_get(cur, (size_t)ix);
		} else
			cur = json_object_get(cur, key);
		p = slash != NULL ? slash + 1 : p + n;
	}
	return cur;
}

const char *
itest_jstr(const struct itest_resp *r, const char *path)
{
	json_t *v = itest_jpath(r->json, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long
itest_jint(const struct itest_resp *r, const char *path)
{
	json_t *v = itest_jpath(r->json, path);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

int
itest_jtrue(const struct itest_resp *r, const char *path)
{
	return json_is_true(itest_jpath(r->json, path));
}

int
itest_jfalse(const struct itest_resp *r, const char *path)
{
	return json_is_false(itest_jpath(r->json, path));
}

size_t
itest_jlen(const struct itest_resp *r, const char *path)
{
	json_t *v = itest_jpath(r->json, path);

	return json_is_array(v) ? json_array_size(v) : (size_t)-1;
}

int
itest_arr_has_str(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

long long
itest_etag_num(const char *etag)
{
	const char *t = etag;
	long long n = 0;

	if (t == NULL || strncmp(t, "W/\"", 3) != 0 ||
	    !isdigit((unsigned char)t[3]))
		return -1;
	for (t += 3; isdigit((unsigned char)*t); t++)
		n = n * 10 + (*t - '0');
	return *t == '"' && t[1] == '\0' ? n : -1;
}

int
itest_ends_with(const char *s, const char *suffix)
{
	size_t a, b;

	if (s == NULL)
		return 0;
	a = strlen(s);
	b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int
itest_is_datetime(const char *s)
{
	return s != NULL && strlen(s) >= 20 && s[4] == '-' && s[7] == '-' &&
	    s[10] == 'T' && s[13] == ':' && s[16] == ':';
}

void
itest_assert_status(const struct itest_resp *r, long status, int line)
{
	if (r->status != status)
		TL_FAIL("line %d: want status %ld, got %ld: %.300s", line,
		    status, r->status, r->body ? r->body : "");
}

void
itest_assert_scim_ct(const struct itest_resp *r)
{
	if (strncmp(r->content_type, "application/scim+json", 21) != 0)
		TL_FAIL("Content-Type \"%s\"", r->content_type);
}

void
itest_assert_values(const struct itest_resp *r, const char *path,
    const char *const *ids, int line)
{
	json_t *arr = itest_jpath(r->json, path), *v;
	size_t i, j, n = 0;

	while (ids[n] != NULL)
		n++;
	if (arr == NULL && n == 0)
		return;
	if (!json_is_array(arr) || json_array_size(arr) != n)
		TL_FAIL("line %d: %s has %zu values, want %zu: %.400s", line,
		    path, json_is_array(arr) ? json_array_size(arr) : 0, n,
		    r->body);
	json_array_foreach(arr, i, v) {
		const char *val = json_string_value(json_object_get(v,
		    "value"));

		for (j = 0; j < n; j++) {
			if (val != NULL && strcmp(val, ids[j]) == 0)
				break;
		}
		if (j == n)
			TL_FAIL("line %d: unexpected %s value %s", line, path,
			    val ? val : "(none)");
	}
}

const char *
itest_user_path(const char *id)
{
	return itest_fmt(SCIM "/Users/%s", id);
}

const char *
itest_group_path(const char *id)
{
	return itest_fmt(SCIM "/Groups/%s", id);
}

const char *
itest_patch_body(const char *ops)
{
	return itest_fmt("{\"schemas\":[\"" M_PATCH "\"],\"Operations\":%s}",
	    ops);
}

struct itest_resp *
itest_get_ok(const char *path)
{
	struct itest_resp *r = itest_call("GET", path, NULL);

	CHECK_STATUS(r, 200);
	itest_assert_scim_ct(r);
	return r;
}

struct itest_resp *
itest_list(const char *path)
{
	struct itest_resp *r = itest_call("GET", path, NULL);

	CHECK_STATUS(r, 200);
	itest_assert_scim_ct(r);
	if (!itest_arr_has_str(itest_jpath(r->json, "schemas"), M_LIST))
		TL_FAIL("not a ListResponse: %.200s", r->body);
	return r;
}

static struct itest_resp *
create(const char *path, const char *body, char *idout)
{
	struct itest_resp *r = itest_call("POST", path, body);

	CHECK_STATUS(r, 201);
	if (!str_is_uuid(itest_jstr(r, "id")))
		TL_FAIL("no uuid id in %.200s", r->body);
	snprintf(idout, ITEST_ID_SZ, "%s", itest_jstr(r, "id"));
	return r;
}

struct itest_resp *
itest_create_user(const char *body, char *idout)
{
	return create(SCIM "/Users", body, idout);
}

struct itest_resp *
itest_create_group(const char *body, char *idout)
{
	return create(SCIM "/Groups", body, idout);
}

struct itest_resp *
itest_create_user_named(const char *user_name, char *idout)
{
	return itest_create_user(itest_fmt("{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"%s\"}", user_name), idout);
}

/* The number psql printed (rc its exit status) for sql; fails the case
 * otherwise. */
static long long
sql_number(int rc, char *out, const char *sql)
{
	size_t n;
	uint64_t v;

	if (rc != 0)
		TL_FAIL("psql exit %d for: %s", rc, sql);
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	if (parse_u64(out, 0, UINT64_MAX / 2, &v) != 0)
		TL_FAIL("not a number: \"%s\" from %s", out, sql);
	return (long long)v;
}

long long
itest_sql_num(const char *sql)
{
	char out[256];
	int rc;

	rc = itest_sql(itest, out, sizeof(out), sql);
	return sql_number(rc, out, sql);
}

long long
itest_vault_num(const char *sql)
{
	char out[256];
	int rc;

	rc = itest_vault_sql(itest, out, sizeof(out), sql);
	return sql_number(rc, out, sql);
}

void
itest_make_token(const char *name, const char *scopes, const char *expires,
    char *tok, size_t toksz)
{
	const char *argv[10];
	char out[1024], *nl;
	size_t n = 0;

	argv[n++] = "token";
	argv[n++] = "create";
	argv[n++] = "--name";
	argv[n++] = name;
	if (scopes != NULL) {
		argv[n++] = "--scopes";
		argv[n++] = scopes;
	}
	if (expires != NULL) {
		argv[n++] = "--expires";
		argv[n++] = expires;
	}
	argv[n] = NULL;
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), argv), 0);
	/* the token alone on the first line, nothing else on stdout */
	nl = strchr(out, '\n');
	ASSERT_NOT_NULL(nl);
	ASSERT_TRUE(nl[1] == '\0');
	*nl = '\0';
	ASSERT_TRUE(out[0] != '\0' && strchr(out, ' ') == NULL);
	ASSERT_TRUE(strlen(out) < toksz);
	snprintf(tok, toksz, "%s", out);
}
