#include "scim/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "db/pool.h"
#include "db/scim_store.h"
#include "scim/discovery.h"
#include "scim/error.h"
#include "scim/filter.h"
#include "scim/patch.h"
#include "sync/lifecycle.h"
#include "sync/worker.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

#define SCIM_BASE_MAX	600

void
scim_result_clear(struct scim_result *res)
{
	if (res == NULL)
		return;
	json_decref(res->body);
	memset(res, 0, sizeof(*res));
}

int
scim_body_parse(const char *body, size_t len, json_t **out,
    struct api_error *e)
{
	json_error_t jerr;
	json_t *j = NULL;

	*out = NULL;
	if (body == NULL || len == 0)
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "request body is empty");
	if (!utf8_valid(body, len))
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "request body is not valid UTF-8");
	if (!json_depth_ok(body, len, JSON_DEPTH_MAX))
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "JSON nested deeper than %d levels", JSON_DEPTH_MAX);
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "malformed JSON at line %d column %d: %.80s", jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "request body must be a JSON object");
	}
	*out = j;
	return 0;
}

int
scim_reply_error(struct response *resp, int r, const struct api_error *e)
{
	switch (r) {
	case ERR_INVALID:
		scim_error_from(resp, e);
		return 0;
	case ERR_NOT_FOUND:
		scim_error_response(resp, 404, NULL, "resource not found");
		return 0;
	case ERR_CONFLICT:
		scim_error_response(resp, 409, SCIM_ET_UNIQUENESS,
		    e != NULL && e->status != 0 ? e->detail :
		    "a resource with that unique attribute already exists");
		return 0;
	case ERR_PRECONDITION:
		scim_error_response(resp, 412, NULL,
		    "resource version does not match If-Match");
		return 0;
	case ERR_TOO_LARGE:
		scim_error_response(resp, 413, NULL, "request too large");
		return 0;
	case ERR_DB_UNAVAILABLE:
		scim_error_response(resp, 503, NULL,
		    "service temporarily unavailable");
		resp->retry_after = 1;
		return 0;
	default:
		return r;
	}
}

/* "scheme://host:port/scim/v2" for a request. */
static void
scim_base_of(const struct request *req, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/scim/v2", req->base_url);
}

/* Parse a JSON text the database produced; NULL only on alloc failure
 * or a broken invariant. */
static json_t *
json_from_db(const char *text)
{
	json_t *j;

	if (text == NULL)
		return NULL;
	if ((j = json_loads(text, 0, NULL)) == NULL)
		log_error_f("database returned unparsable JSON");
	return j;
}

static json_t *
render_row(enum scim_rtype rt, const char *scim_base, const struct db_row *row,
    const struct scim_projection *proj)
{
	struct scim_meta meta;
	json_t *doc = NULL, *groups = NULL, *members = NULL, *out = NULL;

	if ((doc = json_from_db(row->doc)) == NULL)
		goto out;
	if (rt == SCIM_RT_GROUP && row->members != NULL) {
		if ((members = json_from_db(row->members)) == NULL)
			goto out;
		json_object_set(doc, "members", members);
	}
	if (rt == SCIM_RT_USER && row->groups != NULL &&
	    (groups = json_from_db(row->groups)) == NULL)
		goto out;
	memset(&meta, 0, sizeof(meta));
	meta.id = row->id;
	meta.created = row->created;
	meta.last_modified = row->last_modified;
	meta.version = row->version;
	meta.base_url = scim_base;
	out = scim_resource_render(rt, doc, &meta, groups, proj);
out:
	json_decref(doc);
	json_decref(groups);
	json_decref(members);
	return out;
}

static const char *
rt_path(enum scim_rtype rt)
{
	return rt == SCIM_RT_USER ? "Users" : "Groups";
}

