#include "db/audit_store.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_int.h"
#include "util/bounds.h"
#include "util/strutil.h"

const char *
db_audit_decision_name(enum db_audit_decision d)
{
	switch (d) {
	case DB_AUDIT_ALLOW:
		return "allow";
	case DB_AUDIT_DENY:
		return "deny";
	case DB_AUDIT_ERROR:
		return "error";
	}
	return "error";
}

/* 1 if s is NULL-or-"" (when optional) or 1..max bytes of UTF-8. */
static int
audit_str_ok(const char *s, size_t max, int optional)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return optional;
	n = strnlen(s, max + 1);
	return n <= max && utf8_valid(s, n);
}

static int
audit_action_ok(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= DB_AUDIT_ACTION_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '.'))
			return 0;
	}
	return 1;
}

int
db_audit_write(
    struct db_conn *c, const struct db_audit_event *ev, long long *id)
{
	const char *vals[8];
	PGresult *res = NULL;
	uint64_t v;
	int r;

	if (id != NULL)
		*id = 0;
	if (ev == NULL || !audit_str_ok(ev->actor, TOKEN_NAME_MAX, 0) ||
	    !audit_str_ok(ev->actor_token, 16, 1) ||
	    (ev->actor_user != NULL && ev->actor_user[0] != '\0' &&
		!str_is_uuid(ev->actor_user)) ||
	    !audit_action_ok(ev->action) || ev->target == NULL ||
	    !audit_str_ok(ev->target, DB_AUDIT_TARGET_MAX, 1) ||
	    !audit_str_ok(ev->request_id, REQUEST_ID_LEN, 1) ||
	    !audit_str_ok(ev->detail, DB_AUDIT_DETAIL_MAX, 1) ||
	    (ev->detail != NULL && ev->detail[0] != '\0' &&
		ev->detail[0] != '{'))
		return ERR_INVALID;
	vals[0] = ev->actor;
	vals[1] = ev->actor_token != NULL && ev->actor_token[0] != '\0'
	    ? ev->actor_token
	    : NULL;
	vals[2] = ev->actor_user != NULL && ev->actor_user[0] != '\0'
	    ? ev->actor_user
	    : NULL;
	vals[3] = ev->action;
	vals[4] = ev->target;
	vals[5] = db_audit_decision_name(ev->decision);
	vals[6] = ev->request_id != NULL && ev->request_id[0] != '\0'
	    ? ev->request_id
	    : NULL;
	vals[7] =
	    ev->detail != NULL && ev->detail[0] != '\0' ? ev->detail : "{}";
	r = db_exec(c,
	    "INSERT INTO audit_event (actor, actor_token, "
	    "actor_user, action, target, decision, request_id, detail) "
	    "VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8::jsonb) "
	    "RETURNING id",
	    8, vals, &res);
	if (r == ERR_INTERNAL &&
	    (db_sqlstate_class(c, "22") || db_sqlstate_class(c, "23")))
		r = ERR_INVALID; /* bad JSON text, a check constraint */
	if (r != 0)
		goto out;
	if (PQntuples(res) != 1 ||
	    parse_u64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &v) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	if (id != NULL)
		*id = (long long)v;
	r = 0;
out:
	PQclear(res);
	return r;
}
