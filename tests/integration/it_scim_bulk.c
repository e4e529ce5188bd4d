/*
 * SCIM Bulk (RFC 7644 §3.7, contract-scim.md "Bulk"): bulkId references
 * (also in paths), per-operation results with location and version,
 * per-operation errors carrying a SCIM error, failOnErrors, the
 * operation and payload limits, PUT and DELETE in bulk.
 */

#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URN_USER	"urn:ietf:params:scim:schemas:core:2.0:User"
#define URN_GROUP	"urn:ietf:params:scim:schemas:core:2.0:Group"
#define URN_PATCH	"urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define URN_BULK	"urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define URN_BULKRESP	"urn:ietf:params:scim:api:messages:2.0:BulkResponse"
#define URN_ERROR	"urn:ietf:params:scim:api:messages:2.0:Error"
#define URN_ENT \
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define NOUUID		"00000000-0000-4000-8000-000000000000"

#define SCH(u)		"\"schemas\":[\"" u "\"]"
#define BULK_HDR	"{" SCH(URN_BULK) ","
#define U_DATA(name)	"{" SCH(URN_USER) ",\"userName\":\"" name "\"}"

/* POST /Bulk; fails the test unless it answers 200 with a BulkResponse
 * holding nops results. */
static void
bulk(const char *body, size_t nops, struct itest_resp *r)
{
	json_t *ops, *sch;

	ASSERT_INT_EQ(itest_http(itest, "POST", "/scim/v2/Bulk", NULL, body,
	    NULL, r), 0);
	if (r->status != 200 || r->json == NULL) {
		fprintf(stderr, "  bulk: %ld %.2000s\n", r->status, r->body);
		TL_FAIL("bulk request not answered 200 with JSON");
	}
	ASSERT_TRUE(strncmp(r->content_type, "application/scim+json", 21) ==
	    0);
	sch = json_object_get(r->json, "schemas");
	ASSERT_TRUE(json_is_array(sch) && json_array_size(sch) == 1);
	ASSERT_STR_EQ(json_string_value(json_array_get(sch, 0)),
	    URN_BULKRESP);
	ops = json_object_get(r->json, "Operations");
	ASSERT_TRUE(json_is_array(ops));
	if (json_array_size(ops) != nops) {
		fprintf(stderr, "  bulk: %.2000s\n", r->body);
		TL_FAIL("%zu results, want %zu", json_array_size(ops), nops);
	}
}

static const char *
op_str(const struct itest_resp *r, size_t i, const char *member)
{
	char p[96];

	snprintf(p, sizeof(p), "Operations.%zu.%s", i, member);
	return itest_json_str(r, p);
}

#define ASSERT_OP(r, i, member, want) do {				\
	const char *v_ = op_str((r), (i), (member));			\
	if (v_ == NULL || strcmp(v_, (want)) != 0) {			\
		fprintf(stderr, "  bulk: %.2000s\n", (r)->body);	\
		TL_FAIL("Operations[%d].%s = %s, want %s", (int)(i),	\
		    (member), v_ ? v_ : "(none)", (want));		\
	}								\
} while (0)

/* Operation i failed with status st (string) and a SCIM error response
 * whose status matches and whose scimType is one of types (NULL: any). */
static void
assert_op_error(const struct itest_resp *r, size_t i, const char *sts,
    const char *types)
{
	char p[96];
	const char *st, *rst, *ty;
	json_t *resp, *sch;

	st = op_str(r, i, "status");
	if (st == NULL || (strchr(sts, '|') == NULL ? strcmp(st, sts) != 0 :
	    strstr(sts, st) == NULL || strlen(st) != 3)) {
		fprintf(stderr, "  bulk: %.2000s\n", r->body);
		TL_FAIL("Operations[%zu].status = %s, want %s", i,
		    st ? st : "(none)", sts);
	}
	snprintf(p, sizeof(p), "Operations.%zu.response", i);
	resp = json_object_get(json_array_get(json_object_get(r->json,
	    "Operations"), i), "response");
	if (!json_is_object(resp))
		TL_FAIL("Operations[%zu] has no response object", i);
	sch = json_object_get(resp, "schemas");
	ASSERT_TRUE(json_is_array(sch));
	ASSERT_STR_EQ(json_string_value(json_array_get(sch, 0)), URN_ERROR);
	snprintf(p, sizeof(p), "Operations.%zu.response.status", i);
	rst = itest_json_str(r, p);
	ASSERT_STR_EQ(rst, st);
	if (types != NULL) {
		snprintf(p, sizeof(p), "Operations.%zu.response.scimType", i);
		ty = itest_json_str(r, p);
		if (ty == NULL || strstr(types, ty) == NULL) {
			fprintf(stderr, "  bulk: %.2000s\n", r->body);
			TL_FAIL("Operations[%zu] scimType %s, want %s", i,
			    ty ? ty : "(none)", types);
		}
	}
}

