/*
 * The embedded vault (src/vault/embedded.c) against the real vault
 * database, through the backend API directly: lifecycle ops and their
 * ledger (idempotent op ids, apply order), error classification
 * (temporary when the vault database is unreachable, permanent for a
 * constraint), accounts and secrets (versions, retrieval rights, access
 * log, checkout sessions), no plaintext anywhere on disk or in logs, a
 * wrong master key stopping the daemon with a clear message, master key
 * rotation, and concurrent callers.
 */

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "itest.h"

#include "crypto/seal.h"
#include "crypto/token.h"
#include "policy/policy.h"
#include "vault/backend.h"
#include "vault/embedded.h"

#define PERM_LR		(POLICY_PERM_LIST | POLICY_PERM_RETRIEVE)
#define NTHREADS	4
#define NPERTHREAD	40

static struct seal_keyring *kr_main;
static struct vault_backend *vb;
static struct vault_error ve;
static char key_main_id[SEAL_KEY_ID_LEN + 1];
static char key_new_path[300];
static char key_new_id[SEAL_KEY_ID_LEN + 1];

/* Op ids far above the outbox job ids the running server may use. */
static long long
next_op(void)
{
	static long long n = 1000000000000LL;

	return ++n;
}

static void
uuid(char out[VAULT_REF_LEN + 1])
{
	char buf[128];
	size_t n;

	if (itest_vault_sql(itest, buf, sizeof(buf),
	    "SELECT gen_random_uuid()") != 0)
		TL_FAIL("gen_random_uuid");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n != VAULT_REF_LEN)
		TL_FAIL("bad uuid \"%s\"", buf);
	memcpy(out, buf, n + 1);
}

#define V_OK(expr) do {							\
	int r_;								\
	memset(&ve, 0, sizeof(ve));					\
	if ((r_ = (expr)) != 0)						\
		TL_FAIL("%s: %d (%s)", #expr, r_, ve.msg);		\
} while (0)

#define V_ERR(expr, code, temp) do {					\
	int r_;								\
	memset(&ve, 0, sizeof(ve));					\
	r_ = (expr);							\
	if (r_ != (code) || ve.temporary != (temp) || ve.msg[0] == '\0') \
		TL_FAIL("%s: %d temporary %d (%s), wanted %d/%d",	\
		    #expr, r_, ve.temporary, ve.msg, (int)(code),	\
		    (int)(temp));					\
} while (0)

static int
make_backend(const char *const *paths, size_t n, struct seal_keyring **krp,
    struct vault_backend **bp)
{
	struct vault_embedded_opts o;
	char err[SEAL_ERR_MAX];
	int r;

	*bp = NULL;
	if ((r = seal_keyring_load(paths, n, krp, err, sizeof(err))) != 0) {
		fprintf(stderr, "keyring: %s\n", err);
		return r;
	}
	memset(&o, 0, sizeof(o));
	o.dsn = itest->vault_dsn;
	o.pool_size = NTHREADS;
	o.connect_timeout_s = 2;
	o.acquire_timeout_ms = 5000;
	o.statement_timeout_ms = 10000;
	o.keyring = *krp;
	return vault_embedded_new(&o, bp);
}

static void
free_backend(struct seal_keyring **krp, struct vault_backend **bp)
{
	vault_backend_free(*bp);
	*bp = NULL;
	seal_keyring_free(*krp);
	*krp = NULL;
}

/* The backend on the test's master key, made once. */
static struct vault_backend *
B(void)
{
	const char *paths[1];

	if (vb != NULL)
		return vb;
	paths[0] = itest->master_key;
	if (crypto_init() != 0 || make_backend(paths, 1, &kr_main, &vb) != 0)
		TL_FAIL("backend on %s", itest->master_key);
	if (seal_keyring_key_id(kr_main, 0, key_main_id) != 0)
		TL_FAIL("key id");
	return vb;
}

static void
keep(void *p)
{
	if (p != NULL)
		itest_pool_keep(p);
}

/* The safe ref as list_safes has it: 1 and *frozen, or 0 if absent. */
static int
safe_listed(const char *ref, const char *name, int *frozen)
{
	struct vault_safe *s = NULL;
	size_t n = 0, i;

	V_OK(B()->ops->list_safes(B(), &s, &n, &ve));
	keep(s);
	for (i = 0; i < n; i++) {
		if (strcmp(s[i].ref, ref) != 0)
			continue;
		if (name != NULL)
			ASSERT_STR_EQ(s[i].name, name);
		if (frozen != NULL)
			*frozen = s[i].frozen;
		return 1;
	}
	return 0;
}

/* Perms of user in safe ref, -1 if not a member; *count gets members. */
static long long
member_perms(const char *ref, const char *user, size_t *count)
{
	struct vault_member *m = NULL;
	size_t n = 0, i;
	long long p = -1;

	V_OK(B()->ops->list_members(B(), ref, &m, &n, &ve));
	keep(m);
	for (i = 0; i < n; i++) {
		if (strcmp(m[i].user_ref, user) == 0)
			p = m[i].perms;
	}
	if (count != NULL)
		*count = n;
	return p;
}

static long long
deliveries(long long op)
{
	return itest_vault_num(itest_fmt("SELECT coalesce((SELECT deliveries "
	    "FROM vault.applied_op WHERE op_id = %lld), 0)", op));
}

