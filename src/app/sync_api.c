#include "app/sync_api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/app.h"
#include "db/outbox.h"
#include "db/pool.h"
#include "policy/policy.h"
#include "sync/reconcile.h"
#include "sync/worker.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"

/* Prometheus text exposition format 0.0.4 */
#define SA_CT_PROM	"text/plain; version=0.0.4; charset=utf-8"

#define SA_LIST_DEFAULT	100
#define SA_LIST_MAX	1000
#define SA_ID_MAX	((uint64_t)INT64_MAX)

static const char *
sa_nz(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

/* A job as JSON; NULL on allocation failure. */
static json_t *
sa_job_json(const struct sync_job *j)
{
	json_t *o, *perms;

	if ((perms = policy_perms_json(j->perms)) == NULL)
		return NULL;
	o = json_pack("{sI ss ss ss? ss? ss? ss? si ss ss ss? ss? ss}",
	    "id", (json_int_t)j->id, "op", sync_op_name(j->op),
	    "state", sync_state_name(j->state),
	    "safe_ref", sa_nz(j->safe_ref), "safe", sa_nz(j->safe_name),
	    "user_ref", sa_nz(j->user_ref), "user", sa_nz(j->user_name),
	    "attempts", j->attempts, "created", j->created,
	    "not_before", j->not_before, "finished", sa_nz(j->finished),
	    "last_error", sa_nz(j->last_error), "origin", j->origin);
	if (o == NULL) {
		json_decref(perms);
		return NULL;
	}
	if (json_object_set_new(o, "perms", perms) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Answer status with j as the body (j is released). */
static int
sa_reply(struct response *resp, int status, json_t *j)
{
	char *text = NULL;
	int r = ERR_ALLOC;

	if (j == NULL || (text = json_dumps(j, JSON_COMPACT)) == NULL)
		goto out;
	buf_reset(&resp->body);
	buf_puts(&resp->body, text);
	if (buf_failed(&resp->body))
		goto out;
	resp->status = status;
	resp->content_type = CT_JSON;
	r = 0;
out:
	free(text);
	json_decref(j);
	return r;
}

static int
sa_bad(struct response *resp, const char *detail)
{
	response_json_error(resp, 400, "bad_parameter", detail);
	return 0;
}

/* 1 if every query parameter is one of names (NULL-terminated) and
 * none repeats; else answers 400 and returns 0. */
static int
sa_query_ok(const struct request *req, struct response *resp,
    const char *const *names)
{
	char detail[128];
	size_t i, j, k;

	for (i = 0; i < req->nquery && i < HTTP_QUERY_PARAMS_MAX; i++) {
		if (req->query[i].name == NULL) {
			sa_bad(resp, "bad query parameter");
			return 0;
		}
		for (k = 0; names[k] != NULL; k++) {
			if (strcmp(req->query[i].name, names[k]) == 0)
				break;
		}
		if (names[k] == NULL) {
			snprintf(detail, sizeof(detail), "unknown query "
			    "parameter '%.40s'", req->query[i].name);
			sa_bad(resp, detail);
			return 0;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(req->query[j].name, names[k]) == 0) {
				snprintf(detail, sizeof(detail), "query "
				    "parameter '%s' given twice", names[k]);
				sa_bad(resp, detail);
				return 0;
			}
		}
	}
	return 1;
}

/* The {id} of the path as a job id; answers 400 and returns 0 if bad. */
static int
sa_path_id(const struct request *req, struct response *resp, long long *id)
{
	uint64_t v;

	if (req->params[0] == NULL ||
	    parse_u64(req->params[0], 1, SA_ID_MAX, &v) != 0) {
		sa_bad(resp, "job id must be a positive integer");
		return 0;
	}
	*id = (long long)v;
	return 1;
}

int
sync_h_jobs_list(const struct request *req, struct response *resp)
{
	static const char *const names[] = { "state", "before", "limit",
	    NULL };
	struct db_conn *c = NULL;
	struct sync_job *jobs = NULL, *more = NULL;
	enum sync_state state = SYNC_DEAD;
	json_t *out = NULL, *arr = NULL, *jj;
	const char *s;
	uint64_t before = 0, limit = SA_LIST_DEFAULT;
	size_t n = 0, nmore = 0, i;
	long long next = 0;
	int r;

	if (!sa_query_ok(req, resp, names))
		return 0;
	if ((s = request_query(req, "state")) != NULL &&
	    sync_state_parse(s, &state) != 0)
		return sa_bad(resp, "state must be pending, done, dead or "
		    "cancelled");
	if ((s = request_query(req, "before")) != NULL &&
	    parse_u64(s, 1, SA_ID_MAX, &before) != 0)
		return sa_bad(resp, "before must be a positive job id");
	if ((s = request_query(req, "limit")) != NULL &&
	    parse_u64(s, 1, SA_LIST_MAX, &limit) != 0)
		return sa_bad(resp, "limit must be 1..1000");
	if ((r = db_acquire(req->app->pool, &c)) != 0)
		goto out;
	if ((r = db_outbox_list(c, state, (long long)before,
	    (unsigned)limit, &jobs, &n)) != 0)
		goto out;
	/* a full page: is there anything older? */
	if (n > 0 && n == limit) {
		if ((r = db_outbox_list(c, state, jobs[n - 1].id, 1, &more,
		    &nmore)) != 0)
			goto out;
		next = nmore > 0 ? jobs[n - 1].id : 0;
	}
	r = ERR_ALLOC;
	if ((out = json_object()) == NULL || (arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((jj = sa_job_json(&jobs[i])) == NULL ||
		    json_array_append_new(arr, jj) != 0)
			goto out;
	}
	if (json_object_set_new(out, "jobs", arr) != 0) {
		arr = NULL;
		goto out;
	}
	arr = NULL;
	if (json_object_set_new(out, "next_before", next > 0 ?
	    json_integer(next) : json_null()) != 0)
		goto out;
	r = sa_reply(resp, 200, out);
	out = NULL;
out:
	db_release(req->app->pool, c);
	json_decref(arr);
	json_decref(out);
	free(jobs);
	free(more);
	return r;
}

int
sync_h_job_get(const struct request *req, struct response *resp)
{
	static const char *const names[] = { NULL };
	struct db_conn *c = NULL;
	struct sync_job j;
	long long id;
	int r;

	if (!sa_query_ok(req, resp, names) || !sa_path_id(req, resp, &id))
		return 0;
	if ((r = db_acquire(req->app->pool, &c)) != 0)
		goto out;
	r = db_outbox_get(c, id, &j);
	if (r == ERR_NOT_FOUND) {
		response_json_error(resp, 404, "not_found", "no such job");
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	r = sa_reply(resp, 200, sa_job_json(&j));
out:
	db_release(req->app->pool, c);
	return r;
}

int
sync_h_job_retry(const struct request *req, struct response *resp)
{
	static const char *const names[] = { NULL };
	struct db_conn *c = NULL;
	struct sync_job j;
	long long id, new_id = 0;
	int r, txn = 0;

	if (!sa_query_ok(req, resp, names) || !sa_path_id(req, resp, &id))
		return 0;
	if ((r = db_acquire(req->app->pool, &c)) != 0 ||
	    (r = db_begin(c)) != 0)
		goto out;
	txn = 1;
	r = db_outbox_get(c, id, &j);
	if (r == ERR_NOT_FOUND) {
		response_json_error(resp, 404, "not_found", "no such job");
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	if (j.state != SYNC_DEAD) {
		response_json_error(resp, 409, "not_dead", "only a dead job "
		    "can be retried");
		r = 0;
		goto out;
	}
	r = db_outbox_requeue(c, id, &new_id);
	if (r == ERR_CONFLICT) {
		response_json_error(resp, 409, "superseded", "a later job "
		    "for the same safe and user exists; retrying this one "
		    "would undo it");
		r = 0;
		goto out;
	}
	if (r == ERR_NOT_FOUND) {
		/* another operator retried it first */
		response_json_error(resp, 409, "not_dead", "only a dead job "
		    "can be retried");
		r = 0;
		goto out;
	}
	if (r != 0 || (r = db_outbox_get(c, new_id, &j)) != 0 ||
	    (r = db_outbox_notify(c)) != 0 || (r = db_commit(c)) != 0)
		goto out;
	txn = 0;
	log_info("sync job retried rid=%s job=%lld new_job=%lld token=%s",
	    req->request_id, id, new_id, req->who.token_name);
	snprintf(resp->location, sizeof(resp->location),
	    "%s/admin/sync/jobs/%lld", req->base_url != NULL ?
	    req->base_url : "", new_id);
	r = sa_reply(resp, 201, sa_job_json(&j));
out:
	if (txn)
		db_rollback(c);
	db_release(req->app->pool, c);
	return r;
}

int
sync_h_stats(const struct request *req, struct response *resp)
{
	static const char *const names[] = { NULL };
	struct db_conn *c = NULL;
	struct outbox_stats st;
	int r;

	if (!sa_query_ok(req, resp, names))
		return 0;
	if ((r = db_acquire(req->app->pool, &c)) != 0 ||
	    (r = db_outbox_stats(c, &st)) != 0)
		goto out;
	r = sa_reply(resp, 200, json_pack("{sI sI sI sI sf}",
	    "pending", (json_int_t)st.pending, "due", (json_int_t)st.due,
	    "dead", (json_int_t)st.dead, "done", (json_int_t)st.done,
	    "oldest_due_seconds", st.oldest_due_s));
out:
	db_release(req->app->pool, c);
	return r;
}

int
sync_h_reconcile(const struct request *req, struct response *resp)
{
	static const char *const names[] = { "dry_run", NULL };
	json_t *report = NULL;
	const char *s;
	int dry_run = 1, r;

	if (!sa_query_ok(req, resp, names))
		return 0;
	/* repairing must be asked for: no parameter is a dry run */
	if ((s = request_query(req, "dry_run")) != NULL) {
		if (strcmp(s, "true") == 0)
			dry_run = 1;
		else if (strcmp(s, "false") == 0)
			dry_run = 0;
		else
			return sa_bad(resp, "dry_run must be true or false");
	}
	log_info("reconcile requested rid=%s dry_run=%d token=%s",
	    req->request_id, dry_run, req->who.token_name);
	if ((r = reconcile_run(req->app, dry_run, &report)) != 0)
		return r;
	return sa_reply(resp, 200, report);
}

int
sync_h_metrics(const struct request *req, struct response *resp)
{
	static const char *const names[] = { NULL };
	struct db_conn *c = NULL;
	struct outbox_stats st;
	struct sync_counters sc;
	struct buf *b = &resp->body;
	unsigned open = 0, busy = 0;
	int up = 0;

	if (!sa_query_ok(req, resp, names))
		return 0;
	/* the pool as it is before this scrape borrows a connection */
	db_pool_stats(req->app->pool, &open, &busy);
	memset(&st, 0, sizeof(st));
	/* a scrape still answers while the database is down: the
	 * outbox gauges are left out and vaultbridge_db_up says why */
	if (db_acquire(req->app->pool, &c) == 0 &&
	    db_outbox_stats(c, &st) == 0)
		up = 1;
	db_release(req->app->pool, c);
	buf_reset(b);
	if (up) {
		buf_printf(b, "# HELP vaultbridge_sync_jobs Outbox jobs by "
		    "state (due: pending and due now).\n"
		    "# TYPE vaultbridge_sync_jobs gauge\n"
		    "vaultbridge_sync_jobs{state=\"pending\"} %lld\n"
		    "vaultbridge_sync_jobs{state=\"due\"} %lld\n"
		    "vaultbridge_sync_jobs{state=\"dead\"} %lld\n"
		    "vaultbridge_sync_jobs{state=\"done\"} %lld\n",
		    st.pending, st.due, st.dead, st.done);
		buf_printf(b, "# HELP vaultbridge_sync_oldest_due_seconds "
		    "Age of the oldest due job, 0 when none.\n"
		    "# TYPE vaultbridge_sync_oldest_due_seconds gauge\n"
		    "vaultbridge_sync_oldest_due_seconds %.3f\n",
		    st.oldest_due_s);
	}
	buf_printf(b, "# HELP vaultbridge_db_up 1 if the bridge database "
	    "answered this scrape.\n"
	    "# TYPE vaultbridge_db_up gauge\n"
	    "vaultbridge_db_up %d\n", up);
	buf_printf(b, "# HELP vaultbridge_http_requests_total HTTP requests "
	    "received.\n"
	    "# TYPE vaultbridge_http_requests_total counter\n"
	    "vaultbridge_http_requests_total %llu\n",
	    (unsigned long long)atomic_load(&req->app->requests));
	buf_printf(b, "# HELP vaultbridge_db_pool_connections Bridge "
	    "database connections of this daemon.\n"
	    "# TYPE vaultbridge_db_pool_connections gauge\n"
	    "vaultbridge_db_pool_connections{state=\"open\"} %u\n"
	    "vaultbridge_db_pool_connections{state=\"busy\"} %u\n",
	    open, busy);
	sync_workers_counters(req->app->workers, &sc);
	buf_printf(b, "# HELP vaultbridge_sync_workers Outbox worker threads "
	    "of this daemon.\n"
	    "# TYPE vaultbridge_sync_workers gauge\n"
	    "vaultbridge_sync_workers %u\n"
	    "# HELP vaultbridge_sync_jobs_total Jobs this daemon's workers "
	    "finished, by outcome (retry: a temporary failure).\n"
	    "# TYPE vaultbridge_sync_jobs_total counter\n"
	    "vaultbridge_sync_jobs_total{outcome=\"applied\"} %llu\n"
	    "vaultbridge_sync_jobs_total{outcome=\"retry\"} %llu\n"
	    "vaultbridge_sync_jobs_total{outcome=\"dead\"} %llu\n"
	    "# HELP vaultbridge_sync_batches_total Rounds applied in one vault "
	    "transaction.\n"
	    "# TYPE vaultbridge_sync_batches_total counter\n"
	    "vaultbridge_sync_batches_total %llu\n", sc.workers, sc.applied,
	    sc.retried, sc.dead, sc.batches);
	if (buf_failed(b))
		return ERR_ALLOC;
	resp->status = 200;
	resp->content_type = SA_CT_PROM;
	return 0;
}
