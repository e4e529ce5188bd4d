#include "scim/filter.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim/value.h"
#include "util/bounds.h"
#include "util/strutil.h"

/*
 * Recursive-descent parser for RFC 7644 §3.4.2.2 filters:
 *
 *   or    = and *( "or" and )
 *   and   = unary *( "and" unary )
 *   unary = "not" "(" or ")" / "(" or ")" / attrExp / valuePath
 *
 * so not binds tighter than and, and tighter than or. Recursion happens
 * only through parentheses, "not" and value paths, each of which counts
 * against SCIM_FILTER_DEPTH_MAX, so the C stack stays bounded.
 */

#define SNIPPET_MAX	20	/* input bytes quoted in an error */
#define WORD_SHOW_MAX	64	/* attribute name bytes quoted */
#define NUMBER_MAX	64	/* a number literal, bytes */

struct parser {
	enum scim_rtype rt;
	const char *s;
	size_t len;
	size_t pos;
	int depth;
	int nodes;
	const char *etype;		/* invalidFilter or invalidPath */
	const char *what;		/* "filter" or "path" */
	const struct scim_attr_path *vp; /* inside attr[...]: the attr */
	struct api_error *e;
};

static int parse_or(struct parser *, struct scim_filter **);

/* ---- UTF-8 ---- */

/* Decode one UTF-8 sequence at s[0..n); 0 on error, else its length. */
static size_t
utf8_dec(const unsigned char *s, size_t n, uint32_t *cpp)
{
	size_t k, need;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cpp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		need = 1;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 2;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 3;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n <= need)
		return 0;
	for (k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
	    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return need + 1;
}

/* Offset of the first invalid UTF-8 sequence, or len if none. */
static size_t
utf8_bad_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_dec(u + i, len - i, &cp)) == 0)
			return i;
		i += n;
	}
	return len;
}

static void
utf8_put(char *out, size_t *op, uint32_t cp)
{
	size_t o = *op;

	if (cp < 0x80)
		out[o++] = (char)cp;
	else if (cp < 0x800) {
		out[o++] = (char)(0xc0 | (cp >> 6));
		out[o++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[o++] = (char)(0xe0 | (cp >> 12));
		out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[o++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[o++] = (char)(0xf0 | (cp >> 18));
		out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[o++] = (char)(0x80 | (cp & 0x3f));
	}
	*op = o;
}

/*
 * Simple lower-case mapping for the scripts our clients send most
 * (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic). Every mapping
 * keeps the UTF-8 length, so folding works in place.
 */
static uint32_t
fold_cp(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if (c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x100 && c <= 0x137 && c != 0x130)
		return c | 1;
	if (c >= 0x139 && c <= 0x148)
		return (c & 1) ? c + 1 : c;
	if (c >= 0x14a && c <= 0x177)
		return c | 1;
	if (c == 0x178)
		return 0xff;
	if (c >= 0x179 && c <= 0x17e)
		return (c & 1) ? c + 1 : c;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	return c;
}

/* Fold valid UTF-8 s[0..n) in place. */
static void
fold_inplace(char *s, size_t n)
{
	size_t i = 0, k, o;
	uint32_t cp;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			if (s[i] >= 'A' && s[i] <= 'Z')
				s[i] = (char)(s[i] + 32);
			i++;
			continue;
		}
		if ((k = utf8_dec((unsigned char *)s + i, n - i, &cp)) == 0) {
			i++;
			continue;
		}
		o = i;
		utf8_put(s, &o, fold_cp(cp));
		i += k;
	}
}

/* ---- errors ---- */

static int
perr(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, size_t off, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return api_error_set(p->e, 400, p->etype, "invalid %s: %s at offset "
	    "%zu", p->what, what, off);
}

/* Up to SNIPPET_MAX input bytes at off, cut on a character boundary,
 * control characters shown as '?'. The input is valid UTF-8 here. */
static void
snippet(const struct parser *p, size_t off, char *out, size_t outsz)
{
	const unsigned char *u = (const unsigned char *)p->s;
	size_t i = off, o = 0, n, k;
	uint32_t cp;

	while (i < p->len && i - off < SNIPPET_MAX && o + 5 < outsz) {
		if ((n = utf8_dec(u + i, p->len - i, &cp)) == 0 ||
		    i + n - off > SNIPPET_MAX)
			break;
		if (cp < 0x20 || cp == 0x7f)
			out[o++] = '?';
		else
			for (k = 0; k < n; k++)
				out[o++] = (char)u[i + k];
		i += n;
	}
	out[o] = '\0';
}

