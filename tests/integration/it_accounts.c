/*
 * The accounts API against the real server and PostgreSQL: SCIM users
 * alice and bob, group "pam-acct" (safe "acct", alice a member with
 * list|retrieve|use), accounts and secrets set by an admin token (no
 * secret in any answer), user-bound tokens (token create --user, its
 * scope rules), audited retrieval (allow for alice, deny for bob, both
 * in audit_event), service tokens refused on /v1, a deactivated or
 * deleted user's token refused at once even with the auth cache on, bad
 * bodies answered 4xx, secret rotation, master key generate / id /
 * rotate through the CLI with server restarts, and no secret in the
 * server log or the audit trail.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "itest.h"
#include "util/bounds.h"
#include "util/strutil.h"

#define U_CORE		"urn:ietf:params:scim:schemas:core:2.0:User"
#define G_CORE		"urn:ietf:params:scim:schemas:core:2.0:Group"

#define ACCT		"/admin/safes/acct/accounts/db1"
#define RETRIEVE	"/v1/safes/acct/accounts/db1/retrieve"

/* secrets: a marker no other text in the log or database holds */
#define MARK1		"Alpha7f2eSecretMarker"
#define MARK2		"Bravo91c0SecretMarker"
#define SECRET1		MARK1 "-\"q\"\\b\\/\xc3\xa9\t!"
#define SECRET1_JSON	MARK1 "-\\\"q\\\"\\\\b\\\\/\\u00e9\\t!"
#define SECRET2		MARK2 "-plain"

#define WAIT_MS		60000

static char alice_id[ITEST_ID_SZ], bob_id[ITEST_ID_SZ];
static char group_id[ITEST_ID_SZ];
static char alice_tok[160], bob_tok[160];
static char gen_secret[128];

/* Responses of calls with other tokens, freed when a case starts. */
#define TPOOL_MAX	128
static struct itest_resp tpool[TPOOL_MAX];
static size_t ntpool;

static void
fresh(void)
{
	size_t i;

	itest_pool_reset();
	for (i = 0; i < ntpool; i++)
		itest_resp_free(&tpool[i]);
	memset(tpool, 0, sizeof(tpool));
	ntpool = 0;
}

/* method path with token tok ("" = none) and a raw body (may be NULL). */
static struct itest_resp *
call_raw(const char *method, const char *path, const char *tok,
    const char *body, size_t len)
{
	struct itest_resp *r;

	if (ntpool == TPOOL_MAX)
		TL_FAIL("token response pool full");
	r = &tpool[ntpool++];
	if (itest_http_raw(itest, method, path, tok, body, len, NULL, r) != 0)
		TL_FAIL("transport failure: %s %s", method, path);
	return r;
}

static struct itest_resp *
call_tok(const char *method, const char *path, const char *tok,
    const char *body)
{
	return call_raw(method, path, tok, body,
	    body != NULL ? strlen(body) : 0);
}

/* Fail unless r is a JSON error {"error": code, ...} with status. */
static void
check_err(const struct itest_resp *r, long status, const char *code,
    int line)
{
	const char *c;

	if (r->status != status)
		TL_FAIL("line %d: status %ld, want %ld: %.300s", line,
		    r->status, status, r->body != NULL ? r->body : "");
	c = r->json != NULL ?
	    json_string_value(json_object_get(r->json, "error")) : NULL;
	if (c == NULL || (code != NULL && strcmp(c, code) != 0))
		TL_FAIL("line %d: error code %s, want %s: %.300s", line,
		    c != NULL ? c : "(none)", code != NULL ? code : "any",
		    r->body != NULL ? r->body : "");
}
#define CHECK_ERR(r, st, code) check_err((r), (st), (code), __LINE__)

