#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/pool.h"
#include "db_int.h"
#include "util/log.h"
#include "util/strutil.h"

/* Statement texts built from a set's constant table name. */
#define MIGRATE_SQL_MAX		256

/* pg_advisory_lock keys: every vaultbridge migrator of a set shares one
 * ("vbmi", "vbmv") */
const struct db_migration_set db_bridge_set = {
	"bridge", "schema_migrations", "1986161001", db_migrations,
	&db_nmigrations
};

const struct db_migration_set db_vault_set = {
	"vault", "vault.schema_migrations", "1986161002", db_vault_migrations,
	&db_nvault_migrations
};

int
db_migrate_set_latest(const struct db_migration_set *s)
{
	if (*s->n == 0)
		return 0;
	return s->m[*s->n - 1].version;
}

int
db_migrate_latest(void)
{
	return db_migrate_set_latest(&db_bridge_set);
}

int
db_migrate_current(struct db_conn *c, int *version)
{
	return db_migrate_set_current(c, &db_bridge_set, version);
}

int
db_migrate(struct db_conn *c, int *applied)
{
	return db_migrate_set(c, &db_bridge_set, applied);
}

int
db_migrate_set_current(struct db_conn *c, const struct db_migration_set *s,
    int *version)
{
	PGresult *res = NULL;
	const char *vals[1];
	char sql[MIGRATE_SQL_MAX];
	uint64_t v = 0;
	int r;

	*version = 0;
	/* a fresh database has no version table yet */
	vals[0] = s->table;
	if ((r = db_exec(c, "SELECT pg_catalog.to_regclass($1) IS NOT NULL",
	    1, vals, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		r = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(version), 0) FROM %s",
	    s->table);
	if ((r = db_exec(c, sql, 0, NULL, &res)) != 0)
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

/* One migration and its version row, in one transaction. */
static int
apply_one(struct db_conn *c, const struct db_migration_set *s,
    const struct db_migration *m)
{
	const char *vals[2];
	char ver[16], sql[MIGRATE_SQL_MAX];
	int r;

	snprintf(ver, sizeof(ver), "%d", m->version);
	vals[0] = ver;
	vals[1] = m->name;
	snprintf(sql, sizeof(sql), "INSERT INTO %s (version, name) "
	    "VALUES ($1::integer, $2)", s->table);
	if ((r = db_begin(c)) != 0)
		return r;
	if ((r = db_exec_script(c, m->sql)) != 0 ||
	    (r = db_exec_cmd(c, sql, 2, vals)) != 0 ||
	    (r = db_commit(c)) != 0) {
		log_error("%s migration %d (%s) failed: sqlstate=%s", s->name,
		    m->version, m->name,
		    c->sqlstate[0] != '\0' ? c->sqlstate : "none");
		db_rollback(c);
		return r;
	}
	log_info("migration applied set=%s version=%d name=%s", s->name,
	    m->version, m->name);
	return 0;
}

int
db_migrate_set(struct db_conn *c, const struct db_migration_set *s,
    int *applied)
{
	char lock[MIGRATE_SQL_MAX], unlock[MIGRATE_SQL_MAX];
	PGresult *res = NULL;
	const char *vals[1];
	char *saved = NULL;
	unsigned i;
	int r, cur = 0, n = 0, locked = 0;

	if (applied != NULL)
		*applied = 0;
	snprintf(lock, sizeof(lock), "SELECT pg_catalog.pg_advisory_lock(%s)",
	    s->lock_key);
	snprintf(unlock, sizeof(unlock),
	    "SELECT pg_catalog.pg_advisory_unlock(%s)", s->lock_key);
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
	if ((r = db_exec_cmd(c, lock, 0, NULL)) != 0)
		goto out;
	locked = 1;
	if ((r = db_migrate_set_current(c, s, &cur)) != 0)
		goto out;
	for (i = 0; i < *s->n; i++) {
		if (s->m[i].version <= cur)
			continue;
		if ((r = apply_one(c, s, &s->m[i])) != 0)
			goto out;
		n++;
	}
	if (applied != NULL)
		*applied = n;
	r = 0;
out:
	PQclear(res);
	if (locked && !c->broken && db_exec_cmd(c, unlock, 0, NULL) != 0)
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
