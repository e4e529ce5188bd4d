#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "scim/discovery.h"
#include "scim/schema.h"
#include "testlib.h"

#define BASE	"http://127.0.0.1:8080/scim/v2"

static const struct {
	enum scim_rtype rt;
	const char *path;
	int ok;
	const char *schema;	/* expected schema id */
	const char *attr;	/* canonical name */
	const char *sub;	/* canonical sub name or NULL */
} resolve_cases[] = {
	/* plain names, canonical and other case */
	{ SCIM_RT_USER, "userName", 1, SCIM_SCHEMA_USER, "userName", NULL },
	{ SCIM_RT_USER, "USERNAME", 1, SCIM_SCHEMA_USER, "userName", NULL },
	{ SCIM_RT_USER, "username", 1, SCIM_SCHEMA_USER, "userName", NULL },
	{ SCIM_RT_USER, "active", 1, SCIM_SCHEMA_USER, "active", NULL },
	{ SCIM_RT_USER, "emails", 1, SCIM_SCHEMA_USER, "emails", NULL },
	{ SCIM_RT_USER, "x509Certificates", 1, SCIM_SCHEMA_USER,
	  "x509Certificates", NULL },
	/* dotted */
	{ SCIM_RT_USER, "name.givenName", 1, SCIM_SCHEMA_USER, "name",
	  "givenName" },
	{ SCIM_RT_USER, "NAME.FAMILYNAME", 1, SCIM_SCHEMA_USER, "name",
	  "familyName" },
	{ SCIM_RT_USER, "emails.value", 1, SCIM_SCHEMA_USER, "emails",
	  "value" },
	{ SCIM_RT_USER, "addresses.postalCode", 1, SCIM_SCHEMA_USER,
	  "addresses", "postalCode" },
	{ SCIM_RT_USER, "groups.$ref", 1, SCIM_SCHEMA_USER, "groups", "$ref" },
	/* common attributes, both types */
	{ SCIM_RT_USER, "id", 1, "common", "id", NULL },
	{ SCIM_RT_USER, "externalId", 1, "common", "externalId", NULL },
	{ SCIM_RT_USER, "meta.lastModified", 1, "common", "meta",
	  "lastModified" },
	{ SCIM_RT_GROUP, "ID", 1, "common", "id", NULL },
	{ SCIM_RT_GROUP, "externalid", 1, "common", "externalId", NULL },
	{ SCIM_RT_GROUP, "meta.created", 1, "common", "meta", "created" },
	/* URN-qualified */
	{ SCIM_RT_USER, "urn:ietf:params:scim:schemas:core:2.0:User:userName",
	  1, SCIM_SCHEMA_USER, "userName", NULL },
	{ SCIM_RT_USER, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:username",
	  1, SCIM_SCHEMA_USER, "userName", NULL },
	{ SCIM_RT_USER, "urn:ietf:params:scim:schemas:core:2.0:User:name."
	  "givenName", 1, SCIM_SCHEMA_USER, "name", "givenName" },
	{ SCIM_RT_USER, "urn:ietf:params:scim:schemas:core:2.0:User:id", 1,
	  "common", "id", NULL },
	{ SCIM_RT_USER, SCIM_SCHEMA_ENTERPRISE ":employeeNumber", 1,
	  SCIM_SCHEMA_ENTERPRISE, "employeeNumber", NULL },
	{ SCIM_RT_USER, SCIM_SCHEMA_ENTERPRISE ":manager.value", 1,
	  SCIM_SCHEMA_ENTERPRISE, "manager", "value" },
	{ SCIM_RT_USER, SCIM_SCHEMA_ENTERPRISE ":Manager.DisplayName", 1,
	  SCIM_SCHEMA_ENTERPRISE, "manager", "displayName" },
	{ SCIM_RT_USER, SCIM_SCHEMA_PAM ":riskLevel", 1, SCIM_SCHEMA_PAM,
	  "riskLevel", NULL },
	{ SCIM_RT_USER, SCIM_SCHEMA_PAM ":approver.value", 1, SCIM_SCHEMA_PAM,
	  "approver", "value" },
	{ SCIM_RT_GROUP, SCIM_SCHEMA_GROUP ":displayName", 1,
	  SCIM_SCHEMA_GROUP, "displayName", NULL },
	{ SCIM_RT_GROUP, "members.value", 1, SCIM_SCHEMA_GROUP, "members",
	  "value" },
	{ SCIM_RT_GROUP, "members.display", 1, SCIM_SCHEMA_GROUP, "members",
	  "display" },
	/* unknown or not for this type */
	{ SCIM_RT_USER, "nosuch", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "name.", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, ".name", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "name.nosuch", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "name.givenName.x", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "userName.value", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "employeeNumber", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "members", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, SCIM_SCHEMA_GROUP ":displayName", 0, NULL, NULL,
	  NULL },
	{ SCIM_RT_USER, SCIM_SCHEMA_ENTERPRISE ":userName", 0, NULL, NULL,
	  NULL },
	{ SCIM_RT_USER, SCIM_SCHEMA_ENTERPRISE, 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, SCIM_SCHEMA_ENTERPRISE ":", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "urn:x:userName", 0, NULL, NULL, NULL },
	{ SCIM_RT_USER, "urn:ietf:params:scim:schemas:core:2.0:Userx:userName",
	  0, NULL, NULL, NULL },
	{ SCIM_RT_GROUP, "userName", 0, NULL, NULL, NULL },
	{ SCIM_RT_GROUP, SCIM_SCHEMA_ENTERPRISE ":employeeNumber", 0, NULL,
	  NULL, NULL },
	{ SCIM_RT_GROUP, SCIM_SCHEMA_USER ":displayName", 0, NULL, NULL,
	  NULL },
};

