/*
 * Unit tests of the sync worker's pure parts: the retry backoff (bounds,
 * cap, full jitter, no overflow at large attempt counts), the job op and
 * state names, and sync_apply's dispatch to the backend ops (with a fake
 * backend that records its calls).
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#include "db/outbox.h"
#include "sync/worker.h"
#include "util/errors.h"
#include "vault/backend.h"

struct backoff_case {
	unsigned base, max;
	int attempts;
	unsigned rnd;
	unsigned want;
};

static void
t_backoff_table(void)
{
	static const struct backoff_case cases[] = {
		/* attempt 1: cap = base; the extremes of the jitter */
		{ 200, 60000, 1, 0, 1 },		/* never 0 */
		{ 200, 60000, 1, UINT32_MAX, 200 },
		{ 200, 60000, 1, 0x80000000u, 100 },
		/* doubling */
		{ 200, 60000, 2, UINT32_MAX, 400 },
		{ 200, 60000, 3, UINT32_MAX, 800 },
		{ 200, 60000, 9, UINT32_MAX, 51200 },
		/* capped at max */
		{ 200, 60000, 10, UINT32_MAX, 60000 },
		{ 200, 60000, 10, 0x80000000u, 30000 },
		{ 200, 60000, 31, UINT32_MAX, 60000 },
		{ 200, 60000, 32, UINT32_MAX, 60000 },
		{ 200, 60000, 33, UINT32_MAX, 60000 },
		{ 200, 60000, 64, UINT32_MAX, 60000 },
		{ 200, 60000, 1000, UINT32_MAX, 60000 },
		{ 200, 60000, INT_MAX, UINT32_MAX, 60000 },
		/* largest configurable values: no overflow in the shift */
		{ 600000, 3600000, 31, UINT32_MAX, 3600000 },
		{ 600000, 3600000, 32, UINT32_MAX, 3600000 },
		{ UINT_MAX, UINT_MAX, 40, UINT32_MAX, UINT_MAX },
		/* attempts below 1 count as the first */
		{ 200, 60000, 0, UINT32_MAX, 200 },
		{ 200, 60000, -7, UINT32_MAX, 200 },
		{ 200, 60000, INT_MIN, UINT32_MAX, 200 },
		/* base above max: max wins */
		{ 5000, 1000, 1, UINT32_MAX, 1000 },
		/* smallest */
		{ 1, 1, 1, 0, 1 },
		{ 1, 1, 1, UINT32_MAX, 1 },
		{ 1, 60000, 17, UINT32_MAX, 60000 },
		/* base 0: no delay at all */
		{ 0, 60000, 1, UINT32_MAX, 0 },
		{ 0, 60000, 50, 12345, 0 },
	};
	size_t i;
	unsigned got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = sync_backoff_ms(cases[i].base, cases[i].max,
		    cases[i].attempts, cases[i].rnd);
		if (got != cases[i].want)
			TL_FAIL("case %zu: backoff(%u, %u, %d, %u) = %u, want "
			    "%u", i, cases[i].base, cases[i].max,
			    cases[i].attempts, cases[i].rnd, got,
			    cases[i].want);
	}
}

/* Every value in [1, cap], monotone in the random input, and both ends
 * of the range reached by a spread of inputs. */
