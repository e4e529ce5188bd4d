#ifndef VB_SYNC_LIFECYCLE_H
#define VB_SYNC_LIFECYCLE_H

#include "util/errors.h"

/*
 * Lifecycle mapping: the policy decides which SCIM Groups are safes.
 * Called by the SCIM write paths inside their transaction, holding the
 * group's row lock, AFTER the group's document and members are written.
 * It computes the binding from the policy and writes it (db/outbox.h);
 * the database triggers derive the jobs. Membership and user "active"
 * changes need no call: triggers see them.
 */

struct db_conn;
struct policy;

/*
 * The group was created or changed. Matching a rule: binding created,
 * renamed, re-permissioned or unfrozen as needed. Not matching (any
 * more): an active binding is frozen. policy may be NULL (no rules).
 * ERR_INVALID with *e (400 invalidValue) when the group matches a rule
 * but its displayName gives no valid safe name.
 */
int lifecycle_group_written(struct db_conn *c, const struct policy *p,
    const char *group_id, const char *display_name, const char *external_id,
    int *is_safe, struct api_error *e) WUR;

/* The group is about to be deleted (call before the DELETE): its
 * binding is frozen. */
int lifecycle_group_deleting(struct db_conn *c, const char *group_id,
    int *is_safe) WUR;

/*
 * *is_safe (may be NULL) gets 1 when the group is a safe or has just
 * stopped being one: the transaction may have written jobs, so after
 * its commit the caller wakes the workers (sync_workers_kick).
 */

#endif