static void
t_ops(void)
{
	struct vault_backend *b = B();
	char ref[VAULT_REF_LEN + 1], u1[VAULT_REF_LEN + 1];
	char u2[VAULT_REF_LEN + 1], miss[VAULT_REF_LEN + 1];
	struct vault_member *m = NULL;
	long long op[16], dek0, before;
	unsigned ended = 9;
	size_t n, i;
	int frozen = -1;

	itest_pool_reset();
	uuid(ref);
	uuid(u1);
	uuid(u2);
	uuid(miss);
	for (i = 0; i < 16; i++)
		op[i] = next_op();
	ASSERT_FALSE(safe_listed(ref, NULL, NULL));
	V_OK(b->ops->safe_ensure(b, op[0], ref, "it-ops-a", &ve));
	ASSERT_TRUE(safe_listed(ref, "it-ops-a", &frozen));
	ASSERT_INT_EQ(frozen, 0);
	dek0 = itest_vault_num(itest_fmt("SELECT ('x' || substr(md5(dek), 1, "
	    "8))::bit(32)::bigint & 2147483647 FROM vault.safe "
	    "WHERE ref = '%s'", ref));
	/* rename: same safe, same data key */
	V_OK(b->ops->safe_ensure(b, op[1], ref, "it-ops-b", &ve));
	ASSERT_TRUE(safe_listed(ref, "it-ops-b", &frozen));
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT ('x' || "
	    "substr(md5(dek), 1, 8))::bit(32)::bigint & 2147483647 "
	    "FROM vault.safe WHERE ref = '%s'", ref)), dek0);
	/* members: add, change perms, add another, remove */
	V_OK(b->ops->member_set(b, op[2], ref, u1, "alice", PERM_LR, &ve));
	ASSERT_INT_EQ(member_perms(ref, u1, &n), PERM_LR);
	ASSERT_INT_EQ(n, 1);
	V_OK(b->ops->member_set(b, op[3], ref, u1, "alice", POLICY_PERM_LIST,
	    &ve));
	ASSERT_INT_EQ(member_perms(ref, u1, &n), POLICY_PERM_LIST);
	V_OK(b->ops->member_set(b, op[4], ref, u2, "bob", POLICY_PERM_ALL,
	    &ve));
	V_OK(b->ops->list_members(b, ref, &m, &n, &ve));
	keep(m);
	ASSERT_INT_EQ(n, 2);
	ASSERT_STR_EQ(m[0].user_name, "alice");
	ASSERT_STR_EQ(m[1].user_name, "bob");
	ASSERT_INT_EQ(m[1].perms, POLICY_PERM_ALL);
	V_OK(b->ops->member_remove(b, op[5], ref, u2, &ve));
	ASSERT_INT_EQ(member_perms(ref, u2, &n), -1);
	ASSERT_INT_EQ(n, 1);
	V_OK(b->ops->member_remove(b, op[6], ref, u2, &ve));

	/* a redelivered op id changes nothing, even with other arguments */
	V_OK(b->ops->member_set(b, op[3], ref, u1, "alice", POLICY_PERM_ALL,
	    &ve));
	ASSERT_INT_EQ(member_perms(ref, u1, NULL), POLICY_PERM_LIST);
	ASSERT_INT_EQ(deliveries(op[3]), 2);
	ASSERT_INT_EQ(deliveries(op[2]), 1);
	V_OK(b->ops->member_remove(b, op[2], ref, u1, &ve));
	ASSERT_INT_EQ(member_perms(ref, u1, NULL), POLICY_PERM_LIST);
	ASSERT_INT_EQ(deliveries(op[2]), 2);

	/* freeze: members go, no member can be added; unfreeze */
	V_OK(b->ops->safe_freeze(b, op[7], ref, &ve));
	ASSERT_TRUE(safe_listed(ref, "it-ops-b", &frozen));
	ASSERT_INT_EQ(frozen, 1);
	ASSERT_INT_EQ(member_perms(ref, u1, &n), -1);
	ASSERT_INT_EQ(n, 0);
	V_OK(b->ops->member_set(b, op[8], ref, u1, "alice", POLICY_PERM_ALL,
	    &ve));
	ASSERT_INT_EQ(member_perms(ref, u1, &n), -1);
	ASSERT_INT_EQ(deliveries(op[8]), 1);	/* applied: as a no-op */
	/* purge leaves an active safe alone */
	V_OK(b->ops->safe_ensure(b, op[9], ref, "it-ops-b", &ve));
	ASSERT_TRUE(safe_listed(ref, "it-ops-b", &frozen));
	ASSERT_INT_EQ(frozen, 0);
	V_OK(b->ops->safe_purge(b, op[10], ref, &ve));
	ASSERT_TRUE(safe_listed(ref, NULL, NULL));
	/* freeze + purge: gone */
	V_OK(b->ops->safe_freeze(b, op[11], ref, &ve));
	V_OK(b->ops->safe_purge(b, op[12], ref, &ve));
	ASSERT_FALSE(safe_listed(ref, NULL, NULL));
	V_ERR(b->ops->list_members(b, ref, &m, &n, &ve), ERR_NOT_FOUND, 0);
	/* a missing safe: freeze and purge succeed, member_set is a
	 * permanent error that leaves no ledger row */
	V_OK(b->ops->safe_freeze(b, op[13], miss, &ve));
	V_OK(b->ops->safe_purge(b, op[14], miss, &ve));
	V_ERR(b->ops->member_set(b, op[15], miss, u1, "alice",
	    POLICY_PERM_LIST, &ve), ERR_NOT_FOUND, 0);
	ASSERT_TRUE(strstr(ve.msg, "member_set") != NULL);
	ASSERT_INT_EQ(deliveries(op[15]), 0);
	V_OK(b->ops->sessions_revoke(b, next_op(), u1, &ended, &ve));
	ASSERT_INT_EQ(ended, 0);

	/* the ledger holds every applied op in apply order */
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.applied_op WHERE op_id BETWEEN %lld AND %lld", op[0],
	    op[15])), 15);
	before = itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "(SELECT op_id, lag(op_id) OVER (ORDER BY seq) AS prev "
	    "FROM vault.applied_op WHERE op_id BETWEEN %lld AND %lld) x "
	    "WHERE prev > op_id", op[0], op[15]));
	ASSERT_INT_EQ(before, 0);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.applied_op WHERE op_id = %lld AND op = 'member_set' AND "
	    "safe_ref = '%s' AND user_ref = '%s' AND perms = %u", op[3], ref,
	    u1, POLICY_PERM_LIST)), 1);
}

