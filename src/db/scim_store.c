#include "db/scim_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "db/pool.h"
#include "db_int.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

/* Statement text is assembled from the fixed fragments below only. */
#define STMT_MAX	8192

/* xsd:dateTime in UTC with milliseconds (RFC 7643 §2.3.5) */
#define TS_FMT	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

/*
 * Members of group r as [{"value","type","display"}]; display is the
 * member's userName (User) or displayName (Group).
 */
#define MEMBERS_SQL \
	", (SELECT coalesce(json_agg(json_strip_nulls(json_build_object(" \
	"'value', m.member_id, 'type', m.member_type, 'display', " \
	"coalesce(mu.doc->>'userName', mg.doc->>'displayName'))) " \
	"ORDER BY m.member_id), '[]')::text " \
	"FROM scim_group_member m " \
	"LEFT JOIN scim_user mu ON m.member_type = 'User' " \
	"AND mu.id = m.member_id " \
	"LEFT JOIN scim_group mg ON m.member_type = 'Group' " \
	"AND mg.id = m.member_id " \
	"WHERE m.group_id = r.id)"

/* Groups that user r is a direct member of. */
#define GROUPS_SQL \
	", (SELECT coalesce(json_agg(json_strip_nulls(json_build_object(" \
	"'value', m.group_id, 'display', g.doc->>'displayName', " \
	"'type', 'direct')) ORDER BY m.group_id), '[]')::text " \
	"FROM scim_group_member m JOIN scim_group g ON g.id = m.group_id " \
	"WHERE m.member_id = r.id)"

/* Bumps for update/touch: lastModified never goes backwards. */
#define BUMP_SQL \
	"version = r.version + 1, last_modified = " \
	"greatest(date_trunc('milliseconds', now()), r.last_modified)"

void
db_row_clear(struct db_row *r)
{
	if (r == NULL)
		return;
	free(r->doc);
	free(r->members);
	free(r->groups);
	memset(r, 0, sizeof(*r));
}

const char *
db_scim_table(enum scim_rtype rt)
{
	return rt == SCIM_RT_GROUP ? "scim_group" : "scim_user";
}

static int
want_members(enum scim_rtype rt, unsigned flags)
{
	return rt == SCIM_RT_GROUP && (flags & DB_F_MEMBERS) != 0;
}

static int
want_groups(enum scim_rtype rt, unsigned flags)
{
	return rt == SCIM_RT_USER && (flags & DB_F_GROUPS) != 0;
}

void
db_scim_select_list(struct buf *b, enum scim_rtype rt, unsigned flags)
{
	buf_puts(b, "r.id::text, r.doc::text, "
	    "to_char(r.created AT TIME ZONE 'UTC', " TS_FMT "), "
	    "to_char(r.last_modified AT TIME ZONE 'UTC', " TS_FMT "), "
	    "r.version");
	if (want_members(rt, flags))
		buf_puts(b, MEMBERS_SQL);
	else if (want_groups(rt, flags))
		buf_puts(b, GROUPS_SQL);
}

int
db_scim_read_row(PGresult *res, int i, enum scim_rtype rt, unsigned flags,
    struct db_row *out)
{
	const char *id, *v;
	uint64_t ver;
	char **extra = NULL;
	int r = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (PQnfields(res) < 5)
		goto out;
	id = PQgetvalue(res, i, 0);
	if (strlen(id) != SCIM_ID_LEN)
		goto out;
	memcpy(out->id, id, SCIM_ID_LEN + 1);
	snprintf(out->created, sizeof(out->created), "%s",
	    PQgetvalue(res, i, 2));
	snprintf(out->last_modified, sizeof(out->last_modified), "%s",
	    PQgetvalue(res, i, 3));
	if (parse_u64(PQgetvalue(res, i, 4), 0, INT64_MAX, &ver) != 0)
		goto out;
	out->version = (long long)ver;
	r = ERR_ALLOC;
	if ((out->doc = strdup(PQgetvalue(res, i, 1))) == NULL)
		goto out;
	if (want_members(rt, flags))
		extra = &out->members;
	else if (want_groups(rt, flags))
		extra = &out->groups;
	if (extra != NULL) {
		v = PQnfields(res) > 5 ? PQgetvalue(res, i, 5) : "[]";
		if ((*extra = strdup(v)) == NULL)
			goto out;
	}
	r = 0;
out:
	if (r != 0)
		db_row_clear(out);
	return r;
}

