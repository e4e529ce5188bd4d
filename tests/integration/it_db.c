/*
 * The database layer against a real PostgreSQL: a private cluster from
 * scripts/pg.sh in a temp dir, the include/db headers called directly
 * (no HTTP).
 * Cases run in order and share the cluster: the first starts it, the
 * last removes it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "crypto/token.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "db/scim_store.h"
#include "db/token_store.h"
#include "scim/filter.h"
#include "scim/schema.h"
#include "testlib.h"
#include "util/bounds.h"
#include "util/log.h"

#define NMEMBERS	10000

static char root[1024];
static char dir[64];
static char dsn[512];
static struct db_pool *pool;
static int cluster_up;

/* ---- helpers ---- */

/* Run scripts/pg.sh ACTION DIR; first stdout line into out. */
static int
pg(const char *action, char *out, size_t outsz)
{
	char cmd[2048];
	char line[512];
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "sh '%s/scripts/pg.sh' %s '%s'", root,
	    action, dir);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	line[0] = '\0';
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (out != NULL)
		snprintf(out, outsz, "%s", line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct db_pool *
new_pool(unsigned size, unsigned acquire_ms, unsigned stmt_ms)
{
	struct db_pool_opts o;
	struct db_pool *p = NULL;

	memset(&o, 0, sizeof(o));
	o.dsn = dsn;
	o.size = size;
	o.connect_timeout_s = 2;
	o.acquire_timeout_ms = acquire_ms;
	o.statement_timeout_ms = stmt_ms;
	if (db_pool_new(&o, &p) != 0)
		return NULL;
	return p;
}

static struct db_conn *
conn(void)
{
	struct db_conn *c = NULL;

	if (pool == NULL || db_acquire(pool, &c) != 0)
		TL_FAIL("cannot acquire a connection");
	return c;
}

static int
ts_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
		    s[i] != shape[i])
			return 0;
	return 1;
}

/* Insert a user with this document; id into idout (may be NULL). */
static int
add(struct db_conn *c, enum scim_rtype rt, const char *doc, char *idout)
{
	struct db_row row;
	int r;

	r = db_scim_insert(c, rt, doc, &row);
	if (r == 0 && idout != NULL)
		memcpy(idout, row.id, SCIM_ID_LEN + 1);
	db_row_clear(&row);
	return r;
}

struct qres {
	int r;
	unsigned long long total;
	size_t n;
	char ids[64][SCIM_ID_LEN + 1];
	struct api_error e;
};

/* Query with filter text (NULL = all), optional sortBy path text. */
static void
query(enum scim_rtype rt, const char *filter, const char *sort, int desc,
    unsigned long long start, unsigned count, struct qres *out)
{
	struct scim_filter *f = NULL;
	struct scim_attr_path sp;
	struct db_query q;
	struct db_page page;
	struct db_conn *c;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&q, 0, sizeof(q));
	if (filter != NULL && scim_filter_parse(rt, filter, strlen(filter),
	    &f, &out->e) != 0)
		TL_FAIL("filter does not parse: %s (%s)", filter,
		    out->e.detail);
	if (sort != NULL && scim_schema_resolve(rt, sort, strlen(sort),
	    &sp) != 0)
		TL_FAIL("sort path does not resolve: %s", sort);
	q.filter = f;
	q.sort = sort != NULL ? &sp : NULL;
	q.descending = desc;
	q.start_index = start;
	q.count = count;
	c = conn();
	out->r = db_scim_query(c, rt, &q, &page, &out->e);
	db_release(pool, c);
	scim_filter_free(f);
	if (out->r == 0) {
		out->total = page.total;
		out->n = page.nrows;
		for (i = 0; i < page.nrows && i < 64; i++)
			memcpy(out->ids[i], page.rows[i].id, SCIM_ID_LEN + 1);
		db_page_clear(&page);
	}
}

static unsigned long long
total_of(enum scim_rtype rt, const char *filter)
{
	struct qres q;

	query(rt, filter, NULL, 0, 1, 0, &q);
	if (q.r != 0)
		TL_FAIL("query %s failed: %d %s", filter, q.r, q.e.detail);
	return q.total;
}

static int
has_id(const struct qres *q, const char *id)
{
	size_t i;

	for (i = 0; i < q->n && i < 64; i++)
		if (strcmp(q->ids[i], id) == 0)
			return 1;
	return 0;
}

static size_t
members_count(const char *gid)
{
	struct db_conn *c = conn();
	struct db_row row;
	json_t *j;
	size_t n;

	if (db_scim_get(c, SCIM_RT_GROUP, gid, DB_F_MEMBERS, &row) != 0) {
		db_release(pool, c);
		TL_FAIL("group %s not found", gid);
	}
	db_release(pool, c);
	j = json_loads(row.members, 0, NULL);
	db_row_clear(&row);
	if (j == NULL || !json_is_array(j))
		TL_FAIL("members is not a JSON array");
	n = json_array_size(j);
	json_decref(j);
	return n;
}

/* ---- cases ---- */

