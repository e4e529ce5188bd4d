/*
 * SCIM list/search: the filter AST (scim/filter.h) becomes a WHERE clause
 * over the stored jsonb documents and the membership table.
 *
 * Safety: the statement text is built only from the fixed fragments in
 * this file, $n placeholders, and JSON keys written as string literals by
 * qb_key(). Every value of the filter, the paging figures included, is a
 * parameter. The keys are attribute names and schema URNs of the static
 * tables in scim/schema.h, never client text: they are in the text so
 * that `lower(r.doc->>'userName')` matches the expression index
 * lower(doc->>'userName') also in the generic plan PostgreSQL keeps for
 * the prepared statement (db_exec prepares each statement text once per
 * connection), where a key passed as $n could not match it.
 *
 * Semantics (RFC 7644 §3.4.2.2):
 *  - caseExact false: lower() on both sides; co/sw/ew use LIKE with the
 *    value's % _ \ escaped; gt/ge/lt/le on strings compare code points
 *    (COLLATE "C"), numbers as numeric, dateTime as timestamptz.
 *  - a comparison on a multi-valued attribute matches if any value does
 *    (EXISTS over the array elements / membership rows); `ne` is "not eq"
 *    and so also matches resources without the attribute.
 *  - pr: present and not null, "", [] or {}.
 *  - not x: NOT coalesce(x, false), so an absent attribute counts false.
 */
#include "db/scim_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/pool.h"
#include "db_int.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

#define QUERY_SQL_MAX	(256 * 1024)
#define EXPR_MAX	256

struct qb {
	struct buf sql;
	const char **vals;	/* parameter values */
	char **owned;		/* vals[i] if malloc'd here, else NULL */
	int n, cap;
	enum scim_rtype rt;
	unsigned seq;		/* alias numbers for EXISTS subqueries */
	int err;		/* sticky: ERR_ALLOC, or ERR_INTERNAL for a
				 * fragment that did not fit */
	struct api_error *e;
};

/* Where the attribute a comparison names is looked up. */
enum ctx_kind {
	CTX_ROOT,	/* the resource: r.doc and r's columns */
	CTX_JSON,	/* a jsonb object/element: base holds its expression */
	CTX_MEMBER	/* a scim_group_member row: base holds its alias */
};

struct ctx {
	enum ctx_kind kind;
	char base[EXPR_MAX];
	const struct scim_attr *attr;	/* the attribute base stands for */
};

/* What a comparison compares. */
enum opd_kind {
	OPD_JSON,	/* jexpr jsonb, texpr its text */
	OPD_UUID,	/* texpr a uuid column */
	OPD_TIME,	/* texpr a timestamptz column */
	OPD_TEXT,	/* texpr a text expression */
	OPD_TRUE	/* always present (pr only) */
};

struct operand {
	enum opd_kind kind;
	enum scim_type type;
	int case_exact;
	char jexpr[EXPR_MAX];
	char texpr[EXPR_MAX];
};

static void
qb_free(struct qb *q)
{
	int i;

	for (i = 0; i < q->n; i++)
		free(q->owned[i]);
	free(q->owned);
	free(q->vals);
	buf_free(&q->sql);
}

static int
qb_grow(struct qb *q)
{
	const char **nv;
	char **no;
	int ncap;

	if (q->n < q->cap)
		return 0;
	ncap = q->cap ? q->cap * 2 : 16;
	if ((nv = realloc(q->vals, (size_t)ncap * sizeof(*nv))) == NULL)
		return ERR_ALLOC;
	q->vals = nv;
	if ((no = realloc(q->owned, (size_t)ncap * sizeof(*no))) == NULL)
		return ERR_ALLOC;
	q->owned = no;
	q->cap = ncap;
	return 0;
}

/*
 * Add a borrowed parameter value (static name, AST text); returns its
 * number ($n), the same one when v was added before, or 0 on allocation
 * failure (q->err set).
 */
static int
qb_param(struct qb *q, const char *v)
{
	int i;

	for (i = 0; i < q->n; i++)
		if (q->owned[i] == NULL && q->vals[i] == v)
			return i + 1;
	if (qb_grow(q) != 0) {
		q->err = ERR_ALLOC;
		return 0;
	}
	q->vals[q->n] = v;
	q->owned[q->n] = NULL;
	return ++q->n;
}

/* Same for a malloc'd value, which q now owns (freed on failure too). */
static int
qb_param_own(struct qb *q, char *v)
{
	if (v == NULL || qb_grow(q) != 0) {
		free(v);
		q->err = ERR_ALLOC;
		return 0;
	}
	q->vals[q->n] = v;
	q->owned[q->n] = v;
	return ++q->n;
}

/*
 * A JSON key (attribute name or schema URN) as a SQL string literal in
 * out: 'userName'. Only names of the static schema tables
 * (scim/schema.h) come here; the filter parser resolves the client's
 * spelling to those entries, so no client text is ever quoted. The
 * check (^[A-Za-z0-9$._:-]+$, what schema names and URNs use) is the
 * guard against a wrong caller: nothing it lets through can end the
 * literal or escape from it (no quote, no backslash). A name that fails
 * it fails the statement with ERR_INTERNAL, a broken invariant.
 */
