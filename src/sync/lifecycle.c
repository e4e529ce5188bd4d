#include "sync/lifecycle.h"

#include <stdio.h>
#include <string.h>

#include "db/outbox.h"
#include "policy/policy.h"
#include "util/bounds.h"
#include "util/log.h"

/*
 * Policy -> binding. Only the binding is written here; the triggers of
 * sql/0004_sync.sql turn its changes (and membership and "active"
 * changes) into jobs in the caller's transaction.
 */

int
lifecycle_group_written(struct db_conn *c, const struct policy *p,
    const char *group_id, const char *display_name, const char *external_id,
    int *is_safe, struct api_error *e)
{
	const struct policy_safe_rule *rule = NULL;
	struct db_binding want, cur;
	int r;

	if (is_safe != NULL)
		*is_safe = 0;
	if (p != NULL)
		rule = policy_match_group(p, display_name, external_id);
	if (rule == NULL) {
		/* not (or no longer) a safe: an active binding freezes */
		return db_binding_freeze(c, group_id, is_safe);
	}
	if (is_safe != NULL)
		*is_safe = 1;
	memset(&want, 0, sizeof(want));
	if (policy_safe_name(rule, display_name, want.safe_name,
	    sizeof(want.safe_name)) != 0)
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "displayName \"%.100s\" gives no valid safe name under "
		    "policy rule \"%s\"", display_name != NULL ?
		    display_name : "", policy_rule_id(rule));
	snprintf(want.group_id, sizeof(want.group_id), "%s", group_id);
	snprintf(want.rule_id, sizeof(want.rule_id), "%s",
	    policy_rule_id(rule));
	want.perms = policy_rule_permissions(rule);
	want.retention_days = policy_rule_retention_days(rule);

	r = db_binding_get(c, group_id, &cur);
	if (r != 0 && r != ERR_NOT_FOUND)
		return r;
	if (r == 0 && !cur.frozen && strcmp(cur.safe_name,
	    want.safe_name) == 0 && strcmp(cur.rule_id, want.rule_id) == 0 &&
	    cur.perms == want.perms &&
	    cur.retention_days == want.retention_days)
		return 0;
	if ((r = db_binding_put(c, &want)) == ERR_CONFLICT) {
		api_error_set(e, 409, SCIM_ET_UNIQUENESS, "safe name \"%s\" "
		    "(from displayName \"%.100s\") is already the safe of "
		    "another group", want.safe_name, display_name != NULL ?
		    display_name : "");
		return ERR_CONFLICT;
	}
	if (r != 0)
		return r;
	log_info("safe binding %s group=%s safe=%s rule=%s perms=%u",
	    cur.group_id[0] == '\0' ? "created" : "updated",
	    group_id, want.safe_name, want.rule_id, want.perms);
	return 0;
}

int
lifecycle_group_deleting(struct db_conn *c, const char *group_id,
    int *is_safe)
{
	return db_binding_freeze(c, group_id, is_safe);
}
