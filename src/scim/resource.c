#include "scim/resource.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/value.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/strutil.h"

/*
 * Client documents are checked against the static schema tables and
 * rebuilt from scratch with canonical names, so nothing the client sent
 * reaches the store unless a table row allowed it.
 */

#define PATH_BUF (SCIM_ATTR_NAME_MAX + 8)

struct pctx {
	enum scim_rtype rt;
	const struct scim_resource_type *t;
	unsigned listed; /* bit i: t->extensions[i] in schemas */
	struct api_error *e;
};

enum proj_mode { PJ_DEFAULT, PJ_ATTRS, PJ_EXCLUDE };

struct scim_projection {
	enum scim_rtype rt;
	enum proj_mode mode;
	size_t n;
	/* attr == NULL: the whole schema (a bare URN was named) */
	struct scim_attr_path paths[SCIM_ATTRS_PARAM_MAX];
};

enum ref_kind { REF_NONE, REF_GROUPS, REF_MEMBERS };

struct rctx {
	const struct scim_projection *p;
	const char *base; /* base_url without trailing '/' */
	size_t baselen;
	const struct scim_attr *groups_attr;  /* User "groups" */
	const struct scim_attr *members_attr; /* Group "members" */
	const struct scim_attr *id_attr;
	const struct scim_attr *meta_attr;
	const json_t *groups;
	json_t *id;
	json_t *meta;
	int failed;
};

/* jansson's iterators take a non-const object but do not change it. */
static json_t *
unconst(const json_t *j)
{
	return (json_t *)(uintptr_t)j;
}

static int
is_space(unsigned char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* Bytes of client text s[0..len) to show: at most LOG_CLIENT_STR_MAX,
 * never ending inside a UTF-8 sequence (the detail goes out as JSON). */
static int
cut_len(const char *s, size_t len)
{
	size_t n = len;

	if (n > LOG_CLIENT_STR_MAX) {
		n = LOG_CLIENT_STR_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

static int
unknown_attr(struct pctx *c, const char *prefix, const char *name, size_t len)
{
	return api_error_set(c->e, 400, SCIM_ET_INVALID_SYNTAX,
	    "unknown attribute '%s%.*s'", prefix, cut_len(name, len), name);
}

/* 1 if no container in v is nested deeper than JSON_DEPTH_MAX; depth
 * counts the containers enclosing and including v. */
static int
depth_ok(const json_t *v, int depth)
{
	void *it;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return 1;
	if (depth > JSON_DEPTH_MAX)
		return 0;
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if (!depth_ok(json_array_get(v, i), depth + 1))
				return 0;
		return 1;
	}
	for (it = json_object_iter(unconst(v)); it != NULL;
	     it = json_object_iter_next(unconst(v), it))
		if (!depth_ok(json_object_iter_value(it), depth + 1))
			return 0;
	return 1;
}

static int
check_string(struct pctx *c, const char *path, const json_t *v, size_t max)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' must be a string", path);
	s = json_string_value(v);
	len = json_string_length(v);
	if (memchr(s, '\0', len) != NULL || !utf8_valid(s, len))
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' is not a valid string", path);
	if (len > max)
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' is longer than %zu bytes", path, max);
	return 0;
}

/* A checked copy of the simple value v of type a->type in *outp. */
static int
check_scalar(struct pctx *c, const struct scim_attr *a, const char *path,
    const json_t *v, size_t max, json_t **outp)
{
	double x;
	int b, r;

	*outp = NULL;
	switch (a->type) {
	case SCIM_T_STRING:
	case SCIM_T_REFERENCE:
	case SCIM_T_BINARY:
		if ((r = check_string(c, path, v, max)) != 0)
			return r;
		*outp = json_deep_copy(v);
		break;
	case SCIM_T_DATETIME:
		if ((r = check_string(c, path, v, max)) != 0)
			return r;
		if (scim_datetime_parse(json_string_value(v),
		    json_string_length(v), NULL) != 0)
			return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
			    "attribute '%s' must be an xsd:dateTime", path);
		*outp = json_deep_copy(v);
		break;
	case SCIM_T_BOOLEAN:
		if (scim_bool_parse(v, &b) != 0)
			return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
			    "attribute '%s' must be a boolean", path);
		*outp = json_boolean(b);
		break;
	case SCIM_T_INTEGER:
		if (json_is_integer(v)) {
			*outp = json_deep_copy(v);
			break;
		}
		if (json_is_real(v)) {
			/* 3.0 is integral; beyond 2^53 a double is not exact */
			x = json_real_value(v);
			if (x >= -9007199254740992.0 &&
			    x <= 9007199254740992.0 &&
			    (double)(json_int_t)x == x) {
				*outp = json_integer((json_int_t)x);
				break;
			}
		}
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' must be an integer", path);
	case SCIM_T_DECIMAL:
		if (!json_is_number(v))
			return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
			    "attribute '%s' must be a number", path);
		*outp = json_deep_copy(v);
		break;
	case SCIM_T_COMPLEX:
		return ERR_INTERNAL;
	}
	return *outp == NULL ? ERR_ALLOC : 0;
}

