/*
 * SCIM Groups over HTTP against the real server (contract-scim.md):
 * CRUD, User and nested Group members, consistency of Group "members"
 * with User "groups", PATCH member changes (204, ETag), large member
 * lists (2,000 added and 1,000 removed in one PATCH each, checked
 * through the API and in the membership table), excludedAttributes,
 * members of deleted users, unknown members, displayName uniqueness,
 * all-or-nothing PATCH and If-Match.
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
#define G_CORE		"urn:ietf:params:scim:schemas:core:2.0:Group"
#define M_LIST		"urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define M_ERROR		"urn:ietf:params:scim:api:messages:2.0:Error"
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define M_SEARCH	"urn:ietf:params:scim:api:messages:2.0:SearchRequest"

#define ID_SZ		64
#define NUSERS		12
#define NBIG		2000
#define NBIG_REMOVE	1000

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

/* JSON body text of j (j is released). */
static const char *
dump(json_t *j)
{
	char *s;

	if (j == NULL)
		TL_FAIL("json build failed");
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return keep(s);
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

static int
is_datetime(const char *s)
{
	return s != NULL && strlen(s) >= 20 && s[4] == '-' && s[7] == '-' &&
	    s[10] == 'T' && s[13] == ':' && s[16] == ':';
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

/* POST a user body, expect 201; id copied to idout. */
static struct itest_resp *
create_user(const char *body, char *idout)
{
	struct itest_resp *r = call("POST", SCIM "/Users", body);

	CHECK_STATUS(r, 201);
	if (!is_uuid(js(r, "id")))
		TL_FAIL("no uuid id in %.200s", r->body);
	snprintf(idout, ID_SZ, "%s", js(r, "id"));
	return r;
}

static struct itest_resp *
create_simple(const char *user_name, char *idout)
{
	return create_user(fmt("{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"%s\"}", user_name), idout);
}

static const char *
user_path(const char *id)
{
	return fmt(SCIM "/Users/%s", id);
}

static const char *
patch_body(const char *ops)
{
	return fmt("{\"schemas\":[\"" M_PATCH "\"],\"Operations\":%s}", ops);
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

static char uid[NUSERS][ID_SZ];

static const char *
group_path(const char *id)
{
	return fmt(SCIM "/Groups/%s", id);
}

static struct itest_resp *
create_group(const char *body, char *idout)
{
	struct itest_resp *r = call("POST", SCIM "/Groups", body);

	CHECK_STATUS(r, 201);
	if (!is_uuid(js(r, "id")))
		TL_FAIL("no uuid id in %.200s", r->body);
	snprintf(idout, ID_SZ, "%s", js(r, "id"));
	return r;
}

/* A group body: displayName and member ids (NULL-terminated). */
static const char *
group_body(const char *name, const char *const *ids)
{
	json_t *g, *m;
	size_t i;

	g = json_pack("{s[s]ss}", "schemas", G_CORE, "displayName", name);
	m = json_array();
	for (i = 0; ids != NULL && ids[i] != NULL; i++)
		json_array_append_new(m, json_pack("{ss}", "value", ids[i]));
	json_object_set_new(g, "members", m);
	return dump(g);
}

/* A PatchOp with one op on "members" and a value list of ids. */
static const char *
members_op(const char *op, const char *const *ids)
{
	json_t *v;
	size_t i;

	v = json_array();
	for (i = 0; ids[i] != NULL; i++)
		json_array_append_new(v, json_pack("{ss}", "value", ids[i]));
	return dump(json_pack("{s[s]s[{ssssso}]}", "schemas", M_PATCH,
	    "Operations", "op", op, "path", "members", "value", v));
}

/* Version of a group read without its members. */
static long long
group_version(const char *gid)
{
	struct itest_resp *r;

	r = call("GET", fmt("%s?excludedAttributes=members", group_path(gid)),
	    NULL);
	CHECK_STATUS(r, 200);
	ASSERT_NULL(jp(r->json, "members"));
	if (etag_num(r->etag) != etag_num(js(r, "meta/version")))
		TL_FAIL("ETag %s != meta.version", r->etag);
	return etag_num(r->etag);
}

/* values of the array at path ("members", "groups"): exactly ids. */
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
get_ok(const char *path)
{
	struct itest_resp *r = call("GET", path, NULL);

	CHECK_STATUS(r, 200);
	check_scim_ct(r);
	return r;
}

/* A PATCH on a group that must answer 204 with an ETag and no body. */
static struct itest_resp *
patch_204(const char *gid, const char *body)
{
	struct itest_resp *r = call("PATCH", group_path(gid), body);

	CHECK_STATUS(r, 204);
	if (r->body_len != 0)
		TL_FAIL("204 with a body: %.200s", r->body);
	if (etag_num(r->etag) < 1)
		TL_FAIL("PATCH 204 without a W/\"n\" ETag (\"%s\")", r->etag);
	return r;
}

static long long
member_rows(const char *gid)
{
	return sql_num(fmt("SELECT count(*) FROM scim_group_member "
	    "WHERE group_id = '%s'", gid));
}

static void
t_setup(void)
{
	int i;

	pool_reset();
	for (i = 0; i < NUSERS; i++)
		create_user(fmt("{\"schemas\":[\"" U_CORE "\"],"
		    "\"userName\":\"gu%02d@example.net\","
		    "\"displayName\":\"GU %02d\"}", i, i), uid[i]);
}

static void
check_member_entry(json_t *m, const char *type)
{
	const char *v = json_string_value(json_object_get(m, "value"));
	const char *ref = json_string_value(json_object_get(m, "$ref"));

	ASSERT_TRUE(is_uuid(v));
	ASSERT_STR_EQ(json_string_value(json_object_get(m, "type")), type);
	ASSERT_TRUE(ends_with(ref, fmt(SCIM "/%s/%s", strcmp(type, "User")
	    == 0 ? "Users" : "Groups", v)));
}

static void
t_crud(void)
{
	struct itest_resp *r, *g;
	char gid[ID_SZ];
	const char *const m01[] = { uid[0], uid[1], NULL };
	const char *const m2[] = { uid[2], NULL };
	json_t *v;
	size_t i;

	pool_reset();
	r = create_group(group_body("Engineering", m01), gid);
	check_scim_ct(r);
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), G_CORE));
	ASSERT_STR_EQ(js(r, "displayName"), "Engineering");
	ASSERT_STR_EQ(r->etag, "W/\"1\"");
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"1\"");
	ASSERT_STR_EQ(js(r, "meta/resourceType"), "Group");
	ASSERT_TRUE(is_datetime(js(r, "meta/created")));
	ASSERT_TRUE(is_datetime(js(r, "meta/lastModified")));
	ASSERT_STR_EQ(r->location, js(r, "meta/location"));
	ASSERT_TRUE(ends_with(r->location, fmt(SCIM "/Groups/%s", gid)));
	CHECK_MEMBERS(r, uid[0], uid[1], NULL);
	json_array_foreach(jp(r->json, "members"), i, v)
		check_member_entry(v, "User");

	g = get_ok(group_path(gid));
	ASSERT_STR_EQ(g->etag, "W/\"1\"");
	ASSERT_STR_EQ(js(g, "displayName"), "Engineering");
	ASSERT_STR_EQ(js(g, "meta/location"), r->location);
	CHECK_MEMBERS(g, uid[0], uid[1], NULL);
	json_array_foreach(jp(g->json, "members"), i, v)
		check_member_entry(v, "User");

	g = get_ok(user_path(uid[0]));
	CHECK_GROUPS(g, gid, NULL);
	ASSERT_STR_EQ(js(g, "groups/0/display"), "Engineering");
	ASSERT_STR_EQ(js(g, "groups/0/type"), "direct");
	ASSERT_TRUE(ends_with(js(g, "groups/0/$ref"),
	    fmt(SCIM "/Groups/%s", gid)));

	/* PUT replaces name and members; a foreign id is ignored */
	r = call("PUT", group_path(gid), dump(json_pack("{s[s]sssss[{ss}]}",
	    "schemas", G_CORE, "id", "11111111-2222-4333-8444-555555555555",
	    "displayName", "Engineering Two", "members", "value", m2[0])));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(js(r, "id"), gid);
	ASSERT_STR_EQ(r->etag, "W/\"2\"");
	ASSERT_STR_EQ(js(r, "meta/version"), "W/\"2\"");
	ASSERT_STR_EQ(js(r, "displayName"), "Engineering Two");
	CHECK_MEMBERS(r, uid[2], NULL);
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[2], NULL);
	ASSERT_STR_EQ(g->etag, "W/\"2\"");
	g = get_ok(user_path(uid[0]));
	CHECK_GROUPS(g, NULL);
	g = get_ok(user_path(uid[2]));
	CHECK_GROUPS(g, gid, NULL);
	ASSERT_STR_EQ(js(g, "groups/0/display"), "Engineering Two");

	/* PUT without members empties the group */
	r = call("PUT", group_path(gid), "{\"schemas\":[\"" G_CORE "\"],"
	    "\"displayName\":\"Engineering Two\"}");
	CHECK_STATUS(r, 200);
	CHECK_MEMBERS(r, NULL);
	ASSERT_INT_EQ(member_rows(gid), 0);

	r = call("DELETE", group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	ASSERT_INT_EQ(r->body_len, 0);
	r = call("GET", group_path(gid), NULL);
	CHECK_ERROR(r, 404, NULL);
	r = call("DELETE", group_path(gid), NULL);
	CHECK_ERROR(r, 404, NULL);
	r = call("GET", SCIM "/Groups/not-a-uuid", NULL);
	CHECK_ERROR(r, 404, NULL);
	g = get_ok(user_path(uid[2]));
	CHECK_GROUPS(g, NULL);
	/* the user is still there */
	ASSERT_STR_EQ(js(g, "id"), uid[2]);
}

