#include "vault/embedded.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/seal.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "db/vault_store.h"
#include "policy/policy.h"
#include "util/errors.h"
#include "util/bounds.h"
#include "util/log.h"
#include "util/strutil.h"

/*
 * The embedded vault: every lifecycle op is one transaction of the vault
 * database that first records op_id in the ledger (vault.applied_op) and
 * applies its effect only when op_id was new. Secrets are sealed and
 * opened here, with the keyring; the database sees only blobs.
 */

/* How long `key rotate` waits for safes locked by other transactions. */
#define EMB_ROTATE_WAIT_MS	10000
#define EMB_ROTATE_PAUSE_MS	50
/* Longest request id kept in the access log. */
#define EMB_REQUEST_ID_MAX	64

struct vault_embedded {
	struct vault_backend base;	/* first: what callers hold */
	struct db_pool *pool;
	const struct seal_keyring *kr;	/* borrowed */
};

/* One lifecycle operation on its way through op_run(). */
struct emb_op {
	const char *name;		/* "safe_ensure", ...: ledger, logs */
	long long id;
	const char *safe_ref;
	const char *user_ref;
	const char *user_name;
	const char *safe_name;
	int perms;			/* -1: none */
	struct seal_blob dek;		/* safe_ensure: a new data key */
	char dek_key_id[SEAL_KEY_ID_LEN + 1];
	unsigned ended;			/* sessions_revoke */
	int (*fx)(struct db_conn *, struct emb_op *, struct vault_error *);
					/* the effect of a new op_id */
};

static struct vault_embedded *
emb(struct vault_backend *b)
{
	return (struct vault_embedded *)b;
}

static void
err_reset(struct vault_error *e)
{
	if (e != NULL) {
		e->temporary = 0;
		e->msg[0] = '\0';
	}
}

/* A failed database call: temporary or not by its SQLSTATE. */
static int
db_fail(struct vault_error *e, const struct db_conn *c, int r,
    const char *what)
{
	const char *st;

	st = db_vault_sqlstate(c);
	if (st[0] == '\0')
		st = "none";
	if (r == ERR_ALLOC)
		return vault_error_set(e, ERR_ALLOC, 1, "%s: out of memory",
		    what);
	if (db_vault_temporary(c, r))
		return vault_error_set(e, ERR_DB_UNAVAILABLE, 1,
		    "%s: vault database unavailable (sqlstate %s)", what, st);
	if (r == 0 || r == ERR_DB_UNAVAILABLE)
		r = ERR_INTERNAL;
	return vault_error_set(e, r, 0,
	    "%s: refused by the vault database (sqlstate %s)", what, st);
}

/* Printable UTF-8 of min..max bytes; '/' only if slash_ok. */
static int
text_ok(const char *s, size_t min, size_t max, int slash_ok)
{
	size_t len, i;
	unsigned char ch;

	if (s == NULL)
		return 0;
	len = strnlen(s, max + 1);
	if (len < min || len > max || !utf8_valid(s, len))
		return 0;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || (ch == '/' && !slash_ok))
			return 0;
	}
	return 1;
}

static int
safe_name_ok(const char *s)
{
	return text_ok(s, 1, VAULT_SAFE_NAME_MAX, 1);
}

static int
account_name_ok(const char *s)
{
	return text_ok(s, 1, VAULT_ACCOUNT_NAME_MAX, 0);
}

static int
invalid(struct vault_error *e, const char *what, const char *why)
{
	return vault_error_set(e, ERR_INVALID, 0, "%s: %s", what, why);
}

/*
 * The ledger row of one op and, for an op_id not seen before, its
 * effect, on c inside the caller's transaction. o->fx fills e on
 * failure.
 */
static int
op_effects(struct db_conn *c, struct emb_op *o, struct vault_error *e)
{
	int r, fresh = 0;

	if ((r = db_vault_op_record(c, o->id, o->name, o->safe_ref,
	    o->user_ref, o->perms, &fresh)) != 0)
		return db_fail(e, c, r, o->name);
	if (!fresh) {
		log_info("vault: op %lld %s delivered again; already applied, "
		    "ignored", o->id, o->name);
		return 0;
	}
	if ((r = o->fx(c, o, e)) != 0)
		return r;
	log_debug("vault: applied op %lld %s", o->id, o->name);
	return 0;
}

/*
 * Run ops[0..n) (prepared) in one transaction on a connection of the
 * vault pool: all or nothing.
 */
static int
ops_run(struct vault_embedded *v, struct emb_op *ops, size_t n,
    struct vault_error *e)
{
	struct db_conn *c = NULL;
	size_t i;
	int r;

	if ((r = db_acquire(v->pool, &c)) != 0) {
		r = db_fail(e, NULL, r, ops[0].name);
		goto out;
	}
	if ((r = db_begin(c)) != 0) {
		r = db_fail(e, c, r, ops[0].name);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = op_effects(c, &ops[i], e)) != 0)
			goto out;
	}
	if ((r = db_commit(c)) != 0)
		r = db_fail(e, c, r, ops[n - 1].name);