/* Run a statement returning at most one row in the db_row layout. */
static int
row_stmt(struct db_conn *c, enum scim_rtype rt, unsigned flags,
    const char *sql, int n, const char *const *vals, struct db_row *out)
{
	PGresult *res = NULL;
	int r;

	if ((r = db_exec(c, sql, n, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = db_scim_read_row(res, 0, rt, flags, out);
out:
	PQclear(res);
	return r;
}

int
db_scim_insert(struct db_conn *c, enum scim_rtype rt, const char *doc,
    struct db_row *out)
{
	struct buf b;
	const char *vals[1];
	int r;

	memset(out, 0, sizeof(*out));
	buf_init(&b, STMT_MAX);
	buf_printf(&b, "INSERT INTO %s AS r (doc) VALUES ($1::jsonb) "
	    "RETURNING ", db_scim_table(rt));
	db_scim_select_list(&b, rt, 0);
	if (buf_failed(&b)) {
		r = ERR_ALLOC;
		goto out;
	}
	vals[0] = doc;
	r = row_stmt(c, rt, 0, buf_str(&b), 1, vals, out);
	if (r == ERR_NOT_FOUND)
		r = ERR_INTERNAL;
out:
	buf_free(&b);
	return r;
}

int
db_scim_get(struct db_conn *c, enum scim_rtype rt, const char *id,
    unsigned flags, struct db_row *out)
{
	struct buf b;
	const char *vals[1];
	int r;

	memset(out, 0, sizeof(*out));
	if (!db_id_ok(id))
		return ERR_NOT_FOUND;
	buf_init(&b, STMT_MAX);
	buf_puts(&b, "SELECT ");
	db_scim_select_list(&b, rt, flags);
	buf_printf(&b, " FROM %s r WHERE r.id = $1::uuid", db_scim_table(rt));
	if (flags & DB_F_FOR_UPDATE)
		buf_puts(&b, " FOR UPDATE OF r");
	if (buf_failed(&b)) {
		r = ERR_ALLOC;
		goto out;
	}
	vals[0] = id;
	r = row_stmt(c, rt, flags, buf_str(&b), 1, vals, out);
out:
	buf_free(&b);
	return r;
}

/*
 * Bump version and lastModified, and replace the document when doc is
 * not NULL (a NULL parameter keeps the stored one): update and touch are
 * one statement.
 */
static int
update_row(struct db_conn *c, enum scim_rtype rt, const char *id,
    const char *doc, struct db_row *out)
{
	struct buf b;
	const char *vals[2];
	int r;

	memset(out, 0, sizeof(*out));
	if (!db_id_ok(id))
		return ERR_NOT_FOUND;
	buf_init(&b, STMT_MAX);
	buf_printf(&b, "UPDATE %s AS r SET doc = coalesce($2::jsonb, r.doc), "
	    BUMP_SQL " WHERE r.id = $1::uuid RETURNING ", db_scim_table(rt));
	db_scim_select_list(&b, rt, 0);
	if (buf_failed(&b)) {
		r = ERR_ALLOC;
		goto out;
	}
	vals[0] = id;
	vals[1] = doc;
	r = row_stmt(c, rt, 0, buf_str(&b), 2, vals, out);
out:
	buf_free(&b);
	return r;
}

int
db_scim_update(struct db_conn *c, enum scim_rtype rt, const char *id,
    const char *doc, struct db_row *out)
{
	if (doc == NULL)
		return ERR_INTERNAL;
	return update_row(c, rt, id, doc, out);
}

int
db_scim_touch(struct db_conn *c, enum scim_rtype rt, const char *id,
    struct db_row *out)
{
	return update_row(c, rt, id, NULL, out);
}

int
db_scim_delete(struct db_conn *c, enum scim_rtype rt, const char *id)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	if (!db_id_ok(id))
		return ERR_NOT_FOUND;
	vals[0] = id;
	/*
	 * The memberships of the deleted resource (as a member; as a group
	 * they cascade) go in the same statement: the AFTER DELETE trigger
	 * vb_drop_memberships (sql/0001_init.sql) takes a fresh snapshot,
	 * so it also sees memberships committed while this DELETE waited
	 * for the row lock that member inserts hold (FOR KEY SHARE on a
	 * group, FOR NO KEY UPDATE on a user).
	 */
	r = db_exec(c, rt == SCIM_RT_GROUP ?
	    "DELETE FROM scim_group WHERE id = $1::uuid" :
	    "DELETE FROM scim_user WHERE id = $1::uuid", 1, vals, &res);
	if (r == 0 && db_cmd_rows(res) == 0)
		r = ERR_NOT_FOUND;
	PQclear(res);
	return r;
}

/* "{id,id,...}" (a uuid[] literal) of the ids that pass db_id_ok. */
static int
id_array(const char *const *ids, size_t n, char **outp)
{
	struct buf b;
	size_t i;
	int first = 1;

	*outp = NULL;
	buf_init(&b, (n + 1) * (SCIM_ID_LEN + 1) + 2);
	buf_putc(&b, '{');
	for (i = 0; i < n; i++) {
		if (!db_id_ok(ids[i]))
			continue;
		if (!first)
			buf_putc(&b, ',');
		buf_puts(&b, ids[i]);
		first = 0;
	}
	buf_putc(&b, '}');
	if ((*outp = buf_steal(&b, NULL)) == NULL) {
		buf_free(&b);
		return ERR_ALLOC;
	}
	return 0;
}

/*
 * One statement checks every added id and inserts them all, or inserts
 * nothing when one is neither a User nor a Group (or is the group
 * itself): then it names the first such id in add order. Member rows are
 * locked so a concurrent delete of a member waits and its trigger then
 * sees (and removes) the new membership: Groups FOR KEY SHARE; Users FOR
 * NO KEY UPDATE in id order, the lock bump_users_sql and the outbox
 * triggers (sql/0004_sync.sql) take next anyway, so no transaction
 * upgrades a share lock on a user (two PATCHes adding one user would
 * deadlock on the upgrade) and users are locked in one order.
 */
static const char add_sql[] =
	"WITH a AS (SELECT t.x AS id, min(t.n) AS n "
	"FROM unnest($2::uuid[]) WITH ORDINALITY AS t(x, n) GROUP BY t.x), "
	"grp AS (SELECT s.id FROM scim_group s WHERE s.id = $1::uuid "
	"FOR KEY SHARE OF s), "
	"u AS (SELECT s.id, 'User'::text AS t FROM scim_user s "
	"WHERE s.id IN (SELECT id FROM a) ORDER BY s.id "
	"FOR NO KEY UPDATE OF s), "
	"g AS (SELECT s.id, 'Group'::text AS t FROM scim_group s "
	"WHERE s.id IN (SELECT id FROM a) AND s.id <> $1::uuid "
	"FOR KEY SHARE OF s), "
	"f AS (SELECT id, t FROM u UNION ALL SELECT id, t FROM g), "
	"bad AS (SELECT a.id FROM a WHERE NOT EXISTS "
	"(SELECT 1 FROM f WHERE f.id = a.id) ORDER BY a.n LIMIT 1), "
	"ins AS (INSERT INTO scim_group_member (group_id, member_id, "
	"member_type) SELECT $1::uuid, f.id, f.t FROM f "
	"WHERE NOT EXISTS (SELECT 1 FROM bad) AND EXISTS (SELECT 1 FROM grp) "
	"ON CONFLICT DO NOTHING RETURNING member_id) "
	"SELECT (SELECT count(*) FROM grp), (SELECT id::text FROM bad), "
	"(SELECT count(*) FROM ins), "
	"(SELECT coalesce(array_agg(member_id), '{}') FROM ins)";

/* Removal never touches an id that is being added. */
static const char del_sql[] =
	"WITH d AS (DELETE FROM scim_group_member m "
	"WHERE m.group_id = $1::uuid "
	"AND ($2::boolean OR m.member_id = ANY ($3::uuid[])) "
	"AND m.member_id <> ALL ($4::uuid[]) RETURNING m.member_id) "
	"SELECT (SELECT count(*) FROM d), "
	"EXISTS (SELECT 1 FROM scim_group WHERE id = $1::uuid), "
	"(SELECT coalesce(array_agg(member_id), '{}') FROM d)";

/*
 * A User's "groups" attribute is part of its representation, so a
 * membership change is a change of the User: bump its version (ETag) and
 * lastModified. Rows are locked in id order so that two member PATCHes
 * touching the same users cannot deadlock.
 */
static const char bump_users_sql[] =
	"WITH x AS (SELECT s.id FROM scim_user s "
	"WHERE s.id = ANY ($1::uuid[]) ORDER BY s.id FOR NO KEY UPDATE) "
	"UPDATE scim_user s SET version = s.version + 1, "
	"last_modified = greatest(date_trunc('milliseconds', now()), "
	"s.last_modified) FROM x WHERE s.id = x.id";

static int
bump_users(struct db_conn *c, const char *ids)
{
	PGresult *res = NULL;
	const char *vals[1];
	int r;

	if (strcmp(ids, "{}") == 0)
		return 0;
	vals[0] = ids;
	r = db_exec(c, bump_users_sql, 1, vals, &res);
	PQclear(res);
	return r;
}

int
db_group_members_apply(struct db_conn *c, const char *group_id,
    int replace_all, const char *const *add_ids, size_t nadd,
    const char *const *remove_ids, size_t nremove, int *changed,
    struct api_error *e)
{
	PGresult *res = NULL;
	const char *vals[4];
	char *add = NULL, *rem = NULL;
	const char *bad;
	size_t i;
	int r, ch = 0;

	if (changed != NULL)
		*changed = 0;
	if (!db_id_ok(group_id))
		return ERR_NOT_FOUND;
	for (i = 0; i < nadd; i++) {
		if (!db_id_ok(add_ids[i]))
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "member \"%.64s\" is not a User or Group id",
			    add_ids[i]);
	}
	if ((r = id_array(add_ids, nadd, &add)) != 0 ||
	    (r = id_array(remove_ids, nremove, &rem)) != 0)
		goto out;
	/* the statements below take id arrays: plan them once */
	db_plan_generic(c);
	vals[0] = group_id;
	if (nadd > 0) {
		vals[1] = add;
		if ((r = db_exec(c, add_sql, 2, vals, &res)) != 0)
			goto out;
		if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
			r = ERR_NOT_FOUND;
			goto out;
		}
		if (!PQgetisnull(res, 0, 1)) {
			bad = PQgetvalue(res, 0, 1);
			if (strcasecmp(bad, group_id) == 0)
				r = api_error_set(e, 400,
				    SCIM_ET_INVALID_VALUE, "a group cannot be "
				    "a member of itself");
			else
				r = api_error_set(e, 400,
				    SCIM_ET_INVALID_VALUE, "member \"%s\" is "
				    "not an existing User or Group", bad);
			goto out;
		}
		if (strcmp(PQgetvalue(res, 0, 2), "0") != 0)
			ch = 1;
		if ((r = bump_users(c, PQgetvalue(res, 0, 3))) != 0)
			goto out;
		PQclear(res);
		res = NULL;
	}
	if (replace_all || nremove > 0) {
		vals[1] = replace_all ? "true" : "false";
		vals[2] = rem;
		vals[3] = add;
		if ((r = db_exec(c, del_sql, 4, vals, &res)) != 0)
			goto out;
		if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
			r = ERR_NOT_FOUND;
			goto out;
		}
		if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
			ch = 1;
		if ((r = bump_users(c, PQgetvalue(res, 0, 2))) != 0)
			goto out;
	}
	if (changed != NULL)
		*changed = ch;
	r = 0;
out:
	PQclear(res);
	free(add);
	free(rem);
	return r;
}
