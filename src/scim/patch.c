#include "scim/patch.h"

#include <stdlib.h>
#include <string.h>

#include "scim/filter.h"
#include "scim/value.h"
#include "util/bounds.h"
#include "util/strutil.h"

/*
 * SCIM PATCH (RFC 7644 §3.5.2). Parsing compiles each PatchOp operation
 * into one or more resolved operations (a value without "path" becomes
 * one operation per attribute it names), with values checked against
 * the schema and normalised (canonical names, "True" -> true); applying
 * is then only JSON surgery on the stored document.
 *
 * Decisions taken once here:
 *  - unknown attribute or sub-attribute names anywhere in a PATCH (a
 *    path, a key of a value without path, a key inside a complex value)
 *    -> 400 invalidPath, the answer scim_path_parse gives for a bad path.
 *  - a readOnly attribute named explicitly (path, or key of a value
 *    without path) -> 400 mutability; readOnly sub-attributes inside a
 *    value (a member's "display", manager "displayName") and the keys
 *    "id", "meta", "schemas" of a value without path are ignored (Okta
 *    sends the group's own id when renaming it). When the document
 *    handed to apply carries its "id", a different "id" is refused.
 *  - removing a required attribute, also by replacing it with null ->
 *    400 mutability (RFC 7644 §3.5.2.2, last paragraph); remove without
 *    path -> 400 noTarget (same section); an immutable value may be set
 *    only while it has none (RFC 7643 §2.2).
 *  - "value": null unassigns on replace (RFC 7643 §2.5), does nothing on
 *    add. A single-valued complex attribute given a plain string (Entra
 *    sends the enterprise "manager" so) means {"value": string}.
 *  - a value filter that selects nothing: remove does nothing (IGA
 *    retries); replace/add of "attr[sub eq lit].target" creates the
 *    element {sub: lit, target: value} (Entra emails, addresses); add of
 *    "attr[filter]" appends its value; anything else -> 400 noTarget.
 *  - structure errors (body, "op") -> invalidSyntax; bad or missing
 *    values, too many values, bad member ids -> invalidValue.
 */

enum patch_kind {
	PATCH_ADD,
	PATCH_REMOVE,
	PATCH_REPLACE,
	PATCH_ID_CHECK		/* "id" seen in a value without path */
};

struct patch_op {
	enum patch_kind kind;
	struct scim_path path;		/* resolved target; owns its filter */
	const struct scim_schema *ext;	/* remove of a whole extension */
	json_t *value;			/* normalised value, or NULL */
	json_t *ids;			/* members remove by filter: id set */
	const char *lit_key;		/* element to create when the */
	json_t *lit;			/* filter selects none, or NULL */
	int members;			/* targets the Group "members" */
	int delta_ok;			/* foldable into a member delta */
};

struct scim_patch {
	enum scim_rtype rt;
	const struct scim_attr *members_attr;	/* Groups only */
	struct patch_op *ops;
	size_t nops;
	size_t cap;
	size_t nmember_values;
	int touches_members;
	int need_members;
};

#define OPS_GROW	16
#define DETAIL_NAME	100	/* client names quoted in error details */

/*
 * jansson's object iterator takes json_t * although iterating does not
 * change the object; this keeps const parameters honest without a cast
 * that drops the qualifier.
 */
static json_t *
mut(const json_t *j)
{
	union {
		const json_t *c;
		json_t *m;
	} u;

	u.c = j;
	return u.m;
}

static int
klen_cut(size_t len)
{
	return len > DETAIL_NAME ? DETAIL_NAME : (int)len;
}

/* Member of o whose name matches case-insensitively (RFC 7644 §3.10). */
static int
obj_iget(const json_t *o, const char *name, json_t **vp, struct api_error *e)
{
	const char *k;
	size_t klen;
	json_t *v;

	*vp = NULL;
	json_object_keylen_foreach(mut(o), k, klen, v) {
		if (!str_ieq_n(k, klen, name))
			continue;
		if (*vp != NULL)
			return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
			    "\"%s\" given twice", name);
		*vp = v;
	}
	return 0;
}

static void
op_clear(struct patch_op *op)
{
	scim_path_clear(&op->path);
	json_decref(op->value);
	json_decref(op->ids);
	json_decref(op->lit);
	memset(op, 0, sizeof(*op));
}

/* Append *op to p; ownership of its contents moves, *op is zeroed. */
static int
push_op(struct scim_patch *p, struct patch_op *op)
{
	struct patch_op *n;
	size_t cap;

	if (p->nops == p->cap) {
		cap = p->cap == 0 ? OPS_GROW : p->cap * 2;
		if ((n = reallocarray(p->ops, cap, sizeof(*n))) == NULL)
			return ERR_ALLOC;
		p->ops = n;
		p->cap = cap;
	}
	p->ops[p->nops++] = *op;
	memset(op, 0, sizeof(*op));
	return 0;
}

static int
is_primary(const json_t *el)
{
	return json_is_true(json_object_get(el, "primary"));
}

static int
is_password(const struct scim_attr *a)
{
	return a->mutability == SCIM_MUT_WRITE_ONLY &&
	    strcmp(a->name, "password") == 0;
}

static size_t
str_max(const struct scim_attr *t)
{
	if (strcmp(t->name, "userName") == 0)
		return SCIM_USERNAME_MAX;
	if (strcmp(t->name, "displayName") == 0)
		return SCIM_DISPLAYNAME_MAX;
	return JSON_STRING_MAX;
}

static int
bad_type(const struct scim_attr *t, struct api_error *e)
{
	return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
	    "%s must be of type %s", t->name, scim_type_name(t->type));
}

/*
 * Check and normalise v for the simple attribute t (t is a or one of its
 * sub-attributes). *out is a new reference.
 */
static int
norm_leaf(const struct scim_patch *p, const struct scim_attr *a,
    const struct scim_attr *t, const json_t *v, json_t **out,
    struct api_error *e)
{
	char id[SCIM_ID_LEN + 1];
	const char *s;
	size_t i, len;
	int b, member = a == p->members_attr;

