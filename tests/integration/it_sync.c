/*
 * Lifecycle sync against the real server, PostgreSQL and the embedded
 * vault (issue #3): joiner (groups matching the policy become safes with
 * their members, others do not), mover (member PATCH, PUT of the member
 * list, user deactivation and reactivation), freeze on rename and on
 * delete (members gone, accounts kept, purge due after the retention),
 * order of a burst of changes of one key, a vault that is unreachable
 * for a while (retried to success, SCIM unaffected), a permanent
 * failure (dead letter, other jobs flow), and two daemons sharing one
 * job stream (each job applied once, none skipped, both take part).
 * The vault is checked in its own tables (vault.safe, vault.member and
 * the ledger vault.applied_op); waits poll the outbox with a deadline.
 */

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <jansson.h>

#include "itest.h"
#include "util/strutil.h"

#define SCIM		"/scim/v2"
#define U_CORE		"urn:ietf:params:scim:schemas:core:2.0:User"
#define G_CORE		"urn:ietf:params:scim:schemas:core:2.0:Group"
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"

/* small backoff and poll for speed; 4 workers as in the two-daemon case */
#define SYNC_CONFIG \
	"sync.workers = 4\n" \
	"sync.batch = 16\n" \
	"sync.poll_ms = 50\n" \
	"sync.backoff_base_ms = 20\n" \
	"sync.backoff_max_ms = 300\n" \
	"sync.max_attempts = 1000"

#define WAIT_S		90	/* a change reaches the vault within this */

#define NTWO_GROUPS	10
#define NTWO_USERS	10
#define NTWO_KEYS	(NTWO_GROUPS * NTWO_USERS)
#define NTWO_ROUNDS	10	/* changes per key: 1,000 in all */
#define NTWO_WRITERS	8

static char u_alice[ITEST_ID_SZ], u_bob[ITEST_ID_SZ], u_carol[ITEST_ID_SZ];
static char g_prod[ITEST_ID_SZ], g_two[ITEST_ID_SZ];

/* ---- helpers ---- */

