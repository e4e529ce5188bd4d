/*
 * Reconciliation and the sync admin API against the real server, the
 * embedded vault and PostgreSQL. Drift injected directly into the vault
 * database (a member deleted, an extra member, changed perms, a renamed
 * safe, an unmanaged safe) is reported by a dry run that changes
 * nothing, repaired by corrective jobs (origin "reconcile") and then
 * reported no more (only the unmanaged safe stays, reported). The CLI
 * does the same: `reconcile --dry-run` beside the server, `reconcile
 * --apply` with the server stopped. A policy change takes effect through
 * reconcile. The dead-letter list, retry, stats and /metrics (parsed as
 * Prometheus text); bad parameters (400), no token (401), a token
 * without the admin scope (403); an unreachable vault gives 503.
 */

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>

#include "itest.h"

#define G_CORE		"urn:ietf:params:scim:schemas:core:2.0:Group"
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"

#define DRAIN_MS	30000
#define NU		5
#define P_MEMBER	"list,retrieve,use"	/* policy set "member" */
#define P_MEMBER_MASK	7
#define CLI_OUT		(256 * 1024)
#define NO_MEMBER	99	/* member_perms() of a non-member */

static const char *const unames[NU] = {
	"recon-a", "recon-b", "recon-c", "recon-d", "recon-e"
};
static char uid[NU][ITEST_ID_SZ];
static char gid[ITEST_ID_SZ];
static char rogue[ITEST_ID_SZ];		/* the unmanaged safe */
static long long done_job;		/* a reconcile job, done */
static long long dead_job;
static char cliout[CLI_OUT];

/* --- helpers --- */

/* Wait until no due job is pending (a purge may wait for days), or
 * the deadline passes (fail). */
static void
drain(void)
{
	struct itest_resp r;
	long long t0 = itest_now_ms(), due = -1;

	for (;;) {
		if (itest_http(itest, "GET", "/admin/sync/stats", NULL, NULL,
		    NULL, &r) != 0)
			TL_FAIL("GET /admin/sync/stats failed");
		if (r.status == 200)
			due = itest_jint(&r, "due");
		itest_resp_free(&r);
		if (due == 0)
			return;
		if (itest_now_ms() - t0 > DRAIN_MS)
			TL_FAIL("%lld jobs still due after %d ms", due,
			    DRAIN_MS);
		itest_sleep_ms(50);
	}
}

/* The number of dead jobs (stats). */
static long long
dead_count(void)
{
	struct itest_resp *r;

	r = itest_call("GET", "/admin/sync/stats", NULL);
	CHECK_STATUS(r, 200);
	return itest_jint(r, "dead");
}

static void
vault_exec(const char *sql)
{
	char out[1024];

	if (itest_vault_sql(itest, out, sizeof(out), sql) != 0)
		TL_FAIL("vault sql failed: %s", sql);
}

static void
bridge_exec(const char *sql)
{
	char out[1024];

	if (itest_sql(itest, out, sizeof(out), sql) != 0)
		TL_FAIL("sql failed: %s", sql);
}

/* Every safe and member row of the vault as one sorted string. */
static const char *
vault_snapshot(void)
{
	char out[16384];

	if (itest_vault_sql(itest, out, sizeof(out),
	    "SELECT coalesce(string_agg(x, ';' ORDER BY x), '') FROM ("
	    "SELECT 'S:' || ref || ':' || name || ':' || state AS x "
	    "FROM vault.safe UNION ALL "
	    "SELECT 'M:' || safe_ref || ':' || user_ref || ':' || user_name "
	    "|| ':' || perms FROM vault.member) s") != 0)
		TL_FAIL("vault snapshot failed");
	return itest_fmt("%s", out);
}

static long long
member_perms(int u)
{
	return itest_vault_num(itest_fmt("SELECT coalesce((SELECT perms FROM "
	    "vault.member WHERE safe_ref = '%s' AND user_ref = '%s'), %d)",
	    gid, uid[u], NO_MEMBER));
}

static long long
member_count(void)
{
	return itest_vault_num(itest_fmt("SELECT count(*) FROM vault.member "
	    "WHERE safe_ref = '%s'", gid));
}

static const char *
safe_name(void)
{
	char out[256];
	size_t n;

	if (itest_vault_sql(itest, out, sizeof(out), itest_fmt("SELECT name "
	    "FROM vault.safe WHERE ref = '%s'", gid)) != 0)
		TL_FAIL("vault sql failed");
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	return itest_fmt("%s", out);
}

static long long
job_count(void)
{
	return itest_sql_num("SELECT count(*) FROM sync_job");
}

/* "a,b,c" of a JSON array of strings (pooled), or "(none)" / "(bad)". */
static const char *
names_of(json_t *a)
{
	json_t *v;
	size_t i;
	const char *s = "";

	if (a == NULL || json_is_null(a))
		return "(none)";
	if (!json_is_array(a))
		return "(bad)";
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return "(bad)";
		s = itest_fmt("%s%s%s", s, i > 0 ? "," : "",
		    json_string_value(v));
	}
	return s;
}

/* The drift item of kind (and user_ref unless NULL) in rep, or NULL. */
static json_t *
drift_find(json_t *rep, const char *kind, const char *user_ref)
{
	json_t *it;
	const char *k, *u;
	size_t i;

	json_array_foreach(json_object_get(rep, "drift"), i, it) {
		k = json_string_value(json_object_get(it, "kind"));
		u = json_string_value(json_object_get(it, "user_ref"));
		if (k != NULL && strcmp(k, kind) == 0 && (user_ref == NULL ||
		    (u != NULL && strcmp(u, user_ref) == 0)))
			return it;
	}
	return NULL;
}