	*out = NULL;
	switch (t->type) {
	case SCIM_T_COMPLEX:
		return ERR_INTERNAL;
	case SCIM_T_BOOLEAN:
		if (scim_bool_parse(v, &b) != 0)
			return bad_type(t, e);
		*out = json_boolean(b);
		break;
	case SCIM_T_INTEGER:
		if (!json_is_integer(v))
			return bad_type(t, e);
		*out = json_integer(json_integer_value(v));
		break;
	case SCIM_T_DECIMAL:
		if (!json_is_number(v))
			return bad_type(t, e);
		*out = json_deep_copy(v);
		break;
	case SCIM_T_STRING:
	case SCIM_T_DATETIME:
	case SCIM_T_BINARY:
	case SCIM_T_REFERENCE:
		if (!json_is_string(v))
			return bad_type(t, e);
		s = json_string_value(v);
		len = json_string_length(v);
		if (len > str_max(t) || memchr(s, '\0', len) != NULL ||
		    !utf8_valid(s, len))
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s: string too long or not valid text", t->name);
		if (t->required && len == 0)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s must not be empty", t->name);
		if (t->type == SCIM_T_DATETIME && scim_datetime_parse(s, len, NULL) != 0)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s must be an xsd:dateTime", t->name);
		if (member && strcmp(t->name, "value") == 0) {
			/* ids are stored lower-case; fold as a POST does */
			if (len > SCIM_ID_LEN)
				len = SCIM_ID_LEN + 1;
			for (i = 0; i < len && i < SCIM_ID_LEN; i++)
				id[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ?
				    s[i] + 32 : s[i]);
			id[i] = '\0';
			if (len != SCIM_ID_LEN || !str_is_uuid(id))
				return api_error_set(e, 400,
				    SCIM_ET_INVALID_VALUE, "member value "
				    "\"%.40s\" is not a uuid", s);
			s = id;
		}
		if (member && strcmp(t->name, "type") == 0) {
			if (str_ieq_n(s, len, "User"))
				s = "User";
			else if (str_ieq_n(s, len, "Group"))
				s = "Group";
			else
				return api_error_set(e, 400,
				    SCIM_ET_INVALID_VALUE,
				    "member type must be User or Group");
			len = strlen(s);
		}
		*out = json_stringn(s, len);
		break;
	}
	return *out == NULL ? ERR_ALLOC : 0;
}

/*
 * Check and normalise the object v for the complex attribute a: canonical
 * sub-attribute names, readOnly ones and nulls dropped. elem: v is one
 * value of a multi-valued attribute and must not end up empty.
 */
static int
norm_complex(const struct scim_patch *p, const struct scim_attr *a,
    const json_t *v, int elem, json_t **out, struct api_error *e)
{
	const struct scim_attr *t;
	const char *k;
	size_t klen;
	json_t *o = NULL, *sv, *nv;
	int r = ERR_ALLOC;

	*out = NULL;
	if (!json_is_object(v)) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "%s: expected an object", a->name);
		goto out;
	}
	if ((o = json_object()) == NULL)
		goto out;
	json_object_keylen_foreach(mut(v), k, klen, sv) {
		if ((t = scim_attr_sub(a, k, klen)) == NULL) {
			r = api_error_set(e, 400, SCIM_ET_INVALID_PATH,
			    "unknown sub-attribute %s.%.*s", a->name,
			    klen_cut(klen), k);
			goto out;
		}
		/* "$ref" of a member is derived from its id */
		if (t->mutability == SCIM_MUT_READ_ONLY || json_is_null(sv) ||
		    (a == p->members_attr && strcmp(t->name, "$ref") == 0))
			continue;
		if ((r = norm_leaf(p, a, t, sv, &nv, e)) != 0)
			goto out;
		if (json_object_set_new(o, t->name, nv) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	if (a == p->members_attr && json_object_get(o, "value") == NULL) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "a member needs a \"value\"");
		goto out;
	}
	if (elem && json_object_size(o) == 0) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "empty value for %s", a->name);
		goto out;
	}
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	return r;
}

/*
 * Normalise the value(s) for the multi-valued attribute a into a new
 * array, without duplicates (members: by id). A single value not in an
 * array is taken as a list of one.
 */
static int
norm_multi(struct scim_patch *p, const struct scim_attr *a, const json_t *v,
    json_t **out, struct api_error *e)
{
	json_t *arr = NULL, *seen = NULL, *nv = NULL;
	const json_t *x;
	const char *id;
	size_t i, j, n, nprimary = 0;
	int members = a == p->members_attr, dup, r = ERR_ALLOC;

	*out = NULL;
	n = json_is_array(v) ? json_array_size(v) : 1;
	if (members) {
		p->nmember_values += n;
		if (p->nmember_values > SCIM_MEMBERS_PATCH_MAX) {
			r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "more than %d member values in one PATCH",
			    SCIM_MEMBERS_PATCH_MAX);
			goto out;
		}
	} else if (n > SCIM_MULTI_MAX) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "%s: more than %d values", a->name, SCIM_MULTI_MAX);
		goto out;
	}
	if ((arr = json_array()) == NULL ||
	    (members && (seen = json_object()) == NULL))
		goto out;
	for (i = 0; i < n; i++) {
		x = json_is_array(v) ? json_array_get(v, i) : v;
		if (json_is_null(x))
			continue;
		if (a->type == SCIM_T_COMPLEX)
			r = norm_complex(p, a, x, 1, &nv, e);
		else
			r = norm_leaf(p, a, a, x, &nv, e);
		if (r != 0)
			goto out;
		r = ERR_ALLOC;
		dup = 0;
		if (members) {
			id = json_string_value(json_object_get(nv, "value"));
			if (json_object_get(seen, id) != NULL)
				dup = 1;
			else if (json_object_set_new(seen, id,
			    json_null()) != 0)
				goto out;
		} else {
			for (j = 0; j < json_array_size(arr) && !dup; j++)
				dup = json_equal(json_array_get(arr, j), nv);
		}
		if (dup) {
			json_decref(nv);
			nv = NULL;
			continue;
		}
		if (is_primary(nv) && ++nprimary > 1) {
			r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s: more than one primary value", a->name);
			goto out;
		}
		r = json_array_append_new(arr, nv);
		nv = NULL;
		if (r != 0) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	*out = arr;
	arr = NULL;
	r = 0;
out:
	json_decref(nv);
	json_decref(arr);
	json_decref(seen);
	return r;
}

