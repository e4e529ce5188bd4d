#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/pool.h"
#include "db_int.h"
#include "util/log.h"
#include "util/strutil.h"

/* pg_advisory_lock key shared by every vaultbridge migrator ("vbmi") */
#define MIGRATE_LOCK_KEY	"1986161001"

int
db_migrate_latest(void)
{
	if (db_nmigrations == 0)
		return 0;
	return db_migrations[db_nmigrations - 1].version;
}

int
db_migrate_current(struct db_conn *c, int *version)
{
	PGresult *res = NULL;
	uint64_t v = 0;
	int r;

	*version = 0;
	/* a fresh database has no schema_migrations table yet */
	if ((r = db_exec(c, "SELECT pg_catalog.to_regclass("
	    "'schema_migrations') IS NOT NULL", 0, NULL, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		r = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;
	if ((r = db_exec(c, "SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations", 0, NULL, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 ||
	    parse_u64(PQgetvalue(res, 0, 0), 0, 0x7fffffff, &v) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	*version = (int)v;
	r = 0;
out:
	PQclear(res);
	return r;
}

/* One migration and its schema_migrations row, in one transaction. */
static int
apply_one(struct db_conn *c, const struct db_migration *m)
{
	const char *vals[2];
	char ver[16];
	int r;

	snprintf(ver, sizeof(ver), "%d", m->version);
	vals[0] = ver;
	vals[1] = m->name;
	if ((r = db_begin(c)) != 0)
		return r;
	if ((r = db_exec_script(c, m->sql)) != 0 ||
	    (r = db_exec_cmd(c, "INSERT INTO schema_migrations "
	    "(version, name) VALUES ($1::integer, $2)", 2, vals)) != 0 ||
	    (r = db_commit(c)) != 0) {
		log_error("migration %d (%s) failed: sqlstate=%s", m->version,
		    m->name, c->sqlstate[0] != '\0' ? c->sqlstate : "none");
		db_rollback(c);
		return r;
	}
	log_info("migration applied version=%d name=%s", m->version, m->name);
	return 0;
}

int
db_migrate(struct db_conn *c, int *applied)
{
	PGresult *res = NULL;
	const char *vals[1];
	char *saved = NULL;
	unsigned i;
	int r, cur = 0, n = 0, locked = 0;

	if (applied != NULL)
		*applied = 0;
	/* migrations may run long and wait for the lock: no timeout */
	if ((r = db_exec(c, "SELECT pg_catalog.current_setting("
	    "'statement_timeout')", 0, NULL, &res)) != 0)
		goto out;
	if ((saved = strdup(PQgetvalue(res, 0, 0))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	PQclear(res);
	res = NULL;
	if ((r = db_exec_cmd(c, "SELECT pg_catalog.set_config("
	    "'statement_timeout', '0', false)", 0, NULL)) != 0)
		goto out;
	if ((r = db_exec_cmd(c, "SELECT pg_catalog.pg_advisory_lock("
	    MIGRATE_LOCK_KEY ")", 0, NULL)) != 0)
		goto out;
	locked = 1;
	if ((r = db_migrate_current(c, &cur)) != 0)
		goto out;
	for (i = 0; i < db_nmigrations; i++) {
		if (db_migrations[i].version <= cur)
			continue;
		if ((r = apply_one(c, &db_migrations[i])) != 0)
			goto out;
		n++;
	}
	if (applied != NULL)
		*applied = n;
	r = 0;
out:
	PQclear(res);
	if (locked && !c->broken &&
	    db_exec_cmd(c, "SELECT pg_catalog.pg_advisory_unlock("
	    MIGRATE_LOCK_KEY ")", 0, NULL) != 0)
		c->broken = 1;
	if (saved != NULL && !c->broken) {
		vals[0] = saved;
		if (db_exec_cmd(c, "SELECT pg_catalog.set_config("
		    "'statement_timeout', $1, false)", 1, vals) != 0)
			c->broken = 1;
	}
	free(saved);
	return r;
}
