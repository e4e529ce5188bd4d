#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/errors.h"
#include "util/bounds.h"
#include "util/log.h"
#include "util/strutil.h"

/*
 * Loading is three passes over the parsed files, so that a rule in one
 * file may name a permission set of another: (1) the top level of every
 * file (version, keys, types, counts), (2) every permission set, (3)
 * every safe rule. Nothing is kept from a policy that fails.
 */

#define POLICY_VERSION		1
#define POLICY_PATH_MAX		4096	/* dir + "/" + file name */
#define POLICY_JPATH_MAX	1024	/* a JSON path in a message */
#define POLICY_CLEAN_MAX	(LOG_CLIENT_STR_MAX * 4 + 8)
#define POLICY_ASCII		128

#define POLICY_DEF_MAX_LENGTH	28	/* CyberArk's safe name limit */
#define POLICY_DEF_ALLOWED	"A-Za-z0-9_.-"
#define POLICY_DEF_REPLACE	"_"

enum policy_case {
	POLICY_CASE_KEEP = 0,
	POLICY_CASE_LOWER,
	POLICY_CASE_UPPER
};

struct policy_set {
	char *name;
	unsigned mask;
	size_t src;		/* file index, for messages while loading */
};

struct policy_safe_rule {
	char *id;
	size_t src;		/* file index, for messages while loading */
	/* match: every non-NULL condition must hold */
	char *dn_prefix;	/* display_name_prefix, ASCII-caseless */
	char *dn_exact;		/* display_name, ASCII-caseless */
	char *ext_prefix;	/* external_id_prefix, exact */
	/* name */
	int strip_prefix;
	enum policy_case name_case;
	unsigned max_length;
	unsigned char allowed[POLICY_ASCII]; /* 1 = byte allowed */
	char replace;		/* '\0' = drop other characters */
	/* members and retention */
	const struct policy_set *set;	/* owned by struct policy */
	unsigned retention_days;
};

struct policy {
	struct policy_safe_rule *rules;
	size_t nrules;
	struct policy_set *sets;
	size_t nsets;
};

/* State of one policy_load_dir call. */
struct pload {
	struct policy *p;
	char **files;		/* cleaned file paths, for messages */
	size_t nfiles;
	size_t cur;		/* index of the file being checked */
	char *err;
	size_t errsz;
};

static const struct {
	const char *name;
	unsigned bit;
} policy_perms[] = {
	{ "list", POLICY_PERM_LIST },
	{ "retrieve", POLICY_PERM_RETRIEVE },
	{ "use", POLICY_PERM_USE },
	{ "manage_members", POLICY_PERM_MANAGE_MEMBERS },
};

#define POLICY_NPERMS (sizeof(policy_perms) / sizeof(policy_perms[0]))

static const char *const pol_top_keys[] = { "version", "description",
    "permission_sets", "safes", NULL };
static const char *const pol_rule_keys[] = { "id", "description", "match",
    "name", "permission_set", "retention_days", NULL };
static const char *const pol_match_keys[] = { "display_name_prefix",
    "external_id_prefix", "display_name", NULL };
static const char *const pol_name_keys[] = { "strip_prefix", "case",
    "max_length", "allowed", "replace_other", NULL };

static int
pol_fail(struct pload *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<file>: <path>: <message>"; returns ERR_CONFIG. */
static int
pol_fail(struct pload *l, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path[0] != '\0')
		err_msg(l->err, l->errsz, "%s: %s: %s", l->files[l->cur], path,
		    msg);
	else
		err_msg(l->err, l->errsz, "%s: %s", l->files[l->cur], msg);
	return ERR_CONFIG;
}

static int
pol_nomem(struct pload *l)
{
	err_msg(l->err, l->errsz, "policy: out of memory");
	return ERR_ALLOC;
}