/* token create [args...] through the CLI; the token into out. */
static int
cli_token(const char *const *args, char *out, size_t outsz)
{
	const char *argv[16];
	char buf[4096], *nl;
	size_t n = 0, i;
	int rc;

	argv[n++] = "token";
	argv[n++] = "create";
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	buf[0] = '\0';
	rc = itest_cli(itest, buf, sizeof(buf), argv);
	if (rc == 0 && out != NULL) {
		if ((nl = strchr(buf, '\n')) != NULL)
			*nl = '\0';
		if (strlen(buf) >= outsz || strncmp(buf, "vbt_", 4) != 0)
			TL_FAIL("token create printed \"%.100s\"", buf);
		memcpy(out, buf, strlen(buf) + 1);
	}
	return rc;
}

/* Wait until q (one number, vault db) is want. */
static void
vault_wait(const char *q, long long want)
{
	long long t0 = itest_now_ms(), v = -1;

	while (itest_now_ms() - t0 < WAIT_MS) {
		if ((v = itest_vault_num(q)) == want)
			return;
		itest_sleep_ms(100);
	}
	TL_FAIL("waited %d ms for %s = %lld (last %lld)", WAIT_MS, q, want,
	    v);
}

/* The same on the bridge database. */
static void
bridge_wait(const char *q, long long want)
{
	long long t0 = itest_now_ms(), v = -1;

	while (itest_now_ms() - t0 < WAIT_MS) {
		if ((v = itest_sql_num(q)) == want)
			return;
		itest_sleep_ms(100);
	}
	TL_FAIL("waited %d ms for %s = %lld (last %lld)", WAIT_MS, q, want,
	    v);
}

static long long
audit_count(const char *where)
{
	return itest_sql_num(itest_fmt("SELECT count(*) FROM audit_event "
	    "WHERE %s", where));
}

static void
restart(void)
{
	ASSERT_INT_EQ(itest_server_stop(itest, SIGTERM) != -1, 1);
	ASSERT_INT_EQ(itest_server_start(itest), 0);
}

/* ---- cases ---- */

static void
t_setup(void)
{
	fresh();
	/* the auth cache on: user tokens must still lose access at once */
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "auth.cache_ttl_ms = 60000\n");
	restart();
	itest_create_user_named("alice", alice_id);
	itest_create_user_named("bob", bob_id);
	itest_create_group(itest_dump(json_pack("{s[s]sss[{ss}]}", "schemas",
	    G_CORE, "displayName", "pam-acct", "members", "value",
	    alice_id)), group_id);
	/* the lifecycle job reaches the vault: safe "acct", alice in it */
	bridge_wait("SELECT count(*) FROM sync_job WHERE state = 'pending'",
	    0);
	vault_wait(itest_fmt("SELECT count(*) FROM vault.member m JOIN "
	    "vault.safe s ON s.ref = m.safe_ref WHERE s.name = 'acct' AND "
	    "s.state = 'active' AND m.user_ref = '%s' AND m.perms = 7",
	    alice_id), 1);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.member WHERE user_ref = '%s'", bob_id)), 0);
}