/* Fill the result for a resource row answered with status. */
static int
result_from_row(enum scim_rtype rt, const char *scim_base,
    const struct db_row *row, const struct scim_projection *proj, int status,
    int want_body, struct scim_result *res)
{
	res->status = status;
	snprintf(res->id, sizeof(res->id), "%s", row->id);
	snprintf(res->location, sizeof(res->location), "%s/%s/%s", scim_base,
	    rt_path(rt), row->id);
	scim_etag(row->version, res->etag, sizeof(res->etag));
	if (!want_body)
		return 0;
	if ((res->body = render_row(rt, scim_base, row, proj)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/*
 * Borrowed pointers to the "value" strings of a members array. *idsp is
 * malloc'd (the strings are not); NULL with n = 0 for an empty array.
 */
static int
member_ids(const json_t *members, const char ***idsp, size_t *np)
{
	const char **ids = NULL;
	const json_t *m;
	size_t i, n = 0;

	*idsp = NULL;
	*np = 0;
	if (members == NULL || json_array_size(members) == 0)
		return 0;
	if ((ids = calloc(json_array_size(members), sizeof(*ids))) == NULL)
		return ERR_ALLOC;
	json_array_foreach(members, i, m) {
		const char *v = json_string_value(json_object_get(m, "value"));

		if (v != NULL)
			ids[n++] = v;
	}
	*idsp = ids;
	*np = n;
	return 0;
}

/* Keys of a JSON object used as a set, as borrowed pointers. */
static int
set_keys(json_t *set, const char ***keysp, size_t *np)
{
	const char **keys = NULL, *k;
	json_t *v;
	size_t n = 0;

	*keysp = NULL;
	*np = 0;
	if (set == NULL || json_object_size(set) == 0)
		return 0;
	if ((keys = calloc(json_object_size(set), sizeof(*keys))) == NULL)
		return ERR_ALLOC;
	json_object_foreach(set, k, v) {
		(void)v;
		keys[n++] = k;
	}
	*keysp = keys;
	*np = n;
	return 0;
}

static int
check_if_match(const char *if_match, long long version)
{
	int any = 0;

	if (if_match == NULL || if_match[0] == '\0')
		return 0;
	if (scim_etag_matches(if_match, version, &any) || any)
		return 0;
	return ERR_PRECONDITION;
}

static int
conflict_error(enum scim_rtype rt, struct api_error *e)
{
	api_error_set(e, 409, SCIM_ET_UNIQUENESS, "%s",
	    rt == SCIM_RT_USER ? "userName is already taken" :
	    "a group with that displayName already exists");
	return ERR_CONFLICT;
}

/* Take "members" out of a parsed Group document. New reference. */
static json_t *
take_members(json_t *doc)
{
	json_t *m = json_object_get(doc, "members");

	if (m == NULL)
		return NULL;
	json_incref(m);
	json_object_del(doc, "members");
	return m;
}

/*
 * A Group was written (its document and members are in place, its row
 * locked): let the lifecycle policy bind it to a safe or freeze it, in
 * the same transaction (sync/lifecycle.h). doc is the stored document.
 */
static int
group_written(struct app *app, struct db_conn *c, const char *id,
    const json_t *doc, int *kick, struct api_error *e)
{
	return lifecycle_group_written(c, app->policy, id,
	    json_string_value(json_object_get(doc, "displayName")),
	    json_string_value(json_object_get(doc, "externalId")), kick, e);
}

/*
 * After the commit of a write that may have written outbox jobs (a safe's
 * group, or a User's memberships and "active"): wake this daemon's
 * workers at once. Other daemons' workers find the jobs within
 * sync.poll_ms (db/outbox.h, db_outbox_notify, says why not NOTIFY).
 */
static void
kick_workers(struct app *app, enum scim_rtype rt, int kick)
{
	if (rt == SCIM_RT_USER || kick)
		sync_workers_kick(app->workers);
}

int
scim_op_create(struct app *app, const char *scim_base, enum scim_rtype rt,
    const json_t *data, const struct scim_projection *proj,
    struct scim_result *res, struct api_error *e)
{
	struct db_conn *c = NULL;
	struct db_row row;
	json_t *doc = NULL, *members = NULL;
	const char **ids = NULL;
	char *text = NULL;
	size_t nids = 0;
	int r, kick = 0;

	memset(&row, 0, sizeof(row));
	memset(res, 0, sizeof(*res));
	if ((r = scim_resource_parse(rt, data, &doc, e)) != 0)
		goto out;
	if (rt == SCIM_RT_GROUP)
		members = take_members(doc);
	if ((r = member_ids(members, &ids, &nids)) != 0)
		goto out;
	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = db_acquire(app->pool, &c)) != 0 || (r = db_begin(c)) != 0)
		goto out;
	if ((r = db_scim_insert(c, rt, text, &row)) != 0) {
		if (r == ERR_CONFLICT)
			r = conflict_error(rt, e);
		goto out;
	}
	if (nids > 0) {
		char id[SCIM_ID_LEN + 1];

		snprintf(id, sizeof(id), "%s", row.id);
		if ((r = db_group_members_apply(c, id, 0, ids, nids, NULL, 0,
		    NULL, e)) != 0)
			goto out;
		db_row_clear(&row);
		if ((r = db_scim_get(c, rt, id, DB_F_MEMBERS, &row)) != 0)
			goto out;
	} else if (rt == SCIM_RT_GROUP && scim_projection_wants(proj,
	    "members")) {
		free(row.members);
		if ((row.members = strdup("[]")) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	if (rt == SCIM_RT_GROUP && (r = group_written(app, c, row.id, doc,
	    &kick, e)) != 0)
		goto out;
	if ((r = db_commit(c)) != 0)
		goto out;
	if (kick)
		sync_workers_kick(app->workers);
	r = result_from_row(rt, scim_base, &row, proj, 201, 1, res);
out:
	db_release(app->pool, c);
	db_row_clear(&row);
	json_decref(doc);
	json_decref(members);
	free(ids);
	free(text);
	return r;
}

int
scim_op_replace(struct app *app, const char *scim_base, enum scim_rtype rt,
    const char *id, const json_t *data, const char *if_match,
    const struct scim_projection *proj, struct scim_result *res,
    struct api_error *e)
{
	struct db_conn *c = NULL;
	struct db_row row;
	json_t *doc = NULL, *members = NULL;
	const char **ids = NULL;
	char *text = NULL;
	size_t nids = 0;
	unsigned flags;
	int r, kick = 0;

	memset(&row, 0, sizeof(row));
	memset(res, 0, sizeof(*res));
	if ((r = scim_resource_parse(rt, data, &doc, e)) != 0)
		goto out;
	if (rt == SCIM_RT_GROUP)
		members = take_members(doc);
	if ((r = member_ids(members, &ids, &nids)) != 0)
		goto out;
	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = db_acquire(app->pool, &c)) != 0 || (r = db_begin(c)) != 0)
		goto out;
	if ((r = db_scim_get(c, rt, id, DB_F_FOR_UPDATE, &row)) != 0 ||
	    (r = check_if_match(if_match, row.version)) != 0)
		goto out;
	db_row_clear(&row);
	if ((r = db_scim_update(c, rt, id, text, &row)) != 0) {
		if (r == ERR_CONFLICT)
			r = conflict_error(rt, e);
		goto out;
	}
	/* PUT replaces the whole resource, so also the member list */
	if (rt == SCIM_RT_GROUP && ((r = db_group_members_apply(c, id, 1, ids,
	    nids, NULL, 0, NULL, e)) != 0 ||
	    (r = group_written(app, c, row.id, doc, &kick, e)) != 0))
		goto out;
	flags = rt == SCIM_RT_GROUP ? DB_F_MEMBERS : DB_F_GROUPS;
	db_row_clear(&row);
	if ((r = db_scim_get(c, rt, id, flags, &row)) != 0 ||
	    (r = db_commit(c)) != 0)
		goto out;
	kick_workers(app, rt, kick);
	r = result_from_row(rt, scim_base, &row, proj, 200, 1, res);
out:
	db_release(app->pool, c);
	db_row_clear(&row);
	json_decref(doc);
	json_decref(members);
	free(ids);
	free(text);
	return r;
}

/*
 * Re-check a patched document with the same rules as a POST body, so a
 * PATCH can never store what a PUT would refuse. Adds the "schemas"
 * list the parser wants (core plus the extensions present).
 */
static int
revalidate(enum scim_rtype rt, const json_t *patched, json_t **normp,
    struct api_error *e)
{
	const struct scim_resource_type *t = scim_schema_rtype(rt);
	json_t *in = NULL, *schemas = NULL;
	size_t i;
	int r = ERR_ALLOC;

	*normp = NULL;
	if ((in = json_deep_copy(patched)) == NULL ||
	    (schemas = json_array()) == NULL ||
	    json_array_append_new(schemas, json_string(t->schema->id)) != 0)
		goto out;
	for (i = 0; t->extensions != NULL && t->extensions[i] != NULL; i++) {
		if (json_object_get(in, t->extensions[i]->id) != NULL &&
		    json_array_append_new(schemas,
		    json_string(t->extensions[i]->id)) != 0)
			goto out;
	}
	if (json_object_set(in, "schemas", schemas) != 0)
		goto out;
	r = scim_resource_parse(rt, in, normp, e);
out:
	json_decref(in);
	json_decref(schemas);
	return r;
}

/*
 * The member changes between two member arrays, as a delta (used after
 * a PATCH that had to see the current member list).
 */
static int
members_diff(const json_t *before, const json_t *after,
    struct scim_member_delta *d)
{
	json_t *m, *old = NULL, *v;
	const char *k;
	size_t i;
	int r = ERR_ALLOC;

	if ((old = json_object()) == NULL)
		goto out;
	json_array_foreach(before, i, m) {
		const char *id = json_string_value(json_object_get(m, "value"));

		if (id != NULL && json_object_set(old, id, json_null()) != 0)
			goto out;
	}
	json_array_foreach(after, i, m) {
		const char *id = json_string_value(json_object_get(m, "value"));

		if (id == NULL)
			continue;
		if (json_object_get(old, id) != NULL)
			json_object_del(old, id);
		else if (json_object_set(d->add, id, m) != 0)
			goto out;
	}
	json_object_foreach(old, k, v) {
		if (json_object_set(d->remove, k, json_null()) != 0)
			goto out;
	}
	r = 0;
out:
	json_decref(old);
	return r;
}

/*
 * Apply a Group PATCH: first without loading members (delta mode); only
 * an operation that needs the member list makes us load it.
 */
static int
patch_group(struct db_conn *c, const char *id, const struct scim_patch *p,
    const json_t *doc, json_t **patchedp, struct scim_member_delta *d,
    struct api_error *e)
{
	struct db_row mrow;
	json_t *copy = NULL, *before = NULL, *after = NULL;
	int r;

	memset(&mrow, 0, sizeof(mrow));
	*patchedp = NULL;
	if ((copy = json_deep_copy(doc)) == NULL)
		return ERR_ALLOC;
	r = scim_patch_apply(p, copy, SCIM_PATCH_F_MEMBER_DELTA, d, e);
	if (r != ERR_NEED_MEMBERS)
		goto out;
	/* the general path: the engine sees the whole member list */
	json_decref(copy);
	copy = NULL;
	scim_member_delta_clear(d);
	scim_member_delta_init(d);
	api_error_clear(e);
	if ((r = db_scim_get(c, SCIM_RT_GROUP, id, DB_F_MEMBERS, &mrow)) != 0)
		goto out;
	r = ERR_ALLOC;
	if ((before = json_from_db(mrow.members != NULL ? mrow.members :
	    "[]")) == NULL || (copy = json_deep_copy(doc)) == NULL ||
	    json_object_set_new(copy, "members", json_deep_copy(before)) != 0 ||
	    d->add == NULL || d->remove == NULL)
		goto out;
	if ((r = scim_patch_apply(p, copy, 0, NULL, e)) != 0)
		goto out;
	after = json_object_get(copy, "members");
	json_incref(after);
	json_object_del(copy, "members");
	if (after == NULL)
		after = json_array();
	if (after == NULL || !json_is_array(after)) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "members must be a list");
		goto out;
	}
	r = members_diff(before, after, d);
