#ifndef VB_DB_INT_H
#define VB_DB_INT_H

/*
 * Internal to src/db/: the connection behind struct db_conn and the
 * statement helpers every store uses. libpq types stay in this folder.
 */

#include <stddef.h>

#include <libpq-fe.h>

#include "db/scim_store.h"
#include "util/buf.h"
#include "util/errors.h"

struct db_conn {
	PGconn *pg;		/* NULL until connected */
	int broken;		/* close on release, reconnect on acquire */
	int in_use;
	char sqlstate[6];	/* of the last failed statement, or "" */
};

/*
 * Run sql with n text parameters (vals[i] NULL = SQL NULL); lens/fmts
 * may be NULL (all text) or give binary parameters as for PQexecParams.
 * On success *resp holds a result of status COMMAND_OK or TUPLES_OK,
 * which the caller PQclear()s. Errors: ERR_CONFLICT (unique violation),
 * ERR_DB_UNAVAILABLE (connection lost, timeout, serialization failure,
 * server shutting down, out of resources: the connection is marked
 * broken when it cannot be used again), ERR_INTERNAL (anything else;
 * c->sqlstate tells what). Nothing from a parameter is logged.
 */
int db_exec_full(struct db_conn *c, const char *sql, int n,
    const char *const *vals, const int *lens, const int *fmts,
    PGresult **resp) WUR;

/* db_exec_full with text parameters. */
int db_exec(struct db_conn *c, const char *sql, int n,
    const char *const *vals, PGresult **resp) WUR;

/* Same, for statements whose result is not needed. */
int db_exec_cmd(struct db_conn *c, const char *sql, int n,
    const char *const *vals) WUR;

/* Run a script of several statements without parameters (migrations);
 * the last statement's result is dropped. Errors as db_exec_full. */
int db_exec_script(struct db_conn *c, const char *sql) WUR;

/* Number of rows a command touched (PQcmdTuples), 0 if not a count. */
unsigned long long db_cmd_rows(PGresult *res);

/* 1 if the last failed statement's SQLSTATE starts with class (2 chars). */
int db_sqlstate_class(const struct db_conn *c, const char *cls);

/* 1 if s is a uuid in 8-4-4-4-12 hex form (either case). */
int db_id_ok(const char *s);

/*
 * Rows of scim_user / scim_group: the select list for alias "r" (id, doc,
 * created, last_modified, version, and members or groups per flags) and
 * the reader of one result row in that layout. Shared by scim_store.c
 * and scim_query.c.
 */
const char *db_scim_table(enum scim_rtype rt);
void db_scim_select_list(struct buf *b, enum scim_rtype rt, unsigned flags);
int db_scim_read_row(PGresult *res, int i, enum scim_rtype rt,
    unsigned flags, struct db_row *out) WUR;

#endif