/* 1 if the file at path contains needle. */
static int
file_has(const char *path, const char *needle)
{
	char line[4096];
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* One-value text query of the vault / bridge database; pooled. */
static const char *
vsql(const char *sql)
{
	char out[16384];

	if (itest_vault_sql(itest, out, sizeof(out), sql) != 0)
		TL_FAIL("vault psql failed: %s", sql);
	trim(out);
	return itest_fmt("%s", out);
}

static const char *
bsql(const char *sql)
{
	char out[16384];

	if (itest_sql(itest, out, sizeof(out), sql) != 0)
		TL_FAIL("psql failed: %s", sql);
	trim(out);
	return itest_fmt("%s", out);
}

/* Due or retrying jobs (a purge due in retention_days is not waited
 * for). */
static long long
unsettled(void)
{
	return itest_sql_num("SELECT count(*) FROM sync_job WHERE "
	    "state = 'pending' AND not_before < now() + interval '1 day'");
}

/* Wait until the outbox has nothing left to do now. */
static void
wait_synced_line(int line)
{
	long long until = itest_now_ms() + WAIT_S * 1000LL;

	while (itest_now_ms() < until) {
		if (unsettled() == 0)
			return;
		itest_sleep_ms(20);
	}
	TL_FAIL("line %d: jobs still pending after %d s: %s", line, WAIT_S,
	    bsql("SELECT string_agg(id || ' ' || op || ' a=' || attempts || "
	    "' ' || coalesce(last_error, ''), '; ') FROM sync_job "
	    "WHERE state = 'pending'"));
}
#define wait_synced()	wait_synced_line(__LINE__)

/* "name:perms,..." of a safe's members, by name. */
static const char *
vault_members(const char *safe_ref)
{
	return vsql(itest_fmt("SELECT coalesce(string_agg(user_name || ':' || "
	    "perms, ',' ORDER BY user_name), '') FROM vault.member "
	    "WHERE safe_ref = '%s'", safe_ref));
}

/* "name:state" of a safe, "" if the vault has none. */
static const char *
vault_safe(const char *safe_ref)
{
	return vsql(itest_fmt("SELECT coalesce(max(name || ':' || state), '') "
	    "FROM vault.safe WHERE ref = '%s'", safe_ref));
}

static const char *
group_body(const char *name, const char *const *ids)
{
	json_t *g, *m;
	size_t i;

	g = json_pack("{s[s]ss}", "schemas", G_CORE, "displayName", name);
	m = json_array();
	for (i = 0; ids != NULL && ids[i] != NULL; i++)
		json_array_append_new(m, json_pack("{ss}", "value", ids[i]));
	json_object_set_new(g, "members", m);
	return itest_dump(g);
}

/* PATCH body adding or removing one member. */
static char *
member_patch_text(const char *uid, int add)
{
	json_t *b;
	char filter[128];
	char *text;

	snprintf(filter, sizeof(filter), "members[value eq \"%s\"]", uid);
	if (add)
		b = json_pack("{s[s]s[{sssss[{ss}]}]}", "schemas", M_PATCH,
		    "Operations", "op", "add", "path", "members", "value",
		    "value", uid);
	else
		b = json_pack("{s[s]s[{ssss}]}", "schemas", M_PATCH,
		    "Operations", "op", "remove", "path", filter);
	text = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	return text;
}

static void
patch_member(const char *gid, const char *uid, int add)
{
	struct itest_resp *r;

	r = itest_call("PATCH", itest_group_path(gid),
	    itest_pool_keep(member_patch_text(uid, add)));
	CHECK_STATUS(r, 204);
}

static void
patch_group_name(const char *gid, const char *name)
{
	struct itest_resp *r;

	r = itest_call("PATCH", itest_group_path(gid), itest_dump(json_pack(
	    "{s[s]s[{ssssss}]}", "schemas", M_PATCH, "Operations", "op",
	    "replace", "path", "displayName", "value", name)));
	CHECK_STATUS(r, 204);
}

static void
set_active(const char *uid, int active)
{
	struct itest_resp *r;

	r = itest_call("PATCH", itest_user_path(uid), itest_dump(json_pack(
	    "{s[s]s[{sssssb}]}", "schemas", M_PATCH, "Operations", "op",
	    "replace", "path", "active", "value", active)));
	CHECK_STATUS(r, 200);
}

/* ---- cases ---- */

static void
t_start(void)
{
	long long until;

	itest_pool_reset();
	snprintf(itest->extra_config, sizeof(itest->extra_config), "%s",
	    SYNC_CONFIG);
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	/* logged right after the listener is up */
	until = itest_now_ms() + 10000;
	while (!itest_log_contains(itest, "sync workers started workers=4") &&
	    itest_now_ms() < until)
		itest_sleep_ms(20);
	ASSERT_TRUE(itest_log_contains(itest, "sync workers started "
	    "workers=4"));
}

static void
t_joiner(void)
{
	char g_other[ITEST_ID_SZ], g_admin[ITEST_ID_SZ];
	struct itest_resp *r;

	itest_pool_reset();
	itest_create_user_named("sync.alice", u_alice);
	itest_create_user_named("sync.bob", u_bob);
	itest_create_user_named("sync.carol", u_carol);
	itest_create_group(group_body("pam-prod-db", (const char *const[]){
	    u_alice, u_bob, NULL }), g_prod);
	itest_create_group(group_body("other-team", (const char *const[]){
	    u_alice, u_carol, NULL }), g_other);
	itest_create_group(group_body("pam-admin-ops", (const char *const[]){
	    u_carol, NULL }), g_admin);
	wait_synced();

	/* the "member" set: list|retrieve|use */
	ASSERT_STR_EQ(vault_safe(g_prod), "prod-db:active");
	ASSERT_STR_EQ(vault_members(g_prod), "sync.alice:7,sync.bob:7");
	/* the first matching rule wins: owner, name kept */
	ASSERT_STR_EQ(vault_safe(g_admin), "pam-admin-ops:active");
	ASSERT_STR_EQ(vault_members(g_admin), "sync.carol:15");
	/* not matching: no binding, no job, no safe */
	ASSERT_STR_EQ(vault_safe(g_other), "");
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE safe_ref = '%s'", g_other)), 0);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM "
	    "sync_binding WHERE group_id = '%s'", g_other)), 0);
	/* every job of the joiner applied once */
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE safe_ref = '%s' AND state = 'done' AND attempts = 1",
	    g_prod)), 3);

	/* a matching group whose name yields no safe name: 400, nothing */
	r = itest_call("POST", SCIM "/Groups", group_body("pam-!!!",
	    (const char *const[]){ u_alice, NULL }));
	CHECK_ERROR(r, 400, "invalidValue");
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM scim_group WHERE "
	    "doc->>'displayName' = 'pam-!!!'"), 0);
	/* two groups that map to one safe name: the second is refused */
	itest_create_group(group_body("pam-dup x", NULL), g_other);
	r = itest_call("POST", SCIM "/Groups", group_body("pam-dup_x", NULL));
	CHECK_ERROR(r, 409, "uniqueness");
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM scim_group WHERE "
	    "doc->>'displayName' = 'pam-dup_x'"), 0);
	wait_synced();
	ASSERT_STR_EQ(vault_safe(g_other), "dup_x:active");

	/* a Bulk request goes the same way */
	r = itest_call("POST", SCIM "/Bulk", itest_dump(json_pack(
	    "{s[s]s[{sssssss{s[s]sss[{ss}]}}]}", "schemas",
	    "urn:ietf:params:scim:api:messages:2.0:BulkRequest", "Operations",
	    "method", "POST", "path", "/Groups", "bulkId", "b1", "data",
	    "schemas", G_CORE, "displayName", "pam-bulk-made", "members",
	    "value", u_alice)));
	CHECK_STATUS(r, 200);
	snprintf(g_admin, sizeof(g_admin), "%s", bsql("SELECT id FROM "
	    "scim_group WHERE doc->>'displayName' = 'pam-bulk-made'"));
	wait_synced();
	ASSERT_STR_EQ(vault_safe(g_admin), "bulk-made:active");
	ASSERT_STR_EQ(vault_members(g_admin), "sync.alice:7");
}