static void
pol_path(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A JSON path for a message; cut when too long (it only informs). */
static void
pol_path(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

/* out = path "." key, or key alone at the top level. */
static void
pol_join(char *out, size_t outsz, const char *path, const char *key)
{
	if (path[0] == '\0')
		pol_path(out, outsz, "%s", key);
	else
		pol_path(out, outsz, "%s.%s", path, key);
}

static int
pol_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
pol_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* A character of names, ids and allowed specs: A-Za-z0-9_.- */
static int
pol_base_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int
pol_ident_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!pol_base_char((unsigned char)s[i]))
			return 0;
	}
	return i > 0 && i <= POLICY_ID_MAX;
}

/* ASCII case-insensitive: 1 if s starts with prefix. */
static int
pol_prefix_ci(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strnlen(s, n) == n && str_ieq_n(s, n, prefix);
}

static int
pol_has_key(const char *const *keys, const char *key)
{
	size_t i;

	for (i = 0; keys[i] != NULL; i++) {
		if (strcmp(keys[i], key) == 0)
			return 1;
	}
	return 0;
}

/* Every key of obj must be in keys. */
static int
pol_check_keys(struct pload *l, json_t *obj, const char *path,
    const char *const *keys)
{
	char clean[POLICY_CLEAN_MAX], sub[POLICY_JPATH_MAX], list[256];
	const char *key;
	json_t *v;
	size_t i, n = 0;

	json_object_foreach(obj, key, v) {
		if (pol_has_key(keys, key))
			continue;
		list[0] = '\0';
		for (i = 0; keys[i] != NULL && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n,
			    "%s%s", i > 0 ? ", " : "", keys[i]);
		log_clean(key, clean, sizeof(clean));
		pol_join(sub, sizeof(sub), path, clean);
		return pol_fail(l, sub, "unknown key (expected one of: %s)",
		    list);
	}
	return 0;
}

/*
 * A string member: *out borrowed from obj (NULL when absent and not
 * required). Length in minlen..maxlen bytes.
 */
static int
pol_str(struct pload *l, json_t *obj, const char *path, const char *key,
    int required, size_t minlen, size_t maxlen, const char **out)
{
	char sub[POLICY_JPATH_MAX];
	json_t *v;
	size_t n;

	*out = NULL;
	pol_join(sub, sizeof(sub), path, key);
	if ((v = json_object_get(obj, key)) == NULL)
		return required ? pol_fail(l, sub, "required") : 0;
	if (!json_is_string(v))
		return pol_fail(l, sub, "must be a string");
	n = json_string_length(v);
	if (n < minlen)
		return pol_fail(l, sub, "must not be empty");
	if (n > maxlen)
		return pol_fail(l, sub, "must be at most %zu bytes", maxlen);
	*out = json_string_value(v);
	return 0;
}

static int
pol_uint(struct pload *l, json_t *obj, const char *path, const char *key,
    int required, unsigned min, unsigned max, unsigned def, unsigned *out)
{
	char sub[POLICY_JPATH_MAX];
	json_t *v;
	json_int_t n;

	*out = def;
	pol_join(sub, sizeof(sub), path, key);
	if ((v = json_object_get(obj, key)) == NULL)
		return required ? pol_fail(l, sub, "required") : 0;
	if (!json_is_integer(v) || (n = json_integer_value(v)) < (json_int_t)min
	    || n > (json_int_t)max)
		return pol_fail(l, sub, "must be an integer in %u..%u", min,
		    max);
	*out = (unsigned)n;
	return 0;
}