static void
t_nested(void)
{
	struct itest_resp *r, *g;
	char child[ID_SZ], parent[ID_SZ], grand[ID_SZ];
	const char *const m3[] = { uid[3], NULL };
	json_t *v;
	size_t i;
	long long ver;
	int seen_group = 0;

	pool_reset();
	create_group(group_body("Nested Child", m3), child);
	r = create_group(dump(json_pack("{s[s]sss[{ssss}{ss}]}", "schemas",
	    G_CORE, "displayName", "Nested Parent", "members", "value", child,
	    "type", "Group", "value", uid[4])), parent);
	CHECK_MEMBERS(r, child, uid[4], NULL);
	g = get_ok(group_path(parent));
	CHECK_MEMBERS(g, child, uid[4], NULL);
	json_array_foreach(jp(g->json, "members"), i, v) {
		const char *val = json_string_value(json_object_get(v,
		    "value"));

		if (strcmp(val, child) == 0) {
			check_member_entry(v, "Group");
			seen_group = 1;
		} else
			check_member_entry(v, "User");
	}
	ASSERT_TRUE(seen_group);

	/* the type is found even when the client does not send it */
	r = create_group(dump(json_pack("{s[s]sss[{ss}]}", "schemas", G_CORE,
	    "displayName", "Nested Grandparent", "members", "value", parent)),
	    grand);
	ASSERT_STR_EQ(js(r, "members/0/type"), "Group");

	/* User "groups" lists direct memberships only */
	g = get_ok(user_path(uid[3]));
	CHECK_GROUPS(g, child, NULL);
	g = get_ok(user_path(uid[4]));
	CHECK_GROUPS(g, parent, NULL);

	/* filtering Groups by member */
	r = list(fmt(SCIM "/Groups?filter=%s", enc(fmt("members.value eq "
	    "\"%s\"", child))));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_STR_EQ(js(r, "Resources/0/id"), parent);

	/* deleting the child group removes it from the parent */
	ver = group_version(parent);
	r = call("DELETE", group_path(child), NULL);
	CHECK_STATUS(r, 204);
	g = get_ok(group_path(parent));
	CHECK_MEMBERS(g, uid[4], NULL);
	r = get_ok(user_path(uid[3]));
	CHECK_GROUPS(r, NULL);
	ASSERT_INT_EQ(sql_num(fmt("SELECT count(*) FROM scim_group_member "
	    "WHERE member_id = '%s'", child)), 0);
	/* the parent's member list changed, so its version did too */
	if (etag_num(g->etag) <= ver)
		TL_FAIL("parent version %lld not above %lld after its member "
		    "group was deleted", etag_num(g->etag), ver);
}