static void
t_admin_account(void)
{
	struct itest_resp *r;

	fresh();
	r = itest_call("PUT", ACCT, "{\"address\":\"db1.example.net:5432\","
	    "\"username\":\"postgres\"}");
	CHECK_STATUS(r, 201);
	ASSERT_STR_EQ(itest_jstr(r, "account"), "db1");
	ASSERT_TRUE(itest_ends_with(r->location, ACCT));
	r = itest_call("PUT", ACCT, "{\"address\":\"db1.example.net:5432\","
	    "\"username\":\"postgres\"}");
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jfalse(r, "created"));
	r = itest_call("GET", "/admin/safes/acct/accounts", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jlen(r, "accounts"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "accounts/0/name"), "db1");
	ASSERT_INT_EQ(itest_jint(r, "accounts/0/secret_version"), 0);
	ASSERT_STR_EQ(itest_jstr(r, "accounts/0/username"), "postgres");

	r = itest_call("PUT", ACCT "/secret",
	    "{\"secret\":\"" SECRET1_JSON "\"}");
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "version"), 1);
	ASSERT_TRUE(strstr(r->body, MARK1) == NULL);
	ASSERT_NULL(itest_jpath(r->json, "secret"));
	ASSERT_INT_EQ(audit_count("action = 'vault.secret.set' AND "
	    "decision = 'allow' AND target = 'safe/acct/account/db1' AND "
	    "actor = 'itest-admin'"), 1);
	ASSERT_INT_EQ(audit_count("action = 'vault.account.put' AND "
	    "decision = 'allow'"), 2);

	/* safes and members */
	r = itest_call("GET", "/admin/safes", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(itest_jlen(r, "safes") >= 1);
	r = itest_call("GET", "/admin/safes/acct/members", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jlen(r, "members"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "members/0/user_ref"), alice_id);
	ASSERT_STR_EQ(itest_jstr(r, "members/0/user_name"), "alice");
	ASSERT_STR_EQ(itest_jstr(r, "members/0/perms/1"), "retrieve");
	r = itest_call("GET", itest_fmt("/admin/safes/%s/members", group_id),
	    NULL);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "safe"), "acct");
	CHECK_ERR(itest_call("GET", "/admin/safes/nosuch/members", NULL), 404,
	    "not_found");
	CHECK_ERR(itest_call("GET", "/admin/safes/nosuch/accounts", NULL),
	    404, "not_found");
	CHECK_ERR(itest_call("PUT", "/admin/safes/nosuch/accounts/x", "{}"),
	    404, "not_found");
	CHECK_ERR(itest_call("PUT", "/admin/safes/acct/accounts/nosuch/secret",
	    "{\"secret\":\"x\"}"), 404, "not_found");
	ASSERT_INT_EQ(audit_count("action = 'vault.secret.set' AND "
	    "decision = 'error' AND target = "
	    "'safe/acct/account/nosuch'"), 1);
}

static void
t_tokens(void)
{
	const char *a[] = { "--name", "alice-t", "--user", "alice", NULL };
	const char *b[] = { "--name", "bob-t", "--user", "BOB", "--scopes",
	    "vault", NULL };
	const char *unknown[] = { "--name", "x-t", "--user", "nobody", NULL };
	const char *admin[] = { "--name", "y-t", "--user", "alice",
	    "--scopes", "admin", NULL };
	const char *all[] = { "--name", "y-t", "--user", "alice",
	    "--scopes", "all", NULL };
	const char *mixed[] = { "--name", "y-t", "--user", "alice",
	    "--scopes", "vault,scim", NULL };
	const char *svc[] = { "--name", "y-t", "--scopes", "vault", NULL };
	const char *list[] = { "token", "list", NULL };
	char out[8192];

	fresh();
	ASSERT_INT_EQ(cli_token(a, alice_tok, sizeof(alice_tok)), 0);
	ASSERT_INT_EQ(cli_token(b, bob_tok, sizeof(bob_tok)), 0);
	ASSERT_INT_EQ(cli_token(unknown, NULL, 0), 1);
	ASSERT_INT_EQ(cli_token(admin, NULL, 0), 2);
	ASSERT_INT_EQ(cli_token(all, NULL, 0), 2);
	ASSERT_INT_EQ(cli_token(mixed, NULL, 0), 2);
	ASSERT_INT_EQ(cli_token(svc, NULL, 0), 2);
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM api_token WHERE "
	    "name IN ('x-t', 'y-t')"), 0);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM api_token "
	    "WHERE name = 'alice-t' AND user_id = '%s' AND scopes = 64",
	    alice_id)), 1);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM api_token "
	    "WHERE name = 'bob-t' AND user_id = '%s'", bob_id)), 1);
	/* the harness's "all" token carries every scope but vault */
	ASSERT_INT_EQ(itest_sql_num("SELECT scopes FROM api_token WHERE "
	    "name = 'itest-admin'"), 0x3f);
	/* the database refuses what the CLI refuses */
	ASSERT_TRUE(itest_sql(itest, out, sizeof(out), "UPDATE api_token "
	    "SET scopes = 96 WHERE name = 'alice-t'") != 0);
	ASSERT_TRUE(itest_sql(itest, out, sizeof(out), "UPDATE api_token "
	    "SET scopes = 127 WHERE name = 'itest-admin'") != 0);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), list), 0);
	ASSERT_TRUE(strstr(out, "alice-t vault ") != NULL);
	ASSERT_TRUE(strstr(out, " alice active\n") != NULL);
	ASSERT_TRUE(strstr(out, " bob active\n") != NULL);
	ASSERT_TRUE(strstr(out, alice_tok) == NULL);
}

