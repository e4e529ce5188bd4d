#ifndef VB_POLICY_POLICY_H
#define VB_POLICY_POLICY_H

#include <stddef.h>

#include <jansson.h>

#include "util/errors.h"

/*
 * The lifecycle policy: which SCIM groups become safes, how a safe is
 * named, which permissions its members get and how long a deleted safe
 * is kept. It is data, read from the *.json files of one directory
 * (config policy.dir) and validated completely at load; a policy that
 * does not validate is never used (serve refuses to start). The format
 * is documented in README.md ("Policy") and policy/lifecycle.json.
 *
 * A loaded struct policy is immutable: any number of threads may read
 * it at once. Rule pointers stay valid until policy_free().
 */

/*
 * Permission bits of a safe member; a named permission set is a mask of
 * them. Names in policy files: "list" (see the safe and its accounts),
 * "retrieve" (read their secrets), "use" (connect with them without
 * seeing the secret), "manage_members" (add and remove members).
 */
#define POLICY_PERM_LIST		0x1u
#define POLICY_PERM_RETRIEVE		0x2u
#define POLICY_PERM_USE			0x4u
#define POLICY_PERM_MANAGE_MEMBERS	0x8u
#define POLICY_PERM_ALL			0xfu

struct policy;
struct policy_safe_rule;

/*
 * Load every "*.json" file of dir (other names and names starting with
 * '.' are ignored) in byte order of their names, and validate them as
 * one policy: permission sets and rules of all files together, rules in
 * file order then array order. An empty directory is a valid policy
 * with no rules (no group becomes a safe); dir == NULL does the same
 * (policy.dir = ""). A missing directory is an error.
 * 0 and *out (caller frees with policy_free), or ERR_CONFIG (or
 * ERR_ALLOC) with a message "<file>: <json path>: <problem>" in err
 * (size errsz) and *out NULL.
 */
int policy_load_dir(const char *dir, struct policy **out, char *err,
    size_t errsz) WUR;

/* Release p and everything in it; NULL does nothing. */
void policy_free(struct policy *p);

/* Number of safe rules, and of named permission sets. */
size_t policy_nrules(const struct policy *p);
size_t policy_nsets(const struct policy *p);

/* The i-th rule in match order (i < policy_nrules), else NULL. */
const struct policy_safe_rule *policy_rule_at(const struct policy *p,
    size_t i);

/*
 * The rule a group falls under: the first rule whose every match
 * condition holds, or NULL (the group does not become a safe).
 * display_name is compared ASCII case-insensitively (SCIM Group
 * displayName is not case-exact), external_id exactly. Either may be
 * NULL; a condition on a NULL attribute does not hold. The rule is
 * owned by p.
 */
const struct policy_safe_rule *policy_match_group(const struct policy *p,
    const char *display_name, const char *external_id);

/*
 * The safe name for a group with display_name under rule r, written
 * NUL-terminated to out: strip the matched prefix (name.strip_prefix),
 * map ASCII case (name.case), then every run of bytes outside
 * name.allowed (any non-ASCII character is outside) becomes one
 * name.replace_other character (or nothing when that is ""), never at
 * the start or the end and never next to the same character; then the
 * name is cut to name.max_length bytes without leaving a replacement at
 * its end. The result is ASCII.
 * 0; ERR_INVALID when no name results (empty, or r/display_name NULL);
 * ERR_TOO_LARGE when outsz < name.max_length + 1 (out is "" then).
 * POLICY_SAFE_NAME_MAX + 1 bytes is always enough.
 */
int policy_safe_name(const struct policy_safe_rule *r,
    const char *display_name, char *out, size_t outsz) WUR;

/* The rule's id (unique in the policy; for logs and decisions). */
const char *policy_rule_id(const struct policy_safe_rule *r);

/* The POLICY_PERM_* mask of the rule's permission set, and its name. */
unsigned policy_rule_permissions(const struct policy_safe_rule *r);
const char *policy_rule_permission_set(const struct policy_safe_rule *r);

/* Days a safe whose group is deleted is kept before it is purged. */
unsigned policy_rule_retention_days(const struct policy_safe_rule *r);

/*
 * The mask of the permission set called name: 0 and *mask, or
 * ERR_NOT_FOUND.
 */
int policy_permission_set(const struct policy *p, const char *name,
    unsigned *mask) WUR;

/*
 * Name of one permission bit ("list", ...) or NULL when perm is not
 * exactly one POLICY_PERM_* bit. Static storage.
 */
const char *policy_perm_name(unsigned perm);

/*
 * The bits of perms as a new JSON array of names (["list", "retrieve"]),
 * in bit order; a bit without a name appears as "0x<hex>". NULL when
 * out of memory. The caller owns the reference.
 */
json_t *policy_perms_json(unsigned perms);

#endif
