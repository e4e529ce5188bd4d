#ifndef VB_APP_SYNC_API_H
#define VB_APP_SYNC_API_H

#include "http/request.h"

/*
 * Sync HTTP API (JSON, SCOPE_ADMIN; errors as {"error","detail"}):
 *
 *   GET  /admin/sync/jobs?state=dead|pending|done|cancelled
 *        &before=ID&limit=N     jobs, newest first (dead letter list:
 *                               state=dead, the default)
 *   GET  /admin/sync/jobs/{id}  one job
 *   POST /admin/sync/jobs/{id}/retry   re-enqueue a dead job (new id)
 *   GET  /admin/sync/stats      pending, due, dead, done, oldest due age
 *   POST /admin/reconcile?dry_run=true|false   drift report (and repair)
 *   GET  /metrics               Prometheus text: outbox gauges and the
 *                               workers' counters
 *                               (vaultbridge_sync_jobs_total{outcome},
 *                               _sync_batches_total, _sync_workers)
 */

int sync_h_jobs_list(const struct request *req, struct response *resp);
int sync_h_job_get(const struct request *req, struct response *resp);
int sync_h_job_retry(const struct request *req, struct response *resp);
int sync_h_stats(const struct request *req, struct response *resp);
int sync_h_reconcile(const struct request *req, struct response *resp);
int sync_h_metrics(const struct request *req, struct response *resp);

#endif