static void
test_cluster(void)
{
	char tmpl[] = "/tmp/vb-itdb-XXXXXX";
	const char *s;
	char again[512];

	log_set_level(LOG_LEVEL_ERROR);
	if ((s = getenv("VB_ROOT")) != NULL && *s != '\0')
		snprintf(root, sizeof(root), "%s", s);
	else
		ASSERT_NOT_NULL(getcwd(root, sizeof(root)));
	ASSERT_NOT_NULL(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s", tmpl);
	/* a dropped-privilege server user must be able to enter it */
	ASSERT_INT_EQ(chmod(dir, 0755), 0);
	ASSERT_INT_EQ(pg("start", dsn, sizeof(dsn)), 0);
	cluster_up = 1;
	ASSERT_TRUE(strstr(dsn, "host=/tmp/vb-itdb-") == dsn);
	ASSERT_TRUE(strstr(dsn, "dbname=vaultbridge") != NULL);
	/* idempotent */
	ASSERT_INT_EQ(pg("start", again, sizeof(again)), 0);
	ASSERT_STR_EQ(again, dsn);
	ASSERT_INT_EQ(pg("status", again, sizeof(again)), 0);
	ASSERT_STR_EQ(again, "running");
	ASSERT_INT_EQ(pg("dsn", again, sizeof(again)), 0);
	ASSERT_STR_EQ(again, dsn);
	ASSERT_INT_EQ(crypto_init(), 0);
	ASSERT_NOT_NULL(pool = new_pool(4, 2000, 5000));
}

static void
test_migrate(void)
{
	struct db_conn *c;
	int n = -1, v = -1;

	ASSERT_TRUE(db_migrate_latest() >= 1);
	ASSERT_INT_EQ(db_ready(pool), ERR_CONFIG);
	c = conn();
	ASSERT_INT_EQ(db_migrate_current(c, &v), 0);
	ASSERT_INT_EQ(v, 0);
	ASSERT_INT_EQ(db_migrate(c, &n), 0);
	ASSERT_INT_EQ(n, (int)db_nmigrations);
	ASSERT_INT_EQ(db_migrate_current(c, &v), 0);
	ASSERT_INT_EQ(v, db_migrate_latest());
	ASSERT_INT_EQ(db_migrate(c, &n), 0);
	ASSERT_INT_EQ(n, 0);
	db_release(pool, c);
	ASSERT_INT_EQ(db_ready(pool), 0);
}

static void
test_user_crud(void)
{
	struct db_conn *c = conn();
	struct db_row row, row2;
	char id[SCIM_ID_LEN + 1];
	int r;

	ASSERT_INT_EQ(db_scim_insert(c, SCIM_RT_USER,
	    "{\"userName\":\"crud.user\",\"active\":true}", &row), 0);
	memcpy(id, row.id, sizeof(id));
	ASSERT_INT_EQ(strlen(row.id), SCIM_ID_LEN);
	ASSERT_INT_EQ(row.version, 1);
	ASSERT_TRUE(ts_ok(row.created));
	ASSERT_STR_EQ(row.created, row.last_modified);
	ASSERT_TRUE(strstr(row.doc, "\"crud.user\"") != NULL);
	ASSERT_NULL(row.groups);
	db_row_clear(&row);

	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, id, DB_F_GROUPS, &row), 0);
	ASSERT_STR_EQ(row.id, id);
	ASSERT_STR_EQ(row.groups, "[]");
	ASSERT_INT_EQ(row.version, 1);
	db_row_clear(&row);

	/* upper-case id finds the same row */
	{
		char up[SCIM_ID_LEN + 1];
		size_t i;

		for (i = 0; i <= SCIM_ID_LEN; i++)
			up[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ?
			    id[i] - 32 : id[i]);
		ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, up, 0, &row), 0);
		ASSERT_STR_EQ(row.id, id);
		db_row_clear(&row);
	}

	usleep(5000);
	ASSERT_INT_EQ(db_scim_update(c, SCIM_RT_USER, id,
	    "{\"userName\":\"crud.user2\",\"active\":false}", &row), 0);
	ASSERT_INT_EQ(row.version, 2);
	ASSERT_TRUE(strstr(row.doc, "crud.user2") != NULL);
	ASSERT_TRUE(strcmp(row.last_modified, row.created) > 0);
	ASSERT_INT_EQ(db_scim_touch(c, SCIM_RT_USER, id, &row2), 0);
	ASSERT_INT_EQ(row2.version, 3);
	ASSERT_TRUE(strcmp(row2.last_modified, row.last_modified) >= 0);
	ASSERT_STR_EQ(row2.doc, row.doc);
	db_row_clear(&row);
	db_row_clear(&row2);

	/* in a transaction, FOR UPDATE */
	ASSERT_INT_EQ(db_begin(c), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, id, DB_F_FOR_UPDATE,
	    &row), 0);
	db_row_clear(&row);
	ASSERT_INT_EQ(db_commit(c), 0);

	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER,
	    "00000000-0000-4000-8000-000000000000", 0, &row), ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, "not-a-uuid", 0, &row),
	    ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, "", 0, &row),
	    ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_GROUP, id, 0, &row),
	    ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_scim_update(c, SCIM_RT_USER, "x'; drop table x",
	    "{}", &row), ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_scim_touch(c, SCIM_RT_USER,
	    "00000000-0000-4000-8000-000000000000", &row), ERR_NOT_FOUND);

	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, id), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, id, 0, &row),
	    ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, id), ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, "nope"), ERR_NOT_FOUND);

	/* a statement error does not spoil the connection */
	r = db_scim_insert(c, SCIM_RT_USER, "not json", &row);
	ASSERT_TRUE(r != 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"after.error\"}",
	    id), 0);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, id), 0);
	db_release(pool, c);
}

static void
test_uniqueness(void)
{
	struct db_conn *c = conn();
	struct db_row row;
	char u1[SCIM_ID_LEN + 1], u2[SCIM_ID_LEN + 1];
	char g1[SCIM_ID_LEN + 1];

	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"Bjoern\"}", u1), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"bJOERN\"}", NULL),
	    ERR_CONFLICT);
	/* non-ASCII case folding (C.UTF-8 cluster) */
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"\xc3\x89mile\"}",
	    g1), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"\xc3\xa9mile\"}",
	    NULL), ERR_CONFLICT);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, g1), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"other\"}", u2), 0);
	ASSERT_INT_EQ(db_scim_update(c, SCIM_RT_USER, u2,
	    "{\"userName\":\"BJOERN\"}", &row), ERR_CONFLICT);
	/* conflict inside a transaction: the caller rolls back */
	ASSERT_INT_EQ(db_begin(c), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"bjoern\"}", NULL),
	    ERR_CONFLICT);
	db_rollback(c);
	/* a user and a group may share a name */
	ASSERT_INT_EQ(add(c, SCIM_RT_GROUP, "{\"displayName\":\"Bjoern\"}",
	    g1), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_GROUP, "{\"displayName\":\"BJOERN\"}",
	    NULL), ERR_CONFLICT);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, u1), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"BJOERN\"}", u1),
	    0);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, u1), 0);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, u2), 0);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_GROUP, g1), 0);
	db_release(pool, c);
}