static int
perr_near(struct parser *p, size_t off, const char *what)
{
	char sn[SNIPPET_MAX * 4 + 8];

	if (off >= p->len)
		return perr(p, off, "%s, found end of input", what);
	snippet(p, off, sn, sizeof(sn));
	return perr(p, off, "%s near \"%s\"", what, sn);
}

/* ---- lexing ---- */

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos]))
		p->pos++;
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '$' ||
	    c == ':' || c == '.';
}

/* Length of the attribute-path-like word at pos (not consumed). */
static size_t
word_len(const struct parser *p)
{
	size_t i = p->pos;

	while (i < p->len && is_name_char(p->s[i]))
		i++;
	return i - p->pos;
}

static struct scim_filter *
node_new(struct parser *p, enum scim_fop op, int *rp)
{
	struct scim_filter *f;

	if (++p->nodes > SCIM_FILTER_NODES_MAX) {
		*rp = perr(p, p->pos, "more than %d terms",
		    SCIM_FILTER_NODES_MAX);
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		*rp = ERR_ALLOC;
		return NULL;
	}
	f->op = op;
	return f;
}

/* JSON string literal at pos (the opening quote) into *outp (malloc'd). */
static int
lex_string(struct parser *p, char **outp)
{
	const unsigned char *u = (const unsigned char *)p->s;
	size_t start = p->pos, i = p->pos + 1, o = 0, k, esc;
	uint32_t cp, lo;
	char *out = NULL;
	uint64_t v;
	int r = ERR_INVALID;

	*outp = NULL;
	/* the unescaped text is never longer than the literal */
	if ((out = malloc(p->len - start + 1)) == NULL)
		return ERR_ALLOC;
	for (;;) {
		if (i >= p->len) {
			r = perr(p, start, "unterminated string");
			goto out;
		}
		if (u[i] == '"')
			break;
		if (u[i] < 0x20) {
			r = perr(p, i, "control character in string");
			goto out;
		}
		if (u[i] != '\\') {
			out[o++] = (char)u[i++];
			continue;
		}
		esc = i;
		if (i + 1 >= p->len) {
			r = perr(p, esc, "unterminated escape");
			goto out;
		}
		switch (u[i + 1]) {
		case '"': out[o++] = '"'; i += 2; continue;
		case '\\': out[o++] = '\\'; i += 2; continue;
		case '/': out[o++] = '/'; i += 2; continue;
		case 'b': out[o++] = '\b'; i += 2; continue;
		case 'f': out[o++] = '\f'; i += 2; continue;
		case 'n': out[o++] = '\n'; i += 2; continue;
		case 'r': out[o++] = '\r'; i += 2; continue;
		case 't': out[o++] = '\t'; i += 2; continue;
		case 'u': break;
		default:
			r = perr(p, esc, "invalid escape in string");
			goto out;
		}
		/* \uXXXX, possibly a surrogate pair */
		cp = 0;
		for (k = 0; k < 2; k++) {
			if (k == 1 && (i + 1 >= p->len || u[i] != '\\' ||
			    u[i + 1] != 'u')) {
				r = perr(p, i - 6, "unpaired surrogate in "
				    "string");
				goto out;
			}
			if (i + 6 > p->len) {
				r = perr(p, i, "truncated \\u escape");
				goto out;
			}
			v = 0;
			for (esc = i + 2; esc < i + 6; esc++) {
				v <<= 4;
				if (u[esc] >= '0' && u[esc] <= '9')
					v |= (uint64_t)(u[esc] - '0');
				else if (u[esc] >= 'a' && u[esc] <= 'f')
					v |= (uint64_t)(u[esc] - 'a' + 10);
				else if (u[esc] >= 'A' && u[esc] <= 'F')
					v |= (uint64_t)(u[esc] - 'A' + 10);
				else {
					r = perr(p, i, "invalid \\u escape");
					goto out;
				}
			}
			lo = (uint32_t)v;
			if (k == 0) {
				cp = lo;
				i += 6;
				if (cp >= 0xdc00 && cp <= 0xdfff) {
					r = perr(p, i - 6,
					    "unpaired surrogate in string");
					goto out;
				}
				if (cp < 0xd800 || cp > 0xdbff)
					break;
				continue;
			}
			if (lo < 0xdc00 || lo > 0xdfff) {
				r = perr(p, i - 6, "unpaired surrogate in "
				    "string");
				goto out;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
		if (cp == 0) {
			r = perr(p, i - 6, "NUL character in string");
			goto out;
		}
		utf8_put(out, &o, cp);
	}
	out[o] = '\0';
	p->pos = i + 1;
	*outp = out;
	out = NULL;
	r = 0;
out:
	free(out);
	return r;
}

/* Length of a JSON number at s[0..n), 0 if there is none. */
static size_t
number_len(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else
		return 0;
	if (i < n && s[i] == '.') {
		d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i;
}

/* An integer literal (no fraction, no exponent) within int64. */
static int
int_literal(const char *t, long long *vp)
{
	uint64_t v;
	int neg = t[0] == '-';

	if (parse_u64(t + neg, 0, neg ? (uint64_t)INT64_MAX + 1 :
	    (uint64_t)INT64_MAX, &v) != 0)
		return -1;
	if (neg)
		*vp = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(long long)v;
	else
		*vp = (long long)v;
	return 0;
}

/* ---- parsing ---- */

static int expect_char(struct parser *p, char c);

static const struct {
	const char *name;
	enum scim_fop op;
} fops[] = {
	{ "eq", SCIM_FOP_EQ }, { "ne", SCIM_FOP_NE }, { "co", SCIM_FOP_CO },
	{ "sw", SCIM_FOP_SW }, { "ew", SCIM_FOP_EW }, { "gt", SCIM_FOP_GT },
	{ "ge", SCIM_FOP_GE }, { "lt", SCIM_FOP_LT }, { "le", SCIM_FOP_LE },
	{ "pr", SCIM_FOP_PR },
};

static int
is_ordering(enum scim_fop op)
{
	return op == SCIM_FOP_GT || op == SCIM_FOP_GE || op == SCIM_FOP_LT ||
	    op == SCIM_FOP_LE;
}

static int
is_substring(enum scim_fop op)
{
	return op == SCIM_FOP_CO || op == SCIM_FOP_SW || op == SCIM_FOP_EW;
}

static const char *
fop_name(enum scim_fop op)
{
	size_t i;

	for (i = 0; i < sizeof(fops) / sizeof(fops[0]); i++)
		if (fops[i].op == op)
			return fops[i].name;
	return "?";
}

/* Comparison value at pos into f->vtype / f->text. */
static int
parse_value(struct parser *p, struct scim_filter *f)
{
	size_t n, start = p->pos;
	const char *s = p->s + p->pos;

	if (p->pos >= p->len)
		return perr(p, p->pos, "expected a value, found end of input");
	if (*s == '"') {
		f->vtype = SCIM_FVAL_STRING;
		return lex_string(p, &f->text);
	}
	n = word_len(p);
	if (n == 4 && str_ieq_n(s, 4, "true"))
		f->vtype = SCIM_FVAL_TRUE;
	else if (n == 5 && str_ieq_n(s, 5, "false"))
		f->vtype = SCIM_FVAL_FALSE;
	else if (n == 4 && str_ieq_n(s, 4, "null"))
		f->vtype = SCIM_FVAL_NULL;
	else if ((n = number_len(s, p->len - p->pos)) > 0) {
		if (n > NUMBER_MAX)
			return perr(p, start, "number longer than %d bytes",
			    NUMBER_MAX);
		f->vtype = SCIM_FVAL_NUMBER;
		if ((f->text = str_ndup(s, n)) == NULL)
			return ERR_ALLOC;
	} else
		return perr_near(p, start, "expected a string, number, "
		    "true, false or null");
	p->pos += n;
	/* "eq 12abc", "eq truex": the value must end at a delimiter */
	if (p->pos < p->len && !is_ws(p->s[p->pos]) &&
	    p->s[p->pos] != ')' && p->s[p->pos] != ']')
		return perr_near(p, start, "malformed value");
	return 0;
}

/* Does the operator and value fit the compared attribute? Also maps a
 * complex attribute compared without a sub-attribute to its "value". */
static int
check_types(struct parser *p, struct scim_filter *f, size_t at, size_t opat,
    size_t vat)
{
	const struct scim_attr *a;
	const char *name;
	struct scim_datetime dt;
	long long iv;

	if (f->path.sub == NULL && f->path.attr->type == SCIM_T_COMPLEX) {
		if (f->op == SCIM_FOP_PR)
			return 0;
		f->path.sub = scim_attr_sub(f->path.attr, "value", 5);
		if (f->path.sub == NULL)
			return perr(p, at, "complex attribute \"%s\" cannot "
			    "be compared; name a sub-attribute",
			    f->path.attr->name);
	}
	if (f->op == SCIM_FOP_PR)
		return 0;
	a = f->path.sub != NULL ? f->path.sub : f->path.attr;
	name = a->name;
	if (f->vtype == SCIM_FVAL_NULL) {
		if (f->op != SCIM_FOP_EQ && f->op != SCIM_FOP_NE)
			return perr(p, opat, "null can only be compared with "
			    "eq or ne");
		return 0;
	}
	switch (a->type) {
	case SCIM_T_BOOLEAN:
		if (f->op != SCIM_FOP_EQ && f->op != SCIM_FOP_NE)
			return perr(p, opat, "operator %s not allowed on "
			    "boolean attribute \"%s\"", fop_name(f->op), name);
		if (f->vtype != SCIM_FVAL_TRUE && f->vtype != SCIM_FVAL_FALSE)
			return perr(p, vat, "boolean attribute \"%s\" needs "
			    "true or false", name);
		break;
	case SCIM_T_INTEGER:
	case SCIM_T_DECIMAL:
		if (is_substring(f->op))
			return perr(p, opat, "operator %s not allowed on "
			    "numeric attribute \"%s\"", fop_name(f->op), name);
		if (f->vtype != SCIM_FVAL_NUMBER)
			return perr(p, vat, "numeric attribute \"%s\" needs a "
			    "number", name);
		if (a->type == SCIM_T_INTEGER && int_literal(f->text, &iv) != 0)
			return perr(p, vat, "integer attribute \"%s\" needs an "
			    "integer", name);
		break;
	case SCIM_T_DATETIME:
		if (is_substring(f->op))
			return perr(p, opat, "operator %s not allowed on "
			    "dateTime attribute \"%s\"", fop_name(f->op), name);
		if (f->vtype != SCIM_FVAL_STRING ||
		    scim_datetime_parse(f->text, strlen(f->text), &dt) != 0)
			return perr(p, vat, "dateTime attribute \"%s\" "
			    "needs an xsd:dateTime string", name);
		break;
	case SCIM_T_BINARY:
		if (is_ordering(f->op))
			return perr(p, opat, "operator %s not allowed on "
			    "binary attribute \"%s\"", fop_name(f->op), name);
		/* FALLTHROUGH */
	case SCIM_T_STRING:
	case SCIM_T_REFERENCE:
		if (f->vtype != SCIM_FVAL_STRING)
			return perr(p, vat, "attribute \"%s\" needs a string "
			    "value", name);
		break;
	case SCIM_T_COMPLEX:
		return perr(p, at, "complex attribute \"%s\" cannot be "
		    "compared", name);
	}
	return 0;
}

/* Resolve the word s[at..at+n) to an attribute (or, inside a value path,
 * a sub-attribute of it). */
static int
resolve(struct parser *p, size_t at, size_t n, struct scim_attr_path *out)
{
	const char *w = p->s + at;
	int show = n > WORD_SHOW_MAX ? WORD_SHOW_MAX : (int)n;

	if (p->vp != NULL) {
		*out = *p->vp;
		out->sub = memchr(w, ':', n) != NULL ? NULL :
		    scim_attr_sub(p->vp->attr, w, n);
		if (out->sub == NULL)
			return perr(p, at, "\"%.*s\" is not a sub-attribute of "
			    "\"%s\"", show, w, p->vp->attr->name);
		return 0;
	}
	if (scim_schema_resolve(p->rt, w, n, out) != 0)
		return perr(p, at, "unknown attribute \"%.*s%s\"", show, w,
		    (size_t)show < n ? "..." : "");
	return 0;
}

/* attr[ inner ] at pos (the '['), with path already resolved. */
static int
parse_valuepath(struct parser *p, const struct scim_attr_path *path,
    size_t at, struct scim_filter **out)
{
	struct scim_filter *f = NULL;
	int r;

	*out = NULL;
	if (p->vp != NULL)
		return perr(p, p->pos, "nested value filter");
	if (path->sub != NULL || path->attr->type != SCIM_T_COMPLEX ||
	    !path->attr->multi_valued)
		return perr(p, at, "value filter needs a multi-valued complex "
		    "attribute");
	if (++p->depth > SCIM_FILTER_DEPTH_MAX)
		return perr(p, p->pos, "nested deeper than %d",
		    SCIM_FILTER_DEPTH_MAX);
	if ((f = node_new(p, SCIM_FOP_VALUEPATH, &r)) == NULL)
		goto out;
	f->path = *path;
	p->pos++;
	p->vp = &f->path;
	r = parse_or(p, &f->left);
	p->vp = NULL;
	if (r != 0)
		goto out;
	if ((r = expect_char(p, ']')) != 0)
		goto out;
	p->depth--;
	*out = f;
	f = NULL;
	r = 0;
out:
	scim_filter_free(f);
	return r;
}

/* attrPath op value / attrPath pr / valuePath, starting at pos. */
static int
parse_attrexp(struct parser *p, struct scim_filter **out)
{
	struct scim_attr_path path;
	const struct scim_attr *a;
	struct scim_filter *f = NULL;
	size_t at = p->pos, n, opat, vat = 0, i;
	int r;

	*out = NULL;
	if ((n = word_len(p)) == 0)
		return perr_near(p, at, "expected an attribute name");
	if ((r = resolve(p, at, n, &path)) != 0)
		return r;
	p->pos += n;
	if (p->pos < p->len && p->s[p->pos] == '[') {
		if ((r = parse_valuepath(p, &path, at, out)) != 0)
			return r;
		if (p->pos < p->len && p->s[p->pos] == '.') {
			scim_filter_free(*out);
			*out = NULL;
			return perr(p, p->pos, "sub-attribute after a value "
			    "filter is only allowed in PATCH paths");
		}
		return 0;
	}
	a = path.sub != NULL ? path.sub : path.attr;
	if (a->returned == SCIM_RET_NEVER)
		return perr(p, at, "attribute \"%s\" cannot be filtered on",
		    a->name);
	if (p->pos >= p->len || !is_ws(p->s[p->pos]))
		return perr_near(p, p->pos, "expected a space and an operator");
	skip_ws(p);
	opat = p->pos;
	n = word_len(p);
	for (i = 0; i < sizeof(fops) / sizeof(fops[0]); i++)
		if (n == 2 && str_ieq_n(p->s + opat, 2, fops[i].name))
			break;
	if (i == sizeof(fops) / sizeof(fops[0]))
		return perr_near(p, opat, "expected an operator (eq ne co sw "
		    "ew gt ge lt le pr)");
	if ((f = node_new(p, fops[i].op, &r)) == NULL)
		goto out;
	f->path = path;
	p->pos += n;
	if (f->op != SCIM_FOP_PR) {
		if (p->pos >= p->len || !is_ws(p->s[p->pos])) {
			r = perr_near(p, p->pos, "expected a space and a "
			    "value");
			goto out;
		}
		skip_ws(p);
		vat = p->pos;
		if ((r = parse_value(p, f)) != 0)
			goto out;
	}
	if ((r = check_types(p, f, at, opat, vat)) != 0)
		goto out;
	*out = f;
	f = NULL;
	r = 0;
out:
	scim_filter_free(f);
	return r;
}

/* '(' or ')' expected at pos after optional blanks. */
static int
expect_char(struct parser *p, char c)
{
	char what[16];

	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == c) {
		p->pos++;
		return 0;
	}
	snprintf(what, sizeof(what), "expected '%c'", c);
	return perr_near(p, p->pos, what);
}

static int
parse_unary(struct parser *p, struct scim_filter **out)
{
	struct scim_filter *f = NULL;
	size_t n, save;
	int r;

	*out = NULL;
	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, p->pos, "expression expected, found end of "
		    "input");
	n = word_len(p);
	if (p->s[p->pos] != '(' && !(n == 3 && str_ieq_n(p->s + p->pos, 3,
	    "not")))
		return parse_attrexp(p, out);
	if (++p->depth > SCIM_FILTER_DEPTH_MAX)
		return perr(p, p->pos, "nested deeper than %d",
		    SCIM_FILTER_DEPTH_MAX);
	if (p->s[p->pos] == '(') {
		p->pos++;
		if ((r = parse_or(p, out)) != 0)
			return r;
		if ((r = expect_char(p, ')')) != 0) {
			scim_filter_free(*out);
			*out = NULL;
			return r;
		}
		p->depth--;
		return 0;
	}
	save = p->pos;
	p->pos += n;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '(')
		return perr(p, save, "\"not\" must be followed by '('");
	p->pos++;
	if ((f = node_new(p, SCIM_FOP_NOT, &r)) == NULL ||
	    (r = parse_or(p, &f->left)) != 0 ||
	    (r = expect_char(p, ')')) != 0)
		goto out;
	p->depth--;
	*out = f;
	f = NULL;
	r = 0;
out:
	scim_filter_free(f);
	return r;
}

