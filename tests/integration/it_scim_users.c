/*
 * SCIM Users over HTTP against the real server (contract-scim.md):
 * CRUD, meta and versions, ETags, uniqueness, password handling,
 * extensions, and list/search: every filter operator checked against
 * the expected set of ids of a seeded population, pagination, sorting,
 * projections and POST /Users/.search.
 *
 * The seed case runs first and removes whatever users and groups exist,
 * so filter results can be compared with exact sets; every case after
 * the filter cases uses userNames outside the "fuNN" population.
 */

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
#define M_SEARCH	"urn:ietf:params:scim:api:messages:2.0:SearchRequest"

#define NSEED		30

/* Every member of want (recursively) is equal in got. */
static int
json_subset(json_t *want, json_t *got)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(want)) {
		if (!json_is_object(got))
			return 0;
		json_object_foreach(want, k, v) {
			if (!json_subset(v, json_object_get(got, k)))
				return 0;
		}
		return 1;
	}
	if (json_is_array(want)) {
		if (!json_is_array(got) ||
		    json_array_size(got) != json_array_size(want))
			return 0;
		json_array_foreach(want, i, v) {
			if (!json_subset(v, json_array_get(got, i)))
				return 0;
		}
		return 1;
	}
	return got != NULL && json_equal(want, got);
}

/* Delete every user and group there is (pages through the lists). */
static void
delete_all(const char *ep)
{
	struct itest_resp *r, *d;
	json_t *res, *v;
	size_t i;
	int rounds;

	for (rounds = 0; rounds < 100; rounds++) {
		r = itest_list(itest_fmt(SCIM "/%s?count=1000&attributes=id",
		    ep));
		res = itest_jpath(r->json, "Resources");
		if (itest_jint(r, "totalResults") == 0)
			return;
		if (!json_is_array(res) || json_array_size(res) == 0)
			TL_FAIL("totalResults > 0 but no Resources");
		json_array_foreach(res, i, v) {
			const char *id = json_string_value(
			    json_object_get(v, "id"));

			if (id == NULL)
				TL_FAIL("resource without id");
			d = itest_call("DELETE",
			    itest_fmt(SCIM "/%s/%s", ep, id), NULL);
			CHECK_STATUS(d, 204);
		}
	}
	TL_FAIL("could not empty %s", ep);
}

/* ---- the seeded population ---- */

static const char *const families[5] = {
	"Smith", "Jones", "Brown", "Taylor", "Garcia"
};
static const char *const risks[4] = { "low", "medium", "high", "critical" };

static char seed_id[NSEED][ITEST_ID_SZ];
static char group_a[ITEST_ID_SZ], group_b[ITEST_ID_SZ];
static char seed_t[64];		/* lastModified bound before the updates */
static int seeded;

static int
in_group_a(int i)
{
	return i % 5 == 0;
}

static int
in_group_b(int i)
{
	return i >= 10 && i <= 14;
}

static int
modified_late(int i)
{
	return i >= 20 && i <= 24;
}

static const char *
seed_body(int i)
{
	json_t *u, *emails, *ent, *pam;

	u = json_object();
	json_object_set_new(u, "schemas", json_pack("[sss]", U_CORE, U_ENT,
	    U_PAM));
	json_object_set_new(u, "userName", json_string(itest_fmt("fu%02d", i)));
	json_object_set_new(u, "externalId",
	    json_string(itest_fmt("Ext-%02d", i)));
	json_object_set_new(u, "name", json_pack("{ssss}", "familyName",
	    families[i % 5], "givenName", itest_fmt("Given%02d", i)));
	if (i % 2 == 0)
		json_object_set_new(u, "displayName",
		    json_string(itest_fmt("Display %02d", i)));
	if (i % 3 == 0)
		json_object_set_new(u, "title", json_string("Engineer"));
	else if (i % 3 == 1)
		json_object_set_new(u, "title", json_string("Manager"));
	json_object_set_new(u, "active", json_boolean(i % 4 != 0));
	json_object_set_new(u, "userType",
	    json_string(i < 20 ? "Employee" : "Contractor"));
	if (i == 3 || i == 14 || i == 25)
		json_object_set_new(u, "nickName", json_string("Nick"));
	emails = json_array();
	json_array_append_new(emails, json_pack("{sssssb}", "type", "work",
	    "value", itest_fmt(i % 3 == 0 ? "fu%02d@example.org" :
	    "fu%02d@example.com", i), "primary", 1));
	if (i % 2 == 1)
		json_array_append_new(emails, json_pack("{ssss}", "type",
		    "home", "value", itest_fmt("fu%02d.home@example.com", i)));
	json_object_set_new(u, "emails", emails);
	ent = json_pack("{ssss}", "employeeNumber", itest_fmt("%04d", i * 7),
	    "department", itest_fmt("Dept%d", i % 4));
	json_object_set_new(u, U_ENT, ent);
	pam = json_pack("{sbsssI}", "privileged", i % 5 == 0, "riskLevel",
	    risks[i % 4], "maxJitDurationSeconds",
	    (json_int_t)(600 * (i % 5 + 1)));
	json_object_set_new(u, U_PAM, pam);
	return itest_dump(u);
}

static void
t_seed(void)
{
	struct itest_resp *r;
	const char *lm;
	json_t *members;
	int i;

	itest_pool_reset();
	delete_all("Groups");
	delete_all("Users");
	for (i = 0; i < NSEED; i++)
		itest_create_user(seed_body(i), seed_id[i]);

	members = json_array();
	for (i = 0; i < NSEED; i++) {
		if (in_group_a(i))
			json_array_append_new(members,
			    json_pack("{ss}", "value", seed_id[i]));
	}
	r = itest_call("POST", SCIM "/Groups",
	    itest_dump(json_pack("{s[s]sssO}",
	    "schemas", G_CORE, "displayName", "Filter Group A", "members",
	    members)));
	json_decref(members);
	CHECK_STATUS(r, 201);
	snprintf(group_a, sizeof(group_a), "%s", itest_jstr(r, "id"));
	members = json_array();
	for (i = 0; i < NSEED; i++) {
		if (in_group_b(i))
			json_array_append_new(members,
			    json_pack("{ss}", "value", seed_id[i]));
	}
	r = itest_call("POST", SCIM "/Groups",
	    itest_dump(json_pack("{s[s]sssO}",
	    "schemas", G_CORE, "displayName", "Filter Group B", "members",
	    members)));
	json_decref(members);
	CHECK_STATUS(r, 201);
	snprintf(group_b, sizeof(group_b), "%s", itest_jstr(r, "id"));

	/* T = the newest lastModified so far; then change 20..24 later */
	seed_t[0] = '\0';
	for (i = 0; i < NSEED; i++) {
		r = itest_call("GET", itest_user_path(seed_id[i]), NULL);
		CHECK_STATUS(r, 200);
		lm = itest_jstr(r, "meta/lastModified");
		ASSERT_TRUE(itest_is_datetime(lm));
		if (strcmp(lm, seed_t) > 0)
			snprintf(seed_t, sizeof(seed_t), "%s", lm);
	}
	itest_sleep_ms(1100);
	for (i = 0; i < NSEED; i++) {
		if (!modified_late(i))
			continue;
		r = itest_call("PATCH", itest_user_path(seed_id[i]),
		    itest_patch_body("[{\"op\":\"add\",\"path\":\"locale\","
		    "\"value\":\"en-US\"}]"));
		CHECK_STATUS(r, 200);
		ASSERT_TRUE(strcmp(itest_jstr(r, "meta/lastModified"),
		    seed_t) > 0);
	}
	seeded = 1;
}

