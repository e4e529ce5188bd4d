#include "app/routes.h"

#include "app/health.h"
#include "app/sync_api.h"
#include "app/vault_api.h"
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

	{ HTTP_GET, "/admin/safes", vault_h_safes_list, SCOPE_ADMIN, 0 },
	{ HTTP_GET, "/admin/safes/{safe}/members", vault_h_safe_members, SCOPE_ADMIN, 0 },
	{ HTTP_GET, "/admin/safes/{safe}/accounts", vault_h_accounts_list, SCOPE_ADMIN, 0 },
	{ HTTP_PUT, "/admin/safes/{safe}/accounts/{account}", vault_h_account_put, SCOPE_ADMIN, 0 },
	{ HTTP_DELETE, "/admin/safes/{safe}/accounts/{account}", vault_h_account_delete, SCOPE_ADMIN, 0 },
	{ HTTP_PUT, "/admin/safes/{safe}/accounts/{account}/secret", vault_h_secret_put, SCOPE_ADMIN, 0 },
	{ HTTP_POST, "/v1/safes/{safe}/accounts/{account}/retrieve", vault_h_secret_retrieve, SCOPE_VAULT, 0 },

	{ HTTP_GET, "/admin/sync/jobs", sync_h_jobs_list, SCOPE_ADMIN, 0 },
	{ HTTP_GET, "/admin/sync/jobs/{id}", sync_h_job_get, SCOPE_ADMIN, 0 },
	{ HTTP_POST, "/admin/sync/jobs/{id}/retry", sync_h_job_retry, SCOPE_ADMIN, 0 },
	{ HTTP_GET, "/admin/sync/stats", sync_h_stats, SCOPE_ADMIN, 0 },
	{ HTTP_POST, "/admin/reconcile", sync_h_reconcile, SCOPE_ADMIN, 0 },
	{ HTTP_GET, "/metrics", sync_h_metrics, SCOPE_ADMIN, 0 },
};

const unsigned app_nroutes = sizeof(app_routes) / sizeof(app_routes[0]);