static void
t_mover(void)
{
	struct itest_resp *r;

	itest_pool_reset();
	patch_member(g_prod, u_bob, 0);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g_prod), "sync.alice:7");
	patch_member(g_prod, u_carol, 1);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g_prod), "sync.alice:7,sync.carol:7");
	/* PUT replaces the member list: exactly the new set */
	r = itest_call("PUT", itest_group_path(g_prod),
	    group_body("pam-prod-db", (const char *const[]){ u_bob, NULL }));
	CHECK_STATUS(r, 200);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g_prod), "sync.bob:7");

	/* bob is in two safes; deactivation removes him from both */
	itest_create_group(group_body("pam-mover-two", (const char *const[]){
	    u_bob, u_carol, NULL }), g_two);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g_two), "sync.bob:7,sync.carol:7");
	set_active(u_bob, 0);
	wait_synced();
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.member WHERE user_ref = '%s'", u_bob)), 0);
	ASSERT_STR_EQ(vault_members(g_two), "sync.carol:7");
	/* and ends his sessions (the kill switch's plumbing) */
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE op = 'sessions_revoke' AND user_ref = '%s' AND "
	    "safe_ref IS NULL AND state = 'done'", u_bob)), 1);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.applied_op WHERE op = 'sessions_revoke' AND "
	    "user_ref = '%s'", u_bob)), 1);
	/* a member added while inactive gets no access */
	patch_member(g_prod, u_bob, 0);
	patch_member(g_prod, u_bob, 1);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g_prod), "");
	/* reactivation: back in every safe */
	set_active(u_bob, 1);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g_prod), "sync.bob:7");
	ASSERT_STR_EQ(vault_members(g_two), "sync.bob:7,sync.carol:7");
	/* a deleted user leaves every safe (membership cascade) */
	{
		char u_dave[ITEST_ID_SZ];

		itest_create_user_named("sync.dave", u_dave);
		patch_member(g_two, u_dave, 1);
		wait_synced();
		ASSERT_STR_EQ(vault_members(g_two),
		    "sync.bob:7,sync.carol:7,sync.dave:7");
		CHECK_STATUS(itest_call("DELETE", itest_user_path(u_dave),
		    NULL), 204);
		wait_synced();
		ASSERT_STR_EQ(vault_members(g_two), "sync.bob:7,sync.carol:7");
		ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM "
		    "sync_job WHERE user_ref = '%s' AND state = 'done' AND "
		    "op IN ('member_remove', 'sessions_revoke')", u_dave)), 2);
	}
	/* a rename of an active member follows into the vault */
	r = itest_call("PATCH", itest_user_path(u_carol), itest_dump(json_pack(
	    "{s[s]s[{ssssss}]}", "schemas", M_PATCH, "Operations", "op",
	    "replace", "path", "userName", "value", "sync.caroline")));
	CHECK_STATUS(r, 200);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g_two), "sync.bob:7,sync.caroline:7");
}

static void
t_freeze(void)
{
	itest_pool_reset();
	/* an account in the safe: freezing keeps it */
	vsql(itest_fmt("INSERT INTO vault.account (safe_ref, name) "
	    "VALUES ('%s', 'db-admin')", g_prod));

	/* renamed so it no longer matches: frozen at once */
	patch_group_name(g_prod, "legacy-prod-db");
	wait_synced();
	ASSERT_STR_EQ(vault_safe(g_prod), "prod-db:frozen");
	ASSERT_STR_EQ(vault_members(g_prod), "");
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE op = 'safe_purge' AND safe_ref = '%s' AND "
	    "state = 'pending'", g_prod)), 1);
	/* matching again: active, members back, the purge cancelled */
	patch_group_name(g_prod, "pam-prod-db");
	wait_synced();
	ASSERT_STR_EQ(vault_safe(g_prod), "prod-db:active");
	ASSERT_STR_EQ(vault_members(g_prod), "sync.bob:7");
	ASSERT_STR_EQ(bsql(itest_fmt("SELECT string_agg(state, ',') FROM "
	    "sync_job WHERE op = 'safe_purge' AND safe_ref = '%s'", g_prod)),
	    "cancelled");
	/* renamed within the rule: the safe is renamed */
	patch_group_name(g_prod, "pam-prod-database");
	wait_synced();
	ASSERT_STR_EQ(vault_safe(g_prod), "prod-database:active");

	/* deleted: frozen, no members, accounts kept, purge in 30 days */
	CHECK_STATUS(itest_call("DELETE", itest_group_path(g_prod), NULL),
	    204);
	wait_synced();
	ASSERT_STR_EQ(vault_safe(g_prod), "prod-database:frozen");
	ASSERT_STR_EQ(vault_members(g_prod), "");
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.account WHERE safe_ref = '%s'", g_prod)), 1);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE op = 'safe_purge' AND safe_ref = '%s' AND "
	    "state = 'pending' AND not_before BETWEEN "
	    "now() + interval '29 days 23 hours' AND "
	    "now() + interval '30 days 1 hour'", g_prod)), 1);
	/* the freeze removed the members: no member job for the delete */
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE safe_ref = '%s' AND op = 'member_remove' AND "
	    "id > (SELECT max(id) FROM sync_job WHERE op = 'safe_ensure' "
	    "AND safe_ref = '%s')", g_prod, g_prod)), 0);
}