static void
qb_key(struct qb *q, const char *name, char *out, size_t outsz)
{
	size_t i, n;
	char ch;

	n = strlen(name);
	for (i = 0; i < n; i++) {
		ch = name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '$' || ch == '.' ||
		    ch == '_' || ch == ':' || ch == '-'))
			break;
	}
	if (n == 0 || i < n || n + 3 > outsz) {
		log_error_f("not a schema name, not put in SQL text");
		out[0] = '\0';
		if (q->err == 0)
			q->err = ERR_INTERNAL;
		return;
	}
	out[0] = '\'';
	memcpy(out + 1, name, n);
	out[n + 1] = '\'';
	out[n + 2] = '\0';
}

/*
 * Format a piece of SQL into out; a piece that does not fit fails the
 * whole statement (q->err) rather than produce a cut one.
 */
static void __attribute__((format(printf, 4, 5)))
xfmt(struct qb *q, char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outsz) {
		out[0] = '\0';
		if (q->err == 0)
			q->err = ERR_INTERNAL;
	}
}

static void
emit(struct qb *q, const char *s)
{
	buf_puts(&q->sql, s);
}

static int
bad_filter(struct qb *q, const char *what, const struct scim_attr_path *p)
{
	const char *name = "?";

	if (p != NULL && p->attr != NULL)
		name = p->attr->name;
	if (p != NULL && p->sub != NULL)
		return api_error_set(q->e, 400, SCIM_ET_INVALID_FILTER,
		    "%s: %s.%s", what, name, p->sub->name);
	return api_error_set(q->e, 400, SCIM_ET_INVALID_FILTER, "%s: %s",
	    what, name);
}

/* 1 if s looks like an xsd:dateTime (RFC 7643 §2.3.5). */
static int
datetime_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') :
		    s[i] != shape[i])
			return 0;
	}
	s += i;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z')
		return s[1] == '\0';
	if (*s == '+' || *s == '-')
		return s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
		    s[2] <= '9' && s[3] == ':' && s[4] >= '0' &&
		    s[4] <= '9' && s[5] >= '0' && s[5] <= '9' && s[6] == '\0';
	return *s == '\0';
}

/* LIKE pattern for co/sw/ew with % _ \ of the value escaped. */
static char *
like_pattern(enum scim_fop op, const char *v)
{
	struct buf b;
	const char *p;
	char *out;

	buf_init(&b, strlen(v) * 2 + 3);
	if (op == SCIM_FOP_CO || op == SCIM_FOP_EW)
		buf_putc(&b, '%');
	for (p = v; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *p);
	}
	if (op == SCIM_FOP_CO || op == SCIM_FOP_SW)
		buf_putc(&b, '%');
	out = buf_steal(&b, NULL);
	buf_free(&b);
	return out;
}

static int
is_common(const struct scim_attr_path *p)
{
	return p->schema == scim_schema_common();
}

/* Group "members" or User "groups": kept in scim_group_member. */
static int
is_membership(const struct qb *q, const struct scim_attr_path *p)
{
	if (p->schema == NULL || p->schema->is_extension || is_common(p))
		return 0;
	if (q->rt == SCIM_RT_GROUP)
		return strcmp(p->attr->name, "members") == 0;
	return strcmp(p->attr->name, "groups") == 0;
}

/*
 * The attribute's place at the root: *obj gets the object holding it
 * (r.doc, or r.doc->'urn' for an extension) and key its name as a
 * literal, so that obj->key is its jsonb and obj->>key its text, the
 * spelling of the expression indexes.
 */
static int
root_place(struct qb *q, const struct scim_attr_path *p, char *obj,
    size_t objsz, char *key, size_t keysz)
{
	char urn[SCIM_ATTR_NAME_MAX + 3];

	qb_key(q, p->attr->name, key, keysz);
	if (p->schema->is_extension) {
		qb_key(q, p->schema->id, urn, sizeof(urn));
		xfmt(q, obj, objsz, "r.doc->%s", urn);
	} else
		xfmt(q, obj, objsz, "r.doc");
	return q->err;
}

/* jsonb of the attribute's value at the root. */
static int
root_attr_json(struct qb *q, const struct scim_attr_path *p, char *out,
    size_t outsz)
{
	char obj[EXPR_MAX], key[SCIM_ATTR_NAME_MAX + 3];
	int r;

	if ((r = root_place(q, p, obj, sizeof(obj), key, sizeof(key))) != 0)
		return r;
	xfmt(q, out, outsz, "%s->%s", obj, key);
	return 0;
}

/* Operand for a JSON value below object expression obj: obj->$sub. */
static int
json_sub(struct qb *q, const char *obj, const struct scim_attr *sub,
    struct operand *o)
{
	char key[SCIM_ATTR_NAME_MAX + 3];

	qb_key(q, sub->name, key, sizeof(key));
	o->kind = OPD_JSON;
	o->type = sub->type;
	o->case_exact = sub->case_exact;
	xfmt(q, o->jexpr, sizeof(o->jexpr), "(%s)->%s", obj, key);
	xfmt(q, o->texpr, sizeof(o->texpr), "(%s)->>%s", obj, key);
	return q->err;
}

/* Operand of a membership row alias m for sub-attribute sub. */
static int
member_operand(struct qb *q, const char *m, const struct scim_attr_path *p,
    struct operand *o)
{
	const char *sub = p->sub != NULL ? p->sub->name : "value";

