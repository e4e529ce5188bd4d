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
	char vault_dsn[512];	/* the embedded vault's own database
				 * (vaultbridge_vault, same cluster) */
	char master_key[300];	/* vault master key file (0600, hex) */
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

/* A free TCP port on 127.0.0.1 (bound and released), or -1. */
int itest_free_port(void);

/* Run the binary with --config and the given argv (NULL-terminated);
 * stdout into out (size outsz, NUL-terminated). Returns exit status or
 * -1. */
int itest_cli(struct itest_env *env, char *out, size_t outsz,
    const char *const *argv);

/* Run an SQL statement in the test database via psql; stdout (tuples
 * only, unaligned) into out. Returns psql exit status. */
int itest_sql(struct itest_env *env, char *out, size_t outsz,
    const char *sql);

/* The same in the vault database (env->vault_dsn). */
int itest_vault_sql(struct itest_env *env, char *out, size_t outsz,
    const char *sql);
/* A number from a one-value query of the vault database; fails the case
 * on error. */
long long itest_vault_num(const char *sql);

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
/* How many times needle occurs in the server log; -1 if unreadable. */
int itest_log_count(struct itest_env *env, const char *needle);

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
/* Fail the running case unless itest_check_error accepts r. */
#define ASSERT_SCIM_ERROR(r, st, types) do {				\
	char why_[512];							\
	if (!itest_check_error((r), (st), (types), why_, sizeof(why_)))	\
		TL_FAIL("SCIM error %d: %s", (int)(st), why_);		\
} while (0)

/*
 * Fail the running case (reporting the caller's line) unless r is a
 * SCIM error with HTTP status status and scimType scim_type (NULL = no
 * scimType). As itest_check_error, but the Content-Type is not checked
 * (itest_assert_scim_ct does that where a suite wants it).
 */
void itest_assert_error(const struct itest_resp *r, long status,
    const char *scim_type, int line);
#define CHECK_ERROR(r, st, ty) itest_assert_error((r), (st), (ty), __LINE__)

/* Milliseconds of a monotonic clock. */
long long itest_now_ms(void);
/* Sleep ms milliseconds, resuming after signals. */
void itest_sleep_ms(long ms);

/* 1 if the server process exists and has not exited. An exit is
 * reaped (env->pid set to 0) and its status printed. */
int itest_server_alive(struct itest_env *env);
/* Fail the running case if the server log holds a sanitizer report or
 * a 5xx answer ("status=5"), or /healthz does not answer 200. */
void itest_assert_no_5xx(struct itest_env *env);
/* Fail the running case unless the server is alive, exits with status
 * 0 on SIGTERM and logged no sanitizer report (under ASan/LSan a leak
 * on any path the suite took shows up here). The server stays down. */
void itest_assert_clean_exit(struct itest_env *env);

/*
 * Case helpers (itest_util.c) for suites written as chains of calls on
 * the environment itest. What they return is pooled: it stays valid
 * until itest_pool_reset(), which each case calls first, so a failed
 * assertion (longjmp) leaks nothing and the caller never frees. They
 * fail the running case (TL_FAIL) on transport or allocation failure
 * or a full pool (512 responses and 512 strings per case).
 */

/* Size of an id buffer filled by the helpers below. */
#define ITEST_ID_SZ	64

/* Free everything pooled so far. */
void itest_pool_reset(void);
/* Hand malloc'd p to the pool (fails the case if p is NULL); p. */
void *itest_pool_keep(void *p);
/* printf into a pooled string. */
const char *itest_fmt(const char *f, ...)
    __attribute__((format(printf, 1, 2)));
/* s percent-encoded except RFC 3986 unreserved characters; pooled. */
const char *itest_urlenc(const char *s);
/* s with every occurrence of tok replaced by val; pooled. */
const char *itest_subst(const char *s, const char *tok, const char *val);
/* Compact JSON text of j; consumes j (NULL fails the case); pooled. */
const char *itest_dump(json_t *j);

