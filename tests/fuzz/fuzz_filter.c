/*
 * libFuzzer target: SCIM filter expressions (RFC 7644 §3.4.2.2), the
 * text of ?filter= and of SearchRequest "filter".
 *
 * The input is the filter text, handed over without a NUL after it, as
 * scim_filter_parse() promises to read s[0..len) only. It is parsed for
 * both resource types. A rejected filter must come back as ERR_INVALID
 * with a 400 invalidFilter and no tree; an accepted one is evaluated
 * against a full stored document and a sparse one of that type, and
 * evaluation must leave the documents as they were.
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

#define ENT	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PAM	"urn:ietf:params:scim:schemas:extension:pam:2.0:User"

/* Stored documents: canonical names, extensions under their URN. */
static const char user_full[] =
    "{\"userName\":\"bjensen\",\"externalId\":\"ext-701984\","
    "\"name\":{\"formatted\":\"Ms. Barbara J Jensen III\","
    "\"familyName\":\"Jensen\",\"givenName\":\"Barbara\","
    "\"middleName\":\"Jane\",\"honorificPrefix\":\"Ms.\","
    "\"honorificSuffix\":\"III\"},"
    "\"displayName\":\"Babs Jensen\",\"nickName\":\"Babs\","
    "\"profileUrl\":\"https://login.example.com/bjensen\","
    "\"title\":\"Tour Guide\",\"userType\":\"Employee\","
    "\"preferredLanguage\":\"en-US\",\"locale\":\"en-US\","
    "\"timezone\":\"America/Los_Angeles\",\"active\":true,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
    "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"phoneNumbers\":[{\"value\":\"555-555-5555\",\"type\":\"work\"},"
    "{\"value\":\"555-555-4444\",\"type\":\"mobile\"}],"
    "\"ims\":[{\"value\":\"someaimhandle\",\"type\":\"aim\"}],"
    "\"photos\":[{\"value\":\"https://photos.example.com/p/F\","
    "\"type\":\"photo\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"100 Universal "
    "City Plaza\",\"locality\":\"Hollywood\",\"region\":\"CA\","
    "\"postalCode\":\"91608\",\"country\":\"USA\",\"primary\":true}],"
    "\"entitlements\":[{\"value\":\"vpn\"}],"
    "\"roles\":[{\"value\":\"admin\",\"primary\":true}],"
    "\"x509Certificates\":[{\"value\":\"TUlJRFF6Q0NBcXln\"}],"
    "\"" ENT "\":{\"employeeNumber\":\"701984\",\"costCenter\":\"4130\","
    "\"organization\":\"Universal Studios\",\"division\":\"Theme Park\","
    "\"department\":\"Tour Operations\",\"manager\":{\"value\":"
    "\"26118915-6090-4610-87e4-49d8ca9f808d\",\"displayName\":"
    "\"John Smith\"}},"
    "\"" PAM "\":{\"privileged\":true,\"adminRoles\":[\"db-admin\","
    "\"domain-admin\"],\"vaultScope\":[\"prod\"],\"approver\":{\"value\":"
    "\"26118915-6090-4610-87e4-49d8ca9f808d\"},\"breakGlass\":false,"
    "\"jitEligible\":true,\"maxJitDurationSeconds\":3600,"
    "\"riskLevel\":\"high\",\"accessReviewDate\":\"2024-01-15T10:00:00Z\","
    "\"sodTags\":[\"finance\"]}}";

static const char user_sparse[] = "{\"userName\":\"u\",\"emails\":[],"
    "\"name\":{},\"active\":false,\"" PAM "\":{\"sodTags\":[]}}";

static const char group_full[] =
    "{\"displayName\":\"Tour Guides\",\"externalId\":\"g-1\","
    "\"members\":[{\"value\":\"2819c223-7f76-453a-919d-413861904646\","
    "\"type\":\"User\",\"display\":\"Babs Jensen\"},"
    "{\"value\":\"902c246b-6245-4190-8e05-00816be7344a\","
    "\"type\":\"Group\"}]}";

static const char group_sparse[] = "{\"displayName\":\"g\"}";

static json_t *
load(const char *s)
{
	json_error_t jerr;
	json_t *j;

	/* the fixed documents are ours: failing to load them is a bug here */
	if ((j = json_loads(s, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		abort();
	return j;
}

static void
match_on(const struct scim_filter *f, const char *text)
{
	json_t *doc, *orig;
	int m;

	doc = load(text);
	orig = load(text);
	m = scim_filter_match(f, doc);
	if ((m != 0 && m != 1) || !json_equal(doc, orig))
		abort();
	json_decref(doc);
	json_decref(orig);
}

static void
one(enum scim_rtype rt, const char *s, size_t len)
{
	struct scim_filter *f = NULL;
	struct api_error e;
	int r;

	api_error_clear(&e);
	r = scim_filter_parse(rt, s, len, &f, &e);
	if (r != 0) {
		if (r != ERR_INVALID || f != NULL || e.status != 400 ||
		    strcmp(e.scim_type, SCIM_ET_INVALID_FILTER) != 0 ||
		    memchr(e.detail, '\0', sizeof(e.detail)) == NULL)
			abort();
		return;
	}
	if (f == NULL)
		abort();
	if (rt == SCIM_RT_USER) {
		match_on(f, user_full);
		match_on(f, user_sparse);
	} else {
		match_on(f, group_full);
		match_on(f, group_sparse);
	}
	scim_filter_free(f);
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