/* Next word is the keyword kw (consumed if so, with leading blanks). */
static int
accept_kw(struct parser *p, const char *kw)
{
	size_t save = p->pos, n, end;
	char prev;

	/* RFC 7644 puts SP around and/or; also accept them right after a
	 * closing ')' ']' '"' or right before '(' */
	skip_ws(p);
	n = word_len(p);
	end = p->pos + n;
	prev = save > 0 ? p->s[save - 1] : ' ';
	if ((p->pos > save || prev == ')' || prev == ']' || prev == '"') &&
	    n == strlen(kw) && str_ieq_n(p->s + p->pos, n, kw) &&
	    (end == p->len || is_ws(p->s[end]) || p->s[end] == '(')) {
		p->pos += n;
		return 1;
	}
	p->pos = save;
	return 0;
}

static int
parse_chain(struct parser *p, const char *kw, enum scim_fop op,
    int (*sub)(struct parser *, struct scim_filter **),
    struct scim_filter **out)
{
	struct scim_filter *l = NULL, *n;
	int r;

	*out = NULL;
	if ((r = sub(p, &l)) != 0)
		goto out;
	while (accept_kw(p, kw)) {
		if ((n = node_new(p, op, &r)) == NULL)
			goto out;
		n->left = l;
		l = n;
		if ((r = sub(p, &n->right)) != 0)
			goto out;
	}
	*out = l;
	l = NULL;
	r = 0;
out:
	scim_filter_free(l);
	return r;
}

