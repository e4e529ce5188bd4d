/*
 * Real IGA client conversations replayed against the real server:
 * Microsoft Entra ID, Okta and SailPoint. Request bodies are kept as
 * fixtures (tests/fixtures/<client>/NN_*.json, JSON as the client sends
 * it) with {{TOKEN}} placeholders filled in at run time; each sequence
 * runs in the client's order and checks what that client reads back:
 * status codes, Location on 201, id, userName, active, emails,
 * members, meta.version, and 200 with totalResults 0 for a query
 * without match.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "itest.h"
#include "util/strutil.h"

#define SCIM		"/scim/v2"
#define U_CORE		"urn:ietf:params:scim:schemas:core:2.0:User"
#define U_ENT \
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define U_PAM \
	"urn:ietf:params:scim:schemas:extension:pam:2.0:User"
#define G_CORE		"urn:ietf:params:scim:schemas:core:2.0:Group"
#define M_LIST		"urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define M_ERROR		"urn:ietf:params:scim:api:messages:2.0:Error"
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define S_SPC \
	"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define S_RT		"urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define S_SCHEMA	"urn:ietf:params:scim:schemas:core:2.0:Schema"

#define ID_SZ		64

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

static void
pool_reset(void)
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

static void *
keep(void *p)
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

static const char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static const char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	if (n < 0)
		TL_FAIL("vasprintf");
	return keep(s);
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
static const char *
enc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o, *p;

	o = keep(malloc(strlen(s) * 3 + 1));
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

static struct itest_resp *
call_h(const char *method, const char *path, const char *body,
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

static struct itest_resp *
call(const char *method, const char *path, const char *body)
{
	return call_h(method, path, body, NULL);
}

/* Member by '/'-separated path (array indexes as numbers); borrowed. */
static json_t *
jp(json_t *root, const char *path)
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

