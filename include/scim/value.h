#ifndef VB_SCIM_VALUE_H
#define VB_SCIM_VALUE_H

#include <stddef.h>

#include <jansson.h>

#include "util/errors.h"

/*
 * Scalar value rules shared by the resource parser, the PATCH engine and
 * the filter: one definition of an xsd:dateTime and of a boolean, so a
 * value one of them accepts the others (and PostgreSQL's timestamptz)
 * accept too.
 */

/* An instant: seconds since 1970-01-01T00:00:00Z and nanoseconds. */
struct scim_datetime {
	long long secs;
	long nanos;
};

/*
 * Parse an xsd:dateTime (RFC 3339 profile): YYYY-MM-DDThh:mm:ss, an
 * optional fraction, an optional zone Z or (+|-)hh:mm (none = UTC).
 * Year 0001-9999, real calendar days (leap years), seconds 00-60 (a leap
 * second reads as the next minute, as PostgreSQL does), zone offsets up
 * to 14:00; 'T' and 'Z' in either case. out may be NULL to only check.
 * 0 or ERR_INVALID.
 */
int scim_datetime_parse(const char *s, size_t len, struct scim_datetime *out)
    WUR;

/* <0, 0, >0 as a is before, equal to, after b. */
int scim_datetime_cmp(const struct scim_datetime *a,
    const struct scim_datetime *b);

/*
 * A boolean value: a JSON true/false, or the strings "true"/"false" in
 * any case (Microsoft Entra ID sends "True" and "False"). 0 and *out set,
 * or ERR_INVALID.
 */
int scim_bool_parse(const json_t *v, int *out) WUR;

#endif
