#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "testlib.h"

/* Run from the repository root (as make check does). */
#define FIX	"tests/fixtures/policy"

static char tdir[64];
static unsigned tseq;

/* A new empty directory below the test directory (static storage, valid
 * until the next call). */
static const char *
tmpdir_new(void)
{
	static char path[128];

	if (tdir[0] == '\0') {
		snprintf(tdir, sizeof(tdir), "/tmp/vbtest-policy-XXXXXX");
		if (mkdtemp(tdir) == NULL)
			TL_FAIL("mkdtemp");
	}
	snprintf(path, sizeof(path), "%s/d%u", tdir, tseq++);
	if (mkdir(path, 0700) != 0)
		TL_FAIL("mkdir %s", path);
	return path;
}

static void
write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		TL_FAIL("open %s: %s", path, strerror(errno));
	if (len > 0 && write(fd, text, len) != (ssize_t)len)
		TL_FAIL("write %s", path);
	close(fd);
}

static struct policy *
load_ok(const char *dir)
{
	struct policy *p = NULL;
	char err[1024];
	int r;

	if ((r = policy_load_dir(dir, &p, err, sizeof(err))) != 0)
		TL_FAIL("policy_load_dir(%s): %d %s", dir, r, err);
	ASSERT_NOT_NULL(p);
	return p;
}

/* Load dir, expect ERR_CONFIG with a message starting with prefix and
 * containing msg. */
static void
load_bad(const char *dir, const char *prefix, const char *msg)
{
	struct policy *p = (struct policy *)&p;	/* must become NULL */
	char err[1024];
	int r;

	r = policy_load_dir(dir, &p, err, sizeof(err));
	if (r != ERR_CONFIG || p != NULL)
		TL_FAIL("%s loaded (%d)", dir, r);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, msg) == NULL)
		TL_FAIL("got \"%s\", want \"%s...%s\"", err, prefix, msg);
}

static const struct policy_safe_rule *
rule_by_id(const struct policy *p, const char *id)
{
	const struct policy_safe_rule *r;
	size_t i;

	for (i = 0; (r = policy_rule_at(p, i)) != NULL; i++) {
		if (strcmp(policy_rule_id(r), id) == 0)
			return r;
	}
	TL_FAIL("no rule %s", id);
	return NULL;
}

static void
t_example(void)
{
	const struct policy_safe_rule *r;
	struct policy *p;
	char name[POLICY_SAFE_NAME_MAX + 1];
	unsigned m;

	p = load_ok("policy");
	ASSERT_INT_EQ(policy_nrules(p), 3);
	ASSERT_INT_EQ(policy_nsets(p), 3);
	ASSERT_INT_EQ(policy_permission_set(p, "viewer", &m), 0);
	ASSERT_INT_EQ(m, POLICY_PERM_LIST);
	ASSERT_INT_EQ(policy_permission_set(p, "member", &m), 0);
	ASSERT_INT_EQ(m, POLICY_PERM_LIST | POLICY_PERM_RETRIEVE |
	    POLICY_PERM_USE);
	ASSERT_INT_EQ(policy_permission_set(p, "owner", &m), 0);
	ASSERT_INT_EQ(m, POLICY_PERM_ALL);

	r = policy_match_group(p, "pam-admin-Prod-DB", NULL);
	ASSERT_STR_EQ(policy_rule_id(r), "pam-admins");
	ASSERT_INT_EQ(policy_safe_name(r, "pam-admin-Prod-DB", name,
	    sizeof(name)), 0);
	ASSERT_STR_EQ(name, "pam-admin-prod-db");
	ASSERT_INT_EQ(policy_rule_permissions(r), POLICY_PERM_ALL);
	ASSERT_INT_EQ(policy_rule_retention_days(r), 90);

	r = policy_match_group(p, "pam-Prod DB", "00g1");
	ASSERT_STR_EQ(policy_rule_id(r), "pam-groups");
	ASSERT_INT_EQ(policy_safe_name(r, "pam-Prod DB", name, sizeof(name)),
	    0);
	ASSERT_STR_EQ(name, "prod_db");
	ASSERT_STR_EQ(policy_rule_permission_set(r), "member");
	ASSERT_INT_EQ(policy_rule_permissions(r), POLICY_PERM_LIST |
	    POLICY_PERM_RETRIEVE | POLICY_PERM_USE);
	ASSERT_INT_EQ(policy_rule_retention_days(r), 30);

	r = policy_match_group(p, "Finance Ops", "pam:42");
	ASSERT_STR_EQ(policy_rule_id(r), "entra-pam");
	ASSERT_INT_EQ(policy_safe_name(r, "Finance Ops", name, sizeof(name)),
	    0);
	ASSERT_STR_EQ(name, "Finance_Ops");
	ASSERT_INT_EQ(policy_rule_permissions(r), POLICY_PERM_LIST);

	ASSERT_NULL(policy_match_group(p, "Finance Ops", NULL));
	ASSERT_NULL(policy_match_group(p, "Finance Ops", "PAM:42"));
	policy_free(p);
}

