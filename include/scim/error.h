#ifndef VB_SCIM_ERROR_H
#define VB_SCIM_ERROR_H

#include <jansson.h>

#include "http/request.h"
#include "util/errors.h"

/*
 * The one writer of SCIM responses: error bodies (RFC 7644 §3.12) and
 * JSON bodies with Content-Type application/scim+json.
 */

/* {"schemas":[Error],"status":"<status>","scimType":..,"detail":..};
 * scimType omitted when scim_type is NULL or "". */
void scim_error_response(struct response *resp, int status,
    const char *scim_type, const char *detail);

/* Same from an api_error (status 0 is treated as 400). */
void scim_error_from(struct response *resp, const struct api_error *e);

/* Serialise body (compact) into resp with status and CT_SCIM. Returns 0
 * or ERR_ALLOC / ERR_TOO_LARGE (then resp is a 500 SCIM error). */
int scim_json_response(struct response *resp, int status,
    const json_t *body) WUR;

#endif