/*
 * Filter table: each filter text (with {{GA}}, {{GB}}, {{T}}, {{ID5}}
 * replaced) and the expected members of the population, given by
 * expect(k, i) for row k.
 */
struct fcase {
	int k;
	const char *filter;
};

static int
expect(int k, int i)
{
	switch (k) {
	/* operators on userName (caseExact false) */
	case 1: return i == 7;
	case 2: return i == 7;
	case 3: return i != 7;
	case 4: return i >= 10 && i <= 19;
	case 5: return i >= 20;
	case 6: return i == 9 || i == 19 || i == 29;
	case 7: return i >= 26;
	case 8: return i >= 25;
	case 9: return i < 3;
	case 10: return i <= 3;
	case 11: return i % 3 != 2;			/* title pr */
	case 12: return i == 3 || i == 14 || i == 25;
	case 13: return 0;
	case 14: return 1;
	case 15: return i % 3 == 0;			/* title case */
	case 16: return i != 7 && i != 8;
	/* booleans, logic, precedence */
	case 20: return i % 4 == 0;
	case 21: return i % 4 != 0;
	case 22: return i % 3 == 0 && i % 4 != 0;
	case 23: return i % 3 != 2;
	case 24: return i == 2 || (i % 3 == 0 && i % 4 == 0);
	case 25: return (i == 2 || i % 3 == 0) && i % 4 == 0;
	case 26: return i % 4 == 0 && i >= 20;
	case 27: return i % 3 == 2;
	case 28: return i % 2 == 0 && i % 10 != 0;
	case 29: return !(i % 4 != 0 && i % 3 == 0);
	case 30: return i >= 10 && i <= 12;
	/* multi-valued, value paths */
	case 40: return i % 3 != 0;
	case 41: return i % 3 != 0 || i % 2 == 1;
	case 42: return i % 2 == 1;
	case 43: return i == 1;
	case 44: return i == 5;
	case 45: return i % 3 == 0 || i >= 20;
	case 46: return i >= 20 && i % 2 == 1;
	case 47: return i % 3 == 0;
	case 48: return i % 2 == 1 && i % 3 == 0;
	/* sub-attributes, schema-qualified names, extensions */
	case 50: return i % 5 == 1;
	case 51: return i % 5 == 3;
	case 52: return i == 11;
	case 53: return i == 12;
	case 54: return i % 4 == 1;
	case 55: return i % 5 >= 3;
	case 56: return i % 5 <= 1;
	case 57: return i % 4 == 3;
	case 58: return i % 5 == 0;
	case 59: return i == 7;
	case 60: return i % 5 != 0;
	case 61: return i % 5 == 1 && i % 4 == 1;
	/* externalId is caseExact */
	case 70: return i == 7;
	case 71: return 0;
	case 72: return 0;
	case 73: return i >= 10 && i <= 19;
	case 74: return i == 7;
	/* meta, id, groups */
	case 80: return modified_late(i);
	case 81: return !modified_late(i);
	case 82: return in_group_a(i);
	case 83: return in_group_b(i);
	case 84: return i == 5;
	case 85: return in_group_a(i) || in_group_b(i);
	case 86: return in_group_b(i);
	case 87: return 1;
	}
	return -1;
}

static const struct fcase fops[] = {
	{ 1, "userName eq \"fu07\"" },
	{ 2, "userName eq \"FU07\"" },
	{ 3, "userName ne \"fu07\"" },
	{ 4, "userName co \"u1\"" },
	{ 5, "userName sw \"FU2\"" },
	{ 6, "userName ew \"9\"" },
	{ 7, "userName gt \"fu25\"" },
	{ 8, "userName ge \"FU25\"" },
	{ 9, "userName lt \"fu03\"" },
	{ 10, "userName le \"fu03\"" },
	{ 11, "title pr" },
	{ 12, "nickName pr" },
	{ 13, "userName eq \"nobody-at-all\"" },
	{ 14, "userName pr" },
	{ 15, "title eq \"engineer\"" },
	{ 16, "USERNAME ne \"fu07\" and username NE \"Fu08\"" },
};

static const struct fcase flogic[] = {
	{ 20, "active eq false" },
	{ 21, "active eq true" },
	{ 22, "title eq \"Engineer\" and active eq true" },
	{ 23, "title eq \"Engineer\" or title eq \"Manager\"" },
	{ 24, "userName eq \"fu02\" or title eq \"Engineer\" and "
	    "active eq false" },
	{ 25, "(userName eq \"fu02\" or title eq \"Engineer\") and "
	    "active eq false" },
	{ 26, "not (active eq true) and userType eq \"Contractor\"" },
	{ 27, "not (title pr)" },
	{ 28, "displayName pr and not (displayName ew \"0\")" },
	{ 29, "not (active eq true and title eq \"Engineer\")" },
	{ 30, "((userName ge \"fu10\") and (userName le \"fu12\"))" },
};

static const struct fcase fmulti[] = {
	{ 40, "emails[type eq \"work\" and value co \"@example.com\"]" },
	{ 41, "emails.type eq \"work\" and emails.value co \"@example.com\"" },
	{ 42, "emails[type eq \"home\"]" },
	{ 43, "emails.value eq \"FU01@EXAMPLE.COM\"" },
	{ 44, "emails co \"fu05.home\"" },
	{ 45, "emails[type eq \"work\" and (value ew \".org\" or "
	    "value sw \"fu2\")]" },
	{ 46, "userType eq \"Contractor\" and emails[type eq \"home\"]" },
	{ 47, "emails[value ew \"example.org\"]" },
	{ 48, "emails[type eq \"home\"] and emails[type eq \"work\" and "
	    "value ew \".org\"]" },
};

static const struct fcase fattr[] = {
	{ 50, "name.familyName eq \"Jones\"" },
	{ 51, "name.familyName sw \"t\"" },
	{ 52, U_CORE ":userName eq \"fu11\"" },
	{ 53, U_CORE ":name.givenName eq \"Given12\"" },
	{ 54, U_ENT ":department eq \"Dept1\"" },
	{ 55, U_PAM ":maxJitDurationSeconds gt 1800" },
	{ 56, U_PAM ":maxJitDurationSeconds le 1200" },
	{ 57, U_PAM ":riskLevel eq \"critical\"" },
	{ 58, U_PAM ":privileged eq true" },
	{ 59, U_ENT ":employeeNumber eq \"0049\"" },
	{ 60, "not (" U_PAM ":privileged eq true)" },
	{ 61, "name.familyName eq \"jones\" and " U_ENT
	    ":department eq \"Dept1\"" },
};

static const struct fcase fcase_rules[] = {
	{ 70, "externalId eq \"Ext-07\"" },
	{ 71, "externalId eq \"ext-07\"" },
	{ 72, "externalId sw \"EXT\"" },
	{ 73, "externalId sw \"Ext-1\"" },
	{ 74, "userName eq \"Fu07\" and externalId eq \"Ext-07\"" },
};

static const struct fcase fmeta[] = {
	{ 80, "meta.lastModified gt \"{{T}}\"" },
	{ 81, "meta.lastModified le \"{{T}}\"" },
	{ 82, "groups.value eq \"{{GA}}\"" },
	{ 83, "groups.value eq \"{{GB}}\"" },
	{ 84, "id eq \"{{ID5}}\"" },
	{ 85, "groups.value eq \"{{GA}}\" or groups.value eq \"{{GB}}\"" },
	{ 86, "groups.display eq \"Filter Group B\"" },
	{ 87, "meta.created pr" },
};