static void
test_resolve_table(void)
{
	struct scim_attr_path ap;
	size_t i;
	int r;

	for (i = 0; i < sizeof(resolve_cases) / sizeof(resolve_cases[0]);
	    i++) {
		const char *p = resolve_cases[i].path;

		r = scim_schema_resolve(resolve_cases[i].rt, p, strlen(p), &ap);
		if (!resolve_cases[i].ok) {
			if (r != ERR_NOT_FOUND)
				TL_FAIL("resolve \"%s\" = %d, want not found",
				    p, r);
			continue;
		}
		if (r != 0)
			TL_FAIL("resolve \"%s\" = %d", p, r);
		ASSERT_STR_EQ(ap.schema->id, resolve_cases[i].schema);
		ASSERT_STR_EQ(ap.attr->name, resolve_cases[i].attr);
		if (resolve_cases[i].sub == NULL)
			ASSERT_NULL(ap.sub);
		else {
			ASSERT_NOT_NULL(ap.sub);
			ASSERT_STR_EQ(ap.sub->name, resolve_cases[i].sub);
		}
	}
}

static void
test_resolve_length(void)
{
	struct scim_attr_path ap;
	char big[600];

	/* only len bytes count: "userNameXYZ" cut to "userName" */
	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, "userNameXYZ", 8,
	    &ap), 0);
	ASSERT_STR_EQ(ap.attr->name, "userName");
	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, "user\0Name", 9, &ap),
	    ERR_NOT_FOUND);
	memset(big, 'a', sizeof(big));
	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, big, sizeof(big),
	    &ap), ERR_NOT_FOUND);
	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, NULL, 0, &ap),
	    ERR_NOT_FOUND);
}