static char (*mids)[SCIM_ID_LEN + 1];	/* NMEMBERS user ids */
static char grp[SCIM_ID_LEN + 1];

static void
test_members(void)
{
	struct db_conn *c = conn();
	struct api_error e;
	struct db_row row;
	const char **ids = NULL;
	const char *one[2];
	char doc[128], g2[SCIM_ID_LEN + 1], late[SCIM_ID_LEN + 1];
	const char *unknown;
	struct timespec t0, t1;
	json_t *j, *m;
	long long ver;
	size_t i;
	int changed;

	ASSERT_NOT_NULL(mids = calloc(NMEMBERS, sizeof(*mids)));
	ASSERT_NOT_NULL(ids = calloc(NMEMBERS + 1, sizeof(*ids)));
	ASSERT_INT_EQ(db_begin(c), 0);
	for (i = 0; i < NMEMBERS; i++) {
		snprintf(doc, sizeof(doc), "{\"userName\":\"member%05zu\"}",
		    i);
		ASSERT_INT_EQ(add(c, SCIM_RT_USER, doc, mids[i]), 0);
		ids[i] = mids[i];
	}
	ASSERT_INT_EQ(add(c, SCIM_RT_GROUP, "{\"displayName\":\"big\"}", grp),
	    0);
	ASSERT_INT_EQ(db_commit(c), 0);

	memset(&e, 0, sizeof(e));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, ids, NMEMBERS, NULL,
	    0, &changed, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %d members added in one call: %.1f ms\n", NMEMBERS,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	ASSERT_INT_EQ(changed, 1);
	db_release(pool, c);
	ASSERT_INT_EQ(members_count(grp), NMEMBERS);

	/* the same again: nothing changes */
	c = conn();
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, ids, NMEMBERS, NULL,
	    0, &changed, &e), 0);
	ASSERT_INT_EQ(changed, 0);

	/* member JSON: value, type, display = userName; also locked */
	ASSERT_INT_EQ(db_begin(c), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_GROUP, grp,
	    DB_F_MEMBERS | DB_F_FOR_UPDATE, &row), 0);
	ASSERT_INT_EQ(db_commit(c), 0);
	ASSERT_NOT_NULL(j = json_loads(row.members, 0, NULL));
	db_row_clear(&row);
	ASSERT_INT_EQ(json_array_size(j), NMEMBERS);
	m = json_array_get(j, 0);
	ASSERT_STR_EQ(json_string_value(json_object_get(m, "type")), "User");
	ASSERT_TRUE(strncmp(json_string_value(json_object_get(m, "display")),
	    "member", 6) == 0);
	ASSERT_INT_EQ(strlen(json_string_value(json_object_get(m, "value"))),
	    SCIM_ID_LEN);
	json_decref(j);

	/* an unknown id after a valid new one: nothing is added */
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"late\"}", late),
	    0);
	unknown = "11111111-2222-4333-8444-555555555555";
	one[0] = late;
	one[1] = unknown;
	memset(&e, 0, sizeof(e));
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, one, 2, NULL, 0,
	    &changed, &e), ERR_INVALID);
	ASSERT_INT_EQ(e.status, 400);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	ASSERT_TRUE(strstr(e.detail, unknown) != NULL);
	ASSERT_INT_EQ(changed, 0);
	/* not a uuid */
	one[1] = "bob";
	memset(&e, 0, sizeof(e));
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, one, 2, NULL, 0,
	    &changed, &e), ERR_INVALID);
	ASSERT_TRUE(strstr(e.detail, "bob") != NULL);
	/* the group itself */
	one[1] = grp;
	memset(&e, 0, sizeof(e));
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, one, 2, NULL, 0,
	    &changed, &e), ERR_INVALID);
	ASSERT_TRUE(strstr(e.detail, "itself") != NULL);
	db_release(pool, c);
	ASSERT_INT_EQ(members_count(grp), NMEMBERS);

	/* a group as a member; user "groups" */
	c = conn();
	ASSERT_INT_EQ(add(c, SCIM_RT_GROUP, "{\"displayName\":\"nested\"}", g2),
	    0);
	one[0] = g2;
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, one, 1, NULL, 0,
	    &changed, &e), 0);
	ASSERT_INT_EQ(changed, 1);
	one[0] = mids[0];
	ASSERT_INT_EQ(db_group_members_apply(c, g2, 0, one, 1, NULL, 0,
	    &changed, &e), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, mids[0], DB_F_GROUPS,
	    &row), 0);
	ASSERT_NOT_NULL(j = json_loads(row.groups, 0, NULL));
	db_row_clear(&row);
	ASSERT_INT_EQ(json_array_size(j), 2);
	for (i = 0; i < 2; i++) {
		m = json_array_get(j, i);
		ASSERT_STR_EQ(json_string_value(json_object_get(m, "type")),
		    "direct");
		ASSERT_NOT_NULL(json_string_value(json_object_get(m,
		    "display")));
	}
	json_decref(j);
	db_release(pool, c);
	ASSERT_INT_EQ(members_count(grp), NMEMBERS + 1);

	/* remove some; an id both removed and added stays */
	c = conn();
	one[0] = mids[1];
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, one, 1, ids, 10,
	    &changed, &e), 0);
	ASSERT_INT_EQ(changed, 1);
	db_release(pool, c);
	ASSERT_INT_EQ(members_count(grp), NMEMBERS + 1 - 9);

	/* replace all with 5 (mids[2..6]) */
	c = conn();
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 1, ids + 2, 5, NULL, 0,
	    &changed, &e), 0);
	ASSERT_INT_EQ(changed, 1);
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 1, ids + 2, 5, NULL, 0,
	    &changed, &e), 0);
	ASSERT_INT_EQ(changed, 0);
	db_release(pool, c);
	ASSERT_INT_EQ(members_count(grp), 5);

	/* deleting a member user drops its membership and bumps the group */
	c = conn();
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_GROUP, grp, 0, &row), 0);
	ver = row.version;
	db_row_clear(&row);
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, mids[2]), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_GROUP, grp, 0, &row), 0);
	ASSERT_INT_EQ(row.version, ver + 1);
	ver = row.version;
	db_row_clear(&row);
	/* a user in no group: no group changes */
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_USER, mids[NMEMBERS - 1]), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_GROUP, grp, 0, &row), 0);
	ASSERT_INT_EQ(row.version, ver);
	db_row_clear(&row);
	/* as does deleting a member group */
	one[0] = g2;
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, one, 1, NULL, 0,
	    &changed, &e), 0);
	db_release(pool, c);
	ASSERT_INT_EQ(members_count(grp), 5);
	c = conn();
	ASSERT_INT_EQ(db_scim_delete(c, SCIM_RT_GROUP, g2), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_GROUP, grp, 0, &row), 0);
	ASSERT_TRUE(row.version > ver);
	db_row_clear(&row);
	db_release(pool, c);
	ASSERT_INT_EQ(members_count(grp), 4);

	/* unknown group */
	c = conn();
	ASSERT_INT_EQ(db_group_members_apply(c,
	    "00000000-0000-4000-8000-000000000000", 0, ids + 3, 1, NULL, 0,
	    &changed, &e), ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_group_members_apply(c, "zz", 0, ids + 3, 1, NULL, 0,
	    &changed, &e), ERR_NOT_FOUND);
	/* nothing to do */
	ASSERT_INT_EQ(db_group_members_apply(c, grp, 0, NULL, 0, NULL, 0,
	    &changed, &e), 0);
	ASSERT_INT_EQ(changed, 0);
	db_release(pool, c);
	free(ids);
}