static int
seed_index(const char *id)
{
	int i;

	for (i = 0; i < NSEED; i++) {
		if (id != NULL && strcmp(seed_id[i], id) == 0)
			return i;
	}
	return -1;
}

/* Run one filter; 0 if the result set is the expected one. */
static int
run_filter(const struct fcase *fc)
{
	struct itest_resp *r;
	const char *f;
	char got[NSEED];
	json_t *res, *v;
	size_t i;
	int k, nwant = 0, bad = 0;

	f = itest_subst(fc->filter, "{{T}}", seed_t);
	f = itest_subst(f, "{{GA}}", group_a);
	f = itest_subst(f, "{{GB}}", group_b);
	f = itest_subst(f, "{{ID5}}", seed_id[5]);
	memset(got, 0, sizeof(got));
	r = itest_call("GET",
	    itest_fmt(SCIM "/Users?filter=%s&count=1000", itest_urlenc(f)),
	    NULL);
	if (r->status != 200 || r->json == NULL) {
		fprintf(stderr, "  filter [%s]: status %ld %.300s\n", f,
		    r->status, r->body);
		return -1;
	}
	res = itest_jpath(r->json, "Resources");
	for (k = 0; k < NSEED; k++)
		nwant += expect(fc->k, k);
	if (!json_is_array(res)) {
		fprintf(stderr, "  filter [%s]: no Resources array\n", f);
		return -1;
	}
	json_array_foreach(res, i, v) {
		int ix = seed_index(json_string_value(json_object_get(v,
		    "id")));

		if (ix < 0 || got[ix]) {
			fprintf(stderr, "  filter [%s]: unexpected or repeated "
			    "resource %s\n", f, json_string_value(
			    json_object_get(v, "userName")));
			bad = 1;
			continue;
		}
		got[ix] = 1;
	}
	for (k = 0; k < NSEED; k++) {
		if (got[k] != expect(fc->k, k)) {
			fprintf(stderr, "  filter [%s]: fu%02d %s\n", f, k,
			    got[k] ? "returned but should not match" :
			    "missing");
			bad = 1;
		}
	}
	if (itest_jint(r, "totalResults") != nwant ||
	    itest_jint(r, "itemsPerPage") != nwant ||
	    itest_jint(r, "startIndex") != 1) {
		fprintf(stderr, "  filter [%s]: totalResults %lld "
		    "itemsPerPage %lld startIndex %lld, want %d/%d/1\n", f,
		    itest_jint(r, "totalResults"),
		    itest_jint(r, "itemsPerPage"),
		    itest_jint(r, "startIndex"), nwant, nwant);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static void
run_table(const struct fcase *t, size_t n)
{
	size_t i;
	int failed = 0;

	if (!seeded)
		TL_FAIL("population not seeded");
	for (i = 0; i < n; i++) {
		if (expect(t[i].k, 0) < 0)
			TL_FAIL("no expectation for row %d", t[i].k);
		if (run_filter(&t[i]) != 0)
			failed++;
	}
	if (failed)
		TL_FAIL("%d of %zu filters gave the wrong set", failed, n);
}

#define RUN_TABLE(t) run_table((t), sizeof(t) / sizeof((t)[0]))

static void
t_filter_ops(void)
{
	itest_pool_reset();
	RUN_TABLE(fops);
}

static void
t_filter_logic(void)
{
	itest_pool_reset();
	RUN_TABLE(flogic);
}

static void
t_filter_multi(void)
{
	itest_pool_reset();
	RUN_TABLE(fmulti);
}

static void
t_filter_attrs(void)
{
	itest_pool_reset();
	RUN_TABLE(fattr);
}

static void
t_filter_case_rules(void)
{
	itest_pool_reset();
	RUN_TABLE(fcase_rules);
}

static void
t_filter_meta_groups(void)
{
	itest_pool_reset();
	RUN_TABLE(fmeta);
}

static void
t_filter_no_match(void)
{
	struct itest_resp *r;

	itest_pool_reset();
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s",
	    itest_urlenc("userName eq \"no-such-user@example.net\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 0);
	ASSERT_TRUE(json_is_array(itest_jpath(r->json, "Resources")));
	ASSERT_INT_EQ(itest_jlen(r, "Resources"), 0);
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);
	ASSERT_INT_EQ(itest_jint(r, "itemsPerPage"), 0);
}

static void
t_filter_bad(void)
{
	static const char *const bad[] = {
		"userName eq",
		"userName eq \"x",
		"noSuchAttribute eq \"x\"",
		"userName zz \"x\"",
		"(userName eq \"x\"",
		"emails[type eq \"work\"",
		"active gt true",
		"userName eq \"a\" and",
		"urn:ietf:params:scim:schemas:core:2.0:Group:displayName "
		    "eq \"x\"",
	};
	struct itest_resp *r;
	size_t i;

	itest_pool_reset();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = itest_call("GET",
		    itest_fmt(SCIM "/Users?filter=%s", itest_urlenc(bad[i])),
		    NULL);
		if (r->status != 400 || itest_jstr(r, "scimType") == NULL ||
		    strcmp(itest_jstr(r, "scimType"), "invalidFilter") != 0)
			TL_FAIL("filter [%s]: want 400 invalidFilter, got %ld "
			    "%.200s", bad[i], r->status, r->body);
		CHECK_ERROR(r, 400, "invalidFilter");
	}
}

/* userNames of a page, in order, must be fuA, fuA+step, ... (n of them). */
static void
check_page(const struct itest_resp *r, int first, int step, int n,
    int line)
{
	int k;

	if ((long long)itest_jlen(r, "Resources") != n)
		TL_FAIL("line %d: %zu resources, want %d", line,
		    itest_jlen(r, "Resources"), n);
	if (itest_jint(r, "itemsPerPage") != n)
		TL_FAIL("line %d: itemsPerPage %lld, want %d", line,
		    itest_jint(r, "itemsPerPage"), n);
	for (k = 0; k < n; k++) {
		const char *un = itest_jstr(r,
		    itest_fmt("Resources/%d/userName", k));
		const char *want = itest_fmt("fu%02d", first + k * step);

		if (un == NULL || strcmp(un, want) != 0)
			TL_FAIL("line %d: item %d is %s, want %s", line, k,
			    un ? un : "(none)", want);
	}
}
#define CHECK_PAGE(r, f, s, n) check_page((r), (f), (s), (n), __LINE__)

static const char *
page_path(const char *extra)
{
	return itest_fmt(SCIM "/Users?filter=%s&sortBy=userName%s",
	    itest_urlenc("userName sw \"fu\""), extra);
}

static void
t_pagination(void)
{
	struct itest_resp *r;

	itest_pool_reset();
	r = itest_list(page_path("&startIndex=1&count=10"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);
	CHECK_PAGE(r, 0, 1, 10);

	r = itest_list(page_path("&startIndex=11&count=10"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 11);
	CHECK_PAGE(r, 10, 1, 10);

	r = itest_list(page_path("&startIndex=25&count=10"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 25);
	CHECK_PAGE(r, 24, 1, 6);

	/* beyond the end */
	r = itest_list(page_path("&startIndex=31&count=10"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	ASSERT_INT_EQ(itest_jint(r, "itemsPerPage"), 0);
	ASSERT_TRUE(itest_jpath(r->json, "Resources") == NULL ||
	    itest_jlen(r, "Resources") == 0);
	r = itest_list(page_path("&startIndex=1000000&count=5"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	ASSERT_INT_EQ(itest_jint(r, "itemsPerPage"), 0);

	/* count=0: only the total */
	r = itest_list(page_path("&count=0"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	ASSERT_INT_EQ(itest_jint(r, "itemsPerPage"), 0);
	ASSERT_TRUE(itest_jpath(r->json, "Resources") == NULL ||
	    itest_jlen(r, "Resources") == 0);

	/* count < 0 -> 0 */
	r = itest_list(page_path("&count=-5"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	ASSERT_INT_EQ(itest_jint(r, "itemsPerPage"), 0);

	/* startIndex < 1 -> 1 */
	r = itest_list(page_path("&startIndex=0&count=3"));
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);
	CHECK_PAGE(r, 0, 1, 3);
	r = itest_list(page_path("&startIndex=-7&count=3"));
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);
	CHECK_PAGE(r, 0, 1, 3);

	/* count over the cap is capped, not an error */
	r = itest_list(page_path("&count=5000"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	CHECK_PAGE(r, 0, 1, NSEED);

	/* missing count and startIndex: everything (default 100) */
	r = itest_list(page_path(""));
	ASSERT_INT_EQ(itest_jint(r, "startIndex"), 1);
	CHECK_PAGE(r, 0, 1, NSEED);

	/* walking pages of 7 visits every user exactly once */
	{
		int start, seen = 0;

		for (start = 1; start <= NSEED; start += 7) {
			int n = NSEED - start + 1 < 7 ? NSEED - start + 1 : 7;

			r = itest_list(page_path(itest_fmt(
			    "&startIndex=%d&count=7", start)));
			CHECK_PAGE(r, start - 1, 1, n);
			seen += n;
		}
		ASSERT_INT_EQ(seen, NSEED);
	}

	/* non-numeric -> 400 invalidValue */
	r = itest_call("GET", page_path("&startIndex=abc"), NULL);
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("GET", page_path("&count=ten"), NULL);
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("GET", page_path("&count=1x"), NULL);
	CHECK_ERROR(r, 400, "invalidValue");
}

static void
t_sort(void)
{
	struct itest_resp *r;
	const char *prev = "";
	size_t k;

	itest_pool_reset();
	r = itest_list(page_path("&sortOrder=ascending&count=100"));
	CHECK_PAGE(r, 0, 1, NSEED);
	r = itest_list(page_path("&sortOrder=descending&count=100"));
	CHECK_PAGE(r, NSEED - 1, -1, NSEED);
	r = itest_list(page_path("&sortOrder=descending&startIndex=3&count=4"));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), NSEED);
	CHECK_PAGE(r, NSEED - 3, -1, 4);

	/* schema-qualified sortBy */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s&sortBy=%s"
	    "&sortOrder=descending", itest_urlenc("userName sw \"fu\""),
	    itest_urlenc(U_CORE ":userName")));
	CHECK_PAGE(r, NSEED - 1, -1, NSEED);

	/* sub-attribute sortBy: family names never decrease */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s&sortBy=name.familyName",
	    itest_urlenc("userName sw \"fu\"")));
	ASSERT_INT_EQ(itest_jlen(r, "Resources"), NSEED);
	for (k = 0; k < NSEED; k++) {
		const char *fam = itest_jstr(r,
		    itest_fmt("Resources/%zu/name/familyName",
		    k));

		ASSERT_NOT_NULL(fam);
		if (strcasecmp(fam, prev) < 0)
			TL_FAIL("familyName %s after %s", fam, prev);
		prev = fam;
	}
	/* descending by family name */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s&sortBy=name.familyName"
	    "&sortOrder=descending", itest_urlenc("userName sw \"fu\"")));
	prev = "zzzz";
	for (k = 0; k < NSEED; k++) {
		const char *fam = itest_jstr(r,
		    itest_fmt("Resources/%zu/name/familyName",
		    k));

		ASSERT_NOT_NULL(fam);
		if (strcasecmp(fam, prev) > 0)
			TL_FAIL("descending: familyName %s after %s", fam,
			    prev);
		prev = fam;
	}

	/* unknown sortBy / bad sortOrder -> 400 invalidValue */
	r = itest_call("GET", itest_fmt(SCIM "/Users?sortBy=noSuchAttribute"),
	    NULL);
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("GET",
	    itest_fmt(SCIM "/Users?sortBy=userName&sortOrder=sideways"),
	    NULL);
	CHECK_ERROR(r, 400, "invalidValue");
}

static void
t_projection(void)
{
	struct itest_resp *r;
	json_t *res, *v, *name;
	size_t i;

	itest_pool_reset();
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s"
	    "&attributes=userName,emails",
	    itest_urlenc("userName sw \"fu0\"")));
	res = itest_jpath(r->json, "Resources");
	ASSERT_INT_EQ(json_array_size(res), 10);
	json_array_foreach(res, i, v) {
		ASSERT_TRUE(str_is_uuid(json_string_value(json_object_get(v,
		    "id"))));
		ASSERT_NOT_NULL(json_object_get(v, "userName"));
		ASSERT_NOT_NULL(json_object_get(v, "emails"));
		ASSERT_NULL(json_object_get(v, "name"));
		ASSERT_NULL(json_object_get(v, "title"));
		ASSERT_NULL(json_object_get(v, "active"));
		ASSERT_NULL(json_object_get(v, "externalId"));
		ASSERT_NULL(json_object_get(v, U_ENT));
	}

	/* a sub-attribute only */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s"
	    "&attributes=name.familyName",
	    itest_urlenc("userName eq \"fu01\"")));
	name = itest_jpath(r->json, "Resources/0/name");
	ASSERT_TRUE(json_is_object(name));
	ASSERT_STR_EQ(json_string_value(json_object_get(name, "familyName")),
	    "Jones");
	ASSERT_NULL(json_object_get(name, "givenName"));
	ASSERT_NULL(itest_jpath(r->json, "Resources/0/emails"));
	ASSERT_NOT_NULL(itest_jpath(r->json, "Resources/0/id"));

	/* an extension attribute only */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s&attributes=%s",
	    itest_urlenc("userName eq \"fu05\""),
	    itest_urlenc(U_ENT ":department")));
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/" U_ENT "/department"),
	    "Dept1");
	ASSERT_NULL(itest_jpath(r->json,
	    "Resources/0/" U_ENT "/employeeNumber"));
	ASSERT_NULL(itest_jpath(r->json, "Resources/0/userName"));

	/* excludedAttributes */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s"
	    "&excludedAttributes=emails,name",
	    itest_urlenc("userName sw \"fu1\"")));
	res = itest_jpath(r->json, "Resources");
	ASSERT_INT_EQ(json_array_size(res), 10);
	json_array_foreach(res, i, v) {
		ASSERT_NOT_NULL(json_object_get(v, "id"));
		ASSERT_NOT_NULL(json_object_get(v, "userName"));
		ASSERT_NOT_NULL(json_object_get(v, "externalId"));
		ASSERT_NULL(json_object_get(v, "emails"));
		ASSERT_NULL(json_object_get(v, "name"));
	}
	/* id is returned always, even when excluded */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s&excludedAttributes=id",
	    itest_urlenc("userName eq \"fu02\"")));
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), seed_id[2]);

	/* on a single resource */
	r = itest_call("GET",
	    itest_fmt("%s?attributes=userName", itest_user_path(seed_id[3])),
	    NULL);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "userName"), "fu03");
	ASSERT_STR_EQ(itest_jstr(r, "id"), seed_id[3]);
	ASSERT_NULL(itest_jpath(r->json, "emails"));
	ASSERT_NULL(itest_jpath(r->json, "nickName"));
	r = itest_call("GET", itest_fmt("%s?excludedAttributes=nickName,groups",
	    itest_user_path(seed_id[3])), NULL);
	CHECK_STATUS(r, 200);
	ASSERT_NULL(itest_jpath(r->json, "nickName"));
	ASSERT_NOT_NULL(itest_jpath(r->json, "emails"));

	/* both at once -> 400 invalidSyntax */
	r = itest_call("GET", SCIM "/Users?attributes=userName"
	    "&excludedAttributes=emails", NULL);
	CHECK_ERROR(r, 400, "invalidSyntax");
}