static void
t_consistency(void)
{
	struct itest_resp *g;
	char gid[3][ID_SZ];
	const char *const none[] = { NULL };
	json_t *v;
	size_t k;
	int i;

	pool_reset();
	for (i = 0; i < 3; i++)
		create_group(group_body(fmt("Consistency %d", i), none),
		    gid[i]);
	/* u5: g0 g1; u6: g1 g2; u7: g2; u8: none; u9: g0 g1 g2 */
	patch_204(gid[0], members_op("add", (const char *const []){ uid[5],
	    uid[9], NULL }));
	patch_204(gid[1], members_op("add", (const char *const []){ uid[5],
	    uid[6], uid[9], uid[8], NULL }));
	patch_204(gid[2], members_op("add", (const char *const []){ uid[6],
	    uid[7], uid[9], NULL }));
	patch_204(gid[1], patch_body(fmt("[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"%s\\\"]\"}]", uid[8])));

	g = get_ok(user_path(uid[5]));
	CHECK_GROUPS(g, gid[0], gid[1], NULL);
	g = get_ok(user_path(uid[6]));
	CHECK_GROUPS(g, gid[1], gid[2], NULL);
	g = get_ok(user_path(uid[7]));
	CHECK_GROUPS(g, gid[2], NULL);
	g = get_ok(user_path(uid[8]));
	CHECK_GROUPS(g, NULL);
	g = get_ok(user_path(uid[9]));
	CHECK_GROUPS(g, gid[0], gid[1], gid[2], NULL);
	json_array_foreach(jp(g->json, "groups"), k, v) {
		const char *gv = json_string_value(json_object_get(v,
		    "value"));
		const char *disp = json_string_value(json_object_get(v,
		    "display"));

		ASSERT_NOT_NULL(gv);
		ASSERT_STR_EQ(disp, fmt("Consistency %d",
		    strcmp(gv, gid[0]) == 0 ? 0 :
		    strcmp(gv, gid[1]) == 0 ? 1 : 2));
		ASSERT_STR_EQ(json_string_value(json_object_get(v, "type")),
		    "direct");
		ASSERT_TRUE(ends_with(json_string_value(json_object_get(v,
		    "$ref")), fmt(SCIM "/Groups/%s", gv)));
	}
	g = get_ok(group_path(gid[0]));
	CHECK_MEMBERS(g, uid[5], uid[9], NULL);
	g = get_ok(group_path(gid[1]));
	CHECK_MEMBERS(g, uid[5], uid[6], uid[9], NULL);
	g = get_ok(group_path(gid[2]));
	CHECK_MEMBERS(g, uid[6], uid[7], uid[9], NULL);

	/* a rename shows in the members' "groups" display */
	patch_204(gid[2], patch_body("[{\"op\":\"replace\",\"path\":"
	    "\"displayName\",\"value\":\"Consistency Renamed\"}]"));
	g = get_ok(user_path(uid[7]));
	ASSERT_STR_EQ(js(g, "groups/0/display"), "Consistency Renamed");

	/* user filter on groups agrees */
	g = list(fmt(SCIM "/Users?filter=%s&sortBy=userName",
	    enc(fmt("groups.value eq \"%s\"", gid[1]))));
	ASSERT_INT_EQ(ji(g, "totalResults"), 3);
	ASSERT_STR_EQ(js(g, "Resources/0/id"), uid[5]);
	ASSERT_STR_EQ(js(g, "Resources/1/id"), uid[6]);
	ASSERT_STR_EQ(js(g, "Resources/2/id"), uid[9]);
}