static const char *
js(const struct itest_resp *r, const char *path)
{
	json_t *v = jp(r->json, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long
ji(const struct itest_resp *r, const char *path)
{
	json_t *v = jp(r->json, path);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static int
jtrue(const struct itest_resp *r, const char *path)
{
	return json_is_true(jp(r->json, path));
}

static int
jfalse(const struct itest_resp *r, const char *path)
{
	return json_is_false(jp(r->json, path));
}

static size_t
jlen(const struct itest_resp *r, const char *path)
{
	json_t *v = jp(r->json, path);

	return json_is_array(v) ? json_array_size(v) : (size_t)-1;
}

/* 1 if array arr holds the string s. */
static int
arr_has_str(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* n of W/"n", or -1. */
static long long
etag_num(const char *t)
{
	long long n = 0;

	if (t == NULL || strncmp(t, "W/\"", 3) != 0 ||
	    !isdigit((unsigned char)t[3]))
		return -1;
	for (t += 3; isdigit((unsigned char)*t); t++)
		n = n * 10 + (*t - '0');
	return *t == '"' && t[1] == '\0' ? n : -1;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a, b;

	if (s == NULL)
		return 0;
	a = strlen(s);
	b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int
is_uuid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* A SCIM error response with that status and scimType (NULL = none). */
static void
check_error(const struct itest_resp *r, long status, const char *scim_type,
    int line)
{
	const char *st, *ty;
	char want[16];

	snprintf(want, sizeof(want), "%ld", status);
	st = js(r, "status");
	ty = js(r, "scimType");
	if (r->status != status || r->json == NULL ||
	    !arr_has_str(jp(r->json, "schemas"), M_ERROR) || st == NULL ||
	    strcmp(st, want) != 0 ||
	    (scim_type != NULL && (ty == NULL || strcmp(ty, scim_type) != 0)) ||
	    (scim_type == NULL && ty != NULL && ty[0] != '\0'))
		TL_FAIL("line %d: want SCIM error %ld/%s, got %ld: %.300s",
		    line, status, scim_type ? scim_type : "-", r->status,
		    r->body ? r->body : "");
}
#define CHECK_ERROR(r, st, ty) check_error((r), (st), (ty), __LINE__)

static void
check_status(const struct itest_resp *r, long status, int line)
{
	if (r->status != status)
		TL_FAIL("line %d: want status %ld, got %ld: %.300s", line,
		    status, r->status, r->body ? r->body : "");
}
#define CHECK_STATUS(r, st) check_status((r), (st), __LINE__)

static void
check_scim_ct(const struct itest_resp *r)
{
	if (strncmp(r->content_type, "application/scim+json", 21) != 0)
		TL_FAIL("Content-Type \"%s\"", r->content_type);
}

static const char *
user_path(const char *id)
{
	return fmt(SCIM "/Users/%s", id);
}

/* GET a list path and return the response, asserting a ListResponse. */
static struct itest_resp *
list(const char *path)
{
	struct itest_resp *r = call("GET", path, NULL);

	CHECK_STATUS(r, 200);
	check_scim_ct(r);
	if (!arr_has_str(jp(r->json, "schemas"), M_LIST))
		TL_FAIL("not a ListResponse: %.200s", r->body);
	return r;
}


/* Run a query printing one number; return it. */
static long long
sql_num(const char *sql)
{
	char out[256];
	size_t n;
	uint64_t v;
	int rc;

	rc = itest_sql(itest, out, sizeof(out), sql);
	if (rc != 0)
		TL_FAIL("psql exit %d for: %s", rc, sql);
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	if (parse_u64(out, 0, UINT64_MAX / 2, &v) != 0)
		TL_FAIL("not a number: \"%s\" from %s", out, sql);
	return (long long)v;
}

/* Replace every occurrence of tok in s by val (pooled result). */
static const char *
subst(const char *s, const char *tok, const char *val)
{
	const char *p;
	size_t tl = strlen(tok), vl = strlen(val), n = 0;
	char *o, *q;

	for (p = s; (p = strstr(p, tok)) != NULL; p += tl)
		n++;
	o = keep(malloc(strlen(s) + n * vl + 1));
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

/*
 * Load tests/fixtures/<rel> and fill its placeholders: the arguments
 * after rel are pairs "NAME", value, ended by NULL; "{{NAME}}" is
 * replaced. Every placeholder must be filled and the result must be
 * valid JSON, so a fixture typo fails here and not at the server.
 */
static const char *
fixture(const char *rel, ...)
{
	va_list ap;
	const char *s, *name, *val;
	json_error_t e;
	json_t *j;

	s = keep(itest_fixture(fmt("tests/fixtures/%s", rel)));
	va_start(ap, rel);
	while ((name = va_arg(ap, const char *)) != NULL) {
		val = va_arg(ap, const char *);
		s = subst(s, fmt("{{%s}}", name), val);
	}
	va_end(ap);
	if (strstr(s, "{{") != NULL)
		TL_FAIL("fixture %s: unfilled placeholder near %.40s", rel,
		    strstr(s, "{{"));
	if ((j = json_loads(s, JSON_REJECT_DUPLICATES, &e)) == NULL)
		TL_FAIL("fixture %s is not JSON: %s", rel, e.text);
	json_decref(j);
	return s;
}

static const char *
group_path(const char *id)
{
	return fmt(SCIM "/Groups/%s", id);
}

/* 201 with Location = meta.location ending in /<ep>/<id>, ETag W/"1". */
static void
check_created(const struct itest_resp *r, const char *ep, char *idout)
{
	CHECK_STATUS(r, 201);
	check_scim_ct(r);
	if (!is_uuid(js(r, "id")))
		TL_FAIL("no uuid id: %.300s", r->body);
	snprintf(idout, ID_SZ, "%s", js(r, "id"));
	ASSERT_TRUE(r->location[0] != '\0');
	ASSERT_STR_EQ(r->location, js(r, "meta/location"));
	ASSERT_TRUE(ends_with(r->location, fmt(SCIM "/%s/%s", ep, idout)));
	ASSERT_STR_EQ(r->etag, "W/\"1\"");
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"1\"");
}

static struct itest_resp *
get_ok(const char *path)
{
	struct itest_resp *r = call("GET", path, NULL);

	CHECK_STATUS(r, 200);
	check_scim_ct(r);
	return r;
}

/* A list query that must find nothing: 200, totalResults 0, []. */
static void
check_no_match(const char *path)
{
	struct itest_resp *r = list(path);

	ASSERT_INT_EQ(ji(r, "totalResults"), 0);
	ASSERT_TRUE(json_is_array(jp(r->json, "Resources")));
	ASSERT_INT_EQ(jlen(r, "Resources"), 0);
}

static void
check_set(const struct itest_resp *r, const char *path,
    const char *const *ids, int line)
{
	json_t *arr = jp(r->json, path), *v;
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
#define CHECK_MEMBERS(r, ...) do {					\
	const char *const ids_[] = { __VA_ARGS__ };			\
	check_set((r), "members", ids_, __LINE__);			\
} while (0)
#define CHECK_GROUPS(r, ...) do {					\
	const char *const ids_[] = { __VA_ARGS__ };			\
	check_set((r), "groups", ids_, __LINE__);			\
} while (0)

static struct itest_resp *
patch_group_204(const char *gid, const char *body)
{
	struct itest_resp *r = call("PATCH", group_path(gid), body);

	CHECK_STATUS(r, 204);
	ASSERT_INT_EQ(r->body_len, 0);
	if (etag_num(r->etag) < 2)
		TL_FAIL("PATCH 204 without a new ETag (\"%s\")", r->etag);
	return r;
}

static const char *
filter_q(const char *ep, const char *filter, const char *extra)
{
	return fmt(SCIM "/%s?filter=%s%s", ep, enc(filter), extra);
}

/* ---- Microsoft Entra ID ---- */

#define ENTRA_USER	"entra.user@contoso.example"
#define ENTRA_EXT	"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
#define ENTRA_MAIL2	"entra.user.new@contoso.example"

static void
t_entra_user(void)
{
	struct itest_resp *r, *g;
	char id[ID_SZ];

	pool_reset();
	/* matching: does the user exist? */
	check_no_match(filter_q("Users", "userName eq \"" ENTRA_USER "\"",
	    ""));
	check_no_match(filter_q("Users", "externalId eq \"" ENTRA_EXT "\"",
	    ""));

	r = call("POST", SCIM "/Users", fixture("entra/01_create_user.json",
	    "USER_NAME", ENTRA_USER, "EXTERNAL_ID", ENTRA_EXT, NULL));
	check_created(r, "Users", id);
	ASSERT_STR_EQ(js(r, "userName"), ENTRA_USER);
	ASSERT_STR_EQ(js(r, "externalId"), ENTRA_EXT);
	ASSERT_TRUE(jtrue(r, "active"));
	ASSERT_STR_EQ(js(r, "emails/0/value"), ENTRA_USER);
	ASSERT_STR_EQ(js(r, "emails/0/type"), "work");
	ASSERT_TRUE(jtrue(r, "emails/0/primary"));
	ASSERT_STR_EQ(js(r, "name/givenName"), "Entra");
	ASSERT_STR_EQ(js(r, "phoneNumbers/0/value"), "+1 555 0101");
	ASSERT_STR_EQ(js(r, "addresses/0/locality"), "Springfield");
	ASSERT_STR_EQ(js(r, U_ENT "/employeeNumber"), "100200");
	ASSERT_STR_EQ(js(r, U_ENT "/department"), "Platform");
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), U_ENT));
	ASSERT_STR_EQ(js(r, "meta/resourceType"), "User");

	/* a second POST of the same user: 409 uniqueness */
	g = call("POST", SCIM "/Users", fixture("entra/01_create_user.json",
	    "USER_NAME", ENTRA_USER, "EXTERNAL_ID", ENTRA_EXT, NULL));
	CHECK_ERROR(g, 409, "uniqueness");

	/* matching again finds it, by userName and by externalId */
	g = list(filter_q("Users", "userName eq \"" ENTRA_USER "\"", ""));
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);
	ASSERT_STR_EQ(js(g, "Resources/0/id"), id);
	ASSERT_STR_EQ(js(g, "Resources/0/userName"), ENTRA_USER);
	g = list(filter_q("Users", "externalId eq \"" ENTRA_EXT "\"", ""));
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);
	ASSERT_STR_EQ(js(g, "Resources/0/id"), id);
	g = get_ok(user_path(id));
	ASSERT_STR_EQ(js(g, "userName"), ENTRA_USER);
	ASSERT_STR_EQ(g->etag, "W/\"1\"");

	/* attribute updates: Replace / Add, value filter path, URN path */
	r = call("PATCH", user_path(id), fixture(
	    "entra/02_patch_user_update.json", "NEW_EMAIL", ENTRA_MAIL2,
	    NULL));
	CHECK_STATUS(r, 200);
	check_scim_ct(r);
	ASSERT_STR_EQ(js(r, "id"), id);
	ASSERT_STR_EQ(js(r, "name/familyName"), "Updated");
	ASSERT_STR_EQ(js(r, "name/givenName"), "Entra");
	ASSERT_INT_EQ(jlen(r, "emails"), 1);
	ASSERT_STR_EQ(js(r, "emails/0/value"), ENTRA_MAIL2);
	ASSERT_STR_EQ(js(r, "emails/0/type"), "work");
	ASSERT_TRUE(jtrue(r, "emails/0/primary"));
	ASSERT_STR_EQ(js(r, "title"), "Senior Engineer");
	ASSERT_STR_EQ(js(r, "nickName"), "entra-nick");
	ASSERT_STR_EQ(js(r, U_ENT "/department"), "Security");
	ASSERT_STR_EQ(js(r, U_ENT "/employeeNumber"), "100200");
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"2\"");
	ASSERT_STR_EQ(r->etag, "W/\"2\"");

	/* disable with the string "False" */
	r = call("PATCH", user_path(id), fixture(
	    "entra/03_patch_user_disable.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(jfalse(r, "active"));
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"3\"");
	g = get_ok(user_path(id));
	ASSERT_TRUE(jfalse(g, "active"));

	/* replace without path: dotted and URN-prefixed keys, "True" */
	r = call("PATCH", user_path(id), fixture(
	    "entra/04_patch_user_no_path.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(jtrue(r, "active"));
	ASSERT_STR_EQ(js(r, "displayName"), "Entra Renamed User");
	ASSERT_STR_EQ(js(r, "name/givenName"), "Renamed");
	ASSERT_STR_EQ(js(r, "name/familyName"), "Person");
	ASSERT_STR_EQ(js(r, "name/formatted"), "Entra User");
	ASSERT_STR_EQ(js(r, U_ENT "/employeeNumber"), "200300");
	ASSERT_STR_EQ(js(r, U_ENT "/department"), "Security");
	ASSERT_NULL(jp(r->json, "name.givenName"));
	ASSERT_NULL(jp(r->json, U_ENT ":employeeNumber"));
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"4\"");
	g = get_ok(user_path(id));
	ASSERT_TRUE(json_equal(g->json, r->json));

	/* Remove */
	r = call("PATCH", user_path(id), fixture(
	    "entra/05_patch_user_remove.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(jp(r->json, "nickName"));
	ASSERT_NULL(jp(r->json, U_ENT "/costCenter"));
	ASSERT_STR_EQ(js(r, U_ENT "/department"), "Security");
	ASSERT_STR_EQ(js(r, "title"), "Senior Engineer");

	/* found by the new mail, not the old one */
	g = list(filter_q("Users", "emails[type eq \"work\" and value eq \""
	    ENTRA_MAIL2 "\"]", ""));
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);
	check_no_match(filter_q("Users", "emails.value eq \"" ENTRA_USER
	    "\"", ""));

	/* unassignment: disable, then delete */
	r = call("PATCH", user_path(id), fixture(
	    "entra/03_patch_user_disable.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(jfalse(r, "active"));
	r = call("DELETE", user_path(id), NULL);
	CHECK_STATUS(r, 204);
	r = call("GET", user_path(id), NULL);
	CHECK_ERROR(r, 404, NULL);
	check_no_match(filter_q("Users", "userName eq \"" ENTRA_USER "\"",
	    ""));
}

static void
t_entra_group(void)
{
	struct itest_resp *r, *g;
	char u1[ID_SZ], u2[ID_SZ], gid[ID_SZ];
	const char *gname = "Entra Sales Team";

	pool_reset();
	r = call("POST", SCIM "/Users", fixture(
	    "entra/11_create_user_minimal.json", "USER_NAME",
	    "entra.m1@contoso.example", "EXTERNAL_ID",
	    "5e1c6f3a-0c47-4a3b-8f0c-7a0b5b8d9e01", NULL));
	check_created(r, "Users", u1);
	r = call("POST", SCIM "/Users", fixture(
	    "entra/11_create_user_minimal.json", "USER_NAME",
	    "entra.m2@contoso.example", "EXTERNAL_ID",
	    "5e1c6f3a-0c47-4a3b-8f0c-7a0b5b8d9e02", NULL));
	check_created(r, "Users", u2);

	check_no_match(filter_q("Groups", fmt("displayName eq \"%s\"", gname),
	    "&excludedAttributes=members"));
	r = call("POST", SCIM "/Groups", fixture("entra/06_create_group.json",
	    "GROUP_NAME", gname, "EXTERNAL_ID",
	    "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", NULL));
	check_created(r, "Groups", gid);
	ASSERT_STR_EQ(js(r, "displayName"), gname);
	ASSERT_STR_EQ(js(r, "externalId"),
	    "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
	ASSERT_STR_EQ(js(r, "meta/resourceType"), "Group");
	ASSERT_TRUE(jp(r->json, "members") == NULL ||
	    jlen(r, "members") == 0);

	g = list(filter_q("Groups", fmt("displayName eq \"%s\"", gname),
	    "&excludedAttributes=members"));
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);
	ASSERT_STR_EQ(js(g, "Resources/0/id"), gid);
	ASSERT_STR_EQ(js(g, "Resources/0/displayName"), gname);
	ASSERT_NULL(jp(g->json, "Resources/0/members"));

	patch_group_204(gid, fixture("entra/07_patch_group_add_members.json",
	    "USER_ID", u1, "USER2_ID", u2, NULL));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, u1, u2, NULL);
	ASSERT_STR_EQ(g->etag, "W/\"2\"");
	g = get_ok(fmt("%s?excludedAttributes=members", group_path(gid)));
	ASSERT_NULL(jp(g->json, "members"));
	ASSERT_STR_EQ(js(g, "displayName"), gname);
	g = get_ok(user_path(u1));
	CHECK_GROUPS(g, gid, NULL);

	/* membership check by filter */
	g = list(filter_q("Groups", fmt("id eq \"%s\" and members.value eq "
	    "\"%s\"", gid, u1), "&excludedAttributes=members"));
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);

	/* remove as members[value eq "id"] */
	patch_group_204(gid, fixture(
	    "entra/08_patch_group_remove_member_filter.json", "USER_ID", u1,
	    NULL));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, u2, NULL);
	check_no_match(filter_q("Groups", fmt("id eq \"%s\" and members.value "
	    "eq \"%s\"", gid, u1), "&excludedAttributes=members"));
	g = get_ok(user_path(u1));
	CHECK_GROUPS(g, NULL);

	/* remove as path "members" with a value list */
	patch_group_204(gid, fixture(
	    "entra/09_patch_group_remove_member_value.json", "USER2_ID", u2,
	    NULL));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, NULL);

	/* rename */
	patch_group_204(gid, fixture("entra/10_patch_group_replace_name.json",
	    "GROUP_NAME", "Entra Sales Team Renamed", NULL));
	g = get_ok(group_path(gid));
	ASSERT_STR_EQ(js(g, "displayName"), "Entra Sales Team Renamed");
	check_no_match(filter_q("Groups", fmt("displayName eq \"%s\"", gname),
	    "&excludedAttributes=members"));

	/* members come back; deleting a user drops it from the group */
	patch_group_204(gid, fixture("entra/07_patch_group_add_members.json",
	    "USER_ID", u1, "USER2_ID", u2, NULL));
	r = call("DELETE", user_path(u1), NULL);
	CHECK_STATUS(r, 204);
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, u2, NULL);

	r = call("DELETE", group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	r = call("GET", group_path(gid), NULL);
	CHECK_ERROR(r, 404, NULL);
	g = get_ok(user_path(u2));
	CHECK_GROUPS(g, NULL);
}

