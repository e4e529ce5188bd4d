/*
 * The bearer-token cache of the real binary (http/auth.h, auth_watch.h):
 * with the cache on and a TTL of 60 s, a token revoked by another
 * process (the CLI: what another daemon would see) or by plain SQL stops
 * working within moments, a cached token does not outlive its expiry,
 * and while the daemon's invalidation listener is cut off the cache is
 * not used (fail closed) until the listener is back.
 */

#include "itest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "util/strutil.h"

#define USERS		"/scim/v2/Users"
#define WATCH_APP	"vaultbridge-auth-watch"
#define LISTENING	"auth cache: listening for token changes"
#define LOST		"auth cache: lost the token change listener"
/* far below the 60 s TTL: only an invalidation can be this fast */
#define FLIP_MAX_MS	1000


/* Wait (at most max_ms) until the log holds more than n lines with
 * needle; the time it took, or -1. */
static long long
wait_log(const char *needle, int n, long long max_ms)
{
	long long t0 = itest_now_ms();

	while (itest_log_count(itest, needle) <= n) {
		if (itest_now_ms() - t0 > max_ms)
			return -1;
		itest_sleep_ms(20);
	}
	return itest_now_ms() - t0;
}

static long
status_of(const char *tok)
{
	struct itest_resp r;
	long st;

	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, tok, NULL, NULL, &r),
	    0);
	st = r.status;
	itest_resp_free(&r);
	return st;
}

/*
 * Ask with tok until the answer is want, at most max_ms; the time it
 * took, or -1. Bounded polling: a notification needs a moment to travel.
 */
static long long
wait_status(const char *tok, long want, long long max_ms)
{
	long long t0 = itest_now_ms();

	for (;;) {
		if (status_of(tok) == want)
			return itest_now_ms() - t0;
		if (itest_now_ms() - t0 > max_ms)
			return -1;
		itest_sleep_ms(10);
	}
}

static void
sql(const char *q)
{
	char out[1024];

	if (itest_sql(itest, out, sizeof(out), q) != 0)
		TL_FAIL("SQL failed: %s", q);
}

/* Used twice: the first answer comes from the database and fills the
 * cache, the second normally from the cache. */
static void
use_token(const char *tok)
{
	ASSERT_INT_EQ(status_of(tok), 200);
	ASSERT_INT_EQ(status_of(tok), 200);
}

static int started;

/*
 * The server with the cache on for 60 s, listening. Also undoes what a
 * failed case may have left: a disabled trigger (a failed outage case
 * opens the database again itself).
 */
static void
fresh(void)
{
	itest_pool_reset();
	if (!started || !itest_server_alive(itest)) {
		snprintf(itest->extra_config, sizeof(itest->extra_config),
		    "auth.cache_ttl_ms = 60000\n");
		ASSERT_INT_EQ(itest_server_start(itest), 0);
		started = 1;
	}
	sql("ALTER TABLE api_token ENABLE TRIGGER USER");
	/* the cache is off until the listener is up */
	if (wait_log(LISTENING, 0, 10000) < 0)
		TL_FAIL("the auth watcher never listened");
}

static void
t_listening(void)
{
	fresh();
	/* its own session, named, LISTENing, not from the pool */
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM pg_stat_activity "
	    "WHERE application_name = '" WATCH_APP "'"), 1);
	ASSERT_TRUE(itest_log_contains(itest, "channel=vaultbridge_auth"));
}

/*
 * Control: the cache really answers. With the notification trigger
 * off, a token revoked in the database keeps working (served from the
 * cache, TTL 60 s); a change that does notify ends it at once. This is
 * what makes the 401s of the next cases the work of the invalidation.
 */
static void
t_cache_answers(void)
{
	char tok[200];
	long long ms;

	fresh();
	itest_make_token("it-auth-control", "scim", NULL, tok, sizeof(tok));
	use_token(tok);
	sql("ALTER TABLE api_token DISABLE TRIGGER USER");
	sql("UPDATE api_token SET revoked = now() "
	    "WHERE name = 'it-auth-control'");
	ASSERT_INT_EQ(status_of(tok), 200);
	ASSERT_INT_EQ(status_of(tok), 200);
	sql("ALTER TABLE api_token ENABLE TRIGGER USER");
	/* a change of revoked notifies */
	sql("UPDATE api_token SET revoked = revoked - interval '1 second' "
	    "WHERE name = 'it-auth-control'");
	ms = wait_status(tok, 401, FLIP_MAX_MS);
	ASSERT_TRUE(ms >= 0);
	ASSERT_INT_EQ(status_of(tok), 401);
}