static int
pol_bool(struct pload *l, json_t *obj, const char *path, const char *key,
    int def, int *out)
{
	char sub[POLICY_JPATH_MAX];
	json_t *v;

	*out = def;
	pol_join(sub, sizeof(sub), path, key);
	if ((v = json_object_get(obj, key)) == NULL)
		return 0;
	if (!json_is_boolean(v))
		return pol_fail(l, sub, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

/* An object member, *out borrowed (NULL when absent, not required). */
static int
pol_obj(struct pload *l, json_t *obj, const char *path, const char *key,
    int required, json_t **out)
{
	char sub[POLICY_JPATH_MAX];
	json_t *v;

	*out = NULL;
	pol_join(sub, sizeof(sub), path, key);
	if ((v = json_object_get(obj, key)) == NULL)
		return required ? pol_fail(l, sub, "required") : 0;
	if (!json_is_object(v))
		return pol_fail(l, sub, "must be an object");
	*out = v;
	return 0;
}

static unsigned
pol_perm_parse(const char *s)
{
	size_t i;

	for (i = 0; i < POLICY_NPERMS; i++) {
		if (strcmp(policy_perms[i].name, s) == 0)
			return policy_perms[i].bit;
	}
	return 0;
}

static int
pol_char_class(int c)
{
	if (c >= 'a' && c <= 'z')
		return 1;
	if (c >= 'A' && c <= 'Z')
		return 2;
	if (c >= '0' && c <= '9')
		return 3;
	return 0;
}

/*
 * name.allowed: characters of A-Za-z0-9_.- and ranges lo-hi within one
 * of a-z, A-Z, 0-9; a '-' that cannot start or end a range is literal
 * (put it first or last).
 */
static int
pol_allowed_parse(struct pload *l, const char *path, const char *s,
    unsigned char set[POLICY_ASCII])
{
	char clean[POLICY_CLEAN_MAX], one[2];
	size_t i, n = strlen(s);
	int c, hi, k;

	memset(set, 0, POLICY_ASCII);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!pol_base_char(c)) {
			one[0] = (char)c;
			one[1] = '\0';
			log_clean(one, clean, sizeof(clean));
			return pol_fail(l, path, "'%s' is not allowed: use "
			    "characters and ranges of A-Za-z0-9_.-", clean);
		}
		if (i + 2 < n && s[i + 1] == '-') {
			hi = (unsigned char)s[i + 2];
			if (pol_char_class(c) == 0 ||
			    pol_char_class(c) != pol_char_class(hi) || hi < c) {
				if (!pol_base_char(hi))
					hi = '?';
				return pol_fail(l, path, "'%c-%c' is not a "
				    "range within a-z, A-Z or 0-9 (a literal "
				    "'-' goes first or last)", c, hi);
			}
			for (k = c; k <= hi; k++)
				set[k] = 1;
			i += 2;
			continue;
		}
		set[c] = 1;
	}
	return 0;
}

static struct policy_set *
pol_set_find(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nsets; i++) {
		if (strcmp(p->sets[i].name, name) == 0)
			return &p->sets[i];
	}
	return NULL;
}

static struct policy_safe_rule *
pol_rule_find(const struct policy *p, const char *id, size_t below)
{
	size_t i;

	for (i = 0; i < below && i < p->nrules; i++) {
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	}
	return NULL;
}

/* Pass 1: version, top-level keys and types; count sets and rules. */
static int
pol_check_top(struct pload *l, json_t *doc, size_t *nsets, size_t *nrules)
{
	const char *s;
	json_t *v;
	int r;

	if (!json_is_object(doc))
		return pol_fail(l, "", "must be a JSON object");
	/* first, so a newer format gets this message, not "unknown key" */
	if ((v = json_object_get(doc, "version")) == NULL)
		return pol_fail(l, "version", "required");
	if (!json_is_integer(v) || json_integer_value(v) != POLICY_VERSION)
		return pol_fail(l, "version", "must be %d", POLICY_VERSION);
	if ((r = pol_check_keys(l, doc, "", pol_top_keys)) != 0 ||
	    (r = pol_str(l, doc, "", "description", 0, 0, POLICY_TEXT_MAX,
	    &s)) != 0)
		return r;
	if ((v = json_object_get(doc, "permission_sets")) != NULL) {
		if (!json_is_object(v))
			return pol_fail(l, "permission_sets", "must be an "
			    "object");
		*nsets += json_object_size(v);
		if (*nsets > POLICY_SETS_MAX)
			return pol_fail(l, "permission_sets", "more than %d "
			    "permission sets in the policy", POLICY_SETS_MAX);
	}
	if ((v = json_object_get(doc, "safes")) != NULL) {
		if (!json_is_array(v))
			return pol_fail(l, "safes", "must be an array");
		*nrules += json_array_size(v);
		if (*nrules > POLICY_RULES_MAX)
			return pol_fail(l, "safes", "more than %d safe rules "
			    "in the policy", POLICY_RULES_MAX);
	}
	return 0;
}

