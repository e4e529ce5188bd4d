/*
 * Crash test of the outbox (issue #3): membership changes are written by
 * concurrent SCIM clients while the workers carry them to the embedded
 * vault; the daemon is killed with SIGKILL while about a thousand
 * changes are in flight, restarted, killed again during the recovery,
 * and restarted once more. Then every change that got a 2xx (and the
 * one change per key whose answer was lost in the kill, if it
 * committed) must have reached the vault exactly as committed: per
 * (safe, user), the vault's ledger (vault.applied_op, in apply order)
 * holds the same add/remove sequence as the committed changes, job ids
 * ascending, each job once; no job is left pending or dead.
 */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "itest.h"
#include "util/strutil.h"

#define SCIM		"/scim/v2"
#define M_PATCH		"urn:ietf:params:scim:api:messages:2.0:PatchOp"

#define NGROUPS		10
#define NUSERS		10
#define NKEYS		(NGROUPS * NUSERS)
#define NWRITERS	8
#define NCHANGES	1200	/* planned; the kill stops the writers */
#define KILL_AFTER	1000	/* SIGKILL after this many 2xx answers */
#define CHANGES_PER_KEY	(NCHANGES / NKEYS + 2)
#define DRAIN_S		120

enum outcome { OUT_NONE, OUT_OK, OUT_LOST };

struct key {
	int group, user;
	int ops[CHANGES_PER_KEY];	/* 1 add, 0 remove, in send order */
	enum outcome out[CHANGES_PER_KEY];
	int n;				/* changes sent */
	int member;			/* state after the last 2xx */
};

static char gid[NGROUPS][ITEST_ID_SZ];
static char uid[NUSERS][ITEST_ID_SZ];
static struct key keys[NKEYS];
static volatile int stop_writers;
static int ok_total;
static int killed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static long long
pending_jobs(void)
{
	return itest_sql_num("SELECT count(*) FROM sync_job "
	    "WHERE state = 'pending'");
}

/* Wait until no job is pending (or the deadline); 1 when drained. */
static int
drain(int seconds)
{
	long long until = itest_now_ms() + seconds * 1000LL;

	while (itest_now_ms() < until) {
		if (pending_jobs() == 0)
			return 1;
		itest_sleep_ms(100);
	}
	return 0;
}

/* One PATCH adding or removing a user; 1 on 2xx, 0 on another status,
 * -1 when no answer came (the server died). */
static int
send_change(const struct key *k, int add)
{
	struct itest_resp r;
	json_t *body;
	char *text, path[128], filter[128];
	int ret;

	snprintf(filter, sizeof(filter), "members[value eq \"%s\"]",
	    uid[k->user]);
	if (add)
		body = json_pack("{s[s]s[{sssss[{ss}]}]}", "schemas", M_PATCH,
		    "Operations", "op", "add", "path", "members", "value",
		    "value", uid[k->user]);
	else
		body = json_pack("{s[s]s[{ssss}]}", "schemas", M_PATCH,
		    "Operations", "op", "remove", "path", filter);
	text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL)
		return 0;
	snprintf(path, sizeof(path), SCIM "/Groups/%s", gid[k->group]);
	if (itest_http(itest, "PATCH", path, NULL, text, NULL, &r) != 0)
		ret = -1;
	else
		ret = r.status >= 200 && r.status < 300 ? 1 :
		    r.status >= 500 || r.status == 0 ? -1 : 0;
	if (ret == 0)
		fprintf(stderr, "  writer: status %ld: %.200s\n", r.status,
		    r.body != NULL ? r.body : "");
	itest_resp_free(&r);
	free(text);
	return ret;
}

/* Writer w owns the keys k with k % NWRITERS == w and cycles over them,
 * toggling membership, so every change is effective. */
static void *
writer(void *arg)
{
	int w = (int)(intptr_t)arg, k, round, rc, add;
	struct key *key;

	for (round = 0; round < CHANGES_PER_KEY - 1 && !stop_writers;
	    round++) {
		for (k = w; k < NKEYS && !stop_writers; k += NWRITERS) {
			key = &keys[k];
			add = !key->member;
			key->ops[key->n] = add;
			rc = send_change(key, add);
			if (rc == 1) {
				key->out[key->n++] = OUT_OK;
				key->member = add;
				pthread_mutex_lock(&mu);
				if (++ok_total == KILL_AFTER && !killed) {
					killed = 1;
					kill(itest->pid, SIGKILL);
				}
				pthread_mutex_unlock(&mu);
			} else if (rc == -1) {
				/* lost in the kill: may or may not be
				 * committed; this writer stops */
				key->out[key->n++] = OUT_LOST;
				return NULL;
			} else
				return NULL;
		}
	}
	return NULL;
}

static void
t_setup(void)
{
	char name[64];
	int i;

	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "crash.user%02d", i);
		itest_create_user_named(name, uid[i]);
	}
	for (i = 0; i < NGROUPS; i++) {
		snprintf(name, sizeof(name), "pam-crash-%02d", i);
		itest_create_group(itest_fmt("{\"schemas\":[\"urn:ietf:params:"
		    "scim:schemas:core:2.0:Group\"],\"displayName\":\"%s\"}",
		    name), gid[i]);
	}
	for (i = 0; i < NKEYS; i++) {
		keys[i].group = i / NUSERS;
		keys[i].user = i % NUSERS;
	}
	ASSERT_TRUE(drain(DRAIN_S));
	ASSERT_INT_EQ(itest_vault_num("SELECT count(*) FROM vault.safe "
	    "WHERE name LIKE 'crash-%' AND state = 'active'"), NGROUPS);
}