/*
 * The element a replace/add through "attr[sub eq lit].x" creates when no
 * element matches (Entra sets emails[type eq "work"].value on a user that
 * has no work email). Only for a single eq on a writable sub-attribute;
 * otherwise op->lit stays NULL.
 */
static int
filter_literal(const struct scim_patch *p, const struct scim_attr *a,
    struct patch_op *op)
{
	const struct scim_filter *f = op->path.filter;
	struct api_error ignore;
	json_t *lit = NULL;
	int r = 0;

	if (f->op != SCIM_FOP_EQ || f->path.sub == NULL ||
	    f->path.sub->mutability == SCIM_MUT_READ_ONLY)
		goto out;
	switch (f->vtype) {
	case SCIM_FVAL_STRING:
		if (f->text != NULL && (lit = json_string(f->text)) == NULL)
			r = ERR_ALLOC;
		break;
	case SCIM_FVAL_NUMBER:
		if (f->text != NULL)
			lit = json_loads(f->text, JSON_DECODE_ANY, NULL);
		break;
	case SCIM_FVAL_TRUE:
		lit = json_true();
		break;
	case SCIM_FVAL_FALSE:
		lit = json_false();
		break;
	default:
		break;
	}
	if (lit == NULL)
		goto out;
	api_error_clear(&ignore);
	/* a literal that does not fit the attribute creates nothing */
	if (norm_leaf(p, a, f->path.sub, lit, &op->lit, &ignore) == 0)
		op->lit_key = f->path.sub->name;
out:
	json_decref(lit);
	return r;
}

/*
 * Member ids selected by a filter made only of `value eq "id"` joined by
 * `or`: 1 and ids filled, 0 if the filter is anything else, or an error.
 * A literal that is no uuid can select no member: it is left out.
 */
static int
collect_ids(struct scim_patch *p, const struct scim_filter *f, json_t *ids,
    struct api_error *e)
{
	char id[SCIM_ID_LEN + 1];
	size_t i, len;
	int r;

	if (f->op == SCIM_FOP_OR) {
		if ((r = collect_ids(p, f->left, ids, e)) != 1)
			return r;
		return collect_ids(p, f->right, ids, e);
	}
	if (f->op != SCIM_FOP_EQ || f->path.sub == NULL ||
	    strcmp(f->path.sub->name, "value") != 0 ||
	    f->vtype != SCIM_FVAL_STRING || f->text == NULL)
		return 0;
	if (++p->nmember_values > SCIM_MEMBERS_PATCH_MAX)
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "more than %d member values in one PATCH",
		    SCIM_MEMBERS_PATCH_MAX);
	/* member "value" compares case-insensitively, stored ids are lower */
	if ((len = strlen(f->text)) != SCIM_ID_LEN)
		return 1;
	for (i = 0; i < len; i++) {
		id[i] = f->text[i];
		if (id[i] >= 'A' && id[i] <= 'Z')
			id[i] = (char)(id[i] + 32);
	}
	id[len] = '\0';
	if (!str_is_uuid(id))
		return 1;
	if (json_object_set_new(ids, id, json_null()) != 0)
		return ERR_ALLOC;
	return 1;
}

/* Decide whether a members operation folds into a member delta. */
static int
delta_check(struct scim_patch *p, struct patch_op *op, struct api_error *e)
{
	json_t *ids = NULL;
	int r = 0;

	op->delta_ok = 0;
	if (op->path.filter == NULL && op->path.attr.sub == NULL) {
		op->delta_ok = 1;
		goto out;
	}
	if (op->kind != PATCH_REMOVE || op->path.attr.sub != NULL)
		goto out;
	if ((ids = json_object()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = collect_ids(p, op->path.filter, ids, e)) < 0)
		goto out;
	if (r == 1) {
		op->ids = ids;
		ids = NULL;
		op->delta_ok = 1;
	}
	r = 0;
out:
	json_decref(ids);
	return r;
}

/*
 * Turn one resolved target and its raw value into an operation of p.
 * Takes over *sp (cleared on return).
 */
static int
compile(struct scim_patch *p, enum patch_kind kind, struct scim_path *sp,
    const json_t *val, struct api_error *e)
{
	struct patch_op op;
	const struct scim_attr *a, *sub, *vsub;
	const struct scim_filter *f;
	json_t *nv = NULL;
	int r = ERR_INVALID;

	memset(&op, 0, sizeof(op));
	op.path = *sp;
	memset(sp, 0, sizeof(*sp));
	a = op.path.attr.attr;
	sub = op.path.attr.sub;
	f = op.path.filter;
	if (a == NULL) {
		r = ERR_INTERNAL;
		goto out;
	}
	if (f != NULL && (!a->multi_valued || a->type != SCIM_T_COMPLEX)) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_PATH,
		    "a value filter needs a multi-valued complex attribute, "
		    "not %s", a->name);
		goto out;
	}
	if (a->mutability == SCIM_MUT_READ_ONLY ||
	    (sub != NULL && sub->mutability == SCIM_MUT_READ_ONLY)) {
		r = api_error_set(e, 400, SCIM_ET_MUTABILITY,
		    "%s%s%s is readOnly", a->name, sub != NULL ? "." : "",
		    sub != NULL ? sub->name : "");
		goto out;
	}
	/* accepted and dropped, never stored */
	if (is_password(a)) {
		r = 0;
		goto out;
	}
	if (kind != PATCH_REMOVE && json_is_null(val)) {
		if (kind == PATCH_ADD) {
			r = 0;
			goto out;
		}
		kind = PATCH_REMOVE;
		val = NULL;
	}
	r = 0;
	if (kind == PATCH_REMOVE) {
		if (sub != NULL && sub->mutability == SCIM_MUT_IMMUTABLE) {
			r = api_error_set(e, 400, SCIM_ET_MUTABILITY,
			    "%s.%s is immutable", a->name, sub->name);
			goto out;
		}
		if (a->required && sub == NULL && f == NULL) {
			r = api_error_set(e, 400, SCIM_ET_MUTABILITY,
			    "%s is required and cannot be removed", a->name);
			goto out;
		}
		if (val != NULL && !json_is_null(val) && a->multi_valued &&
		    sub == NULL && f == NULL)
			r = norm_multi(p, a, val, &op.value, e);
	} else if (sub != NULL)
		r = norm_leaf(p, a, sub, val, &op.value, e);
	else if (f != NULL)
		r = norm_complex(p, a, val, 1, &op.value, e);
	else if (a->multi_valued)
		r = norm_multi(p, a, val, &op.value, e);
	else if (a->type == SCIM_T_COMPLEX && !json_is_object(val) &&
	    (vsub = scim_attr_sub(a, "value", 5)) != NULL) {
		/* Entra: "manager": "<id>" */
		if ((r = norm_leaf(p, a, vsub, val, &nv, e)) == 0) {
			r = ERR_ALLOC;
			if ((op.value = json_object()) != NULL) {
				/* set_new takes nv even when it fails */
				if (json_object_set_new(op.value, vsub->name,
				    nv) == 0)
					r = 0;
				nv = NULL;
			}
		}
	} else if (a->type == SCIM_T_COMPLEX)
		r = norm_complex(p, a, val, 0, &op.value, e);
	else
		r = norm_leaf(p, a, a, val, &op.value, e);
	if (r != 0)
		goto out;
	op.kind = kind;
	if (f != NULL && kind != PATCH_REMOVE && a != p->members_attr &&
	    (r = filter_literal(p, a, &op)) != 0)
		goto out;
	if (a == p->members_attr) {
		op.members = 1;
		p->touches_members = 1;
		if ((r = delta_check(p, &op, e)) != 0)
			goto out;
		if (!op.delta_ok)
			p->need_members = 1;
	}
	r = push_op(p, &op);