static void
t_patch_members(void)
{
	struct itest_resp *r, *g;
	char gid[ID_SZ];
	const char *const m0[] = { uid[0], NULL };
	long long v, nv;

	pool_reset();
	create_group(group_body("Patchers", m0), gid);
	v = 1;

	r = patch_204(gid, members_op("add", (const char *const []){ uid[1],
	    NULL }));
	ASSERT_INT_EQ(etag_num(r->etag), v + 1);
	v = etag_num(r->etag);
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[0], uid[1], NULL);
	ASSERT_INT_EQ(etag_num(g->etag), v);

	/* adding an existing member again does not duplicate it */
	patch_204(gid, members_op("Add", (const char *const []){ uid[1],
	    NULL }));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[0], uid[1], NULL);
	ASSERT_INT_EQ(member_rows(gid), 2);
	v = etag_num(g->etag);

	/* remove by value filter */
	r = patch_204(gid, patch_body(fmt("[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"%s\\\"]\"}]", uid[0])));
	ASSERT_TRUE(etag_num(r->etag) > v);
	v = etag_num(r->etag);
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[1], NULL);

	/* remove with path "members" and a value list */
	r = patch_204(gid, members_op("remove", (const char *const []){
	    uid[1], NULL }));
	ASSERT_TRUE(etag_num(r->etag) > v);
	v = etag_num(r->etag);
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, NULL);
	ASSERT_INT_EQ(member_rows(gid), 0);

	/* add three, then replace the whole list */
	patch_204(gid, members_op("add", (const char *const []){ uid[2],
	    uid[3], uid[4], NULL }));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[2], uid[3], uid[4], NULL);
	r = patch_204(gid, members_op("replace", (const char *const []){
	    uid[5], uid[6], NULL }));
	nv = etag_num(r->etag);
	ASSERT_TRUE(nv > v);
	v = nv;
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[5], uid[6], NULL);
	ASSERT_INT_EQ(member_rows(gid), 2);
	g = get_ok(user_path(uid[2]));
	CHECK_GROUPS(g, NULL);

	/* replace without a path */
	patch_204(gid, patch_body(fmt("[{\"op\":\"replace\",\"value\":"
	    "{\"members\":[{\"value\":\"%s\"}]}}]", uid[7])));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[7], NULL);

	/* several ops in one PATCH, applied in order */
	patch_204(gid, patch_body(fmt("["
	    "{\"op\":\"add\",\"path\":\"members\",\"value\":"
	    "[{\"value\":\"%s\"},{\"value\":\"%s\"}]},"
	    "{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"},"
	    "{\"op\":\"add\",\"path\":\"members\",\"value\":"
	    "[{\"value\":\"%s\"}]},"
	    "{\"op\":\"replace\",\"path\":\"displayName\","
	    "\"value\":\"Patchers 2\"}]", uid[8], uid[9], uid[7], uid[10])));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[8], uid[9], uid[10], NULL);
	ASSERT_STR_EQ(js(g, "displayName"), "Patchers 2");

	/* remove path "members" without a value: all of them */
	patch_204(gid, patch_body("[{\"op\":\"remove\",\"path\":"
	    "\"members\"}]"));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, NULL);
	ASSERT_INT_EQ(member_rows(gid), 0);

	/* attributes= / excludedAttributes= ask for a body: 200 */
	r = call("PATCH", fmt("%s?attributes=members,displayName",
	    group_path(gid)), members_op("add", (const char *const []){
	    uid[11], NULL }));
	CHECK_STATUS(r, 200);
	check_scim_ct(r);
	CHECK_MEMBERS(r, uid[11], NULL);
	ASSERT_STR_EQ(js(r, "displayName"), "Patchers 2");
	ASSERT_STR_EQ(js(r, "id"), gid);
	ASSERT_TRUE(etag_num(r->etag) > 1);
	r = call("PATCH", fmt("%s?excludedAttributes=members",
	    group_path(gid)), members_op("add", (const char *const []){
	    uid[10], NULL }));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(jp(r->json, "members"));
	ASSERT_STR_EQ(js(r, "displayName"), "Patchers 2");
	ASSERT_STR_EQ(r->etag, js(r, "meta/version"));
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[10], uid[11], NULL);
}