static void
t_names(void)
{
	struct vault_backend *b = B();
	char r1[VAULT_REF_LEN + 1], r2[VAULT_REF_LEN + 1], u[VAULT_REF_LEN + 1];
	char big[VAULT_SAFE_NAME_MAX + 2];
	struct vault_member *m = NULL;
	size_t n = 0;
	int frozen = -1;

	itest_pool_reset();
	uuid(r1);
	uuid(r2);
	uuid(u);
	/* active names are unique case-insensitively (temporary: the
	 * holder may be renamed or frozen by a later op); a frozen safe
	 * does not block a re-created group of the same name */
	V_OK(b->ops->safe_ensure(b, next_op(), r1, "it-coll", &ve));
	V_ERR(b->ops->safe_ensure(b, next_op(), r2, "IT-COLL", &ve),
	    ERR_CONFLICT, 1);
	ASSERT_FALSE(safe_listed(r2, NULL, NULL));
	V_OK(b->ops->safe_freeze(b, next_op(), r1, &ve));
	V_OK(b->ops->safe_ensure(b, next_op(), r2, "IT-COLL", &ve));
	ASSERT_TRUE(safe_listed(r2, "IT-COLL", &frozen));
	ASSERT_INT_EQ(frozen, 0);
	/* the frozen one cannot come back under the taken name */
	V_ERR(b->ops->safe_ensure(b, next_op(), r1, "it-coll", &ve),
	    ERR_CONFLICT, 1);
	ASSERT_TRUE(safe_listed(r1, "it-coll", &frozen));
	ASSERT_INT_EQ(frozen, 1);

	/* bad input is refused before the database, permanently */
	V_ERR(b->ops->safe_ensure(b, 0, r1, "x", &ve), ERR_INVALID, 0);
	V_ERR(b->ops->safe_ensure(b, next_op(), "not-a-uuid", "x", &ve),
	    ERR_INVALID, 0);
	V_ERR(b->ops->safe_ensure(b, next_op(), r1, "", &ve), ERR_INVALID, 0);
	V_ERR(b->ops->safe_ensure(b, next_op(), r1, "a\nb", &ve),
	    ERR_INVALID, 0);
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	V_ERR(b->ops->safe_ensure(b, next_op(), r1, big, &ve), ERR_INVALID, 0);
	V_ERR(b->ops->safe_ensure(b, next_op(), r1, "\xff\xfe", &ve),
	    ERR_INVALID, 0);
	V_ERR(b->ops->member_set(b, next_op(), r2, u, "alice", 0x10, &ve),
	    ERR_INVALID, 0);
	V_ERR(b->ops->member_set(b, next_op(), r2, "x", "alice", 1, &ve),
	    ERR_INVALID, 0);
	V_ERR(b->ops->member_set(b, next_op(), r2, u, "", 1, &ve),
	    ERR_INVALID, 0);
	V_ERR(b->ops->sessions_revoke(b, next_op(), "", NULL, &ve),
	    ERR_INVALID, 0);
	V_ERR(b->ops->list_members(b, "../etc", &m, &n, &ve), ERR_INVALID, 0);
	ASSERT_NULL(m);
	V_OK(b->ops->safe_freeze(b, next_op(), r2, &ve));
}

/* Make the vault database unreachable (or reachable again). */
static int
vault_db_block(int block)
{
	char out[256];
	long long deadline;

	if (itest_sql(itest, out, sizeof(out), block ?
	    "ALTER DATABASE vaultbridge_vault ALLOW_CONNECTIONS false" :
	    "ALTER DATABASE vaultbridge_vault ALLOW_CONNECTIONS true") != 0)
		return -1;
	if (!block)
		return 0;
	deadline = itest_now_ms() + 10000;
	while (itest_now_ms() < deadline) {
		if (itest_sql(itest, out, sizeof(out), "SELECT count("
		    "pg_terminate_backend(pid)) FROM pg_stat_activity "
		    "WHERE datname = 'vaultbridge_vault'") != 0)
			return -1;
		if (itest_sql(itest, out, sizeof(out), "SELECT count(*) FROM "
		    "pg_stat_activity WHERE datname = 'vaultbridge_vault'") !=
		    0)
			return -1;
		if (out[0] == '0')
			return 0;
		itest_sleep_ms(50);
	}
	return -1;
}