/* Pass 2: the permission sets of one file. */
static int
pol_load_sets(struct pload *l, json_t *doc)
{
	char clean[POLICY_CLEAN_MAX], path[POLICY_JPATH_MAX];
	char sub[POLICY_JPATH_MAX];
	struct policy *p = l->p;
	struct policy_set *set, *prev;
	const char *name, *s;
	json_t *v, *e, *obj;
	size_t i;
	unsigned bit;

	if ((obj = json_object_get(doc, "permission_sets")) == NULL)
		return 0;
	json_object_foreach(obj, name, v) {
		log_clean(name, clean, sizeof(clean));
		pol_path(path, sizeof(path), "permission_sets.%s", clean);
		if (!pol_ident_ok(name))
			return pol_fail(l, path, "a set name must be 1..%d "
			    "characters of A-Za-z0-9_.-", POLICY_ID_MAX);
		if ((prev = pol_set_find(p, name)) != NULL)
			return pol_fail(l, path, "permission set already "
			    "defined in %s", l->files[prev->src]);
		if (!json_is_array(v))
			return pol_fail(l, path, "must be an array of "
			    "permission names");
		if (json_array_size(v) == 0)
			return pol_fail(l, path, "must name at least one "
			    "permission");
		set = &p->sets[p->nsets++];
		set->src = l->cur;
		if ((set->name = strdup(name)) == NULL)
			return pol_nomem(l);
		json_array_foreach(v, i, e) {
			pol_path(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!json_is_string(e))
				return pol_fail(l, sub, "must be a string");
			s = json_string_value(e);
			if ((bit = pol_perm_parse(s)) == 0) {
				log_clean(s, clean, sizeof(clean));
				return pol_fail(l, sub, "unknown permission "
				    "'%s' (known: list, retrieve, use, "
				    "manage_members)", clean);
			}
			if ((set->mask & bit) != 0)
				return pol_fail(l, sub, "duplicate permission "
				    "'%s'", s);
			set->mask |= bit;
		}
	}
	return 0;
}

static int
pol_dup(struct pload *l, const char *s, char **out)
{
	if (s == NULL)
		return 0;
	if ((*out = strdup(s)) == NULL)
		return pol_nomem(l);
	return 0;
}

static int
pol_load_match(struct pload *l, json_t *rule, const char *path,
    struct policy_safe_rule *r)
{
	char sub[POLICY_JPATH_MAX];
	const char *dnp, *ext, *dn;
	json_t *m;
	int ret;

	if ((ret = pol_obj(l, rule, path, "match", 1, &m)) != 0)
		return ret;
	pol_join(sub, sizeof(sub), path, "match");
	if ((ret = pol_check_keys(l, m, sub, pol_match_keys)) != 0 ||
	    (ret = pol_str(l, m, sub, "display_name_prefix", 0, 1,
	    POLICY_MATCH_MAX, &dnp)) != 0 ||
	    (ret = pol_str(l, m, sub, "external_id_prefix", 0, 1,
	    POLICY_MATCH_MAX, &ext)) != 0 ||
	    (ret = pol_str(l, m, sub, "display_name", 0, 1, POLICY_MATCH_MAX,
	    &dn)) != 0)
		return ret;
	if (dnp == NULL && ext == NULL && dn == NULL)
		return pol_fail(l, sub, "needs at least one of "
		    "display_name_prefix, external_id_prefix, display_name");
	if ((ret = pol_dup(l, dnp, &r->dn_prefix)) != 0 ||
	    (ret = pol_dup(l, ext, &r->ext_prefix)) != 0 ||
	    (ret = pol_dup(l, dn, &r->dn_exact)) != 0)
		return ret;
	return 0;
}