static int
parse_and(struct parser *p, struct scim_filter **out)
{
	return parse_chain(p, "and", SCIM_FOP_AND, parse_unary, out);
}

static int
parse_or(struct parser *p, struct scim_filter **out)
{
	return parse_chain(p, "or", SCIM_FOP_OR, parse_and, out);
}

/* Common checks on the whole input before parsing. */
static int
parser_init(struct parser *p, enum scim_rtype rt, const char *s, size_t len,
    const char *etype, const char *what, struct api_error *e)
{
	size_t bad;

	memset(p, 0, sizeof(*p));
	p->rt = rt;
	p->s = s;
	p->len = len;
	p->etype = etype;
	p->what = what;
	p->e = e;
	if (s == NULL || len == 0)
		return perr(p, 0, "empty %s", what);
	if (len > SCIM_FILTER_MAX)
		return perr(p, SCIM_FILTER_MAX, "longer than %d bytes",
		    SCIM_FILTER_MAX);
	if ((bad = utf8_bad_at(s, len)) != len)
		return perr(p, bad, "invalid UTF-8");
	return 0;
}

int
scim_filter_parse(enum scim_rtype rt, const char *s, size_t len,
    struct scim_filter **out, struct api_error *e)
{
	struct parser p;
	struct scim_filter *f = NULL;
	int r;

