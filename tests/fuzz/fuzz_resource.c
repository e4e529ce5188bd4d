/*
 * libFuzzer target: SCIM User and Group representations, the bodies of
 * POST, PUT and Bulk "data" (RFC 7643 §4).
 *
 * The input is loaded with json_loadb() as the server does and handed
 * to scim_resource_parse() for both resource types. A rejected body must
 * come back as ERR_INVALID with a 4xx and no document. An accepted one
 * is rendered for the client with a fixed meta (with and without
 * attribute projections), and the rendering, parsed again, must give
 * back the same stored document: what the server shows a client is
 * what the client may send back.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scim/resource.h"
#include "scim/schema.h"
#include "util/errors.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct scim_meta meta = {
	.id = "2819c223-7f76-453a-919d-413861904646",
	.created = "2024-01-02T03:04:05Z",
	.last_modified = "2024-06-07T08:09:10Z",
	.version = 7,
	.base_url = "https://scim.example.com:8443/scim/v2/",
};

/* A User's "groups" as the store hands them to the renderer. */
static const char groups_text[] =
    "[{\"value\":\"e9e30dba-f08f-4109-8486-d5c6a331660a\","
    "\"display\":\"Tour Guides\",\"type\":\"direct\"}]";

/* attributes= / excludedAttributes= pairs rendered besides defaults */
static const char *const projections[][2] = {
	{ "userName, emails.value,name.givenName,,members.value,displayName,"
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	  "manager,GROUPS,meta.version,noSuchAttribute", "" },
	{ NULL, " emails ,members,name.familyName,externalId,"
	  "urn:ietf:params:scim:schemas:extension:pam:2.0:User,meta,id" },
};

static void
render_check(enum scim_rtype rt, const json_t *doc, const json_t *groups)
{
	struct scim_projection *proj = NULL;
	struct api_error e;
	json_t *out, *back = NULL;
	char *s;
	size_t i;

	if ((out = scim_resource_render(rt, doc, &meta, groups, NULL)) == NULL)
		abort();
	if ((s = json_dumps(out, JSON_COMPACT)) == NULL)
		abort();
	free(s);
	/* round trip: the client's view parses back to the same document */
	api_error_clear(&e);
	if (scim_resource_parse(rt, out, &back, &e) != 0 ||
	    !json_equal(back, doc))
		abort();
	json_decref(back);
	json_decref(out);

	for (i = 0; i < sizeof(projections) / sizeof(projections[0]); i++) {
		api_error_clear(&e);
		if (scim_projection_parse(rt, projections[i][0],
		    projections[i][1], &proj, &e) != 0)
			abort();
		(void)scim_projection_wants(proj, "members");
		if ((out = scim_resource_render(rt, doc, &meta, groups,
		    proj)) == NULL)
			abort();
		json_decref(out);
		scim_projection_free(proj);
		proj = NULL;
	}
}

static void
one(enum scim_rtype rt, const json_t *in, const json_t *groups)
{
	struct api_error e;
	json_t *doc = NULL, *orig;
	int r;

	if ((orig = json_deep_copy(in)) == NULL)
		abort();
	api_error_clear(&e);
	r = scim_resource_parse(rt, in, &doc, &e);
	/* the input is const to the parser */
	if (!json_equal(in, orig))
		abort();
	json_decref(orig);
	if (r != 0) {
		if (r != ERR_INVALID || doc != NULL || e.status < 400 ||
		    e.status > 499 ||
		    memchr(e.detail, '\0', sizeof(e.detail)) == NULL)
			abort();
		return;
	}
	if (!json_is_object(doc))
		abort();
	render_check(rt, doc, groups);
	if (groups != NULL)
		render_check(rt, doc, NULL);
	json_decref(doc);
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
	json_error_t jerr;
	json_t *in, *groups;

	if ((in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		return 0;
	if ((groups = json_loads(groups_text, 0, &jerr)) == NULL)
		abort();
	one(SCIM_RT_USER, in, groups);
	one(SCIM_RT_GROUP, in, NULL);
	json_decref(groups);
	json_decref(in);
	return 0;
}