/* ids of the query fixture */
static char qa[SCIM_ID_LEN + 1], qb[SCIM_ID_LEN + 1], qc[SCIM_ID_LEN + 1];
static char qd[SCIM_ID_LEN + 1], qg[SCIM_ID_LEN + 1];

#define ENT	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PAM	"urn:ietf:params:scim:schemas:extension:pam:2.0:User"

static void
query_fixture(void)
{
	struct db_conn *c = conn();
	struct api_error e;
	const char *m[2];
	int changed;

	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"q.alice\","
	    "\"externalId\":\"EXT-a\",\"displayName\":\"Alice Q\","
	    "\"active\":true,\"name\":{\"givenName\":\"Alice\"},"
	    "\"emails\":[{\"value\":\"Alice@Example.COM\",\"type\":\"work\","
	    "\"primary\":true},{\"value\":\"zz@home.org\",\"type\":"
	    "\"home\"}],"
	    "\"" ENT "\":{\"employeeNumber\":\"42\",\"manager\":{\"value\":"
	    "\"m1\"}},"
	    "\"" PAM "\":{\"maxJitDurationSeconds\":7200,\"adminRoles\":"
	    "[\"db-admin\",\"dns-admin\"],\"accessReviewDate\":"
	    "\"2024-03-01T10:00:00Z\",\"privileged\":true}}", qa), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"q.bob\","
	    "\"externalId\":\"EXT-b\",\"active\":false,"
	    "\"emails\":[{\"value\":\"bob@example.com\",\"type\":\"home\"},"
	    "{\"value\":\"aa@work.example\",\"type\":\"work\","
	    "\"primary\":true}],"
	    "\"" PAM "\":{\"maxJitDurationSeconds\":600,\"adminRoles\":"
	    "[\"web-admin\"],\"accessReviewDate\":"
	    "\"2023-01-01T00:00:00+02:00\"}}", qb), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"q.100%_c\\\\\","
	    "\"displayName\":\"carol\",\"active\":true}", qc), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"q.dave\","
	    "\"displayName\":\"\",\"emails\":[]}", qd), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_GROUP, "{\"displayName\":\"q-admins\","
	    "\"externalId\":\"g-ext\"}", qg), 0);
	m[0] = qa;
	m[1] = qc;
	ASSERT_INT_EQ(db_group_members_apply(c, qg, 0, m, 2, NULL, 0,
	    &changed, &e), 0);
	db_release(pool, c);
}