static int busy_503;		/* 503 answers retried */
static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;

/* Send one membership change (again after a 503); the status. */
static long
send_change(struct itest_env *env, const char *gid, const char *uid,
    int add)
{
	struct itest_resp r;
	char *text, path[128];
	long st = -1;
	int tries;

	memset(&r, 0, sizeof(r));
	if ((text = member_patch_text(uid, add)) == NULL)
		return -1;
	snprintf(path, sizeof(path), SCIM "/Groups/%s", gid);
	for (tries = 0; tries < 20; tries++) {
		st = itest_http(env, "PATCH", path, NULL, text, NULL, &r) == 0 ?
		    r.status : -1;
		itest_resp_free(&r);
		if (st != 503)
			break;
		/* a deadlock of crossing transactions: 503 + Retry-After,
		 * rolled back, to be sent again */
		pthread_mutex_lock(&busy_mu);
		busy_503++;
		pthread_mutex_unlock(&busy_mu);
		itest_sleep_ms(10);
	}
	free(text);
	return st;
}

/* The vault's ledger for (safe, user) in apply order equals the
 * bridge's member jobs of that key in id order: each once, in order. */
static void
check_ledger(const char *gid, const char *uid)
{
	const char *jobs, *ledger;

	jobs = bsql(itest_fmt("SELECT coalesce(string_agg(id || ' ' || op, "
	    "',' ORDER BY id), '') FROM sync_job WHERE safe_ref = '%s' AND "
	    "user_ref = '%s' AND state = 'done'", gid, uid));
	ledger = vsql(itest_fmt("SELECT coalesce(string_agg(op_id || ' ' || "
	    "op, ',' ORDER BY seq), '') FROM vault.applied_op WHERE "
	    "safe_ref = '%s' AND user_ref = '%s'", gid, uid));
	ASSERT_STR_EQ(ledger, jobs);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.applied_op WHERE safe_ref = '%s' AND user_ref = '%s' AND "
	    "deliveries > 1", gid, uid)), 0);
}

static void
t_order(void)
{
	char u1[ITEST_ID_SZ], u2[ITEST_ID_SZ], g[ITEST_ID_SZ];
	int i;

	itest_pool_reset();
	itest_create_user_named("order.one", u1);
	itest_create_user_named("order.two", u2);
	itest_create_group(group_body("pam-order", NULL), g);
	/* a burst, no waiting: add/remove/add/... of two members */
	for (i = 0; i < 41; i++) {
		ASSERT_INT_EQ(send_change(itest, g, u1, i % 2 == 0), 204);
		if (i < 40)
			ASSERT_INT_EQ(send_change(itest, g, u2, i % 2 == 0),
			    204);
	}
	wait_synced();
	/* the state of the last change of each */
	ASSERT_STR_EQ(vault_members(g), "order.one:7");
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE safe_ref = '%s' AND user_ref = '%s'", g, u1)), 41);
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE safe_ref = '%s' AND user_ref = '%s'", g, u2)), 40);
	check_ledger(g, u1);
	check_ledger(g, u2);
	/* and ascending op ids per (safe, user) over the whole ledger */
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM (SELECT op_id, "
	    "lag(op_id) OVER (PARTITION BY safe_ref, user_ref ORDER BY seq) "
	    "AS prev FROM vault.applied_op) x WHERE prev > op_id"), 0);
}

static void
vault_connections(int allow)
{
	char out[256];

	ASSERT_INT_EQ(itest_sql(itest, out, sizeof(out), itest_fmt(
	    "ALTER DATABASE vaultbridge_vault ALLOW_CONNECTIONS %s",
	    allow ? "true" : "false")), 0);
	if (!allow)
		ASSERT_INT_EQ(itest_sql(itest, out, sizeof(out),
		    "SELECT count(pg_terminate_backend(pid)) FROM "
		    "pg_stat_activity WHERE datname = 'vaultbridge_vault'"), 0);
}