static void
t_search_post(void)
{
	struct itest_resp *r;
	json_t *res, *v;
	size_t i;

	itest_pool_reset();
	r = itest_call("POST", SCIM "/Users/.search",
	    "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"userName sw \\\"fu1\\\"\",\"startIndex\":1,"
	    "\"count\":5,\"sortBy\":\"userName\",\"sortOrder\":\"descending\","
	    "\"attributes\":[\"userName\"]}");
	CHECK_STATUS(r, 200);
	itest_assert_scim_ct(r);
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), M_LIST));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 10);
	CHECK_PAGE(r, 19, -1, 5);
	res = itest_jpath(r->json, "Resources");
	json_array_foreach(res, i, v) {
		ASSERT_NULL(json_object_get(v, "emails"));
		ASSERT_NOT_NULL(json_object_get(v, "id"));
	}

	r = itest_call("POST", SCIM "/Users/.search",
	    "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"emails[type eq \\\"home\\\"] and "
	    "userType eq \\\"Contractor\\\"\",\"excludedAttributes\":"
	    "[\"emails\"],\"sortBy\":\"userName\"}");
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 5);
	CHECK_PAGE(r, 21, 2, 5);
	ASSERT_NULL(itest_jpath(r->json, "Resources/0/emails"));

	r = itest_call("POST", SCIM "/Users/.search",
	    "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"userName eq \\\"none-here\\\"\"}");
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 0);
	ASSERT_INT_EQ(itest_jlen(r, "Resources"), 0);

	r = itest_call("POST", SCIM "/Users/.search",
	    "{\"schemas\":[\"" M_SEARCH
	    "\"],\"filter\":\"userName eq\"}");
	CHECK_ERROR(r, 400, "invalidFilter");
}