static int
pol_load_name(struct pload *l, json_t *rule, const char *path,
    struct policy_safe_rule *r)
{
	char sub[POLICY_JPATH_MAX], sub2[POLICY_JPATH_MAX];
	const char *cs, *allowed, *rep, *a, *o;
	json_t *n;
	int ret;

	if ((ret = pol_obj(l, rule, path, "name", 0, &n)) != 0)
		return ret;
	pol_join(sub, sizeof(sub), path, "name");
	if (n != NULL && (ret = pol_check_keys(l, n, sub, pol_name_keys)) != 0)
		return ret;
	r->max_length = POLICY_DEF_MAX_LENGTH;
	allowed = POLICY_DEF_ALLOWED;
	rep = POLICY_DEF_REPLACE;
	cs = NULL;
	if (n != NULL) {
		if ((ret = pol_bool(l, n, sub, "strip_prefix", 0,
		    &r->strip_prefix)) != 0 ||
		    (ret = pol_str(l, n, sub, "case", 0, 0, POLICY_ID_MAX,
		    &cs)) != 0 ||
		    (ret = pol_uint(l, n, sub, "max_length", 0, 1,
		    POLICY_SAFE_NAME_MAX, POLICY_DEF_MAX_LENGTH,
		    &r->max_length)) != 0)
			return ret;
		if ((ret = pol_str(l, n, sub, "allowed", 0, 1, 256, &a)) != 0 ||
		    (ret = pol_str(l, n, sub, "replace_other", 0, 0, 8,
		    &o)) != 0)
			return ret;
		if (a != NULL)
			allowed = a;
		if (o != NULL)
			rep = o;
	}
	pol_join(sub2, sizeof(sub2), sub, "case");
	if (cs == NULL || strcmp(cs, "keep") == 0)
		r->name_case = POLICY_CASE_KEEP;
	else if (strcmp(cs, "lower") == 0)
		r->name_case = POLICY_CASE_LOWER;
	else if (strcmp(cs, "upper") == 0)
		r->name_case = POLICY_CASE_UPPER;
	else
		return pol_fail(l, sub2, "must be \"keep\", \"lower\" or "
		    "\"upper\"");
	pol_join(sub2, sizeof(sub2), sub, "allowed");
	if ((ret = pol_allowed_parse(l, sub2, allowed, r->allowed)) != 0)
		return ret;
	pol_join(sub2, sizeof(sub2), sub, "replace_other");
	r->replace = rep[0];
	if (strlen(rep) > 1 || (r->replace != '\0' &&
	    ((unsigned char)r->replace >= POLICY_ASCII ||
	    !r->allowed[(unsigned char)r->replace])))
		return pol_fail(l, sub2, "must be \"\" or one character of "
		    "name.allowed");
	pol_join(sub2, sizeof(sub2), sub, "strip_prefix");
	if (r->strip_prefix && r->dn_prefix == NULL)
		return pol_fail(l, sub2, "needs match.display_name_prefix");
	return 0;
}