static void
t_temporary(void)
{
	char u[ITEST_ID_SZ], g1[ITEST_ID_SZ], g2[ITEST_ID_SZ];
	long long until, first;

	itest_pool_reset();
	itest_create_user_named("temp.user", u);
	itest_create_group(group_body("pam-temp-one", NULL), g1);
	wait_synced();
	ASSERT_STR_EQ(vault_safe(g1), "temp-one:active");
	first = itest_sql_num("SELECT coalesce(max(id), 0) FROM sync_job");

	vault_connections(0);
	/* SCIM does not depend on the vault */
	patch_member(g1, u, 1);
	itest_create_group(group_body("pam-temp-two", (const char *const[]){
	    u, NULL }), g2);
	until = itest_now_ms() + WAIT_S * 1000LL;
	while (itest_now_ms() < until && itest_sql_num(itest_fmt("SELECT "
	    "count(*) FROM sync_job WHERE id > %lld AND state = 'pending' AND "
	    "attempts >= 2 AND last_error <> ''", first)) < 2)
		itest_sleep_ms(20);
	ASSERT_TRUE(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE id > %lld AND state = 'pending' AND attempts >= 2 AND "
	    "last_error LIKE '%%unavailable%%'", first)) >= 2);
	/* nothing got lost or dead while it was down */
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE id > %lld AND state <> 'pending'", first)), 0);
	vault_connections(1);

	wait_synced();
	ASSERT_STR_EQ(vault_members(g1), "temp.user:7");
	ASSERT_STR_EQ(vault_safe(g2), "temp-two:active");
	ASSERT_STR_EQ(vault_members(g2), "temp.user:7");
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE id > %lld AND state <> 'done'", first)), 0);
	ASSERT_TRUE(itest_sql_num(itest_fmt("SELECT max(attempts) FROM "
	    "sync_job WHERE id > %lld", first)) > 1);
	ASSERT_FALSE(file_has(itest->log_path, "status=5"));
}

static void
t_permanent(void)
{
	char ub[ITEST_ID_SZ], uf[ITEST_ID_SZ], g[ITEST_ID_SZ];
	const char *err;

	itest_pool_reset();
	vault_connections(1);	/* if the case before failed half-way */
	vsql("ALTER TABLE vault.member ADD CONSTRAINT it_sync_no_blocked "
	    "CHECK (user_name <> 'blocked.user')");
	itest_create_user_named("blocked.user", ub);
	itest_create_user_named("fine.user", uf);
	itest_create_group(group_body("pam-perm", (const char *const[]){
	    ub, uf, NULL }), g);
	wait_synced();
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE state = 'dead' AND op = 'member_set' AND user_ref = '%s'",
	    ub)), 1);
	err = bsql(itest_fmt("SELECT last_error FROM sync_job WHERE "
	    "state = 'dead' AND user_ref = '%s'", ub));
	if (strstr(err, "it_sync_no_blocked") == NULL &&
	    strstr(err, "23514") == NULL)
		TL_FAIL("last_error does not name the check: %s", err);
	/* a permanent failure is not retried */
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT attempts FROM sync_job "
	    "WHERE state = 'dead' AND user_ref = '%s'", ub)), 1);
	ASSERT_TRUE(itest_log_contains(itest, "sync job dead id="));
	/* the rest flows, before and after it */
	ASSERT_STR_EQ(vault_members(g), "fine.user:7");
	patch_member(g, uf, 0);
	patch_member(g, ub, 0);
	wait_synced();
	ASSERT_STR_EQ(vault_members(g), "");
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE safe_ref = '%s' AND state = 'done' AND op = "
	    "'member_remove'", g)), 2);
	vsql("ALTER TABLE vault.member DROP CONSTRAINT it_sync_no_blocked");
}

/* ---- two daemons ---- */

static char two_gid[NTWO_GROUPS][ITEST_ID_SZ];
static char two_uid[NTWO_USERS][ITEST_ID_SZ];
static int two_member[NTWO_KEYS];
static struct itest_env env2;
static int two_failed;
static pthread_mutex_t two_mu = PTHREAD_MUTEX_INITIALIZER;

/* The first daemon's config with another port and 4 workers. */
static int
write_config2(const char *path, int port)
{
	char line[4096];
	FILE *in, *out;
	int ok;

	if ((in = fopen(itest->config_path, "r")) == NULL)
		return -1;
	if ((out = fopen(path, "w")) == NULL) {
		fclose(in);
		return -1;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "http.port", 9) == 0 ||
		    strncmp(line, "sync.workers", 12) == 0)
			continue;
		fputs(line, out);
	}
	fprintf(out, "http.port = %d\nsync.workers = 4\n", port);
	ok = !ferror(in) && !ferror(out);
	fclose(in);
	if (fclose(out) != 0 || !ok)
		return -1;
	return 0;
}

static pid_t
start_daemon2(const char *config, const char *log)
{
	char binary[1024];
	const char *s;
	pid_t pid;
	int fd;

	s = getenv("VB_BINARY");
	snprintf(binary, sizeof(binary), "%s", s != NULL && *s != '\0' ? s :
	    "./vaultbridge");
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(binary, binary, "--config", config, "serve", (char *)NULL);
		_exit(127);
	}
	close(fd);
	return pid;
}

/* SIGTERM and wait (SIGKILL after 30 s); the exit status or -1. */
static int
stop_daemon2(pid_t pid)
{
	long long until = itest_now_ms() + 30000;
	int st = 0;
	pid_t w;

	kill(pid, SIGTERM);
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return st;
		if (w < 0)
			return -1;
		if (itest_now_ms() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		itest_sleep_ms(20);
	}
}

/* Writer w owns keys k % NTWO_WRITERS == w, toggles each NTWO_ROUNDS
 * times, alternating the daemon it talks to. */