static void
t_empty(void)
{
	struct policy *p;
	char name[64];
	unsigned m = 7;

	/* a directory with no file, with only other files, and no dir */
	p = load_ok(tmpdir_new());
	ASSERT_INT_EQ(policy_nrules(p), 0);
	ASSERT_INT_EQ(policy_nsets(p), 0);
	ASSERT_NULL(policy_match_group(p, "pam-x", "pam:1"));
	ASSERT_NULL(policy_rule_at(p, 0));
	ASSERT_INT_EQ(policy_permission_set(p, "viewer", &m), ERR_NOT_FOUND);
	ASSERT_INT_EQ(m, 7);
	policy_free(p);
	p = load_ok(FIX "/good/no-json");
	ASSERT_INT_EQ(policy_nrules(p), 0);
	policy_free(p);
	p = load_ok(NULL);
	ASSERT_INT_EQ(policy_nrules(p), 0);
	ASSERT_INT_EQ(policy_nsets(p), 0);
	policy_free(p);
	policy_free(NULL);
	ASSERT_INT_EQ(policy_nrules(NULL), 0);
	ASSERT_NULL(policy_match_group(NULL, "x", "y"));
	ASSERT_INT_EQ(policy_safe_name(NULL, "x", name, sizeof(name)),
	    ERR_INVALID);
}

/* Rules and sets spread over files, in name order; others ignored. */
static void
t_several(void)
{
	static const struct {
		const char *name;
		unsigned mask;
	} sets[] = {
		{ "viewer", POLICY_PERM_LIST },
		{ "member", POLICY_PERM_LIST | POLICY_PERM_RETRIEVE |
		    POLICY_PERM_USE },
		{ "owner", POLICY_PERM_ALL },
		{ "breakglass", POLICY_PERM_ALL },
		{ "auditor", POLICY_PERM_LIST | POLICY_PERM_RETRIEVE },
	};
	static const char *const ids[] = { "prod", "dev", "audit" };
	const struct policy_safe_rule *r;
	struct policy *p;
	unsigned m;
	size_t i;

	p = load_ok(FIX "/good/several/");
	ASSERT_INT_EQ(policy_nsets(p), 5);
	ASSERT_INT_EQ(policy_nrules(p), 3);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		m = 0;
		if (policy_permission_set(p, sets[i].name, &m) != 0 ||
		    m != sets[i].mask)
			TL_FAIL("set %s: %#x", sets[i].name, m);
	}
	ASSERT_INT_EQ(policy_permission_set(p, "Viewer", &m), ERR_NOT_FOUND);
	ASSERT_INT_EQ(policy_permission_set(p, NULL, &m), ERR_NOT_FOUND);
	for (i = 0; i < 3; i++)
		ASSERT_STR_EQ(policy_rule_id(policy_rule_at(p, i)), ids[i]);
	ASSERT_NULL(policy_rule_at(p, 3));
	r = rule_by_id(p, "prod");
	ASSERT_STR_EQ(policy_rule_permission_set(r), "owner");
	ASSERT_INT_EQ(policy_rule_retention_days(r), 90);
	r = rule_by_id(p, "dev");
	ASSERT_INT_EQ(policy_rule_permissions(r), POLICY_PERM_LIST);
	ASSERT_INT_EQ(policy_rule_retention_days(r), 0);
	r = rule_by_id(p, "audit");
	ASSERT_STR_EQ(policy_rule_permission_set(r), "auditor");
	ASSERT_INT_EQ(policy_rule_retention_days(r), 3650);
	ASSERT_TRUE(policy_match_group(p, "x", "audit:7") == r);
	policy_free(p);
}