/* Pass 3: the safe rules of one file. */
static int
pol_load_rules(struct pload *l, json_t *doc)
{
	char path[POLICY_JPATH_MAX], sub[POLICY_JPATH_MAX];
	char clean[POLICY_CLEAN_MAX];
	struct policy *p = l->p;
	struct policy_safe_rule *r, *prev;
	const char *id, *desc, *setname;
	json_t *arr, *v;
	size_t i;
	int ret;

	if ((arr = json_object_get(doc, "safes")) == NULL)
		return 0;
	json_array_foreach(arr, i, v) {
		pol_path(path, sizeof(path), "safes[%zu]", i);
		if (!json_is_object(v))
			return pol_fail(l, path, "must be an object");
		if ((ret = pol_check_keys(l, v, path, pol_rule_keys)) != 0 ||
		    (ret = pol_str(l, v, path, "id", 1, 1, POLICY_ID_MAX,
		    &id)) != 0 ||
		    (ret = pol_str(l, v, path, "description", 0, 0,
		    POLICY_TEXT_MAX, &desc)) != 0)
			return ret;
		pol_join(sub, sizeof(sub), path, "id");
		if (!pol_ident_ok(id))
			return pol_fail(l, sub, "must be 1..%d characters of "
			    "A-Za-z0-9_.-", POLICY_ID_MAX);
		if ((prev = pol_rule_find(p, id, p->nrules)) != NULL)
			return pol_fail(l, sub, "duplicate rule id '%s' (first "
			    "in %s)", id, l->files[prev->src]);
		r = &p->rules[p->nrules++];
		r->src = l->cur;
		if ((ret = pol_dup(l, id, &r->id)) != 0 ||
		    (ret = pol_load_match(l, v, path, r)) != 0 ||
		    (ret = pol_load_name(l, v, path, r)) != 0 ||
		    (ret = pol_str(l, v, path, "permission_set", 1, 1,
		    POLICY_ID_MAX * 4, &setname)) != 0)
			return ret;
		if ((r->set = pol_set_find(p, setname)) == NULL) {
			pol_join(sub, sizeof(sub), path, "permission_set");
			log_clean(setname, clean, sizeof(clean));
			return pol_fail(l, sub, "'%s' is not a permission set "
			    "of the policy (permission_sets)", clean);
		}
		if ((ret = pol_uint(l, v, path, "retention_days", 1, 0,
		    POLICY_RETENTION_DAYS_MAX, 0, &r->retention_days)) != 0)
			return ret;
	}
	return 0;
}

static int
pol_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
pol_is_policy_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static void
pol_free_names(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The *.json names of dir, sorted; caller frees with pol_free_names. */
static int
pol_list_dir(const char *dir, char ***namesp, size_t *np, char *err,
    size_t errsz)
{
	char clean[POLICY_CLEAN_MAX];
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	DIR *d = NULL;
	int r = ERR_CONFIG;

	*namesp = NULL;
	*np = 0;
	log_clean(dir, clean, sizeof(clean));
	if ((d = opendir(dir)) == NULL) {
		err_msg(err, errsz, "%s: cannot open the policy directory "
		    "(policy.dir): %s", clean, strerror(errno));
		goto out;
	}
	if ((names = calloc(POLICY_FILES_MAX, sizeof(*names))) == NULL) {
		r = ERR_ALLOC;
		err_msg(err, errsz, "policy: out of memory");
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				err_msg(err, errsz, "%s: cannot read the "
				    "directory: %s", clean, strerror(errno));
				goto out;
			}
			break;
		}
		if (!pol_is_policy_file(de->d_name))
			continue;
		if (n == POLICY_FILES_MAX) {
			err_msg(err, errsz, "%s: more than %d *.json files",
			    clean, POLICY_FILES_MAX);
			goto out;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = ERR_ALLOC;
			err_msg(err, errsz, "policy: out of memory");
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), pol_name_cmp);
	*namesp = names;
	*np = n;
	names = NULL;
	r = 0;
out:
	pol_free_names(names, n);
	if (d != NULL)
		closedir(d);
	return r;
}

/* Read and parse one file; *docp owned by the caller. */
static int
pol_parse_file(struct pload *l, const char *path, json_t **docp)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	int r;

	*docp = NULL;
	errno = 0;
	r = file_read_small(path, POLICY_FILE_MAX, &text, &len);
	if (r == ERR_TOO_LARGE)
		return pol_fail(l, "", "file larger than %d bytes",
		    POLICY_FILE_MAX);
	if (r == ERR_ALLOC)
		return pol_nomem(l);
	if (r != 0)
		return pol_fail(l, "", "cannot read: %s", errno != 0 ?
		    strerror(errno) : "not a regular file");
	*docp = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (*docp == NULL)
		return pol_fail(l, "", "line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
	return 0;
}