static void *
two_writer(void *arg)
{
	int w = (int)(intptr_t)arg, k, round, add;
	long st;

	for (round = 0; round < NTWO_ROUNDS; round++) {
		for (k = w; k < NTWO_KEYS; k += NTWO_WRITERS) {
			add = !two_member[k];
			st = send_change((k + round) % 2 == 0 ? itest : &env2,
			    two_gid[k / NTWO_USERS], two_uid[k % NTWO_USERS],
			    add);
			if (st != 204) {
				pthread_mutex_lock(&two_mu);
				if (two_failed++ == 0)
					fprintf(stderr, "  writer: status %ld\n",
					    st);
				pthread_mutex_unlock(&two_mu);
				return NULL;
			}
			two_member[k] = add;
		}
	}
	return NULL;
}

static void
t_two_instances(void)
{
	pthread_t th[NTWO_WRITERS];
	struct itest_resp r;
	char config2[300], log2[300], name[64];
	const char *scim_side, *vault_side;
	long long first, jobs, until;
	volatile pid_t pid = -1;
	int i, port, st, up = 0;

	itest_pool_reset();
	for (i = 0; i < NTWO_USERS; i++) {
		snprintf(name, sizeof(name), "two.user%02d", i);
		itest_create_user_named(name, two_uid[i]);
	}
	for (i = 0; i < NTWO_GROUPS; i++) {
		snprintf(name, sizeof(name), "pam-two-%02d", i);
		itest_create_group(group_body(name, NULL), two_gid[i]);
	}
	wait_synced();
	first = itest_sql_num("SELECT coalesce(max(id), 0) FROM sync_job");

	/* the second daemon on the same databases */
	snprintf(config2, sizeof(config2), "%s/vb2.conf", itest->dir);
	snprintf(log2, sizeof(log2), "%s/server2.log", itest->dir);
	ASSERT_TRUE((port = itest_free_port()) > 0);
	ASSERT_INT_EQ(write_config2(config2, port), 0);
	env2 = *itest;
	env2.port = port;
	snprintf(env2.addr, sizeof(env2.addr), "http://127.0.0.1:%d", port);
	ASSERT_TRUE((pid = start_daemon2(config2, log2)) > 0);
	until = itest_now_ms() + 60000;
	while (!up && itest_now_ms() < until) {
		memset(&r, 0, sizeof(r));
		if (itest_http(&env2, "GET", "/healthz", "", NULL, NULL,
		    &r) == 0 && r.status == 200)
			up = 1;
		itest_resp_free(&r);
		if (!up)
			itest_sleep_ms(50);
	}
	if (!up) {
		stop_daemon2(pid);
		TL_FAIL("second daemon did not start (log %s)", log2);
	}

	/* ~1,000 membership changes through both daemons */
	for (i = 0; i < NTWO_WRITERS; i++)
		if (pthread_create(&th[i], NULL, two_writer,
		    (void *)(intptr_t)i) != 0)
			TL_FAIL("pthread_create");
	for (i = 0; i < NTWO_WRITERS; i++)
		pthread_join(th[i], NULL);
	if (two_failed > 0) {
		stop_daemon2(pid);
		TL_FAIL("%d writers got a non-204 answer", two_failed);
	}
	until = itest_now_ms() + WAIT_S * 1000LL;
	while (unsettled() > 0 && itest_now_ms() < until)
		itest_sleep_ms(20);
	st = stop_daemon2(pid);
	ASSERT_INT_EQ(unsettled(), 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		TL_FAIL("second daemon exit status %d", st);
	ASSERT_FALSE(file_has(log2, "Sanitizer"));
	ASSERT_FALSE(file_has(log2, "runtime error"));
	ASSERT_FALSE(file_has(log2, "status=500"));

	jobs = itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE id > %lld", first));
	printf("# two daemons: %lld jobs\n", jobs);
	ASSERT_INT_EQ(jobs, NTWO_KEYS * NTWO_ROUNDS);
	/* every job done, none skipped, each applied exactly once */
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE id > %lld AND state = 'done' AND attempts = 1", first)),
	    jobs);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.applied_op WHERE op_id > %lld", first)), jobs);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.applied_op WHERE op_id > %lld AND deliveries <> 1",
	    first)), 0);
	/* the same job ids on both sides */
	ASSERT_STR_EQ(vsql(itest_fmt("SELECT md5(string_agg(op_id::text, ',' "
	    "ORDER BY op_id)) FROM vault.applied_op WHERE op_id > %lld",
	    first)), bsql(itest_fmt("SELECT md5(string_agg(id::text, ',' "
	    "ORDER BY id)) FROM sync_job WHERE id > %lld", first)));
	/* in order per key */
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM (SELECT op_id, "
	    "lag(op_id) OVER (PARTITION BY safe_ref, user_ref ORDER BY seq) "
	    "AS prev FROM vault.applied_op) x WHERE prev > op_id"), 0);
	printf("# two daemons: jobs applied per daemon: %s\n",
	    bsql(itest_fmt("SELECT string_agg(n::text, ' ' ORDER BY n) FROM "
	    "(SELECT count(*) AS n FROM sync_job WHERE id > %lld GROUP BY "
	    "split_part(applied_by, '/', 1)) x", first)));
	/* both daemons took part */
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(DISTINCT "
	    "split_part(applied_by, '/', 1)) FROM sync_job WHERE id > %lld",
	    first)), 2);
	/* and the vault holds what SCIM says */
	scim_side = bsql("SELECT string_agg(m.group_id || '/' || m.member_id, "
	    "',' ORDER BY m.group_id, m.member_id) FROM scim_group_member m "
	    "JOIN scim_group g ON g.id = m.group_id WHERE "
	    "g.doc->>'displayName' LIKE 'pam-two-%'");
	vault_side = vsql(itest_fmt("SELECT string_agg(safe_ref || '/' || "
	    "user_ref, ',' ORDER BY safe_ref, user_ref) FROM vault.member "
	    "WHERE safe_ref IN (SELECT ref FROM vault.safe WHERE name LIKE "
	    "'two-%%')"));
	ASSERT_STR_EQ(vault_side, scim_side);
	for (i = 0, st = 0; i < NTWO_KEYS; i++)
		st += two_member[i];
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM vault.member "
	    "WHERE safe_ref IN (SELECT ref FROM vault.safe WHERE name LIKE "
	    "'two-%')"), st);
}


