#ifndef VB_DB_INT_H
#define VB_DB_INT_H

/*
 * Internal to src/db/: the connection behind struct db_conn and the
 * statement helpers every store uses. libpq types stay in this folder.
 */

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "util/bounds.h"

#include "db/scim_store.h"
#include "util/buf.h"
#include "util/errors.h"

/*
 * Prepared statements of one connection (stmt_cache.c). The limits
 * (entries, bytes of statement text kept, the longest statement cached)
 * are in util/bounds.h; each entry also holds a plan in the server
 * process, hence a small count.
 */
#define DB_STMT_DROP_MAX	(DB_STMT_CACHE_SIZE + 1)
#define DB_STMT_NAME_MAX	16

struct db_stmt_entry {
	char *sql;		/* NULL: free slot */
	size_t len;
	uint64_t hash;
	uint64_t used;		/* LRU clock */
	unsigned id;		/* server name "vb_<id>" */
};

struct db_stmt_cache {
	struct db_stmt_entry e[DB_STMT_CACHE_SIZE];
	uint64_t tick;
	size_t bytes;			/* statement text held */
	unsigned next_id;		/* last name given out */
	unsigned drop[DB_STMT_DROP_MAX];	/* names to DEALLOCATE */
	size_t ndrop;
};

/* FNV-1a of sql; *lenp gets strlen(sql). */
uint64_t db_stmt_hash(const char *sql, size_t *lenp);
/* The server-side name of statement id. */
void db_stmt_name(unsigned id, char *out, size_t outsz);
/* Forget everything (the connection is gone, and its statements). */
void db_stmt_cache_clear(struct db_stmt_cache *sc);
/* 1 and *id if sql is prepared on this connection (marks it used). */
int db_stmt_cache_find(struct db_stmt_cache *sc, const char *sql,
    size_t len, uint64_t hash, unsigned *id);
/* Remember that sql is prepared as id, evicting the least recently used
 * entries into the drop list as needed. ERR_ALLOC, ERR_INVALID (too
 * long), ERR_INTERNAL (drop list full): the caller then drops id. */
int db_stmt_cache_add(struct db_stmt_cache *sc, const char *sql,
    size_t len, uint64_t hash, unsigned id) WUR;
/* Queue id for DEALLOCATE; ERR_INTERNAL when the list is full. */
int db_stmt_cache_drop(struct db_stmt_cache *sc, unsigned id) WUR;
/* The first n names of the drop list were deallocated. */
void db_stmt_cache_dropped(struct db_stmt_cache *sc, size_t n);

struct db_conn {
	PGconn *pg;		/* NULL until connected */
	int broken;		/* close on release, reconnect on acquire */
	int in_use;
	int begin_pending;	/* db_begin() called, BEGIN not yet sent */
	int generic_pending;	/* DB_PLAN_*: plan_cache_mode SET not yet
				 * sent (db_plan_generic/_custom) */
	char sqlstate[6];	/* of the last failed statement, or "" */
	struct db_stmt_cache stmts;
};

/*
 * The libpq connection parameters of every session of ours (the pool's
 * and the dedicated ones): the DSN (conninfo or URI, expanded by libpq),
 * then connect_timeout (0: 5 s), application_name and client_encoding
 * UTF8, which override the DSN's own. keys/vals are NULL-terminated for
 * PQconnectdbParams / PQconnectStartParams with expand_dbname 1 and
 * point into cp and the arguments, which must outlive their use.
 */
struct db_conn_params {
	const char *keys[5];
	const char *vals[5];
	char ct[16];
};
void db_conn_params(struct db_conn_params *cp, const char *dsn,
    unsigned connect_timeout_s, const char *app_name);

/* Notice processor (PQsetNoticeProcessor): server notices and
 * asynchronous errors go to our log at debug, not to stderr. */
void db_conn_notice(void *arg, const char *message);

/*
 * Run sql with n text parameters (vals[i] NULL = SQL NULL); lens/fmts
 * may be NULL (all text) or give binary parameters as for PQexecParams.
 * The statement is prepared once per connection (named, kept in
 * c->stmts) and executed by name afterwards; a BEGIN deferred by
 * db_begin() goes out with it, on the same round trip. sql must be
 * built from fixed text only: every value is a parameter. On success
 * *resp holds a result of status COMMAND_OK or TUPLES_OK, which the
 * caller PQclear()s. Errors: ERR_CONFLICT (unique violation),
 * ERR_DB_UNAVAILABLE (connection lost, timeout, serialization failure,
 * server shutting down, out of resources: the connection is marked
 * broken when it cannot be used again), ERR_INTERNAL (anything else;
 * c->sqlstate tells what). Nothing from a parameter is logged.
 */
int db_exec_full(struct db_conn *c, const char *sql, int n,
    const char *const *vals, const int *lens, const int *fmts,
    PGresult **resp) WUR;

/*
 * For the rest of the current transaction, have PostgreSQL run the
 * prepared statements with their generic plans. For statements taking
 * id arrays ($n::uuid[]) its cost model always prefers a custom plan
 * for the array at hand, which means planning them at every execution,
 * while the generic plan is the same index lookups. The SET LOCAL goes
 * out with the next statement, on its round trip. Only inside a
 * transaction (after db_begin); outside one it would have no effect.
 */
#define DB_PLAN_GENERIC	1
#define DB_PLAN_CUSTOM	2
void db_plan_generic(struct db_conn *c);
/*
 * The opposite, for a statement over a table whose size changes much
 * faster than its statistics (the outbox): plan it at every execution
 * with the table as it is, instead of keeping a generic plan made when
 * it was nearly empty. Same rules as db_plan_generic.
 */
void db_plan_custom(struct db_conn *c);

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