out:
	db_release(v->pool, c);	/* rolls back what is left open */
	return r;
}

static int
fx_safe_ensure(struct db_conn *c, struct emb_op *o, struct vault_error *e)
{
	int r, created = 0;

	r = db_vault_safe_ensure(c, o->id, o->safe_ref, o->safe_name, &o->dek,
	    o->dek_key_id, &created);
	/* temporary: the other safe's rename or freeze may be queued
	 * behind this op (names move between groups) */
	if (r == ERR_CONFLICT)
		return vault_error_set(e, r, 1, "safe_ensure: another active "
		    "safe is named \"%.100s\"", o->safe_name);
	if (r != 0)
		return db_fail(e, c, r, o->name);
	if (created)
		log_info("vault: safe %s created (op %lld)", o->safe_ref,
		    o->id);
	return 0;
}

static int
fx_safe_freeze(struct db_conn *c, struct emb_op *o, struct vault_error *e)
{
	int r;

	if ((r = db_vault_safe_freeze(c, o->id, o->safe_ref)) != 0)
		return db_fail(e, c, r, o->name);
	return 0;
}

static int
fx_safe_purge(struct db_conn *c, struct emb_op *o, struct vault_error *e)
{
	int r, purged = 0;

	if ((r = db_vault_safe_purge(c, o->safe_ref, &purged)) != 0)
		return db_fail(e, c, r, o->name);
	if (purged)
		log_info("vault: safe %s purged (op %lld)", o->safe_ref, o->id);
	else
		log_info("vault: safe %s not purged (missing or active, op "
		    "%lld)", o->safe_ref, o->id);
	return 0;
}

static int
fx_member_set(struct db_conn *c, struct emb_op *o, struct vault_error *e)
{
	int r, active = 0;

	r = db_vault_safe_lock(c, o->safe_ref, &active);
	if (r == ERR_NOT_FOUND)
		return vault_error_set(e, r, 0, "member_set: safe %s does "
		    "not exist", o->safe_ref);
	if (r != 0)
		return db_fail(e, c, r, o->name);
	if (!active) {
		log_info("vault: safe %s is frozen; member %s not added (op "
		    "%lld)", o->safe_ref, o->user_ref, o->id);
		return 0;
	}
	if ((r = db_vault_member_set(c, o->safe_ref, o->user_ref,
	    o->user_name, (unsigned)o->perms)) != 0)
		return db_fail(e, c, r, o->name);
	return 0;
}

static int
fx_member_remove(struct db_conn *c, struct emb_op *o, struct vault_error *e)
{
	int r;

	if ((r = db_vault_member_remove(c, o->safe_ref, o->user_ref)) != 0)
		return db_fail(e, c, r, o->name);
	return 0;
}

static int
fx_sessions_revoke(struct db_conn *c, struct emb_op *o,
    struct vault_error *e)
{
	int r;

	if ((r = db_vault_sessions_end(c, o->user_ref, &o->ended)) != 0)
		return db_fail(e, c, r, o->name);
	if (o->ended > 0)
		log_info("vault: %u session(s) of user %s ended (op %lld)",
		    o->ended, o->user_ref, o->id);
	return 0;
}

/*
 * Check one op and make it ready to run: its ledger name, its effect,
 * and for safe_ensure a new data key (used only if the safe is new; an
 * existing safe keeps its key, so its secrets stay readable). Release
 * with op_clear.
 */
static int
op_prepare(struct vault_embedded *v, const struct vault_op *in,
    struct emb_op *o, struct vault_error *e)
{
	char err[SEAL_ERR_MAX];
	int r, need_safe = 1, need_user = 0;

