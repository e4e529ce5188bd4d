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
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define S_SPC \
	"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define S_RT		"urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define S_SCHEMA	"urn:ietf:params:scim:schemas:core:2.0:Schema"

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

	s = itest_pool_keep(itest_fixture(itest_fmt("tests/fixtures/%s", rel)));
	va_start(ap, rel);
	while ((name = va_arg(ap, const char *)) != NULL) {
		val = va_arg(ap, const char *);
		s = itest_subst(s, itest_fmt("{{%s}}", name), val);
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

/* 201 with Location = meta.location ending in /<ep>/<id>, ETag W/"1". */
static void
check_created(const struct itest_resp *r, const char *ep, char *idout)
{
	CHECK_STATUS(r, 201);
	itest_assert_scim_ct(r);
	if (!str_is_uuid(itest_jstr(r, "id")))
		TL_FAIL("no uuid id: %.300s", r->body);
	snprintf(idout, ITEST_ID_SZ, "%s", itest_jstr(r, "id"));
	ASSERT_TRUE(r->location[0] != '\0');
	ASSERT_STR_EQ(r->location, itest_jstr(r, "meta/location"));
	ASSERT_TRUE(itest_ends_with(r->location,
	    itest_fmt(SCIM "/%s/%s", ep, idout)));
	ASSERT_STR_EQ(r->etag, "W/\"1\"");
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"1\"");
}

/* A list query that must find nothing: 200, totalResults 0, []. */
static void
check_no_match(const char *path)
{
	struct itest_resp *r = itest_list(path);

	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 0);
	ASSERT_TRUE(json_is_array(itest_jpath(r->json, "Resources")));
	ASSERT_INT_EQ(itest_jlen(r, "Resources"), 0);
}

static struct itest_resp *
patch_group_204(const char *gid, const char *body)
{
	struct itest_resp *r = itest_call("PATCH", itest_group_path(gid), body);

	CHECK_STATUS(r, 204);
	ASSERT_INT_EQ(r->body_len, 0);
	if (itest_etag_num(r->etag) < 2)
		TL_FAIL("PATCH 204 without a new ETag (\"%s\")", r->etag);
	return r;
}

static const char *
filter_q(const char *ep, const char *filter, const char *extra)
{
	return itest_fmt(SCIM "/%s?filter=%s%s", ep, itest_urlenc(filter),
	    extra);
}

/* ---- Microsoft Entra ID ---- */

#define ENTRA_USER	"entra.user@contoso.example"
#define ENTRA_EXT	"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
#define ENTRA_MAIL2	"entra.user.new@contoso.example"