/* (a) revoked by the CLI, a separate process as another daemon is */
static void
t_revoke_cli(void)
{
	const char *rev[] = { "token", "revoke", "it-auth-cli", NULL };
	char tok[200], other[200], out[256];
	long long ms;

	fresh();
	itest_make_token("it-auth-cli", "scim", NULL, tok, sizeof(tok));
	itest_make_token("it-auth-cli-other", "scim", NULL, other,
	    sizeof(other));
	use_token(tok);
	use_token(other);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), rev), 0);
	ms = wait_status(tok, 401, FLIP_MAX_MS);
	if (ms < 0)
		TL_FAIL("revoked token still accepted after %d ms",
		    FLIP_MAX_MS);
	fprintf(stderr, "  revocation by the CLI effective after %lld ms\n",
	    ms);
	ASSERT_INT_EQ(status_of(tok), 401);
	/* the other token is untouched */
	ASSERT_INT_EQ(status_of(other), 200);
}

/* (b) revoked or deleted by plain SQL: the trigger covers every path */
static void
t_revoke_sql(void)
{
	char tok[200], del[200];

	fresh();
	itest_make_token("it-auth-sql", "scim", NULL, tok, sizeof(tok));
	itest_make_token("it-auth-del", "scim", NULL, del, sizeof(del));
	use_token(tok);
	use_token(del);
	sql("UPDATE api_token SET revoked = now() WHERE name = 'it-auth-sql'");
	ASSERT_TRUE(wait_status(tok, 401, FLIP_MAX_MS) >= 0);
	ASSERT_INT_EQ(status_of(tok), 401);
	sql("DELETE FROM api_token WHERE name = 'it-auth-del'");
	ASSERT_TRUE(wait_status(del, 401, FLIP_MAX_MS) >= 0);
	ASSERT_INT_EQ(status_of(del), 401);
}

/* (c) a cached token ends with its expiry, not with the 60 s TTL */
static void
t_expiry(void)
{
	char tok[200];
	long long t0, ms;

	fresh();
	t0 = itest_now_ms();
	itest_make_token("it-auth-expiry", "scim", "3", tok, sizeof(tok));
	use_token(tok);
	/* nothing notifies an expiry: only the entry's own bound ends it */
	ms = wait_status(tok, 401, 8000);
	ASSERT_TRUE(ms >= 0);
	/* not before the 3 s (the token's clock started after t0) */
	ASSERT_TRUE(itest_now_ms() - t0 >= 3000 - 50);
	ASSERT_TRUE(itest_now_ms() - t0 < 9000);
	ASSERT_INT_EQ(status_of(tok), 401);
}

/* A session of our own on the test database, or (maint) on the
 * cluster's "postgres" database (a later dbname overrides the first). */
static PGconn *
session(int maint)
{
	char dsn[sizeof(itest->dsn) + 32];
	PGconn *pg;

	snprintf(dsn, sizeof(dsn), "%s%s", itest->dsn,
	    maint ? " dbname=postgres" : "");
	pg = PQconnectdb(dsn);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		PQfinish(pg);
		TL_FAIL("cannot connect to %s", dsn);
	}
	return pg;
}

static long long
pg_num(PGconn *pg, const char *q)
{
	PGresult *res = PQexec(pg, q);
	uint64_t v;
	long long r = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    parse_u64(PQgetvalue(res, 0, 0), 0, INT64_MAX, &v) == 0)
		r = (long long)v;
	PQclear(res);
	return r;
}

static int
pg_cmd(PGconn *pg, const char *q)
{
	PGresult *res = PQexec(pg, q);
	int ok;

	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "  %s: %s", q, PQerrorMessage(pg));
	PQclear(res);
	return ok;
}

/*
 * (d) The listener's session is killed and kept out (the database
 * refuses new sessions; the pool's open ones go on serving). A token
 * revoked meanwhile is refused at once: no notification can reach the
 * daemon, so only a cache that is off gets this right. Once the
 * listener is back, caching resumes.
 */