/* itest_http with env->token; the response is pooled. hdrs as there. */
struct itest_resp *itest_call_h(const char *method, const char *path,
    const char *body, const char *const *hdrs);
/* The same without extra headers. */
struct itest_resp *itest_call(const char *method, const char *path,
    const char *body);

/*
 * JSON by '/'-separated path ("meta/version", "Resources/0/id"; array
 * indexes as numbers, keys may hold dots as schema URNs do). Borrowed
 * from root / r->json. itest_jstr: NULL unless a string; itest_jint: -1
 * unless an integer; itest_jlen: (size_t)-1 unless an array.
 */
json_t *itest_jpath(json_t *root, const char *path);
const char *itest_jstr(const struct itest_resp *r, const char *path);
long long itest_jint(const struct itest_resp *r, const char *path);

/*
 * A service token from the CLI (token create --name name [--scopes
 * scopes] [--expires expires]; NULL leaves an option out): the token
 * text, alone on stdout's first line, into tok (size toksz). Fails the
 * case otherwise.
 */
void itest_make_token(const char *name, const char *scopes,
    const char *expires, char *tok, size_t toksz);
int itest_jtrue(const struct itest_resp *r, const char *path);
int itest_jfalse(const struct itest_resp *r, const char *path);
size_t itest_jlen(const struct itest_resp *r, const char *path);
/* 1 if the JSON array arr holds the string s. */
int itest_arr_has_str(json_t *arr, const char *s);

/* n of an ETag W/"n", or -1. */
long long itest_etag_num(const char *etag);
/* 1 if s (may be NULL) ends with suffix. */
int itest_ends_with(const char *s, const char *suffix);
/* 1 if s (may be NULL) starts like an xsd:dateTime. */
int itest_is_datetime(const char *s);

/* Fail the running case (reporting the caller's line) unless r has
 * HTTP status status. */
void itest_assert_status(const struct itest_resp *r, long status, int line);
#define CHECK_STATUS(r, st) itest_assert_status((r), (st), __LINE__)
/* Fail the running case unless r's Content-Type is application/scim+json. */
void itest_assert_scim_ct(const struct itest_resp *r);
/*
 * Fail the running case (reporting line) unless the array at path of
 * r ("members", "groups") holds exactly the values ids (NULL-terminated,
 * any order); with no ids the array may be absent.
 */
void itest_assert_values(const struct itest_resp *r, const char *path,
    const char *const *ids, int line);
#define CHECK_MEMBERS(r, ...) do {					\
	const char *const ids_[] = { __VA_ARGS__ };			\
	itest_assert_values((r), "members", ids_, __LINE__);		\
} while (0)
#define CHECK_GROUPS(r, ...) do {					\
	const char *const ids_[] = { __VA_ARGS__ };			\
	itest_assert_values((r), "groups", ids_, __LINE__);		\
} while (0)

/* "/scim/v2/Users/<id>", "/scim/v2/Groups/<id>"; pooled. */
const char *itest_user_path(const char *id);
const char *itest_group_path(const char *id);
/* A PatchOp body around the JSON array text ops; pooled. */
const char *itest_patch_body(const char *ops);
/* GET path: must be 200 with a SCIM Content-Type; pooled. */
struct itest_resp *itest_get_ok(const char *path);
/* GET path: the same and a ListResponse; pooled. */
struct itest_resp *itest_list(const char *path);
/* POST body to /Users or /Groups: must be 201 with a uuid id, copied
 * to idout (ITEST_ID_SZ bytes); pooled. */
struct itest_resp *itest_create_user(const char *body, char *idout);
struct itest_resp *itest_create_group(const char *body, char *idout);
/* The same for a body with userName user_name only. */
struct itest_resp *itest_create_user_named(const char *user_name,
    char *idout);
/* Run an SQL query (itest_sql) that prints one number; that number. */
long long itest_sql_num(const char *sql);

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
