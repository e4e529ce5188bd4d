#include "scim/discovery.h"

#include <string.h>
#include <strings.h>

#include "scim/schema.h"
#include "util/bounds.h"
#include "util/strutil.h"

/* All objects are built with set_new(); a NULL value or a failed set marks
 * the whole build failed, checked once at the end. */
struct jb {
	int failed;
};

static void
jset(struct jb *b, json_t *o, const char *key, json_t *v)
{
	/* set_new() releases v on every failure, NULL o included */
	if (json_object_set_new(o, key, v) != 0)
		b->failed = 1;
}

static void
jpush(struct jb *b, json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) != 0)
		b->failed = 1;
}

/* base_url without trailing slashes, as a length for "%.*s". */
static int
base_len(const char *base_url)
{
	size_t n = strlen(base_url);

	while (n > 0 && base_url[n - 1] == '/')
		n--;
	if (n > HTTP_PATH_MAX * 2)
		n = HTTP_PATH_MAX * 2;
	return (int)n;
}

static json_t *
meta_new(struct jb *b, const char *rtype, const char *base_url,
    const char *p1, const char *p2)
{
	json_t *m = json_object();

	jset(b, m, "resourceType", json_string(rtype));
	if (p2 != NULL)
		jset(b, m, "location", json_sprintf("%.*s/%s/%s",
		    base_len(base_url), base_url, p1, p2));
	else
		jset(b, m, "location", json_sprintf("%.*s/%s",
		    base_len(base_url), base_url, p1));
	return m;
}

static json_t *
str_list(struct jb *b, const char *const *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		jpush(b, a, json_string(v[i]));
	return a;
}

static const char *
mutability_name(enum scim_mutability m)
{
	switch (m) {
	case SCIM_MUT_READ_WRITE: return "readWrite";
	case SCIM_MUT_READ_ONLY: return "readOnly";
	case SCIM_MUT_IMMUTABLE: return "immutable";
	case SCIM_MUT_WRITE_ONLY: return "writeOnly";
	}
	return "readWrite";
}

static const char *
returned_name(enum scim_returned r)
{
	switch (r) {
	case SCIM_RET_DEFAULT: return "default";
	case SCIM_RET_ALWAYS: return "always";
	case SCIM_RET_NEVER: return "never";
	case SCIM_RET_REQUEST: return "request";
	}
	return "default";
}

static const char *
uniqueness_name(enum scim_uniqueness u)
{
	switch (u) {
	case SCIM_UNIQ_NONE: return "none";
	case SCIM_UNIQ_SERVER: return "server";
	case SCIM_UNIQ_GLOBAL: return "global";
	}
	return "none";
}

/* RFC 7643 §7 attribute definition; sub-attributes one level deep. */
static json_t *
attr_json(struct jb *b, const struct scim_attr *a)
{
	json_t *o = json_object(), *subs;
	size_t i;

	jset(b, o, "name", json_string(a->name));
	jset(b, o, "type", json_string(scim_type_name(a->type)));
	jset(b, o, "multiValued", json_boolean(a->multi_valued));
	jset(b, o, "description", json_string(a->description != NULL ?
	    a->description : ""));
	jset(b, o, "required", json_boolean(a->required));
	if (a->type == SCIM_T_STRING || a->type == SCIM_T_REFERENCE ||
	    a->type == SCIM_T_BINARY || a->type == SCIM_T_DATETIME)
		jset(b, o, "caseExact", json_boolean(a->case_exact));
	else
		jset(b, o, "caseExact", json_false());
	if (a->canonical_values != NULL)
		jset(b, o, "canonicalValues", str_list(b, a->canonical_values));
	if (a->type == SCIM_T_REFERENCE)
		jset(b, o, "referenceTypes", str_list(b, a->reference_types));
	jset(b, o, "mutability", json_string(mutability_name(a->mutability)));
	jset(b, o, "returned", json_string(returned_name(a->returned)));
	jset(b, o, "uniqueness", json_string(uniqueness_name(a->uniqueness)));
	if (a->type == SCIM_T_COMPLEX) {
		subs = json_array();
		for (i = 0; i < a->nsub; i++)
			jpush(b, subs, attr_json(b, &a->sub[i]));
		jset(b, o, "subAttributes", subs);
	}
	return o;
}

static json_t *
schema_json(struct jb *b, const struct scim_schema *s, const char *base_url)
{
	json_t *o = json_object(), *attrs = json_array(), *sch = json_array();
	size_t i;

	jpush(b, sch, json_string(SCIM_SCHEMA_SCHEMA));
	jset(b, o, "schemas", sch);
	jset(b, o, "id", json_string(s->id));
	jset(b, o, "name", json_string(s->name));
	jset(b, o, "description", json_string(s->description));
	for (i = 0; i < s->nattrs; i++)
		jpush(b, attrs, attr_json(b, &s->attrs[i]));
	jset(b, o, "attributes", attrs);
	jset(b, o, "meta", meta_new(b, "Schema", base_url, "Schemas", s->id));
	return o;
}

static json_t *
rtype_json(struct jb *b, const struct scim_resource_type *t,
    const char *base_url)
{
	json_t *o = json_object(), *exts = json_array(), *sch = json_array();
	json_t *x;
	size_t i;

	jpush(b, sch, json_string(SCIM_SCHEMA_RT));
	jset(b, o, "schemas", sch);
	jset(b, o, "id", json_string(t->name));
	jset(b, o, "name", json_string(t->name));
	jset(b, o, "endpoint", json_string(t->endpoint));
	jset(b, o, "description", json_string(t->description));
	jset(b, o, "schema", json_string(t->schema->id));
	for (i = 0; t->extensions[i] != NULL; i++) {
		x = json_object();
		jset(b, x, "schema", json_string(t->extensions[i]->id));
		jset(b, x, "required", json_false());
		jpush(b, exts, x);
	}
	jset(b, o, "schemaExtensions", exts);
	jset(b, o, "meta", meta_new(b, "ResourceType", base_url,
	    "ResourceTypes", t->name));
	return o;
}