/* A checked copy of the complex value v in *outp; NULL when nothing is
 * left (all sub-attributes null or read-only). */
static int
check_complex(struct pctx *c, const struct scim_attr *a, const char *path,
    const json_t *v, json_t **outp)
{
	const struct scim_attr *sub;
	json_t *o = NULL, *x = NULL;
	const char *key;
	char spath[PATH_BUF];
	void *it;
	size_t klen;
	int r = ERR_INTERNAL;

	*outp = NULL;
	if (!json_is_object(v)) {
		r = api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' must be an object", path);
		goto out;
	}
	if ((o = json_object()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (it = json_object_iter(unconst(v)); it != NULL;
	     it = json_object_iter_next(unconst(v), it)) {
		key = json_object_iter_key(it);
		klen = json_object_iter_key_len(it);
		if ((sub = scim_attr_sub(a, key, klen)) == NULL) {
			snprintf(spath, sizeof(spath), "%s.", path);
			r = unknown_attr(c, spath, key, klen);
			goto out;
		}
		if (sub->mutability == SCIM_MUT_READ_ONLY ||
		    json_is_null(json_object_iter_value(it)))
			continue;
		snprintf(spath, sizeof(spath), "%s.%s", path, sub->name);
		if (json_object_get(o, sub->name) != NULL) {
			r = api_error_set(c->e, 400, SCIM_ET_INVALID_SYNTAX,
			    "attribute '%s' given more than once", spath);
			goto out;
		}
		/* SCIM has no complex or multi-valued sub-attributes */
		if (sub->type == SCIM_T_COMPLEX || sub->multi_valued) {
			r = ERR_INTERNAL;
			goto out;
		}
		if ((r = check_scalar(c, sub, spath, json_object_iter_value(it),
			 JSON_STRING_MAX, &x)) != 0)
			goto out;
		if (json_object_set_new(o, sub->name, x) != 0) {
			x = NULL;
			r = ERR_ALLOC;
			goto out;
		}
		x = NULL;
	}
	if (json_object_size(o) > 0) {
		*outp = o;
		o = NULL;
	}
	r = 0;
out:
	json_decref(o);
	return r;
}

/* Checked copy of the value v of attribute a; *outp NULL = unassigned
 * (null, empty array, empty object: RFC 7643 §2.5). */
static int
check_value(struct pctx *c, const struct scim_attr *a, const char *path,
    const json_t *v, size_t max, json_t **outp)
{
	json_t *arr = NULL, *x = NULL, *el;
	size_t i, nprimary = 0;
	int r = ERR_INTERNAL;

	*outp = NULL;
	if (json_is_null(v))
		return 0;
	if (!a->multi_valued) {
		if (json_is_array(v))
			return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
			    "attribute '%s' must be a single value", path);
		if (a->type == SCIM_T_COMPLEX)
			return check_complex(c, a, path, v, outp);
		return check_scalar(c, a, path, v, max, outp);
	}
	if (!json_is_array(v)) {
		r = api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' must be an array", path);
		goto out;
	}
	if (json_array_size(v) > SCIM_MULTI_MAX) {
		r = api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' has more than %d values", path,
		    SCIM_MULTI_MAX);
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < json_array_size(v); i++) {
		el = json_array_get(v, i);
		if (json_is_null(el))
			continue;
		if (a->type == SCIM_T_COMPLEX)
			r = check_complex(c, a, path, el, &x);
		else
			r = check_scalar(c, a, path, el, max, &x);
		if (r != 0)
			goto out;
		if (x == NULL)
			continue;
		if (json_is_true(json_object_get(x, "primary")))
			nprimary++;
		if (json_array_append_new(arr, x) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	if (nprimary > 1) {
		r = api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute '%s' has more than one primary value", path);
		goto out;
	}
	if (json_array_size(arr) > 0) {
		*outp = arr;
		arr = NULL;
	}
	r = 0;
out:
	json_decref(arr);
	return r;
}

/* One Group member: {"value": uuid, "type"?: "User"|"Group"}; display
 * (readOnly) and $ref (derived from value and type) are dropped. */
static int
check_member(struct pctx *c, const struct scim_attr *a, const json_t *v,
    char *uuid, const char **typep)
{
	const struct scim_attr *sub;
	const json_t *val = NULL, *type = NULL, *x;
	const char *key, *s;
	void *it;
	size_t klen, len, i;

	*typep = NULL;
	if (!json_is_object(v))
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute 'members' must hold objects");
	for (it = json_object_iter(unconst(v)); it != NULL;
	     it = json_object_iter_next(unconst(v), it)) {
		key = json_object_iter_key(it);
		klen = json_object_iter_key_len(it);
		x = json_object_iter_value(it);
		if ((sub = scim_attr_sub(a, key, klen)) == NULL)
			return unknown_attr(c, "members.", key, klen);
		if (json_is_null(x))
			continue;
		if (strcmp(sub->name, "value") == 0) {
			if (val != NULL)
				return api_error_set(c->e, 400,
				    SCIM_ET_INVALID_SYNTAX,
				    "attribute "
				    "'members.value' given more than once");
			val = x;
		} else if (strcmp(sub->name, "type") == 0) {
			if (type != NULL)
				return api_error_set(c->e, 400,
				    SCIM_ET_INVALID_SYNTAX,
				    "attribute "
				    "'members.type' given more than once");
			type = x;
		}
	}
	if (val == NULL)
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute 'members.value' is required");
	if (!json_is_string(val) ||
	    (len = json_string_length(val)) != SCIM_ID_LEN)
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute 'members.value' must be a resource id");
	s = json_string_value(val);
	for (i = 0; i < len; i++)
		uuid[i] = (s[i] >= 'A' && s[i] <= 'F')
		    ? (char)(s[i] + ('a' - 'A'))
		    : s[i];
	uuid[len] = '\0';
	if (!str_is_uuid(uuid))
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute 'members.value' must be a resource id");
	if (type != NULL) {
		s = json_is_string(type) ? json_string_value(type) : "";
		len = json_is_string(type) ? json_string_length(type) : 0;
		if (str_ieq_n(s, len, "User"))
			*typep = "User";
		else if (str_ieq_n(s, len, "Group"))
			*typep = "Group";
		else
			return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
			    "attribute 'members.type' must be User or Group");
	}
	return 0;
}

/* Checked, folded copy of a Group's members (an array, maybe empty). */
static int
check_members(
    struct pctx *c, const struct scim_attr *a, const json_t *v, json_t **outp)
{
	json_t *arr = NULL, *seen = NULL, *m = NULL, *prev;
	char uuid[SCIM_ID_LEN + 1];
	const char *type;
	size_t i;
	int r = ERR_INTERNAL;

	*outp = NULL;
	if (json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		r = api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute 'members' must be an array");
		goto out;
	}
	if (json_array_size(v) > SCIM_MEMBERS_PATCH_MAX) {
		r = api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "attribute 'members' has more than %d values",
		    SCIM_MEMBERS_PATCH_MAX);
		goto out;
	}
	/* seen: id -> the member object already in arr (borrowed) */
	if ((arr = json_array()) == NULL || (seen = json_object()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < json_array_size(v); i++) {
		if (json_is_null(json_array_get(v, i)))
			continue;
		if ((r = check_member(
			 c, a, json_array_get(v, i), uuid, &type)) != 0)
			goto out;
		if ((prev = json_object_get(seen, uuid)) != NULL) {
			/* a duplicate may still tell us the type */
			if (type != NULL &&
			    json_object_get(prev, "type") == NULL &&
			    json_object_set_new(
				prev, "type", json_string(type)) != 0) {
				r = ERR_ALLOC;
				goto out;
			}
			continue;
		}
		if ((m = json_pack("{s:s}", "value", uuid)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if (type != NULL &&
		    json_object_set_new(m, "type", json_string(type)) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
		if (json_object_set(seen, uuid, m) != 0 ||
		    json_array_append(arr, m) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
		json_decref(m);
		m = NULL;
	}
	*outp = arr;
	arr = NULL;
	r = 0;
out:
	json_decref(m);
	json_decref(seen);
	json_decref(arr);
	return r;
}

/* Check v as attribute a of schema s and store it in dst. */
static int
put_attr(struct pctx *c, const struct scim_schema *s, const struct scim_attr *a,
    const json_t *v, json_t *dst)
{
	json_t *x = NULL;
	char path[PATH_BUF];
	size_t max = JSON_STRING_MAX;
	int r = ERR_INTERNAL;

	/* readOnly values sent by clients are ignored (RFC 7644 §3.3);
	 * writeOnly ones (password) are accepted and never stored */
	if (a->mutability == SCIM_MUT_READ_ONLY ||
	    a->mutability == SCIM_MUT_WRITE_ONLY)
		return 0;
	if (s->is_extension)
		snprintf(path, sizeof(path), "%s:%s", s->id, a->name);
	else
		snprintf(path, sizeof(path), "%s", a->name);
	if (json_is_null(v))
		return 0;
	if (json_object_get(dst, a->name) != NULL)
		return api_error_set(c->e, 400, SCIM_ET_INVALID_SYNTAX,
		    "attribute '%s' given more than once", path);
	if (s == c->t->schema && strcmp(a->name, "userName") == 0)
		max = SCIM_USERNAME_MAX;
	else if (s == c->t->schema && strcmp(a->name, "displayName") == 0)
		max = SCIM_DISPLAYNAME_MAX;
	if (c->rt == SCIM_RT_GROUP && s == c->t->schema &&
	    strcmp(a->name, "members") == 0)
		r = check_members(c, a, v, &x);
	else
		r = check_value(c, a, path, v, max, &x);
	if (r != 0 || x == NULL)
		goto out;
	if (json_object_set_new(dst, a->name, x) != 0)
		r = ERR_ALLOC;
out:
	return r;
}

/* The stored object of extension number idx, created on demand. */
static int
ext_dst(struct pctx *c, size_t idx, json_t *doc, json_t **dstp)
{
	const struct scim_schema *ext = c->t->extensions[idx];
	json_t *o;

	*dstp = NULL;
	if ((c->listed & (1u << idx)) == 0)
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "extension '%s' is not listed in schemas", ext->id);
	if ((o = json_object_get(doc, ext->id)) == NULL) {
		if ((o = json_object()) == NULL ||
		    json_object_set_new(doc, ext->id, o) != 0)
			return ERR_ALLOC;
	}
	*dstp = o;
	return 0;
}

/* An extension's attributes nested under its URN key. */
static int
put_ext(struct pctx *c, size_t idx, const json_t *v, json_t *doc)
{
	const struct scim_schema *ext = c->t->extensions[idx];
	const struct scim_attr *a;
	const char *key;
	char prefix[PATH_BUF];
	json_t *dst;
	void *it;
	size_t klen;
	int r;

	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "'%s' must be an object", ext->id);
	if ((r = ext_dst(c, idx, doc, &dst)) != 0)
		return r;
	for (it = json_object_iter(unconst(v)); it != NULL;
	     it = json_object_iter_next(unconst(v), it)) {
		key = json_object_iter_key(it);
		klen = json_object_iter_key_len(it);
		if ((a = scim_schema_attr(ext, key, klen)) == NULL) {
			snprintf(prefix, sizeof(prefix), "%s:", ext->id);
			return unknown_attr(c, prefix, key, klen);
		}
		if ((r = put_attr(
			 c, ext, a, json_object_iter_value(it), dst)) != 0)
			return r;
	}
	return 0;
}

/* One top-level member of the body. */
static int
put_top(
    struct pctx *c, const char *key, size_t klen, const json_t *v, json_t *doc)
{
	const struct scim_schema *core = c->t->schema;
	const struct scim_schema *common = scim_schema_common();
	const struct scim_schema *ext;
	const struct scim_attr *a;
	const char *name;
	json_t *dst;
	size_t i, n, nlen;
	int r;

	if (str_ieq_n(key, klen, "schemas"))
		return 0;
	if ((a = scim_schema_attr(core, key, klen)) != NULL)
		return put_attr(c, core, a, v, doc);
	if ((a = scim_schema_attr(common, key, klen)) != NULL)
		return put_attr(c, common, a, v, doc);
	for (i = 0; (ext = c->t->extensions[i]) != NULL; i++) {
		n = strlen(ext->id);
		if (str_ieq_n(key, klen, ext->id))
			return put_ext(c, i, v, doc);
		if (klen <= n + 1 || key[n] != ':' ||
		    !str_ieq_n(key, n, ext->id))
			continue;
		/* "urn:...:enterprise:2.0:User:employeeNumber" */
		name = key + n + 1;
		nlen = klen - n - 1;
		if ((a = scim_schema_attr(ext, name, nlen)) == NULL)
			return unknown_attr(c, "", key, klen);
		if (json_is_null(v))
			return 0;
		if ((r = ext_dst(c, i, doc, &dst)) != 0)
			return r;
		return put_attr(c, ext, a, v, dst);
	}
	n = strlen(core->id);
	if (klen > n + 1 && key[n] == ':' && str_ieq_n(key, n, core->id)) {
		name = key + n + 1;
		nlen = klen - n - 1;
		if ((a = scim_schema_attr(core, name, nlen)) != NULL)
			return put_attr(c, core, a, v, doc);
		if ((a = scim_schema_attr(common, name, nlen)) != NULL)
			return put_attr(c, common, a, v, doc);
		return unknown_attr(c, "", key, klen);
	}
	if (str_ieq_n(key, klen, core->id))
		return unknown_attr(c, "", key, klen);
	if (klen >= 4 && str_ieq_n(key, 4, "urn:"))
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "unknown schema '%.*s'", cut_len(key, klen), key);
	return unknown_attr(c, "", key, klen);
}

/*
 * Schema URNs that real clients list in "schemas" without sending any
 * attribute of them: accepted and ignored. Microsoft Entra ID lists this
 * one in every Group it creates.
 */
static const char *const tolerated_schemas[] = {
	"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
	NULL
};

static int
tolerated_schema(const char *s, size_t len)
{
	size_t i;

	for (i = 0; tolerated_schemas[i] != NULL; i++) {
		if (str_ieq_n(s, len, tolerated_schemas[i]))
			return 1;
	}
	return 0;
}

static int
parse_schemas(struct pctx *c, const json_t *v)
{
	const struct scim_schema *ext;
	const char *s;
	size_t i, k, len;
	int has_core = 0, found;

	if (v == NULL || json_is_null(v))
		return api_error_set(
		    c->e, 400, SCIM_ET_INVALID_VALUE, "'schemas' is required");
	if (!json_is_array(v))
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "'schemas' must be an array of URNs");
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)))
			return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
			    "'schemas' must be an array of URNs");
		s = json_string_value(json_array_get(v, i));
		len = json_string_length(json_array_get(v, i));
		if (str_ieq_n(s, len, c->t->schema->id)) {
			has_core = 1;
			continue;
		}
		found = tolerated_schema(s, len);
		for (k = 0; (ext = c->t->extensions[k]) != NULL; k++) {
			if (str_ieq_n(s, len, ext->id)) {
				c->listed |= 1u << k;
				found = 1;
			}
		}
		if (!found)
			return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
			    "unknown schema '%.*s' for %s", cut_len(s, len), s,
			    c->t->name);
	}
	if (!has_core)
		return api_error_set(c->e, 400, SCIM_ET_INVALID_VALUE,
		    "'schemas' must contain %s", c->t->schema->id);
	return 0;
}

