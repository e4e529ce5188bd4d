#ifndef VB_SCIM_SCHEMA_H
#define VB_SCIM_SCHEMA_H

#include <stddef.h>

#include "util/errors.h"

/*
 * SCIM schema definitions (RFC 7643 §2, §7) as static tables: core User,
 * enterprise User extension, PAM User extension, Group, and the common
 * attributes (id, externalId, meta). Everything here is static const
 * data owned by schema.c; callers never free it.
 *
 * Stored resource documents use the canonical attribute names of these
 * tables (RFC attribute names are case-insensitive on input) with
 * extension attributes nested under the extension's schema URN, exactly
 * as the SCIM JSON representation does.
 */

#define SCIM_SCHEMA_USER	"urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_SCHEMA_GROUP	"urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_SCHEMA_ENTERPRISE \
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_SCHEMA_PAM		"urn:ietf:params:scim:schemas:extension:pam:2.0:User"
#define SCIM_SCHEMA_LIST	"urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_SCHEMA_ERROR	"urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_SCHEMA_PATCHOP	"urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_SCHEMA_SEARCH	"urn:ietf:params:scim:api:messages:2.0:SearchRequest"
#define SCIM_SCHEMA_BULKREQ	"urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCIM_SCHEMA_BULKRESP	"urn:ietf:params:scim:api:messages:2.0:BulkResponse"
#define SCIM_SCHEMA_SPC \
	"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCIM_SCHEMA_RT		"urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCIM_SCHEMA_SCHEMA	"urn:ietf:params:scim:schemas:core:2.0:Schema"

enum scim_type {
	SCIM_T_STRING, SCIM_T_BOOLEAN, SCIM_T_DECIMAL, SCIM_T_INTEGER,
	SCIM_T_DATETIME, SCIM_T_BINARY, SCIM_T_REFERENCE, SCIM_T_COMPLEX
};

enum scim_mutability {
	SCIM_MUT_READ_WRITE, SCIM_MUT_READ_ONLY, SCIM_MUT_IMMUTABLE,
	SCIM_MUT_WRITE_ONLY
};

enum scim_returned {
	SCIM_RET_DEFAULT, SCIM_RET_ALWAYS, SCIM_RET_NEVER, SCIM_RET_REQUEST
};

enum scim_uniqueness {
	SCIM_UNIQ_NONE, SCIM_UNIQ_SERVER, SCIM_UNIQ_GLOBAL
};

struct scim_attr {
	const char *name;		/* canonical spelling */
	enum scim_type type;
	int multi_valued;
	int required;
	int case_exact;
	enum scim_mutability mutability;
	enum scim_returned returned;
	enum scim_uniqueness uniqueness;
	const char *description;
	const char *const *canonical_values;	/* NULL-terminated or NULL */
	const char *const *reference_types;	/* NULL-terminated or NULL */
	const struct scim_attr *sub;		/* sub-attributes (complex) */
	size_t nsub;
};

struct scim_schema {
	const char *id;			/* URN */
	const char *name;
	const char *description;
	const struct scim_attr *attrs;
	size_t nattrs;
	int is_extension;		/* attrs live under doc[id] */
};

enum scim_rtype { SCIM_RT_USER = 0, SCIM_RT_GROUP = 1 };

struct scim_resource_type {
	enum scim_rtype rtype;
	const char *name;		/* "User" */
	const char *endpoint;		/* "/Users" */
	const char *description;
	const struct scim_schema *schema;	/* core schema */
	const struct scim_schema *const *extensions; /* NULL-terminated */
};

/*
 * A resolved attribute reference. schema is the schema that defines attr
 * (the common pseudo-schema for id/externalId/meta, whose is_extension is
 * 0). sub is NULL when the path names the attribute itself.
 */
struct scim_attr_path {
	const struct scim_schema *schema;
	const struct scim_attr *attr;
	const struct scim_attr *sub;
};

/* The resource type record for rt; never NULL. */
const struct scim_resource_type *scim_schema_rtype(enum scim_rtype rt);

/* Schema by URN (case-insensitive), among all known schemas; or NULL. */
const struct scim_schema *scim_schema_by_id(const char *urn, size_t len);

/* The common-attributes pseudo-schema (id, externalId, meta). */
const struct scim_schema *scim_schema_common(void);

/* 1 if urn (case-insensitive) is the core schema or an extension of rt. */
int scim_schema_allowed(enum scim_rtype rt, const char *urn, size_t len);

/*
 * Resolve an attribute path text such as "userName", "name.givenName",
 * "emails.value", "meta.lastModified", "urn:...:core:2.0:User:userName",
 * "urn:...:enterprise:2.0:User:manager.value" for resource type rt.
 * Names match case-insensitively. A URN prefix must name the core schema
 * or an extension of rt. Returns 0 and fills *out, or ERR_NOT_FOUND.
 * No filters ("[...]") here: see scim/filter.h for those.
 */
int scim_schema_resolve(enum scim_rtype rt, const char *path, size_t len,
    struct scim_attr_path *out) WUR;

/* Sub-attribute of a complex attribute by name (case-insensitive). */
const struct scim_attr *scim_attr_sub(const struct scim_attr *a,
    const char *name, size_t len);

/* Attribute of a schema by name (case-insensitive); NULL if none. */
const struct scim_attr *scim_schema_attr(const struct scim_schema *s,
    const char *name, size_t len);

/* Type name as in RFC 7643 ("string", "boolean", ..., "complex"). */
const char *scim_type_name(enum scim_type t);

#endif