out:
	json_decref(nv);
	op_clear(&op);
	return r;
}

static int
push_ext_remove(struct scim_patch *p, const struct scim_schema *s)
{
	struct patch_op op;

	memset(&op, 0, sizeof(op));
	op.kind = PATCH_REMOVE;
	op.ext = s;
	return push_op(p, &op);
}

/* An allowed extension of p->rt named exactly by s[0..len), or NULL. */
static const struct scim_schema *
ext_named(const struct scim_patch *p, const char *s, size_t len)
{
	const struct scim_schema *sc;

	if ((sc = scim_schema_by_id(s, len)) == NULL || !sc->is_extension ||
	    !scim_schema_allowed(p->rt, s, len))
		return NULL;
	return sc;
}

/*
 * add/replace without path (ext NULL), or with a path naming a whole
 * extension (ext set): each key of v names a target.
 */
static int
expand(struct scim_patch *p, enum patch_kind kind,
    const struct scim_schema *ext, const json_t *v, struct api_error *e)
{
	char name[2 * SCIM_ATTR_NAME_MAX + 2];
	const struct scim_schema *sc;
	struct scim_attr_path ap;
	struct scim_path sp;
	struct patch_op op;
	const char *k;
	size_t klen;
	json_t *kv;
	int r = 0, n;

	if (!json_is_object(v))
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "value must be an object of attributes");
	json_object_keylen_foreach(mut(v), k, klen, kv) {
		if (memchr(k, '\0', klen) != NULL || klen > SCIM_ATTR_NAME_MAX)
			return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
			    "bad attribute name");
		if (ext == NULL) {
			if (str_ieq_n(k, klen, "schemas") ||
			    str_ieq_n(k, klen, "meta"))
				continue;
			if (str_ieq_n(k, klen, "id")) {
				if (!json_is_string(kv))
					continue;
				memset(&op, 0, sizeof(op));
				op.kind = PATCH_ID_CHECK;
				if ((op.value = json_deep_copy(kv)) == NULL)
					return ERR_ALLOC;
				if ((r = push_op(p, &op)) != 0) {
					op_clear(&op);
					return r;
				}
				continue;
			}
			if ((sc = ext_named(p, k, klen)) != NULL) {
				if (json_is_null(kv)) {
					if (kind == PATCH_REPLACE &&
					    (r = push_ext_remove(p, sc)) != 0)
						return r;
					continue;
				}
				if ((r = expand(p, kind, sc, kv, e)) != 0)
					return r;
				continue;
			}
			/* Entra: "emails[type eq \"work\"].value" as a key */
			if (memchr(k, '[', klen) != NULL) {
				memset(&sp, 0, sizeof(sp));
				if ((r = scim_path_parse(p->rt, k, klen, &sp,
				    e)) != 0 ||
				    (r = compile(p, kind, &sp, kv, e)) != 0) {
					scim_path_clear(&sp);
					return r;
				}
				continue;
			}
			r = scim_schema_resolve(p->rt, k, klen, &ap);
		} else {
			n = snprintf(name, sizeof(name), "%s:%.*s", ext->id,
			    (int)klen, k);
			if (n < 0 || (size_t)n >= sizeof(name))
				return ERR_INTERNAL;
			r = scim_schema_resolve(p->rt, name, (size_t)n, &ap);
		}
		if (r != 0)
			return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
			    "unknown attribute \"%.*s\"", klen_cut(klen), k);
		/* id, meta and their parts: never set by a client */
		if (ap.schema == scim_schema_common() &&
		    ap.attr->mutability == SCIM_MUT_READ_ONLY)
			continue;
		memset(&sp, 0, sizeof(sp));
		sp.attr = ap;
		if ((r = compile(p, kind, &sp, kv, e)) != 0)
			return r;
	}
	return 0;
}

static int
parse_path_op(struct scim_patch *p, enum patch_kind kind, const char *s,
    size_t len, const json_t *val, struct api_error *e)
{
	const struct scim_schema *sc;
	struct scim_path sp;
	int r;

	/* a path naming a whole extension */
	if ((sc = ext_named(p, s, len)) != NULL) {
		if (kind == PATCH_REMOVE ||
		    (kind == PATCH_REPLACE && json_is_null(val)))
			return push_ext_remove(p, sc);
		if (json_is_null(val))
			return 0;
		return expand(p, kind, sc, val, e);
	}
	memset(&sp, 0, sizeof(sp));
	if ((r = scim_path_parse(p->rt, s, len, &sp, e)) != 0) {
		scim_path_clear(&sp);
		if (r == ERR_INVALID && e != NULL && e->status == 0)
			api_error_set(e, 400, SCIM_ET_INVALID_PATH,
			    "bad path");
		return r;
	}
	return compile(p, kind, &sp, val, e);
}