static void
t_entra_user(void)
{
	struct itest_resp *r, *g;
	char id[ITEST_ID_SZ];

	itest_pool_reset();
	/* matching: does the user exist? */
	check_no_match(filter_q("Users", "userName eq \"" ENTRA_USER "\"",
	    ""));
	check_no_match(filter_q("Users", "externalId eq \"" ENTRA_EXT "\"",
	    ""));

	r = itest_call("POST", SCIM "/Users",
	    fixture("entra/01_create_user.json",
	    "USER_NAME", ENTRA_USER, "EXTERNAL_ID", ENTRA_EXT, NULL));
	check_created(r, "Users", id);
	ASSERT_STR_EQ(itest_jstr(r, "userName"), ENTRA_USER);
	ASSERT_STR_EQ(itest_jstr(r, "externalId"), ENTRA_EXT);
	ASSERT_TRUE(itest_jtrue(r, "active"));
	ASSERT_STR_EQ(itest_jstr(r, "emails/0/value"), ENTRA_USER);
	ASSERT_STR_EQ(itest_jstr(r, "emails/0/type"), "work");
	ASSERT_TRUE(itest_jtrue(r, "emails/0/primary"));
	ASSERT_STR_EQ(itest_jstr(r, "name/givenName"), "Entra");
	ASSERT_STR_EQ(itest_jstr(r, "phoneNumbers/0/value"), "+1 555 0101");
	ASSERT_STR_EQ(itest_jstr(r, "addresses/0/locality"), "Springfield");
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/employeeNumber"), "100200");
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/department"), "Platform");
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_ENT));
	ASSERT_STR_EQ(itest_jstr(r, "meta/resourceType"), "User");

	/* a second POST of the same user: 409 uniqueness */
	g = itest_call("POST", SCIM "/Users",
	    fixture("entra/01_create_user.json",
	    "USER_NAME", ENTRA_USER, "EXTERNAL_ID", ENTRA_EXT, NULL));
	CHECK_ERROR(g, 409, "uniqueness");

	/* matching again finds it, by userName and by externalId */
	g = itest_list(filter_q("Users", "userName eq \"" ENTRA_USER "\"", ""));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/id"), id);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/userName"), ENTRA_USER);
	g = itest_list(filter_q("Users", "externalId eq \"" ENTRA_EXT "\"",
	    ""));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/id"), id);
	g = itest_get_ok(itest_user_path(id));
	ASSERT_STR_EQ(itest_jstr(g, "userName"), ENTRA_USER);
	ASSERT_STR_EQ(g->etag, "W/\"1\"");

	/* attribute updates: Replace / Add, value filter path, URN path */
	r = itest_call("PATCH", itest_user_path(id), fixture(
	    "entra/02_patch_user_update.json", "NEW_EMAIL", ENTRA_MAIL2,
	    NULL));
	CHECK_STATUS(r, 200);
	itest_assert_scim_ct(r);
	ASSERT_STR_EQ(itest_jstr(r, "id"), id);
	ASSERT_STR_EQ(itest_jstr(r, "name/familyName"), "Updated");
	ASSERT_STR_EQ(itest_jstr(r, "name/givenName"), "Entra");
	ASSERT_INT_EQ(itest_jlen(r, "emails"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "emails/0/value"), ENTRA_MAIL2);
	ASSERT_STR_EQ(itest_jstr(r, "emails/0/type"), "work");
	ASSERT_TRUE(itest_jtrue(r, "emails/0/primary"));
	ASSERT_STR_EQ(itest_jstr(r, "title"), "Senior Engineer");
	ASSERT_STR_EQ(itest_jstr(r, "nickName"), "entra-nick");
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/department"), "Security");
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/employeeNumber"), "100200");
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"2\"");
	ASSERT_STR_EQ(r->etag, "W/\"2\"");

	/* disable with the string "False" */
	r = itest_call("PATCH", itest_user_path(id), fixture(
	    "entra/03_patch_user_disable.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jfalse(r, "active"));
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"3\"");
	g = itest_get_ok(itest_user_path(id));
	ASSERT_TRUE(itest_jfalse(g, "active"));

	/* replace without path: dotted and URN-prefixed keys, "True" */
	r = itest_call("PATCH", itest_user_path(id), fixture(
	    "entra/04_patch_user_no_path.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jtrue(r, "active"));
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "Entra Renamed User");
	ASSERT_STR_EQ(itest_jstr(r, "name/givenName"), "Renamed");
	ASSERT_STR_EQ(itest_jstr(r, "name/familyName"), "Person");
	ASSERT_STR_EQ(itest_jstr(r, "name/formatted"), "Entra User");
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/employeeNumber"), "200300");
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/department"), "Security");
	ASSERT_NULL(itest_jpath(r->json, "name.givenName"));
	ASSERT_NULL(itest_jpath(r->json, U_ENT ":employeeNumber"));
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"4\"");
	g = itest_get_ok(itest_user_path(id));
	ASSERT_TRUE(json_equal(g->json, r->json));

	/* Remove */
	r = itest_call("PATCH", itest_user_path(id), fixture(
	    "entra/05_patch_user_remove.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(itest_jpath(r->json, "nickName"));
	ASSERT_NULL(itest_jpath(r->json, U_ENT "/costCenter"));
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/department"), "Security");
	ASSERT_STR_EQ(itest_jstr(r, "title"), "Senior Engineer");

	/* found by the new mail, not the old one */
	g = itest_list(filter_q("Users",
	    "emails[type eq \"work\" and value eq \""
	    ENTRA_MAIL2 "\"]", ""));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);
	check_no_match(filter_q("Users", "emails.value eq \"" ENTRA_USER
	    "\"", ""));

	/* unassignment: disable, then delete */
	r = itest_call("PATCH", itest_user_path(id), fixture(
	    "entra/03_patch_user_disable.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jfalse(r, "active"));
	r = itest_call("DELETE", itest_user_path(id), NULL);
	CHECK_STATUS(r, 204);
	r = itest_call("GET", itest_user_path(id), NULL);
	CHECK_ERROR(r, 404, NULL);
	check_no_match(filter_q("Users", "userName eq \"" ENTRA_USER "\"",
	    ""));
}

static void
t_entra_group(void)
{
	struct itest_resp *r, *g;
	char u1[ITEST_ID_SZ], u2[ITEST_ID_SZ], gid[ITEST_ID_SZ];
	const char *gname = "Entra Sales Team";

	itest_pool_reset();
	r = itest_call("POST", SCIM "/Users", fixture(
	    "entra/11_create_user_minimal.json", "USER_NAME",
	    "entra.m1@contoso.example", "EXTERNAL_ID",
	    "5e1c6f3a-0c47-4a3b-8f0c-7a0b5b8d9e01", NULL));
	check_created(r, "Users", u1);
	r = itest_call("POST", SCIM "/Users", fixture(
	    "entra/11_create_user_minimal.json", "USER_NAME",
	    "entra.m2@contoso.example", "EXTERNAL_ID",
	    "5e1c6f3a-0c47-4a3b-8f0c-7a0b5b8d9e02", NULL));
	check_created(r, "Users", u2);

	check_no_match(filter_q("Groups",
	    itest_fmt("displayName eq \"%s\"", gname),
	    "&excludedAttributes=members"));
	r = itest_call("POST", SCIM "/Groups",
	    fixture("entra/06_create_group.json",
	    "GROUP_NAME", gname, "EXTERNAL_ID",
	    "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", NULL));
	check_created(r, "Groups", gid);
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), gname);
	ASSERT_STR_EQ(itest_jstr(r, "externalId"),
	    "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
	ASSERT_STR_EQ(itest_jstr(r, "meta/resourceType"), "Group");
	ASSERT_TRUE(itest_jpath(r->json, "members") == NULL ||
	    itest_jlen(r, "members") == 0);

	g = itest_list(filter_q("Groups",
	    itest_fmt("displayName eq \"%s\"", gname),
	    "&excludedAttributes=members"));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/id"), gid);
	ASSERT_STR_EQ(itest_jstr(g, "Resources/0/displayName"), gname);
	ASSERT_NULL(itest_jpath(g->json, "Resources/0/members"));

	patch_group_204(gid, fixture("entra/07_patch_group_add_members.json",
	    "USER_ID", u1, "USER2_ID", u2, NULL));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, u1, u2, NULL);
	ASSERT_STR_EQ(g->etag, "W/\"2\"");
	g = itest_get_ok(itest_fmt("%s?excludedAttributes=members",
	    itest_group_path(gid)));
	ASSERT_NULL(itest_jpath(g->json, "members"));
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), gname);
	g = itest_get_ok(itest_user_path(u1));
	CHECK_GROUPS(g, gid, NULL);

	/* membership check by filter */
	g = itest_list(filter_q("Groups",
	    itest_fmt("id eq \"%s\" and members.value eq "
	    "\"%s\"", gid, u1), "&excludedAttributes=members"));
	ASSERT_INT_EQ(itest_jint(g, "totalResults"), 1);

	/* remove as members[value eq "id"] */
	patch_group_204(gid, fixture(
	    "entra/08_patch_group_remove_member_filter.json", "USER_ID", u1,
	    NULL));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, u2, NULL);
	check_no_match(filter_q("Groups",
	    itest_fmt("id eq \"%s\" and members.value "
	    "eq \"%s\"", gid, u1), "&excludedAttributes=members"));
	g = itest_get_ok(itest_user_path(u1));
	CHECK_GROUPS(g, NULL);

	/* remove as path "members" with a value list */
	patch_group_204(gid, fixture(
	    "entra/09_patch_group_remove_member_value.json", "USER2_ID", u2,
	    NULL));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, NULL);

	/* rename */
	patch_group_204(gid, fixture("entra/10_patch_group_replace_name.json",
	    "GROUP_NAME", "Entra Sales Team Renamed", NULL));
	g = itest_get_ok(itest_group_path(gid));
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), "Entra Sales Team Renamed");
	check_no_match(filter_q("Groups",
	    itest_fmt("displayName eq \"%s\"", gname),
	    "&excludedAttributes=members"));

	/* members come back; deleting a user drops it from the group */
	patch_group_204(gid, fixture("entra/07_patch_group_add_members.json",
	    "USER_ID", u1, "USER2_ID", u2, NULL));
	r = itest_call("DELETE", itest_user_path(u1), NULL);
	CHECK_STATUS(r, 204);
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, u2, NULL);

	r = itest_call("DELETE", itest_group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	r = itest_call("GET", itest_group_path(gid), NULL);
	CHECK_ERROR(r, 404, NULL);
	g = itest_get_ok(itest_user_path(u2));
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

	r = itest_call("POST", SCIM "/Users", fixture(
	    "okta/11_create_user_plain.json", "USER_NAME", name,
	    "GIVEN_NAME", given, "EXTERNAL_ID", ext,
	    "PASSWORD", OKTA_PW, NULL));
	check_created(r, "Users", idout);
}

