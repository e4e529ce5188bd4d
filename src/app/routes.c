#include "app/routes.h"

#include "app/health.h"
#include "scim/handlers.h"

/* Order matters: the first row whose method and pattern match wins, so
 * literal segments (".search") come before "{id}". */
const struct http_route app_routes[] = {
	{ HTTP_GET, "/healthz", health_healthz, SCOPE_NONE, 0 },
	{ HTTP_GET, "/readyz", health_readyz, SCOPE_NONE, 0 },

	{ HTTP_GET, "/scim/v2/ServiceProviderConfig", scim_h_spc, SCOPE_SCIM, 1 },
	{ HTTP_GET, "/scim/v2/ResourceTypes", scim_h_resource_types, SCOPE_SCIM, 1 },
	{ HTTP_GET, "/scim/v2/ResourceTypes/{id}", scim_h_resource_type, SCOPE_SCIM, 1 },
	{ HTTP_GET, "/scim/v2/Schemas", scim_h_schemas, SCOPE_SCIM, 1 },
	{ HTTP_GET, "/scim/v2/Schemas/{id}", scim_h_schema, SCOPE_SCIM, 1 },

	{ HTTP_GET, "/scim/v2/Users", scim_h_users_list, SCOPE_SCIM, 1 },
	{ HTTP_POST, "/scim/v2/Users/.search", scim_h_users_search, SCOPE_SCIM, 1 },
	{ HTTP_POST, "/scim/v2/Users", scim_h_users_create, SCOPE_SCIM, 1 },
	{ HTTP_GET, "/scim/v2/Users/{id}", scim_h_user_get, SCOPE_SCIM, 1 },
	{ HTTP_PUT, "/scim/v2/Users/{id}", scim_h_user_replace, SCOPE_SCIM, 1 },
	{ HTTP_PATCH, "/scim/v2/Users/{id}", scim_h_user_patch, SCOPE_SCIM, 1 },
	{ HTTP_DELETE, "/scim/v2/Users/{id}", scim_h_user_delete, SCOPE_SCIM, 1 },

	{ HTTP_GET, "/scim/v2/Groups", scim_h_groups_list, SCOPE_SCIM, 1 },
	{ HTTP_POST, "/scim/v2/Groups/.search", scim_h_groups_search, SCOPE_SCIM, 1 },
	{ HTTP_POST, "/scim/v2/Groups", scim_h_groups_create, SCOPE_SCIM, 1 },
	{ HTTP_GET, "/scim/v2/Groups/{id}", scim_h_group_get, SCOPE_SCIM, 1 },
	{ HTTP_PUT, "/scim/v2/Groups/{id}", scim_h_group_replace, SCOPE_SCIM, 1 },
	{ HTTP_PATCH, "/scim/v2/Groups/{id}", scim_h_group_patch, SCOPE_SCIM, 1 },
	{ HTTP_DELETE, "/scim/v2/Groups/{id}", scim_h_group_delete, SCOPE_SCIM, 1 },

	{ HTTP_POST, "/scim/v2/Bulk", scim_h_bulk, SCOPE_SCIM, 1 },
};

const unsigned app_nroutes = sizeof(app_routes) / sizeof(app_routes[0]);
