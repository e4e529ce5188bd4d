#ifndef VB_DB_AUDIT_STORE_H
#define VB_DB_AUDIT_STORE_H

#include <stddef.h>

#include "util/errors.h"

/*
 * The audit trail (bridge database, table audit_event from
 * sql/0005_user_tokens_audit.sql): one row per privileged decision,
 * written on the caller's connection and transaction, so that the
 * record commits or rolls back with the change it describes. Rows are
 * append-only. A record never holds a secret: detail carries names,
 * versions, reasons and error codes only.
 */

struct db_conn;

#define DB_AUDIT_ACTION_MAX 64 /* [a-z][a-z0-9_.]* */
#define DB_AUDIT_TARGET_MAX 1024
#define DB_AUDIT_DETAIL_MAX (16 * 1024) /* JSON text, bytes */

enum db_audit_decision {
	DB_AUDIT_ALLOW, /* done / handed out */
	DB_AUDIT_DENY,  /* refused: not permitted */
	DB_AUDIT_ERROR  /* failed: not found, invalid, backend */
};

struct db_audit_event {
	const char *actor;       /* token name, 1..TOKEN_NAME_MAX bytes */
	const char *actor_token; /* token id (16 hex) or NULL */
	const char *actor_user;  /* SCIM User id (uuid) or NULL / "" */
	const char *action;      /* "vault.secret.retrieve", ... */
	const char *target;      /* "safe/<name>/account/<name>", ... */
	enum db_audit_decision decision;
	const char *request_id; /* or NULL */
	const char *detail;     /* a JSON object as text, or NULL for {} */
};

/* "allow", "deny", "error"; static storage. */
const char *db_audit_decision_name(enum db_audit_decision d);

/*
 * Append one event on c (inside the caller's transaction, if any).
 * *id (may be NULL) gets the event's id. 0, ERR_INVALID (a field out
 * of bounds or not UTF-8, detail not a JSON object), ERR_DB_UNAVAILABLE
 * or ERR_INTERNAL.
 */
int db_audit_write(
    struct db_conn *c, const struct db_audit_event *ev, long long *id) WUR;

#endif