static void
t_retrieve(void)
{
	struct itest_resp *r;

	fresh();
	r = call_tok("POST", RETRIEVE, alice_tok,
	    "{\"reason\":\"incident 42: \xc3\xa9tat\"}");
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "secret"), SECRET1);
	ASSERT_INT_EQ(itest_jint(r, "version"), 1);
	ASSERT_STR_EQ(itest_jstr(r, "safe"), "acct");
	ASSERT_STR_EQ(itest_jstr(r, "account"), "db1");
	ASSERT_STR_EQ(itest_jstr(r, "username"), "postgres");
	ASSERT_STR_EQ(itest_jstr(r, "address"), "db1.example.net:5432");
	ASSERT_INT_EQ(audit_count(itest_fmt("action = 'vault.secret.retrieve' "
	    "AND decision = 'allow' AND actor = 'alice-t' AND actor_user = "
	    "'%s' AND detail->>'reason' = 'incident 42: \xc3\xa9tat' AND "
	    "detail->>'safe' = 'acct' AND detail->>'account' = 'db1' AND "
	    "request_id IS NOT NULL", alice_id)), 1);
	/* the vault logged the read with the same request id */
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.access_log WHERE user_ref = '%s'", alice_id)), 1);

	r = call_tok("POST", RETRIEVE, bob_tok, "{\"reason\":\"curious\"}");
	CHECK_ERR(r, 403, "forbidden");
	ASSERT_TRUE(strstr(r->body, MARK1) == NULL);
	ASSERT_INT_EQ(audit_count(itest_fmt("action = 'vault.secret.retrieve' "
	    "AND decision = 'deny' AND actor_user = '%s'", bob_id)), 1);
	ASSERT_INT_EQ(audit_count(itest_fmt("action = 'vault.secret.retrieve' "
	    "AND decision = 'allow' AND actor_user = '%s'", bob_id)), 0);

	r = call_tok("POST", "/v1/safes/acct/accounts/nosuch/retrieve",
	    alice_tok, "{\"reason\":\"x\"}");
	CHECK_ERR(r, 404, "not_found");
	ASSERT_INT_EQ(audit_count(itest_fmt("action = 'vault.secret.retrieve' "
	    "AND decision = 'deny' AND target = 'safe/acct/account/nosuch' "
	    "AND actor_user = '%s'", alice_id)), 1);
}

static void
t_scopes(void)
{
	const char *svc[] = { "--name", "svc-t", "--scopes", "scim", NULL };
	char svc_tok[160];
	struct itest_resp *r;

	fresh();
	/* service tokens: the all-scope admin token and a scim token */
	r = itest_call("POST", RETRIEVE, "{\"reason\":\"x\"}");
	CHECK_ERR(r, 403, NULL);
	ASSERT_TRUE(strstr(r->body, MARK1) == NULL);
	ASSERT_INT_EQ(cli_token(svc, svc_tok, sizeof(svc_tok)), 0);
	CHECK_ERR(call_tok("POST", RETRIEVE, svc_tok, "{\"reason\":\"x\"}"),
	    403, NULL);
	/* twice: the second answer may come from the auth cache */
	CHECK_ERR(call_tok("POST", RETRIEVE, svc_tok, "{\"reason\":\"x\"}"),
	    403, NULL);
	/* a user token is good for /v1 only */
	CHECK_ERR(call_tok("GET", "/admin/safes", alice_tok, NULL), 403, NULL);
	CHECK_STATUS(call_tok("GET", "/scim/v2/Users", alice_tok, NULL), 403);
	CHECK_ERR(call_tok("PUT", ACCT "/secret", alice_tok,
	    "{\"secret\":\"x\"}"), 403, NULL);
	/* no token, a bad token */
	CHECK_ERR(call_tok("POST", RETRIEVE, "", "{\"reason\":\"x\"}"), 401,
	    NULL);
	CHECK_ERR(call_tok("POST", RETRIEVE, "vbt_0000000000000000_xxxx",
	    "{\"reason\":\"x\"}"), 401, NULL);
	ASSERT_INT_EQ(audit_count("decision = 'allow' AND action = "
	    "'vault.secret.retrieve'"), 1);
}