out:
	if (r == 0) {
		*patchedp = copy;
		copy = NULL;
	}
	db_row_clear(&mrow);
	json_decref(copy);
	json_decref(before);
	json_decref(after);
	return r;
}

int
scim_op_patch(struct app *app, const char *scim_base, enum scim_rtype rt,
    const char *id, const json_t *body, const char *if_match, int want_body,
    const struct scim_projection *proj, struct scim_result *res,
    struct api_error *e)
{
	struct scim_member_delta d;
	struct scim_patch *p = NULL;
	struct db_conn *c = NULL;
	struct db_row row;
	json_t *doc = NULL, *patched = NULL, *norm = NULL;
	const char **add = NULL, **rem = NULL;
	char *text = NULL;
	size_t nadd = 0, nrem = 0;
	unsigned flags;
	int r, kick = 0, changed = 0;

	memset(&row, 0, sizeof(row));
	memset(res, 0, sizeof(*res));
	scim_member_delta_init(&d);
	if ((r = scim_patch_parse(rt, body, &p, e)) != 0)
		goto out;
	if ((r = db_acquire(app->pool, &c)) != 0 || (r = db_begin(c)) != 0)
		goto out;
	if ((r = db_scim_get(c, rt, id, DB_F_FOR_UPDATE, &row)) != 0 ||
	    (r = check_if_match(if_match, row.version)) != 0)
		goto out;
	if ((doc = json_from_db(row.doc)) == NULL) {
		r = ERR_INTERNAL;
		goto out;
	}
	if (rt == SCIM_RT_GROUP) {
		if ((r = patch_group(c, row.id, p, doc, &patched, &d, e)) != 0)
			goto out;
	} else {
		if ((patched = json_deep_copy(doc)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if ((r = scim_patch_apply(p, patched, 0, NULL, e)) != 0)
			goto out;
	}
	if ((r = revalidate(rt, patched, &norm, e)) != 0)
		goto out;
	if (rt == SCIM_RT_GROUP)
		json_object_del(norm, "members");
	if (d.replace_all || json_object_size(d.add) > 0 ||
	    json_object_size(d.remove) > 0) {
		if ((r = set_keys(d.add, &add, &nadd)) != 0 ||
		    (r = set_keys(d.remove, &rem, &nrem)) != 0)
			goto out;
		if ((r = db_group_members_apply(c, row.id, d.replace_all, add,
		    nadd, rem, nrem, &changed, e)) != 0)
			goto out;
	}
	if (!json_equal(norm, doc)) {
		if ((text = json_dumps(norm, JSON_COMPACT)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		db_row_clear(&row);
		if ((r = db_scim_update(c, rt, id, text, &row)) != 0) {
			if (r == ERR_CONFLICT)
				r = conflict_error(rt, e);
			goto out;
		}
	} else if (changed) {
		db_row_clear(&row);
		if ((r = db_scim_touch(c, rt, id, &row)) != 0)
			goto out;
	}
	if (rt == SCIM_RT_GROUP && (r = group_written(app, c, row.id, norm,
	    &kick, e)) != 0)
		goto out;
	if (want_body) {
		flags = 0;
		if (rt == SCIM_RT_GROUP && scim_projection_wants(proj, "members"))
			flags = DB_F_MEMBERS;
		if (rt == SCIM_RT_USER && scim_projection_wants(proj, "groups"))
			flags = DB_F_GROUPS;
		db_row_clear(&row);
		if ((r = db_scim_get(c, rt, id, flags, &row)) != 0)
			goto out;
	}
	if ((r = db_commit(c)) != 0)
		goto out;
	kick_workers(app, rt, kick);
	r = result_from_row(rt, scim_base, &row, proj, want_body ? 200 : 204,
	    want_body, res);
out:
	db_release(app->pool, c);
	db_row_clear(&row);
	scim_patch_free(p);
	scim_member_delta_clear(&d);
	json_decref(doc);
	json_decref(patched);
	json_decref(norm);
	free(add);
	free(rem);
	free(text);
	return r;
}

int
scim_op_delete(struct app *app, enum scim_rtype rt, const char *id,
    const char *if_match, struct api_error *e)
{
	struct db_conn *c = NULL;
	struct db_row row;
	int r, kick = 0;

	(void)e;
	memset(&row, 0, sizeof(row));
	if ((r = db_acquire(app->pool, &c)) != 0 || (r = db_begin(c)) != 0)
		goto out;
	if ((r = db_scim_get(c, rt, id, DB_F_FOR_UPDATE, &row)) != 0 ||
	    (r = check_if_match(if_match, row.version)) != 0 ||
	    (rt == SCIM_RT_GROUP &&
	    (r = lifecycle_group_deleting(c, row.id, &kick)) != 0) ||
	    (r = db_scim_delete(c, rt, id)) != 0 ||
	    (r = db_commit(c)) != 0)
		goto out;
	kick_workers(app, rt, kick);
out:
	db_release(app->pool, c);
	db_row_clear(&row);
	return r;
}

/* ---- responses ---- */

static int
send_result(struct response *resp, const struct scim_result *res)
{
	int r;

	if (res->etag[0] != '\0')
		snprintf(resp->etag, sizeof(resp->etag), "%s", res->etag);
	if (res->status == 201)
		snprintf(resp->location, sizeof(resp->location), "%s",
		    res->location);
	if (res->body == NULL) {
		resp->status = res->status;
		resp->content_type = CT_SCIM;
		buf_reset(&resp->body);
		return 0;
	}
	if ((r = scim_json_response(resp, res->status, res->body)) != 0)
		return r;
	return 0;
}

static int
send_json(struct response *resp, json_t *body)
{
	int r;

	if (body == NULL) {
		scim_error_response(resp, 404, NULL, "resource not found");
		return 0;
	}
	r = scim_json_response(resp, 200, body);
	json_decref(body);
	return r;
}

static int
projection_from_query(const struct request *req, enum scim_rtype rt,
    struct scim_projection **projp, struct api_error *e)
{
	return scim_projection_parse(rt, request_query(req, "attributes"),
	    request_query(req, "excludedAttributes"), projp, e);
}

/* ---- discovery ---- */

int
scim_h_spc(const struct request *req, struct response *resp)
{
	char base[SCIM_BASE_MAX];

	scim_base_of(req, base, sizeof(base));
	return send_json(resp, scim_discovery_spc(base));
}

int
scim_h_resource_types(const struct request *req, struct response *resp)
{
	char base[SCIM_BASE_MAX];

	scim_base_of(req, base, sizeof(base));
	return send_json(resp, scim_discovery_resource_types(base));
}

int
scim_h_resource_type(const struct request *req, struct response *resp)
{
	char base[SCIM_BASE_MAX];

	scim_base_of(req, base, sizeof(base));
	return send_json(resp, scim_discovery_resource_type(req->params[0],
	    base));
}

int
scim_h_schemas(const struct request *req, struct response *resp)
{
	char base[SCIM_BASE_MAX];

	scim_base_of(req, base, sizeof(base));
	return send_json(resp, scim_discovery_schemas(base));
}

int
scim_h_schema(const struct request *req, struct response *resp)
{
	char base[SCIM_BASE_MAX];

	scim_base_of(req, base, sizeof(base));
	return send_json(resp, scim_discovery_schema(req->params[0], base));
}

/* ---- list and search ---- */

struct list_params {
	const char *filter;
	const char *attributes;
	const char *excluded;
	const char *sort_by;
	const char *sort_order;
	unsigned long long start_index;
	unsigned count;
};

/* startIndex/count as query text: below the minimum is clamped (RFC
 * 7644 §3.4.2.4), above the maximum too; not a number is an error. */
static int
parse_index_text(const char *s, const char *name, unsigned long long min,
    unsigned long long max, unsigned long long *out, struct api_error *e)
{
	uint64_t v;
	const char *digits = s;

	if (s[0] == '-')
		digits = s + 1;
	if (parse_u64(digits, 0, UINT64_MAX, &v) != 0) {
		/* a long run of digits is still a number, only too big */
		size_t i, n = strlen(digits);

		for (i = 0; i < n && digits[i] >= '0' && digits[i] <= '9'; i++)
			;
		if (n == 0 || i != n)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s must be an integer", name);
		v = UINT64_MAX;
	}
	if (s[0] == '-' || v < min)
		*out = min;
	else
		*out = v > max ? max : v;
	return 0;
}

static int
list_params_from_query(const struct request *req, struct list_params *lp,
    struct api_error *e)
{
	unsigned long long v;
	const char *s;
	int r;

	memset(lp, 0, sizeof(*lp));
	lp->filter = request_query(req, "filter");
	lp->attributes = request_query(req, "attributes");
	lp->excluded = request_query(req, "excludedAttributes");
	lp->sort_by = request_query(req, "sortBy");
	lp->sort_order = request_query(req, "sortOrder");
	lp->start_index = 1;
	lp->count = SCIM_LIST_COUNT_DEFAULT;
	if ((s = request_query(req, "startIndex")) != NULL) {
		if ((r = parse_index_text(s, "startIndex", 1, UINT64_MAX / 2,
		    &v, e)) != 0)
			return r;
		lp->start_index = v;
	}
	if ((s = request_query(req, "count")) != NULL) {
		if ((r = parse_index_text(s, "count", 0, SCIM_LIST_COUNT_MAX,
		    &v, e)) != 0)
			return r;
		lp->count = (unsigned)v;
	}
	return 0;
}

/* Join a JSON array of strings with commas into b. */
static int
join_names(const json_t *arr, const char *name, struct buf *b,
    struct api_error *e)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(arr))
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "%s must be an array of strings", name);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || strchr(json_string_value(v), ',') !=
		    NULL)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s must be an array of attribute names", name);
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, json_string_value(v));
	}
	if (buf_failed(b))
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "%s is too long", name);
	return 0;
}