	o->type = SCIM_T_STRING;
	o->case_exact = p->sub != NULL ? p->sub->case_exact : 0;
	if (strcmp(sub, "value") == 0) {
		o->kind = OPD_UUID;
		xfmt(q, o->texpr, sizeof(o->texpr), "%s.%s", m,
		    q->rt == SCIM_RT_GROUP ? "member_id" : "group_id");
	} else if (strcmp(sub, "type") == 0) {
		o->kind = OPD_TEXT;
		if (q->rt == SCIM_RT_GROUP)
			xfmt(q, o->texpr, sizeof(o->texpr), "%s.member_type",
			    m);
		else
			xfmt(q, o->texpr, sizeof(o->texpr), "'direct'::text");
	} else if (strcmp(sub, "display") == 0) {
		o->kind = OPD_TEXT;
		if (q->rt == SCIM_RT_GROUP)
			xfmt(q, o->texpr, sizeof(o->texpr),
			    "coalesce((SELECT x.doc->>'userName' FROM "
			    "scim_user x WHERE x.id = %s.member_id), "
			    "(SELECT x.doc->>'displayName' FROM scim_group x "
			    "WHERE x.id = %s.member_id))", m, m);
		else
			xfmt(q, o->texpr, sizeof(o->texpr),
			    "(SELECT x.doc->>'displayName' FROM scim_group x "
			    "WHERE x.id = %s.group_id)", m);
	} else
		return bad_filter(q, "attribute cannot be filtered", p);
	return 0;
}

/*
 * Operand for a singular value: path p looked up in context cx. Multi-
 * valued attributes at the root are unwrapped by the caller first.
 */
static int
make_operand(struct qb *q, const struct ctx *cx,
    const struct scim_attr_path *p, struct operand *o)
{
	char obj[EXPR_MAX], key[SCIM_ATTR_NAME_MAX + 3];
	int r;

	memset(o, 0, sizeof(*o));
	if (cx->kind == CTX_MEMBER)
		return member_operand(q, cx->base, p, o);
	if (cx->kind == CTX_JSON) {
		if (p->sub != NULL)
			return json_sub(q, cx->base, p->sub, o);
		/* element of a multi-valued simple attribute */
		o->kind = OPD_JSON;
		o->type = p->attr->type;
		o->case_exact = p->attr->case_exact;
		xfmt(q, o->jexpr, sizeof(o->jexpr), "%s", cx->base);
		xfmt(q, o->texpr, sizeof(o->texpr), "(%s #>> '{}')",
		    cx->base);
		return 0;
	}
	if (is_common(p)) {
		if (strcmp(p->attr->name, "id") == 0) {
			o->kind = OPD_UUID;
			o->type = SCIM_T_STRING;
			o->case_exact = 1;
			xfmt(q, o->texpr, sizeof(o->texpr), "r.id");
			return 0;
		}
		if (strcmp(p->attr->name, "meta") == 0) {
			if (p->sub == NULL) {
				o->kind = OPD_TRUE;
				return 0;
			}
			o->type = p->sub->type;
			o->case_exact = p->sub->case_exact;
			if (strcmp(p->sub->name, "created") == 0) {
				o->kind = OPD_TIME;
				xfmt(q, o->texpr, sizeof(o->texpr),
				    "r.created");
			} else if (strcmp(p->sub->name, "lastModified") == 0) {
				o->kind = OPD_TIME;
				xfmt(q, o->texpr, sizeof(o->texpr),
				    "r.last_modified");
			} else if (strcmp(p->sub->name, "version") == 0) {
				o->kind = OPD_TEXT;
				xfmt(q, o->texpr, sizeof(o->texpr),
				    "('W/\"' || r.version || '\"')");
			} else if (strcmp(p->sub->name, "resourceType") == 0) {
				qb_key(q, scim_schema_rtype(q->rt)->name, key,
				    sizeof(key));
				o->kind = OPD_TEXT;
				xfmt(q, o->texpr, sizeof(o->texpr),
				    "%s::text", key);
			} else
				return bad_filter(q,
				    "attribute cannot be filtered", p);
			return 0;
		}
		/* externalId lives in the document */
	}
	if (p->sub != NULL) {
		if (p->attr->type != SCIM_T_COMPLEX)
			return bad_filter(q, "not a complex attribute", p);
		if ((r = root_attr_json(q, p, obj, sizeof(obj))) != 0)
			return r;
		return json_sub(q, obj, p->sub, o);
	}
	if ((r = root_place(q, p, obj, sizeof(obj), key, sizeof(key))) != 0)
		return r;
	o->kind = OPD_JSON;
	o->type = p->attr->type;
	o->case_exact = p->attr->case_exact;
	xfmt(q, o->jexpr, sizeof(o->jexpr), "%s->%s", obj, key);
	xfmt(q, o->texpr, sizeof(o->texpr), "%s->>%s", obj, key);
	return 0;
}

static void
emit_present_json(struct qb *q, const char *j)
{
	buf_printf(&q->sql, "coalesce((%s) NOT IN ('null'::jsonb, "
	    "'\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb), false)", j);
}

static int
emit_present(struct qb *q, const struct operand *o)
{
	switch (o->kind) {
	case OPD_JSON:
		emit_present_json(q, o->jexpr);
		break;
	case OPD_TEXT:
		buf_printf(&q->sql, "coalesce(%s <> '', false)", o->texpr);
		break;
	case OPD_UUID:
	case OPD_TIME:
		buf_printf(&q->sql, "(%s IS NOT NULL)", o->texpr);
		break;
	case OPD_TRUE:
		emit(q, "true");
		break;
	}
	return 0;
}

static const char *
sql_op(enum scim_fop op)
{
	switch (op) {
	case SCIM_FOP_GT: return ">";
	case SCIM_FOP_GE: return ">=";
	case SCIM_FOP_LT: return "<";
	case SCIM_FOP_LE: return "<=";
	default: return "=";
	}
}