static void
t_big(void)
{
	static char big[NBIG][ID_SZ];
	struct itest_resp r, *g;
	char gid[ID_SZ], body[256], path[128];
	const char *bodytext;
	json_t *ops, *vals, *m, *v;
	size_t i;
	int k, n;

	pool_reset();
	for (k = 0; k < NBIG; k++) {
		snprintf(body, sizeof(body), "{\"schemas\":[\"" U_CORE "\"],"
		    "\"userName\":\"big%04d@example.net\"}", k);
		if (itest_http(itest, "POST", SCIM "/Users", NULL, body, NULL,
		    &r) != 0)
			TL_FAIL("transport failure creating user %d", k);
		n = r.status == 201 && is_uuid(itest_json_str(&r, "id"));
		if (n)
			snprintf(big[k], ID_SZ, "%s", itest_json_str(&r, "id"));
		itest_resp_free(&r);
		if (!n)
			TL_FAIL("creating user %d failed", k);
	}
	create_group(group_body("Big Group", NULL), gid);

	/* 2,000 members in one PATCH */
	vals = json_array();
	for (k = 0; k < NBIG; k++)
		json_array_append_new(vals, json_pack("{ssss}", "value",
		    big[k], "type", "User"));
	bodytext = dump(json_pack("{s[s]s[{sssssO}]}", "schemas", M_PATCH,
	    "Operations", "op", "add", "path", "members", "value", vals));
	json_decref(vals);
	patch_204(gid, bodytext);
	ASSERT_INT_EQ(member_rows(gid), NBIG);
	g = get_ok(group_path(gid));
	ASSERT_INT_EQ(jlen(g, "members"), NBIG);
	{
		/* every id exactly once */
		json_t *seen = json_object();

		json_array_foreach(jp(g->json, "members"), i, v) {
			const char *val = json_string_value(json_object_get(v,
			    "value"));

			if (val == NULL || json_object_get(seen, val) != NULL) {
				json_decref(seen);
				TL_FAIL("member %zu missing or repeated", i);
			}
			json_object_set_new(seen, val, json_true());
		}
		for (k = 0; k < NBIG; k++) {
			if (json_object_get(seen, big[k]) == NULL) {
				json_decref(seen);
				TL_FAIL("user %d not a member", k);
			}
		}
		json_decref(seen);
	}

	/* 1,000 removed in one PATCH: 500 by value list, 500 by filter */
	ops = json_array();
	vals = json_array();
	for (k = 0; k < NBIG_REMOVE / 2; k++)
		json_array_append_new(vals, json_pack("{ss}", "value", big[k]));
	json_array_append_new(ops, json_pack("{sssssO}", "op", "remove",
	    "path", "members", "value", vals));
	json_decref(vals);
	for (k = NBIG_REMOVE / 2; k < NBIG_REMOVE; k++) {
		snprintf(path, sizeof(path), "members[value eq \"%s\"]",
		    big[k]);
		json_array_append_new(ops, json_pack("{ssss}", "op", "remove",
		    "path", path));
	}
	m = json_pack("{s[s]sO}", "schemas", M_PATCH, "Operations", ops);
	json_decref(ops);
	patch_204(gid, dump(m));
	ASSERT_INT_EQ(member_rows(gid), NBIG - NBIG_REMOVE);
	g = get_ok(group_path(gid));
	ASSERT_INT_EQ(jlen(g, "members"), NBIG - NBIG_REMOVE);
	{
		json_t *seen = json_object();

		json_array_foreach(jp(g->json, "members"), i, v)
			json_object_set(seen, json_string_value(
			    json_object_get(v, "value")), json_true());
		for (k = 0; k < NBIG; k++) {
			int in = json_object_get(seen, big[k]) != NULL;

			if (in != (k >= NBIG_REMOVE)) {
				json_decref(seen);
				TL_FAIL("user %d %s", k, in ? "still a member" :
				    "removed by mistake");
			}
		}
		json_decref(seen);
	}
	g = get_ok(user_path(big[0]));
	CHECK_GROUPS(g, NULL);
	g = get_ok(user_path(big[NBIG - 1]));
	CHECK_GROUPS(g, gid, NULL);

	/* excludedAttributes=members: no members, on GET and list */
	g = get_ok(fmt("%s?excludedAttributes=members", group_path(gid)));
	ASSERT_NULL(jp(g->json, "members"));
	ASSERT_STR_EQ(js(g, "displayName"), "Big Group");
	g = list(fmt(SCIM "/Groups?filter=%s&excludedAttributes=members",
	    enc("displayName eq \"big group\"")));
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);
	ASSERT_STR_EQ(js(g, "Resources/0/id"), gid);
	ASSERT_NULL(jp(g->json, "Resources/0/members"));
	g = list(fmt(SCIM "/Groups?excludedAttributes=members&count=1000"));
	json_array_foreach(jp(g->json, "Resources"), i, v)
		ASSERT_NULL(json_object_get(v, "members"));
	g = call("POST", SCIM "/Groups/.search", "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"displayName eq \\\"Big Group\\\"\","
	    "\"excludedAttributes\":[\"members\"]}");
	CHECK_STATUS(g, 200);
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);
	ASSERT_NULL(jp(g->json, "Resources/0/members"));
	ASSERT_STR_EQ(js(g, "Resources/0/displayName"), "Big Group");

	/* default page size is 100 */
	g = list(SCIM "/Users");
	ASSERT_TRUE(ji(g, "totalResults") >= NBIG);
	ASSERT_INT_EQ(ji(g, "itemsPerPage"), 100);
	ASSERT_INT_EQ(jlen(g, "Resources"), 100);
	/* and a count over 1000 is capped at 1000 */
	g = list(SCIM "/Users?count=1500&attributes=userName");
	ASSERT_INT_EQ(ji(g, "itemsPerPage"), 1000);
	ASSERT_INT_EQ(jlen(g, "Resources"), 1000);

	/* deleting the group leaves no membership rows */
	g = call("DELETE", group_path(gid), NULL);
	CHECK_STATUS(g, 204);
	ASSERT_INT_EQ(member_rows(gid), 0);
}

