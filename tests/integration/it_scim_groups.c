/*
 * SCIM Groups over HTTP against the real server (contract-scim.md):
 * CRUD, User and nested Group members, consistency of Group "members"
 * with User "groups", PATCH member changes (204, ETag), large member
 * lists (2,000 added and 1,000 removed in one PATCH each, checked
 * through the API and in the membership table), excludedAttributes,
 * members of deleted users, unknown members, displayName uniqueness,
 * all-or-nothing PATCH and If-Match.
 */

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
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define M_SEARCH	"urn:ietf:params:scim:api:messages:2.0:SearchRequest"

#define NUSERS		12
#define NBIG		2000
#define NBIG_REMOVE	1000

static char uid[NUSERS][ITEST_ID_SZ];

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
	return itest_dump(g);
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
	return itest_dump(json_pack("{s[s]s[{ssssso}]}", "schemas", M_PATCH,
	    "Operations", "op", op, "path", "members", "value", v));
}

/* Version of a group read without its members. */
static long long
group_version(const char *gid)
{
	struct itest_resp *r;

	r = itest_call("GET",
	    itest_fmt("%s?excludedAttributes=members", itest_group_path(gid)),
	    NULL);
	CHECK_STATUS(r, 200);
	ASSERT_NULL(itest_jpath(r->json, "members"));
	if (itest_etag_num(r->etag) !=
	    itest_etag_num(itest_jstr(r, "meta/version")))
		TL_FAIL("ETag %s != meta.version", r->etag);
	return itest_etag_num(r->etag);
}

/* A PATCH on a group that must answer 204 with an ETag and no body. */
static struct itest_resp *
patch_204(const char *gid, const char *body)
{
	struct itest_resp *r = itest_call("PATCH", itest_group_path(gid), body);

	CHECK_STATUS(r, 204);
	if (r->body_len != 0)
		TL_FAIL("204 with a body: %.200s", r->body);
	if (itest_etag_num(r->etag) < 1)
		TL_FAIL("PATCH 204 without a W/\"n\" ETag (\"%s\")", r->etag);
	return r;
}

static long long
member_rows(const char *gid)
{
	return itest_sql_num(itest_fmt("SELECT count(*) FROM scim_group_member "
	    "WHERE group_id = '%s'", gid));
}

static void
t_setup(void)
{
	int i;

	itest_pool_reset();
	for (i = 0; i < NUSERS; i++)
		itest_create_user(itest_fmt("{\"schemas\":[\"" U_CORE "\"],"
		    "\"userName\":\"gu%02d@example.net\","
		    "\"displayName\":\"GU %02d\"}", i, i), uid[i]);
}

static void
check_member_entry(json_t *m, const char *type)
{
	const char *v = json_string_value(json_object_get(m, "value"));
	const char *ref = json_string_value(json_object_get(m, "$ref"));

	ASSERT_TRUE(str_is_uuid(v));
	ASSERT_STR_EQ(json_string_value(json_object_get(m, "type")), type);
	ASSERT_TRUE(itest_ends_with(ref,
	    itest_fmt(SCIM "/%s/%s", strcmp(type, "User")
	    == 0 ? "Users" : "Groups", v)));
}