	*out = NULL;
	if ((r = parser_init(&p, rt, s, len, SCIM_ET_INVALID_FILTER,
	    "filter", e)) != 0)
		goto out;
	if ((r = parse_or(&p, &f)) != 0)
		goto out;
	skip_ws(&p);
	if (p.pos != p.len) {
		r = perr_near(&p, p.pos, "unexpected input after expression");
		goto out;
	}
	*out = f;
	f = NULL;
	r = 0;
out:
	scim_filter_free(f);
	return r;
}

void
scim_filter_free(struct scim_filter *f)
{
	if (f == NULL)
		return;
	scim_filter_free(f->left);
	scim_filter_free(f->right);
	free(f->text);
	free(f);
}

int
scim_path_parse(enum scim_rtype rt, const char *s, size_t len,
    struct scim_path *out, struct api_error *e)
{
	struct parser p;
	struct scim_filter *vp = NULL;
	size_t n, at;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = parser_init(&p, rt, s, len, SCIM_ET_INVALID_PATH, "path",
	    e)) != 0)
		goto out;
	n = word_len(&p);
	if (n == 0) {
		r = perr_near(&p, 0, "expected an attribute name");
		goto out;
	}
	if ((r = resolve(&p, 0, n, &out->attr)) != 0)
		goto out;
	p.pos = n;
	if (p.pos == p.len) {
		r = 0;
		goto out;
	}
	if (p.s[p.pos] != '[') {
		r = perr_near(&p, p.pos, "unexpected character in path");
		goto out;
	}
	if ((r = parse_valuepath(&p, &out->attr, 0, &vp)) != 0)
		goto out;
	if (p.pos < p.len && p.s[p.pos] == '.') {
		at = ++p.pos;
		n = word_len(&p);
		if (n == 0 || p.pos + n != p.len ||
		    (out->attr.sub = scim_attr_sub(out->attr.attr,
		    p.s + at, n)) == NULL) {
			r = perr_near(&p, at, "expected a sub-attribute of "
			    "the filtered attribute");
			goto out;
		}
		p.pos += n;
	}
	if (p.pos != p.len) {
		r = perr_near(&p, p.pos, "unexpected input after value filter");
		goto out;
	}
	/* the VALUEPATH node only carried the inner filter */
	out->filter = vp->left;
	vp->left = NULL;
	r = 0;