static void
t_bad_bodies(void)
{
	static const char *const bad_retrieve[] = {
		"not json", "{", "[]", "\"reason\"", "{}", "null",
		"{\"reason\":5}", "{\"reason\":null}", "{\"reason\":\"\"}",
		"{\"reason\":\"   \"}", "{\"reason\":[\"a\"]}",
		"{\"reason\":\"a\",\"extra\":1}",
		"{\"reason\":\"a\",\"reason\":\"b\"}",
		"{\"reason\":\"line\\nbreak\"}",
		"{\"reason\":\"nul\\u0000\"}",
		"{\"reason\":\"x\"} trailing",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"
		    "]]]]]]]]]]]]]]]]]]]]",
		NULL
	};
	static const char *const bad_secret[] = {
		"", "nope", "{}", "{\"secret\":5}", "{\"secret\":\"\"}",
		"{\"secret\":null}", "{\"secret\":\"a\",\"generate\":"
		"{\"length\":8}}", "{\"generate\":8}",
		"{\"generate\":{\"length\":0}}",
		"{\"generate\":{\"length\":-3}}",
		"{\"generate\":{\"length\":\"8\"}}",
		"{\"generate\":{\"length\":99999999999}}",
		"{\"generate\":{\"length\":8,\"x\":1}}",
		"{\"secret\":\"a\",\"other\":1}", NULL
	};
	static const char *const bad_account[] = {
		"", "[1]", "{\"address\":5}", "{\"username\":[]}",
		"{\"address\":\"a\\u0001b\"}", "{\"name\":\"x\"}", NULL
	};
	char *big, reason[1100];
	struct itest_resp *r;
	size_t i, n;

	fresh();
	for (i = 0; bad_retrieve[i] != NULL; i++) {
		r = call_tok("POST", RETRIEVE, alice_tok, bad_retrieve[i]);
		if (r->status != 400)
			TL_FAIL("retrieve body %s: status %ld", bad_retrieve[i],
			    r->status);
		CHECK_ERR(r, 400, "invalid_request");
	}
	/* 513 characters (2-byte each) is one too many; 512 is fine */
	reason[0] = '\0';
	for (i = 0; i < 513; i++)
		memcpy(reason + 2 * i, "\xc3\xa9", 3);
	CHECK_ERR(call_tok("POST", RETRIEVE, alice_tok,
	    itest_fmt("{\"reason\":\"%s\"}", reason)), 400, "invalid_request");
	reason[2 * 512] = '\0';
	CHECK_STATUS(call_tok("POST", RETRIEVE, alice_tok,
	    itest_fmt("{\"reason\":\"%s\"}", reason)), 200);
	/* not UTF-8, raw NUL */
	CHECK_ERR(call_raw("POST", RETRIEVE, alice_tok,
	    "{\"reason\":\"\xff\"}", 14), 400, "invalid_request");
	CHECK_ERR(call_raw("POST", RETRIEVE, alice_tok,
	    "{\"reason\":\"a\0\"}", 15), 400, "invalid_request");
	for (i = 0; bad_secret[i] != NULL; i++) {
		r = itest_call("PUT", ACCT "/secret", bad_secret[i]);
		if (r->status != 400)
			TL_FAIL("secret body %s: status %ld", bad_secret[i],
			    r->status);
	}
	for (i = 0; bad_account[i] != NULL; i++) {
		r = itest_call("PUT", ACCT, bad_account[i]);
		if (r->status != 400)
			TL_FAIL("account body %s: status %ld", bad_account[i],
			    r->status);
	}
	/* a secret one byte over the limit: 413, and not echoed */
	n = SEAL_SECRET_MAX + 1;
	ASSERT_NOT_NULL(big = malloc(n + 32));
	memcpy(big, "{\"secret\":\"", 11);
	memset(big + 11, 'Z', n);
	memcpy(big + 11 + n, "\"}", 3);
	r = itest_call("PUT", ACCT "/secret", big);
	free(big);
	CHECK_ERR(r, 413, "too_large");
	ASSERT_TRUE(r->body_len < 1024);
	/* a parse error never quotes the body (which may be a secret) */
	r = itest_call("PUT", ACCT "/secret", "{\"secret\":\"" MARK2 "\"");
	CHECK_ERR(r, 400, "invalid_request");
	ASSERT_TRUE(strstr(r->body, MARK2) == NULL);
	/* bad names */
	CHECK_STATUS(itest_call("PUT", "/admin/safes/acct/accounts/"
	    "a%01b", "{}"), 400);
	CHECK_STATUS(itest_call("PUT", itest_fmt("/admin/safes/acct/accounts/"
	    "%0129d", 0), "{}"), 400);
	/* still one secret version: nothing bad was stored */
	r = itest_call("GET", "/admin/safes/acct/accounts", NULL);
	ASSERT_INT_EQ(itest_jint(r, "accounts/0/secret_version"), 1);
	itest_assert_no_5xx(itest);
}