static void
t_okta(void)
{
	struct itest_resp *r, *g, *created;
	char id[ITEST_ID_SZ], u2[ITEST_ID_SZ], u3[ITEST_ID_SZ],
	    gid[ITEST_ID_SZ];
	const char *gname = "Okta Push Group";
	const char *gname2 = "Okta Push Group Renamed";

	itest_pool_reset();
	/* "Test Connector Configuration" */
	r = itest_list(SCIM "/Users?startIndex=1&count=2");
	ASSERT_TRUE(itest_jint(r, "totalResults") >= 0);
	ASSERT_TRUE(itest_jint(r, "itemsPerPage") >= 0 &&
	    itest_jint(r, "itemsPerPage") <= 2);
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);
	r = itest_list(SCIM "/Groups?startIndex=1&count=100");
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);

	/* import/match, then create */
	check_no_match(filter_q("Users", "userName eq \"" OKTA_USER "\"",
	    "&startIndex=1&count=100"));
	created = itest_call("POST", SCIM "/Users", fixture(
	    "okta/01_create_user.json", "USER_NAME", OKTA_USER,
	    "PASSWORD", OKTA_PW, NULL));
	check_created(created, "Users", id);
	ASSERT_STR_EQ(itest_jstr(created, "userName"), OKTA_USER);
	ASSERT_TRUE(itest_jtrue(created, "active"));
	ASSERT_STR_EQ(itest_jstr(created, "emails/0/value"), OKTA_USER);
	ASSERT_NULL(itest_jpath(created->json, "password"));
	ASSERT_NULL(strstr(created->body, OKTA_PW));
	ASSERT_TRUE(itest_jpath(created->json, "groups") == NULL ||
	    itest_jlen(created, "groups") == 0);
	r = itest_list(filter_q("Users", "userName eq \"" OKTA_USER "\"",
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), id);
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);
	ASSERT_INT_EQ(itest_jint(r, "itemsPerPage"), 1);
	g = itest_get_ok(itest_user_path(id));
	ASSERT_STR_EQ(itest_jstr(g, "userName"), OKTA_USER);

	okta_plain_user("okta.member2@example.com", "Second",
	    "00uokta000000000002", u2);
	okta_plain_user("okta.member3@example.com", "Third",
	    "00uokta000000000003", u3);

	/* group push: create with a member, find it */
	check_no_match(filter_q("Groups",
	    itest_fmt("displayName eq \"%s\"", gname),
	    "&startIndex=1&count=100"));
	r = itest_call("POST", SCIM "/Groups",
	    fixture("okta/06_create_group.json",
	    "GROUP_NAME", gname, "USER_ID", id, "USER_NAME", OKTA_USER, NULL));
	check_created(r, "Groups", gid);
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), gname);
	CHECK_MEMBERS(r, id, NULL);
	r = itest_list(filter_q("Groups",
	    itest_fmt("displayName eq \"%s\"", gname),
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), gid);
	CHECK_MEMBERS(itest_get_ok(itest_group_path(gid)), id, NULL);

	/* profile push: PUT with id, meta and groups:[] (all ignored) */
	g = itest_get_ok(itest_user_path(id));
	r = itest_call("PUT", itest_user_path(id),
	    fixture("okta/02_replace_user.json",
	    "USER_ID", id, "USER_NAME", OKTA_USER,
	    "CREATED", itest_jstr(g, "meta/created"),
	    "LAST_MODIFIED", itest_jstr(g, "meta/lastModified"),
	    "LOCATION", itest_jstr(g, "meta/location"),
	    "VERSION", itest_subst(itest_jstr(g, "meta/version"), "\"", "\\\""),
	    NULL));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "id"), id);
	ASSERT_STR_EQ(itest_jstr(r, "name/familyName"), "Renamed");
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "Okta Renamed");
	ASSERT_TRUE(itest_jtrue(r, "active"));
	ASSERT_STR_EQ(itest_jstr(r, "meta/created"),
	    itest_jstr(g, "meta/created"));
	ASSERT_TRUE(itest_etag_num(itest_jstr(r, "meta/version")) >
	    itest_etag_num(itest_jstr(g, "meta/version")));
	ASSERT_STR_EQ(r->etag, itest_jstr(r, "meta/version"));
	/* "groups": [] in a PUT does not touch memberships */
	CHECK_GROUPS(r, gid, NULL);
	CHECK_GROUPS(itest_get_ok(itest_user_path(id)), gid, NULL);
	CHECK_MEMBERS(itest_get_ok(itest_group_path(gid)), id, NULL);

	/* deactivate / reactivate: replace without path */
	r = itest_call("PATCH", itest_user_path(id),
	    fixture("okta/03_deactivate_user.json",
	    NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jfalse(r, "active"));
	ASSERT_STR_EQ(itest_jstr(r, "userName"), OKTA_USER);
	ASSERT_STR_EQ(itest_jstr(r, "name/familyName"), "Renamed");
	g = itest_get_ok(itest_user_path(id));
	ASSERT_TRUE(itest_jfalse(g, "active"));
	r = itest_list(filter_q("Users", "userName eq \"" OKTA_USER "\"",
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_TRUE(itest_jfalse(r, "Resources/0/active"));
	r = itest_call("PATCH", itest_user_path(id),
	    fixture("okta/04_reactivate_user.json",
	    NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jtrue(r, "active"));

	/* password push: accepted, never echoed or stored */
	r = itest_call("PATCH", itest_user_path(id),
	    fixture("okta/05_password_user.json",
	    "PASSWORD", "Okta-Pushed-Pw-93f1", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(itest_jpath(r->json, "password"));
	ASSERT_NULL(strstr(r->body, "Okta-Pushed-Pw"));
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM "
	    "scim_user t WHERE t::text LIKE '%%%s%%' OR t::text LIKE '%%%s%%'",
	    "Okta-Pushed-Pw", OKTA_PW)), 0);

	/* group rename, the value carrying the group's own id */
	patch_group_204(gid, fixture("okta/07_rename_group.json", "GROUP_ID",
	    gid, "GROUP_NAME", gname2, NULL));
	g = itest_get_ok(itest_group_path(gid));
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), gname2);
	ASSERT_STR_EQ(itest_jstr(g, "id"), gid);
	CHECK_MEMBERS(g, id, NULL);

	/* member push: replace the whole list */
	patch_group_204(gid, fixture("okta/08_replace_members.json",
	    "USER2_ID", u2, "USER2_NAME", "okta.member2@example.com",
	    "USER3_ID", u3, "USER3_NAME", "okta.member3@example.com", NULL));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, u2, u3, NULL);
	CHECK_GROUPS(itest_get_ok(itest_user_path(id)), NULL);
	CHECK_GROUPS(itest_get_ok(itest_user_path(u3)), gid, NULL);

	/* incremental add / remove */
	patch_group_204(gid, fixture("okta/09_add_members.json", "USER_ID",
	    id, "USER_NAME", OKTA_USER, NULL));
	CHECK_MEMBERS(itest_get_ok(itest_group_path(gid)), id, u2, u3, NULL);
	patch_group_204(gid, fixture("okta/10_remove_member.json",
	    "USER2_ID", u2, NULL));
	CHECK_MEMBERS(itest_get_ok(itest_group_path(gid)), id, u3, NULL);

	r = itest_list(filter_q("Groups",
	    itest_fmt("displayName eq \"%s\"", gname2),
	    "&startIndex=1&count=100"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), gid);
	CHECK_MEMBERS(itest_get_ok(itest_group_path(gid)), id, u3, NULL);
	check_no_match(filter_q("Groups",
	    itest_fmt("displayName eq \"%s\"", gname),
	    "&startIndex=1&count=100"));

	/* group unlink/delete */
	r = itest_call("DELETE", itest_group_path(gid), NULL);
	CHECK_STATUS(r, 204);
	CHECK_GROUPS(itest_get_ok(itest_user_path(id)), NULL);
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

	itest_pool_reset();
	r = itest_get_ok(SCIM "/ServiceProviderConfig");
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), S_SPC));
	ASSERT_TRUE(itest_jtrue(r, "patch/supported"));
	ASSERT_TRUE(itest_jtrue(r, "filter/supported"));
	ASSERT_TRUE(itest_jint(r, "filter/maxResults") > 0);
	ASSERT_TRUE(itest_jtrue(r, "sort/supported"));
	ASSERT_TRUE(itest_jtrue(r, "etag/supported"));
	ASSERT_TRUE(json_is_boolean(itest_jpath(r->json, "bulk/supported")));
	ASSERT_TRUE(json_is_boolean(itest_jpath(r->json,
	    "changePassword/supported")));
	ASSERT_TRUE(itest_jlen(r, "authenticationSchemes") >= 1 &&
	    itest_jlen(r, "authenticationSchemes") != (size_t)-1);
	ASSERT_STR_EQ(itest_jstr(r, "authenticationSchemes/0/type"),
	    "oauthbearertoken");

	r = itest_get_ok(SCIM "/ResourceTypes");
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), M_LIST));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 2);
	ASSERT_INT_EQ(itest_jlen(r, "Resources"), 2);

	r = itest_get_ok(SCIM "/ResourceTypes/User");
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), S_RT));
	ASSERT_STR_EQ(itest_jstr(r, "id"), "User");
	ASSERT_STR_EQ(itest_jstr(r, "name"), "User");
	ASSERT_STR_EQ(itest_jstr(r, "endpoint"), "/Users");
	ASSERT_STR_EQ(itest_jstr(r, "schema"), U_CORE);
	ASSERT_STR_EQ(itest_jstr(r, "meta/resourceType"), "ResourceType");
	json_array_foreach(itest_jpath(r->json, "schemaExtensions"), i, v) {
		const char *s = json_string_value(json_object_get(v, "schema"));

		ASSERT_TRUE(json_is_false(json_object_get(v, "required")));
		if (s != NULL && strcmp(s, U_ENT) == 0)
			found_ent = 1;
		if (s != NULL && strcmp(s, U_PAM) == 0)
			found_pam = 1;
	}
	ASSERT_TRUE(found_ent);
	ASSERT_TRUE(found_pam);

	r = itest_get_ok(SCIM "/ResourceTypes/Group");
	ASSERT_STR_EQ(itest_jstr(r, "id"), "Group");
	ASSERT_STR_EQ(itest_jstr(r, "endpoint"), "/Groups");
	ASSERT_STR_EQ(itest_jstr(r, "schema"), G_CORE);

	r = itest_get_ok(SCIM "/Schemas");
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), M_LIST));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 4);
	res = itest_jpath(r->json, "Resources");
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

	r = itest_get_ok(SCIM "/Schemas/" U_PAM);
	ASSERT_STR_EQ(itest_jstr(r, "id"), U_PAM);
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"),
	    S_SCHEMA));
	r = itest_get_ok(SCIM "/Schemas/" U_ENT);
	ASSERT_STR_EQ(itest_jstr(r, "id"), U_ENT);
	r = itest_call("GET", SCIM "/Schemas/urn:example:no:such:schema", NULL);
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("GET", SCIM "/ResourceTypes/Device", NULL);
	CHECK_ERROR(r, 404, NULL);
}