static void
test_attr_properties(void)
{
	struct scim_attr_path ap;
	const struct scim_schema *s;
	const struct scim_attr *a;

	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, "userName", 8, &ap),
	    0);
	ASSERT_INT_EQ(ap.attr->type, SCIM_T_STRING);
	ASSERT_TRUE(ap.attr->required);
	ASSERT_FALSE(ap.attr->case_exact);
	ASSERT_INT_EQ(ap.attr->uniqueness, SCIM_UNIQ_SERVER);

	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, "password", 8, &ap),
	    0);
	ASSERT_INT_EQ(ap.attr->mutability, SCIM_MUT_WRITE_ONLY);
	ASSERT_INT_EQ(ap.attr->returned, SCIM_RET_NEVER);

	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, "id", 2, &ap), 0);
	ASSERT_INT_EQ(ap.attr->mutability, SCIM_MUT_READ_ONLY);
	ASSERT_INT_EQ(ap.attr->returned, SCIM_RET_ALWAYS);
	ASSERT_TRUE(ap.attr->case_exact);
	ASSERT_FALSE(ap.schema->is_extension);
	ASSERT_TRUE(ap.schema == scim_schema_common());

	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, "groups", 6, &ap), 0);
	ASSERT_INT_EQ(ap.attr->mutability, SCIM_MUT_READ_ONLY);
	ASSERT_TRUE(ap.attr->multi_valued);
	a = scim_attr_sub(ap.attr, "type", 4);
	ASSERT_NOT_NULL(a);
	ASSERT_STR_EQ(a->canonical_values[0], "direct");
	ASSERT_STR_EQ(a->canonical_values[1], "indirect");
	ASSERT_NULL(a->canonical_values[2]);

	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_GROUP, "members.value", 13,
	    &ap), 0);
	ASSERT_INT_EQ(ap.sub->mutability, SCIM_MUT_IMMUTABLE);
	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_GROUP, "displayName", 11,
	    &ap), 0);
	ASSERT_TRUE(ap.attr->required);
	ASSERT_INT_EQ(ap.attr->uniqueness, SCIM_UNIQ_SERVER);

	s = scim_schema_by_id(SCIM_SCHEMA_PAM, strlen(SCIM_SCHEMA_PAM));
	ASSERT_NOT_NULL(s);
	ASSERT_TRUE(s->is_extension);
	a = scim_schema_attr(s, "maxjitdurationseconds", 21);
	ASSERT_NOT_NULL(a);
	ASSERT_INT_EQ(a->type, SCIM_T_INTEGER);
	a = scim_schema_attr(s, "adminRoles", 10);
	ASSERT_NOT_NULL(a);
	ASSERT_TRUE(a->multi_valued);
	ASSERT_INT_EQ(a->type, SCIM_T_STRING);
	a = scim_schema_attr(s, "accessReviewDate", 16);
	ASSERT_INT_EQ(a->type, SCIM_T_DATETIME);
	a = scim_schema_attr(s, "approver", 8);
	ASSERT_INT_EQ(a->type, SCIM_T_COMPLEX);
	ASSERT_INT_EQ(scim_attr_sub(a, "displayName", 11)->mutability,
	    SCIM_MUT_READ_ONLY);
	ASSERT_NULL(scim_schema_attr(s, "userName", 8));
}

static void
test_lookup(void)
{
	const struct scim_resource_type *t;

	t = scim_schema_rtype(SCIM_RT_USER);
	ASSERT_STR_EQ(t->name, "User");
	ASSERT_STR_EQ(t->endpoint, "/Users");
	ASSERT_STR_EQ(t->schema->id, SCIM_SCHEMA_USER);
	ASSERT_STR_EQ(t->extensions[0]->id, SCIM_SCHEMA_ENTERPRISE);
	ASSERT_STR_EQ(t->extensions[1]->id, SCIM_SCHEMA_PAM);
	ASSERT_NULL(t->extensions[2]);
	t = scim_schema_rtype(SCIM_RT_GROUP);
	ASSERT_STR_EQ(t->endpoint, "/Groups");
	ASSERT_NULL(t->extensions[0]);

	ASSERT_NOT_NULL(scim_schema_by_id("URN:IETF:PARAMS:SCIM:SCHEMAS:"
	    "CORE:2.0:GROUP", 43));
	ASSERT_NULL(scim_schema_by_id("URN:IETF:PARAMS:SCIM:SCHEMAS:"
	    "CORE:2.0:GROUPS", 44));
	ASSERT_NULL(scim_schema_by_id("common", 6));
	ASSERT_NULL(scim_schema_by_id(SCIM_SCHEMA_USER, 10));
	ASSERT_TRUE(scim_schema_allowed(SCIM_RT_USER, SCIM_SCHEMA_PAM,
	    strlen(SCIM_SCHEMA_PAM)));
	ASSERT_TRUE(scim_schema_allowed(SCIM_RT_USER, SCIM_SCHEMA_USER,
	    strlen(SCIM_SCHEMA_USER)));
	ASSERT_FALSE(scim_schema_allowed(SCIM_RT_USER, SCIM_SCHEMA_GROUP,
	    strlen(SCIM_SCHEMA_GROUP)));
	ASSERT_FALSE(scim_schema_allowed(SCIM_RT_GROUP, SCIM_SCHEMA_ENTERPRISE,
	    strlen(SCIM_SCHEMA_ENTERPRISE)));
	ASSERT_TRUE(scim_schema_allowed(SCIM_RT_GROUP, SCIM_SCHEMA_GROUP,
	    strlen(SCIM_SCHEMA_GROUP)));
	ASSERT_STR_EQ(scim_type_name(SCIM_T_DATETIME), "dateTime");
	ASSERT_STR_EQ(scim_type_name(SCIM_T_REFERENCE), "reference");
	ASSERT_STR_EQ(scim_type_name(SCIM_T_COMPLEX), "complex");
}