static void
t_first_wins(void)
{
	static const struct {
		const char *dn;
		const char *ext;
		const char *want;	/* rule id, NULL = no rule */
	} tab[] = {
		{ "ops-special", NULL, "exact-ops" },
		{ "OPS-Special", NULL, "exact-ops" },
		{ "ops-special-2", NULL, "ops" },
		{ "ops-other", "EXT:1", "ops" },
		{ "OPS-x", NULL, "ops" },
		{ "ops-", NULL, "ops" },
		{ "ops", NULL, NULL },
		{ "op", NULL, NULL },
		{ "nothing", "EXT:1", "ext" },
		{ "nothing", "EXT:", "ext" },
		{ "nothing", "ext:1", NULL },
		{ "nothing", "EXT", NULL },
		{ NULL, "EXT:9", "ext" },
		{ "x-a", "okta:1", "both" },
		{ "X-A", "okta:", "both" },
		{ "x-a", NULL, NULL },
		{ "x-a", "azure:1", NULL },
		{ "y-a", "okta:1", NULL },
		{ NULL, NULL, NULL },
		{ "", "", NULL },
		{ " ops-x", NULL, NULL },
		{ "ops\xc3\xa9-x", NULL, NULL },
	};
	const struct policy_safe_rule *r;
	struct policy *p;
	size_t i;

	p = load_ok(FIX "/good/first-wins");
	ASSERT_INT_EQ(policy_nrules(p), 5);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		r = policy_match_group(p, tab[i].dn, tab[i].ext);
		if (tab[i].want == NULL && r != NULL)
			TL_FAIL("case %zu: matched %s", i, policy_rule_id(r));
		if (tab[i].want != NULL && (r == NULL ||
		    strcmp(policy_rule_id(r), tab[i].want) != 0))
			TL_FAIL("case %zu: got %s want %s", i,
			    r != NULL ? policy_rule_id(r) : "(none)",
			    tab[i].want);
	}
	policy_free(p);
}