static int
parse_op(struct scim_patch *p, const json_t *o, size_t idx,
    struct api_error *e)
{
	json_t *jop, *jpath, *jval;
	enum patch_kind kind;
	const char *s, *path = NULL;
	size_t len, plen = 0;
	int r;

	if (!json_is_object(o))
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "Operations[%zu] must be an object", idx);
	if ((r = obj_iget(o, "op", &jop, e)) != 0 ||
	    (r = obj_iget(o, "path", &jpath, e)) != 0 ||
	    (r = obj_iget(o, "value", &jval, e)) != 0)
		return r;
	if (!json_is_string(jop))
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "Operations[%zu]: \"op\" must be add, remove or replace",
		    idx);
	s = json_string_value(jop);
	len = json_string_length(jop);
	if (str_ieq_n(s, len, "add"))
		kind = PATCH_ADD;
	else if (str_ieq_n(s, len, "remove"))
		kind = PATCH_REMOVE;
	else if (str_ieq_n(s, len, "replace"))
		kind = PATCH_REPLACE;
	else
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "Operations[%zu]: unknown op \"%.*s\"", idx,
		    klen_cut(len), s);
	if (jpath != NULL && !json_is_null(jpath)) {
		if (!json_is_string(jpath))
			return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
			    "Operations[%zu]: \"path\" must be a string", idx);
		path = json_string_value(jpath);
		plen = json_string_length(jpath);
		if (plen == 0)
			return api_error_set(e, 400, SCIM_ET_INVALID_PATH,
			    "Operations[%zu]: \"path\" is empty", idx);
	}
	if (kind == PATCH_REMOVE) {
		if (path == NULL)
			return api_error_set(e, 400, SCIM_ET_NO_TARGET,
			    "Operations[%zu]: remove needs a path", idx);
		return parse_path_op(p, kind, path, plen, jval, e);
	}
	if (jval == NULL)
		return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "Operations[%zu]: \"value\" is required", idx);
	if (path == NULL)
		return expand(p, kind, NULL, jval, e);
	return parse_path_op(p, kind, path, plen, jval, e);
}

static int
check_schemas(const json_t *body, struct api_error *e)
{
	json_t *schemas, *s;
	size_t i;
	int r;

	if ((r = obj_iget(body, "schemas", &schemas, e)) != 0)
		return r;
	if (!json_is_array(schemas))
		return api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "\"schemas\" must list %s", SCIM_SCHEMA_PATCHOP);
	json_array_foreach(schemas, i, s) {
		if (json_is_string(s) && str_ieq_n(json_string_value(s),
		    json_string_length(s), SCIM_SCHEMA_PATCHOP))
			return 0;
	}
	return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
	    "\"schemas\" must list %s", SCIM_SCHEMA_PATCHOP);
}

int
scim_patch_parse(enum scim_rtype rt, const json_t *body,
    struct scim_patch **out, struct api_error *e)
{
	struct scim_patch *p = NULL;
	json_t *ops, *o;
	size_t i;
	int r = ERR_ALLOC;

	*out = NULL;
	if (!json_is_object(body)) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "PATCH body must be a JSON object");
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	p->rt = rt;
	if (rt == SCIM_RT_GROUP)
		p->members_attr = scim_schema_attr(
		    scim_schema_rtype(rt)->schema, "members", 7);
	if ((r = check_schemas(body, e)) != 0 ||
	    (r = obj_iget(body, "Operations", &ops, e)) != 0)
		goto out;
	if (!json_is_array(ops) || json_array_size(ops) == 0) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_SYNTAX,
		    "\"Operations\" must be a non-empty array");
		goto out;
	}
	if (json_array_size(ops) > SCIM_PATCH_OPS_MAX) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
		    "more than %d operations in one PATCH",
		    SCIM_PATCH_OPS_MAX);
		goto out;
	}
	json_array_foreach(ops, i, o) {
		if ((r = parse_op(p, o, i, e)) != 0)
			goto out;
	}
	*out = p;
	p = NULL;
	r = 0;
out:
	scim_patch_free(p);
	return r;
}

void
scim_patch_free(struct scim_patch *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nops; i++)
		op_clear(&p->ops[i]);
	free(p->ops);
	free(p);
}

int
scim_patch_touches_members(const struct scim_patch *p)
{
	return p != NULL && p->touches_members;
}

void
scim_member_delta_init(struct scim_member_delta *d)
{
	d->replace_all = 0;
	d->add = json_object();
	d->remove = json_object();
}

void
scim_member_delta_clear(struct scim_member_delta *d)
{
	if (d == NULL)
		return;
	json_decref(d->add);
	json_decref(d->remove);
	d->add = NULL;
	d->remove = NULL;
	d->replace_all = 0;
}

/* ---- apply ---- */

/* The object holding attributes of schema s: doc or doc[URN]. */
static json_t *
container(json_t *doc, const struct scim_schema *s, int create)
{
	json_t *c;

	if (s == NULL || !s->is_extension)
		return doc;
	c = json_object_get(doc, s->id);
	if (json_is_object(c))
		return c;
	if (!create || (c = json_object()) == NULL ||
	    json_object_set_new(doc, s->id, c) != 0)
		return NULL;
	return c;
}

/* obj[key] = copy of v, unless t is immutable and already holds another
 * value (RFC 7643 §2.2). */
static int
set_checked(json_t *obj, const struct scim_attr *t, const char *key,
    const json_t *v, struct api_error *e)
{
	json_t *old = json_object_get(obj, key), *c;

	if (t != NULL && t->mutability == SCIM_MUT_IMMUTABLE && old != NULL &&
	    !json_is_null(old) && !json_equal(old, v))
		return api_error_set(e, 400, SCIM_ET_MUTABILITY,
		    "%s is immutable", key);
	if ((c = json_deep_copy(v)) == NULL ||
	    json_object_set_new(obj, key, c) != 0)
		return ERR_ALLOC;
	return 0;
}

/* Set each sub-attribute of v (normalised) on the object el. */
static int
merge_into(const struct scim_attr *a, json_t *el, const json_t *v,
    struct api_error *e)
{
	const char *k;
	json_t *sv;
	int r;

	json_object_foreach(mut(v), k, sv) {
		if ((r = set_checked(el, scim_attr_sub(a, k, strlen(k)), k, sv,
		    e)) != 0)
			return r;
	}
	return 0;
}