/* ---- concurrent membership, "active" and rule changes ---- */

#define NRACE_GROUPS	4
#define NRACE_USERS	6
#define NRACE_OPS	150	/* per thread */

static char race_gid[NRACE_GROUPS][ITEST_ID_SZ];
static char race_uid[NRACE_USERS][ITEST_ID_SZ];
static int race_bad;

static long
race_call(const char *method, const char *path, const char *body)
{
	struct itest_resp r;
	long st;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		memset(&r, 0, sizeof(r));
		st = itest_http(itest, method, path, NULL, body, NULL, &r) ==
		    0 ? r.status : -1;
		itest_resp_free(&r);
		if (st != 503)
			return st;
		/* a deadlock between crossing transactions: retryable */
		pthread_mutex_lock(&busy_mu);
		busy_503++;
		pthread_mutex_unlock(&busy_mu);
		itest_sleep_ms(10);
	}
	return st;
}

static void
race_note(long st, long want)
{
	if (st == want)
		return;
	pthread_mutex_lock(&two_mu);
	if (race_bad++ == 0)
		fprintf(stderr, "  race: status %ld, want %ld\n", st, want);
	pthread_mutex_unlock(&two_mu);
}

/* kind 0: membership toggles, 1: "active" toggles, 2: group renames
 * in and out of the policy, 3: all of them */
static void *
race_thread(void *arg)
{
	int kind = (int)(intptr_t)arg, i, g, u, what;
	unsigned seed = 7919u * (unsigned)(kind + 1);
	char path[128], *text;
	json_t *b;

	for (i = 0; i < NRACE_OPS; i++) {
		g = rand_r(&seed) % NRACE_GROUPS;
		u = rand_r(&seed) % NRACE_USERS;
		what = kind == 3 ? rand_r(&seed) % 3 : kind;
		if (what == 0) {
			snprintf(path, sizeof(path), SCIM "/Groups/%s",
			    race_gid[g]);
			text = member_patch_text(race_uid[u],
			    rand_r(&seed) % 2);
			race_note(race_call("PATCH", path, text), 204);
			free(text);
			continue;
		}
		if (what == 1) {
			snprintf(path, sizeof(path), SCIM "/Users/%s",
			    race_uid[u]);
			b = json_pack("{s[s]s[{sssssb}]}", "schemas", M_PATCH,
			    "Operations", "op", "replace", "path", "active",
			    "value", rand_r(&seed) % 3 != 0);
		} else {
			char name[32];

			snprintf(path, sizeof(path), SCIM "/Groups/%s",
			    race_gid[g]);
			snprintf(name, sizeof(name), "%srace-%d",
			    rand_r(&seed) % 3 != 0 ? "pam-" : "", g);
			b = json_pack("{s[s]s[{ssssss}]}", "schemas", M_PATCH,
			    "Operations", "op", "replace", "path",
			    "displayName", "value", name);
		}
		text = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
		json_decref(b);
		race_note(race_call("PATCH", path, text), what == 1 ? 200 :
		    204);
		free(text);
	}
	return NULL;
}

/*
 * Membership, "active" and policy matching of the same groups and users
 * change concurrently; afterwards the vault holds exactly the intended
 * access (active binding, member, user active), whatever the
 * interleaving: the locking in sql/0004_sync.sql keeps the jobs of each
 * (safe, user) in commit order.
 */