static int
body_index(const json_t *body, const char *name, unsigned long long min,
    unsigned long long max, unsigned long long *out, struct api_error *e)
{
	const json_t *v = json_object_get(body, name);
	json_int_t i;

	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "%s must be an integer", name);
	i = json_integer_value(v);
	if (i < 0 || (unsigned long long)i < min)
		*out = min;
	else
		*out = (unsigned long long)i > max ? max :
		    (unsigned long long)i;
	return 0;
}

static int
body_string(const json_t *body, const char *name, const char **out,
    struct api_error *e)
{
	const json_t *v = json_object_get(body, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "%s must be a string", name);
	*out = json_string_value(v);
	return 0;
}

/* SearchRequest body (RFC 7644 §3.4.3). Strings borrow from body or
 * from the two bufs. */
static int
list_params_from_body(const json_t *body, struct list_params *lp,
    struct buf *attrs, struct buf *excl, struct api_error *e)
{
	const json_t *schemas = json_object_get(body, "schemas"), *v;
	unsigned long long n;
	size_t i;
	int ok = 0, r;

	memset(lp, 0, sizeof(*lp));
	lp->start_index = 1;
	lp->count = SCIM_LIST_COUNT_DEFAULT;
	json_array_foreach(schemas, i, v) {
		if (json_is_string(v) && strcasecmp(json_string_value(v),
		    SCIM_SCHEMA_SEARCH) == 0)
			ok = 1;
	}
	if (!ok)
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "schemas must contain %s", SCIM_SCHEMA_SEARCH);
	if ((r = body_string(body, "filter", &lp->filter, e)) != 0 ||
	    (r = body_string(body, "sortBy", &lp->sort_by, e)) != 0 ||
	    (r = body_string(body, "sortOrder", &lp->sort_order, e)) != 0)
		return r;
	if ((v = json_object_get(body, "attributes")) != NULL) {
		if ((r = join_names(v, "attributes", attrs, e)) != 0)
			return r;
		lp->attributes = buf_str(attrs);
	}
	if ((v = json_object_get(body, "excludedAttributes")) != NULL) {
		if ((r = join_names(v, "excludedAttributes", excl, e)) != 0)
			return r;
		lp->excluded = buf_str(excl);
	}
	if ((r = body_index(body, "startIndex", 1, UINT64_MAX / 2,
	    &lp->start_index, e)) != 0)
		return r;
	n = lp->count;
	if ((r = body_index(body, "count", 0, SCIM_LIST_COUNT_MAX, &n, e)) != 0)
		return r;
	lp->count = (unsigned)n;
	return 0;
}