static void
test_query_filters(void)
{
	static const struct {
		const char *filter;
		const char *want;	/* letters of the matching q.* users */
	} tab[] = {
		{ "userName eq \"Q.ALICE\"", "a" },
		{ "userName eq \"q.alic\"", "" },
		{ "userName sw \"Q.\"", "abcd" },
		{ "userName sw \"q.b\"", "b" },
		{ "userName ew \"ICE\"", "a" },
		{ "userName co \"%\"", "c" },
		{ "userName co \"_\"", "c" },
		{ "userName co \"\\\\\"", "c" },
		{ "userName co \"%_c\\\\\"", "c" },
		{ "userName sw \"q\" and userName co \"o\"", "b" },
		{ "userName eq \"q.bob\" or userName eq \"q.dave\"",
		    "bd" },
		{ "userName gt \"q.bob\" and userName lt \"q.e\"",
		    "d" },
		{ "userName gt \"q.0\" and userName lt \"q.b\"",
		    "ac" },
		{ "userName ge \"Q.BOB\" and userName le \"q.bob\"",
		    "b" },
		{ "externalId eq \"EXT-a\"", "a" },
		{ "externalId eq \"ext-a\"", "" },
		{ "externalId pr and userName sw \"q.\"", "ab" },
		{ "displayName eq \"alice q\"", "a" },
		{ "userName sw \"q.\" and displayName pr", "ac" },
		{ "userName sw \"q.\" and not (displayName pr)",
		    "bd" },
		{ "userName sw \"q.\" and displayName ne \"carol\"",
		    "abd" },
		{ "active eq true and userName sw \"q.\"", "ac" },
		{ "active eq false", "b" },
		{ "userName sw \"q.\" and not (active eq true)",
		    "bd" },
		{ "name.givenName eq \"alice\"", "a" },
		{ "name.givenName pr", "a" },
		{ "emails.value eq \"alice@example.com\"", "a" },
		{ "emails.value eq \"ALICE@EXAMPLE.COM\"", "a" },
		{ "emails eq \"bob@EXAMPLE.com\"", "b" },
		{ "emails.value co \"example\"", "ab" },
		{ "emails.type eq \"home\"", "ab" },
		{ "emails[type eq \"work\" and value co \"example\"]",
		    "ab" },
		{ "emails[type eq \"work\" and "
		    "value eq \"bob@example.com\"]", "" },
		{ "emails[type eq \"home\" and "
		    "value eq \"bob@example.com\"]", "b" },
		{ "emails[primary eq true and value sw \"aa\"]",
		    "b" },
		{ "userName sw \"q.\" and emails pr", "ab" },
		{ "userName sw \"q.\" and not (emails pr)", "cd" },
		{ "userName sw \"q.\" and emails.value ne "
		    "\"bob@example.com\"", "acd" },
		{ ENT ":employeeNumber eq \"42\"", "a" },
		{ ENT ":manager.value eq \"m1\"", "a" },
		{ PAM ":maxJitDurationSeconds gt 3600", "a" },
		{ PAM ":maxJitDurationSeconds le 600", "b" },
		{ PAM ":maxJitDurationSeconds eq 600", "b" },
		{ PAM ":adminRoles eq \"DB-ADMIN\"", "a" },
		{ PAM ":adminRoles sw \"web\"", "b" },
		{ PAM ":privileged eq true", "a" },
		{ PAM ":accessReviewDate gt "
		    "\"2023-06-01T00:00:00Z\"", "a" },
		{ PAM ":accessReviewDate lt "
		    "\"2022-12-31T23:00:00.000Z\"", "b" },
		{ "userName sw \"q.\" and meta.created gt "
		    "\"2000-01-01T00:00:00Z\"", "abcd" },
		{ "userName sw \"q.\" and meta.created lt "
		    "\"2000-01-01T00:00:00Z\"", "" },
		{ "userName sw \"q.\" and meta.resourceType eq "
		    "\"User\"", "abcd" },
		/* joining q-admins bumped a and c to version 2 */
		{ "userName sw \"q.\" and meta.version eq "
		    "\"W/\\\"1\\\"\"", "bd" },
		{ "userName sw \"q.\" and meta.version eq "
		    "\"W/\\\"2\\\"\"", "ac" },
		{ "userName sw \"q.\" and groups pr", "ac" },
		{ "userName sw \"q.\" and not (groups pr)", "bd" },
		{ "groups.display eq \"Q-ADMINS\"", "ac" },
		{ "groups.type eq \"direct\" and "
		    "userName sw \"q.\"", "ac" },
	};
	static const char letters[] = "abcd";
	char *ids[4] = { qa, qb, qc, qd };
	struct qres q;
	size_t i, k;
	int want;

	query_fixture();
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		query(SCIM_RT_USER, tab[i].filter, "userName", 0, 1, 64, &q);
		if (q.r != 0)
			TL_FAIL("#%zu %s: error %d %s", i, tab[i].filter, q.r,
			    q.e.detail);
		/* other users (members) never match a q.* filter */
		if (q.total != strlen(tab[i].want))
			TL_FAIL("#%zu %s: total %llu, want %zu", i,
			    tab[i].filter, q.total, strlen(tab[i].want));
		for (k = 0; k < 4; k++) {
			want = strchr(tab[i].want, letters[k]) != NULL;
			if (has_id(&q, ids[k]) != want)
				TL_FAIL("#%zu %s: user %c %s", i,
				    tab[i].filter, letters[k],
				    want ? "missing" : "unexpected");
		}
	}
}

static void
test_query_ids(void)
{
	char f[256];
	struct qres q;

	snprintf(f, sizeof(f), "id eq \"%s\"", qb);
	query(SCIM_RT_USER, f, NULL, 0, 1, 10, &q);
	ASSERT_INT_EQ(q.r, 0);
	ASSERT_INT_EQ(q.total, 1);
	ASSERT_STR_EQ(q.ids[0], qb);
	ASSERT_INT_EQ(total_of(SCIM_RT_USER, "id eq \"nope\""), 0);
	snprintf(f, sizeof(f), "id ne \"%s\" and userName sw \"q.\"", qb);
	ASSERT_INT_EQ(total_of(SCIM_RT_USER, f), 3);
	snprintf(f, sizeof(f), "groups.value eq \"%s\"", qg);
	query(SCIM_RT_USER, f, "userName", 0, 1, 10, &q);
	ASSERT_INT_EQ(q.total, 2);
	ASSERT_STR_EQ(q.ids[0], qc);
	ASSERT_STR_EQ(q.ids[1], qa);
	snprintf(f, sizeof(f), "members.value eq \"%s\"", qc);
	query(SCIM_RT_GROUP, f, NULL, 0, 1, 10, &q);
	ASSERT_INT_EQ(q.total, 1);
	ASSERT_STR_EQ(q.ids[0], qg);
	snprintf(f, sizeof(f), "members[value eq \"%s\" and type eq "
	    "\"User\"]", qa);
	ASSERT_INT_EQ(total_of(SCIM_RT_GROUP, f), 1);
	snprintf(f, sizeof(f), "members[value eq \"%s\"]", qb);
	ASSERT_INT_EQ(total_of(SCIM_RT_GROUP, f), 0);
	ASSERT_INT_EQ(total_of(SCIM_RT_GROUP, "displayName eq \"Q-Admins\" "
	    "and members pr"), 1);
	ASSERT_INT_EQ(total_of(SCIM_RT_GROUP, "members.display eq "
	    "\"q.alice\""), 1);
	ASSERT_INT_EQ(total_of(SCIM_RT_GROUP, "externalId eq \"g-ext\""), 1);
	ASSERT_INT_EQ(total_of(SCIM_RT_GROUP, "displayName sw \"q-\""), 1);
	/* lastModified as read back compares equal (ms precision) */
	{
		struct db_conn *c = conn();
		struct db_row row;

		ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, qd, 0, &row), 0);
		db_release(pool, c);
		snprintf(f, sizeof(f), "meta.lastModified eq \"%s\" and "
		    "userName eq \"q.dave\"", row.last_modified);
		db_row_clear(&row);
		ASSERT_INT_EQ(total_of(SCIM_RT_USER, f), 1);
	}
}

