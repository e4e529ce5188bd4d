#include "db/vault_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_int.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/strutil.h"

#define TS_FMT	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

/* Active safe by name: the one whose lower(name) the unique index holds. */
#define ACTIVE_SAFE	"lower(s.name) = lower($1) AND s.state = 'active'"

const char *
db_vault_sqlstate(const struct db_conn *c)
{
	return c != NULL ? c->sqlstate : "";
}

int
db_vault_temporary(const struct db_conn *c, int r)
{
	static const char *const states[] = {
		"40001", "40P01", "55P03", "57014", "57P01", "57P02",
		"57P03"
	};
	const char *s;
	size_t i;

	if (r == ERR_DB_UNAVAILABLE || r == ERR_ALLOC)
		return 1;
	s = db_vault_sqlstate(c);
	if (strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0)
		return 1;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(s, states[i]) == 0)
			return 1;
	}
	return 0;
}

static int
hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* encode(x, 'hex') text into a malloc'd blob. */
static int
blob_from_hex(const char *h, struct seal_blob *out)
{
	size_t len, i;
	int hi, lo;

	out->data = NULL;
	out->len = 0;
	len = strlen(h);
	if (len % 2 != 0)
		return ERR_INTERNAL;
	if (len == 0)
		return 0;
	if ((out->data = malloc(len / 2)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < len / 2; i++) {
		if ((hi = hex_nibble(h[2 * i])) < 0 ||
		    (lo = hex_nibble(h[2 * i + 1])) < 0) {
			seal_blob_free(out);
			return ERR_INTERNAL;
		}
		out->data[i] = (unsigned char)(hi << 4 | lo);
	}
	out->len = len / 2;
	return 0;
}

/* Copy a column value that must fit into dst. */
static int
copy_col(PGresult *res, int i, int col, char *dst, size_t dstsz)
{
	const char *v;

	v = PQgetvalue(res, i, col);
	if (strlen(v) >= dstsz)
		return ERR_INTERNAL;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
col_ll(PGresult *res, int i, int col, long long *out)
{
	uint64_t v;

	if (parse_u64(PQgetvalue(res, i, col), 0, INT64_MAX, &v) != 0)
		return ERR_INTERNAL;
	*out = (long long)v;
	return 0;
}

static int
col_true(PGresult *res, int i, int col)
{
	return strcmp(PQgetvalue(res, i, col), "t") == 0;
}

int
db_vault_op_record(struct db_conn *c, long long op_id, const char *op,
    const char *safe_ref, const char *user_ref, int perms, int *fresh)
{
	PGresult *res = NULL;
	const char *vals[5];
	char id[24], pm[16];
	long long d;
	int r;

	*fresh = 0;
	snprintf(id, sizeof(id), "%lld", op_id);
	snprintf(pm, sizeof(pm), "%d", perms);
	vals[0] = id;
	vals[1] = op;
	vals[2] = safe_ref;
	vals[3] = user_ref;
	vals[4] = perms >= 0 ? pm : NULL;
	if ((r = db_exec(c, "INSERT INTO vault.applied_op "
	    "(op_id, op, safe_ref, user_ref, perms) "
	    "VALUES ($1::bigint, $2, $3::uuid, $4::uuid, $5::integer) "
	    "ON CONFLICT (op_id) DO UPDATE "
	    "SET deliveries = vault.applied_op.deliveries + 1 "
	    "RETURNING deliveries", 5, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 || col_ll(res, 0, 0, &d) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	*fresh = d == 1;
out:
	PQclear(res);
	return r;
}

int
db_vault_safe_ensure(struct db_conn *c, long long op_id, const char *ref,
    const char *name, const struct seal_blob *dek, const char *dek_key_id,
    int *created)
{
	PGresult *res = NULL;
	const char *vals[5];
	int lens[5], fmts[5];
	char id[24];
	int r;

	*created = 0;
	snprintf(id, sizeof(id), "%lld", op_id);
	memset(lens, 0, sizeof(lens));
	memset(fmts, 0, sizeof(fmts));
	vals[0] = ref;
	vals[1] = name;
	vals[2] = (const char *)dek->data;
	lens[2] = (int)dek->len;
	fmts[2] = 1;
	vals[3] = dek_key_id;
	vals[4] = id;
	/* an existing safe keeps its data key: its secrets stay readable */
	if ((r = db_exec_full(c, "INSERT INTO vault.safe "
	    "(ref, name, state, dek, dek_key_id, last_op) "
	    "VALUES ($1::uuid, $2, 'active', $3::bytea, $4, $5::bigint) "
	    "ON CONFLICT (ref) DO UPDATE SET name = EXCLUDED.name, "
	    "state = 'active', frozen_at = NULL, last_op = EXCLUDED.last_op "
	    "RETURNING (xmax::text = '0')", 5, vals, lens, fmts, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_INTERNAL;
		goto out;
	}
	*created = col_true(res, 0, 0);
out:
	PQclear(res);
	return r;
}

int
db_vault_safe_freeze(struct db_conn *c, long long op_id, const char *ref)
{
	const char *vals[2];
	char id[24];
	int r;

	snprintf(id, sizeof(id), "%lld", op_id);
	vals[0] = ref;
	vals[1] = id;
	/* the UPDATE locks the row first: a member_set waiting on its FOR
	 * SHARE sees the safe frozen afterwards */
	if ((r = db_exec_cmd(c, "UPDATE vault.safe SET state = 'frozen', "
	    "frozen_at = coalesce(frozen_at, now()), last_op = $2::bigint "
	    "WHERE ref = $1::uuid", 2, vals)) != 0)
		return r;
	return db_exec_cmd(c, "DELETE FROM vault.member "
	    "WHERE safe_ref = $1::uuid", 1, vals);
}

int
db_vault_safe_purge(struct db_conn *c, const char *ref, int *purged)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	*purged = 0;
	vals[0] = ref;
	if ((r = db_exec(c, "DELETE FROM vault.safe "
	    "WHERE ref = $1::uuid AND state = 'frozen'", 1, vals,
	    &res)) != 0)
		goto out;
	*purged = db_cmd_rows(res) > 0;
out:
	PQclear(res);
	return r;
}

int
db_vault_safe_lock(struct db_conn *c, const char *ref, int *active)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	*active = 0;
	vals[0] = ref;
	if ((r = db_exec(c, "SELECT state = 'active' FROM vault.safe "
	    "WHERE ref = $1::uuid FOR SHARE", 1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	*active = col_true(res, 0, 0);
out:
	PQclear(res);
	return r;
}

int
db_vault_member_set(struct db_conn *c, const char *safe_ref,
    const char *user_ref, const char *user_name, unsigned perms)
{
	const char *vals[4];
	char pm[16];

	snprintf(pm, sizeof(pm), "%u", perms);
	vals[0] = safe_ref;
	vals[1] = user_ref;
	vals[2] = user_name;
	vals[3] = pm;
	return db_exec_cmd(c, "INSERT INTO vault.member "
	    "(safe_ref, user_ref, user_name, perms) "
	    "VALUES ($1::uuid, $2::uuid, $3, $4::integer) "
	    "ON CONFLICT (safe_ref, user_ref) DO UPDATE SET "
	    "user_name = EXCLUDED.user_name, perms = EXCLUDED.perms, "
	    "updated = now()", 4, vals);
}

/*
 * Safes are locked FOR SHARE first, in ref order (a freeze or purge of
 * one waits, as with db_vault_safe_lock); the ledger rows go in in array
 * order (seq); only ops whose ledger row is new have an effect. A
 * member_set whose safe is missing has none and is counted: the caller
 * rolls the transaction back (db_vault_members_apply).
 */
static const char members_apply_sql[] =
	"WITH o AS (SELECT * FROM unnest($1::bigint[], $2::boolean[], "
	"$3::uuid[], $4::uuid[], $5::text[], $6::integer[]) WITH ORDINALITY "
	"AS t(op_id, set, safe_ref, user_ref, user_name, perms, n)), "
	"s AS (SELECT ref, state = 'active' AS active FROM vault.safe "
	"WHERE ref IN (SELECT safe_ref FROM o) ORDER BY ref FOR SHARE), "
	"rec AS (INSERT INTO vault.applied_op "
	"(op_id, op, safe_ref, user_ref, perms) "
	"SELECT op_id, CASE WHEN set THEN 'member_set' "
	"ELSE 'member_remove' END, safe_ref, user_ref, "
	"CASE WHEN set THEN perms END FROM o ORDER BY n "
	"ON CONFLICT (op_id) DO UPDATE "
	"SET deliveries = vault.applied_op.deliveries + 1 "
	"RETURNING op_id, deliveries = 1 AS fresh), "
	"f AS (SELECT o.*, s.active FROM o JOIN rec USING (op_id) "
	"LEFT JOIN s ON s.ref = o.safe_ref WHERE rec.fresh), "
	"ins AS (INSERT INTO vault.member "
	"(safe_ref, user_ref, user_name, perms) "
	"SELECT safe_ref, user_ref, user_name, perms FROM f "
	"WHERE set AND active "
	"ON CONFLICT (safe_ref, user_ref) DO UPDATE SET "
	"user_name = EXCLUDED.user_name, perms = EXCLUDED.perms, "
	"updated = now() RETURNING 1), "
	"del AS (DELETE FROM vault.member m USING f "
	"WHERE NOT f.set AND m.safe_ref = f.safe_ref "
	"AND m.user_ref = f.user_ref RETURNING 1) "
	"SELECT (SELECT count(*) FROM rec WHERE NOT fresh), "
	"(SELECT count(*) FROM f WHERE set AND active IS FALSE), "
	"(SELECT count(*) FROM f WHERE set AND active IS NULL), "
	"(SELECT count(*) FROM ins) + (SELECT count(*) FROM del)";

/* An array literal element: double-quoted, '"' and '\' escaped. */
static void
array_elem(struct buf *b, const char *s, int quote)
{
	if (b->len > 1)
		buf_putc(b, ',');
	if (!quote) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

int
db_vault_members_apply(struct db_conn *c, const struct db_vault_member_op *ops,
    size_t n, struct db_vault_members_result *out)
{
	struct buf a[6];
	PGresult *res = NULL;
	const char *vals[6];
	char num[24];
	uint64_t v[3];
	size_t i, j, k;
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < 6; k++) {
		buf_init(&a[k], (n + 1) * (VAULT_USER_NAME_MAX * 2 + 48) + 2);
		buf_putc(&a[k], '{');
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(ops[i].safe_ref, ops[j].safe_ref) == 0 &&
			    strcmp(ops[i].user_ref, ops[j].user_ref) == 0) {
				r = ERR_INVALID;
				goto out;
			}
		snprintf(num, sizeof(num), "%lld", ops[i].op_id);
		array_elem(&a[0], num, 0);
		array_elem(&a[1], ops[i].set ? "t" : "f", 0);
		array_elem(&a[2], ops[i].safe_ref, 1);
		array_elem(&a[3], ops[i].user_ref, 1);
		if (ops[i].set && ops[i].user_name != NULL)
			array_elem(&a[4], ops[i].user_name, 1);
		else
			array_elem(&a[4], "NULL", 0);
		snprintf(num, sizeof(num), "%d", ops[i].perms);
		array_elem(&a[5], ops[i].set ? num : "NULL", 0);
	}
	for (k = 0; k < 6; k++) {
		buf_putc(&a[k], '}');
		if (buf_failed(&a[k])) {
			r = ERR_ALLOC;
			goto out;
		}
		vals[k] = buf_str(&a[k]);
	}
	if ((r = db_exec(c, members_apply_sql, 6, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 ||
	    parse_u64(PQgetvalue(res, 0, 0), 0, UINT32_MAX, &v[0]) != 0 ||
	    parse_u64(PQgetvalue(res, 0, 1), 0, UINT32_MAX, &v[1]) != 0 ||
	    parse_u64(PQgetvalue(res, 0, 2), 0, UINT32_MAX, &v[2]) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	out->again = (unsigned)v[0];
	out->frozen = (unsigned)v[1];
	out->no_safe = (unsigned)v[2];
	if (out->no_safe > 0)
		r = ERR_NOT_FOUND;
out:
	PQclear(res);
	for (k = 0; k < 6; k++)
		buf_free(&a[k]);
	return r;
}

int
db_vault_member_remove(struct db_conn *c, const char *safe_ref,
    const char *user_ref)
{
	const char *vals[2];

	vals[0] = safe_ref;
	vals[1] = user_ref;
	return db_exec_cmd(c, "DELETE FROM vault.member "
	    "WHERE safe_ref = $1::uuid AND user_ref = $2::uuid", 2, vals);
}

int
db_vault_sessions_end(struct db_conn *c, const char *user_ref,
    unsigned *ended)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	*ended = 0;
	vals[0] = user_ref;
	if ((r = db_exec(c, "UPDATE vault.session SET ended = now() "
	    "WHERE user_ref = $1::uuid AND ended IS NULL", 1, vals,
	    &res)) != 0)
		goto out;
	*ended = (unsigned)db_cmd_rows(res);
out:
	PQclear(res);
	return r;
}

int
db_vault_safe_list(struct db_conn *c, struct vault_safe **out, size_t *n)
{
	struct vault_safe *s = NULL;
	PGresult *res = NULL;
	int i, nt, r;

	*out = NULL;
	*n = 0;
	if ((r = db_exec(c, "SELECT ref, name, state = 'frozen' "
	    "FROM vault.safe ORDER BY lower(name), ref", 0, NULL,
	    &res)) != 0)
		goto out;
	nt = PQntuples(res);
	if (nt > 0 && (s = calloc((size_t)nt, sizeof(*s))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if ((r = copy_col(res, i, 0, s[i].ref, sizeof(s[i].ref))) !=
		    0 || (r = copy_col(res, i, 1, s[i].name,
		    sizeof(s[i].name))) != 0)
			goto out;
		s[i].frozen = col_true(res, i, 2);
	}
	*out = s;
	*n = (size_t)nt;
	s = NULL;
	r = 0;
out:
	free(s);
	PQclear(res);
	return r;
}

int
db_vault_member_list(struct db_conn *c, const char *safe_ref,
    struct vault_member **out, size_t *n)
{
	struct vault_member *m = NULL;
	PGresult *res = NULL;
	const char *vals[1];
	long long pm;
	int i, nt, r, k = 0;

	*out = NULL;
	*n = 0;
	vals[0] = safe_ref;
	/* one row for the safe itself (user_ref NULL) tells it exists */
	if ((r = db_exec(c, "SELECT m.user_ref, m.user_name, m.perms "
	    "FROM vault.safe s LEFT JOIN vault.member m "
	    "ON m.safe_ref = s.ref WHERE s.ref = $1::uuid "
	    "ORDER BY m.user_name, m.user_ref", 1, vals, &res)) != 0)
		goto out;
	nt = PQntuples(res);
	if (nt == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((m = calloc((size_t)nt, sizeof(*m))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if (PQgetisnull(res, i, 0))
			continue;
		if ((r = copy_col(res, i, 0, m[k].user_ref,
		    sizeof(m[k].user_ref))) != 0 || (r = copy_col(res, i, 1,
		    m[k].user_name, sizeof(m[k].user_name))) != 0 ||
		    (r = col_ll(res, i, 2, &pm)) != 0)
			goto out;
		m[k].perms = (unsigned)pm;
		k++;
	}
	if (k == 0) {
		free(m);
		m = NULL;
	}
	*out = m;
	*n = (size_t)k;
	m = NULL;
	r = 0;
out:
	free(m);
	PQclear(res);
	return r;
}

int
db_vault_account_put(struct db_conn *c, const char *safe_name,
    const struct vault_account *a, int *created)
{
	PGresult *res = NULL;
	const char *vals[4];
	int r;

	*created = 0;
	vals[0] = safe_name;
	vals[1] = a->name;
	vals[2] = a->address;
	vals[3] = a->username;
	if ((r = db_exec(c, "INSERT INTO vault.account "
	    "(safe_ref, name, address, username) "
	    "SELECT s.ref, $2, $3, $4 FROM vault.safe s WHERE " ACTIVE_SAFE
	    " ON CONFLICT (safe_ref, lower(name)) DO UPDATE SET "
	    "address = EXCLUDED.address, username = EXCLUDED.username "
	    "RETURNING (xmax::text = '0')", 4, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	*created = col_true(res, 0, 0);
out:
	PQclear(res);
	return r;
}

int
db_vault_account_list(struct db_conn *c, const char *safe_name,
    struct vault_account **out, size_t *n)
{
	struct vault_account *a = NULL;
	PGresult *res = NULL;
	const char *vals[1];
	int i, nt, r, k = 0;

	*out = NULL;
	*n = 0;
	vals[0] = safe_name;
	if ((r = db_exec(c, "SELECT a.name, a.address, a.username, "
	    "a.secret_version, coalesce(to_char(a.secret_updated "
	    "AT TIME ZONE 'UTC', " TS_FMT "), '') "
	    "FROM vault.safe s LEFT JOIN vault.account a "
	    "ON a.safe_ref = s.ref WHERE " ACTIVE_SAFE
	    " ORDER BY lower(a.name)", 1, vals, &res)) != 0)
		goto out;
	nt = PQntuples(res);
	if (nt == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((a = calloc((size_t)nt, sizeof(*a))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if (PQgetisnull(res, i, 0))
			continue;
		if ((r = copy_col(res, i, 0, a[k].name,
		    sizeof(a[k].name))) != 0 || (r = copy_col(res, i, 1,
		    a[k].address, sizeof(a[k].address))) != 0 ||
		    (r = copy_col(res, i, 2, a[k].username,
		    sizeof(a[k].username))) != 0 || (r = col_ll(res, i, 3,
		    &a[k].secret_version)) != 0 || (r = copy_col(res, i, 4,
		    a[k].secret_updated, sizeof(a[k].secret_updated))) != 0)
			goto out;
		k++;
	}
	if (k == 0) {
		free(a);
		a = NULL;
	}
	*out = a;
	*n = (size_t)k;
	a = NULL;
	r = 0;
out:
	free(a);
	PQclear(res);
	return r;
}

int
db_vault_account_delete(struct db_conn *c, const char *safe_name,
    const char *account)
{
	PGresult *res = NULL;
	const char *vals[2];
	int r;

	vals[0] = safe_name;
	vals[1] = account;
	if ((r = db_exec(c, "DELETE FROM vault.account a USING vault.safe s "
	    "WHERE a.safe_ref = s.ref AND " ACTIVE_SAFE
	    " AND lower(a.name) = lower($2)", 2, vals, &res)) != 0)
		goto out;
	if (db_cmd_rows(res) == 0)
		r = ERR_NOT_FOUND;
out:
	PQclear(res);
	return r;
}

void
db_vault_secret_clear(struct db_vault_secret *s)
{
	if (s == NULL)
		return;
	seal_blob_free(&s->dek);
	seal_blob_free(&s->secret);
}

int
db_vault_secret_lock(struct db_conn *c, const char *safe_name,
    const char *account, struct db_vault_secret *out)
{
	PGresult *res = NULL;
	const char *vals[2];
	int r;

	memset(out, 0, sizeof(*out));
	vals[0] = safe_name;
	vals[1] = account;
	if ((r = db_exec(c, "SELECT s.ref, a.id, encode(s.dek, 'hex') "
	    "FROM vault.safe s JOIN vault.account a ON a.safe_ref = s.ref "
	    "WHERE " ACTIVE_SAFE " AND lower(a.name) = lower($2) "
	    "FOR UPDATE OF a", 2, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((r = copy_col(res, 0, 0, out->safe_ref,
	    sizeof(out->safe_ref))) != 0 || (r = copy_col(res, 0, 1,
	    out->account_id, sizeof(out->account_id))) != 0 ||
	    (r = blob_from_hex(PQgetvalue(res, 0, 2), &out->dek)) != 0)
		goto out;
	out->active = 1;
	out->have_account = 1;
out:
	PQclear(res);
	if (r != 0)
		db_vault_secret_clear(out);
	return r;
}

int
db_vault_secret_store(struct db_conn *c, const char *account_id,
    const struct seal_blob *ct, long long *version)
{
	PGresult *res = NULL;
	const char *vals[2];
	int lens[2], fmts[2];
	int r;

	*version = 0;
	vals[0] = account_id;
	vals[1] = (const char *)ct->data;
	lens[0] = 0;
	fmts[0] = 0;
	lens[1] = (int)ct->len;
	fmts[1] = 1;
	if ((r = db_exec_full(c, "UPDATE vault.account SET secret = $2::bytea, "
	    "secret_version = secret_version + 1, secret_updated = now() "
	    "WHERE id = $1::uuid RETURNING secret_version", 2, vals, lens,
	    fmts, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = col_ll(res, 0, 0, version);
out:
	PQclear(res);
	return r;
}

int
db_vault_secret_read(struct db_conn *c, const char *safe_name,
    const char *account, const char *user_ref, struct db_vault_secret *out)
{
	PGresult *res = NULL;
	const char *vals[3];
	long long pm;
	int r;

	memset(out, 0, sizeof(*out));
	vals[0] = safe_name;
	vals[1] = account;
	vals[2] = user_ref;
	if ((r = db_exec(c, "SELECT s.ref, s.state = 'active', "
	    "encode(s.dek, 'hex'), m.perms IS NOT NULL, coalesce(m.perms, 0), "
	    "a.id IS NOT NULL, coalesce(a.id::text, ''), "
	    "coalesce(encode(a.secret, 'hex'), ''), "
	    "coalesce(a.secret_version, 0) "
	    "FROM vault.safe s "
	    "LEFT JOIN vault.member m ON m.safe_ref = s.ref "
	    "AND m.user_ref = $3::uuid "
	    "LEFT JOIN vault.account a ON a.safe_ref = s.ref "
	    "AND lower(a.name) = lower($2) "
	    "WHERE lower(s.name) = lower($1) "
	    "ORDER BY s.state = 'active' DESC, s.frozen_at DESC LIMIT 1",
	    3, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((r = copy_col(res, 0, 0, out->safe_ref,
	    sizeof(out->safe_ref))) != 0 || (r = blob_from_hex(
	    PQgetvalue(res, 0, 2), &out->dek)) != 0 || (r = col_ll(res, 0, 4,
	    &pm)) != 0 || (r = copy_col(res, 0, 6, out->account_id,
	    sizeof(out->account_id))) != 0 || (r = blob_from_hex(
	    PQgetvalue(res, 0, 7), &out->secret)) != 0 || (r = col_ll(res, 0,
	    8, &out->version)) != 0)
		goto out;
	out->active = col_true(res, 0, 1);
	out->member = col_true(res, 0, 3);
	out->perms = (unsigned)pm;
	out->have_account = col_true(res, 0, 5);
out:
	PQclear(res);
	if (r != 0)
		db_vault_secret_clear(out);
	return r;
}

int
db_vault_access_record(struct db_conn *c, const char *safe_ref,
    const char *account_id, const char *user_ref, const char *request_id,
    long long version)
{
	const char *vals[5];
	char ver[24];

	snprintf(ver, sizeof(ver), "%lld", version);
	vals[0] = safe_ref;
	vals[1] = account_id;
	vals[2] = user_ref;
	vals[3] = request_id;
	vals[4] = ver;
	return db_exec_cmd(c, "WITH s AS (INSERT INTO vault.session "
	    "(user_ref, safe_ref, account_id) "
	    "VALUES ($3::uuid, $1::uuid, $2::uuid) RETURNING id) "
	    "INSERT INTO vault.access_log (safe_ref, account_id, user_ref, "
	    "action, request_id, secret_version, session_id) "
	    "SELECT $1::uuid, $2::uuid, $3::uuid, 'retrieve', $4, "
	    "$5::bigint, s.id FROM s", 5, vals);
}

void
db_vault_dek_free(struct db_vault_dek *d, size_t n)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < n; i++)
		seal_blob_free(&d[i].dek);
	free(d);
}

static int
read_dek(PGresult *res, int i, struct db_vault_dek *d)
{
	int r;

	if ((r = copy_col(res, i, 0, d->key_id, sizeof(d->key_id))) != 0 ||
	    (r = copy_col(res, i, 1, d->safe_name,
	    sizeof(d->safe_name))) != 0)
		return r;
	return blob_from_hex(PQgetvalue(res, i, 2), &d->dek);
}

int
db_vault_dek_by_key(struct db_conn *c, struct db_vault_dek **out, size_t *n)
{
	struct db_vault_dek *d = NULL;
	PGresult *res = NULL;
	int i, nt = 0, r;

	*out = NULL;
	*n = 0;
	if ((r = db_exec(c, "SELECT DISTINCT ON (dek_key_id) dek_key_id, "
	    "name, encode(dek, 'hex') FROM vault.safe "
	    "ORDER BY dek_key_id, created, ref", 0, NULL, &res)) != 0)
		goto out;
	nt = PQntuples(res);
	if (nt > 0 && (d = calloc((size_t)nt, sizeof(*d))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if ((r = read_dek(res, i, &d[i])) != 0)
			goto out;
	}
	*out = d;
	*n = (size_t)nt;
	d = NULL;
	r = 0;
out:
	db_vault_dek_free(d, (size_t)nt);
	PQclear(res);
	return r;
}

int
db_vault_dek_next(struct db_conn *c, const char *key_id,
    char ref[VAULT_REF_LEN + 1], struct db_vault_dek *out)
{
	PGresult *res = NULL;
	const char *vals[1];
	char tmp[VAULT_REF_LEN + 1];
	int r;

	memset(out, 0, sizeof(*out));
	ref[0] = '\0';
	vals[0] = key_id;
	if ((r = db_exec(c, "SELECT dek_key_id, name, encode(dek, 'hex'), "
	    "ref FROM vault.safe WHERE dek_key_id <> $1 ORDER BY ref "
	    "LIMIT 1 FOR UPDATE SKIP LOCKED", 1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((r = copy_col(res, 0, 3, tmp, sizeof(tmp))) != 0 ||
	    (r = read_dek(res, 0, out)) != 0)
		goto out;
	memcpy(ref, tmp, sizeof(tmp));
out:
	PQclear(res);
	return r;
}

int
db_vault_dek_store(struct db_conn *c, const char *ref,
    const struct seal_blob *dek, const char *key_id)
{
	PGresult *res = NULL;
	const char *vals[3];
	int lens[3], fmts[3];
	int r;

	memset(lens, 0, sizeof(lens));
	memset(fmts, 0, sizeof(fmts));
	vals[0] = ref;
	vals[1] = (const char *)dek->data;
	lens[1] = (int)dek->len;
	fmts[1] = 1;
	vals[2] = key_id;
	if ((r = db_exec_full(c, "UPDATE vault.safe SET dek = $2::bytea, "
	    "dek_key_id = $3 WHERE ref = $1::uuid", 3, vals, lens, fmts,
	    &res)) != 0)
		goto out;
	if (db_cmd_rows(res) != 1)
		r = ERR_NOT_FOUND;
out:
	PQclear(res);
	return r;
}

int
db_vault_dek_count(struct db_conn *c, const char *key_id, unsigned *current,
    unsigned *other)
{
	PGresult *res = NULL;
	const char *vals[1];
	long long a, b;
	int r;

	*current = 0;
	*other = 0;
	vals[0] = key_id;
	if ((r = db_exec(c, "SELECT count(*) FILTER (WHERE dek_key_id = $1), "
	    "count(*) FILTER (WHERE dek_key_id <> $1) FROM vault.safe", 1,
	    vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 || col_ll(res, 0, 0, &a) != 0 ||
	    col_ll(res, 0, 1, &b) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	*current = (unsigned)a;
	*other = (unsigned)b;
out:
	PQclear(res);
	return r;
}