static int
all_space(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_space((unsigned char)s[i]))
			return 0;
	return 1;
}

int
scim_resource_parse(
    enum scim_rtype rt, const json_t *in, json_t **docp, struct api_error *e)
{
	const struct scim_attr *a;
	const struct scim_schema *ext;
	struct pctx c;
	const json_t *schemas = NULL, *v;
	json_t *doc = NULL, *arr;
	const char *key;
	void *it;
	size_t i, klen;
	int r = ERR_INTERNAL;

	*docp = NULL;
	memset(&c, 0, sizeof(c));
	c.rt = rt;
	c.t = scim_schema_rtype(rt);
	c.e = e;
	if (in == NULL || !json_is_object(in)) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "a resource must be a JSON object");
		goto out;
	}
	if (!depth_ok(in, 1)) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "JSON nested deeper than %d levels", JSON_DEPTH_MAX);
		goto out;
	}
	for (it = json_object_iter(unconst(in)); it != NULL;
	     it = json_object_iter_next(unconst(in), it)) {
		key = json_object_iter_key(it);
		klen = json_object_iter_key_len(it);
		if (!str_ieq_n(key, klen, "schemas"))
			continue;
		if (schemas != NULL) {
			r = api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
			    "'schemas' given more than once");
			goto out;
		}
		schemas = json_object_iter_value(it);
	}
	if ((r = parse_schemas(&c, schemas)) != 0)
		goto out;
	if ((doc = json_object()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (it = json_object_iter(unconst(in)); it != NULL;
	     it = json_object_iter_next(unconst(in), it)) {
		if ((r = put_top(&c, json_object_iter_key(it),
			 json_object_iter_key_len(it),
			 json_object_iter_value(it), doc)) != 0)
			goto out;
	}
	for (i = 0; (ext = c.t->extensions[i]) != NULL; i++) {
		v = json_object_get(doc, ext->id);
		if (v != NULL && json_object_size(v) == 0)
			json_object_del(doc, ext->id);
	}
	if (rt == SCIM_RT_GROUP && json_object_get(doc, "members") == NULL) {
		if ((arr = json_array()) == NULL ||
		    json_object_set_new(doc, "members", arr) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	for (i = 0; i < c.t->schema->nattrs; i++) {
		a = &c.t->schema->attrs[i];
		if (!a->required)
			continue;
		if ((v = json_object_get(doc, a->name)) == NULL) {
			r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "attribute '%s' is required", a->name);
			goto out;
		}
		if (json_is_string(v) &&
		    all_space(json_string_value(v), json_string_length(v))) {
			r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "attribute '%s' must not be empty", a->name);
			goto out;
		}
	}
	*docp = doc;
	doc = NULL;
	r = 0;
out:
	json_decref(doc);
	return r;
}

/* ---- projection ---- */

/* Like scim_schema_resolve, but a bare schema URN names the whole
 * schema (attr NULL). */
static int
resolve_name(
    enum scim_rtype rt, const char *s, size_t len, struct scim_attr_path *out)
{
	const struct scim_resource_type *t = scim_schema_rtype(rt);
	size_t i;

	memset(out, 0, sizeof(*out));
	if (str_ieq_n(s, len, t->schema->id)) {
		out->schema = t->schema;
		return 0;
	}
	for (i = 0; t->extensions[i] != NULL; i++) {
		if (str_ieq_n(s, len, t->extensions[i]->id)) {
			out->schema = t->extensions[i];
			return 0;
		}
	}
	return scim_schema_resolve(rt, s, len, out);
}

int
scim_projection_parse(enum scim_rtype rt, const char *attributes,
    const char *excluded, struct scim_projection **out, struct api_error *e)
{
	struct scim_projection *p = NULL;
	const char *list = NULL, *s, *b, *end, *comma;
	size_t nnames = 0;
	int r = ERR_INTERNAL;

	*out = NULL;
	if (attributes != NULL && *attributes != '\0' && excluded != NULL &&
	    *excluded != '\0') {
		r = api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "attributes and excludedAttributes are mutually "
		    "exclusive");
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	p->rt = rt;
	p->mode = PJ_DEFAULT;
	if (attributes != NULL && *attributes != '\0') {
		list = attributes;
		p->mode = PJ_ATTRS;
	} else if (excluded != NULL && *excluded != '\0') {
		list = excluded;
		p->mode = PJ_EXCLUDE;
	}
	for (s = list; s != NULL; s = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(s, ',');
		end = comma != NULL ? comma : s + strlen(s);
		for (b = s; b < end && is_space((unsigned char)*b); b++)
			;
		while (end > b && is_space((unsigned char)end[-1]))
			end--;
		if (end == b)
			continue;
		if (++nnames > SCIM_ATTRS_PARAM_MAX) {
			r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "more than %d attribute names",
			    SCIM_ATTRS_PARAM_MAX);
			goto out;
		}
		/* names we do not hold are not an error (RFC clients ask
		 * for optional attributes) */
		if (resolve_name(rt, b, (size_t)(end - b), &p->paths[p->n]) ==
		    0)
			p->n++;
	}
	*out = p;
	p = NULL;
	r = 0;
out:
	free(p);
	return r;
}