out:
	scim_filter_free(vp);
	if (r != 0)
		scim_path_clear(out);
	return r;
}

void
scim_path_clear(struct scim_path *p)
{
	if (p == NULL)
		return;
	scim_filter_free(p->filter);
	memset(p, 0, sizeof(*p));
}

/* ---- evaluation ---- */

/* Member of an object by name: exact spelling first, then ignoring
 * ASCII case (stored documents use canonical names; be lenient). */
static json_t *
obj_get(const json_t *o, const char *name)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return NULL;
	if ((v = json_object_get(o, name)) != NULL)
		return v;
	json_object_foreach((json_t *)(uintptr_t)o, k, v) {
		if (strcasecmp(k, name) == 0)
			return v;
	}
	return NULL;
}

/* The attribute's value in a whole document, or NULL. */
static json_t *
attr_value(const json_t *doc, const struct scim_attr_path *p)
{
	if (p->schema != NULL && p->schema->is_extension)
		doc = obj_get(doc, p->schema->id);
	return obj_get(doc, p->attr->name);
}

/* RFC 7644 "pr": not null, not "", not [], not {} (recursively). */
static int
present(const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (present(x))
				return 1;
		}
		return 0;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, x) {
			if (present(x))
				return 1;
		}
		return 0;
	}
	return 1;
}