static void
t_crud(void)
{
	struct itest_resp *r, *g;
	char gid[ITEST_ID_SZ];
	const char *const m01[] = { uid[0], uid[1], NULL };
	const char *const m2[] = { uid[2], NULL };
	json_t *v;
	size_t i;

	itest_pool_reset();
	r = itest_create_group(group_body("Engineering", m01), gid);
	itest_assert_scim_ct(r);
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), G_CORE));
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "Engineering");
	ASSERT_STR_EQ(r->etag, "W/\"1\"");
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"1\"");
	ASSERT_STR_EQ(itest_jstr(r, "meta/resourceType"), "Group");
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "meta/created")));
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "meta/lastModified")));
	ASSERT_STR_EQ(r->location, itest_jstr(r, "meta/location"));
	ASSERT_TRUE(itest_ends_with(r->location,
	    itest_fmt(SCIM "/Groups/%s", gid)));
	CHECK_MEMBERS(r, uid[0], uid[1], NULL);
	json_array_foreach(itest_jpath(r->json, "members"), i, v)
		check_member_entry(v, "User");

	g = itest_get_ok(itest_group_path(gid));
	ASSERT_STR_EQ(g->etag, "W/\"1\"");
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), "Engineering");
	ASSERT_STR_EQ(itest_jstr(g, "meta/location"), r->location);
	CHECK_MEMBERS(g, uid[0], uid[1], NULL);
	json_array_foreach(itest_jpath(g->json, "members"), i, v)
		check_member_entry(v, "User");

	g = itest_get_ok(itest_user_path(uid[0]));
	CHECK_GROUPS(g, gid, NULL);
	ASSERT_STR_EQ(itest_jstr(g, "groups/0/display"), "Engineering");
	ASSERT_STR_EQ(itest_jstr(g, "groups/0/type"), "direct");
	ASSERT_TRUE(itest_ends_with(itest_jstr(g, "groups/0/$ref"),
	    itest_fmt(SCIM "/Groups/%s", gid)));

	/* PUT replaces name and members; a foreign id is ignored */
	r = itest_call("PUT", itest_group_path(gid),
	    itest_dump(json_pack("{s[s]sssss[{ss}]}",
	    "schemas", G_CORE, "id", "11111111-2222-4333-8444-555555555555",
	    "displayName", "Engineering Two", "members", "value", m2[0])));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "id"), gid);
	ASSERT_STR_EQ(r->etag, "W/\"2\"");
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"2\"");
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "Engineering Two");
	CHECK_MEMBERS(r, uid[2], NULL);
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[2], NULL);
	ASSERT_STR_EQ(g->etag, "W/\"2\"");
	g = itest_get_ok(itest_user_path(uid[0]));
	CHECK_GROUPS(g, NULL);
	g = itest_get_ok(itest_user_path(uid[2]));
	CHECK_GROUPS(g, gid, NULL);
	ASSERT_STR_EQ(itest_jstr(g, "groups/0/display"), "Engineering Two");

	/* PUT without members empties the group */
	r = itest_call("PUT", itest_group_path(gid),
	    "{\"schemas\":[\"" G_CORE "\"],"
	    "\"displayName\":\"Engineering Two\"}");
	CHECK_STATUS(r, 200);
	CHECK_MEMBERS(r, NULL);
	ASSERT_INT_EQ(member_rows(gid), 0);

	r = itest_call("DELETE", itest_group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	ASSERT_INT_EQ(r->body_len, 0);
	r = itest_call("GET", itest_group_path(gid), NULL);
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("DELETE", itest_group_path(gid), NULL);
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("GET", SCIM "/Groups/not-a-uuid", NULL);
	CHECK_ERROR(r, 404, NULL);
	g = itest_get_ok(itest_user_path(uid[2]));
	CHECK_GROUPS(g, NULL);
	/* the user is still there */
	ASSERT_STR_EQ(itest_jstr(g, "id"), uid[2]);
}

static void
t_nested(void)
{
	struct itest_resp *r, *g;
	char child[ITEST_ID_SZ], parent[ITEST_ID_SZ], grand[ITEST_ID_SZ];
	const char *const m3[] = { uid[3], NULL };
	json_t *v;
	size_t i;
	long long ver;
	int seen_group = 0;

	itest_pool_reset();
	itest_create_group(group_body("Nested Child", m3), child);
	r = itest_create_group(itest_dump(json_pack("{s[s]sss[{ssss}{ss}]}",
	    "schemas", G_CORE, "displayName", "Nested Parent", "members",
	    "value", child, "type", "Group", "value", uid[4])), parent);
	CHECK_MEMBERS(r, child, uid[4], NULL);
	g = itest_get_ok(itest_group_path(parent));
	CHECK_MEMBERS(g, child, uid[4], NULL);
	json_array_foreach(itest_jpath(g->json, "members"), i, v) {
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
	r = itest_create_group(itest_dump(json_pack("{s[s]sss[{ss}]}",
	    "schemas", G_CORE, "displayName", "Nested Grandparent", "members",
	    "value", parent)), grand);
	ASSERT_STR_EQ(itest_jstr(r, "members/0/type"), "Group");

	/* User "groups" lists direct memberships only */
	g = itest_get_ok(itest_user_path(uid[3]));
	CHECK_GROUPS(g, child, NULL);
	g = itest_get_ok(itest_user_path(uid[4]));
	CHECK_GROUPS(g, parent, NULL);

	/* filtering Groups by member */
	r = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc(itest_fmt("members.value eq "
	    "\"%s\"", child))));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), parent);

	/* deleting the child group removes it from the parent */
	ver = group_version(parent);
	r = itest_call("DELETE", itest_group_path(child), NULL);
	CHECK_STATUS(r, 204);
	g = itest_get_ok(itest_group_path(parent));
	CHECK_MEMBERS(g, uid[4], NULL);
	r = itest_get_ok(itest_user_path(uid[3]));
	CHECK_GROUPS(r, NULL);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM "
	    "scim_group_member WHERE member_id = '%s'", child)), 0);
	/* the parent's member list changed, so its version did too */
	if (itest_etag_num(g->etag) <= ver)
		TL_FAIL("parent version %lld not above %lld after its member "
		    "group was deleted", itest_etag_num(g->etag), ver);
}