static int
is_order_op(enum scim_fop op)
{
	return op == SCIM_FOP_GT || op == SCIM_FOP_GE || op == SCIM_FOP_LT ||
	    op == SCIM_FOP_LE;
}

static int
is_like_op(enum scim_fop op)
{
	return op == SCIM_FOP_CO || op == SCIM_FOP_SW || op == SCIM_FOP_EW;
}

/* String comparison of text expression t with the filter's value. */
static int
emit_string_cmp(struct qb *q, const char *t, int case_exact,
    enum scim_fop op, const char *v)
{
	int k;

	if (is_like_op(op)) {
		if ((k = qb_param_own(q, like_pattern(op, v))) == 0)
			return ERR_ALLOC;
		if (case_exact)
			buf_printf(&q->sql, "(%s LIKE $%d::text ESCAPE '\\')",
			    t, k);
		else
			buf_printf(&q->sql, "(lower(%s) LIKE lower($%d::text) "
			    "ESCAPE '\\')", t, k);
		return 0;
	}
	if ((k = qb_param(q, v)) == 0)
		return ERR_ALLOC;
	if (is_order_op(op)) {
		if (case_exact)
			buf_printf(&q->sql, "(%s COLLATE \"C\" %s $%d::text)",
			    t, sql_op(op), k);
		else
			buf_printf(&q->sql, "(lower(%s) COLLATE \"C\" %s "
			    "lower($%d::text))", t, sql_op(op), k);
		return 0;
	}
	if (case_exact)
		buf_printf(&q->sql, "(%s = $%d::text)", t, k);
	else
		buf_printf(&q->sql, "(lower(%s) = lower($%d::text))", t, k);
	return 0;
}

/* dateTime comparison; co/sw/ew compare the text form. */
static int
emit_time_cmp(struct qb *q, const struct operand *o, enum scim_fop op,
    const struct scim_filter *f)
{
	char t[EXPR_MAX * 2];
	int k;

	if (is_like_op(op)) {
		if (o->kind == OPD_TIME) {
			xfmt(q, t, sizeof(t), "to_char(%s AT TIME ZONE "
			    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
			    o->texpr);
			return emit_string_cmp(q, t, 1, op, f->text);
		}
		return emit_string_cmp(q, o->texpr, o->case_exact, op,
		    f->text);
	}
	if (!datetime_ok(f->text))
		return bad_filter(q, "not an xsd:dateTime value for",
		    &f->path);
	if ((k = qb_param(q, f->text)) == 0)
		return ERR_ALLOC;
	if (o->kind == OPD_TIME)
		buf_printf(&q->sql, "(%s %s $%d::timestamptz)", o->texpr,
		    sql_op(op), k);
	else
		buf_printf(&q->sql, "((%s)::timestamptz %s $%d::timestamptz)",
		    o->texpr, sql_op(op), k);
	return 0;
}

/* Comparison with a uuid column: equality by uuid (which also serves
 * indexes), the other operators on its text form. */
static int
emit_uuid_cmp(struct qb *q, const struct operand *o, enum scim_fop op,
    const char *v)
{
	char t[EXPR_MAX + 8];
	int k;

	if (op == SCIM_FOP_EQ) {
		if (!db_id_ok(v)) {
			emit(q, "false");
			return 0;
		}
		if ((k = qb_param(q, v)) == 0)
			return ERR_ALLOC;
		buf_printf(&q->sql, "(%s = $%d::uuid)", o->texpr, k);
		return 0;
	}
	xfmt(q, t, sizeof(t), "%s::text", o->texpr);
	return emit_string_cmp(q, t, o->case_exact, op, v);
}

/*
 * A positive comparison (eq co sw ew gt ge lt le; ne is NOT eq) of
 * operand o with the value of f.
 */
static int
emit_value_cmp(struct qb *q, const struct operand *o, enum scim_fop op,
    const struct scim_filter *f)
{
	int k;

	if (o->kind == OPD_TRUE)
		return bad_filter(q, "attribute cannot be compared", &f->path);
	if (o->type == SCIM_T_BOOLEAN) {
		if (op != SCIM_FOP_EQ || (f->vtype != SCIM_FVAL_TRUE &&
		    f->vtype != SCIM_FVAL_FALSE))
			return bad_filter(q, "operator or value does not fit "
			    "boolean attribute", &f->path);
		buf_printf(&q->sql, "((%s) = '%s'::jsonb)", o->jexpr,
		    f->vtype == SCIM_FVAL_TRUE ? "true" : "false");
		return 0;
	}
	if (o->type == SCIM_T_INTEGER || o->type == SCIM_T_DECIMAL) {
		if (f->vtype != SCIM_FVAL_NUMBER || f->text == NULL ||
		    is_like_op(op))
			return bad_filter(q, "operator or value does not fit "
			    "numeric attribute", &f->path);
		if ((k = qb_param(q, f->text)) == 0)
			return ERR_ALLOC;
		buf_printf(&q->sql, "(CASE WHEN jsonb_typeof(%s) = 'number' "
		    "THEN (%s)::numeric END %s $%d::numeric)", o->jexpr,
		    o->texpr, sql_op(op), k);
		return 0;
	}
	if (f->vtype != SCIM_FVAL_STRING || f->text == NULL)
		return bad_filter(q, "value does not fit attribute",
		    &f->path);
	if (o->type == SCIM_T_DATETIME || o->kind == OPD_TIME)
		return emit_time_cmp(q, o, op, f);
	if (o->kind == OPD_UUID)
		return emit_uuid_cmp(q, o, op, f->text);
	return emit_string_cmp(q, o->texpr, o->case_exact, op, f->text);
}