static int
apply_ord(enum scim_fop op, int c)
{
	switch (op) {
	case SCIM_FOP_EQ: return c == 0;
	case SCIM_FOP_NE: return c != 0;
	case SCIM_FOP_GT: return c > 0;
	case SCIM_FOP_GE: return c >= 0;
	case SCIM_FOP_LT: return c < 0;
	case SCIM_FOP_LE: return c <= 0;
	default: return 0;
	}
}

static int
cmp_string(const struct scim_filter *f, const struct scim_attr *a,
    const json_t *c)
{
	const char *v = json_string_value(c), *lit = f->text;
	char *fv = NULL, *fl = NULL;
	size_t vn, ln;
	int m = 0, k;

	if (v == NULL || lit == NULL)
		return 0;
	vn = json_string_length(c);
	ln = strlen(lit);
	if (!a->case_exact) {
		if ((fv = str_ndup(v, vn)) == NULL ||
		    (fl = str_ndup(lit, ln)) == NULL)
			goto out;
		fold_inplace(fv, vn);
		fold_inplace(fl, ln);
		v = fv;
		lit = fl;
	}
	switch (f->op) {
	case SCIM_FOP_CO:
		m = ln == 0 || memmem(v, vn, lit, ln) != NULL;
		break;
	case SCIM_FOP_SW:
		m = vn >= ln && memcmp(v, lit, ln) == 0;
		break;
	case SCIM_FOP_EW:
		m = vn >= ln && memcmp(v + vn - ln, lit, ln) == 0;
		break;
	default:
		k = memcmp(v, lit, vn < ln ? vn : ln);
		if (k == 0)
			k = vn < ln ? -1 : vn > ln;
		m = apply_ord(f->op, k);
		break;
	}
out:
	free(fv);
	free(fl);
	return m;
}

static int
cmp_number(const struct scim_filter *f, const json_t *c)
{
	long long li, ci;
	double ld, cd;

	if (!json_is_number(c) || f->text == NULL)
		return 0;
	if (json_is_integer(c) && int_literal(f->text, &li) == 0) {
		ci = (long long)json_integer_value(c);
		return apply_ord(f->op, ci < li ? -1 : ci > li);
	}
	ld = strtod(f->text, NULL);
	cd = json_number_value(c);
	return apply_ord(f->op, cd < ld ? -1 : cd > ld);
}

