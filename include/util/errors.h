#ifndef VB_UTIL_ERRORS_H
#define VB_UTIL_ERRORS_H

#include <stddef.h>

/*
 * Error codes: fallible functions return 0 or one of these (negative).
 * struct api_error carries what a client is told when its input is at
 * fault (HTTP status, SCIM scimType, a detail string). It is filled by
 * parsers at the edge and written out once by the response writer.
 */

#define ERR_OK			0
#define ERR_INTERNAL		-1	/* broken invariant, bug */
#define ERR_ALLOC		-2	/* out of memory */
#define ERR_INVALID		-3	/* client input rejected; api_error set */
#define ERR_NOT_FOUND		-4	/* no such resource */
#define ERR_CONFLICT		-5	/* uniqueness violated */
#define ERR_PRECONDITION	-6	/* If-Match / version mismatch */
#define ERR_DB_UNAVAILABLE	-7	/* database unreachable: 503 */
#define ERR_TOO_LARGE		-8	/* over a size limit */
#define ERR_AUTH		-9	/* missing / bad credentials */
#define ERR_FORBIDDEN		-10	/* authenticated, scope missing */
#define ERR_IO			-11	/* file or socket error */
#define ERR_LIMIT		-12	/* a count limit was hit (tooMany) */
#define ERR_NEED_MEMBERS	-13	/* PATCH needs group members loaded */
#define ERR_NOT_MODIFIED	-14	/* If-None-Match matched: 304 */
#define ERR_CONFIG		-15	/* bad configuration */
#define ERR_CRYPTO		-16	/* crypto library failure */

#define WUR __attribute__((warn_unused_result))

/* SCIM scimType values (RFC 7644 §3.12); "" when none applies. */
#define SCIM_ET_NONE		""
#define SCIM_ET_INVALID_FILTER	"invalidFilter"
#define SCIM_ET_TOO_MANY	"tooMany"
#define SCIM_ET_UNIQUENESS	"uniqueness"
#define SCIM_ET_MUTABILITY	"mutability"
#define SCIM_ET_INVALID_SYNTAX	"invalidSyntax"
#define SCIM_ET_INVALID_PATH	"invalidPath"
#define SCIM_ET_NO_TARGET	"noTarget"
#define SCIM_ET_INVALID_VALUE	"invalidValue"
#define SCIM_ET_INVALID_VERS	"invalidVers"
#define SCIM_ET_SENSITIVE	"sensitive"

#define API_ERROR_DETAIL_MAX	256

struct api_error {
	int status;			/* HTTP status, 0 = not set */
	char scim_type[24];		/* one of SCIM_ET_*, may be "" */
	char detail[API_ERROR_DETAIL_MAX]; /* safe to show the client */
};

/* Human-readable name of an ERR_* code; never NULL, static storage. */
const char *err_str(int err);

/*
 * Fill *e (if e != NULL and not already set) and return ERR_INVALID.
 * The first error set wins, so the innermost parser's message reaches
 * the client. detail is formatted with vsnprintf and truncated.
 */
int api_error_set(struct api_error *e, int status, const char *scim_type,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Format a one-line message into err (size errsz) for a caller's error
 * buffer; err NULL or errsz 0 does nothing. Truncates.
 */
void err_msg(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset *e to "no error". */
void api_error_clear(struct api_error *e);

#endif