static void
t_error_temporary(void)
{
	struct vault_backend *b = B();
	struct vault_error e1, e2, e3, e4;
	struct vault_safe *s = NULL;
	struct seal_secret *sec = NULL;
	char ref[VAULT_REF_LEN + 1], u[VAULT_REF_LEN + 1], err[SEAL_ERR_MAX];
	long long op;
	size_t n = 0;
	int r1, r2, r3, r4, r5, blocked;

	itest_pool_reset();
	uuid(ref);
	uuid(u);
	op = next_op();
	V_OK(b->ops->safe_ensure(b, next_op(), ref, "it-outage", &ve));
	/* collect first, assert after the database is back */
	blocked = vault_db_block(1);
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	memset(&e3, 0, sizeof(e3));
	memset(&e4, 0, sizeof(e4));
	r1 = b->ops->member_set(b, op, ref, u, "carol", PERM_LR, &e1);
	r2 = b->ops->list_safes(b, &s, &n, &e2);
	r3 = b->ops->secret_retrieve(b, "it-outage", "acc", u, "req", &sec,
	    NULL, &e3);
	r4 = b->ops->sessions_revoke(b, next_op(), u, NULL, &e4);
	r5 = vault_embedded_check(b, err, sizeof(err));
	if (vault_db_block(0) != 0)
		TL_FAIL("could not unblock the vault database");
	free(s);
	seal_secret_free(sec);
	ASSERT_INT_EQ(blocked, 0);
	ASSERT_INT_EQ(r1, ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(e1.temporary, 1);
	ASSERT_TRUE(strstr(e1.msg, "member_set") != NULL);
	ASSERT_INT_EQ(r2, ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(e2.temporary, 1);
	ASSERT_INT_EQ(r3, ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(e3.temporary, 1);
	ASSERT_INT_EQ(r4, ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(e4.temporary, 1);
	ASSERT_INT_EQ(r5, ERR_DB_UNAVAILABLE);
	/* the same op again once the database is back: applied once */
	ASSERT_INT_EQ(deliveries(op), 0);
	V_OK(b->ops->member_set(b, op, ref, u, "carol", PERM_LR, &ve));
	ASSERT_INT_EQ(member_perms(ref, u, NULL), PERM_LR);
	ASSERT_INT_EQ(deliveries(op), 1);
	V_OK(b->ops->safe_freeze(b, next_op(), ref, &ve));
}

static void
t_error_permanent(void)
{
	struct vault_backend *b = B();
	char ref[VAULT_REF_LEN + 1], u[VAULT_REF_LEN + 1], out[256];
	struct vault_error e1;
	long long op;
	int r1;

	itest_pool_reset();
	uuid(ref);
	uuid(u);
	op = next_op();
	V_OK(b->ops->safe_ensure(b, next_op(), ref, "it-refused", &ve));
	if (itest_vault_sql(itest, out, sizeof(out), "ALTER TABLE vault.member "
	    "ADD CONSTRAINT it_no_manage CHECK (perms < 8)") != 0)
		TL_FAIL("add constraint");
	memset(&e1, 0, sizeof(e1));
	r1 = b->ops->member_set(b, op, ref, u, "dave", POLICY_PERM_ALL, &e1);
	if (itest_vault_sql(itest, out, sizeof(out), "ALTER TABLE vault.member "
	    "DROP CONSTRAINT it_no_manage") != 0)
		TL_FAIL("drop constraint");
	ASSERT_TRUE(r1 < 0);
	ASSERT_INT_EQ(e1.temporary, 0);
	ASSERT_TRUE(strstr(e1.msg, "member_set") != NULL);
	ASSERT_TRUE(strstr(e1.msg, "23514") != NULL);
	ASSERT_INT_EQ(deliveries(op), 0);
	ASSERT_INT_EQ(member_perms(ref, u, NULL), -1);
	V_OK(b->ops->member_set(b, op, ref, u, "dave", POLICY_PERM_ALL, &ve));
	ASSERT_INT_EQ(member_perms(ref, u, NULL), POLICY_PERM_ALL);
	V_OK(b->ops->safe_freeze(b, next_op(), ref, &ve));
}

/* Retrieve and compare; the secret is wiped right after. */
static void
retrieve_eq(const char *safe, const char *acc, const char *user,
    const char *want, long long want_version)
{
	struct seal_secret *sec = NULL;
	long long ver = -1;
	int ok;

	V_OK(B()->ops->secret_retrieve(B(), safe, acc, user, "it-req-1",
	    &sec, &ver, &ve));
	ok = seal_secret_len(sec) == strlen(want) &&
	    memcmp(seal_secret_data(sec), want, strlen(want)) == 0 &&
	    seal_secret_data(sec)[strlen(want)] == '\0';
	seal_secret_free(sec);
	ASSERT_TRUE(ok);
	ASSERT_INT_EQ(ver, want_version);
}

static char acc_safe_ref[VAULT_REF_LEN + 1];
static char acc_user[VAULT_REF_LEN + 1];

static void
t_accounts(void)
{
	struct vault_backend *b = B();
	char ulist[VAULT_REF_LEN + 1], other[VAULT_REF_LEN + 1];
	struct vault_account a, *al = NULL;
	struct seal_secret *sec = NULL;
	char longname[VAULT_ACCOUNT_NAME_MAX + 2];
	unsigned ended = 0;
	long long ver = 0, op;
	size_t n = 0;
	int created = -1;
	char *huge;

	itest_pool_reset();
	uuid(acc_safe_ref);
	uuid(acc_user);
	uuid(ulist);
	uuid(other);
	V_OK(b->ops->safe_ensure(b, next_op(), acc_safe_ref, "it-acc", &ve));
	V_OK(b->ops->member_set(b, next_op(), acc_safe_ref, acc_user, "erin",
	    PERM_LR, &ve));
	V_OK(b->ops->member_set(b, next_op(), acc_safe_ref, ulist, "frank",
	    POLICY_PERM_LIST | POLICY_PERM_USE, &ve));

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "db-prod");
	snprintf(a.address, sizeof(a.address), "db1.example.org:5432");
	snprintf(a.username, sizeof(a.username), "postgres");
	V_OK(b->ops->account_put(b, "it-acc", &a, &created, &ve));
	ASSERT_INT_EQ(created, 1);
	snprintf(a.address, sizeof(a.address), "db2.example.org:5432");
	V_OK(b->ops->account_put(b, "IT-ACC", &a, &created, &ve));
	ASSERT_INT_EQ(created, 0);
	V_ERR(b->ops->account_put(b, "it-nosuch", &a, &created, &ve),
	    ERR_NOT_FOUND, 0);
	V_OK(b->ops->account_list(b, "it-acc", &al, &n, &ve));
	keep(al);
	ASSERT_INT_EQ(n, 1);
	ASSERT_STR_EQ(al[0].name, "db-prod");
	ASSERT_STR_EQ(al[0].address, "db2.example.org:5432");
	ASSERT_STR_EQ(al[0].username, "postgres");
	ASSERT_INT_EQ(al[0].secret_version, 0);
	ASSERT_STR_EQ(al[0].secret_updated, "");

	/* no secret yet */
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "db-prod", acc_user, NULL,
	    &sec, &ver, &ve), ERR_NOT_FOUND, 0);
	ASSERT_NULL(sec);
	V_OK(b->ops->secret_set(b, "it-acc", "db-prod", "first-pw", 8, &ver,
	    &ve));
	ASSERT_INT_EQ(ver, 1);
	V_OK(b->ops->secret_set(b, "it-acc", "DB-Prod", "second-pw", 9, &ver,
	    &ve));
	ASSERT_INT_EQ(ver, 2);
	V_OK(b->ops->account_list(b, "it-acc", &al, &n, &ve));
	keep(al);
	ASSERT_INT_EQ(al[0].secret_version, 2);
	ASSERT_TRUE(itest_is_datetime(al[0].secret_updated));
	V_ERR(b->ops->secret_set(b, "it-acc", "nosuch", "x", 1, &ver, &ve),
	    ERR_NOT_FOUND, 0);
	V_ERR(b->ops->secret_set(b, "it-acc", "db-prod", "", 0, &ver, &ve),
	    ERR_INVALID, 0);
	huge = itest_pool_keep(calloc(1, SEAL_SECRET_MAX + 1));
	V_ERR(b->ops->secret_set(b, "it-acc", "db-prod", huge,
	    SEAL_SECRET_MAX + 1, &ver, &ve), ERR_TOO_LARGE, 0);

	/* retrieval: member with retrieve, logged with a session */
	retrieve_eq("it-acc", "db-prod", acc_user, "second-pw", 2);
	retrieve_eq("It-Acc", "DB-PROD", acc_user, "second-pw", 2);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.access_log WHERE safe_ref = '%s' AND user_ref = '%s' AND "
	    "action = 'retrieve' AND request_id = 'it-req-1' AND "
	    "secret_version = 2 AND session_id IS NOT NULL", acc_safe_ref,
	    acc_user)), 2);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.session WHERE user_ref = '%s' AND ended IS NULL",
	    acc_user)), 2);
	/* refused: list-only member, non-member, unknown account/safe */
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "db-prod", ulist, NULL,
	    &sec, &ver, &ve), ERR_FORBIDDEN, 0);
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "db-prod", other, NULL,
	    &sec, &ver, &ve), ERR_FORBIDDEN, 0);
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "nosuch", other, NULL,
	    &sec, &ver, &ve), ERR_FORBIDDEN, 0);
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "db-prod", "", NULL,
	    &sec, &ver, &ve), ERR_FORBIDDEN, 0);
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "nosuch", acc_user, NULL,
	    &sec, &ver, &ve), ERR_NOT_FOUND, 0);
	V_ERR(b->ops->secret_retrieve(b, "it-nosuch", "db-prod", acc_user,
	    NULL, &sec, &ver, &ve), ERR_NOT_FOUND, 0);
	ASSERT_NULL(sec);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.access_log WHERE safe_ref = '%s'", acc_safe_ref)), 2);

	/* sessions_revoke ends the user's checkouts, once */
	op = next_op();
	V_OK(b->ops->sessions_revoke(b, op, acc_user, &ended, &ve));
	ASSERT_INT_EQ(ended, 2);
	V_OK(b->ops->sessions_revoke(b, op, acc_user, &ended, &ve));
	ASSERT_INT_EQ(ended, 0);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.session WHERE user_ref = '%s' AND ended IS NULL",
	    acc_user)), 0);

	/* account names */
	snprintf(a.name, sizeof(a.name), "a/b");
	V_ERR(b->ops->account_put(b, "it-acc", &a, &created, &ve),
	    ERR_INVALID, 0);
	a.name[0] = '\0';
	V_ERR(b->ops->account_put(b, "it-acc", &a, &created, &ve),
	    ERR_INVALID, 0);
	snprintf(a.name, sizeof(a.name), "tab\there");
	V_ERR(b->ops->account_put(b, "it-acc", &a, &created, &ve),
	    ERR_INVALID, 0);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	V_ERR(b->ops->secret_set(b, "it-acc", longname, "x", 1, &ver, &ve),
	    ERR_INVALID, 0);
	longname[VAULT_ACCOUNT_NAME_MAX] = '\0';
	memcpy(a.name, longname, sizeof(a.name));
	V_OK(b->ops->account_put(b, "it-acc", &a, &created, &ve));
	ASSERT_INT_EQ(created, 1);
	V_OK(b->ops->account_delete(b, "it-acc", longname, &ve));
	V_ERR(b->ops->account_delete(b, "it-acc", longname, &ve),
	    ERR_NOT_FOUND, 0);

	/* frozen: no retrieval, accounts kept; back after unfreeze */
	V_OK(b->ops->safe_freeze(b, next_op(), acc_safe_ref, &ve));
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "db-prod", acc_user, NULL,
	    &sec, &ver, &ve), ERR_FORBIDDEN, 0);
	V_ERR(b->ops->account_list(b, "it-acc", &al, &n, &ve),
	    ERR_NOT_FOUND, 0);
	V_OK(b->ops->safe_ensure(b, next_op(), acc_safe_ref, "it-acc", &ve));
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "db-prod", acc_user, NULL,
	    &sec, &ver, &ve), ERR_FORBIDDEN, 0);
	V_OK(b->ops->member_set(b, next_op(), acc_safe_ref, acc_user, "erin",
	    PERM_LR, &ve));
	retrieve_eq("it-acc", "db-prod", acc_user, "second-pw", 2);
	/* a second account, then delete it */
	snprintf(a.name, sizeof(a.name), "tmp");
	V_OK(b->ops->account_put(b, "it-acc", &a, &created, &ve));
	V_OK(b->ops->secret_set(b, "it-acc", "tmp", "tmp-pw", 6, &ver, &ve));
	V_OK(b->ops->account_list(b, "it-acc", &al, &n, &ve));
	keep(al);
	ASSERT_INT_EQ(n, 2);
	V_OK(b->ops->account_delete(b, "it-acc", "TMP", &ve));
	V_ERR(b->ops->secret_retrieve(b, "it-acc", "tmp", acc_user, NULL,
	    &sec, &ver, &ve), ERR_NOT_FOUND, 0);
	V_OK(b->ops->account_list(b, "it-acc", &al, &n, &ve));
	keep(al);
	ASSERT_INT_EQ(n, 1);
}