static void
t_naming(void)
{
	static const struct {
		const char *rule;
		const char *dn;
		const char *want;	/* NULL = ERR_INVALID */
	} tab[] = {
		/* prefix strip (ASCII case-insensitive), lower case */
		{ "lower-strip", "pam-Prod-DB", "prod-db" },
		{ "lower-strip", "PAM-prod-db", "prod-db" },
		{ "lower-strip", "other-name", "other-name" },
		/* a run of other characters becomes one '_' */
		{ "lower-strip", "pam-prod db", "prod_db" },
		{ "lower-strip", "pam-prod  \t db", "prod_db" },
		{ "lower-strip", "pam-prod.db:eu", "prod_db_eu" },
		/* none at the start or the end */
		{ "lower-strip", "pam- prod db ", "prod_db" },
		{ "lower-strip", "pam-!!prod!!", "prod" },
		/* none next to an original '_' */
		{ "lower-strip", "pam-prod_ db", "prod_db" },
		{ "lower-strip", "pam-prod _db", "prod_db" },
		{ "lower-strip", "pam-prod__db", "prod__db" },
		{ "lower-strip", "pam-a- b", "a-_b" },
		/* non-ASCII: each character (any byte count) is other */
		{ "lower-strip", "pam-Z\xc3\xbcrich Ops", "z_rich_ops" },
		{ "lower-strip", "pam-Z\xc3\xbc\xc3\xbcrich", "z_rich" },
		{ "lower-strip", "pam-\xf0\x9f\x98\x80x", "x" },
		{ "lower-strip", "pam-db-\xe6\x97\xa5\xe6\x9c\xac", "db-" },
		{ "lower-strip", "pam-a\xff\xfe" "b", "a_b" },
		{ "lower-strip", "pam-\xe6\x97\xa5\xe6\x9c\xac", NULL },
		/* empty results */
		{ "lower-strip", "pam-", NULL },
		{ "lower-strip", "pam-   ", NULL },
		{ "lower-strip", "", NULL },
		/* cut at max_length (28) */
		{ "lower-strip", "pam-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		{ "lower-strip", "pam-abcdefghijklmnopqrstuvwxyz x",
		    "abcdefghijklmnopqrstuvwxyz_x" },
		/* no replacement left at the end of a cut name */
		{ "lower-strip", "pam-abcdefghijklmnopqrstuvwxyz0 x",
		    "abcdefghijklmnopqrstuvwxyz0" },
		/* keep case, no strip, '-' as the replacement */
		{ "keep", "keep-Prod DB", "keep-Prod-DB" },
		{ "keep", "keep-a--b", "keep-a--b" },
		{ "keep", "keep-a - b_c", "keep-a-b-c" },
		/* replace_other "": other characters are dropped */
		{ "drop", "drop-Hello World!", "helloworld" },
		{ "drop", "drop-a1b2", "ab" },
		{ "drop", "drop-123", NULL },
		/* upper case, max_length 8 */
		{ "upper", "up-prod db 2024", "PROD_DB" },
		{ "upper", "up-ab", "AB" },
		{ "upper", "UP-x-y", "X-Y" },
		/* max_length 5 */
		{ "short", "short-ab cd", "ab_cd" },
		{ "short", "short-abc de", "abc_d" },
		{ "short", "short-abcd e", "abcd" },
		{ "short", "short-abcdef", "abcde" },
		{ "short", "short-ABC", NULL },
		/* defaults: keep case, A-Za-z0-9_.-, '_', 28 */
		{ "defaults", "defaults", "defaults" },
		{ "defaults", "Team A.b (EU)", "Team_A.b_EU" },
		{ "defaults", "0123456789012345678901234567890",
		    "0123456789012345678901234567" },
	};
	const struct policy_safe_rule *r;
	struct policy *p;
	char out[POLICY_SAFE_NAME_MAX + 1];
	size_t i;
	int ret;

	p = load_ok(FIX "/good/naming");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		r = rule_by_id(p, tab[i].rule);
		memset(out, 'Z', sizeof(out));
		ret = policy_safe_name(r, tab[i].dn, out, sizeof(out));
		if (tab[i].want == NULL) {
			if (ret != ERR_INVALID || out[0] != '\0')
				TL_FAIL("case %zu: got %d \"%s\", want "
				    "ERR_INVALID", i, ret, out);
		} else if (ret != 0 || strcmp(out, tab[i].want) != 0)
			TL_FAIL("case %zu: got %d \"%s\", want \"%s\"", i, ret,
			    out, tab[i].want);
	}
	policy_free(p);
}