	memset(o, 0, sizeof(*o));
	o->id = in->op_id;
	o->safe_ref = in->safe_ref;
	o->user_ref = in->user_ref;
	o->perms = -1;
	switch (in->kind) {
	case VAULT_OP_SAFE_ENSURE:
		o->name = "safe_ensure";
		o->fx = fx_safe_ensure;
		o->safe_name = in->name;
		break;
	case VAULT_OP_SAFE_FREEZE:
		o->name = "safe_freeze";
		o->fx = fx_safe_freeze;
		break;
	case VAULT_OP_SAFE_PURGE:
		o->name = "safe_purge";
		o->fx = fx_safe_purge;
		break;
	case VAULT_OP_MEMBER_SET:
		o->name = "member_set";
		o->fx = fx_member_set;
		o->user_name = in->user_name;
		o->perms = (int)(in->perms & POLICY_PERM_ALL);
		need_user = 1;
		break;
	case VAULT_OP_MEMBER_REMOVE:
		o->name = "member_remove";
		o->fx = fx_member_remove;
		need_user = 1;
		break;
	case VAULT_OP_SESSIONS_REVOKE:
		o->name = "sessions_revoke";
		o->fx = fx_sessions_revoke;
		o->safe_ref = NULL;
		need_safe = 0;
		need_user = 1;
		break;
	default:
		return invalid(e, "op", "unknown lifecycle op");
	}
	if (o->id < 1)
		return invalid(e, o->name, "bad op id");
	if (need_safe && !str_is_uuid(o->safe_ref))
		return invalid(e, o->name, "bad safe ref");
	if (need_user && !str_is_uuid(o->user_ref))
		return invalid(e, o->name, "bad user ref");
	if (!need_user)
		o->user_ref = NULL;
	if (in->kind == VAULT_OP_SAFE_ENSURE && !safe_name_ok(o->safe_name))
		return invalid(e, o->name, "bad safe name");
	if (in->kind == VAULT_OP_MEMBER_SET) {
		if (!text_ok(o->user_name, 1, VAULT_USER_NAME_MAX, 1))
			return invalid(e, o->name, "bad user name");
		if ((in->perms & ~POLICY_PERM_ALL) != 0)
			return invalid(e, o->name, "unknown permission bits");
	}
	if (in->kind == VAULT_OP_SAFE_ENSURE &&
	    ((r = seal_dek_new(v->kr, &o->dek, err, sizeof(err))) != 0 ||
	    (r = seal_blob_key_id(&o->dek, o->dek_key_id, err,
	    sizeof(err))) != 0))
		return vault_error_set(e, r, r == ERR_ALLOC,
		    "safe_ensure: new data key: %s", err);
	return 0;
}

static void
op_clear(struct emb_op *o)
{
	seal_blob_free(&o->dek);
}

/* One op on its own: prepared, run in its own transaction, cleared. */
static int
op_one(struct vault_backend *b, const struct vault_op *in, unsigned *ended,
    struct vault_error *e)
{
	struct emb_op o;
	int r;

	err_reset(e);
	if ((r = op_prepare(emb(b), in, &o, e)) == 0)
		r = ops_run(emb(b), &o, 1, e);
	if (r == 0 && ended != NULL)
		*ended = o.ended;
	op_clear(&o);
	return r;
}

/*
 * A batch of member ops only, on distinct (safe, user) pairs (the
 * outbox never claims two jobs of one pair together): one statement
 * (db_vault_members_apply) instead of three round trips per op. On a
 * busy machine every round trip waits for the scheduler, and a batch of
 * 30 ops one by one took tens of milliseconds of which the database
 * worked one. BATCH_NOT_MEMBERS when the batch is not of that kind
 * (the caller runs it op by op in one transaction instead).
 */
#define BATCH_NOT_MEMBERS	1

static int
members_run(struct vault_embedded *v, const struct emb_op *o, size_t n,
    struct vault_error *e)
{
	struct db_vault_member_op *m = NULL;
	struct db_vault_members_result res;
	struct db_conn *c = NULL;
	size_t i, j;
	int r;

	for (i = 0; i < n; i++) {
		if (o[i].fx != fx_member_set && o[i].fx != fx_member_remove)
			return BATCH_NOT_MEMBERS;
		for (j = 0; j < i; j++)
			if (strcmp(o[i].safe_ref, o[j].safe_ref) == 0 &&
			    strcmp(o[i].user_ref, o[j].user_ref) == 0)
				return BATCH_NOT_MEMBERS;
	}
	if ((m = calloc(n, sizeof(*m))) == NULL)
		return vault_error_set(e, ERR_ALLOC, 1, "batch: out of memory");
	for (i = 0; i < n; i++) {
		m[i].op_id = o[i].id;
		m[i].set = o[i].fx == fx_member_set;
		m[i].safe_ref = o[i].safe_ref;
		m[i].user_ref = o[i].user_ref;
		m[i].user_name = o[i].user_name;
		m[i].perms = o[i].perms;
	}
	if ((r = db_acquire(v->pool, &c)) != 0) {
		r = db_fail(e, NULL, r, "batch");
		goto out;
	}
	if ((r = db_begin(c)) != 0 ||
	    (r = db_vault_members_apply(c, m, n, &res)) != 0) {
		if (r == ERR_NOT_FOUND)
			r = vault_error_set(e, r, 0, "batch: member_set on a "
			    "safe that does not exist");
		else
			r = db_fail(e, c, r, "batch");
		goto out;
	}
	if ((r = db_commit(c)) != 0) {
		r = db_fail(e, c, r, "batch");
		goto out;
	}
	if (res.again > 0)
		log_info("vault: %u op(s) of a batch delivered again; already "
		    "applied, ignored", res.again);
	if (res.frozen > 0)
		log_info("vault: %u member(s) of a batch not added: their "
		    "safe is frozen", res.frozen);
	log_debug("vault: applied a batch of %zu member ops", n);
out:
	db_release(v->pool, c);	/* rolls back what is left open */
	free(m);
	return r;
}