/* 1 if needle occurs in the file at path. */
static int
file_has(const char *path, const char *needle, size_t *scanned)
{
	size_t nl = strlen(needle), cap = 1 << 16, have = 0, got;
	char *buf;
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	if ((buf = malloc(cap + nl)) == NULL) {
		fclose(f);
		return 0;
	}
	/* keep nl - 1 bytes of overlap between reads */
	while ((got = fread(buf + have, 1, cap, f)) > 0) {
		have += got;
		if (memmem(buf, have, needle, nl) != NULL) {
			found = 1;
			break;
		}
		*scanned += got;
		if (have >= nl - 1) {
			memmove(buf, buf + have - (nl - 1), nl - 1);
			have = nl - 1;
		}
	}
	free(buf);
	fclose(f);
	return found;
}

/* Every regular file under dir; the first path holding needle (into
 * hit), or 0. */
static int
tree_has(const char *dir, const char *needle, size_t *files, size_t *bytes,
    char *hit, size_t hitsz)
{
	char path[1024];
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int found = 0, n;

	if ((dp = opendir(dir)) == NULL)
		TL_FAIL("opendir %s", dir);
	while (!found && (d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			found = tree_has(path, needle, files, bytes, hit,
			    hitsz);
		else if (S_ISREG(st.st_mode)) {
			(*files)++;
			if ((found = file_has(path, needle, bytes)))
				snprintf(hit, hitsz, "%s", path);
		}
	}
	closedir(dp);
	return found;
}

static void
t_no_plaintext(void)
{
	struct vault_backend *b = B();
	char ref[VAULT_REF_LEN + 1], u[VAULT_REF_LEN + 1], out[8192];
	char marker[64], hexm[128], hit[1024];
	unsigned char rnd[12];
	struct vault_account a;
	size_t files = 0, bytes = 0, i;
	long long ver = 0;
	FILE *f;

	itest_pool_reset();
	uuid(ref);
	uuid(u);
	if ((f = fopen("/dev/urandom", "rb")) == NULL ||
	    fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
		TL_FAIL("urandom");
	fclose(f);
	snprintf(marker, sizeof(marker), "vbmark-");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(marker + 7 + 2 * i, 3, "%02x", rnd[i]);
	for (i = 0; marker[i] != '\0'; i++)
		snprintf(hexm + 2 * i, 3, "%02x", (unsigned char)marker[i]);
	V_OK(b->ops->safe_ensure(b, next_op(), ref, "it-np", &ve));
	V_OK(b->ops->member_set(b, next_op(), ref, u, "gina", PERM_LR, &ve));
	/* positive control: the address is not secret and is stored as is */
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "np");
	snprintf(a.address, sizeof(a.address), "ctl-%s", marker + 7);
	V_OK(b->ops->account_put(b, "it-np", &a, NULL, &ve));
	V_OK(b->ops->secret_set(b, "it-np", "np", marker, strlen(marker), &ver,
	    &ve));
	retrieve_eq("it-np", "np", u, marker, 1);
	/* rotate once: the old ciphertext lingers in dead tuples / WAL */
	V_OK(b->ops->secret_set(b, "it-np", "np", marker, strlen(marker), &ver,
	    &ve));
	retrieve_eq("it-np", "np", u, marker, 2);

	/* the stored ciphertext is not the plaintext, nor contains it */
	if (itest_vault_sql(itest, out, sizeof(out), itest_fmt("SELECT "
	    "length(a.secret), encode(a.secret, 'hex') FROM vault.account a "
	    "WHERE a.safe_ref = '%s' AND a.name = 'np'", ref)) != 0)
		TL_FAIL("read secret");
	ASSERT_TRUE(strncmp(out, itest_fmt("%zu|", strlen(marker) +
	    SEAL_SECRET_OVERHEAD), strlen(itest_fmt("%zu|", strlen(marker) +
	    SEAL_SECRET_OVERHEAD))) == 0);
	ASSERT_NULL(strstr(out, hexm));

	if (itest_vault_sql(itest, out, sizeof(out), "CHECKPOINT") != 0)
		TL_FAIL("checkpoint");
	if (tree_has(itest_fmt("%s/data", itest->dir), marker, &files, &bytes,
	    hit, sizeof(hit)))
		TL_FAIL("plaintext marker found in %s", hit);
	ASSERT_TRUE(files > 100);
	ASSERT_TRUE(bytes > 1000000);
	ASSERT_FALSE(file_has(itest_fmt("%s/pg.log", itest->dir), marker,
	    &bytes));
	ASSERT_FALSE(itest_log_contains(itest, marker));
	/* the scanner does find what is there */
	ASSERT_TRUE(tree_has(itest_fmt("%s/data", itest->dir), a.address,
	    &files, &bytes, hit, sizeof(hit)));
}

static void
t_wrong_master_key(void)
{
	struct vault_backend *bw = NULL;
	struct seal_keyring *krw = NULL;
	struct seal_secret *sec = NULL;
	char path[320], id[SEAL_KEY_ID_LEN + 1], err[SEAL_ERR_MAX];
	const char *paths[1];
	long long ver;
	int r, rc, rs;

	itest_pool_reset();
	(void)B();
	ASSERT_TRUE(itest_vault_num("SELECT count(*) FROM vault.safe") > 0);
	snprintf(path, sizeof(path), "%s/wrong.key", itest->dir);
	if (seal_key_generate(path, id, err, sizeof(err)) != 0)
		TL_FAIL("key generate: %s", err);

	/* the daemon refuses to start, naming the key ids */
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "vault.master_key = \"%s\"", path);
	r = itest_server_start(itest);
	itest->extra_config[0] = '\0';
	if (r == 0) {
		(void)itest_server_stop(itest, SIGTERM);
		(void)itest_server_start(itest);
		TL_FAIL("server started with the wrong master key");
	}
	ASSERT_TRUE(itest_log_contains(itest, "vault check failed"));
	ASSERT_TRUE(itest_log_contains(itest, itest_fmt("master key %s, which "
	    "is not loaded (loaded: %s)", key_main_id, id)));
	/* the right key: it serves again */
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	ASSERT_TRUE(itest_server_alive(itest));

	/* the same through the API: check and decrypt fail closed */
	paths[0] = path;
	if (make_backend(paths, 1, &krw, &bw) != 0)
		TL_FAIL("wrong-key backend");
	rc = vault_embedded_check(bw, err, sizeof(err));
	memset(&ve, 0, sizeof(ve));
	rs = bw->ops->secret_retrieve(bw, "it-acc", "db-prod", acc_user,
	    NULL, &sec, &ver, &ve);
	free_backend(&krw, &bw);
	ASSERT_INT_EQ(rc, ERR_CRYPTO);
	ASSERT_TRUE(strstr(err, key_main_id) != NULL);
	ASSERT_TRUE(strstr(err, id) != NULL);
	ASSERT_INT_EQ(rs, ERR_CRYPTO);
	ASSERT_NULL(sec);
	ASSERT_INT_EQ(ve.temporary, 0);
	/* and the real key passes */
	V_OK(vault_embedded_check(B(), err, sizeof(err)));
}