static void
t_backoff_jitter(void)
{
	static const struct {
		unsigned base, max;
		int attempts;
		unsigned cap;
	} ranges[] = {
		{ 200, 60000, 1, 200 },
		{ 200, 60000, 4, 1600 },
		{ 200, 60000, 20, 60000 },
		{ 10, 50, 3, 40 },
		{ 3, 3, 1, 3 },
	};
	uint32_t x = 2463534242u;
	unsigned lo, hi, v, prev, k;
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		lo = UINT_MAX;
		hi = 0;
		for (k = 0; k < 20000; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			v = sync_backoff_ms(ranges[i].base, ranges[i].max,
			    ranges[i].attempts, x);
			if (v < 1 || v > ranges[i].cap)
				TL_FAIL("range %zu: %u outside [1, %u]", i, v,
				    ranges[i].cap);
			if (v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
		/* full jitter: the whole range is used */
		ASSERT_TRUE(lo <= 1 + ranges[i].cap / 20);
		ASSERT_TRUE(hi >= ranges[i].cap - ranges[i].cap / 20);
		prev = 0;
		for (k = 0; k <= 64; k++) {
			v = sync_backoff_ms(ranges[i].base, ranges[i].max,
			    ranges[i].attempts, (unsigned)(((uint64_t)k *
			    UINT32_MAX) / 64));
			ASSERT_TRUE(v >= prev);
			prev = v;
		}
		ASSERT_INT_EQ(prev, ranges[i].cap);
	}
}

static void
t_names(void)
{
	static const struct {
		enum sync_op op;
		const char *name;
	} ops[] = {
		{ SYNC_SAFE_ENSURE, "safe_ensure" },
		{ SYNC_SAFE_FREEZE, "safe_freeze" },
		{ SYNC_SAFE_PURGE, "safe_purge" },
		{ SYNC_MEMBER_SET, "member_set" },
		{ SYNC_MEMBER_REMOVE, "member_remove" },
		{ SYNC_SESSIONS_REVOKE, "sessions_revoke" },
	};
	static const struct {
		enum sync_state st;
		const char *name;
	} states[] = {
		{ SYNC_PENDING, "pending" },
		{ SYNC_DONE, "done" },
		{ SYNC_DEAD, "dead" },
		{ SYNC_CANCELLED, "cancelled" },
	};
	static const char *const bad[] = {
		"", "Pending", "PENDING", "pending ", " done", "dea", "deadx",
		"member_set", "safe", "unknown", "cancelled\n",
	};
	static const char *const bad_ops[] = {
		"", "Member_set", "member-set", "member_set ", "pending",
		"sessions", "unknown",
	};
	enum sync_state st;
	enum sync_op op;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		ASSERT_STR_EQ(sync_op_name(ops[i].op), ops[i].name);
		ASSERT_INT_EQ(sync_op_parse(ops[i].name, &op), 0);
		ASSERT_INT_EQ(op, ops[i].op);
	}
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		ASSERT_STR_EQ(sync_state_name(states[i].st), states[i].name);
		ASSERT_INT_EQ(sync_state_parse(states[i].name, &st), 0);
		ASSERT_INT_EQ(st, states[i].st);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sync_state_parse(bad[i], &st) != ERR_INVALID)
			TL_FAIL("state \"%s\" accepted", bad[i]);
	for (i = 0; i < sizeof(bad_ops) / sizeof(bad_ops[0]); i++)
		if (sync_op_parse(bad_ops[i], &op) != ERR_INVALID)
			TL_FAIL("op \"%s\" accepted", bad_ops[i]);
	ASSERT_INT_EQ(sync_state_parse(NULL, &st), ERR_INVALID);
	ASSERT_INT_EQ(sync_op_parse(NULL, &op), ERR_INVALID);
	/* out of range values have a name too, never NULL */
	ASSERT_STR_EQ(sync_op_name((enum sync_op)99), "unknown");
	ASSERT_STR_EQ(sync_state_name((enum sync_state)99), "unknown");
	ASSERT_STR_EQ(sync_op_name((enum sync_op)-1), "unknown");
}

/* ---- sync_apply against a recording backend ---- */

struct fake {
	struct vault_backend base;
	char calls[512];	/* "op(args) " per call */
	int fail;		/* code to return, 0 = succeed */
	int temporary;
	int quiet;		/* fail without a message */
};

static void
rec(struct vault_backend *b, const char *op, long long id, const char *a,
    const char *c, const char *d, unsigned x)
{
	struct fake *f = (struct fake *)b;
	size_t n = strlen(f->calls);

	snprintf(f->calls + n, sizeof(f->calls) - n, "%s(%lld,%s,%s,%s,%u)",
	    op, id, a, c, d, x);
}

static int
fake_result(struct vault_backend *b, struct vault_error *e)
{
	struct fake *f = (struct fake *)b;

	if (f->fail == 0)
		return 0;
	if (f->quiet) {
		e->temporary = f->temporary;
		return f->fail;
	}
	return vault_error_set(e, f->fail, f->temporary, "fake failure");
}

static int
f_ensure(struct vault_backend *b, long long op_id, const char *safe_ref,
    const char *name, struct vault_error *e)
{
	rec(b, "ensure", op_id, safe_ref, name, "", 0);
	return fake_result(b, e);
}

static int
f_freeze(struct vault_backend *b, long long op_id, const char *safe_ref,
    struct vault_error *e)
{
	rec(b, "freeze", op_id, safe_ref, "", "", 0);
	return fake_result(b, e);
}

static int
f_purge(struct vault_backend *b, long long op_id, const char *safe_ref,
    struct vault_error *e)
{
	rec(b, "purge", op_id, safe_ref, "", "", 0);
	return fake_result(b, e);
}

static int
f_set(struct vault_backend *b, long long op_id, const char *safe_ref,
    const char *user_ref, const char *user_name, unsigned perms,
    struct vault_error *e)
{
	rec(b, "set", op_id, safe_ref, user_ref, user_name, perms);
	return fake_result(b, e);
}

static int
f_remove(struct vault_backend *b, long long op_id, const char *safe_ref,
    const char *user_ref, struct vault_error *e)
{
	rec(b, "remove", op_id, safe_ref, user_ref, "", 0);
	return fake_result(b, e);
}