#define SP_USER		"sp.dba@example.org"

static void
t_sailpoint_provision(void)
{
	struct itest_resp *r, *g;
	char mgr[ITEST_ID_SZ], id[ITEST_ID_SZ], gid[ITEST_ID_SZ];
	json_t *v;
	size_t i;
	int found;

	itest_pool_reset();
	r = itest_call("POST", SCIM "/Users", "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"sp.manager@example.org\",\"active\":true}");
	check_created(r, "Users", mgr);

	r = itest_call("POST", SCIM "/Users",
	    fixture("sailpoint/01_create_user.json",
	    "USER_NAME", SP_USER, "EXTERNAL_ID", "sp-ext-0042",
	    "MANAGER_ID", mgr, NULL));
	check_created(r, "Users", id);
	ASSERT_STR_EQ(itest_jstr(r, "userName"), SP_USER);
	ASSERT_TRUE(itest_jtrue(r, "active"));
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/manager/value"), mgr);
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/employeeNumber"), "SP-0042");
	ASSERT_TRUE(itest_jtrue(r, U_PAM "/privileged"));
	ASSERT_STR_EQ(itest_jstr(r, U_PAM "/adminRoles/0"), "db-admin");
	ASSERT_STR_EQ(itest_jstr(r, U_PAM "/vaultScope/0"), "prod-postgres");
	ASSERT_INT_EQ(itest_jint(r, U_PAM "/maxJitDurationSeconds"), 3600);
	ASSERT_STR_EQ(itest_jstr(r, U_PAM "/riskLevel"), "high");
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_PAM));

	/* aggregation: page through every user and find this one */
	found = 0;
	{
		long long start = 1, total;

		do {
			r = itest_list(itest_fmt(SCIM "/Users?startIndex=%lld"
			    "&count=100", start));
			total = itest_jint(r, "totalResults");
			json_array_foreach(itest_jpath(r->json, "Resources"),
			    i, v) {
				const char *vid = json_string_value(
				    json_object_get(v, "id"));

				if (vid != NULL && strcmp(vid, id) == 0)
					found++;
			}
			if (itest_jint(r, "itemsPerPage") <= 0)
				break;
			start += itest_jint(r, "itemsPerPage");
		} while (start <= total);
	}
	ASSERT_INT_EQ(found, 1);
	r = itest_list(filter_q("Users", "userName eq \"" SP_USER "\"", ""));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);

	/* update by PUT */
	r = itest_call("PUT", itest_user_path(id),
	    fixture("sailpoint/02_update_user.json",
	    "USER_ID", id, "USER_NAME", SP_USER, "EXTERNAL_ID", "sp-ext-0042",
	    "MANAGER_ID", mgr, NULL));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "title"), "Lead DBA");
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/department"), "Data Platform");
	ASSERT_INT_EQ(itest_jlen(r, U_PAM "/adminRoles"), 2);
	ASSERT_INT_EQ(itest_jint(r, U_PAM "/maxJitDurationSeconds"), 7200);
	ASSERT_STR_EQ(itest_jstr(r, U_PAM "/riskLevel"), "critical");
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"2\"");

	/* entitlement change by PATCH */
	r = itest_call("PATCH", itest_user_path(id), fixture(
	    "sailpoint/03_patch_user_entitlement.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jlen(r, U_PAM "/adminRoles"), 3);
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, U_PAM "/adminRoles"),
	    "schema-owner"));
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, U_PAM "/adminRoles"),
	    "backup-operator"));
	ASSERT_STR_EQ(itest_jstr(r, U_PAM "/riskLevel"), "medium");
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"3\"");

	/* group and membership */
	r = itest_call("POST", SCIM "/Groups", fixture(
	    "sailpoint/04_create_group.json", "GROUP_NAME", "SP DB Admins",
	    "EXTERNAL_ID", "sp-grp-1", NULL));
	check_created(r, "Groups", gid);
	patch_group_204(gid, fixture("sailpoint/05_add_member.json",
	    "USER_ID", id, NULL));
	g = itest_get_ok(itest_group_path(gid));
	CHECK_MEMBERS(g, id, NULL);
	ASSERT_STR_EQ(itest_jstr(g, "members/0/type"), "User");
	g = itest_get_ok(itest_user_path(id));
	CHECK_GROUPS(g, gid, NULL);
	r = itest_list(SCIM "/Groups?startIndex=1&count=100");
	found = 0;
	json_array_foreach(itest_jpath(r->json, "Resources"), i, v) {
		const char *vid = json_string_value(json_object_get(v, "id"));

		if (vid != NULL && strcmp(vid, gid) == 0)
			found++;
	}
	ASSERT_INT_EQ(found, 1);
	patch_group_204(gid, fixture("sailpoint/06_remove_member.json",
	    "USER_ID", id, NULL));
	CHECK_MEMBERS(itest_get_ok(itest_group_path(gid)), NULL);

	/* disable */
	r = itest_call("PATCH", itest_user_path(id), fixture(
	    "sailpoint/07_disable_user.json", NULL));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jfalse(r, "active"));
	g = itest_get_ok(itest_user_path(id));
	ASSERT_TRUE(itest_jfalse(g, "active"));
	ASSERT_INT_EQ(itest_jlen(g, U_PAM "/adminRoles"), 3);
}

static const struct testlib_case cases[] = {
	{ "Entra ID user lifecycle", t_entra_user },
	{ "Entra ID group lifecycle", t_entra_group },
	{ "Okta user and group push", t_okta },
	{ "SailPoint discovery", t_sailpoint_discovery },
	{ "SailPoint provisioning", t_sailpoint_provision },
};

ITEST_MAIN(cases)