/* ---- Okta ---- */

#define OKTA_USER	"okta.tester+scim@example.com"
#define OKTA_PW		"1mz050nq-Okta-Pw"

static void
okta_plain_user(const char *name, const char *given, const char *ext,
    char *idout)
{
	struct itest_resp *r;

	r = call("POST", SCIM "/Users", fixture(
	    "okta/11_create_user_plain.json", "USER_NAME", name,
	    "GIVEN_NAME", given, "EXTERNAL_ID", ext,
	    "PASSWORD", OKTA_PW, NULL));
	check_created(r, "Users", idout);
}

static void
t_okta(void)
{
	struct itest_resp *r, *g, *created;
	char id[ID_SZ], u2[ID_SZ], u3[ID_SZ], gid[ID_SZ];
	const char *gname = "Okta Push Group";
	const char *gname2 = "Okta Push Group Renamed";

	pool_reset();
	/* "Test Connector Configuration" */
	r = list(SCIM "/Users?startIndex=1&count=2");
	ASSERT_TRUE(ji(r, "totalResults") >= 0);
	ASSERT_TRUE(ji(r, "itemsPerPage") >= 0 && ji(r, "itemsPerPage") <= 2);
	ASSERT_INT_EQ(ji(r, "startIndex"), 1);
	r = list(SCIM "/Groups?startIndex=1&count=100");
	ASSERT_INT_EQ(ji(r, "startIndex"), 1);

	/* import/match, then create */
	check_no_match(filter_q("Users", "userName eq \"" OKTA_USER "\"",
	    "&startIndex=1&count=100"));
	created = call("POST", SCIM "/Users", fixture(
	    "okta/01_create_user.json", "USER_NAME", OKTA_USER,
	    "PASSWORD", OKTA_PW, NULL));
	check_created(created, "Users", id);
	ASSERT_STR_EQ(js(created, "userName"), OKTA_USER);
	ASSERT_TRUE(jtrue(created, "active"));
	ASSERT_STR_EQ(js(created, "emails/0/value"), OKTA_USER);
	ASSERT_NULL(jp(created->json, "password"));
	ASSERT_NULL(strstr(created->body, OKTA_PW));
	ASSERT_TRUE(jp(created->json, "groups") == NULL ||
	    jlen(created, "groups") == 0);
	r = list(filter_q("Users", "userName eq \"" OKTA_USER "\"",
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_STR_EQ(js(r, "Resources/0/id"), id);
	ASSERT_INT_EQ(ji(r, "startIndex"), 1);
	ASSERT_INT_EQ(ji(r, "itemsPerPage"), 1);
	g = get_ok(user_path(id));
	ASSERT_STR_EQ(js(g, "userName"), OKTA_USER);

	okta_plain_user("okta.member2@example.com", "Second",
	    "00uokta000000000002", u2);
	okta_plain_user("okta.member3@example.com", "Third",
	    "00uokta000000000003", u3);

	/* group push: create with a member, find it */
	check_no_match(filter_q("Groups", fmt("displayName eq \"%s\"", gname),
	    "&startIndex=1&count=100"));
	r = call("POST", SCIM "/Groups", fixture("okta/06_create_group.json",
	    "GROUP_NAME", gname, "USER_ID", id, "USER_NAME", OKTA_USER, NULL));
	check_created(r, "Groups", gid);
	ASSERT_STR_EQ(js(r, "displayName"), gname);
	CHECK_MEMBERS(r, id, NULL);
	r = list(filter_q("Groups", fmt("displayName eq \"%s\"", gname),
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_STR_EQ(js(r, "Resources/0/id"), gid);
	CHECK_MEMBERS(get_ok(group_path(gid)), id, NULL);

	/* profile push: PUT with id, meta and groups:[] (all ignored) */
	g = get_ok(user_path(id));
	r = call("PUT", user_path(id), fixture("okta/02_replace_user.json",
	    "USER_ID", id, "USER_NAME", OKTA_USER,
	    "CREATED", js(g, "meta/created"),
	    "LAST_MODIFIED", js(g, "meta/lastModified"),
	    "LOCATION", js(g, "meta/location"),
	    "VERSION", subst(js(g, "meta/version"), "\"", "\\\""), NULL));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(js(r, "id"), id);
	ASSERT_STR_EQ(js(r, "name/familyName"), "Renamed");
	ASSERT_STR_EQ(js(r, "displayName"), "Okta Renamed");
	ASSERT_TRUE(jtrue(r, "active"));
	ASSERT_STR_EQ(js(r, "meta/created"), js(g, "meta/created"));
	ASSERT_TRUE(etag_num(js(r, "meta/version")) >
	    etag_num(js(g, "meta/version")));
	ASSERT_STR_EQ(r->etag, js(r, "meta/version"));
	/* "groups": [] in a PUT does not touch memberships */
	CHECK_GROUPS(r, gid, NULL);
	CHECK_GROUPS(get_ok(user_path(id)), gid, NULL);
	CHECK_MEMBERS(get_ok(group_path(gid)), id, NULL);

	/* deactivate / reactivate: replace without path */
	r = call("PATCH", user_path(id), fixture("okta/03_deactivate_user.json",
	    NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(jfalse(r, "active"));
	ASSERT_STR_EQ(js(r, "userName"), OKTA_USER);
	ASSERT_STR_EQ(js(r, "name/familyName"), "Renamed");
	g = get_ok(user_path(id));
	ASSERT_TRUE(jfalse(g, "active"));
	r = list(filter_q("Users", "userName eq \"" OKTA_USER "\"",
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_TRUE(jfalse(r, "Resources/0/active"));
	r = call("PATCH", user_path(id), fixture("okta/04_reactivate_user.json",
	    NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(jtrue(r, "active"));

	/* password push: accepted, never echoed or stored */
	r = call("PATCH", user_path(id), fixture("okta/05_password_user.json",
	    "PASSWORD", "Okta-Pushed-Pw-93f1", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(jp(r->json, "password"));
	ASSERT_NULL(strstr(r->body, "Okta-Pushed-Pw"));
	ASSERT_INT_EQ(sql_num(fmt("SELECT count(*) FROM scim_user t WHERE "
	    "t::text LIKE '%%%s%%' OR t::text LIKE '%%%s%%'",
	    "Okta-Pushed-Pw", OKTA_PW)), 0);

	/* group rename, the value carrying the group's own id */
	patch_group_204(gid, fixture("okta/07_rename_group.json", "GROUP_ID",
	    gid, "GROUP_NAME", gname2, NULL));
	g = get_ok(group_path(gid));
	ASSERT_STR_EQ(js(g, "displayName"), gname2);
	ASSERT_STR_EQ(js(g, "id"), gid);
	CHECK_MEMBERS(g, id, NULL);

	/* member push: replace the whole list */
	patch_group_204(gid, fixture("okta/08_replace_members.json",
	    "USER2_ID", u2, "USER2_NAME", "okta.member2@example.com",
	    "USER3_ID", u3, "USER3_NAME", "okta.member3@example.com", NULL));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, u2, u3, NULL);
	CHECK_GROUPS(get_ok(user_path(id)), NULL);
	CHECK_GROUPS(get_ok(user_path(u3)), gid, NULL);

	/* incremental add / remove */
	patch_group_204(gid, fixture("okta/09_add_members.json", "USER_ID",
	    id, "USER_NAME", OKTA_USER, NULL));
	CHECK_MEMBERS(get_ok(group_path(gid)), id, u2, u3, NULL);
	patch_group_204(gid, fixture("okta/10_remove_member.json",
	    "USER2_ID", u2, NULL));
	CHECK_MEMBERS(get_ok(group_path(gid)), id, u3, NULL);

	r = list(filter_q("Groups", fmt("displayName eq \"%s\"", gname2),
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_STR_EQ(js(r, "Resources/0/id"), gid);
	CHECK_MEMBERS(get_ok(group_path(gid)), id, u3, NULL);
	check_no_match(filter_q("Groups", fmt("displayName eq \"%s\"", gname),
	    "&startIndex=1&count=100"));

	/* group unlink/delete */
	r = call("DELETE", group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	CHECK_GROUPS(get_ok(user_path(id)), NULL);
}

/* ---- SailPoint ---- */

static void
t_sailpoint_discovery(void)
{
	struct itest_resp *r;
	json_t *res, *v, *attrs, *a;
	size_t i, k;
	int found_core = 0, found_ent = 0, found_pam = 0, found_group = 0;
	int seen_user_name = 0, seen_members = 0;

	pool_reset();
	r = get_ok(SCIM "/ServiceProviderConfig");
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), S_SPC));
	ASSERT_TRUE(jtrue(r, "patch/supported"));
	ASSERT_TRUE(jtrue(r, "filter/supported"));
	ASSERT_TRUE(ji(r, "filter/maxResults") > 0);
	ASSERT_TRUE(jtrue(r, "sort/supported"));
	ASSERT_TRUE(jtrue(r, "etag/supported"));
	ASSERT_TRUE(json_is_boolean(jp(r->json, "bulk/supported")));
	ASSERT_TRUE(json_is_boolean(jp(r->json, "changePassword/supported")));
	ASSERT_TRUE(jlen(r, "authenticationSchemes") >= 1 &&
	    jlen(r, "authenticationSchemes") != (size_t)-1);
	ASSERT_STR_EQ(js(r, "authenticationSchemes/0/type"),
	    "oauthbearertoken");

	r = get_ok(SCIM "/ResourceTypes");
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), M_LIST));
	ASSERT_INT_EQ(ji(r, "totalResults"), 2);
	ASSERT_INT_EQ(jlen(r, "Resources"), 2);

	r = get_ok(SCIM "/ResourceTypes/User");
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), S_RT));
	ASSERT_STR_EQ(js(r, "id"), "User");
	ASSERT_STR_EQ(js(r, "name"), "User");
	ASSERT_STR_EQ(js(r, "endpoint"), "/Users");
	ASSERT_STR_EQ(js(r, "schema"), U_CORE);
	ASSERT_STR_EQ(js(r, "meta/resourceType"), "ResourceType");
	json_array_foreach(jp(r->json, "schemaExtensions"), i, v) {
		const char *s = json_string_value(json_object_get(v, "schema"));

		ASSERT_TRUE(json_is_false(json_object_get(v, "required")));
		if (s != NULL && strcmp(s, U_ENT) == 0)
			found_ent = 1;
		if (s != NULL && strcmp(s, U_PAM) == 0)
			found_pam = 1;
	}
	ASSERT_TRUE(found_ent);
	ASSERT_TRUE(found_pam);

	r = get_ok(SCIM "/ResourceTypes/Group");
	ASSERT_STR_EQ(js(r, "id"), "Group");
	ASSERT_STR_EQ(js(r, "endpoint"), "/Groups");
	ASSERT_STR_EQ(js(r, "schema"), G_CORE);

	r = get_ok(SCIM "/Schemas");
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), M_LIST));
	ASSERT_INT_EQ(ji(r, "totalResults"), 4);
	res = jp(r->json, "Resources");
	ASSERT_INT_EQ(json_array_size(res), 4);
	found_ent = found_pam = 0;
	json_array_foreach(res, i, v) {
		const char *sid = json_string_value(json_object_get(v, "id"));

		ASSERT_NOT_NULL(sid);
		attrs = json_object_get(v, "attributes");
		ASSERT_TRUE(json_is_array(attrs) && json_array_size(attrs) > 0);
		if (strcmp(sid, U_CORE) == 0)
			found_core = 1;
		else if (strcmp(sid, U_ENT) == 0)
			found_ent = 1;
		else if (strcmp(sid, U_PAM) == 0)
			found_pam = 1;
		else if (strcmp(sid, G_CORE) == 0)
			found_group = 1;
		json_array_foreach(attrs, k, a) {
			const char *n = json_string_value(json_object_get(a,
			    "name"));

			ASSERT_NOT_NULL(n);
			ASSERT_NOT_NULL(json_string_value(json_object_get(a,
			    "type")));
			ASSERT_TRUE(json_is_boolean(json_object_get(a,
			    "multiValued")));
			if (strcmp(sid, U_CORE) == 0 &&
			    strcmp(n, "userName") == 0) {
				seen_user_name = 1;
				ASSERT_TRUE(json_is_true(json_object_get(a,
				    "required")));
				ASSERT_STR_EQ(json_string_value(
				    json_object_get(a, "uniqueness")),
				    "server");
			}
			if (strcmp(sid, G_CORE) == 0 &&
			    strcmp(n, "members") == 0) {
				seen_members = 1;
				ASSERT_TRUE(json_is_array(json_object_get(a,
				    "subAttributes")));
			}
		}
	}
	ASSERT_TRUE(found_core && found_ent && found_pam && found_group);
	ASSERT_TRUE(seen_user_name && seen_members);

	r = get_ok(SCIM "/Schemas/" U_PAM);
	ASSERT_STR_EQ(js(r, "id"), U_PAM);
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), S_SCHEMA));
	r = get_ok(SCIM "/Schemas/" U_ENT);
	ASSERT_STR_EQ(js(r, "id"), U_ENT);
	r = call("GET", SCIM "/Schemas/urn:example:no:such:schema", NULL);
	CHECK_ERROR(r, 404, NULL);
	r = call("GET", SCIM "/ResourceTypes/Device", NULL);
	CHECK_ERROR(r, 404, NULL);
}