static void
t_rotation(void)
{
	struct vault_backend *b2 = NULL;
	struct seal_keyring *kr2 = NULL;
	struct seal_secret *sec = NULL;
	char err[SEAL_ERR_MAX];
	const char *paths[2];
	unsigned rew = 0, cur = 0;
	long long nsafes, ver;
	int r, rc;

	itest_pool_reset();
	(void)B();
	snprintf(key_new_path, sizeof(key_new_path), "%s/new.key", itest->dir);
	if (seal_key_generate(key_new_path, key_new_id, err, sizeof(err)) != 0)
		TL_FAIL("key generate: %s", err);
	nsafes = itest_vault_num("SELECT count(*) FROM vault.safe");
	ASSERT_TRUE(nsafes > 3);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.safe WHERE dek_key_id = '%s'", key_main_id)), nsafes);

	/* [new, old]: every data key re-wrapped under new */
	paths[0] = key_new_path;
	paths[1] = itest->master_key;
	if (make_backend(paths, 2, &kr2, &b2) != 0)
		TL_FAIL("rotation backend");
	r = vault_embedded_rotate(b2, &rew, &cur, err, sizeof(err));
	if (r != 0) {
		free_backend(&kr2, &b2);
		TL_FAIL("rotate: %d %s", r, err);
	}
	ASSERT_INT_EQ(rew, nsafes);
	ASSERT_INT_EQ(cur, 0);
	r = vault_embedded_rotate(b2, &rew, &cur, err, sizeof(err));
	rc = vault_embedded_check(b2, err, sizeof(err));
	free_backend(&kr2, &b2);
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(rew, 0);
	ASSERT_INT_EQ(cur, nsafes);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.safe WHERE dek_key_id = '%s'", key_new_id)), nsafes);

	/* [new] alone opens everything */
	paths[0] = key_new_path;
	if (make_backend(paths, 1, &kr2, &b2) != 0)
		TL_FAIL("new-key backend");
	rc = vault_embedded_check(b2, err, sizeof(err));
	memset(&ve, 0, sizeof(ve));
	r = b2->ops->secret_retrieve(b2, "it-acc", "db-prod", acc_user, NULL,
	    &sec, &ver, &ve);
	if (r == 0 && (seal_secret_len(sec) != 9 ||
	    memcmp(seal_secret_data(sec), "second-pw", 9) != 0))
		r = -100;
	seal_secret_free(sec);
	sec = NULL;
	free_backend(&kr2, &b2);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_INT_EQ(r, 0);

	/* the old key alone fails closed */
	rc = vault_embedded_check(B(), err, sizeof(err));
	ASSERT_INT_EQ(rc, ERR_CRYPTO);
	ASSERT_TRUE(strstr(err, key_new_id) != NULL);
	V_ERR(B()->ops->secret_retrieve(B(), "it-acc", "db-prod", acc_user,
	    NULL, &sec, &ver, &ve), ERR_CRYPTO, 0);
	ASSERT_NULL(sec);
	/* nor can it seal under a data key it cannot open */
	V_ERR(B()->ops->secret_set(B(), "it-acc", "db-prod", "x", 1, &ver,
	    &ve), ERR_CRYPTO, 0);

	/* the daemon: new key current, old one previous; then new alone */
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "vault.master_key = \"%s\"\nvault.previous_keys = \"%s\"",
	    key_new_path, itest->master_key);
	r = itest_server_start(itest);
	ASSERT_INT_EQ(r, 0);
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "vault.master_key = \"%s\"", key_new_path);
	r = itest_server_start(itest);
	ASSERT_INT_EQ(r, 0);
	/* the old key alone: refused */
	itest->extra_config[0] = '\0';
	r = itest_server_start(itest);
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "vault.master_key = \"%s\"", key_new_path);
	if (r == 0)
		TL_FAIL("server started with the retired master key");
	ASSERT_INT_EQ(itest_server_start(itest), 0);
}