/* A new primary value takes the flag from the others (RFC 7643 §2.4). */
static int
primary_take(json_t *arr, const json_t *keep)
{
	json_t *el;
	size_t i;

	if (keep == NULL || !is_primary(keep))
		return 0;
	json_array_foreach(arr, i, el) {
		if (el != keep && is_primary(el) &&
		    json_object_set_new(el, "primary", json_false()) != 0)
			return ERR_ALLOC;
	}
	return 0;
}

static json_t *
array_at(json_t *cont, const char *key)
{
	json_t *arr = json_object_get(cont, key);

	if (json_is_array(arr))
		return arr;
	if ((arr = json_array()) == NULL ||
	    json_object_set_new(cont, key, arr) != 0)
		return NULL;
	return arr;
}

static const char *
member_id(const json_t *m)
{
	return json_string_value(json_object_get(m, "value"));
}

static int
multi_add(const struct scim_patch *p, const struct scim_attr *a,
    json_t *cont, const json_t *vals)
{
	json_t *arr, *idx = NULL, *el, *c;
	const json_t *v;
	const char *id;
	size_t i, j;
	int members = a == p->members_attr, dup, r = ERR_ALLOC;

	if ((arr = array_at(cont, a->name)) == NULL)
		goto out;
	if (members) {
		if ((idx = json_object()) == NULL)
			goto out;
		json_array_foreach(arr, i, el) {
			if ((id = member_id(el)) != NULL &&
			    json_object_set_new(idx, id, json_null()) != 0)
				goto out;
		}
	}
	json_array_foreach(vals, i, v) {
		dup = 0;
		if (members) {
			id = member_id(v);
			if (json_object_get(idx, id) != NULL)
				continue;
			if (json_object_set_new(idx, id, json_null()) != 0)
				goto out;
		} else {
			for (j = 0; j < json_array_size(arr) && !dup; j++)
				dup = json_equal(json_array_get(arr, j), v);
			if (dup)
				continue;
		}
		if ((c = json_deep_copy(v)) == NULL ||
		    json_array_append_new(arr, c) != 0 ||
		    primary_take(arr, c) != 0)
			goto out;
	}
	r = 0;
out:
	json_decref(idx);
	return r;
}

/* Does element el match the value v of a remove-by-value list? */
static int
value_matches(const json_t *el, const json_t *v)
{
	const char *k;
	json_t *sv;

	if (!json_is_object(v))
		return json_equal(el, v);
	if (!json_is_object(el))
		return 0;
	json_object_foreach(mut(v), k, sv) {
		if (!json_equal(json_object_get(el, k), sv))
			return 0;
	}
	return 1;
}

/* remove with path "attr" and a value list (Entra members removal). */
static int
remove_values(const struct scim_patch *p, const struct scim_attr *a,
    json_t *cont, const json_t *vals)
{
	json_t *arr = json_object_get(cont, a->name), *keep = NULL, *set = NULL;
	json_t *el, *v;
	const char *id;
	size_t i, j;
	int members = a == p->members_attr, drop, r = ERR_ALLOC;

	if (!json_is_array(arr))
		return 0;
	if ((keep = json_array()) == NULL ||
	    (members && (set = json_object()) == NULL))
		goto out;
	if (members) {
		json_array_foreach(vals, i, v) {
			if (json_object_set_new(set, member_id(v),
			    json_null()) != 0)
				goto out;
		}
	}
	json_array_foreach(arr, i, el) {
		drop = 0;
		if (members)
			drop = (id = member_id(el)) != NULL &&
			    json_object_get(set, id) != NULL;
		else
			for (j = 0; j < json_array_size(vals) && !drop; j++)
				drop = value_matches(el, json_array_get(vals,
				    j));
		if (!drop && json_array_append(keep, el) != 0)
			goto out;
	}
	r = json_object_set_new(cont, a->name, keep) != 0 ? ERR_ALLOC : 0;
	keep = NULL;
out:
	json_decref(keep);
	json_decref(set);
	return r;
}

/* Target: a whole attribute (no filter, no sub-attribute). */
static int
apply_attr(const struct scim_patch *p, const struct patch_op *op,
    json_t *cont, struct api_error *e)
{
	const struct scim_attr *a = op->path.attr.attr;
	json_t *cur = json_object_get(cont, a->name), *c;

	if (op->kind == PATCH_REMOVE) {
		if (op->value != NULL)
			return remove_values(p, a, cont, op->value);
		json_object_del(cont, a->name);
		return 0;
	}
	if (a->multi_valued && op->kind == PATCH_ADD)
		return multi_add(p, a, cont, op->value);
	if (a->type == SCIM_T_COMPLEX && !a->multi_valued) {
		/* RFC 7644 §3.5.2.1, §3.5.2.3: sub-attributes not given are
		 * left as they are */
		if (!json_is_object(cur)) {
			if ((cur = json_object()) == NULL ||
			    json_object_set_new(cont, a->name, cur) != 0)
				return ERR_ALLOC;
		}
		return merge_into(a, cur, op->value, e);
	}
	if ((c = json_deep_copy(op->value)) == NULL ||
	    json_object_set_new(cont, a->name, c) != 0)
		return ERR_ALLOC;
	return 0;
}

static int
drop_empty_elems(json_t *cont, const char *key)
{
	json_t *arr = json_object_get(cont, key), *keep, *el;
	size_t i;

	if (!json_is_array(arr))
		return 0;
	if ((keep = json_array()) == NULL)
		return ERR_ALLOC;
	json_array_foreach(arr, i, el) {
		if (json_is_object(el) && json_object_size(el) == 0)
			continue;
		if (json_array_append(keep, el) != 0) {
			json_decref(keep);
			return ERR_ALLOC;
		}
	}
	return json_object_set_new(cont, key, keep) != 0 ? ERR_ALLOC : 0;
}

