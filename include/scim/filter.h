#ifndef VB_SCIM_FILTER_H
#define VB_SCIM_FILTER_H

#include <stddef.h>

#include <jansson.h>

#include "scim/schema.h"
#include "util/errors.h"

/*
 * SCIM filter expressions (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
 * The parser checks attribute names against the schema of the resource
 * type and produces a typed AST; SQL translation lives in db/scim_query
 * (SQL never leaves db/), in-memory evaluation (for PATCH value filters
 * and tests) lives here.
 */

enum scim_fop {
	SCIM_FOP_EQ, SCIM_FOP_NE, SCIM_FOP_CO, SCIM_FOP_SW, SCIM_FOP_EW,
	SCIM_FOP_GT, SCIM_FOP_GE, SCIM_FOP_LT, SCIM_FOP_LE, SCIM_FOP_PR,
	SCIM_FOP_AND, SCIM_FOP_OR, SCIM_FOP_NOT,
	SCIM_FOP_VALUEPATH	/* attr[ inner ]: left = inner filter */
};

enum scim_fval {
	SCIM_FVAL_NONE,		/* PR, logical nodes */
	SCIM_FVAL_STRING,	/* text holds the unescaped UTF-8 string */
	SCIM_FVAL_NUMBER,	/* text holds the JSON number as written */
	SCIM_FVAL_TRUE, SCIM_FVAL_FALSE, SCIM_FVAL_NULL
};

/*
 * One AST node; the tree owns its children and text.
 * Comparison / PR nodes: path names the attribute compared. For a
 * complex attribute compared without a sub-attribute (e.g. `emails co
 * "x"`), the parser sets path.sub to its "value" sub-attribute if it has
 * one; PR keeps path.sub NULL.
 * Inside a VALUEPATH node's inner filter, each comparison's path has attr
 * = the multi-valued complex attribute and sub = the sub-attribute
 * compared; the node itself has path.attr set, path.sub NULL.
 * Whether a comparison is case-sensitive follows the compared attribute's
 * case_exact (sub-attribute's if path.sub != NULL).
 */
struct scim_filter {
	enum scim_fop op;
	struct scim_attr_path path;
	enum scim_fval vtype;
	char *text;			/* NUL-terminated, or NULL */
	struct scim_filter *left;	/* AND/OR/NOT/VALUEPATH */
	struct scim_filter *right;	/* AND/OR */
};

/*
 * Parse filter text s[0..len) for resource type rt. Limits:
 * SCIM_FILTER_MAX bytes, SCIM_FILTER_DEPTH_MAX nesting,
 * SCIM_FILTER_NODES_MAX nodes. Unknown attribute, bad syntax, an
 * operator that does not fit the attribute type (gt on boolean, a
 * number compared to a string attribute, ...) -> ERR_INVALID with *e set
 * to 400 invalidFilter. On success *out is owned by the caller
 * (scim_filter_free).
 */
int scim_filter_parse(enum scim_rtype rt, const char *s, size_t len,
    struct scim_filter **out, struct api_error *e) WUR;

void scim_filter_free(struct scim_filter *f);

/*
 * Evaluate f against a whole stored resource document (canonical names,
 * extensions nested under their URN). 1 = match, 0 = no match.
 */
int scim_filter_match(const struct scim_filter *f, const json_t *doc);

/*
 * Evaluate the inner filter of a value path against one element of the
 * multi-valued attribute (an object such as {"type":"work","value":..}).
 */
int scim_filter_match_elem(const struct scim_filter *inner,
    const json_t *elem);

/*
 * A PATCH path (RFC 7644 §3.5.2): attrPath, or valuePath with an optional
 * trailing ".subAttr":  members, name.givenName,
 * emails[type eq "work"].value, members[value eq "x"],
 * urn:...:enterprise:2.0:User:manager.value.
 * attr.sub is the sub-attribute for "a.b" paths and for "a[...].b" paths
 * (then filter != NULL).
 */
struct scim_path {
	struct scim_attr_path attr;
	struct scim_filter *filter;	/* inner value filter, or NULL */
};

/* Parse a PATCH path; errors are 400 invalidPath. Caller calls
 * scim_path_clear(). */
int scim_path_parse(enum scim_rtype rt, const char *s, size_t len,
    struct scim_path *out, struct api_error *e) WUR;

void scim_path_clear(struct scim_path *p);

#endif