static void
t_deleted_user(void)
{
	struct itest_resp *r, *g;
	char a[ID_SZ], b[ID_SZ], gid[ID_SZ];
	long long v;

	pool_reset();
	create_simple("del.a@example.net", a);
	create_simple("del.b@example.net", b);
	create_group(group_body("Deletion", (const char *const []){ a, b,
	    NULL }), gid);
	v = group_version(gid);
	r = call("DELETE", user_path(a), NULL);
	CHECK_STATUS(r, 204);
	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, b, NULL);
	ASSERT_INT_EQ(member_rows(gid), 1);
	ASSERT_INT_EQ(sql_num(fmt("SELECT count(*) FROM scim_group_member "
	    "WHERE member_id = '%s'", a)), 0);
	r = list(fmt(SCIM "/Groups?filter=%s", enc(fmt("members.value eq "
	    "\"%s\"", a))));
	ASSERT_INT_EQ(ji(r, "totalResults"), 0);
	/*
	 * The member list changed, so the version did too: a client
	 * holding the old ETag must not get 304 for the old list.
	 */
	r = call_h("GET", group_path(gid), NULL, (const char *const []){
	    fmt("If-None-Match: W/\"%lld\"", v), NULL });
	if (r->status == 304 || etag_num(g->etag) <= v)
		TL_FAIL("group version %lld not above %lld after its member "
		    "was deleted (If-None-Match old ETag -> %ld)",
		    etag_num(g->etag), v, r->status);
}