/* Target: "attr.sub" without a filter. */
static int
apply_sub(const struct patch_op *op, json_t *cont, struct api_error *e)
{
	const struct scim_attr *a = op->path.attr.attr;
	const struct scim_attr *sub = op->path.attr.sub;
	json_t *cur = json_object_get(cont, a->name), *el, *keep = NULL;
	size_t i, nprimary = 0;
	int r;

	if (!a->multi_valued) {
		if (op->kind == PATCH_REMOVE) {
			if (json_is_object(cur))
				json_object_del(cur, sub->name);
			return 0;
		}
		if (!json_is_object(cur)) {
			if ((cur = json_object()) == NULL ||
			    json_object_set_new(cont, a->name, cur) != 0)
				return ERR_ALLOC;
		}
		return set_checked(cur, sub, sub->name, op->value, e);
	}
	/* "emails.type": every value of the attribute */
	if (op->kind == PATCH_REMOVE) {
		if (!json_is_array(cur))
			return 0;
		json_array_foreach(cur, i, el) {
			if (json_is_object(el))
				json_object_del(el, sub->name);
		}
		return drop_empty_elems(cont, a->name);
	}
	if (!json_is_array(cur) || json_array_size(cur) == 0)
		return api_error_set(e, 400, SCIM_ET_NO_TARGET,
		    "%s has no values to set %s on", a->name, sub->name);
	json_array_foreach(cur, i, el) {
		if (!json_is_object(el))
			continue;
		if ((r = set_checked(el, sub, sub->name, op->value, e)) != 0)
			return r;
		if (is_primary(el)) {
			nprimary++;
			keep = el;
		}
	}
	/* several made primary at once: the final check refuses that */
	return nprimary == 1 ? primary_take(cur, keep) : 0;
}

static int
remove_filtered(const struct patch_op *op, json_t *cont)
{
	const struct scim_attr *a = op->path.attr.attr;
	const struct scim_attr *sub = op->path.attr.sub;
	json_t *arr = json_object_get(cont, a->name), *keep, *el;
	size_t i;
	int m;

	if (!json_is_array(arr))
		return 0;
	if ((keep = json_array()) == NULL)
		return ERR_ALLOC;
	json_array_foreach(arr, i, el) {
		m = json_is_object(el) &&
		    scim_filter_match_elem(op->path.filter, el);
		if (m && sub != NULL) {
			json_object_del(el, sub->name);
			m = json_object_size(el) == 0;
		}
		if (!m && json_array_append(keep, el) != 0) {
			json_decref(keep);
			return ERR_ALLOC;
		}
	}
	return json_object_set_new(cont, a->name, keep) != 0 ? ERR_ALLOC : 0;
}

/* No element matched a filter of add/replace: create one, or noTarget. */
static int
create_elem(const struct patch_op *op, json_t *cont, json_t **keepp,
    struct api_error *e)
{
	const struct scim_attr *a = op->path.attr.attr;
	const struct scim_attr *sub = op->path.attr.sub;
	json_t *el = NULL, *arr, *c;
	int r = ERR_ALLOC;

	if ((op->kind == PATCH_REPLACE && sub == NULL) ||
	    (sub != NULL && op->lit == NULL)) {
		r = api_error_set(e, 400, SCIM_ET_NO_TARGET,
		    "no value of %s matches the filter", a->name);
		goto out;
	}
	if (sub != NULL) {
		if ((el = json_object()) == NULL ||
		    (c = json_deep_copy(op->lit)) == NULL ||
		    json_object_set_new(el, op->lit_key, c) != 0 ||
		    (c = json_deep_copy(op->value)) == NULL ||
		    json_object_set_new(el, sub->name, c) != 0)
			goto out;
	} else {
		if ((el = json_deep_copy(op->value)) == NULL)
			goto out;
		if (op->lit != NULL &&
		    json_object_get(el, op->lit_key) == NULL &&
		    ((c = json_deep_copy(op->lit)) == NULL ||
		    json_object_set_new(el, op->lit_key, c) != 0))
			goto out;
	}
	if ((arr = array_at(cont, a->name)) == NULL ||
	    json_array_append(arr, el) != 0)
		goto out;
	if (is_primary(el))
		*keepp = el;
	r = 0;
out:
	json_decref(el);
	return r;
}

/* Target: "attr[filter]" or "attr[filter].sub". */
static int
apply_filtered(const struct patch_op *op, json_t *cont, struct api_error *e)
{
	const struct scim_attr *a = op->path.attr.attr;
	const struct scim_attr *sub = op->path.attr.sub;
	json_t *arr, *el, *nel, *keep = NULL;
	size_t i, n, matched = 0, nprimary = 0;
	int r;

	if (op->kind == PATCH_REMOVE)
		return remove_filtered(op, cont);
	arr = json_object_get(cont, a->name);
	n = json_is_array(arr) ? json_array_size(arr) : 0;
	for (i = 0; i < n; i++) {
		el = json_array_get(arr, i);
		if (!json_is_object(el) ||
		    !scim_filter_match_elem(op->path.filter, el))
			continue;
		matched++;
		if (sub != NULL)
			r = set_checked(el, sub, sub->name, op->value, e);
		else if (op->kind == PATCH_ADD)
			r = merge_into(a, el, op->value, e);
		else {
			r = 0;
			if ((nel = json_deep_copy(op->value)) == NULL ||
			    json_array_set_new(arr, i, nel) != 0)
				r = ERR_ALLOC;
			el = nel;
		}
		if (r != 0)
			return r;
		if (is_primary(el)) {
			nprimary++;
			keep = el;
		}
	}
	if (matched == 0) {
		if ((r = create_elem(op, cont, &keep, e)) != 0)
			return r;
		nprimary = keep != NULL;
		arr = json_object_get(cont, a->name);
	}
	/* several made primary at once: the final check refuses that */
	return nprimary == 1 ? primary_take(arr, keep) : 0;
}

static int
apply_op(const struct scim_patch *p, const struct patch_op *op, json_t *doc,
    struct api_error *e)
{
	json_t *cont, *cur;

	if (op->kind == PATCH_ID_CHECK) {
		cur = json_object_get(doc, "id");
		if (json_is_string(cur) && !json_equal(cur, op->value))
			return api_error_set(e, 400, SCIM_ET_MUTABILITY,
			    "id cannot be changed");
		return 0;
	}
	if (op->ext != NULL) {
		json_object_del(doc, op->ext->id);
		return 0;
	}
	cont = container(doc, op->path.attr.schema, op->kind != PATCH_REMOVE);
	if (cont == NULL)
		return op->kind == PATCH_REMOVE ? 0 : ERR_ALLOC;
	if (op->path.filter != NULL)
		return apply_filtered(op, cont, e);
	if (op->path.attr.sub != NULL)
		return apply_sub(op, cont, e);
	return apply_attr(p, op, cont, e);
}