static void
t_consistency(void)
{
	struct itest_resp *g;
	char gid[3][ITEST_ID_SZ];
	const char *const none[] = { NULL };
	json_t *v;
	size_t k;
	int i;

	itest_pool_reset();
	for (i = 0; i < 3; i++)
		itest_create_group(group_body(itest_fmt("Consistency %d", i),
		    none), gid[i]);
	/* u5: g0 g1; u6: g1 g2; u7: g2; u8: none; u9: g0 g1 g2 */
	patch_204(gid[0], members_op("add", (const char *const []){ uid[5],
	    uid[9], NULL }));
	patch_204(gid[1], members_op("add", (const char *const []){ uid[5],
	    uid[6], uid[9], uid[8], NULL }));
	patch_204(gid[2], members_op("add", (const char *const []){ uid[6],
	    uid[7], uid[9], NULL }));
	patch_204(gid[1],
	    itest_patch_body(itest_fmt("[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"%s\\\"]\"}]", uid[8])));

	g = itest_get_ok(itest_user_path(uid[5]));
	CHECK_GROUPS(g, gid[0], gid[1], NULL);
	g = itest_get_ok(itest_user_path(uid[6]));
	CHECK_GROUPS(g, gid[1], gid[2], NULL);
	g = itest_get_ok(itest_user_path(uid[7]));
	CHECK_GROUPS(g, gid[2], NULL);
	g = itest_get_ok(itest_user_path(uid[8]));
	CHECK_GROUPS(g, NULL);
	g = itest_get_ok(itest_user_path(uid[9]));
	CHECK_GROUPS(g, gid[0], gid[1], gid[2], NULL);
	json_array_foreach(itest_jpath(g->json, "groups"), k, v) {
		const char *gv = json_string_value(json_object_get(v,
		    "value"));
		const char *disp = json_string_value(json_object_get(v,
		    "display"));

		ASSERT_NOT_NULL(gv);
		ASSERT_STR_EQ(disp, itest_fmt("Consistency %d",
		    strcmp(gv, gid[0]) == 0 ? 0 :
		    strcmp(gv, gid[1]) == 0 ? 1 : 2));
		ASSERT_STR_EQ(json_string_value(json_object_get(v, "type")),
		    "direct");
		ASSERT_TRUE(itest_ends_with(json_string_value(json_object_get(v,
		    "$ref")), itest_fmt(SCIM "/Groups/%s", gv)));
	}
	g = itest_get_ok(itest_group_path(gid[0]));
	CHECK_MEMBERS(g, uid[5], uid[9], NULL);
	g = itest_get_ok(itest_group_path(gid[1]));
	CHECK_MEMBERS(g, uid[5], uid[6], uid[9], NULL);
	g = itest_get_ok(itest_group_path(gid[2]));
	CHECK_MEMBERS(g, uid[6], uid[7], uid[9], NULL);

	/* a rename shows in the members' "groups" display */
	patch_204(gid[2], itest_patch_body("[{\"op\":\"replace\",\"path\":"
	    "\"displayName\",\"value\":\"Consistency Renamed\"}]"));
	g = itest_get_ok(itest_user_path(uid[7]));
	ASSERT_STR_EQ(itest_jstr(g, "groups/0/display"), "Consistency Renamed");

	/* user filter on groups agrees */
	g = itest_list(itest_fmt(SCIM "/Users?filter=%s&sortBy=userName",
	    itest_urlenc(itest_fmt("groups.value eq \"%s\"", gid[1]))));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 3);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/id"), uid[5]);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/1/id"), uid[6]);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/2/id"), uid[9]);
}