static int
f_revoke(struct vault_backend *b, long long op_id, const char *user_ref,
    unsigned *ended, struct vault_error *e)
{
	rec(b, "revoke", op_id, user_ref, "", "", 0);
	if (ended != NULL)
		*ended = 3;
	return fake_result(b, e);
}

static const struct vault_backend_ops fake_ops = {
	.kind = "fake",
	.safe_ensure = f_ensure,
	.safe_freeze = f_freeze,
	.safe_purge = f_purge,
	.member_set = f_set,
	.member_remove = f_remove,
	.sessions_revoke = f_revoke,
};

static void
job(struct sync_job *j, long long id, enum sync_op op, const char *safe,
    const char *user, const char *safe_name, const char *user_name,
    unsigned perms)
{
	memset(j, 0, sizeof(*j));
	j->id = id;
	j->op = op;
	snprintf(j->safe_ref, sizeof(j->safe_ref), "%s", safe);
	snprintf(j->user_ref, sizeof(j->user_ref), "%s", user);
	snprintf(j->safe_name, sizeof(j->safe_name), "%s", safe_name);
	snprintf(j->user_name, sizeof(j->user_name), "%s", user_name);
	j->perms = perms;
}

#define S1	"11111111-1111-1111-1111-111111111111"
#define U1	"22222222-2222-2222-2222-222222222222"

static void
t_apply_dispatch(void)
{
	static const struct {
		enum sync_op op;
		const char *want;
	} cases[] = {
		{ SYNC_SAFE_ENSURE, "ensure(7," S1 ",prod-db,,0)" },
		{ SYNC_SAFE_FREEZE, "freeze(7," S1 ",,,0)" },
		{ SYNC_SAFE_PURGE, "purge(7," S1 ",,,0)" },
		{ SYNC_MEMBER_SET, "set(7," S1 "," U1 ",alice,7)" },
		{ SYNC_MEMBER_REMOVE, "remove(7," S1 "," U1 ",,0)" },
		{ SYNC_SESSIONS_REVOKE, "revoke(7," U1 ",,,0)" },
	};
	struct fake f;
	struct sync_job j;
	struct vault_error e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.base.ops = &fake_ops;
		job(&j, 7, cases[i].op, cases[i].op == SYNC_SESSIONS_REVOKE ?
		    "" : S1, U1, "prod-db", "alice", 7);
		ASSERT_INT_EQ(sync_apply(&f.base, &j, &e), 0);
		ASSERT_STR_EQ(f.calls, cases[i].want);
	}
}

static void
t_apply_errors(void)
{
	struct fake f;
	struct sync_job j;
	struct vault_error e;

	job(&j, 9, SYNC_MEMBER_SET, S1, U1, "prod-db", "alice", 7);
	/* no backend: temporary, so the job waits for one */
	memset(&e, 0, sizeof(e));
	ASSERT_INT_EQ(sync_apply(NULL, &j, &e), ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(e.temporary, 1);
	ASSERT_TRUE(e.msg[0] != '\0');

	/* the backend's verdict and message pass through */
	memset(&f, 0, sizeof(f));
	f.base.ops = &fake_ops;
	f.fail = ERR_CONFLICT;
	ASSERT_INT_EQ(sync_apply(&f.base, &j, &e), ERR_CONFLICT);
	ASSERT_INT_EQ(e.temporary, 0);
	ASSERT_STR_EQ(e.msg, "fake failure");
	f.fail = ERR_DB_UNAVAILABLE;
	f.temporary = 1;
	f.calls[0] = '\0';
	ASSERT_INT_EQ(sync_apply(&f.base, &j, &e), ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(e.temporary, 1);

	/* a failure without a message still gets one (dead letter list) */
	f.quiet = 1;
	f.temporary = 0;
	f.fail = ERR_INTERNAL;
	snprintf(e.msg, sizeof(e.msg), "stale");
	ASSERT_INT_EQ(sync_apply(&f.base, &j, &e), ERR_INTERNAL);
	ASSERT_INT_EQ(e.temporary, 0);
	ASSERT_TRUE(strstr(e.msg, "fake") != NULL);

	/* an unknown op is a permanent error, no backend call */
	f.calls[0] = '\0';
	f.fail = 0;
	j.op = (enum sync_op)42;
	ASSERT_INT_EQ(sync_apply(&f.base, &j, &e), ERR_INTERNAL);
	ASSERT_INT_EQ(e.temporary, 0);
	ASSERT_STR_EQ(f.calls, "");
}

static const struct testlib_case cases[] = {
	{ "backoff_table", t_backoff_table },
	{ "backoff_jitter", t_backoff_jitter },
	{ "names", t_names },
	{ "apply_dispatch", t_apply_dispatch },
	{ "apply_errors", t_apply_errors },
};

TEST_MAIN(cases)
