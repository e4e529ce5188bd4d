#include "scim/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/schema.h"
#include "util/buf.h"

static int
dump_cb(const char *p, size_t n, void *arg)
{
	struct buf *b = arg;

	buf_append(b, p, n);
	return buf_failed(b) ? -1 : 0;
}

void
scim_error_response(struct response *resp, int status,
    const char *scim_type, const char *detail)
{
	json_t *o;
	char st[8];

	snprintf(st, sizeof(st), "%d", status);
	buf_reset(&resp->body);
	resp->status = status;
	resp->content_type = CT_SCIM;
	o = json_pack("{s:[s],s:s,s:s}", "schemas", SCIM_SCHEMA_ERROR,
	    "status", st, "detail", detail != NULL ? detail : "");
	if (o != NULL && scim_type != NULL && scim_type[0] != '\0')
		json_object_set_new(o, "scimType", json_string(scim_type));
	if (o == NULL || json_dump_callback(o, dump_cb, &resp->body,
	    JSON_COMPACT) != 0 || buf_failed(&resp->body)) {
		buf_reset(&resp->body);
		buf_printf(&resp->body, "{\"schemas\":[\"%s\"],"
		    "\"status\":\"%d\"}", SCIM_SCHEMA_ERROR, status);
	}
	json_decref(o);
}

void
scim_error_from(struct response *resp, const struct api_error *e)
{
	scim_error_response(resp, e->status != 0 ? e->status : 400,
	    e->scim_type, e->detail);
}

int
scim_json_response(struct response *resp, int status, const json_t *body)
{
	buf_reset(&resp->body);
	if (json_dump_callback(body, dump_cb, &resp->body,
	    JSON_COMPACT | JSON_ENCODE_ANY) != 0 ||
	    buf_failed(&resp->body)) {
		int r = buf_failed(&resp->body) ? ERR_TOO_LARGE : ERR_ALLOC;

		scim_error_response(resp, 500, NULL,
		    "response could not be written");
		return r;
	}
	resp->status = status;
	resp->content_type = CT_SCIM;
	return 0;
}