static void
t_nonexistent_member(void)
{
	struct itest_resp *r, *g;
	char gid[ID_SZ];
	const char *ghost = "7d5b0c3e-1f0a-4c1e-9b55-000000000000";
	long long v;

	pool_reset();
	create_group(group_body("Ghost Check", (const char *const []){
	    uid[0], NULL }), gid);
	v = group_version(gid);

	r = call("PATCH", group_path(gid), members_op("add",
	    (const char *const []){ ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = call("PATCH", group_path(gid), members_op("add",
	    (const char *const []){ uid[1], ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = call("PATCH", group_path(gid), members_op("add",
	    (const char *const []){ "not-a-uuid", NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = call("PATCH", group_path(gid), members_op("replace",
	    (const char *const []){ ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	/* a group cannot contain itself */
	r = call("PATCH", group_path(gid), members_op("add",
	    (const char *const []){ gid, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = call("PUT", group_path(gid), group_body("Ghost Check",
	    (const char *const []){ uid[2], ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");

	g = get_ok(group_path(gid));
	CHECK_MEMBERS(g, uid[0], NULL);
	ASSERT_INT_EQ(etag_num(g->etag), v);
	ASSERT_INT_EQ(member_rows(gid), 1);

	/* POST with an unknown member creates nothing */
	r = call("POST", SCIM "/Groups", group_body("Ghost Group",
	    (const char *const []){ uid[0], ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	g = list(fmt(SCIM "/Groups?filter=%s",
	    enc("displayName eq \"Ghost Group\"")));
	ASSERT_INT_EQ(ji(g, "totalResults"), 0);
	ASSERT_INT_EQ(jlen(g, "Resources"), 0);
}

static void
t_uniqueness(void)
{
	struct itest_resp *r, *g;
	char a[ID_SZ], b[ID_SZ];

	pool_reset();
	create_group(group_body("Ops", NULL), a);
	r = call("POST", SCIM "/Groups", group_body("OPS", NULL));
	CHECK_ERROR(r, 409, "uniqueness");
	r = call("POST", SCIM "/Groups", group_body("Ops", NULL));
	CHECK_ERROR(r, 409, "uniqueness");
	create_group(group_body("Dev", NULL), b);
	r = call("PUT", group_path(b), group_body("ops", NULL));
	CHECK_ERROR(r, 409, "uniqueness");
	r = call("PATCH", group_path(b), patch_body("[{\"op\":\"replace\","
	    "\"path\":\"displayName\",\"value\":\"oPs\"}]"));
	CHECK_ERROR(r, 409, "uniqueness");
	g = get_ok(group_path(b));
	ASSERT_STR_EQ(js(g, "displayName"), "Dev");
	ASSERT_STR_EQ(g->etag, "W/\"1\"");
	g = list(fmt(SCIM "/Groups?filter=%s", enc("displayName eq \"ops\"")));
	ASSERT_INT_EQ(ji(g, "totalResults"), 1);
	ASSERT_STR_EQ(js(g, "Resources/0/id"), a);
	/* a missing displayName is refused */
	r = call("POST", SCIM "/Groups", "{\"schemas\":[\"" G_CORE "\"]}");
	ASSERT_INT_EQ(r->status, 400);
}

/* members, displayName and version must be what they were */
static void
check_untouched(const char *gid, const char *name, long long v,
    const char *const *members, int line)
{
	struct itest_resp *g = call("GET", group_path(gid), NULL);

	if (g->status != 200)
		TL_FAIL("line %d: GET %ld", line, g->status);
	if (js(g, "displayName") == NULL ||
	    strcmp(js(g, "displayName"), name) != 0)
		TL_FAIL("line %d: displayName changed to %s", line,
		    js(g, "displayName"));
	if (etag_num(g->etag) != v)
		TL_FAIL("line %d: version %lld, want %lld", line,
		    etag_num(g->etag), v);
	check_set(g, "members", members, line);
}

static void
t_atomic(void)
{
	static const char *bad_second[] = {
		/* unknown attribute */
		"{\"op\":\"replace\",\"path\":\"noSuchAttr\",\"value\":\"x\"}",
		/* bad path syntax */
		"{\"op\":\"remove\",\"path\":\"members[value eq\"}",
		/* unknown op */
		"{\"op\":\"frobnicate\",\"path\":\"displayName\","
		    "\"value\":\"x\"}",
		/* readOnly / immutable target */
		"{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}",
		/* wrong type */
		"{\"op\":\"replace\",\"path\":\"displayName\",\"value\":42}",
		/* unknown member */
		"{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":"
		    "\"7d5b0c3e-1f0a-4c1e-9b55-000000000001\"}]}",
	};
	struct itest_resp *r;
	char gid[ID_SZ];
	const char *const members[] = { uid[0], uid[1], NULL };
	long long v;
	size_t i;

	pool_reset();
	create_group(group_body("Atomic", members), gid);
	v = group_version(gid);
	for (i = 0; i < sizeof(bad_second) / sizeof(bad_second[0]); i++) {
		r = call("PATCH", group_path(gid), patch_body(fmt("["
		    "{\"op\":\"add\",\"path\":\"members\",\"value\":"
		    "[{\"value\":\"%s\"}]},"
		    "{\"op\":\"remove\",\"path\":\"members[value eq "
		    "\\\"%s\\\"]\"},"
		    "{\"op\":\"replace\",\"path\":\"displayName\","
		    "\"value\":\"Atomic Changed\"},%s]", uid[2], uid[0],
		    bad_second[i])));
		if (r->status < 400 || r->status > 499)
			TL_FAIL("PATCH with bad op %zu: status %ld", i,
			    r->status);
		check_untouched(gid, "Atomic", v, members, __LINE__);
	}
	/* the same request without the bad op works */
	patch_204(gid, patch_body(fmt("["
	    "{\"op\":\"add\",\"path\":\"members\",\"value\":"
	    "[{\"value\":\"%s\"}]},"
	    "{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"},"
	    "{\"op\":\"replace\",\"path\":\"displayName\","
	    "\"value\":\"Atomic Changed\"}]", uid[2], uid[0])));
	check_untouched(gid, "Atomic Changed", v + 1,
	    (const char *const []){ uid[1], uid[2], NULL }, __LINE__);
}

static void
t_concurrency(void)
{
	struct itest_resp *r;
	char gid[ID_SZ];
	const char *const m[] = { uid[0], NULL };
	const char *h_stale[] = { "If-Match: W/\"1\"", NULL };
	const char *h_v2[] = { "If-Match: W/\"2\"", NULL };
	const char *h_inm[] = { "If-None-Match: W/\"3\"", NULL };
	const char *h_any[] = { "If-Match: *", NULL };

	pool_reset();
	create_group(group_body("Concurrent", m), gid);
	r = call_h("PATCH", group_path(gid), members_op("add",
	    (const char *const []){ uid[1], NULL }), h_stale);
	CHECK_STATUS(r, 204);
	ASSERT_STR_EQ(r->etag, "W/\"2\"");

	/* a second writer still holding version 1 loses */
	r = call_h("PATCH", group_path(gid), members_op("add",
	    (const char *const []){ uid[2], NULL }), h_stale);
	CHECK_ERROR(r, 412, NULL);
	r = call_h("PUT", group_path(gid), group_body("Concurrent",
	    (const char *const []){ uid[3], NULL }), h_stale);
	CHECK_ERROR(r, 412, NULL);
	check_untouched(gid, "Concurrent", 2,
	    (const char *const []){ uid[0], uid[1], NULL }, __LINE__);

	r = call_h("PUT", group_path(gid), group_body("Concurrent",
	    (const char *const []){ uid[3], NULL }), h_v2);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"3\"");
	CHECK_MEMBERS(r, uid[3], NULL);
	r = call_h("GET", group_path(gid), NULL, h_inm);
	CHECK_STATUS(r, 304);
	ASSERT_INT_EQ(r->body_len, 0);
	r = call_h("PATCH", group_path(gid), members_op("add",
	    (const char *const []){ uid[4], NULL }), h_any);
	CHECK_STATUS(r, 204);
	ASSERT_STR_EQ(r->etag, "W/\"4\"");
	r = call_h("GET", group_path(gid), NULL, h_inm);
	CHECK_STATUS(r, 200);
	CHECK_MEMBERS(r, uid[3], uid[4], NULL);
}

static void
t_list(void)
{
	struct itest_resp *r;
	char gid[ID_SZ];

	pool_reset();
	r = create_group(dump(json_pack("{s[s]sssss[{ss}]}", "schemas",
	    G_CORE, "displayName", "Listed Group", "externalId", "ext-G-1",
	    "members", "value", uid[0])), gid);
	ASSERT_STR_EQ(js(r, "externalId"), "ext-G-1");
	r = list(fmt(SCIM "/Groups?filter=%s",
	    enc("displayName eq \"LISTED GROUP\"")));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_STR_EQ(js(r, "Resources/0/id"), gid);
	ASSERT_STR_EQ(js(r, "Resources/0/members/0/value"), uid[0]);
	ASSERT_INT_EQ(jlen(r, "Resources/0/members"), 1);
	ASSERT_STR_EQ(js(r, "Resources/0/meta/resourceType"), "Group");

	r = list(fmt(SCIM "/Groups?filter=%s&excludedAttributes=members",
	    enc("displayName sw \"listed\"")));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_NULL(jp(r->json, "Resources/0/members"));
	ASSERT_STR_EQ(js(r, "Resources/0/displayName"), "Listed Group");

	/* externalId is caseExact */
	r = list(fmt(SCIM "/Groups?filter=%s",
	    enc("externalId eq \"ext-G-1\"")));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	r = list(fmt(SCIM "/Groups?filter=%s",
	    enc("externalId eq \"EXT-G-1\"")));
	ASSERT_INT_EQ(ji(r, "totalResults"), 0);

	r = list(fmt(SCIM "/Groups?filter=%s",
	    enc("displayName eq \"No Such Group\"")));
	ASSERT_INT_EQ(ji(r, "totalResults"), 0);
	ASSERT_TRUE(json_is_array(jp(r->json, "Resources")));
	ASSERT_INT_EQ(jlen(r, "Resources"), 0);

	r = list(SCIM "/Groups?startIndex=1&count=1");
	ASSERT_TRUE(ji(r, "totalResults") >= 2);
	ASSERT_INT_EQ(ji(r, "itemsPerPage"), 1);
	ASSERT_INT_EQ(jlen(r, "Resources"), 1);

	r = call("POST", SCIM "/Groups/.search", "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"displayName eq \\\"listed group\\\"\","
	    "\"attributes\":[\"displayName\"]}");
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(arr_has_str(jp(r->json, "schemas"), M_LIST));
	ASSERT_INT_EQ(ji(r, "totalResults"), 1);
	ASSERT_STR_EQ(js(r, "Resources/0/displayName"), "Listed Group");
	ASSERT_STR_EQ(js(r, "Resources/0/id"), gid);
	ASSERT_NULL(jp(r->json, "Resources/0/members"));
	ASSERT_NULL(jp(r->json, "Resources/0/externalId"));

	r = call("GET", SCIM "/Groups?filter=displayName%20eq", NULL);
	CHECK_ERROR(r, 400, "invalidFilter");
	r = call("GET", SCIM "/Groups?sortBy=nonsense", NULL);
	CHECK_ERROR(r, 400, "invalidValue");
}

static void
t_user_version(void)
{
	struct itest_resp *u, *r;
	char a[ID_SZ], gid[ID_SZ];
	long long v0, v1, v2;

	pool_reset();
	create_simple("ver.a@example.net", a);
	v0 = etag_num(get_ok(user_path(a))->etag);
	/* joining a group changes the user's "groups": new ETag */
	create_group(group_body("Versioned", (const char *const []){ a,
	    NULL }), gid);
	u = get_ok(user_path(a));
	v1 = etag_num(u->etag);
	if (v1 <= v0)
		TL_FAIL("user version %lld not above %lld after joining a "
		    "group", v1, v0);
	r = call_h("GET", user_path(a), NULL, (const char *const []){
	    fmt("If-None-Match: W/\"%lld\"", v0), NULL });
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_json_str(r, "groups.0.value"), gid);
	/* leaving it by PATCH: again */
	r = call("PATCH", group_path(gid), fmt("{\"schemas\":[\"%s\"],"
	    "\"Operations\":[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"%s\\\"]\"}]}",
	    "urn:ietf:params:scim:api:messages:2.0:PatchOp", a));
	CHECK_STATUS(r, 204);
	v2 = etag_num(get_ok(user_path(a))->etag);
	if (v2 <= v1)
		TL_FAIL("user version %lld not above %lld after leaving a "
		    "group", v2, v1);
	/* back in, then the group is deleted: again */
	r = call("PATCH", group_path(gid), fmt("{\"schemas\":[\"%s\"],"
	    "\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
	    "\"value\":[{\"value\":\"%s\"}]}]}",
	    "urn:ietf:params:scim:api:messages:2.0:PatchOp", a));
	CHECK_STATUS(r, 204);
	v1 = etag_num(get_ok(user_path(a))->etag);
	if (v1 <= v2)
		TL_FAIL("user version %lld not above %lld after rejoining",
		    v1, v2);
	r = call("DELETE", group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	u = get_ok(user_path(a));
	if (etag_num(u->etag) <= v1)
		TL_FAIL("user version %lld not above %lld after its group "
		    "was deleted", etag_num(u->etag), v1);
	if (json_array_size(json_object_get(u->json, "groups")) != 0)
		TL_FAIL("deleted group still listed in the user's groups");
}

static const struct testlib_case cases[] = {
	{ "setup users", t_setup },
	{ "crud", t_crud },
	{ "nested groups", t_nested },
	{ "members and groups agree", t_consistency },
	{ "PATCH members", t_patch_members },
	{ "2000 members added, 1000 removed", t_big },
	{ "deleted user leaves its groups", t_deleted_user },
	{ "membership changes bump the user's version", t_user_version },
	{ "unknown members rejected", t_nonexistent_member },
	{ "displayName uniqueness", t_uniqueness },
	{ "PATCH is all or nothing", t_atomic },
	{ "If-Match concurrency", t_concurrency },
	{ "list and search", t_list },
};

ITEST_MAIN(cases)