static void
t_naming_limits(void)
{
	const struct policy_safe_rule *r;
	struct policy *p;
	char out[POLICY_SAFE_NAME_MAX + 1], big[600];
	size_t i;

	p = load_ok(FIX "/good/naming");
	r = rule_by_id(p, "lower-strip");
	/* out must hold max_length + 1 bytes */
	memset(out, 'Z', sizeof(out));
	ASSERT_INT_EQ(policy_safe_name(r, "pam-x", out, 28), ERR_TOO_LARGE);
	ASSERT_STR_EQ(out, "");
	ASSERT_INT_EQ(policy_safe_name(r, "pam-x", out, 29), 0);
	ASSERT_STR_EQ(out, "x");
	ASSERT_INT_EQ(policy_safe_name(r, "pam-x", out, 0), ERR_TOO_LARGE);
	ASSERT_INT_EQ(policy_safe_name(r, NULL, out, sizeof(out)),
	    ERR_INVALID);
	ASSERT_INT_EQ(policy_safe_name(r, "pam-x", NULL, 0), ERR_INVALID);

	/* max_length 128, a long name with every byte value */
	r = rule_by_id(p, "max");
	memcpy(big, "max-", 4);
	for (i = 4; i < sizeof(big) - 1; i++)
		big[i] = (char)(1 + (i * 7) % 255);
	big[sizeof(big) - 1] = '\0';
	ASSERT_INT_EQ(policy_safe_name(r, big, out, sizeof(out)), 0);
	ASSERT_INT_EQ(strlen(out), 128);
	for (i = 0; out[i] != '\0'; i++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_.-", out[i]) == NULL)
			TL_FAIL("byte %zu: %#x", i, (unsigned char)out[i]);
	}
	/* "max-" is kept; bytes 29 '$' '+' become one '_' before '2' */
	ASSERT_TRUE(strncmp(out, "max-_2", 6) == 0);
	policy_free(p);
}

static void
t_perm_names(void)
{
	ASSERT_STR_EQ(policy_perm_name(POLICY_PERM_LIST), "list");
	ASSERT_STR_EQ(policy_perm_name(POLICY_PERM_RETRIEVE), "retrieve");
	ASSERT_STR_EQ(policy_perm_name(POLICY_PERM_USE), "use");
	ASSERT_STR_EQ(policy_perm_name(POLICY_PERM_MANAGE_MEMBERS),
	    "manage_members");
	ASSERT_NULL(policy_perm_name(0));
	ASSERT_NULL(policy_perm_name(POLICY_PERM_LIST | POLICY_PERM_USE));
	ASSERT_NULL(policy_perm_name(0x10));
}

/* Copy fixture bad/<name> alone into a new directory. */
static const char *
stage_bad(const char *name)
{
	char src[256];
	char *text = NULL;
	size_t len = 0;
	const char *d;

	snprintf(src, sizeof(src), FIX "/bad/%s", name);
	if (file_read_small(src, 1024 * 1024, &text, &len) != 0)
		TL_FAIL("read %s (run from the repository root)", src);
	d = tmpdir_new();
	write_file(d, name, text, len);
	free(text);
	return d;
}