static void
restart(const char *extra)
{
	snprintf(itest->extra_config, sizeof(itest->extra_config), "%s",
	    extra);
	ASSERT_INT_EQ(itest_server_start(itest), 0);
}

static void
t_kill_during_writes(void)
{
	pthread_t th[NWRITERS];
	long long at_kill, before, until;
	int i, st;

	/* one slow worker (a job per transaction), so that changes pile up
	 * in the outbox while it is busy applying */
	itest_server_stop(itest, SIGTERM);
	restart("sync.workers = 1\nsync.batch = 1\n");
	for (i = 0; i < NWRITERS; i++)
		ASSERT_INT_EQ(pthread_create(&th[i], NULL, writer,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < NWRITERS; i++)
		pthread_join(th[i], NULL);
	ASSERT_TRUE(killed);
	st = itest_server_stop(itest, SIGKILL);	/* reap it */
	(void)st;
	at_kill = pending_jobs();
	printf("# crash: %d changes answered 2xx, %lld jobs pending at the "
	    "kill\n", ok_total, at_kill);
	ASSERT_TRUE(ok_total >= KILL_AFTER);
	ASSERT_TRUE(at_kill > 0);

	/* recover, and kill again in the middle of the recovery */
	restart("sync.workers = 2\nsync.batch = 8\n");
	before = at_kill;
	until = itest_now_ms() + DRAIN_S * 1000LL;
	while (pending_jobs() > before * 3 / 4 && itest_now_ms() < until)
		itest_sleep_ms(5);
	itest_server_stop(itest, SIGKILL);
	at_kill = pending_jobs();
	printf("# crash: second kill with %lld jobs pending\n", at_kill);
	ASSERT_TRUE(at_kill > 0);
	restart("");
	ASSERT_TRUE(drain(DRAIN_S));
}

/* The committed sequence of key k: its 2xx changes, and the lost one if
 * the bridge's final membership says it committed. */
static int
committed(const struct key *k, int *ops)
{
	long long in;
	int n = 0, i;

	for (i = 0; i < k->n; i++)
		if (k->out[i] == OUT_OK)
			ops[n++] = k->ops[i];
	if (k->n > 0 && k->out[k->n - 1] == OUT_LOST) {
		in = itest_sql_num(itest_fmt("SELECT count(*) FROM "
		    "scim_group_member WHERE group_id = '%s' AND "
		    "member_id = '%s'", gid[k->group], uid[k->user]));
		if (in == k->ops[k->n - 1])
			ops[n++] = k->ops[k->n - 1];
	}
	return n;
}

static void
t_vault_matches_commits(void)
{
	int ops[CHANGES_PER_KEY], n, i, j, checked = 0;
	long long jobs, redeliveries;
	char out[65536], *line, *nl;
	long long prev;
	uint64_t id;

	ASSERT_INT_EQ(itest_sql_num("SELECT count(*) FROM sync_job WHERE "
	    "state IN ('pending', 'dead')"), 0);
	for (i = 0; i < NKEYS; i++) {
		n = committed(&keys[i], ops);
		/* jobs of the key: one per committed change */
		jobs = itest_sql_num(itest_fmt("SELECT count(*) FROM sync_job "
		    "WHERE safe_ref = '%s' AND user_ref = '%s' AND op IN "
		    "('member_set', 'member_remove')", gid[keys[i].group],
		    uid[keys[i].user]));
		ASSERT_INT_EQ(jobs, n);
		/* the vault's ledger: the same sequence, in apply order */
		ASSERT_INT_EQ(itest_vault_sql(itest, out, sizeof(out),
		    itest_fmt("SELECT op_id || ' ' || op FROM vault.applied_op "
		    "WHERE safe_ref = '%s' AND user_ref = '%s' ORDER BY seq",
		    gid[keys[i].group], uid[keys[i].user])), 0);
		j = 0;
		prev = 0;
		for (line = out; *line != '\0'; line = nl + 1) {
			if ((nl = strchr(line, '\n')) == NULL)
				nl = line + strlen(line) - 1;
			else
				*nl = '\0';
			if (*line == '\0')
				continue;
			ASSERT_TRUE(strchr(line, ' ') != NULL);
			*strchr(line, ' ') = '\0';
			ASSERT_INT_EQ(parse_u64(line, 1, INT64_MAX, &id), 0);
			line[strlen(line)] = ' ';
			ASSERT_TRUE(j < n);
			ASSERT_TRUE((long long)id > prev);	/* commit order */
			prev = (long long)id;
			if (ops[j])
				ASSERT_TRUE(strstr(line, "member_set") != NULL);
			else
				ASSERT_TRUE(strstr(line, "member_remove") !=
				    NULL);
			j++;
		}
		ASSERT_INT_EQ(j, n);
		/* and the final state */
		ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
		    "vault.member WHERE safe_ref = '%s' AND user_ref = '%s'",
		    gid[keys[i].group], uid[keys[i].user])),
		    n > 0 ? ops[n - 1] : 0);
		checked += n;
	}
	redeliveries = itest_vault_num("SELECT count(*) FROM "
	    "vault.applied_op WHERE deliveries > 1");
	printf("# crash: %d committed changes checked against the vault "
	    "ledger; %lld redeliveries detected and ignored\n", checked,
	    redeliveries);
	ASSERT_TRUE(checked >= KILL_AFTER);
	itest_assert_no_5xx(itest);
}

static const struct testlib_case cases[] = {
	{ "setup: users, pam groups, safes", t_setup },
	{ "kill -9 with changes in flight, twice", t_kill_during_writes },
	{ "vault has every committed change once, in order",
	    t_vault_matches_commits },
};

ITEST_MAIN(cases)