static int
run_list(const struct request *req, struct response *resp, enum scim_rtype rt,
    const struct list_params *lp)
{
	struct api_error e;
	struct scim_projection *proj = NULL;
	struct scim_filter *filter = NULL;
	struct scim_attr_path sort;
	struct db_query q;
	struct db_page page;
	struct db_conn *c = NULL;
	char base[SCIM_BASE_MAX];
	json_t *out = NULL, *list = NULL, *item;
	size_t i;
	int r;

	api_error_clear(&e);
	memset(&q, 0, sizeof(q));
	memset(&page, 0, sizeof(page));
	scim_base_of(req, base, sizeof(base));
	if ((r = scim_projection_parse(rt, lp->attributes, lp->excluded,
	    &proj, &e)) != 0)
		goto out;
	if (lp->filter != NULL && (r = scim_filter_parse(rt, lp->filter,
	    strlen(lp->filter), &filter, &e)) != 0)
		goto out;
	if (lp->sort_by != NULL && lp->sort_by[0] != '\0') {
		if (scim_schema_resolve(rt, lp->sort_by, strlen(lp->sort_by),
		    &sort) != 0) {
			r = api_error_set(&e, 400, SCIM_ET_INVALID_VALUE,
			    "sortBy names an unknown attribute");
			goto out;
		}
		q.sort = &sort;
	}
	if (lp->sort_order != NULL) {
		if (strcmp(lp->sort_order, "descending") == 0)
			q.descending = 1;
		else if (strcmp(lp->sort_order, "ascending") != 0) {
			r = api_error_set(&e, 400, SCIM_ET_INVALID_VALUE,
			    "sortOrder must be ascending or descending");
			goto out;
		}
	}
	q.filter = filter;
	q.start_index = lp->start_index;
	q.count = lp->count;
	if (rt == SCIM_RT_GROUP && scim_projection_wants(proj, "members"))
		q.flags |= DB_F_MEMBERS;
	if (rt == SCIM_RT_USER && scim_projection_wants(proj, "groups"))
		q.flags |= DB_F_GROUPS;
	if ((r = db_acquire(req->app->pool, &c)) != 0 ||
	    (r = db_scim_query(c, rt, &q, &page, &e)) != 0)
		goto out;
	db_release(req->app->pool, c);
	c = NULL;
	r = ERR_ALLOC;
	if ((list = json_array()) == NULL)
		goto out;
	for (i = 0; i < page.nrows; i++) {
		if ((item = render_row(rt, base, &page.rows[i], proj)) == NULL ||
		    json_array_append_new(list, item) != 0)
			goto out;
	}
	out = json_pack("{s:[s],s:I,s:I,s:I,s:O}", "schemas", SCIM_SCHEMA_LIST,
	    "totalResults", (json_int_t)page.total,
	    "startIndex", (json_int_t)lp->start_index,
	    "itemsPerPage", (json_int_t)page.nrows, "Resources", list);
	if (out == NULL)
		goto out;
	r = scim_json_response(resp, 200, out);
out:
	db_release(req->app->pool, c);
	if (r != 0)
		r = scim_reply_error(resp, r, &e);
	db_page_clear(&page);
	scim_filter_free(filter);
	scim_projection_free(proj);
	json_decref(list);
	json_decref(out);
	return r;
}