#define SP_USER		"sp.dba@example.org"

static void
t_sailpoint_provision(void)
{
	struct itest_resp *r, *g;
	char mgr[ID_SZ], id[ID_SZ], gid[ID_SZ];
	json_t *v;
	size_t i;
	int found;

	pool_reset();
	r = call("POST", SCIM "/Users", "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"sp.manager@example.org\",\"active\":true}");
	check_created(r, "Users", mgr);

	r = call("POST", SCIM "/Users", fixture("sailpoint/01_create_user.json",
	    "USER_NAME", SP_USER, "EXTERNAL_ID", "sp-ext-0042",
	    "MANAGER_ID", mgr, NULL));
	check_created(r, "Users", id);
	ASSERT_STR_EQ(js(r, "userName"), SP_USER);
	ASSERT_TRUE(jtrue(r, "active"));
	ASSERT_STR_EQ(js(r, U_ENT "/manager/value"), mgr);
	ASSERT_STR_EQ(js(r, U_ENT "/employeeNumber"), "SP-0042");
	ASSERT_TRUE(jtrue(r, U_PAM "/privileged"));
	ASSERT_STR_EQ(js(r, U_PAM "/adminRoles/0"), "db-admin");
	ASSERT_STR_EQ(js(r, U_PAM "/vaultScope/0"), "prod-postgres");
	ASSERT_INT_EQ(ji(r, U_PAM "/maxJitDurationSeconds"), 3600);
	ASSERT_STR_EQ(js(r, U_PAM "/riskLevel"), "high");
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), U_PAM));

	/* aggregation: page through every user and find this one */
	found = 0;
	{
		long long start = 1, total;

		do {
			r = list(fmt(SCIM "/Users?startIndex=%lld&count=100",
			    start));
			total = ji(r, "totalResults");
			json_array_foreach(jp(r->json, "Resources"), i, v) {
				const char *vid = json_string_value(
				    json_object_get(v, "id"));

				if (vid != NULL && strcmp(vid, id) == 0)
					found++;
			}
			if (ji(r, "itemsPerPage") <= 0)
				break;
			start += ji(r, "itemsPerPage");
		} while (start <= total);
	}
	ASSERT_INT_EQ(found, 1);
	r = list(filter_q("Users", "userName eq \"" SP_USER "\"", ""));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);

	/* update by PUT */
	r = call("PUT", user_path(id), fixture("sailpoint/02_update_user.json",
	    "USER_ID", id, "USER_NAME", SP_USER, "EXTERNAL_ID", "sp-ext-0042",
	    "MANAGER_ID", mgr, NULL));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(js(r, "title"), "Lead DBA");
	ASSERT_STR_EQ(js(r, U_ENT "/department"), "Data Platform");
	ASSERT_INT_EQ(jlen(r, U_PAM "/adminRoles"), 2);
	ASSERT_INT_EQ(ji(r, U_PAM "/maxJitDurationSeconds"), 7200);
	ASSERT_STR_EQ(js(r, U_PAM "/riskLevel"), "critical");
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"2\"");

	/* entitlement change by PATCH */
	r = call("PATCH", user_path(id), fixture(
	    "sailpoint/03_patch_user_entitlement.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(jlen(r, U_PAM "/adminRoles"), 3);
	ASSERT_TRUE(arr_has_str(jp(r->json, U_PAM "/adminRoles"),
	    "schema-owner"));
	ASSERT_TRUE(arr_has_str(jp(r->json, U_PAM "/adminRoles"),
	    "backup-operator"));
	ASSERT_STR_EQ(js(r, U_PAM "/riskLevel"), "medium");
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"3\"");

	/* group and membership */
	r = call("POST", SCIM "/Groups", fixture(
	    "sailpoint/04_create_group.json", "GROUP_NAME", "SP DB Admins",
	    "EXTERNAL_ID", "sp-grp-1", NULL));
	check_created(r, "Groups", gid);
	patch_group_204(gid, fixture("sailpoint/05_add_member.json",
	    "USER_ID", id, NULL));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, id, NULL);
	ASSERT_STR_EQ(js(g, "members/0/type"), "User");
	g = get_ok(user_path(id));
	CHECK_GROUPS(g, gid, NULL);
	r = list(SCIM "/Groups?startIndex=1&count=100");
	found = 0;
	json_array_foreach(jp(r->json, "Resources"), i, v) {
		const char *vid = json_string_value(json_object_get(v, "id"));

		if (vid != NULL && strcmp(vid, gid) == 0)
			found++;
	}
	ASSERT_INT_EQ(found, 1);
	patch_group_204(gid, fixture("sailpoint/06_remove_member.json",
	    "USER_ID", id, NULL));
	CHECK_MEMBERS(get_ok(group_path(gid)), NULL);

	/* disable */
	r = call("PATCH", user_path(id), fixture(
	    "sailpoint/07_disable_user.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(jfalse(r, "active"));
	g = get_ok(user_path(id));
	ASSERT_TRUE(jfalse(g, "active"));
	ASSERT_INT_EQ(jlen(g, U_PAM "/adminRoles"), 3);
}

static const struct testlib_case cases[] = {
	{ "Entra ID user lifecycle", t_entra_user },
	{ "Entra ID group lifecycle", t_entra_group },
	{ "Okta user and group push", t_okta },
	{ "SailPoint discovery", t_sailpoint_discovery },
	{ "SailPoint provisioning", t_sailpoint_provision },
};

ITEST_MAIN(cases)
