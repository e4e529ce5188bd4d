#ifndef VB_SCIM_RESOURCE_H
#define VB_SCIM_RESOURCE_H

#include <stddef.h>

#include <jansson.h>

#include "scim/schema.h"
#include "util/errors.h"

/*
 * SCIM resource representations: the one place where a client's User or
 * Group JSON (POST, PUT, Bulk) is checked and turned into a stored
 * document, and where a stored document is turned back into what a
 * client sees.
 *
 * Stored document: a JSON object with canonical attribute names (as in
 * scim/schema.h), extension attributes nested under their URN, and none
 * of: "schemas", "id", "meta", "password", User "groups". A Group's
 * "members" array ([{"value": id, "type": "User"|"Group",
 * "display"?: ...}]) is present in the result of scim_resource_parse;
 * the caller moves it into the membership table.
 */

/*
 * Check and normalise in (a POST/PUT body or Bulk "data") for type rt.
 * Policy, decided once here:
 *  - "schemas" must be present, an array of strings, contain the core
 *    schema; every URN must be the core schema or an extension of rt
 *    (else 400 invalidValue). Extension attributes need their URN listed.
 *  - unknown attributes (core or extension) -> 400 invalidSyntax naming
 *    the attribute; names match case-insensitively.
 *  - readOnly attributes sent by the client (id, meta, groups, ...) are
 *    ignored (RFC 7644 §3.3); "password" is accepted and dropped.
 *  - types are checked against the schema (wrong type -> 400
 *    invalidValue); boolean attributes also accept the strings "True" /
 *    "False" (any case, Microsoft Entra ID); dateTime must be xsd:dateTime;
 *    integer must be integral; canonical values are not enforced.
 *  - required attributes (User userName, Group displayName) present and
 *    non-empty; strings valid UTF-8 within bounds.h limits; multi-valued
 *    attributes arrays of at most SCIM_MULTI_MAX (members: at most
 *    SCIM_MEMBERS_PATCH_MAX) values with at most one "primary": true.
 *  - Group members: each an object with a uuid "value"; duplicates folded.
 *  - null values are treated as absent (RFC 7643 §2.5).
 * On success *docp is a new reference owned by the caller.
 */
int scim_resource_parse(enum scim_rtype rt, const json_t *in, json_t **docp,
    struct api_error *e) WUR;

/* What the server knows about a stored resource besides its document. */
struct scim_meta {
	const char *id;			/* uuid */
	const char *created;		/* xsd:dateTime, UTC */
	const char *last_modified;	/* xsd:dateTime, UTC */
	long long version;		/* ETag is W/"<version>" */
	const char *base_url;		/* e.g. "https://h:8443/scim/v2" */
};

/* Parsed "attributes" / "excludedAttributes" (RFC 7644 §3.4.2.5). */
struct scim_projection;

/*
 * Parse the comma-separated attribute lists (either may be NULL or "").
 * Unknown names -> 400 invalidValue... except that RFC clients may ask
 * for attributes we do not hold, so unknown names are ignored; a list
 * longer than SCIM_ATTRS_PARAM_MAX names -> 400 invalidValue. Both given
 * at once -> 400 invalidSyntax. *out owned by caller; NULL input lists
 * give a projection that returns defaults.
 */
int scim_projection_parse(enum scim_rtype rt, const char *attributes,
    const char *excluded, struct scim_projection **out,
    struct api_error *e) WUR;

void scim_projection_free(struct scim_projection *p);

/* 1 if the projection would return Group "members" (so the caller must
 * load them); 0 if members are excluded or not asked for. */
int scim_projection_wants(const struct scim_projection *p,
    const char *attr_name);

/*
 * Client representation of a stored document: adds "schemas" (core plus
 * the extensions present), "id", "meta" {resourceType, created,
 * lastModified, version, location}; for Users "groups" from groups (an
 * array of {"value","display","$ref","type"} or NULL); for Groups the
 * doc's "members" (with "$ref" added). Applies returned rules (never ->
 * dropped, always -> kept) and the projection (NULL = defaults).
 * Returns a new reference, or NULL on allocation failure.
 */
json_t *scim_resource_render(enum scim_rtype rt, const json_t *doc,
    const struct scim_meta *meta, const json_t *groups,
    const struct scim_projection *proj);

/* W/"<version>" into out (size >= 32). */
void scim_etag(long long version, char *out, size_t outsz);

/*
 * Parse an If-Match / If-None-Match header value: "*" -> *any = 1;
 * otherwise a list of (weak or strong) entity tags; returns 1 if one of
 * them names version, else 0. Garbage -> 0.
 */
int scim_etag_matches(const char *header, long long version, int *any);

#endif
