#ifndef VB_SYNC_RECONCILE_H
#define VB_SYNC_RECONCILE_H

#include <jansson.h>

#include "util/errors.h"

/*
 * Reconciliation: compare intended access (SCIM state + policy: the
 * bindings, their members and permission masks) with what the backend
 * actually has (list_safes, list_members) and report drift:
 *   safe_missing     an active binding has no safe in the backend
 *   safe_name        the safe has another name
 *   safe_not_frozen  a frozen binding's safe still has members / is active
 *   safe_unmanaged   a backend safe no binding knows (reported only)
 *   member_missing   an intended member is absent
 *   member_extra     a backend member is not intended
 *   member_perms     the member's permission mask differs
 * A (safe, user) with a pending job is in flight and skipped (counted).
 * Bindings are first re-derived from the current policy (a policy change
 * takes effect here). Repair enqueues corrective jobs (origin
 * "reconcile") in one transaction; the workers apply them in order with
 * everything else. dry_run reports without writing anything.
 */

struct app;

/*
 * Run a reconciliation; *report (caller frees with json_decref):
 * {"dry_run":bool, "safes_checked":n, "in_flight":n,
 *  "drift":[{"kind":..., "safe_ref":..., "safe":..., "user_ref":...,
 *            "user":..., "intended":..., "actual":..., "job_id":n?}],
 *  "jobs_enqueued":n}
 * 0, ERR_DB_UNAVAILABLE (bridge or backend unreachable), ERR_ALLOC.
 */
int reconcile_run(struct app *app, int dry_run, json_t **report) WUR;

#endif