/* Each file of bad/ and the message after "<dir>/<file>: ". */
static const struct {
	const char *file;
	const char *msg;	/* after "<dir>/<file>: " */
} bad_tab[] = {
	{ "version-missing.json", "version: required" },
	{ "version-2.json", "version: must be 1" },
	{ "version-string.json", "version: must be 1" },
	{ "not-object.json", "must be a JSON object" },
	{ "syntax.json", "line 3 column 1: " },
	{ "duplicate-key.json", "duplicate object key" },
	{ "duplicate-key-nested.json", "duplicate object key" },
	{ "trailing.json", "line 2 column 1: end of file expected" },
	{ "empty-file.json", "line 1 column 0: " },
	{ "invalid-utf8.json", "line 1 column " },
	{ "nul-escape.json", "\\u0000 is not allowed" },
	{ "unknown-top-key.json", "safe: unknown key (expected one of: "
	    "version, description, permission_sets, safes)" },
	{ "top-description-number.json",
	    "description: must be a string" },
	{ "sets-not-object.json", "permission_sets: must be an object" },
	{ "set-unknown-perm.json", "permission_sets.viewer[1]: unknown "
	    "permission 'lst' (known: list, retrieve, use, "
	    "manage_members)" },
	{ "set-dup-perm.json", "permission_sets.viewer[1]: duplicate "
	    "permission 'list'" },
	{ "set-empty.json", "permission_sets.viewer: must name at "
	    "least one permission" },
	{ "set-not-array.json", "permission_sets.viewer: must be an "
	    "array of permission names" },
	{ "set-perm-not-string.json",
	    "permission_sets.viewer[0]: must be a string" },
	{ "set-bad-name.json", "permission_sets.view er: a set name "
	    "must be 1..64 characters of A-Za-z0-9_.-" },
	{ "safes-not-array.json", "safes: must be an array" },
	{ "rule-not-object.json", "safes[0]: must be an object" },
	{ "rule-unknown-key.json", "safes[0].retention: unknown key "
	    "(expected one of: id, description, match, name, "
	    "permission_set, retention_days)" },
	{ "rule-missing-id.json", "safes[0].id: required" },
	{ "rule-bad-id.json", "safes[0].id: must be 1..64 characters "
	    "of A-Za-z0-9_.-" },
	{ "rule-id-too-long.json",
	    "safes[0].id: must be at most 64 bytes" },
	{ "rule-dup-id.json", "safes[1].id: duplicate rule id 'a' "
	    "(first in " },
	{ "rule-undefined-set.json", "safes[0].permission_set: 'admin' "
	    "is not a permission set of the policy" },
	{ "rule-missing-set.json", "safes[0].permission_set: required" },
	{ "rule-set-not-string.json",
	    "safes[0].permission_set: must be a string" },
	{ "match-missing.json", "safes[0].match: required" },
	{ "match-empty.json", "safes[0].match: needs at least one of "
	    "display_name_prefix, external_id_prefix, display_name" },
	{ "match-not-object.json", "safes[0].match: must be an object" },
	{ "match-unknown.json", "safes[0].match.group: unknown key" },
	{ "match-empty-prefix.json", "safes[0].match.display_name_prefix: "
	    "must not be empty" },
	{ "match-not-string.json",
	    "safes[0].match.external_id_prefix: must be a string" },
	{ "match-too-long.json",
	    "safes[0].match.display_name: must be at most 256 bytes" },
	{ "name-not-object.json", "safes[0].name: must be an object" },
	{ "name-max-length-0.json", "safes[0].name.max_length: must be "
	    "an integer in 1..128" },
	{ "name-max-length-129.json", "safes[0].name.max_length: must "
	    "be an integer in 1..128" },
	{ "name-max-length-string.json", "safes[0].name.max_length: "
	    "must be an integer in 1..128" },
	{ "name-allowed-bad-char.json", "safes[0].name.allowed: '!' is "
	    "not allowed: use characters and ranges of A-Za-z0-9_.-" },
	{ "name-allowed-space.json",
	    "safes[0].name.allowed: ' ' is not allowed" },
	{ "name-allowed-non-ascii.json",
	    "safes[0].name.allowed: '\\xc3' is not allowed" },
	{ "name-allowed-bad-range.json", "safes[0].name.allowed: 'z-a' "
	    "is not a range within a-z, A-Z or 0-9" },
	{ "name-allowed-cross-range.json",
	    "safes[0].name.allowed: '0-z' is not a range" },
	{ "name-allowed-dash-range.json",
	    "safes[0].name.allowed: '_-.' is not a range" },
	{ "name-allowed-empty.json",
	    "safes[0].name.allowed: must not be empty" },
	{ "name-replace-not-allowed.json", "safes[0].name.replace_other: "
	    "must be \"\" or one character of name.allowed" },
	{ "name-replace-two.json", "safes[0].name.replace_other: must "
	    "be \"\" or one character" },
	{ "name-case-bad.json", "safes[0].name.case: must be \"keep\", "
	    "\"lower\" or \"upper\"" },
	{ "name-strip-no-prefix.json", "safes[0].name.strip_prefix: "
	    "needs match.display_name_prefix" },
	{ "name-strip-not-bool.json",
	    "safes[0].name.strip_prefix: must be true or false" },
	{ "name-unknown.json", "safes[0].name.max_len: unknown key" },
	{ "retention-missing.json", "safes[0].retention_days: required" },
	{ "retention-3651.json", "safes[0].retention_days: must be an "
	    "integer in 0..3650" },
	{ "retention-negative.json", "safes[0].retention_days: must be "
	    "an integer in 0..3650" },
	{ "retention-fraction.json", "safes[0].retention_days: must be "
	    "an integer in 0..3650" },
	{ "description-not-string.json",
	    "safes[0].description: must be a string" },
};