static void
test_query_bad(void)
{
	struct scim_filter *f = NULL;
	struct qres q;
	const char *bad = "meta.created gt \"yesterday\"";
	int r;

	memset(&q, 0, sizeof(q));
	r = scim_filter_parse(SCIM_RT_USER, bad, strlen(bad), &f, &q.e);
	if (r == 0) {
		/* the parser left it to the store */
		scim_filter_free(f);
		query(SCIM_RT_USER, bad, NULL, 0, 1, 10, &q);
		ASSERT_INT_EQ(q.r, ERR_INVALID);
	} else
		ASSERT_INT_EQ(r, ERR_INVALID);
	ASSERT_INT_EQ(q.e.status, 400);
	ASSERT_STR_EQ(q.e.scim_type, "invalidFilter");
}

static void
test_query_sort_page(void)
{
	struct qres q;
	const char *f = "userName sw \"q.\"";

	query(SCIM_RT_USER, f, "userName", 0, 1, 10, &q);
	ASSERT_INT_EQ(q.r, 0);
	ASSERT_INT_EQ(q.total, 4);
	ASSERT_INT_EQ(q.n, 4);
	ASSERT_STR_EQ(q.ids[0], qc);	/* "q.100%_c\" */
	ASSERT_STR_EQ(q.ids[1], qa);
	ASSERT_STR_EQ(q.ids[2], qb);
	ASSERT_STR_EQ(q.ids[3], qd);
	query(SCIM_RT_USER, f, "userName", 1, 1, 10, &q);
	ASSERT_STR_EQ(q.ids[0], qd);
	ASSERT_STR_EQ(q.ids[3], qc);
	/* pages */
	query(SCIM_RT_USER, f, "userName", 0, 2, 2, &q);
	ASSERT_INT_EQ(q.total, 4);
	ASSERT_INT_EQ(q.n, 2);
	ASSERT_STR_EQ(q.ids[0], qa);
	ASSERT_STR_EQ(q.ids[1], qb);
	query(SCIM_RT_USER, f, "userName", 0, 4, 10, &q);
	ASSERT_INT_EQ(q.n, 1);
	ASSERT_STR_EQ(q.ids[0], qd);
	query(SCIM_RT_USER, f, "userName", 0, 5, 10, &q);
	ASSERT_INT_EQ(q.total, 4);
	ASSERT_INT_EQ(q.n, 0);
	query(SCIM_RT_USER, f, "userName", 0, 1, 0, &q);
	ASSERT_INT_EQ(q.total, 4);
	ASSERT_INT_EQ(q.n, 0);
	/* startIndex 0 counts as 1 */
	query(SCIM_RT_USER, f, "userName", 0, 0, 1, &q);
	ASSERT_STR_EQ(q.ids[0], qc);
	/* default order: created, id (insertion order here) */
	query(SCIM_RT_USER, f, NULL, 0, 1, 10, &q);
	ASSERT_INT_EQ(q.n, 4);
	/* emails: the primary value (alice: alice@, bob: aa@), nulls last */
	query(SCIM_RT_USER, f, "emails", 0, 1, 10, &q);
	ASSERT_STR_EQ(q.ids[0], qb);
	ASSERT_STR_EQ(q.ids[1], qa);
	query(SCIM_RT_USER, f, "emails.value", 1, 1, 10, &q);
	ASSERT_STR_EQ(q.ids[0], qa);
	ASSERT_STR_EQ(q.ids[1], qb);
	/* numbers sort as numbers, absent last */
	query(SCIM_RT_USER, f, PAM ":maxJitDurationSeconds", 0, 1, 10, &q);
	ASSERT_STR_EQ(q.ids[0], qb);
	ASSERT_STR_EQ(q.ids[1], qa);
	query(SCIM_RT_USER, f, PAM ":maxJitDurationSeconds", 1, 1, 10, &q);
	ASSERT_STR_EQ(q.ids[0], qa);
	ASSERT_STR_EQ(q.ids[1], qb);
	query(SCIM_RT_USER, f, "meta.created", 1, 1, 10, &q);
	ASSERT_INT_EQ(q.n, 4);
	query(SCIM_RT_USER, f, "displayName", 0, 1, 10, &q);
	ASSERT_STR_EQ(q.ids[0], qd);	/* "" */
	ASSERT_STR_EQ(q.ids[1], qa);	/* alice q */
	ASSERT_STR_EQ(q.ids[2], qc);	/* carol */
	ASSERT_STR_EQ(q.ids[3], qb);	/* absent: last */
	query(SCIM_RT_USER, f, "active", 1, 1, 10, &q);
	ASSERT_INT_EQ(q.n, 4);
	query(SCIM_RT_GROUP, NULL, "members", 0, 1, 10, &q);
	ASSERT_INT_EQ(q.r, 0);
	/* all: the members (two deleted), "late", the four q.* users */
	ASSERT_INT_EQ(total_of(SCIM_RT_USER, NULL), NMEMBERS - 2 + 1 + 4);
}