int
policy_load_dir(const char *dir, struct policy **out, char *err,
    size_t errsz)
{
	char path[POLICY_PATH_MAX], clean[POLICY_CLEAN_MAX];
	struct pload l;
	struct policy *p = NULL;
	json_t **docs = NULL;
	char **names = NULL;
	size_t nnames = 0, i, nsets = 0, nrules = 0, dl;
	int r = ERR_INTERNAL, n;

	*out = NULL;
	err_msg(err, errsz, "%s", "");
	memset(&l, 0, sizeof(l));
	l.err = err;
	l.errsz = errsz;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		err_msg(err, errsz, "policy: out of memory");
		return ERR_ALLOC;
	}
	l.p = p;
	if (dir == NULL)
		goto done;
	if ((r = pol_list_dir(dir, &names, &nnames, err, errsz)) != 0)
		goto out;
	if (nnames == 0)
		goto done;
	r = ERR_ALLOC;
	if ((docs = calloc(nnames, sizeof(*docs))) == NULL ||
	    (l.files = calloc(nnames, sizeof(*l.files))) == NULL) {
		err_msg(err, errsz, "policy: out of memory");
		goto out;
	}
	dl = strlen(dir);
	for (i = 0; i < nnames; i++) {
		n = snprintf(path, sizeof(path), "%s%s%s", dir,
		    dl > 0 && dir[dl - 1] == '/' ? "" : "/", names[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			log_clean(dir, clean, sizeof(clean));
			err_msg(err, errsz, "%s: path too long", clean);
			r = ERR_CONFIG;
			goto out;
		}
		log_clean(path, clean, sizeof(clean));
		if ((l.files[i] = strdup(clean)) == NULL) {
			r = pol_nomem(&l);
			goto out;
		}
		l.nfiles = i + 1;
		l.cur = i;
		if ((r = pol_parse_file(&l, path, &docs[i])) != 0 ||
		    (r = pol_check_top(&l, docs[i], &nsets, &nrules)) != 0)
			goto out;
	}
	if ((nsets > 0 && (p->sets = calloc(nsets, sizeof(*p->sets))) ==
	    NULL) || (nrules > 0 && (p->rules = calloc(nrules,
	    sizeof(*p->rules))) == NULL)) {
		r = pol_nomem(&l);
		goto out;
	}
	for (l.cur = 0; l.cur < nnames; l.cur++) {
		if ((r = pol_load_sets(&l, docs[l.cur])) != 0)
			goto out;
	}
	for (l.cur = 0; l.cur < nnames; l.cur++) {
		if ((r = pol_load_rules(&l, docs[l.cur])) != 0)
			goto out;
	}
done:
	/* success: hand over ownership */
	*out = p;
	p = NULL;
	r = 0;
out:
	if (docs != NULL) {
		for (i = 0; i < nnames; i++)
			json_decref(docs[i]);
		free(docs);
	}
	pol_free_names(l.files, l.nfiles);
	pol_free_names(names, nnames);
	policy_free(p);
	return r;
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++) {
		free(p->rules[i].id);
		free(p->rules[i].dn_prefix);
		free(p->rules[i].dn_exact);
		free(p->rules[i].ext_prefix);
	}
	for (i = 0; i < p->nsets; i++)
		free(p->sets[i].name);
	free(p->rules);
	free(p->sets);
	free(p);
}

size_t
policy_nrules(const struct policy *p)
{
	return p != NULL ? p->nrules : 0;
}

size_t
policy_nsets(const struct policy *p)
{
	return p != NULL ? p->nsets : 0;
}

const struct policy_safe_rule *
policy_rule_at(const struct policy *p, size_t i)
{
	return p != NULL && i < p->nrules ? &p->rules[i] : NULL;
}

