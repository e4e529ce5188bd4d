#ifndef VB_SCIM_DISCOVERY_H
#define VB_SCIM_DISCOVERY_H

#include <jansson.h>

/*
 * SCIM discovery documents (RFC 7644 §4, RFC 7643 §5-§7), built from the
 * static tables of scim/schema.h. base_url is the SCIM root without a
 * trailing slash, e.g. "http://127.0.0.1:8080/scim/v2" (a trailing '/'
 * is tolerated); it is used for meta.location. Every function returns a
 * new reference owned by the caller (json_decref), or NULL on allocation
 * failure or when the named item is unknown.
 */

/* GET /ServiceProviderConfig. */
json_t *scim_discovery_spc(const char *base_url);

/* GET /ResourceTypes: ListResponse of User and Group. */
json_t *scim_discovery_resource_types(const char *base_url);

/* GET /ResourceTypes/<name>: "User" or "Group" (case-insensitive). */
json_t *scim_discovery_resource_type(const char *name, const char *base_url);

/* GET /Schemas: ListResponse of the core User, enterprise User, PAM User
 * and core Group schemas (the common pseudo-schema is not listed). */
json_t *scim_discovery_schemas(const char *base_url);

/* GET /Schemas/<urn>: one of those schemas (URN case-insensitive). */
json_t *scim_discovery_schema(const char *urn, const char *base_url);

#endif