/* Concurrent callers: every op applied once though each is delivered
 * twice from two threads. */
struct worker_arg {
	const char *ref;
	long long base;
	char users[NPERTHREAD][VAULT_REF_LEN + 1];
	int fails;
};

static void *
worker(void *p)
{
	struct worker_arg *w = p;
	struct vault_error e;
	int i, k;

	for (i = 0; i < NPERTHREAD; i++) {
		for (k = 0; k < 2; k++) {
			if (vb->ops->member_set(vb, w->base + i, w->ref,
			    w->users[i], "conc", PERM_LR, &e) != 0) {
				fprintf(stderr, "member_set: %s\n", e.msg);
				w->fails++;
			}
		}
	}
	return NULL;
}

static void
t_concurrent(void)
{
	static struct worker_arg wa[NTHREADS];
	char ref[VAULT_REF_LEN + 1];
	pthread_t th[NTHREADS];
	size_t n = 0;
	int i, j, fails = 0;
	long long base;

	itest_pool_reset();
	(void)B();
	uuid(ref);
	V_OK(B()->ops->safe_ensure(B(), next_op(), ref, "it-conc", &ve));
	base = next_op();
	for (i = 0; i < NTHREADS * NPERTHREAD; i++)
		(void)next_op();
	for (i = 0; i < NTHREADS; i++) {
		memset(&wa[i], 0, sizeof(wa[i]));
		wa[i].ref = ref;
		/* threads i and i^1 deliver the same ops */
		wa[i].base = base + (long long)(i / 2) * NPERTHREAD;
		for (j = 0; j < NPERTHREAD; j++) {
			if (i % 2 == 0)
				uuid(wa[i].users[j]);
			else
				memcpy(wa[i].users[j], wa[i - 1].users[j],
				    sizeof(wa[i].users[j]));
		}
	}
	for (i = 0; i < NTHREADS; i++) {
		if (pthread_create(&th[i], NULL, worker, &wa[i]) != 0)
			TL_FAIL("pthread_create");
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		fails += wa[i].fails;
	}
	ASSERT_INT_EQ(fails, 0);
	(void)member_perms(ref, "", &n);
	ASSERT_INT_EQ(n, NTHREADS / 2 * NPERTHREAD);
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "vault.applied_op WHERE op_id >= %lld AND op_id < %lld AND "
	    "deliveries = 4", base, base + NTHREADS / 2 * NPERTHREAD)),
	    NTHREADS / 2 * NPERTHREAD);
}

static void
t_cleanup(void)
{
	itest_pool_reset();
	free_backend(&kr_main, &vb);
	itest_assert_clean_exit(itest);
	ASSERT_FALSE(itest_log_contains(itest, "second-pw"));
}

/*
 * apply_batch: a batch applies every op in one transaction; a batch
 * holding one op that fails (member_set on a missing safe) applies
 * none of them, not even the ledger rows, so the worker can go one by
 * one; an op id already applied counts as applied inside a batch.
 */
