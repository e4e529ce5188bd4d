#ifndef VB_DB_MIGRATE_H
#define VB_DB_MIGRATE_H

#include "util/errors.h"

/*
 * Schema migrations: sql/NNNN_name.sql files are compiled into the binary
 * at build time. Each is applied in its own transaction and recorded in
 * schema_migrations; an advisory lock keeps two migrators from racing;
 * re-running applies nothing new.
 */

struct db_conn;

/* One embedded migration; the array is generated from sql/ by
 * scripts/embed-sql.sh (build/gen/migrations.c), ascending versions. */
struct db_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct db_migration db_migrations[];
extern const unsigned db_nmigrations;

/* Apply pending migrations over c (not in a transaction). *applied gets
 * how many were applied (may be NULL). */
int db_migrate(struct db_conn *c, int *applied) WUR;

/* Highest migration version compiled into this binary. */
int db_migrate_latest(void);

/* Current schema version in the database (0 if none). */
int db_migrate_current(struct db_conn *c, int *version) WUR;

#endif
