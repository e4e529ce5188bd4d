#ifndef VB_CONFIG_CONFIG_H
#define VB_CONFIG_CONFIG_H

#include <stdio.h>

#include "util/errors.h"
#include "util/log.h"

/*
 * Daemon configuration. One option table in config.c (name, type,
 * default, min, max, reloadable, help) drives parsing, defaults, the
 * environment overrides, --dump-config and the docs check
 * (scripts/optscan.sh fails the build for an option README.md does not
 * document).
 *
 * File format: UTF-8 text, one "key = value" per line, '#' starts a
 * comment line, blank lines ignored, values may be double-quoted.
 * Environment: VAULTBRIDGE_<KEY> with '.' -> '_' and upper case
 * (http.listen -> VAULTBRIDGE_HTTP_LISTEN) overrides the file.
 * Secrets are never values here: they are read from files named by
 * *_file options.
 */

struct config {
	/* http */
	char *http_listen;		/* address, default 127.0.0.1 */
	unsigned http_port;		/* default 8080 */
	char *http_tls_cert;		/* PEM file, NULL = no TLS */
	char *http_tls_key;		/* PEM file */
	int http_allow_plain;		/* plain HTTP on non-loopback */
	unsigned long long http_body_max;
	unsigned http_conn_timeout_s;	/* idle connection timeout */
	unsigned http_max_conns;
	unsigned http_threads;		/* worker threads, each serving many
					 * connections (epoll) */
	unsigned http_drain_timeout_s;	/* graceful drain on SIGTERM */
	char *http_base_url;		/* public base URL for Location/meta;
					 * NULL = derived from listen/port */
	/* db */
	char *db_dsn;			/* libpq conninfo; may name passfile */
	unsigned db_pool_size;
	unsigned db_connect_timeout_s;
	unsigned db_acquire_timeout_ms;
	unsigned db_statement_timeout_ms;
	/* logging */
	enum log_level log_level;
	/* auth */
	unsigned auth_cache_ttl_ms;	/* 0 = check every request in db */
	/* policy */
	char *policy_dir;		/* *.json policy files, default
					 * "policy" (relative to the working
					 * directory); NULL = no policy */
	/* vault (embedded backend) */
	char *vault_dsn;		/* "" = same as db_dsn */
	unsigned vault_pool_size;
	char *vault_master_key;		/* path or cred:NAME; NULL = unset */
	char *vault_previous_keys;	/* comma-separated, "" = none */
	/* sync (outbox workers) */
	unsigned sync_workers;
	unsigned sync_batch;
	unsigned sync_max_attempts;
	unsigned sync_backoff_base_ms;
	unsigned sync_backoff_max_ms;
	unsigned sync_poll_ms;
	unsigned long long sync_keep_done_s;
};

/*
 * Load defaults, then the file at path (NULL = no file), then the
 * environment (envp, NULL = environ). Unknown key, bad value, value out
 * of range -> ERR_CONFIG with a message "file:line: ..." in err (size
 * errsz). *out owned by caller (config_free).
 */
int config_load(const char *path, char *const *envp, struct config **out,
    char *err, size_t errsz) WUR;

void config_free(struct config *c);

/* Cross-option checks done after loading (TLS cert without key, plain
 * HTTP on a non-loopback address without http.allow_plain, ...).
 * ERR_CONFIG with message. */
int config_check(const struct config *c, char *err, size_t errsz) WUR;

/* Write every option as "key = value" lines that config_load parses
 * back to the same values. */
void config_dump(const struct config *c, FILE *f);

#endif