static void
t_patch_members(void)
{
	struct itest_resp *r, *g;
	char gid[ITEST_ID_SZ];
	const char *const m0[] = { uid[0], NULL };
	long long v, nv;

	itest_pool_reset();
	itest_create_group(group_body("Patchers", m0), gid);
	v = 1;

	r = patch_204(gid, members_op("add", (const char *const []){ uid[1],
	    NULL }));
	ASSERT_INT_EQ(itest_etag_num(r->etag), v + 1);
	v = itest_etag_num(r->etag);
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[0], uid[1], NULL);
	ASSERT_INT_EQ(itest_etag_num(g->etag), v);

	/* adding an existing member again does not duplicate it */
	patch_204(gid, members_op("Add", (const char *const []){ uid[1],
	    NULL }));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[0], uid[1], NULL);
	ASSERT_INT_EQ(member_rows(gid), 2);
	v = itest_etag_num(g->etag);

	/* remove by value filter */
	r = patch_204(gid,
	    itest_patch_body(itest_fmt("[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"%s\\\"]\"}]", uid[0])));
	ASSERT_TRUE(itest_etag_num(r->etag) > v);
	v = itest_etag_num(r->etag);
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[1], NULL);

	/* remove with path "members" and a value list */
	r = patch_204(gid, members_op("remove", (const char *const []){
	    uid[1], NULL }));
	ASSERT_TRUE(itest_etag_num(r->etag) > v);
	v = itest_etag_num(r->etag);
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, NULL);
	ASSERT_INT_EQ(member_rows(gid), 0);

	/* add three, then replace the whole list */
	patch_204(gid, members_op("add", (const char *const []){ uid[2],
	    uid[3], uid[4], NULL }));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[2], uid[3], uid[4], NULL);
	r = patch_204(gid, members_op("replace", (const char *const []){
	    uid[5], uid[6], NULL }));
	nv = itest_etag_num(r->etag);
	ASSERT_TRUE(nv > v);
	v = nv;
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[5], uid[6], NULL);
	ASSERT_INT_EQ(member_rows(gid), 2);
	g = itest_get_ok(itest_user_path(uid[2]));
	CHECK_GROUPS(g, NULL);

	/* replace without a path */
	patch_204(gid,
	    itest_patch_body(itest_fmt("[{\"op\":\"replace\",\"value\":"
	    "{\"members\":[{\"value\":\"%s\"}]}}]", uid[7])));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[7], NULL);

	/* several ops in one PATCH, applied in order */
	patch_204(gid, itest_patch_body(itest_fmt("["
	    "{\"op\":\"add\",\"path\":\"members\",\"value\":"
	    "[{\"value\":\"%s\"},{\"value\":\"%s\"}]},"
	    "{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"},"
	    "{\"op\":\"add\",\"path\":\"members\",\"value\":"
	    "[{\"value\":\"%s\"}]},"
	    "{\"op\":\"replace\",\"path\":\"displayName\","
	    "\"value\":\"Patchers 2\"}]", uid[8], uid[9], uid[7], uid[10])));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[8], uid[9], uid[10], NULL);
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), "Patchers 2");

	/* remove path "members" without a value: all of them */
	patch_204(gid, itest_patch_body("[{\"op\":\"remove\",\"path\":"
	    "\"members\"}]"));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, NULL);
	ASSERT_INT_EQ(member_rows(gid), 0);

	/* attributes= / excludedAttributes= ask for a body: 200 */
	r = itest_call("PATCH", itest_fmt("%s?attributes=members,displayName",
	    itest_group_path(gid)), members_op("add", (const char *const []){
	    uid[11], NULL }));
	CHECK_STATUS(r, 200);
	itest_assert_scim_ct(r);
	CHECK_MEMBERS(r, uid[11], NULL);
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "Patchers 2");
	ASSERT_STR_EQ(itest_jstr(r, "id"), gid);
	ASSERT_TRUE(itest_etag_num(r->etag) > 1);
	r = itest_call("PATCH", itest_fmt("%s?excludedAttributes=members",
	    itest_group_path(gid)), members_op("add", (const char *const []){
	    uid[10], NULL }));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(itest_jpath(r->json, "members"));
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "Patchers 2");
	ASSERT_STR_EQ(r->etag, itest_jstr(r, "meta/version"));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[10], uid[11], NULL);
}

