/*
 * libFuzzer target: SCIM PATCH paths (RFC 7644 §3.5.2), the "path" of a
 * PatchOp operation: attrPath, or valuePath with an optional trailing
 * sub-attribute.
 *
 * The input is the path text, without a NUL after it. It is parsed for
 * both resource types. A rejected path must come back as ERR_INVALID
 * with a 400 invalidPath; scim_path_clear() is then called as the
 * callers do. An accepted path names an attribute; its value filter, if
 * any, is evaluated against a few elements of multi-valued attributes.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scim/filter.h"
#include "scim/schema.h"
#include "util/errors.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Elements as they sit in multi-valued attributes of stored documents;
 * the last ones are elements of multi-valued string attributes. */
static const char elems[] =
    "[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"555-555-4444\",\"type\":\"mobile\",\"display\":\"M\"},"
    "{\"type\":\"work\",\"streetAddress\":\"100 Universal City Plaza\","
    "\"locality\":\"Hollywood\",\"postalCode\":\"91608\",\"primary\":false},"
    "{\"value\":\"2819c223-7f76-453a-919d-413861904646\",\"type\":\"User\","
    "\"display\":\"Babs Jensen\"},"
    "{\"value\":null,\"type\":7,\"primary\":\"True\"},"
    "{},\"db-admin\",7,null]";

static void
check_elems(const struct scim_filter *inner)
{
	json_error_t jerr;
	json_t *a, *orig;
	size_t i;
	int m;

	if ((a = json_loads(elems, 0, &jerr)) == NULL ||
	    (orig = json_deep_copy(a)) == NULL)
		abort();
	for (i = 0; i < json_array_size(a); i++) {
		m = scim_filter_match_elem(inner, json_array_get(a, i));
		if (m != 0 && m != 1)
			abort();
	}
	if (!json_equal(a, orig))
		abort();
	json_decref(a);
	json_decref(orig);
}

static void
one(enum scim_rtype rt, const char *s, size_t len)
{
	struct scim_path p;
	struct api_error e;
	int r;

	api_error_clear(&e);
	r = scim_path_parse(rt, s, len, &p, &e);
	if (r != 0) {
		if (r != ERR_INVALID || e.status != 400 ||
		    strcmp(e.scim_type, SCIM_ET_INVALID_PATH) != 0 ||
		    memchr(e.detail, '\0', sizeof(e.detail)) == NULL)
			abort();
		scim_path_clear(&p);
		return;
	}
	if (p.attr.schema == NULL || p.attr.attr == NULL)
		abort();
	if (p.attr.sub != NULL && p.attr.attr->type != SCIM_T_COMPLEX)
		abort();
	if (p.filter != NULL)
		check_elems(p.filter);
	scim_path_clear(&p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(SCIM_RT_USER, (const char *)data, size);
	one(SCIM_RT_GROUP, (const char *)data, size);
	return 0;
}
