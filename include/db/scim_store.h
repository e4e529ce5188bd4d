#ifndef VB_DB_SCIM_STORE_H
#define VB_DB_SCIM_STORE_H

#include <stddef.h>

#include "scim/filter.h"
#include "scim/schema.h"
#include "util/bounds.h"
#include "util/errors.h"

/*
 * Storage of SCIM Users and Groups. Documents are passed as JSON text
 * (the stored-document form of scim/resource.h); every statement is
 * parameterised. Group membership lives in its own indexed table.
 * All functions run on the caller's connection and transaction.
 */

struct db_conn;

#define DB_F_FOR_UPDATE	0x1	/* lock the row (SELECT ... FOR UPDATE) */
#define DB_F_MEMBERS	0x2	/* Groups: load members */
#define DB_F_GROUPS	0x4	/* Users: load groups */

struct db_row {
	char id[SCIM_ID_LEN + 1];
	char *doc;		/* stored document, JSON text; malloc'd */
	char created[40];	/* xsd:dateTime UTC, ms precision */
	char last_modified[40];
	long long version;
	char *members;		/* DB_F_MEMBERS: JSON array text
				 * [{"value","type","display"}], else NULL */
	char *groups;		/* DB_F_GROUPS: JSON array text
				 * [{"value","display","type":"direct"}] */
};

/* Free what a row holds (not the row itself). */
void db_row_clear(struct db_row *r);

/*
 * Insert a new resource; the database assigns id, created,
 * lastModified, version 1. ERR_CONFLICT when userName (case-insensitive)
 * or Group displayName (case-insensitive) is taken.
 */
int db_scim_insert(struct db_conn *c, enum scim_rtype rt, const char *doc,
    struct db_row *out) WUR;

/* Fetch by id; ERR_NOT_FOUND. id need not be a valid uuid (then not
 * found). */
int db_scim_get(struct db_conn *c, enum scim_rtype rt, const char *id,
    unsigned flags, struct db_row *out) WUR;

/* Replace the document; version+1, lastModified=now(). ERR_NOT_FOUND,
 * ERR_CONFLICT (uniqueness). out gets the new row (no members/groups). */
int db_scim_update(struct db_conn *c, enum scim_rtype rt, const char *id,
    const char *doc, struct db_row *out) WUR;

/* Bump version and lastModified only (e.g. after member changes). */
int db_scim_touch(struct db_conn *c, enum scim_rtype rt, const char *id,
    struct db_row *out) WUR;

/* Delete; memberships of/in it go too. ERR_NOT_FOUND. */
int db_scim_delete(struct db_conn *c, enum scim_rtype rt, const char *id)
    WUR;

/*
 * Change a group's members: with replace_all, every current member is
 * removed first; then remove_ids are deleted and add_ids inserted
 * (existing ones kept). An id in add_ids that is neither a User nor a
 * Group, or is the group itself -> ERR_INVALID with *e 400 invalidValue
 * naming it. Set-based statements (unnest of arrays), not a query per
 * member. *changed (may be NULL) gets 1 if membership changed.
 */
int db_group_members_apply(struct db_conn *c, const char *group_id,
    int replace_all, const char *const *add_ids, size_t nadd,
    const char *const *remove_ids, size_t nremove, int *changed,
    struct api_error *e) WUR;

struct db_query {
	const struct scim_filter *filter;	/* NULL = all */
	const struct scim_attr_path *sort;	/* NULL = by created, id */
	int descending;
	unsigned long long start_index;		/* 1-based */
	unsigned count;				/* 0 = only totalResults */
	unsigned flags;				/* DB_F_MEMBERS / DB_F_GROUPS */
};

struct db_page {
	unsigned long long total;
	struct db_row *rows;
	size_t nrows;
};

/*
 * List/search: the filter AST is translated to parameterised SQL over
 * the documents and the membership table (expression indexes serve
 * userName, externalId, displayName, emails). ERR_INVALID with *e for a
 * filter the store cannot evaluate (400 invalidFilter).
 */
int db_scim_query(struct db_conn *c, enum scim_rtype rt,
    const struct db_query *q, struct db_page *out, struct api_error *e) WUR;

void db_page_clear(struct db_page *p);

#endif
