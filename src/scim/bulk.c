/*
 * SCIM Bulk (RFC 7644 §3.7): operations run in order, each in its own
 * transaction through the same operations as the single-resource
 * routes; bulkId references ("bulkId:x") resolve to resources created
 * earlier in the same request.
 */
#include "scim/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "scim/error.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

#define BULK_PREFIX	"bulkId:"
#define BULK_PREFIX_LEN	7

struct bulk_op {
	enum http_method method;
	const char *method_text;	/* as the client sent it */
	const char *bulk_id;		/* or NULL */
	const char *version;		/* If-Match, or NULL */
	const json_t *data;		/* borrowed */
	enum scim_rtype rt;
	char id[SCIM_BULK_ID_MAX + 1];	/* resource id or unresolved ref */
	int has_id;
};

static int
bulk_method(const char *s, enum http_method *m)
{
	if (strcasecmp(s, "POST") == 0)
		*m = HTTP_POST;
	else if (strcasecmp(s, "PUT") == 0)
		*m = HTTP_PUT;
	else if (strcasecmp(s, "PATCH") == 0)
		*m = HTTP_PATCH;
	else if (strcasecmp(s, "DELETE") == 0)
		*m = HTTP_DELETE;
	else
		return ERR_INVALID;
	return 0;
}

/* Resolve "bulkId:x" through the map of created resources. */
static int
resolve_ref(const json_t *ids, const char *s, const char **out,
    struct api_error *e)
{
	const char *v;

	if (strncmp(s, BULK_PREFIX, BULK_PREFIX_LEN) != 0) {
		*out = s;
		return 0;
	}
	v = json_string_value(json_object_get(ids, s + BULK_PREFIX_LEN));
	if (v == NULL)
		return api_error_set(e, 409, SCIM_ET_INVALID_VALUE,
		    "bulkId reference %.64s does not name a resource created "
		    "earlier in this request", s);
	*out = v;
	return 0;
}

/* Replace every "bulkId:x" string in j (in place). */
static int
resolve_refs(json_t *j, const json_t *ids, struct api_error *e)
{
	const char *k, *to;
	json_t *v;
	size_t i;
	int r;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (json_is_string(v)) {
				if ((r = resolve_ref(ids, json_string_value(v),
				    &to, e)) != 0)
					return r;
				if (to != json_string_value(v) &&
				    json_object_set_new(j, k,
				    json_string(to)) != 0)
					return ERR_ALLOC;
			} else if ((r = resolve_refs(v, ids, e)) != 0)
				return r;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_string(v)) {
				if ((r = resolve_ref(ids, json_string_value(v),
				    &to, e)) != 0)
					return r;
				if (to != json_string_value(v) &&
				    json_array_set_new(j, i,
				    json_string(to)) != 0)
					return ERR_ALLOC;
			} else if ((r = resolve_refs(v, ids, e)) != 0)
				return r;
		}
	}
	return 0;
}

/* "/Users", "/Groups/<id>" */
static int
bulk_path(const char *path, struct bulk_op *op, struct api_error *e)
{
	const char *rest;

	if (strncmp(path, "/Users", 6) == 0) {
		op->rt = SCIM_RT_USER;
		rest = path + 6;
	} else if (strncmp(path, "/Groups", 7) == 0) {
		op->rt = SCIM_RT_GROUP;
		rest = path + 7;
	} else
		return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
		    "bulk path must start with /Users or /Groups");
	if (rest[0] == '\0')
		return 0;
	if (rest[0] != '/' || rest[1] == '\0' || strchr(rest + 1, '/') !=
	    NULL || strlen(rest + 1) > SCIM_BULK_ID_MAX)
		return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
		    "bulk path is not a resource path");
	snprintf(op->id, sizeof(op->id), "%s", rest + 1);
	op->has_id = 1;
	return 0;
}