static void
t_listener_outage(void)
{
	char tok[200], gone[200], again[200];
	PGconn *pg = NULL, *adm = NULL;
	long long t0;
	int listening, lost;

	fresh();
	itest_make_token("it-auth-valid", "scim", NULL, tok, sizeof(tok));
	itest_make_token("it-auth-outage", "scim", NULL, gone, sizeof(gone));
	itest_make_token("it-auth-again", "scim", NULL, again, sizeof(again));
	use_token(tok);
	use_token(gone);
	listening = itest_log_count(itest, LISTENING);
	lost = itest_log_count(itest, LOST);
	pg = session(0);
	adm = session(1);
	if (!pg_cmd(adm, "ALTER DATABASE vaultbridge ALLOW_CONNECTIONS false")
	    || pg_num(adm, "SELECT count(pg_terminate_backend(pid)) FROM "
	    "pg_stat_activity WHERE application_name = '" WATCH_APP "'") != 1)
		goto fail;
	/* the daemon noticed (and turned its cache off) */
	if (wait_log(LOST, lost, 5000) < 0)
		goto fail;
	/* a revocation nobody hears of */
	if (!pg_cmd(pg, "UPDATE api_token SET revoked = now() "
	    "WHERE name = 'it-auth-outage'"))
		goto fail;
	if (status_of(gone) != 401)
		goto fail;
	/* a valid token still works (from the database) */
	if (status_of(tok) != 200 || status_of(tok) != 200)
		goto fail;
	/* still out after a while: the watcher retries and fails */
	itest_sleep_ms(500);
	if (pg_num(adm, "SELECT count(*) FROM pg_stat_activity "
	    "WHERE application_name = '" WATCH_APP "'") != 0 ||
	    status_of(gone) != 401)
		goto fail;

	if (!pg_cmd(adm, "ALTER DATABASE vaultbridge ALLOW_CONNECTIONS true"))
		goto fail;
	t0 = itest_now_ms();
	if (wait_log(LISTENING, listening, 10000) < 0)
		goto fail;
	fprintf(stderr, "  listener back %lld ms after the database opened\n",
	    itest_now_ms() - t0);
	if (status_of(tok) != 200 || status_of(gone) != 401)
		goto fail;
	/* caching resumed: a revocation without notification goes unseen */
	use_token(again);
	if (!pg_cmd(pg, "ALTER TABLE api_token DISABLE TRIGGER USER") ||
	    !pg_cmd(pg, "UPDATE api_token SET revoked = now() "
	    "WHERE name = 'it-auth-again'") ||
	    !pg_cmd(pg, "ALTER TABLE api_token ENABLE TRIGGER USER"))
		goto fail;
	if (status_of(again) != 200)
		goto fail;
	/* and a notified change ends it at once, as before */
	if (!pg_cmd(pg, "UPDATE api_token SET revoked = revoked - "
	    "interval '1 second' WHERE name = 'it-auth-again'") ||
	    wait_status(again, 401, FLIP_MAX_MS) < 0)
		goto fail;
	PQfinish(pg);
	PQfinish(adm);
	/* never a token secret in the log */
	ASSERT_FALSE(itest_log_contains(itest, tok));
	ASSERT_FALSE(itest_log_contains(itest, gone));
	ASSERT_FALSE(itest_log_contains(itest, again));
	return;
fail:
	(void)pg_cmd(adm, "ALTER DATABASE vaultbridge ALLOW_CONNECTIONS true");
	(void)pg_cmd(pg, "ALTER TABLE api_token ENABLE TRIGGER USER");
	PQfinish(pg);
	PQfinish(adm);
	TL_FAIL("listener outage: see the lines above and the server log");
}

/* A clean shutdown with the watcher running (joined, nothing leaked). */
static void
t_clean_exit(void)
{
	fresh();
	itest_assert_clean_exit(itest);
	started = 0;
}

static const struct testlib_case cases[] = {
	{ "listening", t_listening },
	{ "cache_answers", t_cache_answers },
	{ "revoke_cli", t_revoke_cli },
	{ "revoke_sql", t_revoke_sql },
	{ "expiry", t_expiry },
	{ "listener_outage", t_listener_outage },
	{ "clean_exit", t_clean_exit },
};

ITEST_MAIN(cases)