static void
t_big(void)
{
	static char big[NBIG][ITEST_ID_SZ];
	struct itest_resp r, *g;
	char gid[ITEST_ID_SZ], body[256], path[128];
	const char *bodytext;
	json_t *ops, *vals, *m, *v;
	size_t i;
	int k, n;

	itest_pool_reset();
	for (k = 0; k < NBIG; k++) {
		snprintf(body, sizeof(body), "{\"schemas\":[\"" U_CORE "\"],"
		    "\"userName\":\"big%04d@example.net\"}", k);
		if (itest_http(itest, "POST", SCIM "/Users", NULL, body, NULL,
		    &r) != 0)
			TL_FAIL("transport failure creating user %d", k);
		n = r.status == 201 && str_is_uuid(itest_json_str(&r, "id"));
		if (n)
			snprintf(big[k], ITEST_ID_SZ, "%s",
			    itest_json_str(&r, "id"));
		itest_resp_free(&r);
		if (!n)
			TL_FAIL("creating user %d failed", k);
	}
	itest_create_group(group_body("Big Group", NULL), gid);

	/* 2,000 members in one PATCH */
	vals = json_array();
	for (k = 0; k < NBIG; k++)
		json_array_append_new(vals, json_pack("{ssss}", "value",
		    big[k], "type", "User"));
	bodytext = itest_dump(json_pack("{s[s]s[{sssssO}]}", "schemas", M_PATCH,
	    "Operations", "op", "add", "path", "members", "value", vals));
	json_decref(vals);
	patch_204(gid, bodytext);
	ASSERT_INT_EQ(member_rows(gid), NBIG);
	g = itest_get_ok(itest_group_path(gid));
	ASSERT_INT_EQ(itest_jlen(g, "members"), NBIG);
	{
		/* every id exactly once */
		json_t *seen = json_object();

		json_array_foreach(itest_jpath(g->json, "members"), i, v) {
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
	patch_204(gid, itest_dump(m));
	ASSERT_INT_EQ(member_rows(gid), NBIG - NBIG_REMOVE);
	g = itest_get_ok(itest_group_path(gid));
	ASSERT_INT_EQ(itest_jlen(g, "members"), NBIG - NBIG_REMOVE);
	{
		json_t *seen = json_object();

		json_array_foreach(itest_jpath(g->json, "members"), i, v)
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
	g = itest_get_ok(itest_user_path(big[0]));
	CHECK_GROUPS(g, NULL);
	g = itest_get_ok(itest_user_path(big[NBIG - 1]));
	CHECK_GROUPS(g, gid, NULL);

	/* excludedAttributes=members: no members, on GET and list */
	g = itest_get_ok(itest_fmt("%s?excludedAttributes=members",
	    itest_group_path(gid)));
	ASSERT_NULL(itest_jpath(g->json, "members"));
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), "Big Group");
	g = itest_list(itest_fmt(SCIM "/Groups?filter=%s"
	    "&excludedAttributes=members",
	    itest_urlenc("displayName eq \"big group\"")));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/id"), gid);
	ASSERT_NULL(itest_jpath(g->json, "Resources/0/members"));
	g = itest_list(itest_fmt(SCIM "/Groups?excludedAttributes=members"
	    "&count=1000"));
	json_array_foreach(itest_jpath(g->json, "Resources"), i, v)
		ASSERT_NULL(json_object_get(v, "members"));
	g = itest_call("POST", SCIM "/Groups/.search",
	    "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"displayName eq \\\"Big Group\\\"\","
	    "\"excludedAttributes\":[\"members\"]}");
	CHECK_STATUS(g, 200);
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);
	ASSERT_NULL(itest_jpath(g->json, "Resources/0/members"));
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/displayName"), "Big Group");

	/* default page size is 100 */
	g = itest_list(SCIM "/Users");
	ASSERT_TRUE(itest_jint(g, "totalResults") >= NBIG);
	ASSERT_INT_EQ(itest_jint(g, "itemsPerPage"), 100);
	ASSERT_INT_EQ(itest_jlen(g, "Resources"), 100);
	/* and a count over 1000 is capped at 1000 */
	g = itest_list(SCIM "/Users?count=1500&attributes=userName");
	ASSERT_INT_EQ(itest_jint(g, "itemsPerPage"), 1000);
	ASSERT_INT_EQ(itest_jlen(g, "Resources"), 1000);

	/* deleting the group leaves no membership rows */
	g = itest_call("DELETE", itest_group_path(gid), NULL);
	CHECK_STATUS(g, 204);
	ASSERT_INT_EQ(member_rows(gid), 0);
}

