#include "app/serve.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/app.h"
#include "app/routes.h"
#include "app/version.h"
#include "config/config.h"
#include "crypto/seal.h"
#include "crypto/token.h"
#include "db/pool.h"
#include "http/auth.h"
#include "http/auth_watch.h"
#include "http/server.h"
#include "policy/policy.h"
#include "sync/worker.h"
#include "util/bounds.h"
#include "util/log.h"
#include "vault/embedded.h"

/*
 * Public base URL: http.base_url, else derived from listen and port
 * (IPv6 literals in brackets). 0 or ERR_CONFIG when it does not fit.
 */
static int
serve_base_url(const struct config *cfg, char *out, size_t outsz)
{
	const char *l = cfg->http_listen != NULL ? cfg->http_listen : "";
	int v6 = strchr(l, ':') != NULL, n;

	if (cfg->http_base_url != NULL)
		n = snprintf(out, outsz, "%s", cfg->http_base_url);
	else {
		n = snprintf(out, outsz, "%s://%s%s%s:%u",
		    cfg->http_tls_cert != NULL ? "https" : "http",
		    v6 ? "[" : "", l, v6 ? "]" : "", cfg->http_port);
		if (cfg->http_port == 0)
			log_warn("http.port = 0 and http.base_url unset: "
			    "Location headers will name port 0; set "
			    "http.base_url");
		else if (strcmp(l, "0.0.0.0") == 0 || strcmp(l, "::") == 0)
			log_warn("http.listen is a wildcard address and "
			    "http.base_url is unset: Location headers will "
			    "name %s; set http.base_url", out);
	}
	if (n < 0 || (size_t)n >= outsz) {
		log_error("base URL longer than %zu bytes", outsz - 1);
		return ERR_CONFIG;
	}
	return 0;
}

/*
 * The lifecycle policy, validated before anything listens: a policy
 * that does not load stops serve (STYLE.md: a bad policy blocks
 * startup). 0 or ERR_CONFIG/ERR_ALLOC, logged.
 */
static int
serve_policy(const struct config *cfg, struct policy **out)
{
	char err[1024], clean[LOG_CLIENT_STR_MAX * 4 + 8];
	int r;

	if ((r = policy_load_dir(cfg->policy_dir, out, err,
	    sizeof(err))) != 0) {
		log_error("policy does not load, not starting: %s", err);
		return r;
	}
	if (cfg->policy_dir == NULL)
		log_warn("policy.dir is empty: no policy, no group becomes a "
		    "safe");
	else
		log_info("policy loaded dir=%s safe_rules=%zu "
		    "permission_sets=%zu", log_clean(cfg->policy_dir, clean,
		    sizeof(clean)), policy_nrules(*out), policy_nsets(*out));
	return 0;
}

/*
 * The master keys: vault.master_key first (new data keys are wrapped
 * under it), then vault.previous_keys (comma-separated) during a
 * rotation. 0 or ERR_CONFIG / ERR_IO with a log line.
 */
static int
serve_keyring(const struct config *cfg, struct seal_keyring **out)
{
	const char *paths[SEAL_KEYRING_MAX];
	char *list = NULL, *p, *comma;
	char err[SEAL_ERR_MAX];
	size_t n = 0;
	int r;

	*out = NULL;
	if (cfg->vault_master_key == NULL) {
		log_error("vault.master_key is not set: create a key with "
		    "\"vaultbridge key generate PATH\" and name it in the "
		    "config (or cred:NAME under systemd)");
		return ERR_CONFIG;
	}
	paths[n++] = cfg->vault_master_key;
	if ((list = strdup(cfg->vault_previous_keys != NULL ?
	    cfg->vault_previous_keys : "")) == NULL)
		return ERR_ALLOC;
	for (p = list; *p != '\0'; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (*p != '\0') {
			if (n == SEAL_KEYRING_MAX) {
				log_error("vault.previous_keys: more than %d "
				    "keys", SEAL_KEYRING_MAX - 1);
				r = ERR_CONFIG;
				goto out;
			}
			paths[n++] = p;
		}
		if (comma == NULL)
			break;
	}
	if ((r = seal_keyring_load(paths, n, out, err, sizeof(err))) != 0)
		log_error("vault master key: %s", err);
out:
	free(list);
	return r;
}

