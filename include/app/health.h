#ifndef VB_APP_HEALTH_H
#define VB_APP_HEALTH_H

#include "http/request.h"

/*
 * Health endpoints (no token). Both are route handlers: they fill resp
 * and return 0 (a negative ERR_* only when the response could not be
 * written).
 */

/* GET /healthz: the process serves requests. 200 {"status":"ok"}. */
int health_healthz(const struct request *r, struct response *resp);

/*
 * GET /readyz: the database answers and carries this binary's schema.
 * 200 {"status":"ready"}, or 503 {"status":"unavailable","detail":
 * "database unreachable"|"database not migrated"} with Retry-After: 1.
 */
int health_readyz(const struct request *r, struct response *resp);

#endif
