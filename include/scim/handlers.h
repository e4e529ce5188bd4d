#ifndef VB_SCIM_HANDLERS_H
#define VB_SCIM_HANDLERS_H

#include <jansson.h>

#include "http/request.h"
#include "scim/resource.h"
#include "scim/schema.h"
#include "util/errors.h"

/*
 * SCIM HTTP handlers (RFC 7644 §3) and the resource operations they
 * share with Bulk. Each operation is one database transaction.
 */

struct app;

/* Result of one resource operation. body is a new reference or NULL;
 * scim_result_clear releases it. */
struct scim_result {
	int status;			/* 200, 201, 204, 304 */
	json_t *body;
	char id[SCIM_ID_LEN + 1];
	char location[HTTP_PATH_MAX];
	char etag[64];
};

void scim_result_clear(struct scim_result *res);

/*
 * Parse a request body as JSON once at the edge: depth <= JSON_DEPTH_MAX,
 * valid UTF-8, no duplicate keys, no trailing bytes, a JSON object.
 * 400 invalidSyntax otherwise. *out owned by caller.
 */
int scim_body_parse(const char *body, size_t len, json_t **out,
    struct api_error *e) WUR;

/*
 * Resource operations. scim_base is "scheme://host:port/scim/v2".
 * if_match may be NULL. proj may be NULL (defaults). On ERR_INVALID *e
 * is set; ERR_NOT_FOUND, ERR_CONFLICT (e may carry detail),
 * ERR_PRECONDITION, ERR_DB_UNAVAILABLE, ERR_ALLOC otherwise.
 */
int scim_op_create(struct app *app, const char *scim_base, enum scim_rtype rt,
    const json_t *data, const struct scim_projection *proj,
    struct scim_result *res, struct api_error *e) WUR;
int scim_op_replace(struct app *app, const char *scim_base,
    enum scim_rtype rt, const char *id, const json_t *data,
    const char *if_match, const struct scim_projection *proj,
    struct scim_result *res, struct api_error *e) WUR;
/* want_body: 1 = answer 200 with the resource, 0 = 204 */
int scim_op_patch(struct app *app, const char *scim_base, enum scim_rtype rt,
    const char *id, const json_t *body, const char *if_match, int want_body,
    const struct scim_projection *proj, struct scim_result *res,
    struct api_error *e) WUR;
int scim_op_delete(struct app *app, enum scim_rtype rt, const char *id,
    const char *if_match, struct api_error *e) WUR;

/* Turn an operation's error code into a SCIM error response (0), or
 * return the code for the server to answer 500. */
int scim_reply_error(struct response *resp, int r, const struct api_error *e);

/* Route handlers. */
int scim_h_spc(const struct request *, struct response *);
int scim_h_resource_types(const struct request *, struct response *);
int scim_h_resource_type(const struct request *, struct response *);
int scim_h_schemas(const struct request *, struct response *);
int scim_h_schema(const struct request *, struct response *);
int scim_h_users_list(const struct request *, struct response *);
int scim_h_users_search(const struct request *, struct response *);
int scim_h_users_create(const struct request *, struct response *);
int scim_h_user_get(const struct request *, struct response *);
int scim_h_user_replace(const struct request *, struct response *);
int scim_h_user_patch(const struct request *, struct response *);
int scim_h_user_delete(const struct request *, struct response *);
int scim_h_groups_list(const struct request *, struct response *);
int scim_h_groups_search(const struct request *, struct response *);
int scim_h_groups_create(const struct request *, struct response *);
int scim_h_group_get(const struct request *, struct response *);
int scim_h_group_replace(const struct request *, struct response *);
int scim_h_group_patch(const struct request *, struct response *);
int scim_h_group_delete(const struct request *, struct response *);
int scim_h_bulk(const struct request *, struct response *);

#endif