/* id = the last path segment of Operations[i].location, which must be
 * an absolute URL under the server's base for the given endpoint. */
static void
op_id(const struct itest_resp *r, size_t i, const char *endpoint,
    char *id, size_t idsz)
{
	const char *loc = op_str(r, i, "location"), *slash;
	char prefix[256];

	if (loc == NULL) {
		fprintf(stderr, "  bulk: %.2000s\n", r->body);
		TL_FAIL("Operations[%zu] has no location", i);
	}
	snprintf(prefix, sizeof(prefix), "%s/scim/v2%s/", itest->addr,
	    endpoint);
	if (strncmp(loc, prefix, strlen(prefix)) != 0)
		TL_FAIL("location %s not under %s", loc, prefix);
	slash = strrchr(loc, '/');
	ASSERT_INT_EQ(strlen(slash + 1), 36);
	snprintf(id, idsz, "%s", slash + 1);
}

static void
get(const char *endpoint, const char *id, struct itest_resp *r)
{
	char path[160];

	snprintf(path, sizeof(path), "/scim/v2%s/%s", endpoint, id);
	ASSERT_INT_EQ(itest_http(itest, "GET", path, NULL, NULL, NULL, r), 0);
}

/* totalResults of GET /Users?filter=userName eq "name" */
static long long
users_named(const char *name)
{
	struct itest_resp r;
	char path[256];
	long long n;

	snprintf(path, sizeof(path), "/scim/v2/Users?filter=userName%%20eq"
	    "%%20%%22%s%%22", name);
	ASSERT_INT_EQ(itest_http(itest, "GET", path, NULL, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	n = itest_json_int(&r, "totalResults");
	itest_resp_free(&r);
	return n;
}

static void
create_user(const char *name, char *id, size_t idsz)
{
	struct itest_resp r;
	char body[256];

	snprintf(body, sizeof(body), "{" SCH(URN_USER) ",\"userName\":"
	    "\"%s\"}", name);
	ASSERT_INT_EQ(itest_http(itest, "POST", "/scim/v2/Users", NULL, body,
	    NULL, &r), 0);
	ASSERT_INT_EQ(r.status, 201);
	ASSERT_NOT_NULL(itest_json_str(&r, "id"));
	snprintf(id, idsz, "%s", itest_json_str(&r, "id"));
	itest_resp_free(&r);
}

/* 1 if the JSON array at r.path has an element with "value" == id */
static int
has_value(const struct itest_resp *r, const char *arr, const char *id)
{
	json_t *a = json_object_get(r->json, arr), *v;
	size_t i;

	json_array_foreach(a, i, v) {
		const char *s = json_string_value(json_object_get(v,
		    "value"));

		if (s != NULL && strcmp(s, id) == 0)
			return 1;
	}
	return 0;
}

static void
t_spc(void)
{
	struct itest_resp r;
	json_t *b;

	ASSERT_INT_EQ(itest_http(itest, "GET",
	    "/scim/v2/ServiceProviderConfig", NULL, NULL, NULL, &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	b = json_object_get(r.json, "bulk");
	ASSERT_TRUE(json_is_true(json_object_get(b, "supported")));
	ASSERT_INT_EQ(json_integer_value(json_object_get(b,
	    "maxOperations")), 1000);
	ASSERT_TRUE(json_integer_value(json_object_get(b,
	    "maxPayloadSize")) > 0);
	itest_resp_free(&r);
}

static void
t_auth(void)
{
	struct itest_resp r;

	ASSERT_INT_EQ(itest_http(itest, "POST", "/scim/v2/Bulk", "",
	    BULK_HDR "\"Operations\":[{\"method\":\"POST\",\"path\":\"/Users\","
	    "\"bulkId\":\"a\",\"data\":" U_DATA("bk-noauth") "}]}", NULL, &r),
	    0);
	ASSERT_SCIM_ERROR(&r, 401, NULL);
	itest_resp_free(&r);
	ASSERT_INT_EQ(users_named("bk-noauth"), 0);
}

static void
t_bulkid_refs(void)
{
	struct itest_resp r, g, u;
	char u1[64], u2[64], g1[64];
	const char *st, *gv;

	bulk(BULK_HDR "\"Operations\":["
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"u1\","
	    "\"data\":" U_DATA("bk-u1") "},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"u2\","
	    "\"data\":" U_DATA("bk-u2") "},"
	    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"g1\","
	    "\"data\":{" SCH(URN_GROUP) ",\"displayName\":\"bk-g1\","
	    "\"members\":[{\"value\":\"bulkId:u1\",\"type\":\"User\"}]}},"
	    "{\"method\":\"PATCH\",\"path\":\"/Groups/bulkId:g1\","
	    "\"data\":{" SCH(URN_PATCH) ",\"Operations\":[{\"op\":\"add\","
	    "\"path\":\"members\",\"value\":[{\"value\":\"bulkId:u2\"}]}]}}"
	    "]}", 4, &r);
	ASSERT_OP(&r, 0, "method", "POST");
	ASSERT_OP(&r, 0, "bulkId", "u1");
	ASSERT_OP(&r, 0, "status", "201");
	ASSERT_OP(&r, 0, "version", "W/\"1\"");
	ASSERT_OP(&r, 1, "bulkId", "u2");
	ASSERT_OP(&r, 1, "status", "201");
	ASSERT_OP(&r, 2, "method", "POST");
	ASSERT_OP(&r, 2, "bulkId", "g1");
	ASSERT_OP(&r, 2, "status", "201");
	ASSERT_OP(&r, 2, "version", "W/\"1\"");
	ASSERT_OP(&r, 3, "method", "PATCH");
	st = op_str(&r, 3, "status");
	ASSERT_TRUE(st != NULL && (strcmp(st, "200") == 0 ||
	    strcmp(st, "204") == 0));
	op_id(&r, 0, "/Users", u1, sizeof(u1));
	op_id(&r, 1, "/Users", u2, sizeof(u2));
	op_id(&r, 2, "/Groups", g1, sizeof(g1));
	ASSERT_STR_EQ(op_str(&r, 3, "location"), op_str(&r, 2, "location"));
	/* members changed: the group version went up */
	gv = op_str(&r, 3, "version");
	ASSERT_NOT_NULL(gv);
	ASSERT_TRUE(strcmp(gv, "W/\"1\"") != 0);

	get("/Groups", g1, &g);
	ASSERT_INT_EQ(g.status, 200);
	ASSERT_STR_EQ(itest_json_str(&g, "displayName"), "bk-g1");
	ASSERT_STR_EQ(itest_json_str(&g, "meta.location"),
	    op_str(&r, 2, "location"));
	ASSERT_STR_EQ(g.etag, gv);
	ASSERT_TRUE(has_value(&g, "members", u1));
	ASSERT_TRUE(has_value(&g, "members", u2));
	ASSERT_INT_EQ(json_array_size(json_object_get(g.json, "members")), 2);
	itest_resp_free(&g);
	get("/Users", u1, &u);
	ASSERT_INT_EQ(u.status, 200);
	ASSERT_STR_EQ(itest_json_str(&u, "userName"), "bk-u1");
	ASSERT_STR_EQ(itest_json_str(&u, "meta.location"),
	    op_str(&r, 0, "location"));
	ASSERT_TRUE(has_value(&u, "groups", g1));
	itest_resp_free(&u);
	itest_resp_free(&r);
}

static void
t_put_delete(void)
{
	struct itest_resp r, u;
	char p1[64], d1[64], body[4096], t1[64];
	char patch_st1[16], patch_st2[16];

	create_user("bk-p1", p1, sizeof(p1));
	create_user("bk-d1", d1, sizeof(d1));
	snprintf(body, sizeof(body), BULK_HDR "\"Operations\":["
	    "{\"method\":\"PUT\",\"path\":\"/Users/%s\",\"data\":{"
	    SCH(URN_USER) ",\"userName\":\"bk-p1\",\"displayName\":"
	    "\"Put Via Bulk\"}},"
	    "{\"method\":\"DELETE\",\"path\":\"/Users/%s\"},"
	    "{\"method\":\"DELETE\",\"path\":\"/Users/%s\"},"
	    "{\"method\":\"PATCH\",\"path\":\"/Users/%s\",\"data\":{"
	    SCH(URN_PATCH) ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"title\",\"value\":\"Patched\"}]}}"
	    "]}", p1, d1, d1, p1);
	bulk(body, 4, &r);
	ASSERT_OP(&r, 0, "method", "PUT");
	ASSERT_OP(&r, 0, "status", "200");
	ASSERT_OP(&r, 0, "version", "W/\"2\"");
	op_id(&r, 0, "/Users", t1, sizeof(t1));
	ASSERT_STR_EQ(t1, p1);
	ASSERT_OP(&r, 1, "method", "DELETE");
	ASSERT_OP(&r, 1, "status", "204");
	ASSERT_OP(&r, 2, "method", "DELETE");
	assert_op_error(&r, 2, "404", NULL);
	ASSERT_OP(&r, 3, "method", "PATCH");
	/* checked last, so the rest of the test runs either way */
	snprintf(patch_st1, sizeof(patch_st1), "%s",
	    op_str(&r, 3, "status") ? op_str(&r, 3, "status") : "(none)");
	ASSERT_OP(&r, 3, "version", "W/\"3\"");
	itest_resp_free(&r);
	get("/Users", p1, &u);
	ASSERT_INT_EQ(u.status, 200);
	ASSERT_STR_EQ(itest_json_str(&u, "displayName"), "Put Via Bulk");
	ASSERT_STR_EQ(itest_json_str(&u, "title"), "Patched");
	ASSERT_STR_EQ(u.etag, "W/\"3\"");
	itest_resp_free(&u);
	get("/Users", d1, &u);
	ASSERT_INT_EQ(u.status, 404);
	itest_resp_free(&u);

	/* bulkId in the paths of PATCH and DELETE */
	bulk(BULK_HDR "\"Operations\":["
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"t1\","
	    "\"data\":" U_DATA("bk-t1") "},"
	    "{\"method\":\"PATCH\",\"path\":\"/Users/bulkId:t1\",\"data\":{"
	    SCH(URN_PATCH) ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"displayName\",\"value\":\"T One\"}]}},"
	    "{\"method\":\"DELETE\",\"path\":\"/Users/bulkId:t1\"}"
	    "]}", 3, &r);
	ASSERT_OP(&r, 0, "status", "201");
	snprintf(patch_st2, sizeof(patch_st2), "%s",
	    op_str(&r, 1, "status") ? op_str(&r, 1, "status") : "(none)");
	ASSERT_OP(&r, 1, "version", "W/\"2\"");
	ASSERT_OP(&r, 2, "status", "204");
	op_id(&r, 0, "/Users", t1, sizeof(t1));
	itest_resp_free(&r);
	get("/Users", t1, &u);
	ASSERT_INT_EQ(u.status, 404);
	itest_resp_free(&u);
	ASSERT_INT_EQ(users_named("bk-t1"), 0);
	/* a User PATCH answers 200 with the resource (contract-scim.md),
	 * so its Bulk result says 200, as in RFC 7644 §3.7.3 */
	ASSERT_STR_EQ(patch_st1, "200");
	ASSERT_STR_EQ(patch_st2, "200");
}

static void
t_group_delete_in_bulk(void)
{
	struct itest_resp r, u;
	char m[64], g[64], body[2048];

	create_user("bk-m1", m, sizeof(m));
	snprintf(body, sizeof(body), BULK_HDR "\"Operations\":["
	    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"gd\","
	    "\"data\":{" SCH(URN_GROUP) ",\"displayName\":\"bk-gd\","
	    "\"members\":[{\"value\":\"%s\"}]}}]}", m);
	bulk(body, 1, &r);
	ASSERT_OP(&r, 0, "status", "201");
	op_id(&r, 0, "/Groups", g, sizeof(g));
	itest_resp_free(&r);
	get("/Users", m, &u);
	ASSERT_TRUE(has_value(&u, "groups", g));
	itest_resp_free(&u);
	snprintf(body, sizeof(body), BULK_HDR "\"Operations\":["
	    "{\"method\":\"DELETE\",\"path\":\"/Groups/%s\"}]}", g);
	bulk(body, 1, &r);
	ASSERT_OP(&r, 0, "status", "204");
	itest_resp_free(&r);
	get("/Users", m, &u);
	ASSERT_INT_EQ(u.status, 200);
	ASSERT_FALSE(has_value(&u, "groups", g));
	itest_resp_free(&u);
}

static void
t_op_errors(void)
{
	struct itest_resp r;
	const char *st;
	size_t i;

	bulk(BULK_HDR "\"Operations\":["
	    /* 0: duplicate userName (made by t_bulkid_refs) */
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"e1\","
	    "\"data\":" U_DATA("BK-U1") "},"
	    /* 1: wrong type */
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"e2\","
	    "\"data\":{" SCH(URN_USER) ",\"userName\":5}},"
	    /* 2: POST without bulkId */
	    "{\"method\":\"POST\",\"path\":\"/Users\","
	    "\"data\":" U_DATA("bk-nobulkid") "},"
	    /* 3: unknown bulkId reference */
	    "{\"method\":\"PATCH\",\"path\":\"/Groups/bulkId:nope\","
	    "\"data\":{" SCH(URN_PATCH) ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"displayName\",\"value\":\"x\"}]}},"
	    /* 4: fine */
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"e3\","
	    "\"data\":" U_DATA("bk-ok1") "},"
	    /* 5: unknown method */
	    "{\"method\":\"FROB\",\"path\":\"/Users\",\"bulkId\":\"e6\","
	    "\"data\":" U_DATA("bk-frob") "},"
	    /* 6: unknown endpoint */
	    "{\"method\":\"POST\",\"path\":\"/Frobs\",\"bulkId\":\"e4\","
	    "\"data\":" U_DATA("bk-frobs") "},"
	    /* 7: DELETE of nothing */
	    "{\"method\":\"DELETE\",\"path\":\"/Users/" NOUUID "\"},"
	    /* 8: member that does not exist */
	    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"e5\","
	    "\"data\":{" SCH(URN_GROUP) ",\"displayName\":\"bk-e5\","
	    "\"members\":[{\"value\":\"" NOUUID "\"}]}},"
	    /* 9: unknown attribute */
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"e7\","
	    "\"data\":{" SCH(URN_USER) ",\"userName\":\"bk-e7\","
	    "\"bogusAttr\":1}},"
	    /* 10: data missing */
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"e8\"},"
	    /* 11: path missing */
	    "{\"method\":\"POST\",\"bulkId\":\"e9\",\"data\":"
	    U_DATA("bk-e9") "},"
	    /* 12: PATCH with a bad path */
	    "{\"method\":\"PATCH\",\"path\":\"/Users/bulkId:e3\","
	    "\"data\":{" SCH(URN_PATCH) ",\"Operations\":[{\"op\":\"replace\","
	    "\"path\":\"bogus\",\"value\":\"x\"}]}}"
	    "]}", 13, &r);
	assert_op_error(&r, 0, "409", "uniqueness");
	ASSERT_OP(&r, 0, "bulkId", "e1");
	assert_op_error(&r, 1, "400", "invalidValue");
	assert_op_error(&r, 2, "400", "invalidValue");
	assert_op_error(&r, 3, "409|400", "invalidValue");
	ASSERT_OP(&r, 4, "status", "201");
	ASSERT_OP(&r, 4, "bulkId", "e3");
	assert_op_error(&r, 5, "400|405", NULL);
	assert_op_error(&r, 6, "400|404", NULL);
	assert_op_error(&r, 7, "404", NULL);
	assert_op_error(&r, 8, "400", "invalidValue");
	assert_op_error(&r, 9, "400", "invalidSyntax");
	assert_op_error(&r, 10, "400", NULL);
	assert_op_error(&r, 11, "400", NULL);
	assert_op_error(&r, 12, "400", "invalidPath");
	for (i = 0; i < 13; i++) {
		st = op_str(&r, i, "status");
		ASSERT_TRUE(st != NULL && st[0] != '5');
	}
	itest_resp_free(&r);
	/* each operation commits on its own */
	ASSERT_INT_EQ(users_named("bk-ok1"), 1);
	ASSERT_INT_EQ(users_named("bk-nobulkid"), 0);
	ASSERT_INT_EQ(users_named("bk-frob"), 0);
	ASSERT_INT_EQ(users_named("bk-e7"), 0);
	ASSERT_INT_EQ(users_named("bk-e9"), 0);
	ASSERT_TRUE(itest_server_alive(itest));
}

static void
t_fail_on_errors(void)
{
	struct itest_resp r;

	bulk(BULK_HDR "\"failOnErrors\":1,\"Operations\":["
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"f1\","
	    "\"data\":" U_DATA("bk-f1") "},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"f2\","
	    "\"data\":" U_DATA("bk-u1") "},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"f3\","
	    "\"data\":" U_DATA("bk-f3") "}"
	    "]}", 2, &r);
	ASSERT_OP(&r, 0, "status", "201");
	assert_op_error(&r, 1, "409", "uniqueness");
	itest_resp_free(&r);
	ASSERT_INT_EQ(users_named("bk-f1"), 1);
	ASSERT_INT_EQ(users_named("bk-f3"), 0);

	bulk(BULK_HDR "\"failOnErrors\":2,\"Operations\":["
	    "{\"method\":\"DELETE\",\"path\":\"/Users/" NOUUID "\"},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"f4\","
	    "\"data\":" U_DATA("bk-f4") "},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"f5\","
	    "\"data\":{" SCH(URN_USER) ",\"userName\":true}},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"f6\","
	    "\"data\":" U_DATA("bk-f6") "},"
	    "{\"method\":\"DELETE\",\"path\":\"/Users/" NOUUID "\"}"
	    "]}", 3, &r);
	assert_op_error(&r, 0, "404", NULL);
	ASSERT_OP(&r, 1, "status", "201");
	assert_op_error(&r, 2, "400", "invalidValue");
	itest_resp_free(&r);
	ASSERT_INT_EQ(users_named("bk-f4"), 1);
	ASSERT_INT_EQ(users_named("bk-f6"), 0);

	/* without failOnErrors every operation runs */
	bulk(BULK_HDR "\"Operations\":["
	    "{\"method\":\"DELETE\",\"path\":\"/Users/" NOUUID "\"},"
	    "{\"method\":\"DELETE\",\"path\":\"/Users/" NOUUID "\"},"
	    "{\"method\":\"DELETE\",\"path\":\"/Users/" NOUUID "\"},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"f7\","
	    "\"data\":" U_DATA("bk-f7") "}"
	    "]}", 4, &r);
	ASSERT_OP(&r, 3, "status", "201");
	itest_resp_free(&r);
	ASSERT_INT_EQ(users_named("bk-f7"), 1);
}

static char *
many_deletes(size_t n, const char *head)
{
	size_t i, cap = n * 80 + 256, len;
	char *b;

	if ((b = malloc(cap)) == NULL)
		return NULL;
	len = (size_t)snprintf(b, cap, "%s\"Operations\":[", head);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len,
		    "%s{\"method\":\"DELETE\",\"path\":\"/Users/"
		    "00000000-0000-4000-8000-%012zu\"}", i ? "," : "", i);
	snprintf(b + len, cap - len, "]}");
	return b;
}

static void
t_too_many(void)
{
	struct itest_resp r;
	char *b;
	int rc;

	ASSERT_NOT_NULL(b = many_deletes(1001, BULK_HDR));
	rc = itest_http(itest, "POST", "/scim/v2/Bulk", NULL, b, NULL, &r);
	free(b);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_SCIM_ERROR(&r, 413, "tooMany");
	itest_resp_free(&r);
	/* 1000 is allowed; failOnErrors 1 keeps it short */
	ASSERT_NOT_NULL(b = many_deletes(1000, BULK_HDR
	    "\"failOnErrors\":1,"));
	rc = itest_http(itest, "POST", "/scim/v2/Bulk", NULL, b, NULL, &r);
	free(b);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_INT_EQ(r.status, 200);
	ASSERT_INT_EQ(json_array_size(json_object_get(r.json, "Operations")),
	    1);
	assert_op_error(&r, 0, "404", NULL);
	itest_resp_free(&r);
	/* far too many: still a clean 413 */
	ASSERT_NOT_NULL(b = many_deletes(10000, BULK_HDR));
	rc = itest_http(itest, "POST", "/scim/v2/Bulk", NULL, b, NULL, &r);
	free(b);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_SCIM_ERROR(&r, 413, NULL);
	itest_resp_free(&r);
	ASSERT_TRUE(itest_server_alive(itest));
}

static void
t_payload_too_large(void)
{
	struct itest_resp r;
	size_t n = 1024 * 1024 + 64, len;
	char *b;
	int rc;

	ASSERT_NOT_NULL(b = malloc(n + 1));
	len = (size_t)snprintf(b, n, BULK_HDR "\"Operations\":[{\"method\":"
	    "\"POST\",\"path\":\"/Users\",\"bulkId\":\"big\",\"data\":{"
	    SCH(URN_USER) ",\"userName\":\"bk-big\",\"displayName\":\"");
	memset(b + len, 'x', n - len - 5);
	memcpy(b + n - 5, "\"}}]}", 5);
	b[n] = '\0';
	rc = itest_http(itest, "POST", "/scim/v2/Bulk", NULL, b, NULL, &r);
	free(b);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_SCIM_ERROR(&r, 413, NULL);
	itest_resp_free(&r);
	ASSERT_INT_EQ(users_named("bk-big"), 0);
}

static void
t_refs_odd(void)
{
	struct itest_resp r;
	const char *st;
	size_t i;

	/* a reference to an operation that failed */
	bulk(BULK_HDR "\"Operations\":["
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"x1\","
	    "\"data\":{" SCH(URN_USER) ",\"userName\":[]}},"
	    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"x2\","
	    "\"data\":{" SCH(URN_GROUP) ",\"displayName\":\"bk-x2\","
	    "\"members\":[{\"value\":\"bulkId:x1\"}]}}"
	    "]}", 2, &r);
	assert_op_error(&r, 0, "400", "invalidValue");
	assert_op_error(&r, 1, "409|400", "invalidValue");
	itest_resp_free(&r);

	/* self, circular and forward references, duplicate bulkIds: no
	 * hang, no 5xx, a status on every operation */
	bulk(BULK_HDR "\"Operations\":["
	    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"s1\","
	    "\"data\":{" SCH(URN_GROUP) ",\"displayName\":\"bk-s1\","
	    "\"members\":[{\"value\":\"bulkId:s1\"}]}},"
	    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"c1\","
	    "\"data\":{" SCH(URN_GROUP) ",\"displayName\":\"bk-c1\","
	    "\"members\":[{\"value\":\"bulkId:c2\"}]}},"
	    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"c2\","
	    "\"data\":{" SCH(URN_GROUP) ",\"displayName\":\"bk-c2\","
	    "\"members\":[{\"value\":\"bulkId:c1\"}]}},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"d\","
	    "\"data\":" U_DATA("bk-dup1") "},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"d\","
	    "\"data\":" U_DATA("bk-dup2") "},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"\","
	    "\"data\":" U_DATA("bk-emptyid") "}"
	    "]}", 6, &r);
	for (i = 0; i < 6; i++) {
		st = op_str(&r, i, "status");
		if (st == NULL || st[0] < '2' || st[0] > '4')
			TL_FAIL("Operations[%zu].status %s", i,
			    st ? st : "(none)");
	}
	/* a group cannot contain itself */
	ASSERT_TRUE(op_str(&r, 0, "status")[0] == '4');
	/* an empty bulkId is no bulkId */
	assert_op_error(&r, 5, "400", "invalidValue");
	itest_resp_free(&r);
	ASSERT_TRUE(itest_server_alive(itest));
}

/* "version" on an operation is its If-Match. */
static void
t_op_version(void)
{
	struct itest_resp r, u;
	char id[64], body[2048];

	create_user("bk-v1", id, sizeof(id));
	snprintf(body, sizeof(body), BULK_HDR "\"Operations\":["
	    "{\"method\":\"PUT\",\"path\":\"/Users/%s\",\"version\":"
	    "\"W/\\\"7\\\"\",\"data\":{" SCH(URN_USER) ",\"userName\":"
	    "\"bk-v1\",\"title\":\"stale\"}},"
	    "{\"method\":\"DELETE\",\"path\":\"/Users/%s\",\"version\":"
	    "\"W/\\\"7\\\"\"},"
	    "{\"method\":\"PATCH\",\"path\":\"/Users/%s\",\"version\":"
	    "\"W/\\\"1\\\"\",\"data\":{" SCH(URN_PATCH) ",\"Operations\":"
	    "[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"fresh\"}]}}"
	    "]}", id, id, id);
	bulk(body, 3, &r);
	assert_op_error(&r, 0, "412", NULL);
	assert_op_error(&r, 1, "412", NULL);
	ASSERT_OP(&r, 2, "version", "W/\"2\"");
	itest_resp_free(&r);
	get("/Users", id, &u);
	ASSERT_INT_EQ(u.status, 200);
	ASSERT_STR_EQ(itest_json_str(&u, "title"), "fresh");
	itest_resp_free(&u);
}

/* bulkId references are resolved anywhere in "data" (RFC 7644 §3.7.2),
 * e.g. the enterprise manager of a user created in the same request. */
static void
t_bulkid_in_attribute(void)
{
	struct itest_resp r, u;
	char boss[64], emp[64];

	bulk(BULK_HDR "\"Operations\":["
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"boss\","
	    "\"data\":" U_DATA("bk-boss") "},"
	    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"emp\","
	    "\"data\":{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],"
	    "\"userName\":\"bk-emp\",\"" URN_ENT "\":{\"manager\":"
	    "{\"value\":\"bulkId:boss\"}}}}"
	    "]}", 2, &r);
	ASSERT_OP(&r, 0, "status", "201");
	ASSERT_OP(&r, 1, "status", "201");
	op_id(&r, 0, "/Users", boss, sizeof(boss));
	op_id(&r, 1, "/Users", emp, sizeof(emp));
	itest_resp_free(&r);
	get("/Users", emp, &u);
	ASSERT_INT_EQ(u.status, 200);
	ASSERT_STR_EQ(itest_json_str(&u, URN_ENT ".manager.value"), boss);
	itest_resp_free(&u);
}

/* With http.body_max above maxPayloadSize, the Bulk limit itself
 * applies: 413. */
static void
t_max_payload(void)
{
	struct itest_resp r;
	size_t n = 5 * 1024 * 1024, len;
	char *b;
	int rc;

	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "http.body_max = 16777216");
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	ASSERT_NOT_NULL(b = malloc(n + 1));
	len = (size_t)snprintf(b, n, BULK_HDR "\"Operations\":[{\"method\":"
	    "\"POST\",\"path\":\"/Users\",\"bulkId\":\"big\",\"data\":{"
	    SCH(URN_USER) ",\"userName\":\"bk-big2\",\"displayName\":\"");
	memset(b + len, 'x', n - len - 5);
	memcpy(b + n - 5, "\"}}]}", 5);
	b[n] = '\0';
	rc = itest_http(itest, "POST", "/scim/v2/Bulk", NULL, b, NULL, &r);
	free(b);
	itest->extra_config[0] = '\0';
	if (rc != 0 || r.status != 413) {
		char why[512];

		(void)itest_check_error(&r, 413, NULL, why, sizeof(why));
		itest_resp_free(&r);
		(void)itest_server_start(itest);
		TL_FAIL("5 MiB bulk: rc %d, %s", rc, why);
	}
	ASSERT_SCIM_ERROR(&r, 413, NULL);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	ASSERT_INT_EQ(users_named("bk-big2"), 0);
}

static void
t_no_5xx(void)
{
	ASSERT_TRUE(itest_server_alive(itest));
	itest_assert_no_5xx(itest);
}

/* A clean exit after all of the above: under ASan/LSan a leak or
 * error on any path this suite took shows up here. */
static void
t_clean_shutdown(void)
{
	itest_assert_clean_exit(itest);
}

static const struct testlib_case cases[] = {
	{ "service_provider_config", t_spc },
	{ "auth", t_auth },
	{ "bulkid_references", t_bulkid_refs },
	{ "put_patch_delete", t_put_delete },
	{ "group_delete", t_group_delete_in_bulk },
	{ "per_operation_errors", t_op_errors },
	{ "fail_on_errors", t_fail_on_errors },
	{ "too_many_operations", t_too_many },
	{ "payload_too_large", t_payload_too_large },
	{ "odd_references", t_refs_odd },
	{ "operation_version", t_op_version },
	{ "bulkid_in_attribute", t_bulkid_in_attribute },
	{ "max_payload_size", t_max_payload },
	{ "no_5xx", t_no_5xx },
	{ "clean_shutdown", t_clean_shutdown },
};

ITEST_MAIN(cases)