static int
emb_apply_batch(struct vault_backend *b, const struct vault_op *ops,
    size_t n, struct vault_error *e)
{
	struct emb_op *o;
	size_t i, made = 0;
	int r = 0;

	err_reset(e);
	if (n == 0)
		return 0;
	if ((o = calloc(n, sizeof(*o))) == NULL)
		return vault_error_set(e, ERR_ALLOC, 1, "batch: out of memory");
	for (i = 0; i < n && r == 0; i++, made++)
		r = op_prepare(emb(b), &ops[i], &o[i], e);
	if (r == 0 && (r = members_run(emb(b), o, n, e)) == BATCH_NOT_MEMBERS) {
		err_reset(e);
		r = ops_run(emb(b), o, n, e);
	}
	for (i = 0; i < made; i++)
		op_clear(&o[i]);
	free(o);
	return r;
}

static int
emb_safe_ensure(struct vault_backend *b, long long op_id,
    const char *safe_ref, const char *name, struct vault_error *e)
{
	struct vault_op op = { VAULT_OP_SAFE_ENSURE, op_id, safe_ref, NULL,
	    name, NULL, 0 };

	return op_one(b, &op, NULL, e);
}

static int
emb_safe_freeze(struct vault_backend *b, long long op_id,
    const char *safe_ref, struct vault_error *e)
{
	struct vault_op op = { VAULT_OP_SAFE_FREEZE, op_id, safe_ref, NULL,
	    NULL, NULL, 0 };

	return op_one(b, &op, NULL, e);
}

static int
emb_safe_purge(struct vault_backend *b, long long op_id,
    const char *safe_ref, struct vault_error *e)
{
	struct vault_op op = { VAULT_OP_SAFE_PURGE, op_id, safe_ref, NULL,
	    NULL, NULL, 0 };

	return op_one(b, &op, NULL, e);
}

static int
emb_member_set(struct vault_backend *b, long long op_id,
    const char *safe_ref, const char *user_ref, const char *user_name,
    unsigned perms, struct vault_error *e)
{
	struct vault_op op = { VAULT_OP_MEMBER_SET, op_id, safe_ref, user_ref,
	    NULL, user_name, perms };

	return op_one(b, &op, NULL, e);
}

static int
emb_member_remove(struct vault_backend *b, long long op_id,
    const char *safe_ref, const char *user_ref, struct vault_error *e)
{
	struct vault_op op = { VAULT_OP_MEMBER_REMOVE, op_id, safe_ref,
	    user_ref, NULL, NULL, 0 };

	return op_one(b, &op, NULL, e);
}

static int
emb_sessions_revoke(struct vault_backend *b, long long op_id,
    const char *user_ref, unsigned *ended, struct vault_error *e)
{
	struct vault_op op = { VAULT_OP_SESSIONS_REVOKE, op_id, NULL,
	    user_ref, NULL, NULL, 0 };

	if (ended != NULL)
		*ended = 0;
	return op_one(b, &op, ended, e);
}

static int
emb_list_safes(struct vault_backend *b, struct vault_safe **out, size_t *n,
    struct vault_error *e)
{
	struct vault_embedded *v = emb(b);
	struct db_conn *c = NULL;
	int r;

	err_reset(e);
	*out = NULL;
	*n = 0;
	if ((r = db_acquire(v->pool, &c)) != 0 ||
	    (r = db_vault_safe_list(c, out, n)) != 0)
		r = db_fail(e, c, r, "list_safes");
	db_release(v->pool, c);
	return r;
}

static int
emb_list_members(struct vault_backend *b, const char *safe_ref,
    struct vault_member **out, size_t *n, struct vault_error *e)
{
	struct vault_embedded *v = emb(b);
	struct db_conn *c = NULL;
	int r;

	err_reset(e);
	*out = NULL;
	*n = 0;
	if (!str_is_uuid(safe_ref))
		return invalid(e, "list_members", "bad safe ref");
	if ((r = db_acquire(v->pool, &c)) != 0) {
		r = db_fail(e, c, r, "list_members");
		goto out;
	}
	r = db_vault_member_list(c, safe_ref, out, n);
	if (r == ERR_NOT_FOUND)
		r = vault_error_set(e, r, 0, "list_members: safe %s does not "
		    "exist", safe_ref);
	else if (r != 0)
		r = db_fail(e, c, r, "list_members");
out:
	db_release(v->pool, c);
	return r;
}

static int
no_safe(struct vault_error *e, const char *what, const char *safe_name)
{
	return vault_error_set(e, ERR_NOT_FOUND, 0, "%s: no active safe "
	    "named \"%.100s\"", what, safe_name);
}