/* ---- CRUD, meta, ETags ---- */

static void
check_meta(const struct itest_resp *r, const char *id, long long version)
{
	const char *loc = itest_jstr(r, "meta/location");

	itest_assert_scim_ct(r);
	ASSERT_STR_EQ(itest_jstr(r, "id"), id);
	ASSERT_STR_EQ(itest_jstr(r, "meta/resourceType"), "User");
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "meta/created")));
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "meta/lastModified")));
	ASSERT_TRUE(itest_ends_with(loc, itest_fmt(SCIM "/Users/%s", id)));
	ASSERT_TRUE(strncmp(loc, "http", 4) == 0);
	ASSERT_INT_EQ(itest_etag_num(itest_jstr(r, "meta/version")), version);
	ASSERT_STR_EQ(r->etag, itest_jstr(r, "meta/version"));
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_CORE));
	ASSERT_NULL(itest_jpath(r->json, "password"));
}

static void
t_create(void)
{
	struct itest_resp *r, *g;
	char id[ITEST_ID_SZ];

	itest_pool_reset();
	r = itest_create_user("{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"crud.create@example.net\","
	    "\"name\":{\"givenName\":\"Cre\",\"familyName\":\"Ate\"},"
	    "\"displayName\":\"Create Me\",\"active\":true,"
	    "\"emails\":[{\"value\":\"crud.create@example.net\","
	    "\"type\":\"work\",\"primary\":true}],"
	    "\"phoneNumbers\":[{\"value\":\"+1 555 0100\","
	    "\"type\":\"mobile\"}],"
	    "\"title\":\"Tester\"}", id);
	check_meta(r, id, 1);
	ASSERT_STR_EQ(r->etag, "W/\"1\"");
	ASSERT_STR_EQ(r->location, itest_jstr(r, "meta/location"));
	ASSERT_STR_EQ(itest_jstr(r, "meta/created"),
	    itest_jstr(r, "meta/lastModified"));
	ASSERT_STR_EQ(itest_jstr(r, "userName"), "crud.create@example.net");
	ASSERT_STR_EQ(itest_jstr(r, "name/givenName"), "Cre");
	ASSERT_STR_EQ(itest_jstr(r, "emails/0/value"),
	    "crud.create@example.net");
	ASSERT_TRUE(itest_jtrue(r, "emails/0/primary"));
	ASSERT_STR_EQ(itest_jstr(r, "phoneNumbers/0/value"), "+1 555 0100");
	ASSERT_TRUE(itest_jtrue(r, "active"));
	ASSERT_TRUE(itest_jpath(r->json, "groups") == NULL ||
	    itest_jlen(r, "groups") == 0);

	g = itest_call("GET", itest_user_path(id), NULL);
	CHECK_STATUS(g, 200);
	check_meta(g, id, 1);
	ASSERT_STR_EQ(g->etag, "W/\"1\"");
	ASSERT_STR_EQ(itest_jstr(g, "title"), "Tester");
	ASSERT_STR_EQ(itest_jstr(g, "meta/created"),
	    itest_jstr(r, "meta/created"));
	ASSERT_STR_EQ(itest_jstr(g, "meta/location"), r->location);

	/* the Location URL itself serves the resource */
	ASSERT_TRUE(strncmp(r->location, itest->addr,
	    strlen(itest->addr)) == 0);
	g = itest_call("GET", r->location + strlen(itest->addr), NULL);
	CHECK_STATUS(g, 200);
	ASSERT_STR_EQ(itest_jstr(g, "id"), id);
}

static void
t_get_missing(void)
{
	struct itest_resp *r;

	itest_pool_reset();
	r = itest_call("GET",
	    SCIM "/Users/6f1f1d2e-0000-4000-8000-000000000000",
	    NULL);
	CHECK_ERROR(r, 404, NULL);
	itest_assert_scim_ct(r);
	r = itest_call("GET", SCIM "/Users/not-a-uuid", NULL);
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("GET", SCIM "/Users/%27%3B%20drop%20table%20x", NULL);
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("PUT",
	    SCIM "/Users/6f1f1d2e-0000-4000-8000-000000000000",
	    "{\"schemas\":[\"" U_CORE "\"],\"userName\":\"ghost\"}");
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("PATCH",
	    SCIM "/Users/6f1f1d2e-0000-4000-8000-000000000000",
	    itest_patch_body("[{\"op\":\"replace\",\"path\":\"title\","
	    "\"value\":\"x\"}]"));
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("DELETE",
	    SCIM "/Users/6f1f1d2e-0000-4000-8000-000000000000",
	    NULL);
	CHECK_ERROR(r, 404, NULL);
}

