/*
 * Per-connection cache of server-side prepared statements, keyed by the
 * statement text. A statement is parsed once per connection and later
 * runs through Bind/Execute only, so PostgreSQL can also keep a generic
 * plan for it (plan_cache_mode auto) instead of planning each call.
 *
 * The cache is a small array scanned linearly: at DB_STMT_CACHE_SIZE
 * entries comparing 64-bit hashes costs far less than one Parse. The
 * least recently used entry makes room for a new one; its name goes to
 * the drop list, and pool.c sends the DEALLOCATE in front of the next
 * statement on the same round trip, so the server does not accumulate
 * statements. Names are never reused on a connection ("vb_<n>", n from a
 * counter), so a statement that was not yet deallocated cannot be
 * confused with a newer one. The cache dies with the connection.
 */
#include "db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t
db_stmt_hash(const char *sql, size_t *lenp)
{
	const unsigned char *p = (const unsigned char *)sql;
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	*lenp = (size_t)(p - (const unsigned char *)sql);
	return h;
}

void
db_stmt_name(unsigned id, char *out, size_t outsz)
{
	snprintf(out, outsz, "vb_%u", id);
}

void
db_stmt_cache_clear(struct db_stmt_cache *sc)
{
	size_t i;

	for (i = 0; i < DB_STMT_CACHE_SIZE; i++)
		free(sc->e[i].sql);
	memset(sc, 0, sizeof(*sc));
}

int
db_stmt_cache_find(struct db_stmt_cache *sc, const char *sql, size_t len,
    uint64_t hash, unsigned *id)
{
	struct db_stmt_entry *e;
	size_t i;

	*id = 0;
	for (i = 0; i < DB_STMT_CACHE_SIZE; i++) {
		e = &sc->e[i];
		if (e->sql == NULL || e->hash != hash || e->len != len ||
		    memcmp(e->sql, sql, len) != 0)
			continue;
		e->used = ++sc->tick;
		*id = e->id;
		return 1;
	}
	return 0;
}

/* Queue a statement name for DEALLOCATE; ERR_INTERNAL if the list is full
 * (the caller then gives the connection up). */
int
db_stmt_cache_drop(struct db_stmt_cache *sc, unsigned id)
{
	if (sc->ndrop >= DB_STMT_DROP_MAX)
		return ERR_INTERNAL;
	sc->drop[sc->ndrop++] = id;
	return 0;
}

void
db_stmt_cache_dropped(struct db_stmt_cache *sc, size_t n)
{
	if (n >= sc->ndrop) {
		sc->ndrop = 0;
		return;
	}
	memmove(sc->drop, sc->drop + n, (sc->ndrop - n) * sizeof(*sc->drop));
	sc->ndrop -= n;
}

/* Evict the least recently used entry into the drop list. */
static int
evict_one(struct db_stmt_cache *sc)
{
	struct db_stmt_entry *e, *old = NULL;
	size_t i;
	int r;

	for (i = 0; i < DB_STMT_CACHE_SIZE; i++) {
		e = &sc->e[i];
		if (e->sql != NULL && (old == NULL || e->used < old->used))
			old = e;
	}
	if (old == NULL)
		return ERR_INTERNAL;
	if ((r = db_stmt_cache_drop(sc, old->id)) != 0)
		return r;
	sc->bytes -= old->len;
	free(old->sql);
	memset(old, 0, sizeof(*old));
	return 0;
}

int
db_stmt_cache_add(struct db_stmt_cache *sc, const char *sql, size_t len,
    uint64_t hash, unsigned id)
{
	struct db_stmt_entry *e = NULL;
	char *copy = NULL;
	size_t i;
	int r;

	if (len > DB_STMT_SQL_MAX)
		return ERR_INVALID;
	if ((copy = malloc(len + 1)) == NULL)
		return ERR_ALLOC;
	memcpy(copy, sql, len + 1);
	while (sc->bytes + len > DB_STMT_CACHE_BYTES) {
		if ((r = evict_one(sc)) != 0)
			goto out;
	}
	for (i = 0; i < DB_STMT_CACHE_SIZE && e == NULL; i++) {
		if (sc->e[i].sql == NULL)
			e = &sc->e[i];
	}
	if (e == NULL) {
		if ((r = evict_one(sc)) != 0)
			goto out;
		for (i = 0; i < DB_STMT_CACHE_SIZE && e == NULL; i++) {
			if (sc->e[i].sql == NULL)
				e = &sc->e[i];
		}
		if (e == NULL) {
			r = ERR_INTERNAL;
			goto out;
		}
	}
	e->sql = copy;
	copy = NULL;
	e->len = len;
	e->hash = hash;
	e->id = id;
	e->used = ++sc->tick;
	sc->bytes += len;
	r = 0;
out:
	free(copy);
	return r;
}