void
scim_projection_free(struct scim_projection *p)
{
	free(p);
}

/* 1 if attribute a of schema s is part of the representation. */
static int
proj_attr(const struct scim_projection *p, const struct scim_schema *s,
    const struct scim_attr *a)
{
	const struct scim_attr_path *pa;
	size_t i;
	int some = 0;

	if (a->returned == SCIM_RET_NEVER)
		return 0;
	if (a->returned == SCIM_RET_ALWAYS)
		return 1;
	if (p == NULL || p->mode == PJ_DEFAULT)
		return a->returned != SCIM_RET_REQUEST;
	for (i = 0; i < p->n; i++) {
		pa = &p->paths[i];
		if (pa->attr == NULL && pa->schema == s) {
			if (p->mode == PJ_EXCLUDE)
				return 0;
			if (a->returned != SCIM_RET_REQUEST)
				return 1;
		} else if (pa->attr == a) {
			if (pa->sub == NULL)
				return p->mode == PJ_ATTRS;
			some = 1;
		}
	}
	if (p->mode == PJ_ATTRS)
		return some;
	return a->returned != SCIM_RET_REQUEST;
}

/* 1 if sub-attribute sub of an included attribute a is returned. */
static int
proj_sub(const struct scim_projection *p, const struct scim_schema *s,
    const struct scim_attr *a, const struct scim_attr *sub)
{
	const struct scim_attr_path *pa;
	size_t i;
	int whole;

	if (sub->returned == SCIM_RET_NEVER)
		return 0;
	if (sub->returned == SCIM_RET_ALWAYS)
		return 1;
	if (p == NULL || p->mode == PJ_DEFAULT)
		return sub->returned != SCIM_RET_REQUEST;
	whole = a->returned == SCIM_RET_ALWAYS;
	for (i = 0; i < p->n; i++) {
		pa = &p->paths[i];
		if (pa->attr == NULL && pa->schema == s)
			whole = 1;
		else if (pa->attr == a) {
			if (pa->sub == sub)
				return p->mode == PJ_ATTRS;
			if (pa->sub == NULL)
				whole = 1;
		}
	}
	if (p->mode == PJ_ATTRS && !whole)
		return 0;
	return sub->returned != SCIM_RET_REQUEST;
}