static void
test_pool_outage(void)
{
	struct db_pool *small;
	struct db_conn *c = NULL, *c2 = NULL, *c3 = NULL;
	struct db_row row;
	unsigned open, busy;
	int r, i;

	/* exhaustion: the third borrower waits acquire_timeout, then 503 */
	ASSERT_NOT_NULL(small = new_pool(2, 200, 0));
	ASSERT_INT_EQ(db_acquire(small, &c), 0);
	ASSERT_INT_EQ(db_acquire(small, &c2), 0);
	ASSERT_INT_EQ(db_acquire(small, &c3), ERR_DB_UNAVAILABLE);
	db_pool_stats(small, &open, &busy);
	ASSERT_INT_EQ(open, 2);
	ASSERT_INT_EQ(busy, 2);
	db_release(small, c2);
	ASSERT_INT_EQ(db_acquire(small, &c3), 0);
	db_release(small, c3);
	/* an open transaction is rolled back on release */
	ASSERT_INT_EQ(db_begin(c), 0);
	ASSERT_INT_EQ(add(c, SCIM_RT_USER, "{\"userName\":\"rolled.back\"}",
	    NULL), 0);
	db_release(small, c);
	ASSERT_INT_EQ(total_of(SCIM_RT_USER, "userName eq \"rolled.back\""),
	    0);

	/* outage: a held connection fails, idle ones reconnect and fail */
	ASSERT_INT_EQ(db_acquire(small, &c), 0);
	ASSERT_INT_EQ(pg("stop", NULL, 0), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, qa, 0, &row),
	    ERR_DB_UNAVAILABLE);
	db_release(small, c);
	ASSERT_INT_EQ(db_acquire(small, &c), ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(db_acquire(pool, &c), ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(db_ready(pool), ERR_DB_UNAVAILABLE);
	db_pool_stats(small, &open, &busy);
	ASSERT_INT_EQ(busy, 0);

	/* back: recovers without help */
	ASSERT_INT_EQ(pg("start", NULL, 0), 0);
	for (i = 0; i < 50; i++) {
		if ((r = db_ready(pool)) == 0)
			break;
		usleep(100000);
	}
	ASSERT_INT_EQ(db_ready(pool), 0);
	ASSERT_INT_EQ(db_acquire(small, &c), 0);
	ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, qa, 0, &row), 0);
	db_row_clear(&row);
	db_release(small, c);
	/* every pooled connection of the main pool works again */
	for (i = 0; i < 8; i++) {
		c = conn();
		ASSERT_INT_EQ(db_scim_get(c, SCIM_RT_USER, qa, 0, &row), 0);
		db_row_clear(&row);
		db_release(pool, c);
	}
	db_pool_free(small);
}

/* A statement over its statement_timeout is "unavailable" (503), and
 * the session survives it. */
static void
test_statement_timeout(void)
{
	struct db_pool *p;
	struct db_conn *c;
	struct scim_attr_path sp;
	struct db_query q;
	struct db_page page;
	struct api_error e;
	unsigned open, busy;

	ASSERT_NOT_NULL(p = new_pool(1, 2000, 1));
	ASSERT_INT_EQ(scim_schema_resolve(SCIM_RT_USER, "emails", 6, &sp), 0);
	memset(&q, 0, sizeof(q));
	memset(&e, 0, sizeof(e));
	q.sort = &sp;
	q.start_index = 1;
	q.count = 10;
	ASSERT_INT_EQ(db_acquire(p, &c), 0);
	/* ~10,000 rows, each sorted by a subquery: far over 1 ms */
	ASSERT_INT_EQ(db_scim_query(c, SCIM_RT_USER, &q, &page, &e),
	    ERR_DB_UNAVAILABLE);
	ASSERT_INT_EQ(e.status, 0);
	db_release(p, c);
	db_pool_stats(p, &open, &busy);
	ASSERT_INT_EQ(open, 1);
	ASSERT_INT_EQ(busy, 0);
	db_pool_free(p);
}

struct worker {
	struct db_pool *p;
	int ok, failed;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct db_conn *c;
	struct db_row row;
	int i;

	for (i = 0; i < 100; i++) {
		if (db_acquire(w->p, &c) != 0) {
			w->failed++;
			continue;
		}
		if (db_scim_get(c, SCIM_RT_USER, qa, 0, &row) == 0 &&
		    strcmp(row.id, qa) == 0)
			w->ok++;
		else
			w->failed++;
		db_row_clear(&row);
		db_release(w->p, c);
	}
	return NULL;
}

/* Eight threads share three connections: all borrowers get one. */
static void
test_pool_threads(void)
{
	struct db_pool *p;
	struct worker w[8];
	pthread_t t[8];
	unsigned open, busy;
	size_t i;

	ASSERT_NOT_NULL(p = new_pool(3, 10000, 5000));
	memset(w, 0, sizeof(w));
	for (i = 0; i < 8; i++) {
		w[i].p = p;
		ASSERT_INT_EQ(pthread_create(&t[i], NULL, worker_run, &w[i]),
		    0);
	}
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 8; i++) {
		ASSERT_INT_EQ(w[i].failed, 0);
		ASSERT_INT_EQ(w[i].ok, 100);
	}
	db_pool_stats(p, &open, &busy);
	ASSERT_INT_EQ(busy, 0);
	ASSERT_TRUE(open >= 1 && open <= 3);
	db_pool_free(p);
}