static int
h_list(const struct request *req, struct response *resp, enum scim_rtype rt)
{
	struct list_params lp;
	struct api_error e;
	int r;

	api_error_clear(&e);
	if ((r = list_params_from_query(req, &lp, &e)) != 0)
		return scim_reply_error(resp, r, &e);
	return run_list(req, resp, rt, &lp);
}

static int
h_search(const struct request *req, struct response *resp, enum scim_rtype rt)
{
	struct list_params lp;
	struct api_error e;
	struct buf attrs, excl;
	json_t *body = NULL;
	int r;

	api_error_clear(&e);
	buf_init(&attrs, SCIM_ATTR_NAME_MAX * SCIM_ATTRS_PARAM_MAX);
	buf_init(&excl, SCIM_ATTR_NAME_MAX * SCIM_ATTRS_PARAM_MAX);
	if ((r = scim_body_parse(req->body, req->body_len, &body, &e)) != 0 ||
	    (r = list_params_from_body(body, &lp, &attrs, &excl, &e)) != 0) {
		r = scim_reply_error(resp, r, &e);
		goto out;
	}
	r = run_list(req, resp, rt, &lp);
out:
	json_decref(body);
	buf_free(&attrs);
	buf_free(&excl);
	return r;
}

/* ---- single resources ---- */