/* Every attribute and sub-attribute of every table is well formed. */
static void
check_attrs(const struct scim_attr *attrs, size_t n, int depth)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct scim_attr *a = &attrs[i];

		ASSERT_NOT_NULL(a->name);
		ASSERT_TRUE(a->description != NULL && a->description[0]);
		if (a->type == SCIM_T_COMPLEX) {
			ASSERT_TRUE(depth == 0);
			ASSERT_TRUE(a->sub != NULL && a->nsub > 0);
			check_attrs(a->sub, a->nsub, depth + 1);
		} else
			ASSERT_TRUE(a->sub == NULL && a->nsub == 0);
		if (a->type == SCIM_T_REFERENCE)
			ASSERT_NOT_NULL(a->reference_types);
		for (j = 0; j < i; j++)
			if (strcasecmp(attrs[j].name, a->name) == 0)
				TL_FAIL("duplicate attribute %s", a->name);
	}
}

static void
test_tables_sane(void)
{
	static const char *const ids[] = {
		SCIM_SCHEMA_USER, SCIM_SCHEMA_ENTERPRISE, SCIM_SCHEMA_PAM,
		SCIM_SCHEMA_GROUP,
	};
	const struct scim_schema *s;
	size_t i;

	for (i = 0; i < 4; i++) {
		s = scim_schema_by_id(ids[i], strlen(ids[i]));
		ASSERT_NOT_NULL(s);
		check_attrs(s->attrs, s->nattrs, 0);
	}
	s = scim_schema_common();
	check_attrs(s->attrs, s->nattrs, 0);
	ASSERT_INT_EQ(scim_schema_by_id(SCIM_SCHEMA_USER,
	    strlen(SCIM_SCHEMA_USER))->nattrs, 21);
}

/* Attribute definition named name in a discovery "attributes" array. */
static json_t *
find_attr(json_t *attrs, const char *name)
{
	json_t *a;
	size_t i;

	json_array_foreach(attrs, i, a) {
		if (strcmp(json_string_value(json_object_get(a, "name")),
		    name) == 0)
			return a;
	}
	return NULL;
}

static const char *
jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
test_discovery_spc(void)
{
	json_t *spc, *x;

	spc = scim_discovery_spc(BASE "/");
	ASSERT_NOT_NULL(spc);
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(spc,
	    "schemas"), 0)), SCIM_SCHEMA_SPC);
	ASSERT_TRUE(json_is_true(json_object_get(json_object_get(spc,
	    "patch"), "supported")));
	x = json_object_get(spc, "bulk");
	ASSERT_TRUE(json_is_true(json_object_get(x, "supported")));
	ASSERT_INT_EQ(json_integer_value(json_object_get(x, "maxOperations")),
	    1000);
	ASSERT_INT_EQ(json_integer_value(json_object_get(x, "maxPayloadSize")),
	    4 * 1024 * 1024);
	x = json_object_get(spc, "filter");
	ASSERT_TRUE(json_is_true(json_object_get(x, "supported")));
	ASSERT_INT_EQ(json_integer_value(json_object_get(x, "maxResults")),
	    1000);
	ASSERT_TRUE(json_is_false(json_object_get(json_object_get(spc,
	    "changePassword"), "supported")));
	ASSERT_TRUE(json_is_true(json_object_get(json_object_get(spc,
	    "sort"), "supported")));
	ASSERT_TRUE(json_is_true(json_object_get(json_object_get(spc,
	    "etag"), "supported")));
	x = json_array_get(json_object_get(spc, "authenticationSchemes"), 0);
	ASSERT_STR_EQ(jstr(x, "type"), "oauthbearertoken");
	ASSERT_NOT_NULL(jstr(x, "name"));
	ASSERT_NOT_NULL(jstr(x, "description"));
	ASSERT_TRUE(json_is_true(json_object_get(x, "primary")));
	x = json_object_get(spc, "meta");
	ASSERT_STR_EQ(jstr(x, "resourceType"), "ServiceProviderConfig");
	/* trailing slash of base_url dropped */
	ASSERT_STR_EQ(jstr(x, "location"), BASE "/ServiceProviderConfig");
	json_decref(spc);
}