static int
bulk_op_parse(const json_t *o, struct bulk_op *op, struct api_error *e)
{
	const char *path;
	const json_t *v;

	memset(op, 0, sizeof(*op));
	if (!json_is_object(o))
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "each operation must be an object");
	if ((op->method_text = json_string_value(json_object_get(o,
	    "method"))) == NULL || bulk_method(op->method_text,
	    &op->method) != 0)
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "method must be POST, PUT, PATCH or DELETE");
	if ((path = json_string_value(json_object_get(o, "path"))) == NULL)
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "path is required");
	if ((v = json_object_get(o, "bulkId")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > SCIM_BULK_ID_MAX)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "bulkId must be a non-empty string");
		op->bulk_id = json_string_value(v);
	}
	if ((v = json_object_get(o, "version")) != NULL) {
		if (!json_is_string(v))
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "version must be a string");
		op->version = json_string_value(v);
	}
	op->data = json_object_get(o, "data");
	if (bulk_path(path, op, e) != 0)
		return ERR_INVALID;
	if (op->method == HTTP_POST) {
		if (op->has_id)
			return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
			    "POST goes to /Users or /Groups");
		if (op->bulk_id == NULL)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "POST operations need a bulkId");
	} else if (!op->has_id)
		return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
		    "%s needs a resource path", op->method_text);
	if (op->method != HTTP_DELETE && !json_is_object(op->data))
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "data must be an object");
	return 0;
}

/* The SCIM error body an operation's failure would have had alone. */
static json_t *
error_body(int r, const struct api_error *e, int *statusp)
{
	struct response tmp;
	json_t *j = NULL;

	memset(&tmp, 0, sizeof(tmp));
	buf_init(&tmp.body, 64 * 1024);
	if (scim_reply_error(&tmp, r, e) != 0) {
		log_error_f("bulk operation failed: %s", err_str(r));
		scim_error_response(&tmp, 500, NULL, "internal error");
	}
	*statusp = tmp.status;
	j = json_loadb(buf_str(&tmp.body), tmp.body.len, 0, NULL);
	buf_free(&tmp.body);
	return j;
}

static int
run_op(struct app *app, const char *base, struct bulk_op *op,
    json_t *ids, struct scim_result *res, struct api_error *e)
{
	json_t *data = NULL;
	const char *id = op->id;
	int r;

	if (op->has_id && (r = resolve_ref(ids, op->id, &id, e)) != 0)
		return r;
	if (op->data != NULL) {
		if ((data = json_deep_copy(op->data)) == NULL)
			return ERR_ALLOC;
		if ((r = resolve_refs(data, ids, e)) != 0)
			goto out;
	}
	switch (op->method) {
	case HTTP_POST:
		r = scim_op_create(app, base, op->rt, data, NULL, res, e);
		break;
	case HTTP_PUT:
		r = scim_op_replace(app, base, op->rt, id, data, op->version,
		    NULL, res, e);
		break;
	case HTTP_PATCH:
		r = scim_op_patch(app, base, op->rt, id, data, op->version, 0,
		    NULL, res, e);
		/* a Bulk result carries no body; RFC 7644 §3.7.3 reports a
		 * successful PATCH as 200 with location and version */
		if (r == 0)
			res->status = 200;
		break;
	case HTTP_DELETE:
		r = scim_op_delete(app, op->rt, id, op->version, e);
		if (r == 0) {
			res->status = 204;
			snprintf(res->location, sizeof(res->location),
			    "%s/%s/%s", base, op->rt == SCIM_RT_USER ?
			    "Users" : "Groups", id);
		}
		break;
	default:
		r = ERR_INTERNAL;
		break;
	}
out:
	json_decref(data);
	return r;
}