static int
emb_account_put(struct vault_backend *b, const char *safe_name,
    const struct vault_account *a, int *created, struct vault_error *e)
{
	struct vault_embedded *v = emb(b);
	struct db_conn *c = NULL;
	int r, cr = 0;

	err_reset(e);
	if (created != NULL)
		*created = 0;
	if (!safe_name_ok(safe_name))
		return invalid(e, "account_put", "bad safe name");
	if (a == NULL || !account_name_ok(a->name))
		return invalid(e, "account_put", "account name must be 1.."
		    "128 printable characters without '/'");
	if (!text_ok(a->address, 0, VAULT_ADDRESS_MAX, 1))
		return invalid(e, "account_put", "bad address");
	if (!text_ok(a->username, 0, VAULT_USER_NAME_MAX, 1))
		return invalid(e, "account_put", "bad username");
	if ((r = db_acquire(v->pool, &c)) != 0) {
		r = db_fail(e, c, r, "account_put");
		goto out;
	}
	r = db_vault_account_put(c, safe_name, a, &cr);
	if (r == ERR_NOT_FOUND)
		r = no_safe(e, "account_put", safe_name);
	else if (r != 0)
		r = db_fail(e, c, r, "account_put");
	else if (created != NULL)
		*created = cr;
out:
	db_release(v->pool, c);
	return r;
}

static int
emb_account_list(struct vault_backend *b, const char *safe_name,
    struct vault_account **out, size_t *n, struct vault_error *e)
{
	struct vault_embedded *v = emb(b);
	struct db_conn *c = NULL;
	int r;

	err_reset(e);
	*out = NULL;
	*n = 0;
	if (!safe_name_ok(safe_name))
		return invalid(e, "account_list", "bad safe name");
	if ((r = db_acquire(v->pool, &c)) != 0) {
		r = db_fail(e, c, r, "account_list");
		goto out;
	}
	r = db_vault_account_list(c, safe_name, out, n);
	if (r == ERR_NOT_FOUND)
		r = no_safe(e, "account_list", safe_name);
	else if (r != 0)
		r = db_fail(e, c, r, "account_list");
out:
	db_release(v->pool, c);
	return r;
}

static int
emb_account_delete(struct vault_backend *b, const char *safe_name,
    const char *account, struct vault_error *e)
{
	struct vault_embedded *v = emb(b);
	struct db_conn *c = NULL;
	int r;

	err_reset(e);
	if (!safe_name_ok(safe_name) || !account_name_ok(account))
		return invalid(e, "account_delete", "bad safe or account "
		    "name");
	if ((r = db_acquire(v->pool, &c)) != 0) {
		r = db_fail(e, c, r, "account_delete");
		goto out;
	}
	r = db_vault_account_delete(c, safe_name, account);
	if (r == ERR_NOT_FOUND)
		r = vault_error_set(e, r, 0, "account_delete: no account "
		    "\"%.100s\" in an active safe \"%.100s\"", account,
		    safe_name);
	else if (r != 0)
		r = db_fail(e, c, r, "account_delete");
out:
	db_release(v->pool, c);
	return r;
}

/* The associated data that binds a sealed secret to its account. */
static int
secret_ad(const struct db_vault_secret *s, char *ad, size_t adsz)
{
	int n;

	n = snprintf(ad, adsz, "safe:%s/account:%s", s->safe_ref,
	    s->account_id);
	return n > 0 && (size_t)n < adsz ? 0 : ERR_INTERNAL;
}

static int
emb_secret_set(struct vault_backend *b, const char *safe_name,
    const char *account, const void *secret, size_t len, long long *version,
    struct vault_error *e)
{
	struct vault_embedded *v = emb(b);
	struct db_vault_secret s;
	struct seal_blob ct = { NULL, 0 };
	struct db_conn *c = NULL;
	char err[SEAL_ERR_MAX], ad[SEAL_AD_MAX];
	char ca[LOG_CLIENT_STR_MAX * 4 + 8], cs[LOG_CLIENT_STR_MAX * 4 + 8];
	long long ver = 0;
	int r;

	err_reset(e);
	memset(&s, 0, sizeof(s));
	if (version != NULL)
		*version = 0;
	if (!safe_name_ok(safe_name) || !account_name_ok(account))
		return invalid(e, "secret_set", "bad safe or account name");
	if (len > SEAL_SECRET_MAX)
		return vault_error_set(e, ERR_TOO_LARGE, 0, "secret_set: "
		    "secret longer than %d bytes", SEAL_SECRET_MAX);
	if (secret == NULL || len == 0)
		return invalid(e, "secret_set", "empty secret");
	if ((r = db_acquire(v->pool, &c)) != 0 || (r = db_begin(c)) != 0) {
		r = db_fail(e, c, r, "secret_set");
		goto out;
	}
	r = db_vault_secret_lock(c, safe_name, account, &s);
	if (r == ERR_NOT_FOUND) {
		r = vault_error_set(e, r, 0, "secret_set: no account "
		    "\"%.100s\" in an active safe \"%.100s\"", account,
		    safe_name);
		goto out;
	} else if (r != 0) {
		r = db_fail(e, c, r, "secret_set");
		goto out;
	}
	if ((r = secret_ad(&s, ad, sizeof(ad))) != 0) {
		r = vault_error_set(e, r, 0, "secret_set: bad account id");
		goto out;
	}
	if ((r = seal_encrypt(v->kr, &s.dek, ad, secret, len, &ct, err,
	    sizeof(err))) != 0) {
		r = vault_error_set(e, r, r == ERR_ALLOC, "secret_set: safe "
		    "\"%.100s\": %s", safe_name, err);
		goto out;
	}
	if ((r = db_vault_secret_store(c, s.account_id, &ct, &ver)) != 0 ||
	    (r = db_commit(c)) != 0) {
		r = db_fail(e, c, r, "secret_set");
		goto out;
	}
	log_info("vault: secret of account \"%s\" in safe \"%s\" set, "
	    "version %lld", log_clean(account, ca, sizeof(ca)),
	    log_clean(safe_name, cs, sizeof(cs)), ver);
	if (version != NULL)
		*version = ver;
	r = 0;
out:
	seal_blob_free(&ct);
	db_vault_secret_clear(&s);
	db_release(v->pool, c);
	return r;
}