static void
t_put(void)
{
	struct itest_resp *c, *r, *g;
	char id[ITEST_ID_SZ];

	itest_pool_reset();
	c = itest_create_user("{\"schemas\":[\"" U_CORE "\",\"" U_ENT "\"],"
	    "\"userName\":\"crud.put@example.net\",\"externalId\":\"put-1\","
	    "\"title\":\"Before\",\"nickName\":\"Nick\","
	    "\"name\":{\"givenName\":\"Pu\",\"familyName\":\"T\"},"
	    "\"emails\":[{\"value\":\"put@example.net\",\"type\":\"work\"}],"
	    "\"" U_ENT "\":{\"department\":\"R&D\"}}", id);
	ASSERT_STR_EQ(itest_jstr(c, "" U_ENT "/department"), "R&D");
	itest_sleep_ms(20);

	/* a different id in the body is ignored (id is immutable) */
	r = itest_call("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"id\":\"11111111-2222-4333-8444-555555555555\","
	    "\"userName\":\"crud.put@example.net\",\"displayName\":\"After\","
	    "\"active\":false}");
	CHECK_STATUS(r, 200);
	check_meta(r, id, 2);
	ASSERT_STR_EQ(r->etag, "W/\"2\"");
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "After");
	ASSERT_TRUE(itest_jfalse(r, "active"));
	/* absent attributes are cleared */
	ASSERT_NULL(itest_jpath(r->json, "title"));
	ASSERT_NULL(itest_jpath(r->json, "nickName"));
	ASSERT_NULL(itest_jpath(r->json, "name"));
	ASSERT_NULL(itest_jpath(r->json, "emails"));
	ASSERT_NULL(itest_jpath(r->json, "externalId"));
	ASSERT_NULL(itest_jpath(r->json, U_ENT));
	ASSERT_FALSE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_ENT));
	ASSERT_STR_EQ(itest_jstr(r, "meta/created"),
	    itest_jstr(c, "meta/created"));
	ASSERT_TRUE(strcmp(itest_jstr(r, "meta/lastModified"),
	    itest_jstr(c, "meta/lastModified")) > 0);

	g = itest_call("GET", itest_user_path(id), NULL);
	CHECK_STATUS(g, 200);
	check_meta(g, id, 2);
	ASSERT_NULL(itest_jpath(g->json, "title"));
	ASSERT_NULL(itest_jpath(g->json, "emails"));
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), "After");
	g = itest_call("GET",
	    SCIM "/Users/11111111-2222-4333-8444-555555555555",
	    NULL);
	CHECK_ERROR(g, 404, NULL);

	/* PUT may change userName */
	r = itest_call("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"crud.put2@example.net\"}");
	CHECK_STATUS(r, 200);
	check_meta(r, id, 3);
	ASSERT_STR_EQ(itest_jstr(r, "userName"), "crud.put2@example.net");
	ASSERT_NULL(itest_jpath(r->json, "displayName"));

	/* PUT without the required userName -> 400, nothing changed */
	r = itest_call("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"displayName\":\"x\"}");
	ASSERT_INT_EQ(r->status, 400);
	g = itest_call("GET", itest_user_path(id), NULL);
	check_meta(g, id, 3);
	ASSERT_NULL(itest_jpath(g->json, "displayName"));
}

static void
t_patch(void)
{
	struct itest_resp *r, *g;
	char id[ITEST_ID_SZ];
	long long v;

	itest_pool_reset();
	itest_create_user("{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"crud.patch@example.net\",\"title\":\"Old\","
	    "\"name\":{\"givenName\":\"Pat\",\"familyName\":\"Ch\"},"
	    "\"emails\":[{\"value\":\"a@example.net\",\"type\":\"work\"}]}",
	    id);
	r = itest_call("PATCH", itest_user_path(id), itest_patch_body("["
	    "{\"op\":\"replace\",\"path\":\"displayName\","
	    "\"value\":\"Patched\"},"
	    "{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":"
	    "\"b@example.net\",\"type\":\"home\"}]},"
	    "{\"op\":\"remove\",\"path\":\"title\"},"
	    "{\"op\":\"replace\",\"path\":\"name.givenName\","
	    "\"value\":\"Pet\"},"
	    "{\"op\":\"replace\","
	    "\"path\":\"emails[type eq \\\"work\\\"].value\","
	    "\"value\":\"a2@example.net\"}]"));
	CHECK_STATUS(r, 200);
	check_meta(r, id, 2);
	ASSERT_STR_EQ(itest_jstr(r, "displayName"), "Patched");
	ASSERT_NULL(itest_jpath(r->json, "title"));
	ASSERT_STR_EQ(itest_jstr(r, "name/givenName"), "Pet");
	ASSERT_STR_EQ(itest_jstr(r, "name/familyName"), "Ch");
	ASSERT_INT_EQ(itest_jlen(r, "emails"), 2);
	ASSERT_STR_EQ(itest_jstr(r, "emails/0/value"), "a2@example.net");
	ASSERT_STR_EQ(itest_jstr(r, "emails/1/value"), "b@example.net");
	ASSERT_STR_EQ(itest_jstr(r, "userName"), "crud.patch@example.net");

	g = itest_call("GET", itest_user_path(id), NULL);
	CHECK_STATUS(g, 200);
	check_meta(g, id, 2);
	ASSERT_TRUE(json_equal(g->json, r->json));

	/* every change bumps the version */
	v = 2;
	r = itest_call("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"active\",\"value\":false}]"));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_etag_num(itest_jstr(r, "meta/version")) > v);
	v = itest_etag_num(itest_jstr(r, "meta/version"));
	ASSERT_STR_EQ(r->etag, itest_jstr(r, "meta/version"));
	ASSERT_TRUE(itest_jfalse(r, "active"));
	r = itest_call("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"value\":{\"active\":true,\"nickName\":\"Pp\"}}]"));
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_etag_num(itest_jstr(r, "meta/version")) > v);
	ASSERT_TRUE(itest_jtrue(r, "active"));
	ASSERT_STR_EQ(itest_jstr(r, "nickName"), "Pp");
	v = itest_etag_num(itest_jstr(r, "meta/version"));

	/* a bad PATCH changes nothing */
	r = itest_call("PATCH", itest_user_path(id), itest_patch_body("["
	    "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"No\"},"
	    "{\"op\":\"replace\",\"path\":\"noSuchAttr\",\"value\":\"x\"}]"));
	ASSERT_TRUE(r->status == 400);
	r = itest_call("PATCH", itest_user_path(id), itest_patch_body("["
	    "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"No\"},"
	    "{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}]"));
	CHECK_ERROR(r, 400, "mutability");
	r = itest_call("PATCH", itest_user_path(id), itest_patch_body("["
	    "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"No\"},"
	    "{\"op\":\"frobnicate\",\"path\":\"title\",\"value\":\"x\"}]"));
	ASSERT_INT_EQ(r->status, 400);
	g = itest_call("GET", itest_user_path(id), NULL);
	ASSERT_STR_EQ(itest_jstr(g, "displayName"), "Patched");
	ASSERT_INT_EQ(itest_etag_num(itest_jstr(g, "meta/version")), v);
	ASSERT_STR_EQ(itest_jstr(g, "id"), id);
}