static int
wants_in(const struct scim_projection *p, enum scim_rtype rt, const char *name,
    int *found)
{
	struct scim_attr_path ap;
	size_t i;

	*found = 0;
	if (resolve_name(rt, name, strlen(name), &ap) != 0)
		return 0;
	*found = 1;
	if (ap.attr == NULL) {
		for (i = 0; i < ap.schema->nattrs; i++)
			if (proj_attr(p, ap.schema, &ap.schema->attrs[i]))
				return 1;
		return 0;
	}
	if (!proj_attr(p, ap.schema, ap.attr))
		return 0;
	if (ap.sub == NULL)
		return 1;
	return proj_sub(p, ap.schema, ap.attr, ap.sub);
}

int
scim_projection_wants(const struct scim_projection *p, const char *attr_name)
{
	int found, w;

	if (attr_name == NULL)
		return 0;
	if (p != NULL)
		return wants_in(p, p->rt, attr_name, &found);
	w = wants_in(NULL, SCIM_RT_USER, attr_name, &found);
	if (!found)
		w = wants_in(NULL, SCIM_RT_GROUP, attr_name, &found);
	return w;
}

/* ---- rendering ---- */

static json_t *
make_url(struct rctx *c, const char *endpoint, const char *id)
{
	struct buf b;
	json_t *j = NULL;

	buf_init(&b, c->baselen + strlen(endpoint) + strlen(id) + 2);
	buf_append(&b, c->base, c->baselen);
	buf_puts(&b, endpoint);
	buf_putc(&b, '/');
	buf_puts(&b, id);
	if (!buf_failed(&b))
		j = json_string(buf_str(&b));
	buf_free(&b);
	if (j == NULL)
		c->failed = 1;
	return j;
}