/* A request id fit for the access log, or NULL. */
static const char *
request_id_ok(const char *id)
{
	size_t len, i;

	if (id == NULL)
		return NULL;
	len = strnlen(id, EMB_REQUEST_ID_MAX + 1);
	if (len == 0 || len > EMB_REQUEST_ID_MAX)
		return NULL;
	for (i = 0; i < len; i++) {
		if ((unsigned char)id[i] <= 0x20 ||
		    (unsigned char)id[i] >= 0x7f)
			return NULL;
	}
	return id;
}

static int
emb_secret_retrieve(struct vault_backend *b, const char *safe_name,
    const char *account, const char *user_ref, const char *request_id,
    struct seal_secret **out, long long *version, struct vault_error *e)
{
	struct vault_embedded *v = emb(b);
	struct db_vault_secret s;
	struct seal_secret *sec = NULL;
	struct db_conn *c = NULL;
	char err[SEAL_ERR_MAX], ad[SEAL_AD_MAX];
	char ca[LOG_CLIENT_STR_MAX * 4 + 8], cs[LOG_CLIENT_STR_MAX * 4 + 8];
	int r;

	err_reset(e);
	memset(&s, 0, sizeof(s));
	*out = NULL;
	if (version != NULL)
		*version = 0;
	if (!safe_name_ok(safe_name) || !account_name_ok(account))
		return invalid(e, "secret_retrieve", "bad safe or account "
		    "name");
	if (!str_is_uuid(user_ref))
		return vault_error_set(e, ERR_FORBIDDEN, 0, "secret_retrieve: "
		    "caller is not a known user");
	if ((r = db_acquire(v->pool, &c)) != 0 || (r = db_begin(c)) != 0) {
		r = db_fail(e, c, r, "secret_retrieve");
		goto out;
	}
	r = db_vault_secret_read(c, safe_name, account, user_ref, &s);
	if (r == ERR_NOT_FOUND) {
		r = vault_error_set(e, r, 0, "secret_retrieve: no safe named "
		    "\"%.100s\"", safe_name);
		goto out;
	} else if (r != 0) {
		r = db_fail(e, c, r, "secret_retrieve");
		goto out;
	}
	/* membership first: a non-member learns nothing about accounts */
	if (!s.active || !s.member || (s.perms & POLICY_PERM_RETRIEVE) == 0) {
		r = vault_error_set(e, ERR_FORBIDDEN, 0, "secret_retrieve: "
		    "user %s may not retrieve from safe \"%.100s\"%s", user_ref,
		    safe_name, !s.active ? " (frozen)" : !s.member ?
		    " (not a member)" : " (no retrieve permission)");
		goto out;
	}
	if (!s.have_account || s.version == 0 || s.secret.len == 0) {
		r = vault_error_set(e, ERR_NOT_FOUND, 0, "secret_retrieve: "
		    "no secret for account \"%.100s\" in safe \"%.100s\"",
		    account, safe_name);
		goto out;
	}
	if ((r = secret_ad(&s, ad, sizeof(ad))) != 0) {
		r = vault_error_set(e, r, 0, "secret_retrieve: bad account "
		    "id");
		goto out;
	}
	/* opened before the commit: a retrieval is logged only if it
	 * succeeds, and the caller gets nothing unless it is logged */
	if ((r = seal_decrypt(v->kr, &s.dek, ad, &s.secret, &sec, err,
	    sizeof(err))) != 0) {
		r = vault_error_set(e, r, r == ERR_ALLOC, "secret_retrieve: "
		    "safe \"%.100s\": %s", safe_name, err);
		goto out;
	}
	if ((r = db_vault_access_record(c, s.safe_ref, s.account_id, user_ref,
	    request_id_ok(request_id), s.version)) != 0 ||
	    (r = db_commit(c)) != 0) {
		r = db_fail(e, c, r, "secret_retrieve");
		goto out;
	}
	log_info("vault: secret of account \"%s\" in safe \"%s\" retrieved "
	    "by user %s, version %lld", log_clean(account, ca, sizeof(ca)),
	    log_clean(safe_name, cs, sizeof(cs)), user_ref, s.version);
	if (version != NULL)
		*version = s.version;
	*out = sec;
	sec = NULL;
	r = 0;
out:
	seal_secret_free(sec);
	db_vault_secret_clear(&s);
	db_release(v->pool, c);
	return r;
}