static int
h_get(const struct request *req, struct response *resp, enum scim_rtype rt)
{
	struct api_error e;
	struct scim_projection *proj = NULL;
	struct scim_result res;
	struct db_conn *c = NULL;
	struct db_row row;
	char base[SCIM_BASE_MAX];
	unsigned flags = 0;
	int r, any = 0;

	api_error_clear(&e);
	memset(&row, 0, sizeof(row));
	memset(&res, 0, sizeof(res));
	scim_base_of(req, base, sizeof(base));
	if ((r = projection_from_query(req, rt, &proj, &e)) != 0)
		goto out;
	if (rt == SCIM_RT_GROUP && scim_projection_wants(proj, "members"))
		flags |= DB_F_MEMBERS;
	if (rt == SCIM_RT_USER && scim_projection_wants(proj, "groups"))
		flags |= DB_F_GROUPS;
	if ((r = db_acquire(req->app->pool, &c)) != 0 ||
	    (r = db_scim_get(c, rt, req->params[0], flags, &row)) != 0)
		goto out;
	db_release(req->app->pool, c);
	c = NULL;
	if (req->if_none_match != NULL &&
	    (scim_etag_matches(req->if_none_match, row.version, &any) || any)) {
		scim_etag(row.version, resp->etag, sizeof(resp->etag));
		resp->status = 304;
		resp->content_type = CT_SCIM;
		r = 0;
		goto out;
	}
	if ((r = result_from_row(rt, base, &row, proj, 200, 1, &res)) != 0)
		goto out;
	r = send_result(resp, &res);
out:
	db_release(req->app->pool, c);
	if (r != 0)
		r = scim_reply_error(resp, r, &e);
	db_row_clear(&row);
	scim_result_clear(&res);
	scim_projection_free(proj);
	return r;
}