/* Comparison (or pr) of operand o per node f. */
static int
emit_operand_cmp(struct qb *q, const struct operand *o,
    const struct scim_filter *f)
{
	int r;

	if (f->op == SCIM_FOP_PR)
		return emit_present(q, o);
	if (f->vtype == SCIM_FVAL_NULL) {
		/* eq null: absent; ne null: present (RFC 7643 §2.5) */
		if (f->op != SCIM_FOP_EQ && f->op != SCIM_FOP_NE)
			return bad_filter(q, "null only compares with eq/ne",
			    &f->path);
		if (f->op == SCIM_FOP_EQ)
			emit(q, "NOT ");
		return emit_present(q, o);
	}
	if (f->op == SCIM_FOP_NE) {
		emit(q, "NOT coalesce(");
		if ((r = emit_value_cmp(q, o, SCIM_FOP_EQ, f)) != 0)
			return r;
		emit(q, ", false)");
		return 0;
	}
	return emit_value_cmp(q, o, f->op, f);
}

static int emit_node(struct qb *q, const struct ctx *cx,
    const struct scim_filter *f);

/* Array expression of a multi-valued attribute at the root (or NULL). */
static int
root_array(struct qb *q, const struct scim_attr_path *p, char *out,
    size_t outsz)
{
	char j[EXPR_MAX];
	int r;

	if ((r = root_attr_json(q, p, j, sizeof(j))) != 0)
		return r;
	xfmt(q, out, outsz, "CASE WHEN jsonb_typeof(%s) = 'array' THEN %s "
	    "END", j, j);
	return 0;
}

/*
 * EXISTS over the values of multi-valued attribute f->path.attr (array
 * elements or membership rows) whose body is the positive comparison or
 * pr f (inner = NULL) or the inner filter of a value path.
 */
static int
emit_exists(struct qb *q, const struct scim_filter *f,
    const struct scim_filter *inner)
{
	struct ctx ecx;
	struct operand o;
	char arr[EXPR_MAX * 2 + 64];
	unsigned a = ++q->seq;
	int r;

	memset(&ecx, 0, sizeof(ecx));
	ecx.attr = f->path.attr;
	if (is_membership(q, &f->path)) {
		ecx.kind = CTX_MEMBER;
		xfmt(q, ecx.base, sizeof(ecx.base), "m%u", a);
		buf_printf(&q->sql, "EXISTS (SELECT 1 FROM scim_group_member "
		    "m%u WHERE m%u.%s = r.id", a, a,
		    q->rt == SCIM_RT_GROUP ? "group_id" : "member_id");
		if (inner == NULL && f->op == SCIM_FOP_PR &&
		    f->path.sub == NULL) {
			emit(q, ")");
			return 0;
		}
	} else {
		ecx.kind = CTX_JSON;
		xfmt(q, ecx.base, sizeof(ecx.base), "e%u.v", a);
		if ((r = root_array(q, &f->path, arr, sizeof(arr))) != 0)
			return r;
		buf_printf(&q->sql, "EXISTS (SELECT 1 FROM "
		    "jsonb_array_elements(%s) AS e%u(v) WHERE true", arr, a);
	}
	emit(q, " AND ");
	if (inner != NULL)
		r = emit_node(q, &ecx, inner);
	else if ((r = make_operand(q, &ecx, &f->path, &o)) == 0)
		r = emit_operand_cmp(q, &o, f);
	if (r != 0)
		return r;
	emit(q, ")");
	return 0;
}

/* The GIN-indexed form of User `emails.value eq "x"` (case-insensitive):
 * vb_email_values() is defined in sql/0001_init.sql. */
static int
is_email_eq(const struct qb *q, const struct scim_filter *f)
{
	return q->rt == SCIM_RT_USER && f->op == SCIM_FOP_EQ &&
	    f->vtype == SCIM_FVAL_STRING && f->text != NULL &&
	    f->path.schema == scim_schema_rtype(SCIM_RT_USER)->schema &&
	    strcmp(f->path.attr->name, "emails") == 0 &&
	    f->path.sub != NULL && strcmp(f->path.sub->name, "value") == 0 &&
	    !f->path.sub->case_exact;
}

static int
emit_email_index(struct qb *q, const struct scim_filter *f)
{
	int k;

	if ((k = qb_param(q, f->text)) == 0)
		return ERR_ALLOC;
	buf_printf(&q->sql, "(vb_email_values(r.doc) @> "
	    "ARRAY[lower($%d::text)])", k);
	return 0;
}

/* An `emails.value eq` in the AND chain at the top of a value path's
 * filter, or NULL: it lets the index narrow emails[...] too. */
static const struct scim_filter *
email_eq_in(const struct qb *q, const struct scim_filter *f)
{
	const struct scim_filter *x;

	if (f == NULL)
		return NULL;
	if (f->op == SCIM_FOP_AND) {
		if ((x = email_eq_in(q, f->left)) != NULL)
			return x;
		return email_eq_in(q, f->right);
	}
	if (f->op == SCIM_FOP_VALUEPATH || f->op == SCIM_FOP_OR ||
	    f->op == SCIM_FOP_NOT || f->path.attr == NULL)
		return NULL;
	return is_email_eq(q, f) ? f : NULL;
}