static void
test_tokens(void)
{
	struct db_conn *c = conn();
	char id[CRYPTO_TOKEN_ID_LEN + 1], text[TOKEN_TEXT_MAX];
	char id2[CRYPTO_TOKEN_ID_LEN + 1], id3[CRYPTO_TOKEN_ID_LEN + 1];
	unsigned char hash[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];
	struct db_token t, *list = NULL;
	size_t n, i;
	int seen = 0;

	ASSERT_INT_EQ(crypto_token_new(id, sizeof(id), text, sizeof(text),
	    hash), 0);
	ASSERT_INT_EQ(db_token_insert(c, id, "ci-bot", 0x3, hash, 0), 0);
	ASSERT_INT_EQ(db_token_get(c, id, &t), 0);
	ASSERT_STR_EQ(t.id, id);
	ASSERT_STR_EQ(t.name, "ci-bot");
	ASSERT_INT_EQ(t.scopes, 0x3);
	ASSERT_INT_EQ(memcmp(t.hash, hash, TOKEN_HASH_LEN), 0);
	ASSERT_STR_EQ(t.expires, "");
	ASSERT_INT_EQ(t.revoked, 0);
	ASSERT_INT_EQ(t.expired, 0);
	ASSERT_TRUE(strlen(t.created) == 20);

	/* the name is taken while the token is active */
	ASSERT_INT_EQ(crypto_token_new(id2, sizeof(id2), text, sizeof(text),
	    h2), 0);
	ASSERT_INT_EQ(db_token_insert(c, id2, "ci-bot", 1, h2, 0),
	    ERR_CONFLICT);
	ASSERT_INT_EQ(db_token_insert(c, id, "other", 1, h2, 0),
	    ERR_CONFLICT);
	ASSERT_INT_EQ(db_token_insert(c, id2, "", 1, h2, 0), ERR_INVALID);
	ASSERT_INT_EQ(db_token_insert(c, "NOT-HEX", "x", 1, h2, 0),
	    ERR_INVALID);

	ASSERT_INT_EQ(db_token_revoke(c, "ci-bot"), 0);
	ASSERT_INT_EQ(db_token_get(c, id, &t), 0);
	ASSERT_INT_EQ(t.revoked, 1);
	ASSERT_INT_EQ(db_token_revoke(c, "ci-bot"), ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_token_revoke(c, id), ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_token_revoke(c, "nobody"), ERR_NOT_FOUND);
	/* free again after revocation */
	ASSERT_INT_EQ(db_token_insert(c, id2, "ci-bot", 1, h2, 0), 0);
	ASSERT_INT_EQ(db_token_revoke(c, id2), 0);

	/* expiry comes from the database clock */
	ASSERT_INT_EQ(crypto_token_new(id3, sizeof(id3), text, sizeof(text),
	    h2), 0);
	ASSERT_INT_EQ(db_token_insert(c, id3, "short", 1, h2, 1), 0);
	ASSERT_INT_EQ(db_token_get(c, id3, &t), 0);
	ASSERT_INT_EQ(t.expired, 0);
	ASSERT_TRUE(strlen(t.expires) == 20);
	ASSERT_TRUE(strcmp(t.expires, t.created) > 0);
	usleep(1200000);
	ASSERT_INT_EQ(db_token_get(c, id3, &t), 0);
	ASSERT_INT_EQ(t.expired, 1);
	ASSERT_INT_EQ(t.revoked, 0);

	ASSERT_INT_EQ(db_token_list(c, &list, &n), 0);
	ASSERT_INT_EQ(n, 3);
	for (i = 0; i < n; i++)
		if (strcmp(list[i].id, id3) == 0)
			seen = 1;
	free(list);
	ASSERT_INT_EQ(seen, 1);
	ASSERT_INT_EQ(db_token_get(c, "0000000000000000", &t), ERR_NOT_FOUND);
	ASSERT_INT_EQ(db_token_get(c, "", &t), ERR_NOT_FOUND);
	db_release(pool, c);
}

static void
test_teardown(void)
{
	char cmd[256];

	free(mids);
	mids = NULL;
	db_pool_free(pool);
	pool = NULL;
	if (!cluster_up)
		return;
	ASSERT_INT_EQ(pg("stop", NULL, 0), 0);
	cluster_up = 0;
	if (getenv("ITEST_KEEP") != NULL) {
		printf("# kept %s\n", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_INT_EQ(system(cmd), 0);
}

/*
 * Prepared-statement cache (src/db/stmt_cache.c): three times as many
 * distinct statements as a connection caches, so entries are evicted
 * and DEALLOCATEd, then the first ones again (prepared anew). Every
 * answer must stay right; a stale or confused statement name would
 * answer another query's rows or fail.
 */
static void
test_stmt_cache(void)
{
	static const char *const attrs[] = {
		"displayName", "nickName", "title", "userType",
		"preferredLanguage", "locale", "timezone", "profileUrl",
		"externalId", "name.givenName", "name.familyName",
		"name.formatted", "name.middleName", "emails.value",
		"emails.type", "phoneNumbers.value",
	};
	const size_t na = sizeof(attrs) / sizeof(attrs[0]);
	char filter[256];
	struct qres q;
	size_t i, n, round;

	/* the q.* users of query_fixture(), set up by query_filters */
	for (round = 0; round < 2; round++) {
		n = 0;
		for (i = 0; i < na * na && n < 3 * DB_STMT_CACHE_SIZE; i++) {
			if (i / na == i % na)
				continue;
			/* true for q.alice alone, a distinct SQL text each */
			snprintf(filter, sizeof(filter), "userName eq \"q.alice\" "
			    "and (%s pr or %s pr or userName pr)",
			    attrs[i / na], attrs[i % na]);
			query(SCIM_RT_USER, filter, NULL, 0, 1, 10, &q);
			if (q.r != 0)
				TL_FAIL("%s: error %d %s", filter, q.r,
				    q.e.detail);
			if (q.total != 1 || q.n != 1 || !has_id(&q, qa))
				TL_FAIL("%s: total %llu rows %zu", filter,
				    q.total, q.n);
			n++;
		}
		ASSERT_INT_EQ(n, 3 * DB_STMT_CACHE_SIZE);
	}
}

static const struct testlib_case cases[] = {
	{ "cluster", test_cluster },
	{ "migrate", test_migrate },
	{ "user_crud", test_user_crud },
	{ "uniqueness", test_uniqueness },
	{ "members", test_members },
	{ "query_filters", test_query_filters },
	{ "stmt_cache", test_stmt_cache },
	{ "query_ids", test_query_ids },
	{ "query_bad", test_query_bad },
	{ "query_sort_page", test_query_sort_page },
	{ "statement_timeout", test_statement_timeout },
	{ "pool_threads", test_pool_threads },
	{ "pool_outage", test_pool_outage },
	{ "tokens", test_tokens },
	{ "teardown", test_teardown },
};

TEST_MAIN(cases)
