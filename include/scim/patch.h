#ifndef VB_SCIM_PATCH_H
#define VB_SCIM_PATCH_H

#include <jansson.h>

#include "scim/schema.h"
#include "util/errors.h"

/*
 * The SCIM PATCH engine (RFC 7644 §3.5.2): parses a PatchOp request once
 * into a typed list of operations, then applies it to a stored resource
 * document. Apply works in place on the document it is given; callers
 * give it a copy and throw the copy away on error, so a PATCH is all or
 * nothing.
 *
 * Client quirks accepted (Microsoft Entra ID, Okta): op names in any case
 * ("Replace"), booleans as the strings "True"/"False" for boolean
 * attributes, replace/add without path whose value keys are dotted
 * ("name.givenName") or URN-prefixed ("urn:...:enterprise:2.0:User:
 * employeeNumber"), value-filter paths with a trailing sub-attribute,
 * member removal as path "members[value eq \"id\"]" or as path "members"
 * with a value list, a PATCH value that carries the resource's own "id"
 * (ignored when equal to the current id).
 */

struct scim_patch;

/*
 * Parse a PatchOp body (already parsed JSON) for resource type rt.
 * Checks schemas, op names, paths (via scim_path_parse), value types
 * against the schema, mutability (readOnly attributes -> 400 mutability)
 * and the limits SCIM_PATCH_OPS_MAX / SCIM_MEMBERS_PATCH_MAX.
 * On success *out is owned by the caller (scim_patch_free).
 */
int scim_patch_parse(enum scim_rtype rt, const json_t *body,
    struct scim_patch **out, struct api_error *e) WUR;

void scim_patch_free(struct scim_patch *p);

/* 1 if any operation may touch the Group "members" attribute. */
int scim_patch_touches_members(const struct scim_patch *p);

/*
 * Net member changes of a Group PATCH, computed without loading the
 * current member list. Members are keyed by id (the "value").
 *   replace_all: drop every current member first (replace of the list,
 *                remove of "members" with no filter and no value)
 *   add:        object id -> member object ({"value":..., maybe "type"}),
 *               members to insert (existing ones are left as they are)
 *   remove:     object id -> null, members to delete
 * Later operations win over earlier ones on the same id.
 */
struct scim_member_delta {
	int replace_all;
	json_t *add;
	json_t *remove;
};

#define SCIM_PATCH_F_MEMBER_DELTA	0x1

/*
 * Apply p to doc (a stored document: canonical names, extensions under
 * their URN, no "meta", for Groups "members" present only when loaded).
 * With SCIM_PATCH_F_MEMBER_DELTA (Groups), operations on "members" are
 * not applied to doc but folded into *delta (caller-initialised with
 * scim_member_delta_init); when an operation on members cannot be
 * expressed without the current list (e.g. a filter on "display" or
 * "type", or a sub-attribute replace), returns ERR_NEED_MEMBERS and the
 * caller retries without the flag on a doc that includes "members".
 * Other errors: ERR_INVALID with *e (400 noTarget / invalidValue /
 * mutability / invalidPath), ERR_ALLOC.
 * The resource's "id" and "meta" are never changed.
 */
int scim_patch_apply(const struct scim_patch *p, json_t *doc, int flags,
    struct scim_member_delta *delta, struct api_error *e) WUR;

void scim_member_delta_init(struct scim_member_delta *d);
void scim_member_delta_clear(struct scim_member_delta *d);

#endif