/* "$ref" of a group or member object v; NULL without a value. */
static json_t *
ref_for(struct rctx *c, const json_t *v, enum ref_kind kind)
{
	const json_t *val = json_object_get(v, "value");
	const json_t *type = json_object_get(v, "type");
	const char *ep = "/Users";

	if (!json_is_string(val))
		return NULL;
	if (kind == REF_GROUPS ||
	    (json_is_string(type) &&
		str_ieq_n(json_string_value(type), json_string_length(type),
		    "Group")))
		ep = "/Groups";
	return make_url(c, ep, json_string_value(val));
}

/* Projected copy of complex value v; NULL if empty or on failure
 * (then c->failed is set). */
static json_t *
render_complex(struct rctx *c, const struct scim_schema *s,
    const struct scim_attr *a, const json_t *v, enum ref_kind ref)
{
	const struct scim_attr *sub;
	json_t *o = NULL, *x, *res = NULL;
	size_t i;

	if (!json_is_object(v))
		goto out;
	if ((o = json_object()) == NULL)
		goto fail;
	for (i = 0; i < a->nsub; i++) {
		sub = &a->sub[i];
		if (!proj_sub(c->p, s, a, sub))
			continue;
		if (ref != REF_NONE && strcmp(sub->name, "$ref") == 0) {
			if ((x = ref_for(c, v, ref)) == NULL) {
				if (c->failed)
					goto out;
				continue;
			}
		} else {
			x = json_object_get(v, sub->name);
			if (x == NULL || json_is_null(x))
				continue;
			if ((x = json_deep_copy(x)) == NULL)
				goto fail;
		}
		if (json_object_set_new(o, sub->name, x) != 0)
			goto fail;
	}
	if (json_object_size(o) > 0) {
		res = o;
		o = NULL;
	}
	goto out;
fail:
	c->failed = 1;
out:
	json_decref(o);
	return res;
}