static int
pol_rule_matches(const struct policy_safe_rule *r, const char *dn,
    const char *ext)
{
	if (r->dn_prefix != NULL &&
	    (dn == NULL || !pol_prefix_ci(dn, r->dn_prefix)))
		return 0;
	if (r->dn_exact != NULL &&
	    (dn == NULL || !str_ieq_n(dn, strlen(dn), r->dn_exact)))
		return 0;
	if (r->ext_prefix != NULL && (ext == NULL ||
	    strncmp(ext, r->ext_prefix, strlen(r->ext_prefix)) != 0))
		return 0;
	return 1;
}

const struct policy_safe_rule *
policy_match_group(const struct policy *p, const char *display_name,
    const char *external_id)
{
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < p->nrules; i++) {
		if (pol_rule_matches(&p->rules[i], display_name, external_id))
			return &p->rules[i];
	}
	return NULL;
}

int
policy_safe_name(const struct policy_safe_rule *r, const char *display_name,
    char *out, size_t outsz)
{
	const char *s;
	size_t o = 0, max;
	int c, pending = 0;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	if (r == NULL || display_name == NULL || out == NULL)
		return ERR_INVALID;
	max = r->max_length;
	if (outsz < max + 1)
		return ERR_TOO_LARGE;
	s = display_name;
	if (r->strip_prefix && r->dn_prefix != NULL &&
	    pol_prefix_ci(s, r->dn_prefix))
		s += strlen(r->dn_prefix);
	/*
	 * A run of other bytes only marks a replacement as pending; it is
	 * written together with the next allowed character, so a name
	 * never starts or ends with one, and a cut at max never leaves one
	 * dangling. Multibyte UTF-8 characters are runs of other bytes.
	 */
	for (; *s != '\0' && o < max; s++) {
		c = (unsigned char)*s;
		if (r->name_case == POLICY_CASE_LOWER)
			c = pol_lower(c);
		else if (r->name_case == POLICY_CASE_UPPER)
			c = pol_upper(c);
		if (c >= POLICY_ASCII || !r->allowed[c]) {
			pending = o > 0;
			continue;
		}
		if (pending && r->replace != '\0' && out[o - 1] != r->replace &&
		    c != r->replace) {
			if (o + 2 > max)
				break;
			out[o++] = r->replace;
		}
		pending = 0;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o > 0 ? 0 : ERR_INVALID;
}

const char *
policy_rule_id(const struct policy_safe_rule *r)
{
	return r != NULL ? r->id : NULL;
}

unsigned
policy_rule_permissions(const struct policy_safe_rule *r)
{
	return r != NULL && r->set != NULL ? r->set->mask : 0;
}

const char *
policy_rule_permission_set(const struct policy_safe_rule *r)
{
	return r != NULL && r->set != NULL ? r->set->name : NULL;
}

unsigned
policy_rule_retention_days(const struct policy_safe_rule *r)
{
	return r != NULL ? r->retention_days : 0;
}

int
policy_permission_set(const struct policy *p, const char *name,
    unsigned *mask)
{
	const struct policy_set *set;

	if (p == NULL || name == NULL ||
	    (set = pol_set_find(p, name)) == NULL)
		return ERR_NOT_FOUND;
	*mask = set->mask;
	return 0;
}

const char *
policy_perm_name(unsigned perm)
{
	size_t i;

	for (i = 0; i < POLICY_NPERMS; i++) {
		if (policy_perms[i].bit == perm)
			return policy_perms[i].name;
	}
	return NULL;
}

json_t *
policy_perms_json(unsigned perms)
{
	json_t *a;
	const char *name;
	unsigned bit;

	if ((a = json_array()) == NULL)
		return NULL;
	for (bit = 1; bit != 0; bit <<= 1) {
		if ((perms & bit) == 0)
			continue;
		name = policy_perm_name(bit);
		if (json_array_append_new(a, name != NULL ? json_string(name) :
		    json_sprintf("0x%x", bit)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
