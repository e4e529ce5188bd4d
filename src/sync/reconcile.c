#include "sync/reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "db/outbox.h"
#include "db/pool.h"
#include "db/scim_store.h"
#include "policy/policy.h"
#include "sync/lifecycle.h"
#include "util/bounds.h"
#include "util/log.h"
#include "vault/backend.h"

/*
 * Reconciliation. Intended state is read from the bridge database
 * (bindings, db_binding_members), actual state from the backend
 * (list_safes, list_members). Reads happen without locks; a repair is
 * decided again inside one transaction per safe that holds the safe's
 * ordering lock (db_binding_lock) against the intended state read
 * there, so a repair never acts on a stale intention: a corrective job
 * only ever sets the backend to what the database says at its commit,
 * and every later change gets a later job.
 */

enum rc_kind {
	RC_SAFE_MISSING,	/* active binding, no safe */
	RC_SAFE_FROZEN,		/* active binding, frozen safe */
	RC_SAFE_NAME,		/* active binding, other name */
	RC_SAFE_NOT_FROZEN,	/* frozen binding, active safe or members */
	RC_MEMBER_MISSING,
	RC_MEMBER_EXTRA,
	RC_MEMBER_PERMS
};

static const char *const rc_kind_names[] = {
	"safe_missing", "safe_frozen", "safe_name", "safe_not_frozen",
	"member_missing", "member_extra", "member_perms"
};

/* One drift of the safe being checked, and what repairs it. */
struct rc_fix {
	enum rc_kind kind;
	char user_ref[VAULT_REF_LEN + 1];
	char user_name[VAULT_USER_NAME_MAX + 1];
	unsigned have_perms;		/* member_perms: the backend's */
	json_t *item;			/* borrowed from the report */
	int skip;			/* decided against under the lock */
	unsigned perms;			/* member_set: perms to set */
	long long job_id;
};

/* Dry run: a binding as re-derivation would write it. */
struct rc_over {
	struct db_binding b;
	int stored;			/* a binding row exists */
};

struct rc_ctx {
	struct app *app;
	struct db_conn *c;
	int dry_run;
	json_t *drift;			/* the report's array */
	long long checked;
	long long in_flight;
	long long jobs;
	struct rc_over *over;		/* dry run only */
	size_t nover, capover;
	struct rc_fix *fix;		/* drift of the current safe */
	size_t nfix, capfix;
};

static const char *
rc_nz(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static int
rc_backend_err(int r, const struct vault_error *ve, const char *what)
{
	log_warn("reconcile: backend %s failed: %s (%s)", what, ve->msg,
	    err_str(r));
	if (ve->temporary || r == ERR_DB_UNAVAILABLE)
		return ERR_DB_UNAVAILABLE;
	return r == ERR_ALLOC ? ERR_ALLOC : ERR_INTERNAL;
}

/* A permission mask as a list of names; NULL on allocation failure. */
static json_t *
rc_binding_json(const struct db_binding *b)
{
	json_t *o, *perms;

	if ((perms = policy_perms_json(b->perms)) == NULL)
		return NULL;
	o = json_pack("{ss ss sI sb}", "safe", b->safe_name, "rule",
	    b->rule_id, "retention_days", (json_int_t)b->retention_days,
	    "frozen", b->frozen);
	if (o == NULL || json_object_set_new(o, "perms", perms) != 0) {
		if (o == NULL)
			json_decref(perms);
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
rc_frozen_json(int frozen, size_t members)
{
	return json_pack("{sb sI}", "frozen", frozen, "members",
	    (json_int_t)members);
}

/*
 * Append a drift item. intended and actual are stolen; json_null() says
 * "none", NULL means their allocation failed. *itemp (may be NULL) gets
 * the item, borrowed from the report.
 */
static int
rc_item(struct rc_ctx *x, const char *kind, const char *safe_ref,
    const char *safe, const char *user_ref, const char *user,
    json_t *intended, json_t *actual, json_t **itemp)
{
	json_t *it = NULL;
	int r = ERR_ALLOC;

	if (intended == NULL || actual == NULL)
		goto out;
	it = json_pack("{ss ss? ss? ss? ss?}", "kind", kind, "safe_ref",
	    rc_nz(safe_ref), "safe", rc_nz(safe), "user_ref", rc_nz(user_ref),
	    "user", rc_nz(user));
	if (it == NULL)
		goto out;
	r = json_object_set_new(it, "intended", intended);
	intended = NULL;
	if (r != 0 || json_object_set_new(it, "actual", actual) != 0) {
		actual = NULL;
		r = ERR_ALLOC;
		goto out;
	}
	actual = NULL;
	if (json_array_append(x->drift, it) != 0) {
		r = ERR_ALLOC;
		goto out;
	}
	if (itemp != NULL)
		*itemp = it;
	r = 0;
out:
	json_decref(intended);
	json_decref(actual);
	json_decref(it);
	return r;
}

static int
rc_safe_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vault_safe *)a)->ref,
	    ((const struct vault_safe *)b)->ref);
}

