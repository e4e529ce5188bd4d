#ifndef VB_DB_POOL_H
#define VB_DB_POOL_H

#include "util/errors.h"

/*
 * PostgreSQL connection pool (libpq stays inside src/db/). Thread-safe:
 * any thread may acquire and release. A connection found broken is
 * dropped and re-opened on the next acquire, so the service recovers by
 * itself when the database comes back. Each session sets
 * statement_timeout and application_name = 'vaultbridge'.
 */

struct db_pool;
struct db_conn;

struct db_pool_opts {
	const char *dsn;		/* libpq conninfo or URI */
	unsigned size;			/* max connections, 1..DB_POOL_MAX */
	unsigned connect_timeout_s;	/* per connection attempt */
	unsigned acquire_timeout_ms;	/* wait for a free connection */
	unsigned statement_timeout_ms;	/* 0 = server default */
};

/* Create a pool; opens no connection yet. *out owned by caller. */
int db_pool_new(const struct db_pool_opts *o, struct db_pool **out) WUR;
/* Close every connection and free; NULL is fine. All connections must
 * have been released. */
void db_pool_free(struct db_pool *p);

/*
 * Borrow a connection (waits up to acquire_timeout_ms for a free slot,
 * connects when needed). ERR_DB_UNAVAILABLE when the database cannot be
 * reached or the wait timed out.
 */
int db_acquire(struct db_pool *p, struct db_conn **out) WUR;
/* Give it back; an open transaction is rolled back; a broken connection
 * is closed. NULL c is fine. */
void db_release(struct db_pool *p, struct db_conn *c);

int db_begin(struct db_conn *c) WUR;
int db_commit(struct db_conn *c) WUR;
/* Roll back if a transaction is open; never fails visibly. */
void db_rollback(struct db_conn *c);

/*
 * Readiness: 0 if a connection works and the schema is migrated to the
 * version this binary carries; ERR_DB_UNAVAILABLE if unreachable;
 * ERR_CONFIG if not migrated (detail in log).
 */
int db_ready(struct db_pool *p) WUR;

/* Pool figures for logs/bench. */
void db_pool_stats(struct db_pool *p, unsigned *open, unsigned *busy);

#endif
