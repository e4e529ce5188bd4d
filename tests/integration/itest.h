#ifndef VB_ITEST_H
#define VB_ITEST_H

/*
 * Integration test harness: each it_*.c binary starts a throwaway
 * PostgreSQL cluster (scripts/pg.sh, Unix socket in a temp dir, as an
 * unprivileged user when run as root), writes a config, runs
 * `vaultbridge migrate`, creates an all-scope token, starts
 * `vaultbridge serve` on a free loopback port and waits for /readyz.
 * The binary is $VB_BINARY (default ./vaultbridge). Tests talk HTTP with
 * libcurl and read JSON with jansson.
 */

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "testlib.h"

struct itest_env {
	char dir[256];		/* temp dir: pg data, config, logs */
	char dsn[512];		/* libpq conninfo of the test database */
	char config_path[300];
	char log_path[300];	/* server stderr */
	char addr[64];		/* "http://127.0.0.1:PORT" */
	int port;
	char token[160];	/* token with every scope */
	pid_t pid;		/* server pid, 0 when stopped */
	char extra_config[1024]; /* extra "key = value" lines for the
				 * next itest_server_start */
};

/* The environment of the running binary (set up by ITEST_MAIN). */
extern struct itest_env *itest;

/* Set up everything (cluster, config, migrate, token, server). 0/-1. */
int itest_setup(struct itest_env *env);
/* Stop the server and the cluster, remove the temp dir (kept when
 * ITEST_KEEP=1 is set, path printed). */
void itest_teardown(struct itest_env *env);

/* (Re)write the config (with env->extra_config) and start the server;
 * waits until /healthz answers. 0/-1. */
int itest_server_start(struct itest_env *env);
/* Send sig (SIGTERM, SIGKILL, ...) and wait for exit; returns the
 * exit status as from waitpid, or -1. */
int itest_server_stop(struct itest_env *env, int sig);
/* Stop / start the PostgreSQL cluster (to test outages). 0/-1. */
int itest_db_stop(struct itest_env *env);
int itest_db_start(struct itest_env *env);

/* Run the binary with --config and the given argv (NULL-terminated);
 * stdout into out (size outsz, NUL-terminated). Returns exit status or
 * -1. */
int itest_cli(struct itest_env *env, char *out, size_t outsz,
    const char *const *argv);

/* Run an SQL statement in the test database via psql; stdout (tuples
 * only, unaligned) into out. Returns psql exit status. */
int itest_sql(struct itest_env *env, char *out, size_t outsz,
    const char *sql);

struct itest_resp {
	long status;
	char *body;		/* NUL-terminated, malloc'd */
	size_t body_len;
	json_t *json;		/* parsed body or NULL */
	char content_type[128];
	char location[512];
	char etag[128];
	char www_authenticate[256];
	char retry_after[32];
};

/*
 * One HTTP request to env->addr + path. token: NULL = env->token,
 * "" = no Authorization header, else that token. body: NULL = none
 * (sent with Content-Type application/scim+json otherwise). headers:
 * NULL or a NULL-terminated list of extra "Name: value" lines.
 * 0 on a completed exchange (any status), -1 on transport failure.
 */
int itest_http(struct itest_env *env, const char *method, const char *path,
    const char *token, const char *body, const char *const *headers,
    struct itest_resp *out);
/* Same with a raw body of given length (may hold NULs / bad UTF-8). */
int itest_http_raw(struct itest_env *env, const char *method,
    const char *path, const char *token, const char *body, size_t len,
    const char *const *headers, struct itest_resp *out);
void itest_resp_free(struct itest_resp *r);

/* Read a whole file (e.g. tests/fixtures/x.json) relative to the repo
 * root; malloc'd, caller frees. NULL on error. */
char *itest_fixture(const char *relpath);
/* The same with the length in *lenp (the file may hold NULs). */
char *itest_fixture_len(const char *relpath, size_t *lenp);

/* 1 if the server log contains needle. */
int itest_log_contains(struct itest_env *env, const char *needle);

/* Convenience: string member of the response JSON by dotted path
 * ("meta.version", "Resources.0.id"), or NULL. Borrowed from r->json. */
const char *itest_json_str(const struct itest_resp *r, const char *path);
/* Integer member, or -1. */
long long itest_json_int(const struct itest_resp *r, const char *path);

/* Run argv (argv[0] a path or a name found in PATH) with stdout into
 * out (may be NULL), stderr inherited, killed after timeout_s. Returns
 * the exit status, or -1 (could not run, timed out, crashed). */
int itest_run(const char *const *argv, char *out, size_t outsz,
    int timeout_s);

/*
 * 1 if r is a SCIM error response (RFC 7644 §3.12) with HTTP status
 * status, Content-Type application/scim+json, the Error schema and
 * "status" the same number as a string; scim_types NULL = scimType not
 * checked, "" = must be absent, else '|'-separated accepted values.
 * Else 0 with the reason in why.
 */
int itest_check_error(const struct itest_resp *r, long status,
    const char *scim_types, char *why, size_t whysz);

/* main(): setup once, run every case, teardown, print
 * "N passed, N failed". A setup failure counts as one failed test. */
#define ITEST_MAIN(cases)						\
jmp_buf testlib_jmp;							\
int testlib_failed_here;						\
int main(void);								\
int									\
main(void)								\
{									\
	static struct itest_env env_;					\
	/* volatile: they live across setjmp/longjmp */		\
	volatile size_t i_;						\
	size_t n_ = sizeof(cases) / sizeof(cases[0]);			\
	volatile int pass_ = 0, fail_ = 0;				\
	itest = &env_;							\
	if (itest_setup(&env_) != 0) {					\
		fprintf(stderr, "not ok setup\n");			\
		itest_teardown(&env_);					\
		printf("0 passed, 1 failed\n");				\
		return 1;						\
	}								\
	for (i_ = 0; i_ < n_; i_++) {					\
		testlib_failed_here = 0;				\
		if (setjmp(testlib_jmp) == 0)				\
			cases[i_].fn();					\
		if (testlib_failed_here) {				\
			fprintf(stderr, "not ok %s\n", cases[i_].name);	\
			fail_++;					\
		} else {						\
			printf("ok %s\n", cases[i_].name);		\
			pass_++;					\
		}							\
	}								\
	itest_teardown(&env_);						\
	printf("%d passed, %d failed\n", pass_, fail_);			\
	return fail_ == 0 ? 0 : 1;					\
}

#endif