static int
delta_add(struct scim_member_delta *d, const json_t *m)
{
	const char *id = member_id(m);
	json_t *c;

	json_object_del(d->remove, id);
	if (json_object_get(d->add, id) != NULL)
		return 0;
	if ((c = json_deep_copy(m)) == NULL ||
	    json_object_set_new(d->add, id, c) != 0)
		return ERR_ALLOC;
	return 0;
}

static int
delta_del(struct scim_member_delta *d, const char *id)
{
	json_object_del(d->add, id);
	if (d->replace_all)
		return 0;
	return json_object_set_new(d->remove, id, json_null()) != 0 ?
	    ERR_ALLOC : 0;
}

/* Fold a members operation into the delta (delta_ok holds). */
static int
fold(const struct patch_op *op, struct scim_member_delta *d)
{
	const char *id;
	json_t *v;
	size_t i;
	int r;

	if (op->kind == PATCH_REPLACE ||
	    (op->kind == PATCH_REMOVE && op->value == NULL &&
	    op->ids == NULL)) {
		d->replace_all = 1;
		if (json_object_clear(d->add) != 0 ||
		    json_object_clear(d->remove) != 0)
			return ERR_ALLOC;
	}
	if (op->kind == PATCH_ADD || op->kind == PATCH_REPLACE) {
		json_array_foreach(op->value, i, v) {
			if ((r = delta_add(d, v)) != 0)
				return r;
		}
		return 0;
	}
	if (op->ids != NULL) {
		json_object_foreach(op->ids, id, v) {
			if ((r = delta_del(d, id)) != 0)
				return r;
		}
	} else if (op->value != NULL) {
		json_array_foreach(op->value, i, v) {
			if ((r = delta_del(d, member_id(v))) != 0)
				return r;
		}
	}
	return 0;
}

static int
drop_empty(json_t *o, int top)
{
	const struct scim_schema *s;
	const char *k;
	json_t *v;
	void *n;

	json_object_foreach_safe(o, n, k, v) {
		if (top && (strcmp(k, "id") == 0 || strcmp(k, "meta") == 0))
			continue;
		if (top && json_is_object(v) &&
		    (s = scim_schema_by_id(k, strlen(k))) != NULL &&
		    s->is_extension)
			drop_empty(v, 0);
		if ((json_is_array(v) && json_array_size(v) == 0) ||
		    (json_is_object(v) && json_object_size(v) == 0))
			json_object_del(o, k);
	}
	return 0;
}

/* Members listed twice (a filter replace can do that): keep the first. */
static int
dedupe_members(json_t *cont, const char *key)
{
	json_t *arr = json_object_get(cont, key), *seen, *keep = NULL, *el;
	const char *id;
	size_t i;
	int r = ERR_ALLOC;

	if ((seen = json_object()) == NULL || (keep = json_array()) == NULL)
		goto out;
	json_array_foreach(arr, i, el) {
		if ((id = member_id(el)) != NULL) {
			if (json_object_get(seen, id) != NULL)
				continue;
			if (json_object_set_new(seen, id, json_null()) != 0)
				goto out;
		}
		if (json_array_append(keep, el) != 0)
			goto out;
	}
	r = 0;
	if (json_array_size(keep) != json_array_size(arr))
		r = json_object_set(cont, key, keep) != 0 ? ERR_ALLOC : 0;
out:
	json_decref(seen);
	json_decref(keep);
	return r;
}

static int
check_attrs(const struct scim_patch *p, json_t *cont,
    const struct scim_schema *s, int dm, struct api_error *e)
{
	const struct scim_attr *a;
	json_t *arr, *el;
	size_t i, j, nprimary;
	int r;

	if (!json_is_object(cont))
		return 0;
	for (i = 0; i < s->nattrs; i++) {
		a = &s->attrs[i];
		arr = json_object_get(cont, a->name);
		if (!a->multi_valued || !json_is_array(arr))
			continue;
		if (a == p->members_attr) {
			if (!dm && (r = dedupe_members(cont, a->name)) != 0)
				return r;
			continue;
		}
		if (json_array_size(arr) > SCIM_MULTI_MAX)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s: more than %d values", a->name,
			    SCIM_MULTI_MAX);
		nprimary = 0;
		json_array_foreach(arr, j, el)
			nprimary += is_primary(el) ? 1 : 0;
		if (nprimary > 1)
			return api_error_set(e, 400, SCIM_ET_INVALID_VALUE,
			    "%s: more than one primary value", a->name);
	}
	return 0;
}

static int
finish(const struct scim_patch *p, json_t *doc, int dm, struct api_error *e)
{
	const struct scim_resource_type *t = scim_schema_rtype(p->rt);
	size_t i;
	int r;

	if ((r = drop_empty(doc, 1)) != 0 ||
	    (r = check_attrs(p, doc, t->schema, dm, e)) != 0)
		return r;
	for (i = 0; t->extensions != NULL && t->extensions[i] != NULL; i++) {
		if ((r = check_attrs(p, json_object_get(doc,
		    t->extensions[i]->id), t->extensions[i], dm, e)) != 0)
			return r;
	}
	return 0;
}

int
scim_patch_apply(const struct scim_patch *p, json_t *doc, int flags,
    struct scim_member_delta *delta, struct api_error *e)
{
	const struct patch_op *op;
	size_t i;
	int dm, r = ERR_INTERNAL;

	if (p == NULL || !json_is_object(doc))
		goto out;
	dm = (flags & SCIM_PATCH_F_MEMBER_DELTA) != 0 &&
	    p->members_attr != NULL;
	if (dm) {
		if (delta == NULL)
			goto out;
		if (p->need_members) {
			r = ERR_NEED_MEMBERS;
			goto out;
		}
		r = ERR_ALLOC;
		if (delta->add == NULL && (delta->add = json_object()) == NULL)
			goto out;
		if (delta->remove == NULL &&
		    (delta->remove = json_object()) == NULL)
			goto out;
	}
	for (i = 0; i < p->nops; i++) {
		op = &p->ops[i];
		if (dm && op->members)
			r = fold(op, delta);
		else
			r = apply_op(p, op, doc, e);
		if (r != 0)
			goto out;
	}
	r = finish(p, doc, dm, e);
out:
	return r;
}