static json_t *
drift_must(json_t *rep, const char *kind, const char *user_ref)
{
	json_t *it;

	if ((it = drift_find(rep, kind, user_ref)) == NULL)
		TL_FAIL("no drift %s user_ref=%s in %s", kind,
		    user_ref != NULL ? user_ref : "-",
		    itest_dump(json_incref(rep)));
	return it;
}

static long long
item_job(json_t *it)
{
	json_t *j = json_object_get(it, "job_id");

	return json_is_integer(j) ? (long long)json_integer_value(j) : -1;
}

/* The drift injected by inject_drift, as a report must show it. */
static void
check_injected(json_t *rep, int dry_run)
{
	json_t *it;
	size_t i;

	ASSERT_TRUE(json_is_boolean(json_object_get(rep, "dry_run")));
	ASSERT_INT_EQ(json_is_true(json_object_get(rep, "dry_run")), dry_run);
	ASSERT_TRUE(json_integer_value(json_object_get(rep,
	    "safes_checked")) >= 1);
	ASSERT_INT_EQ(json_array_size(json_object_get(rep, "drift")), 5);

	it = drift_must(rep, "member_missing", uid[0]);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")), gid);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe")),
	    "recon");
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "user")),
	    unames[0]);
	ASSERT_STR_EQ(names_of(json_object_get(it, "intended")), P_MEMBER);
	ASSERT_STR_EQ(names_of(json_object_get(it, "actual")), "(none)");

	it = drift_must(rep, "member_extra", uid[3]);
	ASSERT_STR_EQ(names_of(json_object_get(it, "intended")), "(none)");
	ASSERT_STR_EQ(names_of(json_object_get(it, "actual")), P_MEMBER);

	it = drift_must(rep, "member_perms", uid[1]);
	ASSERT_STR_EQ(names_of(json_object_get(it, "intended")), P_MEMBER);
	ASSERT_STR_EQ(names_of(json_object_get(it, "actual")), "list");

	it = drift_must(rep, "safe_name", NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")), gid);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "intended")),
	    "recon");
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "actual")),
	    "renamed");

	it = drift_must(rep, "safe_unmanaged", NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")),
	    rogue);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe")),
	    "rogue");
	/* reported only, never repaired */
	ASSERT_INT_EQ(item_job(it), -1);

	if (dry_run) {
		json_array_foreach(json_object_get(rep, "drift"), i, it)
			ASSERT_NULL(json_object_get(it, "job_id"));
		ASSERT_INT_EQ(json_integer_value(json_object_get(rep,
		    "jobs_enqueued")), 0);
	}
}

static json_t *
reconcile_http(const char *query)
{
	struct itest_resp *r;

	r = itest_call("POST", itest_fmt("/admin/reconcile%s", query), NULL);
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(strncmp(r->content_type, "application/json", 16) == 0);
	ASSERT_NOT_NULL(r->json);
	return r->json;
}

/* Run the CLI; its stdout parsed as JSON (caller decrefs), NULL when
 * want_exit is not 0. */
static json_t *
reconcile_cli(const char *opt, int want_exit)
{
	const char *argv[] = { "reconcile", opt, NULL };
	json_error_t jerr;
	json_t *j;

	ASSERT_INT_EQ(itest_cli(itest, cliout, sizeof(cliout), argv),
	    want_exit);
	if (want_exit != 0)
		return NULL;
	if ((j = json_loads(cliout, 0, &jerr)) == NULL)
		TL_FAIL("reconcile %s printed no JSON: %s: %.200s", opt,
		    jerr.text, cliout);
	return j;
}

static const char *
group_body(const char *name, const int *members, size_t n)
{
	json_t *g, *m;
	size_t i;

	g = json_pack("{s[s]ss}", "schemas", G_CORE, "displayName", name);
	m = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(m, json_pack("{ss}", "value",
		    uid[members[i]]));
	json_object_set_new(g, "members", m);
	return itest_dump(g);
}

/* A SCIM-only token (no admin scope). */
static const char *
scim_token(void)
{
	static char tok[256];
	const char *argv[] = { "token", "create", "--name", "recon-scim",
	    "--scopes", "scim", NULL };
	char *nl;

	if (tok[0] != '\0')
		return tok;
	ASSERT_INT_EQ(itest_cli(itest, tok, sizeof(tok), argv), 0);
	if ((nl = strchr(tok, '\n')) != NULL)
		*nl = '\0';
	ASSERT_TRUE(tok[0] != '\0');
	return tok;
}

/* --- cases --- */

static void
t_setup_group(void)
{
	static const int members[] = { 0, 1, 2 };
	int i;

	itest_pool_reset();
	for (i = 0; i < NU; i++)
		itest_create_user_named(unames[i], uid[i]);
	itest_create_group(group_body("pam-recon", members, 3), gid);
	drain();
	ASSERT_STR_EQ(safe_name(), "recon");
	ASSERT_INT_EQ(member_count(), 3);
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(member_perms(i), P_MEMBER_MASK);
	/* nothing to report on a synced vault */
	ASSERT_INT_EQ(json_array_size(json_object_get(
	    reconcile_http("?dry_run=true"), "drift")), 0);
}