int
scim_h_bulk(const struct request *req, struct response *resp)
{
	struct api_error e;
	struct scim_result res;
	struct bulk_op op;
	char base[600], status[8];
	json_t *body = NULL, *ops, *results = NULL, *ids = NULL, *out = NULL;
	json_t *item, *o, *v;
	size_t i;
	json_int_t fail_on = 0, errors = 0;
	int r, st, ok;

	api_error_clear(&e);
	memset(&res, 0, sizeof(res));
	snprintf(base, sizeof(base), "%s/scim/v2", req->base_url);
	if (req->body_len > SCIM_BULK_PAYLOAD_MAX) {
		scim_error_response(resp, 413, NULL,
		    "bulk request larger than maxPayloadSize");
		return 0;
	}
	if ((r = scim_body_parse(req->body, req->body_len, &body, &e)) != 0)
		goto out;
	ok = 0;
	json_array_foreach(json_object_get(body, "schemas"), i, v) {
		if (json_is_string(v) && strcasecmp(json_string_value(v),
		    SCIM_SCHEMA_BULKREQ) == 0)
			ok = 1;
	}
	if (!ok) {
		r = api_error_set(&e, 400, SCIM_ET_INVALID_VALUE,
		    "schemas must contain %s", SCIM_SCHEMA_BULKREQ);
		goto out;
	}
	ops = json_object_get(body, "Operations");
	if (!json_is_array(ops)) {
		r = api_error_set(&e, 400, SCIM_ET_INVALID_SYNTAX,
		    "Operations must be an array");
		goto out;
	}
	if (json_array_size(ops) > SCIM_BULK_OPS_MAX) {
		scim_error_response(resp, 413, SCIM_ET_TOO_MANY,
		    "more than maxOperations operations");
		r = 0;
		goto out;
	}
	if ((v = json_object_get(body, "failOnErrors")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			r = api_error_set(&e, 400, SCIM_ET_INVALID_VALUE,
			    "failOnErrors must be a non-negative integer");
			goto out;
		}
		fail_on = json_integer_value(v);
	}
	r = ERR_ALLOC;
	if ((results = json_array()) == NULL || (ids = json_object()) == NULL)
		goto out;
	json_array_foreach(ops, i, o) {
		if (fail_on > 0 && errors >= fail_on)
			break;
		api_error_clear(&e);
		scim_result_clear(&res);
		r = ERR_ALLOC;
		if ((item = json_object()) == NULL ||
		    json_array_append_new(results, item) != 0)
			goto out;
		r = bulk_op_parse(o, &op, &e);
		if (json_is_object(o) && (v = json_object_get(o, "method")) !=
		    NULL)
			json_object_set(item, "method", v);
		if (json_is_object(o) && (v = json_object_get(o, "bulkId")) !=
		    NULL)
			json_object_set(item, "bulkId", v);
		if (r == 0)
			r = run_op(req->app, base, &op, ids, &res, &e);
		if (r != 0) {
			json_t *err = error_body(r, &e, &st);

			errors++;
			snprintf(status, sizeof(status), "%d", st);
			json_object_set_new(item, "status", json_string(status));
			if (err != NULL)
				json_object_set_new(item, "response", err);
			continue;
		}
		snprintf(status, sizeof(status), "%d", res.status);
		json_object_set_new(item, "status", json_string(status));
		if (res.location[0] != '\0')
			json_object_set_new(item, "location",
			    json_string(res.location));
		if (res.etag[0] != '\0')
			json_object_set_new(item, "version",
			    json_string(res.etag));
		if (op.method == HTTP_POST && op.bulk_id != NULL &&
		    json_object_set_new(ids, op.bulk_id,
		    json_string(res.id)) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	r = ERR_ALLOC;
	if ((out = json_pack("{s:[s],s:O}", "schemas", SCIM_SCHEMA_BULKRESP,
	    "Operations", results)) == NULL)
		goto out;
	r = scim_json_response(resp, 200, out);
out:
	if (r != 0)
		r = scim_reply_error(resp, r, &e);
	scim_result_clear(&res);
	json_decref(body);
	json_decref(results);
	json_decref(ids);
	json_decref(out);
	return r;
}
