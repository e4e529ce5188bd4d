#ifndef VB_APP_SERVE_H
#define VB_APP_SERVE_H

#include "util/errors.h"

/*
 * The "serve" command: run the daemon in the foreground until SIGTERM or
 * SIGINT. Creates the database pool (no connection is needed to start:
 * /readyz answers 503 until the database is reachable and migrated), the
 * app context, the auth cache when auth.cache_ttl_ms > 0, and the HTTP
 * server. SIGTERM, SIGINT and SIGHUP are blocked in every thread and
 * taken with sigwait() in the calling thread, so there is no signal
 * handler state. On SIGTERM/SIGINT it stops accepting connections,
 * drains requests in flight for up to http.drain_timeout seconds, frees
 * everything and returns 0. SIGHUP is logged and ignored (no reload yet).
 *
 * Public base URL: http.base_url, else "http[s]://<listen>:<port>" from
 * the configuration. With http.port = 0 the kernel picks the port after
 * bind, so set http.base_url then (a warning is logged otherwise).
 *
 * cfg must have passed config_check() and outlive the call. Returns 0,
 * or a negative ERR_* when startup fails (logged).
 */
struct app;
struct config;

int app_serve(const struct config *cfg) WUR;

/*
 * Load the master keys (vault.master_key, vault.previous_keys) into
 * app->keyring and create the embedded vault backend app->vault; when
 * the vault database answers, check that its data keys open (fail
 * closed: ERR_CRYPTO, logged). An unreachable vault is logged and not
 * an error. Used by serve and by CLI commands that reach the vault.
 * On failure what was made is released.
 */
int app_vault_open(const struct config *cfg, struct app *app) WUR;
/* Free app->vault and app->keyring; NULL app is fine. */
void app_vault_close(struct app *app);

#endif