/* Positive comparison or pr on a multi-valued attribute at the root:
 * true if any value matches. */
static int
emit_multi(struct qb *q, const struct scim_filter *f)
{
	char obj[EXPR_MAX];
	int r;

	if (f->op == SCIM_FOP_PR && f->path.sub == NULL &&
	    !is_membership(q, &f->path)) {
		/* a non-empty array */
		if ((r = root_attr_json(q, &f->path, obj, sizeof(obj))) != 0)
			return r;
		emit_present_json(q, obj);
		return 0;
	}
	if (is_email_eq(q, f))
		return emit_email_index(q, f);
	return emit_exists(q, f, NULL);
}

static int
emit_cmp_node(struct qb *q, const struct ctx *cx, const struct scim_filter *f)
{
	struct scim_filter pos;
	struct operand o;
	int r, negate = 0;

	if (f->path.attr == NULL || f->path.schema == NULL)
		return bad_filter(q, "missing attribute", NULL);
	if (cx->kind != CTX_ROOT && f->path.attr != cx->attr)
		return bad_filter(q, "attribute outside its value filter",
		    &f->path);
	if (cx->kind == CTX_ROOT && f->path.attr->multi_valued) {
		/* ne and eq null are the negation of eq and pr */
		pos = *f;
		if (f->vtype == SCIM_FVAL_NULL) {
			if (f->op != SCIM_FOP_EQ && f->op != SCIM_FOP_NE)
				return bad_filter(q, "null only compares "
				    "with eq/ne", &f->path);
			negate = f->op == SCIM_FOP_EQ;
			pos.op = SCIM_FOP_PR;
			pos.vtype = SCIM_FVAL_NONE;
		} else if (f->op == SCIM_FOP_NE) {
			negate = 1;
			pos.op = SCIM_FOP_EQ;
		}
		if (negate)
			emit(q, "NOT coalesce(");
		if ((r = emit_multi(q, &pos)) != 0)
			return r;
		if (negate)
			emit(q, ", false)");
		return 0;
	}
	if (cx->kind == CTX_ROOT && f->path.sub == NULL &&
	    f->path.attr->type == SCIM_T_COMPLEX && f->op != SCIM_FOP_PR)
		return bad_filter(q, "complex attribute needs a "
		    "sub-attribute", &f->path);
	if ((r = make_operand(q, cx, &f->path, &o)) != 0)
		return r;
	return emit_operand_cmp(q, &o, f);
}

static int
emit_valuepath(struct qb *q, const struct ctx *cx,
    const struct scim_filter *f)
{
	const struct scim_filter *ee;
	struct ctx ocx;
	char obj[EXPR_MAX];
	int r;

	if (cx->kind != CTX_ROOT || f->left == NULL || f->path.attr == NULL)
		return bad_filter(q, "nested value filter", &f->path);
	if (f->path.attr->type != SCIM_T_COMPLEX)
		return bad_filter(q, "value filter on a simple attribute",
		    &f->path);
	if (is_common(&f->path)) {
		/* meta[...]: same as the comparisons at the root */
		return emit_node(q, cx, f->left);
	}
	if (!f->path.attr->multi_valued) {
		/* a singular complex attribute: filter the object itself */
		memset(&ocx, 0, sizeof(ocx));
		ocx.kind = CTX_JSON;
		ocx.attr = f->path.attr;
		if ((r = root_attr_json(q, &f->path, obj, sizeof(obj))) != 0)
			return r;
		xfmt(q, ocx.base, sizeof(ocx.base), "%s", obj);
		return emit_node(q, &ocx, f->left);
	}
	emit(q, "(");
	if (!is_membership(q, &f->path) &&
	    (ee = email_eq_in(q, f->left)) != NULL) {
		if ((r = emit_email_index(q, ee)) != 0)
			return r;
		emit(q, " AND ");
	}
	if ((r = emit_exists(q, f, f->left)) != 0)
		return r;
	emit(q, ")");
	return 0;
}

static int
emit_node(struct qb *q, const struct ctx *cx, const struct scim_filter *f)
{
	int r;

	if (f == NULL)
		return bad_filter(q, "empty filter", NULL);
	switch (f->op) {
	case SCIM_FOP_AND:
	case SCIM_FOP_OR:
		if (f->left == NULL || f->right == NULL)
			return bad_filter(q, "incomplete filter", NULL);
		emit(q, "(");
		if ((r = emit_node(q, cx, f->left)) != 0)
			return r;
		emit(q, f->op == SCIM_FOP_AND ? " AND " : " OR ");
		if ((r = emit_node(q, cx, f->right)) != 0)
			return r;
		emit(q, ")");
		return 0;
	case SCIM_FOP_NOT:
		if (f->left == NULL)
			return bad_filter(q, "incomplete filter", NULL);
		emit(q, "NOT coalesce(");
		if ((r = emit_node(q, cx, f->left)) != 0)
			return r;
		emit(q, ", false)");
		return 0;
	case SCIM_FOP_VALUEPATH:
		return emit_valuepath(q, cx, f);
	default:
		return emit_cmp_node(q, cx, f);
	}
}