/* Projected copy of the value v of a; NULL if nothing to show or on
 * failure (then c->failed is set). */
static json_t *
render_attr(struct rctx *c, const struct scim_schema *s,
    const struct scim_attr *a, const json_t *v, enum ref_kind ref)
{
	json_t *arr = NULL, *x, *res = NULL;
	const json_t *el;
	size_t i;

	if (v == NULL || json_is_null(v))
		goto out;
	if (!a->multi_valued) {
		if (a->type == SCIM_T_COMPLEX)
			res = render_complex(c, s, a, v, ref);
		else if ((res = json_deep_copy(v)) == NULL)
			c->failed = 1;
		goto out;
	}
	if (!json_is_array(v))
		goto out;
	if ((arr = json_array()) == NULL)
		goto fail;
	for (i = 0; i < json_array_size(v); i++) {
		el = json_array_get(v, i);
		if (json_is_null(el))
			continue;
		if (a->type == SCIM_T_COMPLEX)
			x = render_complex(c, s, a, el, ref);
		else if ((x = json_deep_copy(el)) == NULL)
			c->failed = 1;
		if (c->failed)
			goto out;
		if (x == NULL)
			continue;
		if (json_array_append_new(arr, x) != 0)
			goto fail;
	}
	if (json_array_size(arr) > 0) {
		res = arr;
		arr = NULL;
	}
	goto out;
fail:
	c->failed = 1;
out:
	json_decref(arr);
	return res;
}

/* The projected attributes of schema s from src into dst. */
static int
render_attrs(
    struct rctx *c, const struct scim_schema *s, const json_t *src, json_t *dst)
{
	const struct scim_attr *a;
	const json_t *v;
	enum ref_kind ref;
	json_t *x;
	size_t i;

	for (i = 0; i < s->nattrs; i++) {
		a = &s->attrs[i];
		if (!proj_attr(c->p, s, a))
			continue;
		ref = REF_NONE;
		v = json_object_get(src, a->name);
		if (a == c->groups_attr) {
			v = c->groups;
			ref = REF_GROUPS;
		} else if (a == c->members_attr)
			ref = REF_MEMBERS;
		else if (a == c->id_attr)
			v = c->id;
		else if (a == c->meta_attr)
			v = c->meta;
		if ((x = render_attr(c, s, a, v, ref)) == NULL) {
			if (c->failed)
				return ERR_ALLOC;
			continue;
		}
		if (json_object_set_new(dst, a->name, x) != 0)
			return ERR_ALLOC;
	}
	return 0;
}