/* Wrap a built array in a ListResponse (RFC 7644 §3.4.2). Consumes arr. */
static json_t *
list_response(struct jb *b, json_t *arr)
{
	json_t *o = json_object(), *sch = json_array();
	size_t n = arr != NULL ? json_array_size(arr) : 0;

	jpush(b, sch, json_string(SCIM_SCHEMA_LIST));
	jset(b, o, "schemas", sch);
	jset(b, o, "totalResults", json_integer((json_int_t)n));
	jset(b, o, "itemsPerPage", json_integer((json_int_t)n));
	jset(b, o, "startIndex", json_integer(1));
	jset(b, o, "Resources", arr);
	return o;
}

static json_t *
finish(struct jb *b, json_t *o)
{
	if (b->failed || o == NULL) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
supported(struct jb *b, int yes)
{
	json_t *o = json_object();

	jset(b, o, "supported", json_boolean(yes));
	return o;
}

json_t *
scim_discovery_spc(const char *base_url)
{
	struct jb b = { 0 };
	json_t *o, *sch, *x, *auth, *bulk, *filter;

	if (base_url == NULL)
		return NULL;
	o = json_object();
	sch = json_array();
	jpush(&b, sch, json_string(SCIM_SCHEMA_SPC));
	jset(&b, o, "schemas", sch);
	jset(&b, o, "documentationUri",
	    json_string("https://www.rfc-editor.org/rfc/rfc7644"));
	jset(&b, o, "patch", supported(&b, 1));
	bulk = supported(&b, 1);
	jset(&b, bulk, "maxOperations", json_integer(SCIM_BULK_OPS_MAX));
	jset(&b, bulk, "maxPayloadSize", json_integer(SCIM_BULK_PAYLOAD_MAX));
	jset(&b, o, "bulk", bulk);
	filter = supported(&b, 1);
	jset(&b, filter, "maxResults", json_integer(SCIM_LIST_COUNT_MAX));
	jset(&b, o, "filter", filter);
	jset(&b, o, "changePassword", supported(&b, 0));
	jset(&b, o, "sort", supported(&b, 1));
	jset(&b, o, "etag", supported(&b, 1));
	auth = json_array();
	x = json_object();
	jset(&b, x, "type", json_string("oauthbearertoken"));
	jset(&b, x, "name", json_string("OAuth Bearer Token"));
	jset(&b, x, "description", json_string("Authentication with an "
	    "opaque bearer token in the Authorization header (RFC 6750), "
	    "issued by the vaultbridge token command."));
	jset(&b, x, "specUri",
	    json_string("https://www.rfc-editor.org/rfc/rfc6750"));
	jset(&b, x, "primary", json_true());
	jpush(&b, auth, x);
	jset(&b, o, "authenticationSchemes", auth);
	jset(&b, o, "meta", meta_new(&b, "ServiceProviderConfig", base_url,
	    "ServiceProviderConfig", NULL));
	return finish(&b, o);
}

json_t *
scim_discovery_resource_types(const char *base_url)
{
	struct jb b = { 0 };
	json_t *arr;

	if (base_url == NULL)
		return NULL;
	arr = json_array();
	jpush(&b, arr, rtype_json(&b, scim_schema_rtype(SCIM_RT_USER),
	    base_url));
	jpush(&b, arr, rtype_json(&b, scim_schema_rtype(SCIM_RT_GROUP),
	    base_url));
	return finish(&b, list_response(&b, arr));
}

json_t *
scim_discovery_resource_type(const char *name, const char *base_url)
{
	struct jb b = { 0 };
	const struct scim_resource_type *t;

	if (name == NULL || base_url == NULL)
		return NULL;
	if (strcasecmp(name, "User") == 0)
		t = scim_schema_rtype(SCIM_RT_USER);
	else if (strcasecmp(name, "Group") == 0)
		t = scim_schema_rtype(SCIM_RT_GROUP);
	else
		return NULL;
	return finish(&b, rtype_json(&b, t, base_url));
}

static const char *const listed_schemas[] = {
	SCIM_SCHEMA_USER, SCIM_SCHEMA_ENTERPRISE, SCIM_SCHEMA_PAM,
	SCIM_SCHEMA_GROUP,
};

json_t *
scim_discovery_schemas(const char *base_url)
{
	struct jb b = { 0 };
	const struct scim_schema *s;
	json_t *arr;
	size_t i;

	if (base_url == NULL)
		return NULL;
	arr = json_array();
	for (i = 0; i < sizeof(listed_schemas) / sizeof(listed_schemas[0]);
	    i++) {
		s = scim_schema_by_id(listed_schemas[i],
		    strlen(listed_schemas[i]));
		if (s == NULL)
			b.failed = 1;
		else
			jpush(&b, arr, schema_json(&b, s, base_url));
	}
	return finish(&b, list_response(&b, arr));
}

json_t *
scim_discovery_schema(const char *urn, const char *base_url)
{
	struct jb b = { 0 };
	const struct scim_schema *s;

	if (urn == NULL || base_url == NULL)
		return NULL;
	if ((s = scim_schema_by_id(urn, strlen(urn))) == NULL)
		return NULL;
	return finish(&b, schema_json(&b, s, base_url));
}