static void
t_inject_drift(void)
{
	char out[256];
	size_t n;

	itest_pool_reset();
	ASSERT_TRUE(gid[0] != '\0');
	vault_exec(itest_fmt("DELETE FROM vault.member WHERE safe_ref = '%s' "
	    "AND user_ref = '%s'", gid, uid[0]));
	vault_exec(itest_fmt("INSERT INTO vault.member (safe_ref, user_ref, "
	    "user_name, perms) VALUES ('%s', '%s', '%s', %d)", gid, uid[3],
	    unames[3], P_MEMBER_MASK));
	vault_exec(itest_fmt("UPDATE vault.member SET perms = 1 WHERE "
	    "safe_ref = '%s' AND user_ref = '%s'", gid, uid[1]));
	vault_exec(itest_fmt("UPDATE vault.safe SET name = 'renamed' WHERE "
	    "ref = '%s'", gid));
	/* a real wrapped data key, so the vault's startup check still
	 * passes with this row in place */
	if (itest_vault_sql(itest, out, sizeof(out), itest_fmt("INSERT INTO "
	    "vault.safe (ref, name, dek, dek_key_id) SELECT "
	    "gen_random_uuid(), 'rogue', dek, dek_key_id FROM vault.safe "
	    "WHERE ref = '%s' RETURNING ref", gid)) != 0)
		TL_FAIL("insert of the unmanaged safe failed");
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	ASSERT_INT_EQ(n, 36);
	snprintf(rogue, sizeof(rogue), "%.36s", out);
}

static void
t_dry_run_reports(void)
{
	const char *snap;
	long long jobs, applied;
	json_t *rep;

	itest_pool_reset();
	snap = vault_snapshot();
	jobs = job_count();
	applied = itest_vault_num("SELECT count(*) FROM vault.applied_op");

	check_injected(reconcile_http("?dry_run=true"), 1);
	/* no parameter is a dry run too */
	rep = reconcile_http("");
	check_injected(rep, 1);

	/* let any worker run: still nothing may change */
	itest_sleep_ms(300);
	ASSERT_STR_EQ(vault_snapshot(), snap);
	ASSERT_INT_EQ(job_count(), jobs);
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM vault.applied_op"),
	    applied);
}

static void
t_cli_dry_run(void)
{
	const char *snap;
	long long jobs;
	json_t *rep;

	itest_pool_reset();
	snap = vault_snapshot();
	jobs = job_count();
	rep = reconcile_cli("--dry-run", 0);
	check_injected(rep, 1);
	json_decref(rep);
	/* indented JSON for people */
	ASSERT_NOT_NULL(strstr(cliout, "\n  \"drift\""));
	itest_sleep_ms(200);
	ASSERT_STR_EQ(vault_snapshot(), snap);
	ASSERT_INT_EQ(job_count(), jobs);
}

static void
t_repair(void)
{
	static const struct {
		const char *kind;
		int user;	/* -1: safe */
		const char *op;
	} want[] = {
		{ "member_missing", 0, "member_set" },
		{ "member_perms", 1, "member_set" },
		{ "member_extra", 3, "member_remove" },
		{ "safe_name", -1, "safe_ensure" },
	};
	struct itest_resp *r;
	json_t *rep, *it;
	long long id;
	size_t i;

	itest_pool_reset();
	rep = reconcile_http("?dry_run=false");
	check_injected(rep, 0);
	ASSERT_INT_EQ(json_integer_value(json_object_get(rep,
	    "jobs_enqueued")), 4);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		it = drift_must(rep, want[i].kind,
		    want[i].user >= 0 ? uid[want[i].user] : NULL);
		if ((id = item_job(it)) <= 0)
			TL_FAIL("%s has no job_id", want[i].kind);
		r = itest_call("GET", itest_fmt("/admin/sync/jobs/%lld", id),
		    NULL);
		CHECK_STATUS(r, 200);
		ASSERT_INT_EQ(itest_jint(r, "id"), id);
		ASSERT_STR_EQ(itest_jstr(r, "origin"), "reconcile");
		ASSERT_STR_EQ(itest_jstr(r, "op"), want[i].op);
		ASSERT_STR_EQ(itest_jstr(r, "safe_ref"), gid);
		if (want[i].user >= 0) {
			ASSERT_STR_EQ(itest_jstr(r, "user_ref"),
			    uid[want[i].user]);
			ASSERT_STR_EQ(itest_jstr(r, "user"),
			    unames[want[i].user]);
		} else
			ASSERT_NULL(itest_jstr(r, "user_ref"));
		if (strcmp(want[i].op, "member_set") == 0)
			ASSERT_STR_EQ(names_of(itest_jpath(r->json, "perms")),
			    P_MEMBER);
		done_job = id;
	}
	drain();
	ASSERT_STR_EQ(safe_name(), "recon");
	ASSERT_INT_EQ(member_perms(0), P_MEMBER_MASK);
	ASSERT_INT_EQ(member_perms(1), P_MEMBER_MASK);
	ASSERT_INT_EQ(member_perms(2), P_MEMBER_MASK);
	ASSERT_INT_EQ(member_perms(3), NO_MEMBER);
	ASSERT_INT_EQ(member_count(), 3);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.safe WHERE ref = '%s'", rogue)), 1);
	r = itest_call("GET", itest_fmt("/admin/sync/jobs/%lld", done_job),
	    NULL);
	ASSERT_STR_EQ(itest_jstr(r, "state"), "done");
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "finished")));

	/* only the unmanaged safe is left, and it is only reported */
	rep = reconcile_http("?dry_run=false");
	ASSERT_INT_EQ(json_array_size(json_object_get(rep, "drift")), 1);
	ASSERT_NOT_NULL(drift_find(rep, "safe_unmanaged", NULL));
	ASSERT_INT_EQ(json_integer_value(json_object_get(rep,
	    "jobs_enqueued")), 0);
}