static void
t_rotate_secret(void)
{
	struct itest_resp *r;
	const char *s;
	size_t i;

	fresh();
	r = itest_call("PUT", ACCT "/secret", "{\"secret\":\"" SECRET2 "\"}");
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "version"), 2);
	r = call_tok("POST", RETRIEVE, alice_tok, "{\"reason\":\"rotated\"}");
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "secret"), SECRET2);
	ASSERT_INT_EQ(itest_jint(r, "version"), 2);
	/* the old value is gone: one sealed row, version 2 */
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM vault.account "
	    "WHERE name = 'db1' AND secret_version = 2 AND secret IS NOT "
	    "NULL"), 1);
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM vault.account "
	    "WHERE position(convert_to('" MARK2 "', 'UTF8') in secret) > 0 "
	    "OR position(convert_to('" MARK1 "', 'UTF8') in secret) > 0"), 0);

	/* a generated secret: the answer does not hold it */
	r = itest_call("PUT", ACCT "/secret", "{\"generate\":{\"length\":40}}");
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "version"), 3);
	ASSERT_NULL(itest_jpath(r->json, "secret"));
	ASSERT_TRUE(itest_jtrue(r, "generated"));
	r = call_tok("POST", RETRIEVE, alice_tok, "{\"reason\":\"generated\"}");
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "version"), 3);
	ASSERT_NOT_NULL(s = itest_jstr(r, "secret"));
	ASSERT_INT_EQ(strlen(s), 40);
	for (i = 0; s[i] != '\0'; i++)
		ASSERT_TRUE(s[i] > 0x20 && s[i] < 0x7f);
	snprintf(gen_secret, sizeof(gen_secret), "%s", s);
	ASSERT_INT_EQ(audit_count("action = 'vault.secret.set' AND "
	    "decision = 'allow' AND (detail->>'generated')::int = 40"), 1);
}