int
app_vault_open(const struct config *cfg, struct app *app)
{
	struct vault_embedded_opts vo;
	char err[SEAL_ERR_MAX];
	int r;

	memset(&vo, 0, sizeof(vo));
	vo.dsn = cfg->vault_dsn != NULL && cfg->vault_dsn[0] != '\0' ?
	    cfg->vault_dsn : cfg->db_dsn;
	vo.pool_size = cfg->vault_pool_size;
	vo.connect_timeout_s = cfg->db_connect_timeout_s;
	vo.acquire_timeout_ms = cfg->db_acquire_timeout_ms;
	vo.statement_timeout_ms = cfg->db_statement_timeout_ms;
	if ((r = serve_keyring(cfg, &app->keyring)) != 0)
		return r;
	vo.keyring = app->keyring;
	if ((r = vault_embedded_new(&vo, &app->vault)) != 0) {
		log_error("vault backend: %s", err_str(r));
		app_vault_close(app);
		return r;
	}
	err[0] = '\0';
	r = vault_embedded_check(app->vault, err, sizeof(err));
	if (r == ERR_DB_UNAVAILABLE) {
		log_warn("vault database not reachable at start (%s); jobs "
		    "wait until it is", err);
		return 0;
	}
	if (r != 0) {
		log_error("vault check failed, not starting: %s", err);
		app_vault_close(app);
	}
	return r;
}

void
app_vault_close(struct app *app)
{
	if (app == NULL)
		return;
	vault_backend_free(app->vault);
	app->vault = NULL;
	seal_keyring_free(app->keyring);
	app->keyring = NULL;
}

/*
 * jansson's free: wipe the block first. Request bodies that carry a
 * secret (PUT .../secret) are parsed by jansson, whose string and parser
 * buffers would otherwise go back to the heap with the plaintext in
 * them. Set once at startup, before any thread exists.
 */
static void
serve_json_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

/* One line on the state of the database at startup; never fatal. */
static void
serve_db_probe(struct app *app)
{
	int r;

	r = db_ready(app->pool);
	if (r == 0)
		log_info("database ready");
	else if (r == ERR_CONFIG)
		log_warn("database schema is not at this binary's version: "
		    "run 'vaultbridge migrate'; /readyz answers 503 until "
		    "then");
	else
		log_warn("database unreachable (%s): /readyz answers 503 "
		    "until it is back", err_str(r));
}

static const char *
serve_signame(int sig)
{
	switch (sig) {
	case SIGTERM: return "TERM";
	case SIGINT: return "INT";
	case SIGHUP: return "HUP";
	default: return "?";
	}
}