/*
 * The safe of an active binding deleted in the vault: re-created, then
 * its members added back, in that order.
 */
static void
t_safe_missing(void)
{
	static const int m2[] = { 0, 1 };
	char g2[ITEST_ID_SZ];
	json_t *rep, *it;
	long long ensure, set0, set1;

	itest_pool_reset();
	itest_create_group(group_body("pam-recon2", m2, 2), g2);
	drain();
	vault_exec(itest_fmt("DELETE FROM vault.safe WHERE ref = '%s'", g2));

	rep = reconcile_http("?dry_run=true");
	ASSERT_INT_EQ(json_array_size(json_object_get(rep, "drift")), 4);
	it = drift_must(rep, "safe_missing", NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")), g2);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "intended")),
	    "recon2");
	ASSERT_TRUE(json_is_null(json_object_get(it, "actual")));
	it = drift_must(rep, "member_missing", uid[0]);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")), g2);
	it = drift_must(rep, "member_missing", uid[1]);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")), g2);

	rep = reconcile_http("?dry_run=false");
	ASSERT_INT_EQ(json_integer_value(json_object_get(rep,
	    "jobs_enqueued")), 3);
	ensure = item_job(drift_must(rep, "safe_missing", NULL));
	set0 = item_job(drift_must(rep, "member_missing", uid[0]));
	set1 = item_job(drift_must(rep, "member_missing", uid[1]));
	/* the safe first, so that its members can be added */
	ASSERT_TRUE(ensure > 0 && set0 > ensure && set1 > ensure);
	drain();
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.safe WHERE ref = '%s' AND name = 'recon2' AND state = "
	    "'active'", g2)), 1);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.member WHERE safe_ref = '%s' AND perms = %d", g2,
	    P_MEMBER_MASK)), 2);
	rep = reconcile_http("?dry_run=true");
	ASSERT_INT_EQ(json_array_size(json_object_get(rep, "drift")), 1);
}

static void
t_cli_apply_offline(void)
{
	json_t *rep, *it;
	int st;

	itest_pool_reset();
	vault_exec(itest_fmt("DELETE FROM vault.member WHERE safe_ref = '%s' "
	    "AND user_ref = '%s'", gid, uid[2]));
	vault_exec(itest_fmt("UPDATE vault.safe SET name = 'offline' WHERE "
	    "ref = '%s'", gid));
	st = itest_server_stop(itest, SIGTERM);
	ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	rep = reconcile_cli("--apply", 0);
	ASSERT_TRUE(json_is_false(json_object_get(rep, "dry_run")));
	it = drift_must(rep, "member_missing", uid[2]);
	ASSERT_TRUE(item_job(it) > 0);
	it = drift_must(rep, "safe_name", NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "actual")),
	    "offline");
	ASSERT_TRUE(item_job(it) > 0);
	ASSERT_INT_EQ(json_array_size(json_object_get(rep, "drift")), 3);
	json_decref(rep);
	/* applied by the command itself: no daemon runs */
	ASSERT_STR_EQ(safe_name(), "recon");
	ASSERT_INT_EQ(member_perms(2), P_MEMBER_MASK);
	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM sync_job WHERE "
	    "state <> 'done' AND state <> 'cancelled'"), 0);

	/* usage errors */
	{
		const char *both[] = { "reconcile", "--dry-run", "--apply",
		    NULL };
		const char *bad[] = { "reconcile", "--bogus", NULL };
		const char *extra[] = { "reconcile", "now", NULL };

		ASSERT_INT_EQ(itest_cli(itest, cliout, sizeof(cliout), both),
		    2);
		ASSERT_INT_EQ(itest_cli(itest, cliout, sizeof(cliout), bad),
		    2);
		ASSERT_INT_EQ(itest_cli(itest, cliout, sizeof(cliout), extra),
		    2);
	}
	ASSERT_INT_EQ(itest_server_start(itest), 0);
}

/* A policy dir where pam-* groups give only "list". */
static const char *
viewer_policy_dir(void)
{
	const char *dir = itest_fmt("%s/policy-viewer", itest->dir);
	FILE *f;

	mkdir(dir, 0700);
	if ((f = fopen(itest_fmt("%s/lifecycle.json", dir), "w")) == NULL)
		TL_FAIL("cannot write the policy");
	fputs("{\"version\": 1,\n"
	    " \"permission_sets\": {\"viewer\": [\"list\"]},\n"
	    " \"safes\": [{\"id\": \"pam-view\",\n"
	    "   \"match\": {\"display_name_prefix\": \"pam-\"},\n"
	    "   \"name\": {\"strip_prefix\": true, \"case\": \"lower\",\n"
	    "     \"max_length\": 28, \"allowed\": \"a-z0-9_-\",\n"
	    "     \"replace_other\": \"_\"},\n"
	    "   \"permission_set\": \"viewer\", \"retention_days\": 7}]}\n",
	    f);
	if (fclose(f) != 0)
		TL_FAIL("cannot write the policy");
	return dir;
}