static void
t_deactivate(void)
{
	const char *c[] = { "--name", "carol-t", "--user", "carol", NULL };
	const char *list[] = { "token", "list", NULL };
	char carol_id[ITEST_ID_SZ], carol_tok[160], out[8192];
	struct itest_resp *r;

	fresh();
	/* alice's token works, also the second time (not cached) */
	CHECK_STATUS(call_tok("POST", RETRIEVE, alice_tok,
	    "{\"reason\":\"before\"}"), 200);
	r = itest_call("PATCH", itest_user_path(alice_id), itest_patch_body(
	    "[{\"op\":\"replace\",\"path\":\"active\",\"value\":false}]"));
	ASSERT_TRUE(r->status == 200 || r->status == 204);
	/* at once, the auth cache (60 s) notwithstanding */
	r = call_tok("POST", RETRIEVE, alice_tok, "{\"reason\":\"after\"}");
	CHECK_ERR(r, 401, NULL);
	ASSERT_TRUE(strstr(r->www_authenticate, "invalid_token") != NULL);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), list), 0);
	ASSERT_TRUE(strstr(out, " alice user-inactive\n") != NULL);
	/* back to active: the same token works again */
	r = itest_call("PATCH", itest_user_path(alice_id), itest_patch_body(
	    "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]"));
	ASSERT_TRUE(r->status == 200 || r->status == 204);
	/* the lifecycle sync may have taken her out of the safe meanwhile */
	bridge_wait("SELECT count(*) FROM sync_job WHERE state = 'pending'",
	    0);
	vault_wait(itest_fmt("SELECT count(*) FROM vault.member WHERE "
	    "user_ref = '%s' AND perms = 7", alice_id), 1);
	CHECK_STATUS(call_tok("POST", RETRIEVE, alice_tok,
	    "{\"reason\":\"again\"}"), 200);
	/* an inactive user gets no new token */
	itest_create_user(itest_fmt("{\"schemas\":[\"" U_CORE "\"],"
	    "\"userName\":\"carol\",\"active\":false}"), carol_id);
	ASSERT_INT_EQ(cli_token(c, NULL, 0), 1);
	r = itest_call("PATCH", itest_user_path(carol_id), itest_patch_body(
	    "[{\"op\":\"replace\",\"path\":\"active\",\"value\":true}]"));
	ASSERT_TRUE(r->status == 200 || r->status == 204);
	ASSERT_INT_EQ(cli_token(c, carol_tok, sizeof(carol_tok)), 0);
	CHECK_ERR(call_tok("POST", RETRIEVE, carol_tok, "{\"reason\":\"x\"}"),
	    403, "forbidden");
	/* a deleted user's tokens are gone */
	CHECK_STATUS(itest_call("DELETE", itest_user_path(carol_id), NULL),
	    204);
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM api_token WHERE "
	    "name = 'carol-t'"), 0);
	CHECK_ERR(call_tok("POST", RETRIEVE, carol_tok, "{\"reason\":\"x\"}"),
	    401, NULL);
	/* the audit trail keeps carol's refusal */
	ASSERT_INT_EQ(audit_count(itest_fmt("actor_user = '%s' AND "
	    "decision = 'deny'", carol_id)), 1);
}