static void
t_batch(void)
{
	struct vault_backend *b = B();
	char ref[VAULT_REF_LEN + 1], u1[VAULT_REF_LEN + 1];
	char u2[VAULT_REF_LEN + 1], miss[VAULT_REF_LEN + 1];
	struct vault_op ops[4];
	long long op[6];
	size_t i;

	itest_pool_reset();
	uuid(ref);
	uuid(u1);
	uuid(u2);
	uuid(miss);
	for (i = 0; i < 6; i++)
		op[i] = next_op();
	ASSERT_TRUE(b->ops->apply_batch != NULL);
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct vault_op){ VAULT_OP_SAFE_ENSURE, op[0], ref, NULL,
	    "it-batch", NULL, 0 };
	ops[1] = (struct vault_op){ VAULT_OP_MEMBER_SET, op[1], ref, u1, NULL,
	    "batch.alice", PERM_LR };
	ops[2] = (struct vault_op){ VAULT_OP_MEMBER_SET, op[2], ref, u2, NULL,
	    "batch.bob", POLICY_PERM_LIST };
	V_OK(b->ops->apply_batch(b, ops, 3, &ve));
	ASSERT_TRUE(safe_listed(ref, "it-batch", NULL));
	ASSERT_INT_EQ(member_perms(ref, u1, NULL), PERM_LR);
	ASSERT_INT_EQ(member_perms(ref, u2, NULL), POLICY_PERM_LIST);
	ASSERT_INT_EQ(deliveries(op[1]), 1);

	/* all or nothing: the failing op undoes the remove before it */
	ops[0] = (struct vault_op){ VAULT_OP_MEMBER_REMOVE, op[3], ref, u1,
	    NULL, NULL, 0 };
	ops[1] = (struct vault_op){ VAULT_OP_MEMBER_SET, op[4], miss, u2,
	    NULL, "batch.bob", POLICY_PERM_LIST };
	ASSERT_TRUE(b->ops->apply_batch(b, ops, 2, &ve) != 0);
	ASSERT_FALSE(ve.temporary);
	ASSERT_INT_EQ(member_perms(ref, u1, NULL), PERM_LR);
	ASSERT_INT_EQ(deliveries(op[3]), 0);
	ASSERT_INT_EQ(deliveries(op[4]), 0);

	/* redelivery inside a batch: op[1] again changes nothing */
	ops[0] = (struct vault_op){ VAULT_OP_MEMBER_SET, op[1], ref, u1, NULL,
	    "batch.alice", POLICY_PERM_ALL };
	ops[1] = (struct vault_op){ VAULT_OP_MEMBER_REMOVE, op[5], ref, u2,
	    NULL, NULL, 0 };
	V_OK(b->ops->apply_batch(b, ops, 2, &ve));
	ASSERT_INT_EQ(member_perms(ref, u1, NULL), PERM_LR);
	ASSERT_INT_EQ(deliveries(op[1]), 2);
	ASSERT_INT_EQ(member_perms(ref, u2, NULL), -1);
	/* a bad op is refused before anything runs */
	ops[0] = (struct vault_op){ VAULT_OP_MEMBER_SET, next_op(), ref,
	    "not-a-uuid", NULL, "x", 1 };
	ASSERT_INT_EQ(b->ops->apply_batch(b, ops, 1, &ve), ERR_INVALID);
}

/* The vault's user_name of user in safe ref, "" if none. */
static const char *
member_name(const char *ref, const char *user)
{
	static char out[256];
	char *nl;

	out[0] = '\0';
	ASSERT_INT_EQ(itest_vault_sql(itest, out, sizeof(out), itest_fmt(
	    "SELECT user_name FROM vault.member WHERE safe_ref = '%s' "
	    "AND user_ref = '%s'", ref, user)), 0);
	if ((nl = strchr(out, '\n')) != NULL)
		*nl = '\0';
	return out;
}

/*
 * A batch of member ops only goes in one statement (arrays): names
 * that need quoting in an array literal arrive intact, a member_set on
 * a frozen safe adds nothing but is recorded, and two ops on one
 * (safe, user) in one batch (which the outbox never claims together)
 * still apply in order, one by one.
 */
static void
t_batch_members(void)
{
	struct vault_backend *b = B();
	char ref[VAULT_REF_LEN + 1], frz[VAULT_REF_LEN + 1];
	char u[4][VAULT_REF_LEN + 1];
	static const char *const names[4] = { "o\"brien\\x,{y}@ex.com",
	    "NULL", "with space ' and }", "plain@ex.com" };
	struct vault_op ops[5];
	long long op[4];
	size_t i;

	itest_pool_reset();
	uuid(ref);
	uuid(frz);
	for (i = 0; i < 4; i++)
		uuid(u[i]);
	V_OK(b->ops->safe_ensure(b, next_op(), ref, "it-batch-m", &ve));
	V_OK(b->ops->safe_ensure(b, next_op(), frz, "it-batch-f", &ve));
	V_OK(b->ops->safe_freeze(b, next_op(), frz, &ve));
	for (i = 0; i < 4; i++) {
		op[i] = next_op();
		ops[i] = (struct vault_op){ VAULT_OP_MEMBER_SET, op[i], ref,
		    u[i], NULL, names[i], PERM_LR };
	}
	ops[4] = (struct vault_op){ VAULT_OP_MEMBER_SET, next_op(), frz, u[0],
	    NULL, names[0], PERM_LR };
	V_OK(b->ops->apply_batch(b, ops, 5, &ve));
	for (i = 0; i < 4; i++) {
		ASSERT_INT_EQ(member_perms(ref, u[i], NULL), PERM_LR);
		ASSERT_STR_EQ(member_name(ref, u[i]), names[i]);
		ASSERT_INT_EQ(deliveries(op[i]), 1);
	}
	ASSERT_INT_EQ(member_perms(frz, u[0], NULL), -1);
	ASSERT_INT_EQ(deliveries(ops[4].op_id), 1);
	/* ledger rows in batch order */
	ASSERT_INT_EQ(itest_vault_num(itest_fmt("SELECT count(*) FROM "
	    "(SELECT op_id, lag(op_id) OVER (ORDER BY seq) AS prev FROM "
	    "vault.applied_op WHERE op_id BETWEEN %lld AND %lld) x "
	    "WHERE prev > op_id", op[0], ops[4].op_id)), 0);

	/* one pair twice: set, then remove, in that order */
	ops[0] = (struct vault_op){ VAULT_OP_MEMBER_SET, next_op(), ref, u[0],
	    NULL, "again", POLICY_PERM_ALL };
	ops[1] = (struct vault_op){ VAULT_OP_MEMBER_REMOVE, next_op(), ref,
	    u[0], NULL, NULL, 0 };
	V_OK(b->ops->apply_batch(b, ops, 2, &ve));
	ASSERT_INT_EQ(member_perms(ref, u[0], NULL), -1);
	ASSERT_INT_EQ(deliveries(ops[0].op_id), 1);
	ASSERT_INT_EQ(deliveries(ops[1].op_id), 1);
}

static const struct testlib_case cases[] = {
	{ "ops", t_ops },
	{ "batch", t_batch },
	{ "batch_members", t_batch_members },
	{ "names", t_names },
	{ "error_temporary", t_error_temporary },
	{ "error_permanent", t_error_permanent },
	{ "accounts", t_accounts },
	{ "concurrent", t_concurrent },
	{ "no_plaintext", t_no_plaintext },
	{ "wrong_master_key", t_wrong_master_key },
	{ "rotation", t_rotation },
	{ "cleanup", t_cleanup },
};

ITEST_MAIN(cases)