static int
rc_member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vault_member *)a)->user_ref,
	    ((const struct vault_member *)b)->user_ref);
}

static struct vault_member *
rc_member_find(struct vault_member *m, size_t n, const char *user_ref)
{
	struct vault_member key;

	if (n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	snprintf(key.user_ref, sizeof(key.user_ref), "%s", user_ref);
	return bsearch(&key, m, n, sizeof(*m), rc_member_cmp);
}

/* --- re-derivation of bindings from the policy --- */

/* displayName and externalId of a stored group document (malloc'd, NULL
 * when absent). */
static int
rc_doc_names(const char *doc, char **dnp, char **eidp)
{
	json_t *j = NULL, *v;
	int r = ERR_ALLOC;

	*dnp = NULL;
	*eidp = NULL;
	if ((j = json_loads(doc != NULL ? doc : "", 0, NULL)) == NULL) {
		/* the store wrote it: not the client's fault */
		r = ERR_INTERNAL;
		goto out;
	}
	if ((v = json_object_get(j, "displayName")) != NULL &&
	    json_is_string(v) && (*dnp = strdup(json_string_value(v))) == NULL)
		goto out;
	if ((v = json_object_get(j, "externalId")) != NULL &&
	    json_is_string(v) &&
	    (*eidp = strdup(json_string_value(v))) == NULL)
		goto out;
	r = 0;
out:
	if (r != 0) {
		free(*dnp);
		free(*eidp);
		*dnp = *eidp = NULL;
	}
	json_decref(j);
	return r;
}

/* 1 if the stored binding cur (NULL: none) is not what the policy wants
 * (has_want 0: no rule matches, so an active binding must freeze). */
static int
rc_binding_differs(const struct db_binding *cur, const struct db_binding *want,
    int has_want)
{
	if (!has_want)
		return cur != NULL && !cur->frozen;
	if (cur == NULL || cur->frozen)
		return 1;
	return strcmp(cur->safe_name, want->safe_name) != 0 ||
	    strcmp(cur->rule_id, want->rule_id) != 0 ||
	    cur->perms != want->perms ||
	    cur->retention_days != want->retention_days;
}

static int
rc_over_push(struct rc_ctx *x, const struct db_binding *b, int stored)
{
	struct rc_over *n;
	size_t cap;

	if (x->nover == x->capover) {
		cap = x->capover == 0 ? 16 : x->capover * 2;
		if ((n = reallocarray(x->over, cap, sizeof(*n))) == NULL)
			return ERR_ALLOC;
		x->over = n;
		x->capover = cap;
	}
	x->over[x->nover].b = *b;
	x->over[x->nover].stored = stored;
	x->nover++;
	return 0;
}

/*
 * One group: compute the binding the policy wants, report a difference,
 * and (unless dry run) let the lifecycle write it in a transaction that
 * holds the group's row lock, as the SCIM write paths do.
 */
static int
rc_group(struct rc_ctx *x, const char *gid, const char *doc)
{
	const struct policy_safe_rule *rule;
	struct api_error ae;
	struct db_row row;
	struct db_binding cur, want, frz;
	json_t *item = NULL;
	char *dn = NULL, *eid = NULL;
	int r, has_cur = 0, has_want, txn = 0;

	memset(&row, 0, sizeof(row));
	memset(&want, 0, sizeof(want));
	if (!x->dry_run) {
		if ((r = db_begin(x->c)) != 0)
			goto out;
		txn = 1;
		r = db_scim_get(x->c, SCIM_RT_GROUP, gid, DB_F_FOR_UPDATE,
		    &row);
		if (r == ERR_NOT_FOUND) {
			/* deleted meanwhile; the delete froze its binding */
			r = 0;
			goto out;
		}
		if (r != 0)
			goto out;
		doc = row.doc;
	}
	if ((r = rc_doc_names(doc, &dn, &eid)) != 0)
		goto out;
	r = db_binding_get(x->c, gid, &cur);
	if (r == 0)
		has_cur = 1;
	else if (r != ERR_NOT_FOUND)
		goto out;
	snprintf(want.group_id, sizeof(want.group_id), "%s", gid);
	rule = policy_match_group(x->app->policy, dn, eid);
	has_want = rule != NULL;
	if (rule != NULL) {
		if (policy_safe_name(rule, dn, want.safe_name,
		    sizeof(want.safe_name)) != 0) {
			/* the SCIM paths refuse such a group; a policy change
			 * made it so: report, change nothing */
			r = rc_item(x, "binding", gid,
			    has_cur ? cur.safe_name : NULL, NULL, NULL,
			    json_null(), has_cur ? rc_binding_json(&cur) :
			    json_null(), &item);
			if (r == 0 && json_object_set_new(item, "error",
			    json_sprintf("rule %s gives no valid safe name "
			    "for this displayName", policy_rule_id(rule))) != 0)
				r = ERR_ALLOC;
			goto out;
		}
		snprintf(want.rule_id, sizeof(want.rule_id), "%s",
		    policy_rule_id(rule));
		want.perms = policy_rule_permissions(rule);
		want.retention_days = policy_rule_retention_days(rule);
	}
	if (rc_binding_differs(has_cur ? &cur : NULL, &want, has_want)) {
		if ((r = rc_item(x, "binding", gid, has_want ? want.safe_name :
		    cur.safe_name, NULL, NULL, has_want ?
		    rc_binding_json(&want) : rc_frozen_json(1, 0), has_cur ?
		    rc_binding_json(&cur) : json_null(), &item)) != 0)
			goto out;
		if (x->dry_run) {
			if (has_want)
				r = rc_over_push(x, &want, has_cur);
			else {
				frz = cur;
				frz.frozen = 1;
				r = rc_over_push(x, &frz, 1);
			}
			if (r != 0)
				goto out;
		}
	}
	if (!x->dry_run) {
		api_error_clear(&ae);
		r = lifecycle_group_written(x->c, x->app->policy, gid, dn, eid,
		    NULL, &ae);
		if (r == ERR_INVALID || r == ERR_CONFLICT) {
			/* e.g. the new name is another safe's: reported,
			 * the binding stays as it is */
			log_warn("reconcile: group %s: binding not written: "
			    "%s", gid, ae.detail);
			if (item != NULL && json_object_set_new(item, "error",
			    json_string(ae.detail)) != 0) {
				r = ERR_ALLOC;
				goto out;
			}
			r = 0;
			goto out;
		}
		if (r != 0 || (r = db_commit(x->c)) != 0)
			goto out;
		txn = 0;
	}
	r = 0;
out:
	if (txn)
		db_rollback(x->c);
	db_row_clear(&row);
	free(dn);
	free(eid);
	return r;
}

static int
rc_rederive(struct rc_ctx *x)
{
	struct db_query q;
	struct db_page page;
	struct api_error ae;
	size_t i, n;
	int r;

	memset(&q, 0, sizeof(q));
	q.count = SCIM_LIST_COUNT_MAX;
	q.start_index = 1;
	for (;;) {
		memset(&page, 0, sizeof(page));
		api_error_clear(&ae);
		if ((r = db_scim_query(x->c, SCIM_RT_GROUP, &q, &page,
		    &ae)) != 0) {
			db_page_clear(&page);
			return r == ERR_INVALID ? ERR_INTERNAL : r;
		}
		for (i = 0; i < page.nrows && r == 0; i++)
			r = rc_group(x, page.rows[i].id, page.rows[i].doc);
		n = page.nrows;
		db_page_clear(&page);
		if (r != 0)
			return r;
		if (n < q.count)
			return 0;
		q.start_index += n;
	}
}

/* --- comparison and repair --- */

static int
rc_fix_add(struct rc_ctx *x, enum rc_kind kind, const char *user_ref,
    const char *user_name, unsigned have_perms, json_t *item)
{
	struct rc_fix *n, *f;
	size_t cap;

	if (x->nfix == x->capfix) {
		cap = x->capfix == 0 ? 16 : x->capfix * 2;
		if ((n = reallocarray(x->fix, cap, sizeof(*n))) == NULL)
			return ERR_ALLOC;
		x->fix = n;
		x->capfix = cap;
	}
	f = &x->fix[x->nfix++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	snprintf(f->user_ref, sizeof(f->user_ref), "%s",
	    user_ref != NULL ? user_ref : "");
	snprintf(f->user_name, sizeof(f->user_name), "%s",
	    user_name != NULL ? user_name : "");
	f->have_perms = have_perms;
	f->item = item;
	return 0;
}

/* Report a member drift and remember it for the repair: m is the
 * member (want or have), want/have may be NULL. */
static int
rc_member_drift(struct rc_ctx *x, enum rc_kind kind,
    const struct db_binding *b, const struct vault_member *m,
    const struct vault_member *want, const struct vault_member *have)
{
	json_t *item = NULL;
	int r;

	if ((r = rc_item(x, rc_kind_names[kind], b->group_id, b->safe_name,
	    m->user_ref, m->user_name,
	    want != NULL ? policy_perms_json(want->perms) : json_null(),
	    have != NULL ? policy_perms_json(have->perms) : json_null(), &item)) != 0)
		return r;
	return rc_fix_add(x, kind, m->user_ref, m->user_name,
	    have != NULL ? have->perms : 0, item);
}

static int
rc_pending(struct rc_ctx *x, const char *safe_ref, const char *user_ref,
    int *yes)
{
	*yes = 0;
	return db_outbox_has_pending(x->c, safe_ref, user_ref, yes);
}

/*
 * Enqueue the repairs of one safe in one transaction: the safe's
 * ordering lock first, then every drift is decided again against the
 * intended state and the pending jobs as they are now.
 */
static int
rc_repair(struct rc_ctx *x, const struct db_binding *b)
{
	struct db_binding cur;
	struct vault_member *want = NULL, *m;
	struct rc_fix *f;
	enum sync_op op;
	size_t nwant = 0, i;
	long long njobs = 0;
	int r, pend, txn = 0;

	if ((r = db_begin(x->c)) != 0)
		goto out;
	txn = 1;
	r = db_binding_lock(x->c, b->group_id);
	if (r == 0)
		r = db_binding_get(x->c, b->group_id, &cur);
	if (r == ERR_NOT_FOUND) {
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	if (cur.frozen != b->frozen || cur.perms != b->perms ||
	    strcmp(cur.safe_name, b->safe_name) != 0) {
		/* changed since it was compared; its own jobs carry that */
		r = 0;
		goto out;
	}
	if (!cur.frozen && (r = db_binding_members(x->c, b->group_id, &want,
	    &nwant)) != 0)
		goto out;
	if (nwant > 0)
		qsort(want, nwant, sizeof(*want), rc_member_cmp);
	/* all decisions before the first enqueue, which would count */
	for (i = 0; i < x->nfix; i++) {
		f = &x->fix[i];
		if (f->kind <= RC_SAFE_NOT_FROZEN)
			r = rc_pending(x, b->group_id, NULL, &pend);
		else
			r = rc_pending(x, b->group_id, f->user_ref, &pend);
		if (r != 0)
			goto out;
		if (pend) {
			f->skip = 1;
			continue;
		}
		if (f->kind <= RC_SAFE_NOT_FROZEN)
			continue;
		m = rc_member_find(want, nwant, f->user_ref);
		switch (f->kind) {
		case RC_MEMBER_MISSING:
		case RC_MEMBER_PERMS:
			if (m == NULL || (f->kind == RC_MEMBER_PERMS &&
			    m->perms == f->have_perms))
				f->skip = 1;
			else {
				f->perms = m->perms;
				snprintf(f->user_name, sizeof(f->user_name),
				    "%s", m->user_name);
			}
			break;
		default:
			f->skip = m != NULL;
			break;
		}
	}
	for (i = 0; i < x->nfix; i++) {
		f = &x->fix[i];
		if (f->skip)
			continue;
		switch (f->kind) {
		case RC_SAFE_NOT_FROZEN:
			op = SYNC_SAFE_FREEZE;
			break;
		case RC_MEMBER_MISSING:
		case RC_MEMBER_PERMS:
			op = SYNC_MEMBER_SET;
			break;
		case RC_MEMBER_EXTRA:
			op = SYNC_MEMBER_REMOVE;
			break;
		default:
			op = SYNC_SAFE_ENSURE;
			break;
		}
		if (op == SYNC_SAFE_ENSURE || op == SYNC_SAFE_FREEZE)
			r = db_outbox_enqueue(x->c, op, b->group_id, NULL,
			    cur.safe_name, NULL, 0, "reconcile", &f->job_id);
		else
			r = db_outbox_enqueue(x->c, op, b->group_id,
			    f->user_ref, cur.safe_name, f->user_name,
			    op == SYNC_MEMBER_SET ? f->perms : 0, "reconcile",
			    &f->job_id);
		if (r != 0)
			goto out;
		njobs++;
	}
	/* wake the workers of every daemon (db_outbox_notify) */
	if (njobs > 0 && ((r = db_outbox_notify(x->c)) != 0 ||
	    (r = db_commit(x->c)) != 0))
		goto out;
	txn = 0;
	if (njobs == 0)
		db_rollback(x->c);
	for (i = 0; i < x->nfix; i++) {
		f = &x->fix[i];
		if (f->skip)
			continue;
		if (json_object_set_new(f->item, "job_id",
		    json_integer(f->job_id)) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
		log_info("reconcile: enqueued job=%lld kind=%s safe_ref=%s "
		    "user_ref=%s", f->job_id, rc_kind_names[f->kind],
		    b->group_id, f->user_ref[0] != '\0' ? f->user_ref : "-");
	}
	x->jobs += njobs;
	r = 0;
out:
	if (txn)
		db_rollback(x->c);
	free(want);
	return r;
}

/* Compare one (effective) binding with the backend. */
static int
rc_check(struct rc_ctx *x, const struct db_binding *b,
    struct vault_safe *safes, size_t nsafes, unsigned char *seen)
{
	struct vault_backend *vb = x->app->vault;
	struct vault_error ve;
	struct vault_safe key, *s = NULL;
	struct vault_member *want = NULL, *have = NULL;
	json_t *item = NULL;
	size_t nwant = 0, nhave = 0, i, j;
	int r = 0, pend, cmp, kind = -1;

	x->nfix = 0;
	x->checked++;
	memset(&key, 0, sizeof(key));
	snprintf(key.ref, sizeof(key.ref), "%s", b->group_id);
	if (nsafes > 0)
		s = bsearch(&key, safes, nsafes, sizeof(*safes), rc_safe_cmp);
	if (s != NULL) {
		seen[s - safes] = 1;
		memset(&ve, 0, sizeof(ve));
		r = vb->ops->list_members(vb, b->group_id, &have, &nhave, &ve);
		if (r == ERR_NOT_FOUND) {
			/* purged since it was listed */
			s = NULL;
			r = 0;
		} else if (r != 0) {
			r = rc_backend_err(r, &ve, "list_members");
			goto out;
		}
	}
	if (b->frozen) {
		if (s == NULL || (s->frozen && nhave == 0))
			goto out;
		if ((r = rc_pending(x, b->group_id, NULL, &pend)) != 0)
			goto out;
		if (pend) {
			x->in_flight++;
			goto out;
		}
		if ((r = rc_item(x, rc_kind_names[RC_SAFE_NOT_FROZEN],
		    b->group_id, b->safe_name, NULL, NULL,
		    rc_frozen_json(1, 0), rc_frozen_json(s->frozen, nhave),
		    &item)) != 0 ||
		    (r = rc_fix_add(x, RC_SAFE_NOT_FROZEN, NULL, NULL, 0,
		    item)) != 0)
			goto out;
		goto repair;
	}
	if (s == NULL)
		kind = RC_SAFE_MISSING;
	else if (s->frozen)
		kind = RC_SAFE_FROZEN;
	else if (strcmp(s->name, b->safe_name) != 0)
		kind = RC_SAFE_NAME;
	if (kind >= 0) {
		if ((r = rc_pending(x, b->group_id, NULL, &pend)) != 0)
			goto out;
		if (pend) {
			/* the safe's own jobs are on their way: its members
			 * are compared when they are through */
			x->in_flight++;
			goto out;
		}
		if (kind == RC_SAFE_FROZEN)
			r = rc_item(x, rc_kind_names[kind], b->group_id,
			    b->safe_name, NULL, NULL, rc_frozen_json(0, 0),
			    rc_frozen_json(1, nhave), &item);
		else
			r = rc_item(x, rc_kind_names[kind], b->group_id,
			    b->safe_name, NULL, NULL,
			    json_string(b->safe_name), s != NULL ?
			    json_string(s->name) : json_null(), &item);
		if (r != 0 || (r = rc_fix_add(x, (enum rc_kind)kind, NULL,
		    NULL, 0, item)) != 0)
			goto out;
	}
	if ((r = db_binding_members(x->c, b->group_id, &want, &nwant)) != 0)
		goto out;
	/* dry run: the perms the re-derived binding would give */
	for (i = 0; i < nwant; i++)
		want[i].perms = b->perms;
	if (nwant > 0)
		qsort(want, nwant, sizeof(*want), rc_member_cmp);
	if (nhave > 0)
		qsort(have, nhave, sizeof(*have), rc_member_cmp);
	for (i = j = 0; i < nwant || j < nhave;) {
		if (i == nwant)
			cmp = 1;
		else if (j == nhave)
			cmp = -1;
		else
			cmp = strcmp(want[i].user_ref, have[j].user_ref);
		if (cmp == 0 && want[i].perms == have[j].perms) {
			i++;
			j++;
			continue;
		}
		if ((r = rc_pending(x, b->group_id, cmp <= 0 ?
		    want[i].user_ref : have[j].user_ref, &pend)) != 0)
			goto out;
		if (pend)
			x->in_flight++;
		else if (cmp < 0)
			r = rc_member_drift(x, RC_MEMBER_MISSING, b, &want[i],
			    &want[i], NULL);
		else if (cmp > 0)
			r = rc_member_drift(x, RC_MEMBER_EXTRA, b, &have[j],
			    NULL, &have[j]);
		else
			r = rc_member_drift(x, RC_MEMBER_PERMS, b, &want[i],
			    &want[i], &have[j]);
		if (r != 0)
			goto out;
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			j++;
	}
repair:
	if (!x->dry_run && x->nfix > 0)
		r = rc_repair(x, b);
out:
	free(want);
	free(have);
	return r;
}

/* Dry run: the binding of group_id as re-derivation would leave it. */
static const struct rc_over *
rc_over_find(const struct rc_ctx *x, const char *group_id)
{
	size_t i;

	for (i = 0; i < x->nover; i++) {
		if (strcmp(x->over[i].b.group_id, group_id) == 0)
			return &x->over[i];
	}
	return NULL;
}

int
reconcile_run(struct app *app, int dry_run, json_t **report)
{
	struct rc_ctx x;
	struct vault_backend *vb;
	struct vault_error ve;
	struct vault_safe *safes = NULL, key, *s;
	struct db_binding *bs = NULL, b;
	const struct rc_over *ov;
	unsigned char *seen = NULL;
	json_t *rep = NULL;
	size_t nsafes = 0, nb = 0, i;
	int r;

	*report = NULL;
	memset(&x, 0, sizeof(x));
	x.app = app;
	x.dry_run = dry_run != 0;
	if (app == NULL || app->pool == NULL || app->vault == NULL)
		return ERR_DB_UNAVAILABLE;
	vb = app->vault;
	if ((x.drift = json_array()) == NULL)
		return ERR_ALLOC;
	if ((r = db_acquire(app->pool, &x.c)) != 0)
		goto out;
	/* the backend first: nothing is written when it cannot be reached */
	memset(&ve, 0, sizeof(ve));
	if ((r = vb->ops->list_safes(vb, &safes, &nsafes, &ve)) != 0) {
		r = rc_backend_err(r, &ve, "list_safes");
		goto out;
	}
	if ((seen = calloc(nsafes > 0 ? nsafes : 1, 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (nsafes > 0)
		qsort(safes, nsafes, sizeof(*safes), rc_safe_cmp);
	if ((r = rc_rederive(&x)) != 0 ||
	    (r = db_binding_list(x.c, &bs, &nb)) != 0)
		goto out;
	for (i = 0; i < nb; i++) {
		b = bs[i];
		if (x.dry_run && (ov = rc_over_find(&x, b.group_id)) != NULL)
			b = ov->b;
		if ((r = rc_check(&x, &b, safes, nsafes, seen)) != 0)
			goto out;
	}
	/* dry run: a binding to be created is not "unmanaged" */
	memset(&key, 0, sizeof(key));
	for (i = 0; i < x.nover && nsafes > 0; i++) {
		if (x.over[i].stored)
			continue;
		snprintf(key.ref, sizeof(key.ref), "%s", x.over[i].b.group_id);
		s = bsearch(&key, safes, nsafes, sizeof(*safes), rc_safe_cmp);
		if (s != NULL)
			seen[s - safes] = 1;
	}
	for (i = 0; i < nsafes; i++) {
		if (seen[i])
			continue;
		if ((r = rc_item(&x, "safe_unmanaged", safes[i].ref,
		    safes[i].name, NULL, NULL, json_null(),
		    json_pack("{ss sb}", "name", safes[i].name, "frozen",
		    safes[i].frozen), NULL)) != 0)
			goto out;
	}
	rep = json_pack("{sb sI sI sI}", "dry_run", x.dry_run,
	    "safes_checked", (json_int_t)x.checked, "in_flight",
	    (json_int_t)x.in_flight, "jobs_enqueued", (json_int_t)x.jobs);
	if (rep == NULL || json_object_set(rep, "drift", x.drift) != 0) {
		r = ERR_ALLOC;
		goto out;
	}
	log_info("reconcile: dry_run=%d safes_checked=%lld drift=%zu "
	    "in_flight=%lld jobs_enqueued=%lld", x.dry_run, x.checked,
	    json_array_size(x.drift), x.in_flight, x.jobs);
	*report = rep;
	rep = NULL;
	r = 0;
out:
	if (x.c != NULL)
		db_release(app->pool, x.c);
	json_decref(rep);
	json_decref(x.drift);
	free(x.over);
	free(x.fix);
	free(safes);
	free(seen);
	free(bs);
	return r;
}