static void
test_discovery_rtypes(void)
{
	json_t *l, *u, *x;

	l = scim_discovery_resource_types(BASE);
	ASSERT_NOT_NULL(l);
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(l,
	    "schemas"), 0)), SCIM_SCHEMA_LIST);
	ASSERT_INT_EQ(json_integer_value(json_object_get(l, "totalResults")),
	    2);
	ASSERT_INT_EQ(json_array_size(json_object_get(l, "Resources")), 2);
	json_decref(l);

	u = scim_discovery_resource_type("user", BASE);
	ASSERT_NOT_NULL(u);
	ASSERT_STR_EQ(jstr(u, "id"), "User");
	ASSERT_STR_EQ(jstr(u, "name"), "User");
	ASSERT_STR_EQ(jstr(u, "endpoint"), "/Users");
	ASSERT_STR_EQ(jstr(u, "schema"), SCIM_SCHEMA_USER);
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(u,
	    "schemas"), 0)), SCIM_SCHEMA_RT);
	x = json_object_get(u, "schemaExtensions");
	ASSERT_INT_EQ(json_array_size(x), 2);
	ASSERT_STR_EQ(jstr(json_array_get(x, 0), "schema"),
	    SCIM_SCHEMA_ENTERPRISE);
	ASSERT_TRUE(json_is_false(json_object_get(json_array_get(x, 1),
	    "required")));
	ASSERT_STR_EQ(jstr(json_array_get(x, 1), "schema"), SCIM_SCHEMA_PAM);
	ASSERT_STR_EQ(jstr(json_object_get(u, "meta"), "location"),
	    BASE "/ResourceTypes/User");
	ASSERT_STR_EQ(jstr(json_object_get(u, "meta"), "resourceType"),
	    "ResourceType");
	json_decref(u);

	u = scim_discovery_resource_type("GROUP", BASE);
	ASSERT_NOT_NULL(u);
	ASSERT_STR_EQ(jstr(u, "endpoint"), "/Groups");
	ASSERT_INT_EQ(json_array_size(json_object_get(u, "schemaExtensions")),
	    0);
	json_decref(u);
	ASSERT_NULL(scim_discovery_resource_type("Widget", BASE));
	ASSERT_NULL(scim_discovery_resource_type(NULL, BASE));
}

