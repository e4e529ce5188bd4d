#ifndef VB_APP_APP_H
#define VB_APP_APP_H

#include <stdatomic.h>

/*
 * The daemon context: everything the running service shares. Created by
 * "serve", handed to the HTTP server, reached by handlers through
 * request->app. It is the only mutable state outside a request, and
 * what is in it is thread-safe (the pool locks, counters are atomic).
 */

struct config;
struct db_pool;
struct http_route;
struct auth_cache;
struct policy;
struct seal_keyring;
struct vault_backend;
struct sync_workers;

struct app {
	const struct config *cfg;	/* read-only after start */
	struct db_pool *pool;
	const struct http_route *routes; /* the routing table */
	unsigned nroutes;
	char base_url[512];		/* scheme://host:port, no slash */
	struct auth_cache *auth_cache;	/* NULL when auth_cache_ttl_ms = 0 */
	const struct policy *policy;	/* lifecycle policy (policy.dir),
					 * validated at start, immutable;
					 * owned by app_serve */
	struct seal_keyring *keyring;	/* master keys (vault.master_key,
					 * vault.previous_keys); read-only */
	struct vault_backend *vault;	/* the embedded vault backend */
	struct sync_workers *workers;	/* this daemon's outbox workers,
					 * NULL when none: kicked after
					 * writes that made jobs */
	atomic_uint_fast64_t requests;	/* served, for logs */
	atomic_int in_flight;		/* requests being handled */
};

#endif