/* ORDER BY value of a sortable leaf whose operand is o. */
static int
sort_value(struct qb *q, const struct scim_attr *leaf,
    const struct operand *o, char *out, size_t outsz)
{
	switch (leaf->type) {
	case SCIM_T_INTEGER:
	case SCIM_T_DECIMAL:
		xfmt(q, out, outsz, "CASE WHEN jsonb_typeof(%s) = 'number' "
		    "THEN (%s)::numeric END", o->jexpr, o->texpr);
		return 0;
	case SCIM_T_BOOLEAN:
		xfmt(q, out, outsz, "CASE WHEN jsonb_typeof(%s) = 'boolean' "
		    "THEN (%s)::boolean END", o->jexpr, o->texpr);
		return 0;
	case SCIM_T_DATETIME:
		xfmt(q, out, outsz, "(%s)::timestamptz", o->texpr);
		return 0;
	case SCIM_T_COMPLEX:
		return ERR_INVALID;
	default:
		if (leaf->case_exact)
			xfmt(q, out, outsz, "%s COLLATE \"C\"", o->texpr);
		else
			xfmt(q, out, outsz, "lower(%s) COLLATE \"C\"",
			    o->texpr);
		return 0;
	}
}

/*
 * ORDER BY key of a sortBy attribute (RFC 7644 §3.4.2.3) into out, or ""
 * for the default order (also for what cannot be sorted: membership,
 * references, complex attributes without a value). Multi-valued: the
 * primary value, else the first.
 */
static int
sort_key(struct qb *q, const struct scim_attr_path *p, char *out,
    size_t outsz)
{
	struct scim_attr_path ep;
	struct operand o;
	struct ctx cx;
	char arr[EXPR_MAX * 2 + 64], val[EXPR_MAX * 2];
	int r;

	out[0] = '\0';
	if (p == NULL || p->attr == NULL || p->schema == NULL)
		return 0;
	if (is_common(p) && strcmp(p->attr->name, "externalId") != 0) {
		if (strcmp(p->attr->name, "id") == 0)
			xfmt(q, out, outsz, "r.id");
		else if (p->sub == NULL)
			return 0;
		else if (strcmp(p->sub->name, "created") == 0)
			xfmt(q, out, outsz, "r.created");
		else if (strcmp(p->sub->name, "lastModified") == 0)
			xfmt(q, out, outsz, "r.last_modified");
		else if (strcmp(p->sub->name, "version") == 0)
			xfmt(q, out, outsz, "r.version");
		return 0;
	}
	if (is_membership(q, p))
		return 0;
	ep = *p;
	if (ep.sub == NULL && ep.attr->type == SCIM_T_COMPLEX &&
	    (ep.sub = scim_attr_sub(p->attr, "value", 5)) == NULL)
		return 0;
	if ((ep.sub != NULL ? ep.sub : ep.attr)->type == SCIM_T_COMPLEX)
		return 0;
	memset(&cx, 0, sizeof(cx));
	if (p->attr->multi_valued) {
		cx.kind = CTX_JSON;
		cx.attr = p->attr;
		xfmt(q, cx.base, sizeof(cx.base), "x.v");
		if ((r = root_array(q, p, arr, sizeof(arr))) != 0)
			return r;
	} else
		cx.kind = CTX_ROOT;
	if ((r = make_operand(q, &cx, &ep, &o)) != 0 ||
	    (r = sort_value(q, ep.sub != NULL ? ep.sub : ep.attr, &o, val,
	    sizeof(val))) != 0)
		return r;
	if (p->attr->multi_valued)
		xfmt(q, out, outsz, "(SELECT %s FROM jsonb_array_elements("
		    "%s) WITH ORDINALITY AS x(v, n) ORDER BY "
		    "(x.v->'primary' = 'true'::jsonb) IS TRUE DESC, x.n "
		    "LIMIT 1)", val, arr);
	else
		xfmt(q, out, outsz, "%s", val);
	return 0;
}

void
db_page_clear(struct db_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrows; i++)
		db_row_clear(&p->rows[i]);
	free(p->rows);
	memset(p, 0, sizeof(*p));
}

/* A failed query whose SQLSTATE is a data exception was caused by a
 * filter value (e.g. a number or date PostgreSQL cannot read). */
static int
query_err(struct db_conn *c, struct qb *q, int r)
{
	if (r == ERR_INTERNAL && db_sqlstate_class(c, "22"))
		return api_error_set(q->e, 400, SCIM_ET_INVALID_FILTER,
		    "a filter value cannot be compared with the stored "
		    "values");
	return r;
}

/* totalResults alone: SELECT count(*) over the WHERE clause in q. */
static int
query_count(struct db_conn *c, struct qb *q, enum scim_rtype rt, int nwhere,
    size_t where_len, uint64_t *total)
{
	PGresult *res = NULL;
	struct buf stmt;
	int r;

	*total = 0;
	buf_init(&stmt, QUERY_SQL_MAX);
	buf_printf(&stmt, "SELECT count(*) FROM %s r WHERE ",
	    db_scim_table(rt));
	buf_append(&stmt, q->sql.data, where_len);
	if (buf_failed(&stmt)) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = db_exec(c, buf_str(&stmt), nwhere, q->vals, &res)) != 0) {
		r = query_err(c, q, r);
		goto out;
	}
	if (PQntuples(res) != 1 ||
	    parse_u64(PQgetvalue(res, 0, 0), 0, UINT64_MAX, total) != 0)
		r = ERR_INTERNAL;
out:
	PQclear(res);
	buf_free(&stmt);
	return r;
}