static int
cmp_datetime(const struct scim_filter *f, const json_t *c)
{
	struct scim_datetime a, b;

	if (!json_is_string(c) || f->text == NULL ||
	    scim_datetime_parse(json_string_value(c), json_string_length(c),
	    &a) != 0 ||
	    scim_datetime_parse(f->text, strlen(f->text), &b) != 0)
		return 0;
	return apply_ord(f->op, scim_datetime_cmp(&a, &b));
}

/* One candidate value c against a comparison node (not PR / null). */
static int
cmp_one(const struct scim_filter *f, const json_t *c)
{
	const struct scim_attr *a;

	if (c == NULL || json_is_null(c))
		return 0;
	a = f->path.sub != NULL ? f->path.sub : f->path.attr;
	switch (a->type) {
	case SCIM_T_BOOLEAN:
		if (!json_is_boolean(c))
			return 0;
		return apply_ord(f->op, json_is_true(c) !=
		    (f->vtype == SCIM_FVAL_TRUE));
	case SCIM_T_INTEGER:
	case SCIM_T_DECIMAL:
		return cmp_number(f, c);
	case SCIM_T_DATETIME:
		return cmp_datetime(f, c);
	case SCIM_T_COMPLEX:
		return 0;
	default:
		return cmp_string(f, a, c);
	}
}

/*
 * Test a comparison against an attribute value v (array for multi-valued
 * attributes, object for complex ones). With a sub-attribute, the
 * candidates are v[sub] of each element; otherwise the elements.
 * A comparison matches when any candidate does; eq null / ne null test
 * absence / presence like pr. As in db/scim_query.c, ne is "not eq": it
 * matches when no candidate is equal, an absent attribute included.
 */
static int
cmp_attr(const struct scim_filter *f, const json_t *v)
{
	struct scim_filter eq;
	const json_t *c;
	json_t *el;
	size_t i, n = 1;
	int any_present = 0;

	if (f->op == SCIM_FOP_NE && f->vtype != SCIM_FVAL_NULL) {
		eq = *f;
		eq.op = SCIM_FOP_EQ;
		return !cmp_attr(&eq, v);
	}

	if (json_is_array(v))
		n = json_array_size(v);
	for (i = 0; i < n; i++) {
		el = json_is_array(v) ? json_array_get(v, i) : (json_t *)
		    (uintptr_t)v;
		c = f->path.sub != NULL ? obj_get(el, f->path.sub->name) : el;
		if (f->op == SCIM_FOP_PR || f->vtype == SCIM_FVAL_NULL) {
			if (present(c))
				any_present = 1;
			continue;
		}
		if (cmp_one(f, c))
			return 1;
	}
	if (f->op == SCIM_FOP_PR)
		return any_present;
	if (f->vtype == SCIM_FVAL_NULL)
		return f->op == SCIM_FOP_EQ ? !any_present : any_present;
	return 0;
}

/* in_elem: doc is one element of a value-path attribute. */
static int
eval(const struct scim_filter *f, const json_t *doc, int in_elem)
{
	json_t *v, *el;
	size_t i;

	if (f == NULL)
		return 0;
	switch (f->op) {
	case SCIM_FOP_AND:
		return eval(f->left, doc, in_elem) &&
		    eval(f->right, doc, in_elem);
	case SCIM_FOP_OR:
		return eval(f->left, doc, in_elem) ||
		    eval(f->right, doc, in_elem);
	case SCIM_FOP_NOT:
		return !eval(f->left, doc, in_elem);
	case SCIM_FOP_VALUEPATH:
		if (in_elem)
			return 0;
		v = attr_value(doc, &f->path);
		if (json_is_object(v))
			return eval(f->left, v, 1);
		json_array_foreach(v, i, el) {
			if (json_is_object(el) && eval(f->left, el, 1))
				return 1;
		}
		return 0;
	default:
		if (f->path.attr == NULL)
			return 0;
		if (in_elem)
			return f->path.sub != NULL && cmp_attr(f, doc);
		return cmp_attr(f, attr_value(doc, &f->path));
	}
}

int
scim_filter_match(const struct scim_filter *f, const json_t *doc)
{
	if (f == NULL || !json_is_object(doc))
		return 0;
	return eval(f, doc, 0);
}

int
scim_filter_match_elem(const struct scim_filter *inner, const json_t *elem)
{
	if (inner == NULL || !json_is_object(elem))
		return 0;
	return eval(inner, elem, 1);
}