#define NBAD (sizeof(bad_tab) / sizeof(bad_tab[0]))

static void
t_bad_fixtures(void)
{
	char prefix[256];
	const char *d;
	size_t i;

	for (i = 0; i < NBAD; i++) {
		d = stage_bad(bad_tab[i].file);
		snprintf(prefix, sizeof(prefix), "%s/%s: ", d, bad_tab[i].file);
		load_bad(d, prefix, bad_tab[i].msg);
	}
}

/* Every *.json fixture in bad/ is in the table (none forgotten). */
static void
t_bad_fixtures_listed(void)
{
	struct dirent *de;
	size_t i, n = 0, len;
	DIR *d;

	if ((d = opendir(FIX "/bad")) == NULL)
		TL_FAIL("opendir " FIX "/bad");
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		n++;
		for (i = 0; i < NBAD; i++) {
			if (strcmp(bad_tab[i].file, de->d_name) == 0)
				break;
		}
		if (i == NBAD) {
			closedir(d);
			TL_FAIL("%s is not in bad_tab", de->d_name);
		}
	}
	closedir(d);
	ASSERT_INT_EQ(n, NBAD);
}

static void
t_bad_dirs(void)
{
	char prefix[256], name[32], *big;
	const char *d, *text;
	size_t i, len;
	unsigned n;

	/* missing directory */
	load_bad("/nonexistent/policy", "/nonexistent/policy: cannot open "
	    "the policy directory (policy.dir): No such file or directory",
	    "");
	/* a file, not a directory */
	load_bad(FIX "/good/first-wins/rules.json", FIX, "cannot open the "
	    "policy directory");

	/* a permission set defined in two files */
	d = tmpdir_new();
	text = "{\"version\": 1, \"permission_sets\": {\"viewer\": "
	    "[\"list\"]}}";
	write_file(d, "a.json", text, strlen(text));
	text = "{\"version\": 1, \"permission_sets\": {\"viewer\": "
	    "[\"use\"]}}";
	write_file(d, "b.json", text, strlen(text));
	snprintf(prefix, sizeof(prefix), "%s/b.json: permission_sets.viewer: "
	    "permission set already defined in %s/a.json", d, d);
	load_bad(d, prefix, "");

	/* a rule id used in two files; a rule using another file's set */
	d = tmpdir_new();
	text = "{\"version\": 1, \"permission_sets\": {\"v\": [\"list\"]}, "
	    "\"safes\": [{\"id\": \"r\", \"match\": {\"display_name\": \"a\"},"
	    " \"permission_set\": \"v\", \"retention_days\": 1}]}";
	write_file(d, "a.json", text, strlen(text));
	text = "{\"version\": 1, \"safes\": [{\"id\": \"r\", \"match\": "
	    "{\"display_name\": \"b\"}, \"permission_set\": \"v\", "
	    "\"retention_days\": 1}]}";
	write_file(d, "b.json", text, strlen(text));
	snprintf(prefix, sizeof(prefix), "%s/b.json: safes[0].id: duplicate "
	    "rule id 'r' (first in %s/a.json)", d, d);
	load_bad(d, prefix, "");

	/* a directory called *.json */
	d = tmpdir_new();
	snprintf(prefix, sizeof(prefix), "%s/x.json", d);
	ASSERT_INT_EQ(mkdir(prefix, 0700), 0);
	snprintf(prefix, sizeof(prefix), "%s/x.json: cannot read: ", d);
	load_bad(d, prefix, "");

	/* over POLICY_FILE_MAX */
	d = tmpdir_new();
	len = POLICY_FILE_MAX + 1;
	if ((big = malloc(len)) == NULL)
		TL_FAIL("malloc");
	memset(big, ' ', len);
	memcpy(big, "{\"version\": 1}", 14);
	write_file(d, "big.json", big, len);
	snprintf(prefix, sizeof(prefix), "%s/big.json: file larger than "
	    "262144 bytes", d);
	load_bad(d, prefix, "");
	/* exactly at the limit is fine */
	write_file(d, "big.json", big, len - 1);
	policy_free(load_ok(d));
	free(big);

	/* more than POLICY_FILES_MAX files */
	d = tmpdir_new();
	for (n = 0; n <= POLICY_FILES_MAX; n++) {
		snprintf(name, sizeof(name), "p%03u.json", n);
		write_file(d, name, "{\"version\": 1}", 14);
	}
	snprintf(prefix, sizeof(prefix), "%s: more than 64 *.json files", d);
	load_bad(d, prefix, "");
	snprintf(prefix, sizeof(prefix), "%s/p000.json", d);
	ASSERT_INT_EQ(unlink(prefix), 0);
	policy_free(load_ok(d));

	/* more than POLICY_RULES_MAX rules over two files */
	d = tmpdir_new();
	for (n = 0; n < 2; n++) {
		char *p;
		size_t o = 0, cap = 200000;

		if ((p = malloc(cap)) == NULL)
			TL_FAIL("malloc");
		o += (size_t)snprintf(p + o, cap - o, "{\"version\": 1, "
		    "\"permission_sets\": {\"s%u\": [\"list\"]}, \"safes\": [",
		    n);
		for (i = 0; i < POLICY_RULES_MAX / 2 + n; i++)
			o += (size_t)snprintf(p + o, cap - o, "%s{\"id\": "
			    "\"r%u-%zu\", \"match\": {\"display_name\": "
			    "\"g%zu\"}, \"permission_set\": \"s%u\", "
			    "\"retention_days\": 1}", i > 0 ? ", " : "", n, i,
			    i, n);
		o += (size_t)snprintf(p + o, cap - o, "]}");
		ASSERT_TRUE(o < cap);
		snprintf(name, sizeof(name), "f%u.json", n);
		write_file(d, name, p, o);
		free(p);
	}
	snprintf(prefix, sizeof(prefix), "%s/f1.json: safes: more than 1024 "
	    "safe rules in the policy", d);
	load_bad(d, prefix, "");
}

static void
rm_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		TL_FAIL("%s", cmd);
}

static void
t_cleanup(void)
{
	if (tdir[0] != '\0')
		rm_tree(tdir);
}

static const struct testlib_case cases[] = {
	{ "example", t_example },
	{ "empty", t_empty },
	{ "several", t_several },
	{ "first_wins", t_first_wins },
	{ "naming", t_naming },
	{ "naming_limits", t_naming_limits },
	{ "perm_names", t_perm_names },
	{ "bad_fixtures", t_bad_fixtures },
	{ "bad_fixtures_listed", t_bad_fixtures_listed },
	{ "bad_dirs", t_bad_dirs },
	{ "cleanup", t_cleanup },
};

/* testlib.h's main keeps counters in non-volatile locals across setjmp */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
TEST_MAIN(cases)