int
app_serve(const struct config *cfg)
{
	struct db_pool_opts po;
	struct app *app = NULL;
	struct http_server *srv = NULL;
	struct policy *policy = NULL;
	struct sync_workers *workers = NULL;
	struct auth_watch *watch = NULL;
	sigset_t set, oset;
	int sig = 0, r, e = 0, masked = 0;

	if ((r = crypto_init()) != 0) {
		log_error("crypto init failed: %s", err_str(r));
		goto out;
	}
	json_set_alloc_funcs(malloc, serve_json_free);
	if ((app = calloc(1, sizeof(*app))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	atomic_init(&app->requests, 0);
	atomic_init(&app->in_flight, 0);
	app->cfg = cfg;
	app->routes = app_routes;
	app->nroutes = app_nroutes;
	if ((r = serve_base_url(cfg, app->base_url,
	    sizeof(app->base_url))) != 0)
		goto out;
	if ((r = serve_policy(cfg, &policy)) != 0)
		goto out;
	app->policy = policy;

	memset(&po, 0, sizeof(po));
	po.dsn = cfg->db_dsn;
	po.size = cfg->db_pool_size;
	po.connect_timeout_s = cfg->db_connect_timeout_s;
	po.acquire_timeout_ms = cfg->db_acquire_timeout_ms;
	po.statement_timeout_ms = cfg->db_statement_timeout_ms;
	/* opens no connection: serve starts without the database */
	if ((r = db_pool_new(&po, &app->pool)) != 0) {
		log_error("database pool: %s", err_str(r));
		goto out;
	}
	if ((r = http_auth_cache_new(cfg->auth_cache_ttl_ms,
	    &app->auth_cache)) != 0) {
		log_error("auth cache: %s", err_str(r));
		goto out;
	}
	if ((r = app_vault_open(cfg, app)) != 0)
		goto out;

	/*
	 * Block the signals before any thread exists so every thread
	 * inherits the mask; this thread takes them with sigwait().
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if ((e = pthread_sigmask(SIG_BLOCK, &set, &oset)) != 0) {
		log_error("pthread_sigmask: %s", strerror(e));
		r = ERR_INTERNAL;
		goto out;
	}
	masked = 1;
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The token cache's invalidation watcher (no cache, no thread):
	 * started once the mask is set, so it inherits it; the cache stays
	 * off until its LISTEN succeeded.
	 */
	if ((r = http_auth_watch_start(app->auth_cache, cfg->db_dsn,
	    cfg->db_connect_timeout_s, &watch)) != 0) {
		log_error("auth cache watcher: %s", err_str(r));
		goto out;
	}

	log_info("starting version=%s base_url=%s pool_size=%u threads=%u "
	    "auth_cache_ttl_ms=%u", VB_VERSION, app->base_url,
	    cfg->db_pool_size, cfg->http_threads, cfg->auth_cache_ttl_ms);
	/* each sync worker keeps a connection while it waits for work */
	if (cfg->db_pool_size < cfg->http_threads + cfg->sync_workers)
		log_warn("db.pool_size is below http.threads + sync.workers: "
			 "requests will wait for database connections "
			 "pool_size=%u threads=%u workers=%u",
		    cfg->db_pool_size, cfg->http_threads, cfg->sync_workers);
	if ((r = http_server_start(app, &srv)) != 0) {
		log_error("http server: %s", err_str(r));
		goto out;
	}
	serve_db_probe(app);
	if ((r = sync_workers_start(app, &workers)) != 0) {
		log_error("sync workers: %s", err_str(r));
		goto out;
	}
	app->workers = workers;

	for (;;) {
		if ((e = sigwait(&set, &sig)) != 0) {
			log_error("sigwait: %s", strerror(e));
			sig = SIGTERM;
			break;
		}
		if (sig != SIGHUP)
			break;
		log_info("SIGHUP: configuration reload is not supported yet; "
		    "ignored");
	}
	log_info("draining signal=%s timeout_s=%u in_flight=%d",
	    serve_signame(sig), cfg->http_drain_timeout_s,
	    atomic_load(&app->in_flight));
	http_server_quiesce(srv);
	http_server_stop(srv, cfg->http_drain_timeout_s);
	srv = NULL;
	app->workers = NULL;
	sync_workers_stop(workers);
	workers = NULL;
	http_auth_watch_stop(watch);
	watch = NULL;
	r = e != 0 ? ERR_INTERNAL : 0;
out:
	http_server_stop(srv, 0);
	sync_workers_stop(workers);
	/* no request uses the cache any more: the watcher goes before it */
	http_auth_watch_stop(watch);
	if (app != NULL) {
		app_vault_close(app);
		http_auth_cache_free(app->auth_cache);
		db_pool_free(app->pool);
		if (r == 0)
			log_info("serve stopped requests=%llu", (unsigned long long)
			    atomic_load(&app->requests));
		free(app);
	}
	policy_free(policy);
	if (masked)
		pthread_sigmask(SIG_SETMASK, &oset, NULL);
	return r;
}