static void
t_policy_change(void)
{
	const char *snap;
	json_t *rep, *it;
	int i;

	itest_pool_reset();
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "policy.dir = \"%s\"", viewer_policy_dir());
	ASSERT_INT_EQ(itest_server_start(itest), 0);

	snap = vault_snapshot();
	rep = reconcile_http("?dry_run=true");
	it = drift_must(rep, "binding", NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")), gid);
	ASSERT_STR_EQ(names_of(json_object_get(json_object_get(it,
	    "intended"), "perms")), "list");
	ASSERT_STR_EQ(names_of(json_object_get(json_object_get(it,
	    "actual"), "perms")), P_MEMBER);
	for (i = 0; i < 3; i++) {
		it = drift_must(rep, "member_perms", uid[i]);
		ASSERT_STR_EQ(names_of(json_object_get(it, "intended")),
		    "list");
	}
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT perms FROM "
	    "sync_binding WHERE group_id = '%s'", gid)), P_MEMBER_MASK);
	itest_sleep_ms(200);
	ASSERT_STR_EQ(vault_snapshot(), snap);

	rep = reconcile_http("?dry_run=false");
	ASSERT_NOT_NULL(drift_find(rep, "binding", NULL));
	ASSERT_INT_EQ(itest_sql_num(itest_fmt("SELECT perms FROM "
	    "sync_binding WHERE group_id = '%s'", gid)), 1);
	drain();
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(member_perms(i), 1);
	rep = reconcile_http("?dry_run=true");
	ASSERT_INT_EQ(json_array_size(json_object_get(rep, "drift")), 1);

	/* back to the repository's policy */
	itest->extra_config[0] = '\0';
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	reconcile_http("?dry_run=false");
	drain();
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(member_perms(i), P_MEMBER_MASK);
	rep = reconcile_http("?dry_run=true");
	ASSERT_INT_EQ(json_array_size(json_object_get(rep, "drift")), 1);
}

static void
t_dead_letter(void)
{
	struct itest_resp *r;
	json_t *j;
	long long t0, before;
	size_t i;

	itest_pool_reset();
	before = dead_count();
	vault_exec(itest_fmt("ALTER TABLE vault.member ADD CONSTRAINT "
	    "recon_refuse CHECK (user_name <> '%s')", unames[4]));
	r = itest_call("PATCH", itest_group_path(gid), itest_patch_body(
	    itest_fmt("[{\"op\":\"add\",\"path\":\"members\",\"value\":"
	    "[{\"value\":\"%s\"}]}]", uid[4])));
	ASSERT_TRUE(r->status == 200 || r->status == 204);
	t0 = itest_now_ms();
	while (dead_count() == before) {
		if (itest_now_ms() - t0 > DRAIN_MS)
			TL_FAIL("the refused job did not become dead");
		itest_sleep_ms(100);
		itest_pool_reset();
	}

	/* state=dead is the default */
	r = itest_call("GET", "/admin/sync/jobs", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(strncmp(r->content_type, "application/json", 16) == 0);
	ASSERT_TRUE(itest_jlen(r, "jobs") >= 1);
	dead_job = 0;
	json_array_foreach(itest_jpath(r->json, "jobs"), i, j) {
		const char *u = json_string_value(json_object_get(j,
		    "user_ref"));

		if (u != NULL && strcmp(u, uid[4]) == 0) {
			dead_job = json_integer_value(json_object_get(j,
			    "id"));
			break;
		}
	}
	ASSERT_TRUE(dead_job > 0);
	r = itest_call("GET", "/admin/sync/jobs?state=dead&limit=1000", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(json_is_null(itest_jpath(r->json, "next_before")));
	r = itest_call("GET", itest_fmt("/admin/sync/jobs/%lld", dead_job),
	    NULL);
	CHECK_STATUS(r, 200);
	ASSERT_STR_EQ(itest_jstr(r, "state"), "dead");
	ASSERT_STR_EQ(itest_jstr(r, "op"), "member_set");
	ASSERT_STR_EQ(itest_jstr(r, "safe_ref"), gid);
	ASSERT_STR_EQ(itest_jstr(r, "safe"), "recon");
	ASSERT_STR_EQ(itest_jstr(r, "user"), unames[4]);
	ASSERT_STR_EQ(itest_jstr(r, "origin"), "scim");
	ASSERT_STR_EQ(names_of(itest_jpath(r->json, "perms")), P_MEMBER);
	ASSERT_NOT_NULL(itest_jstr(r, "last_error"));
	ASSERT_TRUE(strlen(itest_jstr(r, "last_error")) > 0);
	ASSERT_TRUE(itest_jint(r, "attempts") >= 1);
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "created")));
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "not_before")));
	ASSERT_TRUE(itest_is_datetime(itest_jstr(r, "finished")));
	ASSERT_INT_EQ(member_perms(4), NO_MEMBER);
}

/* One "name{labels} value" sample's value, or fail. */
static double
metric(const char *text, const char *series)
{
	const char *p = text, *nl;
	size_t n = strlen(series);
	char *end;
	double v;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, &end);
			if (end == p + n + 1)
				TL_FAIL("bad value of %s", series);
			return v;
		}
		nl = strchr(p, '\n');
		p = nl != NULL ? nl + 1 : NULL;
	}
	TL_FAIL("no sample %s", series);
	return -1;
}