static void
test_discovery_schemas(void)
{
	json_t *l, *s, *attrs, *a, *sub;
	size_t i;

	l = scim_discovery_schemas(BASE);
	ASSERT_NOT_NULL(l);
	ASSERT_INT_EQ(json_integer_value(json_object_get(l, "totalResults")),
	    4);
	ASSERT_STR_EQ(jstr(json_array_get(json_object_get(l, "Resources"), 0),
	    "id"), SCIM_SCHEMA_USER);
	ASSERT_STR_EQ(jstr(json_array_get(json_object_get(l, "Resources"), 1),
	    "id"), SCIM_SCHEMA_ENTERPRISE);
	ASSERT_STR_EQ(jstr(json_array_get(json_object_get(l, "Resources"), 2),
	    "id"), SCIM_SCHEMA_PAM);
	ASSERT_STR_EQ(jstr(json_array_get(json_object_get(l, "Resources"), 3),
	    "id"), SCIM_SCHEMA_GROUP);
	json_decref(l);

	s = scim_discovery_schema("urn:ietf:params:scim:schemas:core:2.0:user",
	    BASE);
	ASSERT_NOT_NULL(s);
	ASSERT_STR_EQ(jstr(s, "id"), SCIM_SCHEMA_USER);
	ASSERT_STR_EQ(jstr(s, "name"), "User");
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(s,
	    "schemas"), 0)), SCIM_SCHEMA_SCHEMA);
	ASSERT_STR_EQ(jstr(json_object_get(s, "meta"), "location"),
	    BASE "/Schemas/" SCIM_SCHEMA_USER);
	attrs = json_object_get(s, "attributes");
	/* common attributes are not part of the User schema */
	ASSERT_NULL(find_attr(attrs, "id"));
	a = find_attr(attrs, "userName");
	ASSERT_NOT_NULL(a);
	ASSERT_STR_EQ(jstr(a, "type"), "string");
	ASSERT_STR_EQ(jstr(a, "uniqueness"), "server");
	ASSERT_STR_EQ(jstr(a, "mutability"), "readWrite");
	ASSERT_STR_EQ(jstr(a, "returned"), "default");
	ASSERT_TRUE(json_is_true(json_object_get(a, "required")));
	ASSERT_TRUE(json_is_false(json_object_get(a, "caseExact")));
	ASSERT_TRUE(json_is_false(json_object_get(a, "multiValued")));
	ASSERT_NOT_NULL(jstr(a, "description"));
	a = find_attr(attrs, "password");
	ASSERT_STR_EQ(jstr(a, "mutability"), "writeOnly");
	ASSERT_STR_EQ(jstr(a, "returned"), "never");
	a = find_attr(attrs, "profileUrl");
	ASSERT_STR_EQ(jstr(a, "type"), "reference");
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(a,
	    "referenceTypes"), 0)), "external");
	a = find_attr(attrs, "emails");
	ASSERT_TRUE(json_is_true(json_object_get(a, "multiValued")));
	ASSERT_STR_EQ(jstr(a, "type"), "complex");
	sub = json_object_get(a, "subAttributes");
	ASSERT_INT_EQ(json_array_size(sub), 4);
	a = find_attr(sub, "type");
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(a,
	    "canonicalValues"), 0)), "work");
	a = find_attr(attrs, "groups");
	ASSERT_STR_EQ(jstr(a, "mutability"), "readOnly");
	a = find_attr(json_object_get(a, "subAttributes"), "$ref");
	ASSERT_INT_EQ(json_array_size(json_object_get(a, "referenceTypes")),
	    2);
	/* every attribute carries every §7 field */
	json_array_foreach(attrs, i, a) {
		static const char *const need[] = {
			"name", "type", "multiValued", "description",
			"required", "caseExact", "mutability", "returned",
			"uniqueness",
		};
		size_t k;

		for (k = 0; k < sizeof(need) / sizeof(need[0]); k++)
			if (json_object_get(a, need[k]) == NULL)
				TL_FAIL("%s lacks %s", jstr(a, "name"),
				    need[k]);
	}
	json_decref(s);

	s = scim_discovery_schema(SCIM_SCHEMA_PAM, BASE);
	ASSERT_NOT_NULL(s);
	attrs = json_object_get(s, "attributes");
	a = find_attr(attrs, "riskLevel");
	ASSERT_INT_EQ(json_array_size(json_object_get(a, "canonicalValues")),
	    4);
	a = find_attr(attrs, "maxJitDurationSeconds");
	ASSERT_STR_EQ(jstr(a, "type"), "integer");
	a = find_attr(attrs, "sodTags");
	ASSERT_TRUE(json_is_true(json_object_get(a, "multiValued")));
	json_decref(s);

	s = scim_discovery_schema(SCIM_SCHEMA_GROUP, BASE);
	ASSERT_NOT_NULL(s);
	attrs = json_object_get(s, "attributes");
	a = find_attr(attrs, "displayName");
	ASSERT_STR_EQ(jstr(a, "uniqueness"), "server");
	a = find_attr(attrs, "members");
	a = find_attr(json_object_get(a, "subAttributes"), "value");
	ASSERT_STR_EQ(jstr(a, "mutability"), "immutable");
	json_decref(s);

	ASSERT_NULL(scim_discovery_schema("common", BASE));
	ASSERT_NULL(scim_discovery_schema("urn:nope", BASE));
	ASSERT_NULL(scim_discovery_schema(SCIM_SCHEMA_SPC, BASE));
}

static const struct testlib_case cases[] = {
	{ "resolve_table", test_resolve_table },
	{ "resolve_length", test_resolve_length },
	{ "attr_properties", test_attr_properties },
	{ "lookup", test_lookup },
	{ "tables_sane", test_tables_sane },
	{ "discovery_spc", test_discovery_spc },
	{ "discovery_rtypes", test_discovery_rtypes },
	{ "discovery_schemas", test_discovery_schemas },
};

/* testlib.h's main keeps counters across setjmp (see report) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
TEST_MAIN(cases)