/*
 * The page in one round trip, and totalResults from it whenever it can
 * tell: one row more than asked for is fetched, so a page that is not
 * full (most filtered lookups, where one row or none matches) gives the
 * total as the offset plus its rows. Only a full page, or an empty one
 * past the first, costs a second statement, SELECT count(*).
 * An earlier shape carried the total as a window count(*) OVER () with
 * the count as a scalar subquery in a CASE: its executor set-up alone
 * cost PostgreSQL more than twice the rest of a userName lookup.
 * The page is cut in a subquery first, so that the per-row
 * members/groups subqueries of the select list run for the rows
 * returned only, not for the rows OFFSET skips; the outer ORDER BY
 * repeats the order, which a subquery's does not promise to keep. (This
 * shape also gets a generic plan once the statement is prepared, where
 * LIMIT $l at the top level had PostgreSQL plan every execution anew.)
 *
 *   SELECT <cols of r>
 *   FROM (SELECT r.id, r.doc, r.created, r.last_modified, r.version,
 *         <key> AS vb_key FROM t r WHERE <w>
 *         ORDER BY vb_key <dir> NULLS LAST, r.id OFFSET $o LIMIT $l+1) r
 *   ORDER BY r.vb_key <dir> NULLS LAST, r.id
 */
int
db_scim_query(struct db_conn *c, enum scim_rtype rt,
    const struct db_query *qu, struct db_page *out, struct api_error *e)
{
	struct qb q;
	struct ctx root;
	PGresult *res = NULL;
	struct buf stmt;
	char key[EXPR_MAX * 4], off[24], lim[16];
	size_t where_len, i, nrows;
	uint64_t total = 0, skip;
	const char *dir, *table = db_scim_table(rt);
	int r, ko, kl, nwhere;

	memset(out, 0, sizeof(*out));
	memset(&q, 0, sizeof(q));
	buf_init(&q.sql, QUERY_SQL_MAX);
	buf_init(&stmt, QUERY_SQL_MAX);
	q.rt = rt;
	q.e = e;
	memset(&root, 0, sizeof(root));
	root.kind = CTX_ROOT;

	/* WHERE clause, shared by the count and the page */
	if (qu->filter != NULL) {
		if ((r = emit_node(&q, &root, qu->filter)) != 0)
			goto out;
	} else
		emit(&q, "true");
	if ((r = q.err) != 0)
		goto out;
	if (buf_failed(&q.sql)) {
		r = api_error_set(e, 400, SCIM_ET_INVALID_FILTER,
		    "filter too complex");
		goto out;
	}
	where_len = q.sql.len;
	nwhere = q.n;

	if (qu->count == 0) {
		if ((r = query_count(c, &q, rt, nwhere, where_len,
		    &total)) != 0)
			goto out;
		out->total = total;
		r = 0;
		goto out;
	}

	/* the page */
	skip = qu->start_index > 1 ? qu->start_index - 1 : 0;
	if ((r = sort_key(&q, qu->sort, key, sizeof(key))) != 0)
		goto out;
	snprintf(off, sizeof(off), "%llu", (unsigned long long)skip);
	snprintf(lim, sizeof(lim), "%llu",
	    (unsigned long long)qu->count + 1);
	if ((ko = qb_param(&q, off)) == 0 ||
	    (kl = qb_param(&q, lim)) == 0) {
		r = ERR_ALLOC;
		goto out;
	}
	dir = qu->descending ? "DESC" : "ASC";
	buf_puts(&stmt, "SELECT ");
	db_scim_select_list(&stmt, rt, qu->flags);
	buf_puts(&stmt, " FROM (SELECT r.id, r.doc, r.created, "
	    "r.last_modified, r.version");
	if (key[0] != '\0')
		buf_printf(&stmt, ", %s AS vb_key", key);
	buf_printf(&stmt, " FROM %s r WHERE ", table);
	buf_append(&stmt, q.sql.data, where_len);
	if (key[0] != '\0')
		buf_printf(&stmt, " ORDER BY vb_key %s NULLS LAST, r.id", dir);
	else
		buf_printf(&stmt, " ORDER BY r.created %s, r.id %s", dir, dir);
	buf_printf(&stmt, " OFFSET $%d::bigint LIMIT $%d::bigint) r", ko, kl);
	if (key[0] != '\0')
		buf_printf(&stmt, " ORDER BY r.vb_key %s NULLS LAST, r.id", dir);
	else
		buf_printf(&stmt, " ORDER BY r.created %s, r.id %s", dir, dir);
	if ((r = q.err) != 0)
		goto out;
	if (buf_failed(&stmt)) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = db_exec(c, buf_str(&stmt), q.n, q.vals, &res)) != 0) {
		r = query_err(c, &q, r);
		goto out;
	}
	nrows = (size_t)PQntuples(res);
	if (nrows > qu->count || (nrows == 0 && skip > 0)) {
		/* a full page, or past the end: count separately */
		if ((r = query_count(c, &q, rt, nwhere, where_len,
		    &total)) != 0)
			goto out;
		if (nrows > qu->count)
			nrows = qu->count;
		/* two statements, two snapshots: never below the page */
		if (nrows > 0 && total < skip + nrows)
			total = skip + nrows;
	} else
		total = skip + nrows;
	if (nrows > 0 &&
	    (out->rows = calloc(nrows, sizeof(*out->rows))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	out->total = total;
	for (i = 0; i < nrows; i++) {
		if ((r = db_scim_read_row(res, (int)i, rt, qu->flags,
		    &out->rows[i])) != 0)
			goto out;
		out->nrows++;
	}
	r = 0;
out:
	PQclear(res);
	if (r != 0)
		db_page_clear(out);
	buf_free(&stmt);
	qb_free(&q);
	return r;
}