/* Every line is a HELP, a TYPE, or a sample of a TYPEd metric. */
static void
check_prometheus(const char *text)
{
	char line[512], name[128], typed[4096] = " ";
	const char *p = text, *nl, *sp;
	size_t n, k, tlen = 1;
	char *end;
	int w;

	ASSERT_TRUE(text[0] != '\0' && text[strlen(text) - 1] == '\n');
	while (*p != '\0') {
		nl = strchr(p, '\n');
		ASSERT_NOT_NULL(nl);
		n = (size_t)(nl - p);
		ASSERT_TRUE(n > 0 && n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sp = strchr(line + 7, ' ');
			ASSERT_NOT_NULL(sp);
			ASSERT_TRUE(strcmp(sp + 1, "gauge") == 0 ||
			    strcmp(sp + 1, "counter") == 0);
			w = snprintf(typed + tlen, sizeof(typed) - tlen,
			    "%.*s ", (int)(sp - (line + 7)), line + 7);
			if (w < 0 || (size_t)w >= sizeof(typed) - tlen)
				TL_FAIL("too many metrics");
			tlen += (size_t)w;
			continue;
		}
		ASSERT_TRUE(line[0] != '#');
		for (k = 0; line[k] != '\0' && (isalnum((unsigned char)line[k])
		    || line[k] == '_' || line[k] == ':'); k++)
			;
		ASSERT_TRUE(k > 0 && k < sizeof(name) - 2);
		name[0] = ' ';
		memcpy(name + 1, line, k);
		name[k + 1] = ' ';
		name[k + 2] = '\0';
		if (strstr(typed, name) == NULL)
			TL_FAIL("sample without # TYPE: %s", line);
		if (line[k] == '{') {
			sp = strchr(line + k, '}');
			ASSERT_NOT_NULL(sp);
			ASSERT_NOT_NULL(strstr(line + k, "=\""));
			k = (size_t)(sp - line) + 1;
		}
		ASSERT_TRUE(line[k] == ' ');
		(void)strtod(line + k + 1, &end);
		ASSERT_TRUE(end != line + k + 1 && *end == '\0');
	}
}

static void
t_metrics(void)
{
	struct itest_resp *r;
	long long dead;

	itest_pool_reset();
	dead = dead_count();
	ASSERT_TRUE(dead >= 1);
	r = itest_call("GET", "/metrics", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_TRUE(strncmp(r->content_type, "text/plain; version=0.0.4",
	    25) == 0);
	check_prometheus(r->body);
	ASSERT_INT_EQ((long long)metric(r->body,
	    "vaultbridge_sync_jobs{state=\"dead\"}"), dead);
	ASSERT_TRUE(metric(r->body,
	    "vaultbridge_sync_jobs{state=\"done\"}") >= 1);
	ASSERT_TRUE(metric(r->body, "vaultbridge_sync_jobs{state=\"pending\"}")
	    >= 0);
	ASSERT_TRUE(metric(r->body, "vaultbridge_sync_jobs{state=\"due\"}")
	    >= 0);
	ASSERT_TRUE(metric(r->body, "vaultbridge_sync_oldest_due_seconds")
	    >= 0);
	ASSERT_TRUE(metric(r->body, "vaultbridge_http_requests_total") >= 1);
	ASSERT_TRUE(metric(r->body,
	    "vaultbridge_db_pool_connections{state=\"open\"}") >= 1);
	ASSERT_TRUE(metric(r->body,
	    "vaultbridge_db_pool_connections{state=\"busy\"}") >= 0);
	ASSERT_INT_EQ((long long)metric(r->body, "vaultbridge_db_up"), 1);
	/* this daemon's workers: the dead job above went through them */
	ASSERT_INT_EQ((long long)metric(r->body, "vaultbridge_sync_workers"),
	    2);
	ASSERT_TRUE(metric(r->body,
	    "vaultbridge_sync_jobs_total{outcome=\"dead\"}") >= 1);
	ASSERT_TRUE(metric(r->body,
	    "vaultbridge_sync_jobs_total{outcome=\"applied\"}") >= 1);
	ASSERT_TRUE(metric(r->body, "vaultbridge_sync_batches_total") >= 0);

	r = itest_call("GET", "/admin/sync/stats", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "dead"), dead);
	ASSERT_TRUE(itest_jint(r, "done") >= 1);
	ASSERT_TRUE(json_is_number(itest_jpath(r->json,
	    "oldest_due_seconds")));
}