static void
t_deleted_user(void)
{
	struct itest_resp *r, *g;
	char a[ITEST_ID_SZ], b[ITEST_ID_SZ], gid[ITEST_ID_SZ];
	long long v;

	itest_pool_reset();
	itest_create_user_named("del.a@example.net", a);
	itest_create_user_named("del.b@example.net", b);
	itest_create_group(group_body("Deletion", (const char *const []){ a, b,
	    NULL }), gid);
	v = group_version(gid);
	r = itest_call("DELETE", itest_user_path(a), NULL);
	CHECK_STATUS(r, 204);
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, b, NULL);
	ASSERT_INT_EQ(member_rows(gid), 1);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM "
	    "scim_group_member WHERE member_id = '%s'", a)), 0);
	r = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc(itest_fmt("members.value eq "
	    "\"%s\"", a))));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 0);
	/*
	 * The member list changed, so the version did too: a client
	 * holding the old ETag must not get 304 for the old list.
	 */
	r = itest_call_h("GET", itest_group_path(gid), NULL,
	    (const char *const []){
	    itest_fmt("If-None-Match: W/\"%lld\"", v), NULL });
	if (r->status == 304 || itest_etag_num(g->etag) <= v)
		TL_FAIL("group version %lld not above %lld after its member "
		    "was deleted (If-None-Match old ETag -> %ld)",
		    itest_etag_num(g->etag), v, r->status);
}

