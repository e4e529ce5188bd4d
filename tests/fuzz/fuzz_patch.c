/*
 * libFuzzer target: SCIM PATCH bodies (RFC 7644 §3.5.2), PatchOp JSON as
 * Microsoft Entra ID, Okta and others send it.
 *
 * The input is loaded with json_loadb() as the server does and parsed
 * with scim_patch_parse() for both resource types. A rejected body must
 * come back as ERR_INVALID with a 4xx and no patch. An accepted patch is
 * applied to copies of fixed stored documents the way the handlers do:
 * a User document without flags; a Group document first in member-delta
 * mode without "members" (and, on ERR_NEED_MEMBERS, again with them),
 * and always also without flags on a document that has "members"; a
 * User document with SCIM_PATCH_F_MEMBER_DELTA too, which must behave as
 * without it. A failed apply must be a 4xx; a patched document must
 * still render for a client.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scim/patch.h"
#include "scim/resource.h"
#include "scim/schema.h"
#include "util/errors.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENT	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PAM	"urn:ietf:params:scim:schemas:extension:pam:2.0:User"
#define GID	"e9e30dba-f08f-4109-8486-d5c6a331660a"

/* Stored documents: canonical names, extensions under their URN. */
static const char user_doc[] =
    "{\"userName\":\"bjensen\",\"externalId\":\"ext-701984\","
    "\"name\":{\"formatted\":\"Ms. Barbara J Jensen III\","
    "\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},"
    "\"displayName\":\"Babs Jensen\",\"nickName\":\"Babs\","
    "\"title\":\"Tour Guide\",\"active\":true,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
    "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"phoneNumbers\":[{\"value\":\"555-555-5555\",\"type\":\"work\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"100 Universal "
    "City Plaza\",\"locality\":\"Hollywood\",\"region\":\"CA\","
    "\"postalCode\":\"91608\",\"country\":\"USA\",\"primary\":true}],"
    "\"roles\":[{\"value\":\"admin\",\"primary\":true}],"
    "\"" ENT "\":{\"employeeNumber\":\"701984\",\"department\":\"Tour "
    "Operations\",\"manager\":{\"value\":"
    "\"26118915-6090-4610-87e4-49d8ca9f808d\"}},"
    "\"" PAM "\":{\"privileged\":true,\"adminRoles\":[\"db-admin\"],"
    "\"jitEligible\":true,\"maxJitDurationSeconds\":3600,"
    "\"riskLevel\":\"high\",\"sodTags\":[\"finance\"]}}";

static const char group_members[] =
    "{\"displayName\":\"Tour Guides\",\"externalId\":\"g-1\","
    "\"members\":[{\"value\":\"2819c223-7f76-453a-919d-413861904646\","
    "\"type\":\"User\"},{\"value\":\"902c246b-6245-4190-8e05-00816be7344a\","
    "\"type\":\"Group\"}]}";

/* as handed over in delta mode: no "members"; carries its "id" */
static const char group_bare[] =
    "{\"id\":\"" GID "\",\"displayName\":\"Tour Guides\","
    "\"externalId\":\"g-1\"}";

static const struct scim_meta meta = {
	.id = GID,
	.created = "2024-01-02T03:04:05Z",
	.last_modified = "2024-06-07T08:09:10Z",
	.version = 3,
	.base_url = "https://scim.example.com/scim/v2",
};

static json_t *
load(const char *s)
{
	json_error_t jerr;
	json_t *j;

	if ((j = json_loads(s, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		abort();
	return j;
}

static void
check_err(int r, const struct api_error *e)
{
	if (r != ERR_INVALID || e->status < 400 || e->status > 499 ||
	    memchr(e->detail, '\0', sizeof(e->detail)) == NULL)
		abort();
}

static void
check_rendered(enum scim_rtype rt, const json_t *doc)
{
	json_t *out;
	char *s;

	if (!json_is_object(doc))
		abort();
	if ((out = scim_resource_render(rt, doc, &meta, NULL, NULL)) == NULL ||
	    (s = json_dumps(out, JSON_COMPACT)) == NULL)
		abort();
	free(s);
	json_decref(out);
}

/* Apply p to a copy of doc_text; returns the apply result. */
static int
apply_on(enum scim_rtype rt, const struct scim_patch *p,
    const char *doc_text, int flags, struct scim_member_delta *d)
{
	struct api_error e;
	json_t *doc;
	int r;

	doc = load(doc_text);
	api_error_clear(&e);
	r = scim_patch_apply(p, doc, flags, d, &e);
	if (r == 0)
		check_rendered(rt, doc);
	else if (r != ERR_NEED_MEMBERS ||
	    (flags & SCIM_PATCH_F_MEMBER_DELTA) == 0)
		check_err(r, &e);
	json_decref(doc);
	return r;
}

static void
apply_user(const struct scim_patch *p)
{
	struct scim_member_delta d;
	int r1, r2;

	r1 = apply_on(SCIM_RT_USER, p, user_doc, 0, NULL);
	scim_member_delta_init(&d);
	r2 = apply_on(SCIM_RT_USER, p, user_doc, SCIM_PATCH_F_MEMBER_DELTA,
	    &d);
	if (r1 != r2 || d.replace_all || json_object_size(d.add) != 0 ||
	    json_object_size(d.remove) != 0)
		abort();
	scim_member_delta_clear(&d);
}

static void
apply_group(const struct scim_patch *p)
{
	struct scim_member_delta d;
	int r;

	scim_member_delta_init(&d);
	r = apply_on(SCIM_RT_GROUP, p, group_bare, SCIM_PATCH_F_MEMBER_DELTA,
	    &d);
	if (r == 0 && (!json_is_object(d.add) || !json_is_object(d.remove)))
		abort();
	if (r == ERR_NEED_MEMBERS && !scim_patch_touches_members(p))
		abort();
	scim_member_delta_clear(&d);
	(void)apply_on(SCIM_RT_GROUP, p, group_members, 0, NULL);
}

static void
one(enum scim_rtype rt, const json_t *body)
{
	struct scim_patch *p = NULL;
	struct api_error e;
	int r;

	api_error_clear(&e);
	r = scim_patch_parse(rt, body, &p, &e);
	if (r != 0) {
		check_err(r, &e);
		if (p != NULL)
			abort();
		return;
	}
	if (p == NULL)
		abort();
	if (rt == SCIM_RT_USER) {
		if (scim_patch_touches_members(p))
			abort();
		apply_user(p);
	} else
		apply_group(p);
	scim_patch_free(p);
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
	json_t *body, *orig;

	if ((body = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return 0;
	if ((orig = json_deep_copy(body)) == NULL)
		abort();
	one(SCIM_RT_USER, body);
	one(SCIM_RT_GROUP, body);
	/* the body is const to the parser */
	if (!json_equal(body, orig))
		abort();
	json_decref(orig);
	json_decref(body);
	return 0;
}