static void
emb_free(struct vault_backend *b)
{
	struct vault_embedded *v = emb(b);

	if (v == NULL)
		return;
	db_pool_free(v->pool);
	free(v);
}

static const struct vault_backend_ops emb_ops = {
	.kind = "embedded",
	.apply_batch = emb_apply_batch,
	.safe_ensure = emb_safe_ensure,
	.safe_freeze = emb_safe_freeze,
	.safe_purge = emb_safe_purge,
	.member_set = emb_member_set,
	.member_remove = emb_member_remove,
	.sessions_revoke = emb_sessions_revoke,
	.list_safes = emb_list_safes,
	.list_members = emb_list_members,
	.account_put = emb_account_put,
	.account_list = emb_account_list,
	.account_delete = emb_account_delete,
	.secret_set = emb_secret_set,
	.secret_retrieve = emb_secret_retrieve,
	.free = emb_free,
};

int
vault_embedded_new(const struct vault_embedded_opts *o,
    struct vault_backend **out)
{
	struct vault_embedded *v = NULL;
	struct db_pool_opts po;
	int r;

	*out = NULL;
	if (o == NULL || o->dsn == NULL || o->keyring == NULL)
		return ERR_CONFIG;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_ALLOC;
	v->base.ops = &emb_ops;
	v->kr = o->keyring;
	memset(&po, 0, sizeof(po));
	po.dsn = o->dsn;
	po.size = o->pool_size > 0 ? o->pool_size : 4;
	po.connect_timeout_s = o->connect_timeout_s;
	po.acquire_timeout_ms = o->acquire_timeout_ms > 0 ?
	    o->acquire_timeout_ms : 5000;
	po.statement_timeout_ms = o->statement_timeout_ms;
	if ((r = db_pool_new(&po, &v->pool)) != 0)
		goto out;
	*out = &v->base;
	v = NULL;
	r = 0;
out:
	if (v != NULL)
		emb_free(&v->base);
	return r;
}

/* Map a database failure of the startup check or rotation. */
static int
db_err(char *err, size_t errsz, const struct db_conn *c, int r,
    const char *what)
{
	struct vault_error ve;

	err_reset(&ve);
	r = db_fail(&ve, c, r, what);
	err_msg(err, errsz, "%s", ve.msg);
	return ve.temporary ? ERR_DB_UNAVAILABLE : r;
}

/* 1 if the keyring holds key id. */
static int
keyring_has(const struct seal_keyring *kr, const char *id)
{
	char k[SEAL_KEY_ID_LEN + 1];
	size_t i;

	for (i = 0; i < seal_keyring_count(kr); i++) {
		if (seal_keyring_key_id(kr, i, k) == 0 && strcmp(k, id) == 0)
			return 1;
	}
	return 0;
}

/* "id0, id1, ..." of the loaded keys. */
static void
keyring_ids(const struct seal_keyring *kr, char *out, size_t outsz)
{
	char k[SEAL_KEY_ID_LEN + 1];
	size_t i, used = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < seal_keyring_count(kr); i++) {
		if (seal_keyring_key_id(kr, i, k) != 0)
			continue;
		n = snprintf(out + used, outsz - used, "%s%s",
		    used > 0 ? ", " : "", k);
		if (n < 0 || (size_t)n >= outsz - used)
			break;
		used += (size_t)n;
	}
}

int
vault_embedded_check(struct vault_backend *b, char *err, size_t errsz)
{
	struct vault_embedded *v = emb(b);
	struct db_vault_dek *d = NULL;
	struct db_conn *c = NULL;
	char loaded[SEAL_KEYRING_MAX * (SEAL_KEY_ID_LEN + 2) + 1];
	char serr[SEAL_ERR_MAX];
	size_t n = 0, i;
	int r, ver = 0, latest;

	err_msg(err, errsz, "%s", "");
	if (b == NULL || b->ops != &emb_ops)
		return ERR_INTERNAL;
	if ((r = db_acquire(v->pool, &c)) != 0) {
		r = db_err(err, errsz, c, r, "vault check");
		goto out;
	}
	if ((r = db_migrate_set_current(c, &db_vault_set, &ver)) != 0) {
		r = db_err(err, errsz, c, r, "vault schema version");
		goto out;
	}
	latest = db_migrate_set_latest(&db_vault_set);
	if (ver < latest) {
		err_msg(err, errsz, "vault schema version %d, this binary "
		    "needs %d: run \"vaultbridge migrate\"", ver, latest);
		r = ERR_CONFIG;
		goto out;
	}
	if ((r = db_vault_dek_by_key(c, &d, &n)) != 0) {
		r = db_err(err, errsz, c, r, "vault data keys");
		goto out;
	}
	keyring_ids(v->kr, loaded, sizeof(loaded));
	for (i = 0; i < n; i++) {
		if (!keyring_has(v->kr, d[i].key_id)) {
			err_msg(err, errsz, "data keys are wrapped under "
			    "master key %s, which is not loaded (loaded: %s)",
			    d[i].key_id, loaded);
			r = ERR_CRYPTO;
			goto out;
		}
		if ((r = seal_dek_check(v->kr, &d[i].dek, serr,
		    sizeof(serr))) != 0) {
			err_msg(err, errsz, "master key %s does not open the "
			    "data key of safe \"%.100s\": %s", d[i].key_id,
			    d[i].safe_name, serr);
			r = r == ERR_ALLOC ? r : ERR_CRYPTO;
			goto out;
		}
	}
	log_info("vault check ok: schema version %d, %zu master key id(s) in "
	    "use, loaded: %s", ver, n, loaded);
	r = 0;
out:
	db_vault_dek_free(d, n);
	db_release(v->pool, c);
	return r;
}