enum write_kind { WRITE_CREATE, WRITE_REPLACE, WRITE_PATCH };

static int
h_write(const struct request *req, struct response *resp, enum scim_rtype rt,
    enum write_kind kind)
{
	struct api_error e;
	struct scim_projection *proj = NULL;
	struct scim_result res;
	char base[SCIM_BASE_MAX];
	json_t *body = NULL;
	int r, want_body;

	api_error_clear(&e);
	memset(&res, 0, sizeof(res));
	scim_base_of(req, base, sizeof(base));
	if ((r = projection_from_query(req, rt, &proj, &e)) != 0 ||
	    (r = scim_body_parse(req->body, req->body_len, &body, &e)) != 0)
		goto out;
	switch (kind) {
	case WRITE_CREATE:
		r = scim_op_create(req->app, base, rt, body, proj, &res, &e);
		break;
	case WRITE_REPLACE:
		r = scim_op_replace(req->app, base, rt, req->params[0], body,
		    req->if_match, proj, &res, &e);
		break;
	case WRITE_PATCH:
		/* Groups answer 204 (Entra, Okta) unless the client asked
		 * for attributes; Users answer with the resource */
		want_body = rt == SCIM_RT_USER ||
		    request_query(req, "attributes") != NULL ||
		    request_query(req, "excludedAttributes") != NULL;
		r = scim_op_patch(req->app, base, rt, req->params[0], body,
		    req->if_match, want_body, proj, &res, &e);
		break;
	}
	if (r != 0)
		goto out;
	r = send_result(resp, &res);
out:
	if (r != 0)
		r = scim_reply_error(resp, r, &e);
	json_decref(body);
	scim_result_clear(&res);
	scim_projection_free(proj);
	return r;
}

static int
h_delete(const struct request *req, struct response *resp, enum scim_rtype rt)
{
	struct api_error e;
	int r;

	api_error_clear(&e);
	if ((r = scim_op_delete(req->app, rt, req->params[0], req->if_match,
	    &e)) != 0)
		return scim_reply_error(resp, r, &e);
	resp->status = 204;
	resp->content_type = CT_SCIM;
	return 0;
}

int
scim_h_users_list(const struct request *req, struct response *resp)
{
	return h_list(req, resp, SCIM_RT_USER);
}

int
scim_h_users_search(const struct request *req, struct response *resp)
{
	return h_search(req, resp, SCIM_RT_USER);
}

int
scim_h_users_create(const struct request *req, struct response *resp)
{
	return h_write(req, resp, SCIM_RT_USER, WRITE_CREATE);
}

int
scim_h_user_get(const struct request *req, struct response *resp)
{
	return h_get(req, resp, SCIM_RT_USER);
}

int
scim_h_user_replace(const struct request *req, struct response *resp)
{
	return h_write(req, resp, SCIM_RT_USER, WRITE_REPLACE);
}

int
scim_h_user_patch(const struct request *req, struct response *resp)
{
	return h_write(req, resp, SCIM_RT_USER, WRITE_PATCH);
}

int
scim_h_user_delete(const struct request *req, struct response *resp)
{
	return h_delete(req, resp, SCIM_RT_USER);
}

int
scim_h_groups_list(const struct request *req, struct response *resp)
{
	return h_list(req, resp, SCIM_RT_GROUP);
}

int
scim_h_groups_search(const struct request *req, struct response *resp)
{
	return h_search(req, resp, SCIM_RT_GROUP);
}

int
scim_h_groups_create(const struct request *req, struct response *resp)
{
	return h_write(req, resp, SCIM_RT_GROUP, WRITE_CREATE);
}

int
scim_h_group_get(const struct request *req, struct response *resp)
{
	return h_get(req, resp, SCIM_RT_GROUP);
}

int
scim_h_group_replace(const struct request *req, struct response *resp)
{
	return h_write(req, resp, SCIM_RT_GROUP, WRITE_REPLACE);
}

int
scim_h_group_patch(const struct request *req, struct response *resp)
{
	return h_write(req, resp, SCIM_RT_GROUP, WRITE_PATCH);
}

int
scim_h_group_delete(const struct request *req, struct response *resp)
{
	return h_delete(req, resp, SCIM_RT_GROUP);
}