static void
t_delete(void)
{
	struct itest_resp *r;
	char id[ITEST_ID_SZ];

	itest_pool_reset();
	itest_create_user_named("crud.delete@example.net", id);
	r = itest_call("DELETE", itest_user_path(id), NULL);
	CHECK_STATUS(r, 204);
	ASSERT_INT_EQ(r->body_len, 0);
	r = itest_call("GET", itest_user_path(id), NULL);
	CHECK_ERROR(r, 404, NULL);
	r = itest_call("DELETE", itest_user_path(id), NULL);
	CHECK_ERROR(r, 404, NULL);
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s",
	    itest_urlenc("userName eq \"crud.delete@example.net\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 0);
	/* the name is free again */
	itest_create_user_named("crud.delete@example.net", id);
}

static void
t_etag(void)
{
	struct itest_resp *r, *g;
	char id[ITEST_ID_SZ];
	const char *h_inm1[] = { "If-None-Match: W/\"1\"", NULL };
	const char *h_inm2[] = { "If-None-Match: W/\"2\"", NULL };
	const char *h_im1[] = { "If-Match: W/\"1\"", NULL };
	const char *h_im2[] = { "If-Match: W/\"2\"", NULL };
	const char *h_im3s[] = { "If-Match: \"3\"", NULL };
	const char *h_imany[] = { "If-Match: *", NULL };
	const char *h_imlist[] = { "If-Match: W/\"7\", W/\"4\"", NULL };

	itest_pool_reset();
	itest_create_user_named("etag.user@example.net", id);

	r = itest_call_h("GET", itest_user_path(id), NULL, h_inm1);
	CHECK_STATUS(r, 304);
	ASSERT_INT_EQ(r->body_len, 0);
	r = itest_call_h("GET", itest_user_path(id), NULL, h_inm2);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"1\"");

	r = itest_call_h("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"etag.user@example.net\",\"title\":\"v2\"}",
	    h_im1);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"2\"");

	/* stale If-Match: 412, nothing changed */
	r = itest_call_h("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"etag.user@example.net\",\"title\":\"stale\"}",
	    h_im1);
	CHECK_ERROR(r, 412, NULL);
	r = itest_call_h("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"title\",\"value\":\"stale\"}]"), h_im1);
	CHECK_ERROR(r, 412, NULL);
	g = itest_call("GET", itest_user_path(id), NULL);
	ASSERT_STR_EQ(itest_jstr(g, "title"), "v2");
	ASSERT_STR_EQ(g->etag, "W/\"2\"");

	/* old version no longer matches If-None-Match */
	r = itest_call_h("GET", itest_user_path(id), NULL, h_inm1);
	CHECK_STATUS(r, 200);
	r = itest_call_h("GET", itest_user_path(id), NULL, h_inm2);
	CHECK_STATUS(r, 304);

	r = itest_call_h("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"title\",\"value\":\"v3\"}]"), h_im2);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"3\"");
	ASSERT_STR_EQ(itest_jstr(r, "title"), "v3");

	/* a strong tag with the same value, "*" and a list also match */
	r = itest_call_h("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"title\",\"value\":\"v4\"}]"), h_im3s);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"4\"");
	r = itest_call_h("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"title\",\"value\":\"v5\"}]"), h_imlist);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"5\"");
	r = itest_call_h("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"etag.user@example.net\",\"title\":\"v6\"}",
	    h_imany);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(r->etag, "W/\"6\"");
	ASSERT_STR_EQ(itest_jstr(r, "meta/version"), "W/\"6\"");
}

static void
t_uniqueness(void)
{
	struct itest_resp *r, *g;
	char a[ITEST_ID_SZ], b[ITEST_ID_SZ];

	itest_pool_reset();
	itest_create_user_named("alice", a);
	r = itest_call("POST", SCIM "/Users", "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"ALICE\"}");
	CHECK_ERROR(r, 409, "uniqueness");
	itest_assert_scim_ct(r);
	r = itest_call("POST", SCIM "/Users", "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"alice\"}");
	CHECK_ERROR(r, 409, "uniqueness");
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s",
	    itest_urlenc("userName eq \"alice\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), a);

	itest_create_user_named("bob", b);
	r = itest_call("PUT", itest_user_path(b),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"Alice\"}");
	CHECK_ERROR(r, 409, "uniqueness");
	r = itest_call("PATCH", itest_user_path(b),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"userName\",\"value\":\"aLiCe\"}]"));
	CHECK_ERROR(r, 409, "uniqueness");
	g = itest_call("GET", itest_user_path(b), NULL);
	ASSERT_STR_EQ(itest_jstr(g, "userName"), "bob");
	ASSERT_STR_EQ(g->etag, "W/\"1\"");

	/* renaming to one's own name in another case is allowed */
	r = itest_call("PATCH", itest_user_path(a),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"userName\",\"value\":\"Alice\"}]"));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "userName"), "Alice");
}

static void
check_no_secret(const char *secret)
{
	char out[4096];
	int rc;

	if (itest_sql_num(itest_fmt("SELECT count(*) FROM scim_user t "
	    "WHERE t::text LIKE '%%%s%%'", secret)) != 0)
		TL_FAIL("scim_user rows hold the password");
	/* nor in any other table */
	rc = itest_sql(itest, out, sizeof(out),
	    itest_fmt("SELECT table_name FROM "
	    "information_schema.tables WHERE table_schema NOT IN "
	    "('pg_catalog','information_schema') AND table_type = "
	    "'BASE TABLE' AND query_to_xml(format('SELECT 1 FROM %%I.%%I t "
	    "WHERE t::text LIKE %%L', table_schema, table_name, "
	    "'%%%s%%'), false, true, '')::text <> ''", secret));
	ASSERT_INT_EQ(rc, 0);
	if (out[0] != '\0' && out[0] != '\n')
		TL_FAIL("tables holding the password: %s", out);
	ASSERT_FALSE(itest_log_contains(itest, secret));
}

static void
t_password(void)
{
	struct itest_resp *r;
	char id[ITEST_ID_SZ];

	itest_pool_reset();
	r = itest_create_user("{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"pw.user@example.net\","
	    "\"password\":\"Pw-Secret-7c1e42aa\"}", id);
	ASSERT_NULL(itest_jpath(r->json, "password"));
	ASSERT_NULL(strstr(r->body, "Pw-Secret"));
	r = itest_call("GET", itest_user_path(id), NULL);
	ASSERT_NULL(itest_jpath(r->json, "password"));
	ASSERT_NULL(strstr(r->body, "Pw-Secret"));
	r = itest_call("GET",
	    itest_fmt("%s?attributes=password,userName", itest_user_path(id)),
	    NULL);
	CHECK_STATUS(r, 200);
	ASSERT_NULL(strstr(r->body, "Pw-Secret"));
	ASSERT_NULL(itest_jpath(r->json, "password"));

	r = itest_call("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"pw.user@example.net\","
	    "\"password\":\"Pw-Secret-PUT-88aa\"}");
	CHECK_STATUS(r, 200);
	ASSERT_NULL(strstr(r->body, "Pw-Secret"));
	r = itest_call("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"password\",\"value\":\"Pw-Secret-PATCH-55bb\"}]"));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(strstr(r->body, "Pw-Secret"));
	r = itest_call("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"value\":{\"password\":\"Pw-Secret-NOPATH-66cc\"}}]"));
	CHECK_STATUS(r, 200);
	ASSERT_NULL(strstr(r->body, "Pw-Secret"));
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s",
	    itest_urlenc("userName eq "
	    "\"pw.user@example.net\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_NULL(strstr(r->body, "Pw-Secret"));
	check_no_secret("Pw-Secret");
}