static void
pause_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * Re-wrap the data key of the next safe not under key0 in its own
 * transaction. *done = 1 when none was left to take.
 */
static int
rotate_one(struct vault_embedded *v, struct db_conn *c, const char *key0,
    int *done, char *err, size_t errsz)
{
	struct db_vault_dek d;
	struct seal_blob nd = { NULL, 0 };
	char ref[VAULT_REF_LEN + 1], id[SEAL_KEY_ID_LEN + 1];
	char serr[SEAL_ERR_MAX];
	int r;

	*done = 0;
	memset(&d, 0, sizeof(d));
	if ((r = db_begin(c)) != 0) {
		r = db_err(err, errsz, c, r, "key rotate");
		goto out;
	}
	r = db_vault_dek_next(c, key0, ref, &d);
	if (r == ERR_NOT_FOUND) {
		*done = 1;
		r = 0;
		goto out;
	} else if (r != 0) {
		r = db_err(err, errsz, c, r, "key rotate");
		goto out;
	}
	if ((r = seal_dek_rewrap(v->kr, &d.dek, &nd, serr,
	    sizeof(serr))) != 0 || (r = seal_blob_key_id(&nd, id, serr,
	    sizeof(serr))) != 0) {
		err_msg(err, errsz, "data key of safe \"%.100s\" (master key "
		    "%s): %s", d.safe_name, d.key_id, serr);
		goto out;
	}
	if (strcmp(id, key0) != 0) {
		err_msg(err, errsz, "re-wrapped data key of safe \"%.100s\" "
		    "is under %s, not %s", d.safe_name, id, key0);
		r = ERR_INTERNAL;
		goto out;
	}
	if ((r = db_vault_dek_store(c, ref, &nd, id)) != 0 ||
	    (r = db_commit(c)) != 0) {
		r = db_err(err, errsz, c, r, "key rotate");
		goto out;
	}
	log_info("vault: data key of safe \"%.100s\" re-wrapped from master "
	    "key %s to %s", d.safe_name, d.key_id, id);
	r = 0;
out:
	db_rollback(c);
	seal_blob_free(&nd);
	seal_blob_free(&d.dek);
	return r;
}

int
vault_embedded_rotate(struct vault_backend *b, unsigned *rewrapped,
    unsigned *current, char *err, size_t errsz)
{
	struct vault_embedded *v = emb(b);
	struct db_conn *c = NULL;
	char key0[SEAL_KEY_ID_LEN + 1];
	unsigned done_n = 0, cur0 = 0, cur = 0, other = 0;
	long waited = 0;
	int r, done = 0;

	err_msg(err, errsz, "%s", "");
	if (rewrapped != NULL)
		*rewrapped = 0;
	if (current != NULL)
		*current = 0;
	if (b == NULL || b->ops != &emb_ops ||
	    seal_keyring_key_id(v->kr, 0, key0) != 0)
		return ERR_INTERNAL;
	if ((r = db_acquire(v->pool, &c)) != 0 ||
	    (r = db_vault_dek_count(c, key0, &cur0, &other)) != 0) {
		r = db_err(err, errsz, c, r, "key rotate");
		goto out;
	}
	for (;;) {
		if ((r = rotate_one(v, c, key0, &done, err, errsz)) != 0)
			goto out;
		if (!done) {
			done_n++;
			continue;
		}
		/* none left to take: finished, or some are locked by
		 * transactions of a serving daemon; wait for those */
		if ((r = db_vault_dek_count(c, key0, &cur, &other)) != 0) {
			r = db_err(err, errsz, c, r, "key rotate");
			goto out;
		}
		if (other == 0)
			break;
		if (waited >= EMB_ROTATE_WAIT_MS) {
			err_msg(err, errsz, "%u data key(s) stayed locked by "
			    "other transactions for %d ms; run again", other,
			    EMB_ROTATE_WAIT_MS);
			r = ERR_DB_UNAVAILABLE;
			goto out;
		}
		pause_ms(EMB_ROTATE_PAUSE_MS);
		waited += EMB_ROTATE_PAUSE_MS;
	}
	r = 0;
out:
	if (rewrapped != NULL)
		*rewrapped = done_n;
	if (current != NULL)
		*current = cur0;
	db_release(v->pool, c);
	return r;
}