static void
t_nonexistent_member(void)
{
	struct itest_resp *r, *g;
	char gid[ITEST_ID_SZ];
	const char *ghost = "7d5b0c3e-1f0a-4c1e-9b55-000000000000";
	long long v;

	itest_pool_reset();
	itest_create_group(group_body("Ghost Check", (const char *const []){
	    uid[0], NULL }), gid);
	v = group_version(gid);

	r = itest_call("PATCH", itest_group_path(gid), members_op("add",
	    (const char *const []){ ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("PATCH", itest_group_path(gid), members_op("add",
	    (const char *const []){ uid[1], ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("PATCH", itest_group_path(gid), members_op("add",
	    (const char *const []){ "not-a-uuid", NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("PATCH", itest_group_path(gid), members_op("replace",
	    (const char *const []){ ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	/* a group cannot contain itself */
	r = itest_call("PATCH", itest_group_path(gid), members_op("add",
	    (const char *const []){ gid, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("PUT", itest_group_path(gid), group_body("Ghost Check",
	    (const char *const []){ uid[2], ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");

	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, uid[0], NULL);
	ASSERT_INT_EQ(itest_etag_num(g->etag), v);
	ASSERT_INT_EQ(member_rows(gid), 1);

	/* POST with an unknown member creates nothing */
	r = itest_call("POST", SCIM "/Groups", group_body("Ghost Group",
	    (const char *const []){ uid[0], ghost, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	g = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc("displayName eq \"Ghost Group\"")));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 0);
	ASSERT_INT_EQ(itest_jlen(g, "Resources"), 0);
}

static void
t_uniqueness(void)
{
	struct itest_resp *r, *g;
	char a[ITEST_ID_SZ], b[ITEST_ID_SZ];

	itest_pool_reset();
	itest_create_group(group_body("Ops", NULL), a);
	r = itest_call("POST", SCIM "/Groups", group_body("OPS", NULL));
	CHECK_ERROR(r, 409, "uniqueness");
	r = itest_call("POST", SCIM "/Groups", group_body("Ops", NULL));
	CHECK_ERROR(r, 409, "uniqueness");
	itest_create_group(group_body("Dev", NULL), b);
	r = itest_call("PUT", itest_group_path(b), group_body("ops", NULL));
	CHECK_ERROR(r, 409, "uniqueness");
	r = itest_call("PATCH", itest_group_path(b),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"displayName\",\"value\":\"oPs\"}]"));
	CHECK_ERROR(r, 409, "uniqueness");
	g = itest_get_ok(itest_group_path(b));
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), "Dev");
	ASSERT_STR_EQ(g->etag, "W/\"1\"");
	g = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc("displayName eq \"ops\"")));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/id"), a);
	/* a missing displayName is refused */
	r = itest_call("POST", SCIM "/Groups",
	    "{\"schemas\":[\"" G_CORE "\"]}");
	ASSERT_INT_EQ(r->status, 400);
}

/* members, displayName and version must be what they were */
static void
check_untouched(const char *gid, const char *name, long long v,
    const char *const *members, int line)
{
	struct itest_resp *g = itest_call("GET", itest_group_path(gid), NULL);

	if (g->status != 200)
		TL_FAIL("line %d: GET %ld", line, g->status);
	if (itest_jstr(g, "displayName") == NULL ||
	    strcmp(itest_jstr(g, "displayName"), name) != 0)
		TL_FAIL("line %d: displayName changed to %s", line,
		    itest_jstr(g, "displayName"));
	if (itest_etag_num(g->etag) != v)
		TL_FAIL("line %d: version %lld, want %lld", line,
		    itest_etag_num(g->etag), v);
	itest_assert_values(g, "members", members, line);
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
	char gid[ITEST_ID_SZ];
	const char *const members[] = { uid[0], uid[1], NULL };
	long long v;
	size_t i;

	itest_pool_reset();
	itest_create_group(group_body("Atomic", members), gid);
	v = group_version(gid);
	for (i = 0; i < sizeof(bad_second) / sizeof(bad_second[0]); i++) {
		r = itest_call("PATCH", itest_group_path(gid),
		    itest_patch_body(itest_fmt("["
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
	patch_204(gid, itest_patch_body(itest_fmt("["
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
	char gid[ITEST_ID_SZ];
	const char *const m[] = { uid[0], NULL };
	const char *h_stale[] = { "If-Match: W/\"1\"", NULL };
	const char *h_v2[] = { "If-Match: W/\"2\"", NULL };
	const char *h_inm[] = { "If-None-Match: W/\"3\"", NULL };
	const char *h_any[] = { "If-Match: *", NULL };

	itest_pool_reset();
	itest_create_group(group_body("Concurrent", m), gid);
	r = itest_call_h("PATCH", itest_group_path(gid), members_op("add",
	    (const char *const []){ uid[1], NULL }), h_stale);
	CHECK_STATUS(r, 204);
	ASSERT_STR_EQ(r->etag, "W/\"2\"");

	/* a second writer still holding version 1 loses */
	r = itest_call_h("PATCH", itest_group_path(gid), members_op("add",
	    (const char *const []){ uid[2], NULL }), h_stale);
	CHECK_ERROR(r, 412, NULL);
	r = itest_call_h("PUT", itest_group_path(gid), group_body("Concurrent",
	    (const char *const []){ uid[3], NULL }), h_stale);
	CHECK_ERROR(r, 412, NULL);
	check_untouched(gid, "Concurrent", 2,
	    (const char *const []){ uid[0], uid[1], NULL }, __LINE__);

	r = itest_call_h("PUT", itest_group_path(gid), group_body("Concurrent",
	    (const char *const []){ uid[3], NULL }), h_v2);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"3\"");
	CHECK_MEMBERS(r, uid[3], NULL);
	r = itest_call_h("GET", itest_group_path(gid), NULL, h_inm);
	CHECK_STATUS(r, 304);
	ASSERT_INT_EQ(r->body_len, 0);
	r = itest_call_h("PATCH", itest_group_path(gid), members_op("add",
	    (const char *const []){ uid[4], NULL }), h_any);
	CHECK_STATUS(r, 204);
	ASSERT_STR_EQ(r->etag, "W/\"4\"");
	r = itest_call_h("GET", itest_group_path(gid), NULL, h_inm);
	CHECK_STATUS(r, 200);
	CHECK_MEMBERS(r, uid[3], uid[4], NULL);
}

static void
t_list(void)
{
	struct itest_resp *r;
	char gid[ITEST_ID_SZ];

	itest_pool_reset();
	r = itest_create_group(itest_dump(json_pack("{s[s]sssss[{ss}]}",
	    "schemas", G_CORE, "displayName", "Listed Group", "externalId",
	    "ext-G-1", "members", "value", uid[0])), gid);
	ASSERT_STR_EQ(itest_jstr(r, "externalId"), "ext-G-1");
	r = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc("displayName eq \"LISTED GROUP\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), gid);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/members/0/value"), uid[0]);
	ASSERT_INT_EQ(itest_jlen(r, "Resources/0/members"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/meta/resourceType"), "Group");

	r = itest_list(itest_fmt(SCIM "/Groups?filter=%s"
	    "&excludedAttributes=members",
	    itest_urlenc("displayName sw \"listed\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_NULL(itest_jpath(r->json, "Resources/0/members"));
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/displayName"), "Listed Group");

	/* externalId is caseExact */
	r = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc("externalId eq \"ext-G-1\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	r = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc("externalId eq \"EXT-G-1\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 0);

	r = itest_list(itest_fmt(SCIM "/Groups?filter=%s",
	    itest_urlenc("displayName eq \"No Such Group\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 0);
	ASSERT_TRUE(json_is_array(itest_jpath(r->json, "Resources")));
	ASSERT_INT_EQ(itest_jlen(r, "Resources"), 0);

	r = itest_list(SCIM "/Groups?startIndex=1&count=1");
	ASSERT_TRUE(itest_jint(r, "totalResults") >= 2);
	ASSERT_INT_EQ(itest_jint(r, "itemsPerPage"), 1);
	ASSERT_INT_EQ(itest_jlen(r, "Resources"), 1);

	r = itest_call("POST", SCIM "/Groups/.search",
	    "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"displayName eq \\\"listed group\\\"\","
	    "\"attributes\":[\"displayName\"]}");
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), M_LIST));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/displayName"), "Listed Group");
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), gid);
	ASSERT_NULL(itest_jpath(r->json, "Resources/0/members"));
	ASSERT_NULL(itest_jpath(r->json, "Resources/0/externalId"));

	r = itest_call("GET", SCIM "/Groups?filter=displayName%20eq", NULL);
	CHECK_ERROR(r, 400, "invalidFilter");
	r = itest_call("GET", SCIM "/Groups?sortBy=nonsense", NULL);
	CHECK_ERROR(r, 400, "invalidValue");
}

static void
t_user_version(void)
{
	struct itest_resp *u, *r;
	char a[ITEST_ID_SZ], gid[ITEST_ID_SZ];
	long long v0, v1, v2;

	itest_pool_reset();
	itest_create_user_named("ver.a@example.net", a);
	v0 = itest_etag_num(itest_get_ok(itest_user_path(a))->etag);
	/* joining a group changes the user's "groups": new ETag */
	itest_create_group(group_body("Versioned", (const char *const []){ a,
	    NULL }), gid);
	u = itest_get_ok(itest_user_path(a));
	v1 = itest_etag_num(u->etag);
	if (v1 <= v0)
		TL_FAIL("user version %lld not above %lld after joining a "
		    "group", v1, v0);
	r = itest_call_h("GET", itest_user_path(a), NULL,
	    (const char *const []){
	    itest_fmt("If-None-Match: W/\"%lld\"", v0), NULL });
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_json_str(r, "groups.0.value"), gid);
	/* leaving it by PATCH: again */
	r = itest_call("PATCH", itest_group_path(gid),
	    itest_fmt("{\"schemas\":[\"%s\"],"
	    "\"Operations\":[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"%s\\\"]\"}]}",
	    "urn:ietf:params:scim:api:messages:2.0:PatchOp", a));
	CHECK_STATUS(r, 204);
	v2 = itest_etag_num(itest_get_ok(itest_user_path(a))->etag);
	if (v2 <= v1)
		TL_FAIL("user version %lld not above %lld after leaving a "
		    "group", v2, v1);
	/* back in, then the group is deleted: again */
	r = itest_call("PATCH", itest_group_path(gid),
	    itest_fmt("{\"schemas\":[\"%s\"],"
	    "\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
	    "\"value\":[{\"value\":\"%s\"}]}]}",
	    "urn:ietf:params:scim:api:messages:2.0:PatchOp", a));
	CHECK_STATUS(r, 204);
	v1 = itest_etag_num(itest_get_ok(itest_user_path(a))->etag);
	if (v1 <= v2)
		TL_FAIL("user version %lld not above %lld after rejoining",
		    v1, v2);
	r = itest_call("DELETE", itest_group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	u = itest_get_ok(itest_user_path(a));
	if (itest_etag_num(u->etag) <= v1)
		TL_FAIL("user version %lld not above %lld after its group "
		    "was deleted", itest_etag_num(u->etag), v1);
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