/* Run `key ARGS` through the CLI; stdout into out. */
static int
cli_key(const char *const *args, char *out, size_t outsz)
{
	const char *argv[8];
	size_t n = 0, i;

	argv[n++] = "key";
	for (i = 0; args[i] != NULL && n < 7; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	out[0] = '\0';
	return itest_cli(itest, out, outsz, argv);
}

static void
t_keys(void)
{
	char newkey[400], oldkey[300], out[4096], id_old[32], id_new[32];
	const char *gen[] = { "generate", newkey, NULL };
	const char *id[] = { "id", NULL };
	const char *rot[] = { "rotate", NULL };
	const char *bad[] = { "frobnicate", NULL };
	struct itest_resp *r;
	struct stat st;
	unsigned long long nsafes;

	fresh();
	snprintf(oldkey, sizeof(oldkey), "%s", itest->master_key);
	snprintf(newkey, sizeof(newkey), "%s/master2.key", itest->dir);
	ASSERT_INT_EQ(cli_key(id, out, sizeof(out)), 0);
	ASSERT_INT_EQ(sscanf(out, "%16s current", id_old), 1);
	ASSERT_INT_EQ(strlen(id_old), 16);
	ASSERT_INT_EQ(cli_key(gen, out, sizeof(out)), 0);
	ASSERT_INT_EQ(sscanf(out, "%16s", id_new), 1);
	ASSERT_INT_EQ(strlen(id_new), 16);
	ASSERT_TRUE(strcmp(id_new, id_old) != 0);
	ASSERT_INT_EQ(stat(newkey, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	/* never overwritten */
	ASSERT_INT_EQ(cli_key(gen, out, sizeof(out)), 1);
	ASSERT_INT_EQ(cli_key(bad, out, sizeof(out)), 2);

	/* the new key current, the old one accepted */
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "auth.cache_ttl_ms = 60000\nvault.master_key = \"%s\"\n"
	    "vault.previous_keys = \"%s\"\n", newkey, oldkey);
	restart();
	ASSERT_INT_EQ(cli_key(id, out, sizeof(out)), 0);
	ASSERT_TRUE(strstr(out, itest_fmt("%s current", id_new)) != NULL);
	ASSERT_TRUE(strstr(out, itest_fmt("%s previous", id_old)) != NULL);
	CHECK_STATUS(call_tok("POST", RETRIEVE, alice_tok,
	    "{\"reason\":\"during rotation\"}"), 200);
	nsafes = (unsigned long long)itest_vault_num("SELECT count(*) FROM "
	    "vault.safe");
	ASSERT_TRUE(nsafes >= 1);
	ASSERT_INT_EQ(cli_key(rot, out, sizeof(out)), 0);
	ASSERT_STR_EQ(out, itest_fmt("rewrapped %llu, already current 0\n",
	    nsafes));
	ASSERT_INT_EQ(cli_key(rot, out, sizeof(out)), 0);
	ASSERT_STR_EQ(out, itest_fmt("rewrapped 0, already current %llu\n",
	    nsafes));
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.safe WHERE dek_key_id <> '%s'", id_new)), 0);

	/* the new key alone: everything still opens */
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "auth.cache_ttl_ms = 60000\nvault.master_key = \"%s\"\n",
	    newkey);
	restart();
	r = call_tok("POST", RETRIEVE, alice_tok, "{\"reason\":\"new key\"}");
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "secret"), gen_secret);
	/* the old key alone no longer opens the vault: serve refuses */
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "vault.master_key = \"%s\"\n", oldkey);
	ASSERT_INT_EQ(itest_server_stop(itest, SIGTERM) != -1, 1);
	ASSERT_INT_EQ(itest_server_start(itest), -1);
	ASSERT_TRUE(itest_log_contains(itest, "vault check failed"));
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "vault.master_key = \"%s\"\n", newkey);
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	CHECK_STATUS(call_tok("POST", RETRIEVE, alice_tok,
	    "{\"reason\":\"back\"}"), 200);
}

static void
t_no_secret_leaks(void)
{
	fresh();
	ASSERT_FALSE(itest_log_contains(itest, MARK1));
	ASSERT_FALSE(itest_log_contains(itest, MARK2));
	ASSERT_TRUE(gen_secret[0] != '\0');
	ASSERT_FALSE(itest_log_contains(itest, gen_secret));
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM audit_event WHERE "
	    "detail::text LIKE '%" MARK1 "%' OR detail::text LIKE '%" MARK2
	    "%'"), 0);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM "
	    "audit_event WHERE strpos(detail::text, '%s') > 0",
	    itest_subst(gen_secret, "'", "''"))), 0);
	/* append-only */
	{
		char out[256];

		ASSERT_TRUE(itest_sql(itest, out, sizeof(out),
		    "DELETE FROM audit_event") != 0);
		ASSERT_TRUE(itest_sql(itest, out, sizeof(out),
		    "UPDATE audit_event SET decision = 'allow'") != 0);
	}
	itest_assert_no_5xx(itest);
	itest_assert_clean_exit(itest);
}

static const struct testlib_case cases[] = {
	{ "setup: users, group pam-acct, safe acct in the vault", t_setup },
	{ "admin: account and secret, no secret in answers", t_admin_account },
	{ "token create --user and its scope rules", t_tokens },
	{ "retrieval: alice allowed, bob denied, both audited", t_retrieve },
	{ "service tokens refused on /v1, user tokens only there", t_scopes },
	{ "bad bodies are 4xx, never 5xx", t_bad_bodies },
	{ "secret rotation and generation", t_rotate_secret },
	{ "deactivated or deleted user: token refused at once",
	    t_deactivate },
	{ "key generate / id / rotate with restarts", t_keys },
	{ "no secret in the log or the audit trail", t_no_secret_leaks },
};

ITEST_MAIN(cases)