static void
t_race(void)
{
	pthread_t th[5];
	struct buf_ids { char s[NRACE_GROUPS * (ITEST_ID_SZ + 4)]; } ids;
	const char *intended, *actual;
	char name[32];
	size_t n = 0;
	int i;

	itest_pool_reset();
	for (i = 0; i < NRACE_USERS; i++) {
		snprintf(name, sizeof(name), "race.user%d", i);
		itest_create_user_named(name, race_uid[i]);
	}
	ids.s[0] = '\0';
	for (i = 0; i < NRACE_GROUPS; i++) {
		snprintf(name, sizeof(name), "pam-race-%d", i);
		itest_create_group(group_body(name, NULL), race_gid[i]);
		n += (size_t)snprintf(ids.s + n, sizeof(ids.s) - n, "%s'%s'",
		    i > 0 ? "," : "", race_gid[i]);
	}
	wait_synced();
	for (i = 0; i < 5; i++)
		ASSERT_INT_EQ(pthread_create(&th[i], NULL, race_thread,
		    (void *)(intptr_t)(i < 2 ? 0 : i - 1)), 0);
	for (i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	printf("# race: %d retried 503 answers so far\n", busy_503);
	ASSERT_INT_EQ(race_bad, 0);
	wait_synced();
	intended = bsql(itest_fmt("SELECT coalesce(string_agg(m.group_id || "
	    "'/' || m.member_id || '/' || b.perms, ',' ORDER BY m.group_id, "
	    "m.member_id), '') FROM scim_group_member m "
	    "JOIN scim_user u ON u.id = m.member_id "
	    "JOIN sync_binding b ON b.group_id = m.group_id "
	    "AND b.state = 'active' "
	    "WHERE vb_user_active(u.doc) AND m.group_id IN (%s)", ids.s));
	actual = vsql(itest_fmt("SELECT coalesce(string_agg(safe_ref || '/' "
	    "|| user_ref || '/' || perms, ',' ORDER BY safe_ref, user_ref), "
	    "'') FROM vault.member WHERE safe_ref IN (%s)", ids.s));
	ASSERT_STR_EQ(actual, intended);
	/* safes frozen exactly where the binding is */
	ASSERT_STR_EQ(vsql(itest_fmt("SELECT string_agg(ref || state, ',' "
	    "ORDER BY ref) FROM vault.safe WHERE ref IN (%s)", ids.s)),
	    bsql(itest_fmt("SELECT string_agg(group_id || state, ',' ORDER BY "
	    "group_id) FROM sync_binding WHERE group_id IN (%s)", ids.s)));
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE state = 'dead' AND safe_ref IN (%s)", ids.s)), 0);
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM (SELECT op_id, "
	    "lag(op_id) OVER (PARTITION BY safe_ref, user_ref ORDER BY seq) "
	    "AS prev FROM vault.applied_op) x WHERE prev > op_id"), 0);
}

/* With polling out of the way (10 minutes), only the wake-up that the
 * writing request gives its own daemon's workers (sync_workers_kick)
 * can start the job. */
static void
t_kick(void)
{
	char u[ITEST_ID_SZ], g[ITEST_ID_SZ];
	long long t0, until;

	itest_pool_reset();
	snprintf(itest->extra_config, sizeof(itest->extra_config), "%s",
	    "sync.workers = 2\nsync.poll_ms = 600000");
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	itest_create_user_named("notify.user", u);
	itest_create_group(group_body("pam-notify", NULL), g);
	/* the first round after the start found nothing: workers wait */
	itest_sleep_ms(500);
	t0 = itest_now_ms();
	patch_member(g, u, 1);
	until = t0 + 10000;
	while (itest_now_ms() < until && strcmp(vault_members(g),
	    "notify.user:7") != 0)
		itest_sleep_ms(5);
	ASSERT_STR_EQ(vault_members(g), "notify.user:7");
	/* created: the job's insert; finished: marked done after the
	 * vault applied it */
	printf("# kick: seen %lld ms after the 204; job done %s ms after "
	    "its insert\n", itest_now_ms() - t0, bsql(itest_fmt("SELECT "
	    "round(extract(epoch FROM finished - created) * 1000) FROM "
	    "sync_job WHERE safe_ref = '%s' AND user_ref = '%s'", g, u)));
	ASSERT_TRUE(itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
	    "WHERE safe_ref = '%s' AND user_ref = '%s' AND "
	    "finished - created < interval '5 seconds'", g, u)) == 1);
}

static void
t_clean(void)
{
	itest_pool_reset();
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM sync_job WHERE "
	    "state = 'dead' AND user_name <> 'blocked.user'"), 0);
	/* 503 (a deadlock, retried) is allowed, 500 is not */
	printf("# %d answers were 503 and retried\n", busy_503);
	ASSERT_FALSE(file_has(itest->log_path, "status=500"));
	itest_assert_clean_exit(itest);
}

static const struct testlib_case cases[] = {
	{ "start", t_start },
	{ "joiner", t_joiner },
	{ "mover", t_mover },
	{ "freeze_and_delete", t_freeze },
	{ "order_of_a_burst", t_order },
	{ "temporary_failure", t_temporary },
	{ "permanent_failure", t_permanent },
	{ "two_instances", t_two_instances },
	{ "race_membership_active_rules", t_race },
	{ "writer_wakes_own_workers", t_kick },
	{ "clean_exit", t_clean },
};

ITEST_MAIN(cases)