static json_t *
build_meta(struct rctx *c, const struct scim_resource_type *t,
    const struct scim_meta *meta)
{
	json_t *m, *loc = NULL;
	char etag[32];

	if ((m = json_pack("{s:s}", "resourceType", t->name)) == NULL)
		goto fail;
	if (meta->created != NULL &&
	    json_object_set_new(m, "created", json_string(meta->created)) != 0)
		goto fail;
	if (meta->last_modified != NULL &&
	    json_object_set_new(
		m, "lastModified", json_string(meta->last_modified)) != 0)
		goto fail;
	scim_etag(meta->version, etag, sizeof(etag));
	if (json_object_set_new(m, "version", json_string(etag)) != 0)
		goto fail;
	if (meta->id != NULL) {
		if ((loc = make_url(c, t->endpoint, meta->id)) == NULL ||
		    json_object_set_new(m, "location", loc) != 0)
			goto fail;
	}
	return m;
fail:
	c->failed = 1;
	json_decref(m);
	return NULL;
}

json_t *
scim_resource_render(enum scim_rtype rt, const json_t *doc,
    const struct scim_meta *meta, const json_t *groups,
    const struct scim_projection *proj)
{
	const struct scim_resource_type *t = scim_schema_rtype(rt);
	const struct scim_schema *common = scim_schema_common();
	const struct scim_schema *ext;
	const json_t *src;
	struct rctx c;
	json_t *out = NULL, *sch = NULL, *eo = NULL, *res = NULL;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.p = proj;
	c.base = "";
	if (meta != NULL && meta->base_url != NULL) {
		c.base = meta->base_url;
		c.baselen = strlen(c.base);
		while (c.baselen > 0 && c.base[c.baselen - 1] == '/')
			c.baselen--;
	}
	c.id_attr = scim_schema_attr(common, "id", 2);
	c.meta_attr = scim_schema_attr(common, "meta", 4);
	if (rt == SCIM_RT_USER)
		c.groups_attr = scim_schema_attr(t->schema, "groups", 6);
	else
		c.members_attr = scim_schema_attr(t->schema, "members", 7);
	c.groups = groups;
	if (meta != NULL && meta->id != NULL &&
	    (c.id = json_string(meta->id)) == NULL)
		goto out;
	if (meta != NULL && (c.meta = build_meta(&c, t, meta)) == NULL)
		goto out;

	if ((out = json_object()) == NULL || (sch = json_array()) == NULL ||
	    json_array_append_new(sch, json_string(t->schema->id)) != 0)
		goto out;
	for (i = 0; (ext = t->extensions[i]) != NULL; i++) {
		src = json_object_get(doc, ext->id);
		if (json_is_object(src) && json_object_size(src) > 0 &&
		    json_array_append_new(sch, json_string(ext->id)) != 0)
			goto out;
	}
	if (json_object_set_new(out, "schemas", sch) != 0) {
		sch = NULL;
		goto out;
	}
	sch = NULL;
	if (render_attrs(&c, common, doc, out) != 0 ||
	    render_attrs(&c, t->schema, doc, out) != 0)
		goto out;
	for (i = 0; (ext = t->extensions[i]) != NULL; i++) {
		src = json_object_get(doc, ext->id);
		if (!json_is_object(src))
			continue;
		if ((eo = json_object()) == NULL ||
		    render_attrs(&c, ext, src, eo) != 0)
			goto out;
		if (json_object_size(eo) > 0 &&
		    json_object_set(out, ext->id, eo) != 0)
			goto out;
		json_decref(eo);
		eo = NULL;
	}
	res = out;
	out = NULL;
out:
	json_decref(eo);
	json_decref(sch);
	json_decref(out);
	json_decref(c.id);
	json_decref(c.meta);
	return res;
}

/* ---- ETags ---- */

void
scim_etag(long long version, char *out, size_t outsz)
{
	if (out == NULL || outsz == 0)
		return;
	snprintf(out, outsz, "W/\"%lld\"", version);
}

static const char *
skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int
scim_etag_matches(const char *header, long long version, int *any)
{
	char want[32];
	const char *s, *q;
	size_t wlen;
	int n, found = 0;

	if (any != NULL)
		*any = 0;
	if (header == NULL)
		return 0;
	n = snprintf(want, sizeof(want), "%lld", version);
	if (n < 0 || (size_t)n >= sizeof(want))
		return 0;
	wlen = (size_t)n;
	s = skip_ows(header);
	if (*s == '*') {
		if (*skip_ows(s + 1) != '\0')
			return 0;
		if (any != NULL)
			*any = 1;
		return 1;
	}
	/* 1#entity-tag (RFC 7232 §3.1); empty list elements are allowed */
	for (;;) {
		s = skip_ows(s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '\0')
			break;
		if (s[0] == 'W' && s[1] == '/')
			s += 2;
		if (*s != '"')
			return 0;
		q = ++s;
		while (*s != '"') {
			/* etagc = %x21 / %x23-7E / obs-text */
			if ((unsigned char)*s < 0x21 || *s == 0x7f)
				return 0;
			s++;
		}
		if ((size_t)(s - q) == wlen && memcmp(q, want, wlen) == 0)
			found = 1;
		s = skip_ows(s + 1);
		if (*s != ',' && *s != '\0')
			return 0;
	}
	return found;
}
