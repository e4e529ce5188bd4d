#ifndef VB_APP_ROUTES_H
#define VB_APP_ROUTES_H

#include "http/server.h"

/* The routing table of the daemon: method, path pattern, handler,
 * scope, SCIM error style. Static const data in routes.c. */
extern const struct http_route app_routes[];
extern const unsigned app_nroutes;

#endif