static void
t_extensions(void)
{
	struct itest_resp *r, *g;
	char mgr[ITEST_ID_SZ], id[ITEST_ID_SZ];
	json_t *body, *want_ent, *want_pam;

	itest_pool_reset();
	itest_create_user_named("ext.manager@example.net", mgr);
	want_ent = json_pack("{sssssssssss{ss}}",
	    "employeeNumber", "E-1001", "costCenter", "CC-42",
	    "organization", "Example Corp", "division", "Infra",
	    "department", "Platform", "manager", "value", mgr);
	want_pam = json_pack("{sbs[ss]s[s]s{ss}sbsbsIsssss[ss]}",
	    "privileged", 1, "adminRoles", "db-admin", "domain-admin",
	    "vaultScope", "prod-db", "approver", "value", mgr,
	    "breakGlass", 0, "jitEligible", 1,
	    "maxJitDurationSeconds", (json_int_t)3600,
	    "riskLevel", "high", "accessReviewDate", "2024-05-01T00:00:00Z",
	    "sodTags", "payments", "deploy");
	body = json_pack("{s[sss]sssOsO}", "schemas", U_CORE, U_ENT, U_PAM,
	    "userName", "ext.user@example.net", U_ENT, want_ent, U_PAM,
	    want_pam);
	r = itest_create_user(itest_dump(body), id);
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_ENT));
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_PAM));
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_CORE));
	if (!json_subset(want_ent, itest_jpath(r->json, U_ENT)) ||
	    !json_subset(want_pam, itest_jpath(r->json, U_PAM))) {
		json_decref(want_ent);
		json_decref(want_pam);
		TL_FAIL("extension round trip (POST): %.600s", r->body);
	}
	g = itest_call("GET", itest_user_path(id), NULL);
	CHECK_STATUS(g, 200);
	if (!json_subset(want_ent, itest_jpath(g->json, U_ENT)) ||
	    !json_subset(want_pam, itest_jpath(g->json, U_PAM))) {
		json_decref(want_ent);
		json_decref(want_pam);
		TL_FAIL("extension round trip (GET): %.600s", g->body);
	}
	json_decref(want_ent);
	json_decref(want_pam);

	/* PATCH extension attributes by URN-qualified paths */
	r = itest_call("PATCH", itest_user_path(id), itest_patch_body("["
	    "{\"op\":\"replace\",\"path\":\"" U_PAM ":riskLevel\","
	    "\"value\":\"critical\"},"
	    "{\"op\":\"add\",\"path\":\"" U_PAM ":adminRoles\","
	    "\"value\":[\"root\"]},"
	    "{\"op\":\"replace\",\"path\":\"" U_ENT ":manager.value\","
	    "\"value\":\"" "00000000-0000-4000-8000-000000000001" "\"},"
	    "{\"op\":\"remove\",\"path\":\"" U_ENT ":costCenter\"}]"));
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, U_PAM "/riskLevel"), "critical");
	ASSERT_INT_EQ(itest_jlen(r, U_PAM "/adminRoles"), 3);
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, U_PAM "/adminRoles"),
	    "root"));
	ASSERT_TRUE(itest_arr_has_str(itest_jpath(r->json, U_PAM "/adminRoles"),
	    "db-admin"));
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/manager/value"),
	    "00000000-0000-4000-8000-000000000001");
	ASSERT_NULL(itest_jpath(r->json, U_ENT "/costCenter"));
	ASSERT_STR_EQ(itest_jstr(r, U_ENT "/employeeNumber"), "E-1001");
	ASSERT_TRUE(itest_jtrue(r, U_PAM "/privileged"));
	ASSERT_INT_EQ(itest_jint(r, U_PAM "/maxJitDurationSeconds"), 3600);

	/* found by an extension filter */
	r = itest_list(itest_fmt(SCIM "/Users?filter=%s",
	    itest_urlenc(U_PAM ":riskLevel eq "
	    "\"critical\" and " U_PAM ":adminRoles eq \"root\"")));
	ASSERT_INT_EQ(itest_jint(r, "totalResults"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "Resources/0/id"), id);

	/* wrong type in an extension -> 400 invalidValue, unchanged */
	r = itest_call("PATCH", itest_user_path(id),
	    itest_patch_body("[{\"op\":\"replace\","
	    "\"path\":\"" U_PAM ":maxJitDurationSeconds\","
	    "\"value\":\"abc\"}]"));
	CHECK_ERROR(r, 400, "invalidValue");
	r = itest_call("POST", SCIM "/Users", "{\"schemas\":[\"" U_CORE "\",\""
	    U_PAM "\"],\"userName\":\"ext.bad@example.net\",\"" U_PAM
	    "\":{\"privileged\":\"maybe\"}}");
	CHECK_ERROR(r, 400, "invalidValue");
	/* extension attributes without their URN in schemas */
	r = itest_call("POST", SCIM "/Users", "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"ext.bad2@example.net\",\"" U_PAM
	    "\":{\"privileged\":true}}");
	ASSERT_INT_EQ(r->status, 400);

	/* PUT without the extensions clears them */
	r = itest_call("PUT", itest_user_path(id),
	    "{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"ext.user@example.net\"}");
	CHECK_STATUS(r, 200);
	ASSERT_NULL(itest_jpath(r->json, U_ENT));
	ASSERT_NULL(itest_jpath(r->json, U_PAM));
	ASSERT_FALSE(itest_arr_has_str(itest_jpath(r->json, "schemas"), U_PAM));
	g = itest_call("GET", itest_user_path(id), NULL);
	ASSERT_NULL(itest_jpath(g->json, U_PAM));
}

static void
t_readonly_ignored(void)
{
	struct itest_resp *r;
	char id[ITEST_ID_SZ];

	itest_pool_reset();
	r = itest_create_user("{\"schemas\":[\"" U_CORE "\"],"
	    "\"id\":\"99999999-9999-4999-8999-999999999999\","
	    "\"userName\":\"ro.user@example.net\","
	    "\"meta\":{\"resourceType\":\"User\",\"version\":\"W/\\\"42\\\"\","
	    "\"created\":\"2001-01-01T00:00:00Z\"},"
	    "\"groups\":[{\"value\":"
	    "\"99999999-9999-4999-8999-999999999998\"}]}",
	    id);
	ASSERT_TRUE(strcmp(id, "99999999-9999-4999-8999-999999999999") != 0);
	check_meta(r, id, 1);
	ASSERT_TRUE(strcmp(itest_jstr(r, "meta/created"),
	    "2001-01-01T00:00:00Z") != 0);
	ASSERT_TRUE(itest_jpath(r->json, "groups") == NULL ||
	    itest_jlen(r, "groups") == 0);
	/* groups are read-only in PATCH */
	r = itest_call("PATCH", itest_user_path(id),
	    itest_patch_body(itest_fmt("[{\"op\":\"add\","
	    "\"path\":\"groups\",\"value\":[{\"value\":\"%s\"}]}]",
	    group_a)));
	CHECK_ERROR(r, 400, "mutability");
	r = itest_call("GET", itest_user_path(id), NULL);
	ASSERT_TRUE(itest_jpath(r->json, "groups") == NULL ||
	    itest_jlen(r, "groups") == 0);
	ASSERT_STR_EQ(r->etag, "W/\"1\"");
}

static const struct testlib_case cases[] = {
	{ "seed population", t_seed },
	{ "filter operators", t_filter_ops },
	{ "filter logic and precedence", t_filter_logic },
	{ "filter multi-valued and value paths", t_filter_multi },
	{ "filter sub-attributes, URNs, extensions", t_filter_attrs },
	{ "filter case rules", t_filter_case_rules },
	{ "filter meta, id, groups", t_filter_meta_groups },
	{ "filter without match", t_filter_no_match },
	{ "filter syntax errors", t_filter_bad },
	{ "pagination", t_pagination },
	{ "sorting", t_sort },
	{ "attributes and excludedAttributes", t_projection },
	{ "POST /Users/.search", t_search_post },
	{ "create", t_create },
	{ "unknown ids", t_get_missing },
	{ "put", t_put },
	{ "patch", t_patch },
	{ "delete", t_delete },
	{ "etags", t_etag },
	{ "userName uniqueness", t_uniqueness },
	{ "password never stored or returned", t_password },
	{ "enterprise and PAM extensions", t_extensions },
	{ "readOnly input ignored", t_readonly_ignored },
};

ITEST_MAIN(cases)