static void
t_retry(void)
{
	struct itest_resp *r;
	long long new_id;

	itest_pool_reset();
	ASSERT_TRUE(dead_job > 0 && done_job > 0);
	/* a done job cannot be retried */
	r = itest_call("POST", itest_fmt("/admin/sync/jobs/%lld/retry",
	    done_job), NULL);
	CHECK_STATUS(r, 409);
	ASSERT_STR_EQ(itest_jstr(r, "error"), "not_dead");

	vault_exec("ALTER TABLE vault.member DROP CONSTRAINT recon_refuse");
	r = itest_call("POST", itest_fmt("/admin/sync/jobs/%lld/retry",
	    dead_job), NULL);
	CHECK_STATUS(r, 201);
	new_id = itest_jint(r, "id");
	ASSERT_TRUE(new_id > dead_job);
	ASSERT_TRUE(itest_ends_with(r->location,
	    itest_fmt("/admin/sync/jobs/%lld", new_id)));
	ASSERT_STR_EQ(itest_jstr(r, "op"), "member_set");
	ASSERT_STR_EQ(itest_jstr(r, "user_ref"), uid[4]);
	ASSERT_INT_EQ(itest_jint(r, "attempts"), 0);
	drain();
	ASSERT_INT_EQ(member_perms(4), P_MEMBER_MASK);
	r = itest_call("GET", itest_fmt("/admin/sync/jobs/%lld", new_id),
	    NULL);
	ASSERT_STR_EQ(itest_jstr(r, "state"), "done");
	r = itest_call("GET", itest_fmt("/admin/sync/jobs/%lld", dead_job),
	    NULL);
	ASSERT_STR_EQ(itest_jstr(r, "state"), "cancelled");
	/* the original is no longer dead: a second retry is refused */
	r = itest_call("POST", itest_fmt("/admin/sync/jobs/%lld/retry",
	    dead_job), NULL);
	CHECK_STATUS(r, 409);
	r = itest_call("GET", "/admin/sync/jobs?state=cancelled", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jint(r, "jobs/0/id"), dead_job);
}

static void
t_paging(void)
{
	struct itest_resp *r;
	long long first, second;

	itest_pool_reset();
	r = itest_call("GET", "/admin/sync/jobs?state=done&limit=1", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jlen(r, "jobs"), 1);
	first = itest_jint(r, "jobs/0/id");
	ASSERT_INT_EQ(itest_jint(r, "next_before"), first);
	ASSERT_STR_EQ(itest_jstr(r, "jobs/0/state"), "done");
	r = itest_call("GET", itest_fmt("/admin/sync/jobs?state=done&limit=1"
	    "&before=%lld", first), NULL);
	CHECK_STATUS(r, 200);
	second = itest_jint(r, "jobs/0/id");
	ASSERT_TRUE(second > 0 && second < first);
	r = itest_call("GET", "/admin/sync/jobs?state=pending", NULL);
	CHECK_STATUS(r, 200);
	ASSERT_INT_EQ(itest_jlen(r, "jobs"), 0);
	ASSERT_TRUE(json_is_null(itest_jpath(r->json, "next_before")));
}

static void
t_bad_params(void)
{
	static const struct {
		const char *method;
		const char *path;
		long status;
	} cases[] = {
		{ "GET", "/admin/sync/jobs?state=bogus", 400 },
		{ "GET", "/admin/sync/jobs?state=", 400 },
		{ "GET", "/admin/sync/jobs?limit=0", 400 },
		{ "GET", "/admin/sync/jobs?limit=1001", 400 },
		{ "GET", "/admin/sync/jobs?limit=abc", 400 },
		{ "GET", "/admin/sync/jobs?limit=-1", 400 },
		{ "GET", "/admin/sync/jobs?before=0", 400 },
		{ "GET", "/admin/sync/jobs?before=x1", 400 },
		{ "GET", "/admin/sync/jobs?before=99999999999999999999", 400 },
		{ "GET", "/admin/sync/jobs?limit=1&limit=2", 400 },
		{ "GET", "/admin/sync/jobs?sort=id", 400 },
		{ "GET", "/admin/sync/jobs/abc", 400 },
		{ "GET", "/admin/sync/jobs/0", 400 },
		{ "GET", "/admin/sync/jobs/-5", 400 },
		{ "GET", "/admin/sync/jobs/999999999", 404 },
		{ "POST", "/admin/sync/jobs/999999999/retry", 404 },
		{ "POST", "/admin/sync/jobs/x/retry", 400 },
		{ "POST", "/admin/reconcile?dry_run=maybe", 400 },
		{ "POST", "/admin/reconcile?dry_run=", 400 },
		{ "POST", "/admin/reconcile?dry_run=TRUE", 400 },
		{ "POST", "/admin/reconcile?apply=1", 400 },
		{ "GET", "/admin/sync/stats?x=1", 400 },
		{ "GET", "/metrics?x=1", 400 },
	};
	struct itest_resp *r;
	size_t i;

	itest_pool_reset();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = itest_call(cases[i].method, cases[i].path, NULL);
		if (r->status != cases[i].status)
			TL_FAIL("%s %s: %ld, want %ld", cases[i].method,
			    cases[i].path, r->status, cases[i].status);
		ASSERT_TRUE(strncmp(r->content_type, "application/json",
		    16) == 0);
		ASSERT_NOT_NULL(itest_jstr(r, "error"));
		ASSERT_NOT_NULL(itest_jstr(r, "detail"));
	}
}

static void
t_auth(void)
{
	static const struct {
		const char *method;
		const char *path;
	} routes[] = {
		{ "GET", "/admin/sync/jobs" },
		{ "GET", "/admin/sync/jobs/1" },
		{ "POST", "/admin/sync/jobs/1/retry" },
		{ "GET", "/admin/sync/stats" },
		{ "POST", "/admin/reconcile?dry_run=true" },
		{ "GET", "/metrics" },
	};
	struct itest_resp r;
	const char *tok;
	size_t i;

	itest_pool_reset();
	tok = scim_token();
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		ASSERT_INT_EQ(itest_http(itest, routes[i].method,
		    routes[i].path, "", NULL, NULL, &r), 0);
		if (r.status != 401) {
			itest_resp_free(&r);
			TL_FAIL("%s %s without a token: not 401",
			    routes[i].method, routes[i].path);
		}
		itest_resp_free(&r);
		ASSERT_INT_EQ(itest_http(itest, routes[i].method,
		    routes[i].path, tok, NULL, NULL, &r), 0);
		if (r.status != 403) {
			itest_resp_free(&r);
			TL_FAIL("%s %s with a scim token: not 403",
			    routes[i].method, routes[i].path);
		}
		itest_resp_free(&r);
	}
}

/*
 * The safe of a deleted group (frozen binding, its purge waiting for the
 * retention period) made active again in the vault, with a member: the
 * drift is reported and the safe frozen again, although the purge job is
 * still pending.
 */
static void
t_frozen_reactivated(void)
{
	static const int m3[] = { 2 };
	char g3[ITEST_ID_SZ];
	struct itest_resp *r;
	json_t *rep, *it;
	long long t0;

	itest_pool_reset();
	itest_create_group(group_body("pam-recon3", m3, 1), g3);
	drain();
	r = itest_call("DELETE", itest_group_path(g3), NULL);
	CHECK_STATUS(r, 204);
	drain();
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.safe WHERE ref = '%s' AND state = 'frozen'", g3)), 1);
	vault_exec(itest_fmt("UPDATE vault.safe SET state = 'active', "
	    "frozen_at = NULL WHERE ref = '%s'", g3));
	vault_exec(itest_fmt("INSERT INTO vault.member (safe_ref, user_ref, "
	    "user_name, perms) VALUES ('%s', '%s', '%s', 7)", g3, uid[2],
	    unames[2]));

	rep = reconcile_http("?dry_run=true");
	it = drift_must(rep, "safe_not_frozen", NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(it, "safe_ref")), g3);
	ASSERT_TRUE(json_is_false(json_object_get(json_object_get(it,
	    "actual"), "frozen")));
	ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(it,
	    "actual"), "members")), 1);

	rep = reconcile_http("?dry_run=false");
	ASSERT_TRUE(item_job(drift_must(rep, "safe_not_frozen", NULL)) > 0);
	t0 = itest_now_ms();
	while (itest_vault_num(itest_fmt("SELECT count(*) FROM vault.member "
	    "WHERE safe_ref = '%s'", g3)) != 0) {
		if (itest_now_ms() - t0 > DRAIN_MS)
			TL_FAIL("the corrective freeze was not applied");
		itest_sleep_ms(100);
		itest_pool_reset();
	}
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.safe WHERE ref = '%s' AND state = 'frozen'", g3)), 1);
}

static void
t_no_5xx(void)
{
	itest_pool_reset();
	itest_assert_no_5xx(itest);
}

/* After t_no_5xx: this one answers 503 on purpose. */
static void
t_vault_down(void)
{
	struct itest_resp *r;
	long long t0;

	itest_pool_reset();
	bridge_exec("ALTER DATABASE vaultbridge_vault WITH ALLOW_CONNECTIONS "
	    "false");
	bridge_exec("SELECT count(pg_terminate_backend(pid)) FROM "
	    "pg_stat_activity WHERE datname = 'vaultbridge_vault'");
	r = itest_call("POST", "/admin/reconcile?dry_run=true", NULL);
	CHECK_STATUS(r, 503);
	ASSERT_TRUE(strncmp(r->content_type, "application/json", 16) == 0);
	ASSERT_TRUE(r->retry_after[0] != '\0');
	r = itest_call("POST", "/admin/reconcile?dry_run=false", NULL);
	CHECK_STATUS(r, 503);
	/* the CLI fails with a message, exit 1 */
	reconcile_cli("--dry-run", 1);
	/* stats and metrics answer without the vault */
	r = itest_call("GET", "/metrics", NULL);
	CHECK_STATUS(r, 200);
	bridge_exec("ALTER DATABASE vaultbridge_vault WITH ALLOW_CONNECTIONS "
	    "true");
	t0 = itest_now_ms();
	for (;;) {
		r = itest_call("POST", "/admin/reconcile?dry_run=true", NULL);
		if (r->status == 200)
			break;
		if (itest_now_ms() - t0 > 15000)
			TL_FAIL("reconcile did not recover: %ld", r->status);
		itest_sleep_ms(200);
	}
	ASSERT_TRUE(json_is_array(itest_jpath(r->json, "drift")));
}

static void
t_clean_exit(void)
{
	itest_pool_reset();
	itest_assert_clean_exit(itest);
}

static const struct testlib_case cases[] = {
	{ "setup_group", t_setup_group },
	{ "inject_drift", t_inject_drift },
	{ "dry_run_reports_and_changes_nothing", t_dry_run_reports },
	{ "cli_dry_run", t_cli_dry_run },
	{ "repair", t_repair },
	{ "safe_missing", t_safe_missing },
	{ "cli_apply_offline", t_cli_apply_offline },
	{ "policy_change", t_policy_change },
	{ "dead_letter", t_dead_letter },
	{ "metrics", t_metrics },
	{ "retry", t_retry },
	{ "paging", t_paging },
	{ "bad_params", t_bad_params },
	{ "auth", t_auth },
	{ "frozen_reactivated", t_frozen_reactivated },
	{ "no_5xx", t_no_5xx },
	{ "vault_down", t_vault_down },
	{ "clean_exit", t_clean_exit },
};

ITEST_MAIN(cases)
