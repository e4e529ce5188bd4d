#include "scim/resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "util/bounds.h"
#include "util/strutil.h"

/*
 * JSON in these tables is written with ' for " (J() swaps them back), so
 * the tables stay readable. No test value contains an apostrophe.
 */

#define U "urn:ietf:params:scim:schemas:core:2.0:User"
#define G "urn:ietf:params:scim:schemas:core:2.0:Group"
#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PAM "urn:ietf:params:scim:schemas:extension:pam:2.0:User"
#define SU "'schemas':['" U "']"
#define SUE "'schemas':['" U "','" ENT "']"
#define SUP "'schemas':['" U "','" PAM "']"
#define SG "'schemas':['" G "']"
#define ID1 "2819c223-7f76-453a-919d-413861904646"
#define ID2 "e9e30dba-f08f-4109-8486-d5c6a331660a"
#define ID3 "fc348aa8-3835-40eb-a20b-c726e15c55b5"
#define ID1UP "2819C223-7F76-453A-919D-413861904646"
#define BASE "https://h:8443/scim/v2"

static json_t *
J(const char *text)
{
	json_error_t jerr;
	json_t *j;
	char *s;
	size_t i;

	if ((s = str_ndup(text, strlen(text))) == NULL)
		TL_FAIL("str_ndup");
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '\'')
			s[i] = '"';
	j = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		fprintf(stderr, "  bad test JSON: %s: %s\n", jerr.text, s);
		free(s);
		TL_FAIL("test JSON does not parse");
	}
	free(s);
	return j;
}

static void
show(const char *what, const json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_SORT_KEYS) : NULL;

	fprintf(stderr, "  %s: %s\n", what, s != NULL ? s : "(null)");
	free(s);
}

/* ---- (a) parse ---- */

/* RFC 7643 §8.2, the parts a server stores */
#define RFC_STORED                                                             \
	"'externalId':'701984',"                                               \
	"'userName':'bjensen@example.com',"                                    \
	"'name':{'formatted':'Ms. Barbara J Jensen, III',"                     \
	"  'familyName':'Jensen','givenName':'Barbara','middleName':'Jane',"   \
	"  'honorificPrefix':'Ms.','honorificSuffix':'III'},"                  \
	"'displayName':'Babs Jensen','nickName':'Babs',"                       \
	"'profileUrl':'https://login.example.com/bjensen',"                    \
	"'emails':[{'value':'bjensen@example.com','type':'work',"              \
	"  'primary':true},{'value':'babs@jensen.org','type':'home'}],"        \
	"'addresses':[{'type':'work',"                                         \
	"  'streetAddress':'100 Universal City Plaza','locality':'Hollywood'," \
	"  'region':'CA','postalCode':'91608','country':'USA',"                \
	"  'formatted':'100 Universal City Plaza\\nHollywood, CA 91608 USA',"  \
	"  'primary':true},{'type':'home','streetAddress':'456 Hollywood "     \
	"Blvd',"                                                               \
	"  'locality':'Hollywood','region':'CA','postalCode':'91608',"         \
	"  'country':'USA',"                                                   \
	"  'formatted':'456 Hollywood Blvd\\nHollywood, CA 91608 USA'}],"      \
	"'phoneNumbers':[{'value':'555-555-5555','type':'work'},"              \
	"  {'value':'555-555-4444','type':'mobile'}],"                         \
	"'ims':[{'value':'someaimhandle','type':'aim'}],"                      \
	"'photos':[{'value':"                                                  \
	"  'https://photos.example.com/profilephoto/72930000000Ccne/F',"       \
	"  'type':'photo'},{'value':"                                          \
	"  'https://photos.example.com/profilephoto/72930000000Ccne/T',"       \
	"  'type':'thumbnail'}],"                                              \
	"'userType':'Employee','title':'Tour Guide',"                          \
	"'preferredLanguage':'en-US','locale':'en-US',"                        \
	"'timezone':'America/Los_Angeles','active':true,"                      \
	"'x509Certificates':[{'value':"                                        \
	"  "                                                                   \
	"'MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx'}]" \
	","
#define RFC_ENT_STORED                                                         \
	"'employeeNumber':'701984','costCenter':'4130',"                       \
	"'organization':'Universal Studios','division':'Theme Park',"          \
	"'department':'Tour Operations',"                                      \
	"'manager':{'value':'26118915-6090-4610-87e4-49d8ca9f808d',"           \
	"  '$ref':'../Users/26118915-6090-4610-87e4-49d8ca9f808d'"

#define OKTA_USER                                                              \
	"'userName':'test.user@okta.local',"                                   \
	"'name':{'givenName':'Test','familyName':'User'},"                     \
	"'emails':[{'primary':true,'value':'test.user@okta.local',"            \
	"  'type':'work'}],"                                                   \
	"'displayName':'Test User','locale':'en-US',"                          \
	"'externalId':'00ujl29u0le5T6Aj10h7','active':true"

struct parse_case {
	const char *name;
	enum scim_rtype rt;
	const char *in;
	const char *want; /* stored doc; NULL when rejected */
	int status;
	const char *scim_type;
	const char *detail; /* substring of the detail, or NULL */
};

#define OK(n, rt, in, want)                                                    \
	{                                                                      \
		n, rt, in, want, 0, NULL, NULL                                 \
	}
#define BAD(n, rt, in, st, ty, d)                                              \
	{                                                                      \
		n, rt, in, NULL, st, ty, d                                     \
	}
#define BADV(n, in, d) BAD(n, SCIM_RT_USER, in, 400, "invalidValue", d)
#define BADS(n, in, d) BAD(n, SCIM_RT_USER, in, 400, "invalidSyntax", d)
#define GBADV(n, in, d) BAD(n, SCIM_RT_GROUP, in, 400, "invalidValue", d)
#define GBADS(n, in, d) BAD(n, SCIM_RT_GROUP, in, 400, "invalidSyntax", d)
#define UR SCIM_RT_USER
#define GR SCIM_RT_GROUP

static const struct parse_case parse_cases[] = {
    OK("rfc7643 8.2 enterprise user", UR,
	"{" SUE ",'id':'" ID1 "'," RFC_STORED "'password':'t1meMa$heen',"
	"'groups':[{'value':'" ID2 "','$ref':'https://example.com/v2/"
	"Groups/" ID2 "','display':'Tour Guides'},{'value':'" ID3 "',"
	"'$ref':'https://example.com/v2/Groups/" ID3 "',"
	"'display':'Employees'}],"
	"'" ENT "':{" RFC_ENT_STORED ",'displayName':'John Smith'}},"
	"'meta':{'resourceType':'User','created':'2010-01-23T04:56:22Z',"
	"'lastModified':'2011-05-13T04:42:34Z',"
	"'version':'W/\\'3694e05e9dff591\\'',"
	"'location':'https://example.com/v2/Users/" ID1 "'}}",
	"{" RFC_STORED "'" ENT "':{" RFC_ENT_STORED "}}}"),
    OK("okta POST", UR,
	"{" SU "," OKTA_USER ",'groups':[],'password':'1mz050nq'}",
	"{" OKTA_USER "}"),
    OK("okta PUT", UR,
	"{" SU ",'id':'" ID1 "'," OKTA_USER ","
	"'groups':[{'value':'" ID2 "','display':'Engineering'}],"
	"'password':'1mz050nq',"
	"'meta':{'resourceType':'User','version':'W/\\'3\\''}}",
	"{" OKTA_USER "}"),
    OK("entra POST", UR,
	"{" SUE ",'externalId':'0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',"
	"'userName':'Test_User_ab6490ee@testuser.com','active':'True',"
	"'displayName':'Test User',"
	"'emails':[{'primary':true,'type':'work',"
	"'value':'Test_User_fd0ea19b@testuser.com'}],"
	"'meta':{'resourceType':'User'},"
	"'name':{'formatted':'givenName familyName',"
	"'familyName':'familyName','givenName':'givenName'},"
	"'roles':[],"
	"'" ENT "':{'employeeNumber':'E42','department':'Ops',"
	"'manager':{'value':'" ID2 "'}}}",
	"{'externalId':'0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',"
	"'userName':'Test_User_ab6490ee@testuser.com','active':true,"
	"'displayName':'Test User',"
	"'emails':[{'primary':true,'type':'work',"
	"'value':'Test_User_fd0ea19b@testuser.com'}],"
	"'name':{'formatted':'givenName familyName',"
	"'familyName':'familyName','givenName':'givenName'},"
	"'" ENT "':{'employeeNumber':'E42','department':'Ops',"
	"'manager':{'value':'" ID2 "'}}}"),
    OK("entra URN-qualified extension attributes", UR,
	"{" SUE ",'userName':'u','" ENT ":employeeNumber':'42',"
	"'" ENT "':{'department':'Ops'},"
	"'" ENT ":manager':{'value':'" ID2 "'},'active':'FALSE'}",
	"{'userName':'u','active':false,'" ENT "':{'employeeNumber':'42',"
	"'department':'Ops','manager':{'value':'" ID2 "'}}}"),
    OK("core URN-qualified attributes", UR,
	"{" SU ",'" U ":userName':'u','" U ":externalId':'x'}",
	"{'userName':'u','externalId':'x'}"),
    OK("PAM extension", UR,
	"{" SUP ",'userName':'admin.alice','" PAM "':{'privileged':true,"
	"'adminRoles':['db-admin','domain-admin'],'vaultScope':[],"
	"'approver':{'value':'" ID2 "','displayName':'Bob'},"
	"'breakGlass':'false','jitEligible':true,"
	"'maxJitDurationSeconds':3600.0,'riskLevel':'high',"
	"'accessReviewDate':'2024-02-29T12:00:00.123+05:30',"
	"'sodTags':['payments']}}",
	"{'userName':'admin.alice','" PAM "':{'privileged':true,"
	"'adminRoles':['db-admin','domain-admin'],"
	"'approver':{'value':'" ID2 "'},'breakGlass':false,"
	"'jitEligible':true,'maxJitDurationSeconds':3600,"
	"'riskLevel':'high',"
	"'accessReviewDate':'2024-02-29T12:00:00.123+05:30',"
	"'sodTags':['payments']}}"),
    OK("dateTime edges accepted", UR,
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2000-02-29T23:59:59-14:00'}}",
	"{'userName':'u','" PAM "':"
	"{'accessReviewDate':'2000-02-29T23:59:59-14:00'}}"),
    OK("dateTime without zone accepted", UR,
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'1999-12-31T00:00:00.5'}}",
	"{'userName':'u','" PAM "':"
	"{'accessReviewDate':'1999-12-31T00:00:00.5'}}"),
    OK("names match case-insensitively, stored canonical", UR,
	"{'SCHEMAS':['urn:ietf:params:scim:schemas:core:2.0:user',"
	"'URN:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:User'],"
	"'USERNAME':'a','Name':{'GIVENNAME':'x'},"
	"'EMAILS':[{'VALUE':'a@b','Primary':'TRUE'}],"
	"'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user':"
	"{'EMPLOYEENUMBER':'1'}}",
	"{'userName':'a','name':{'givenName':'x'},"
	"'emails':[{'value':'a@b','primary':true}],"
	"'" ENT "':{'employeeNumber':'1'}}"),
    OK("null, empty array and empty object are unassigned", UR,
	"{" SUE ",'userName':'u','displayName':null,"
	"'name':{'givenName':null},'emails':[],'phoneNumbers':[null],"
	"'title':'t','" ENT "':{'manager':{'displayName':'ro'}}}",
	"{'userName':'u','title':'t'}"),
    OK("userName of exactly surrounding spaces kept as given", UR,
	"{" SU ",'userName':' u '}", "{'userName':' u '}"),
    OK("group: members folded, type canonical, display/$ref dropped", GR,
	"{" SG ",'displayName':'Admins','id':'" ID3 "',"
	"'meta':{'resourceType':'Group'},'externalId':'ext-1',"
	"'members':[{'value':'" ID1 "','type':'user','display':'Babs',"
	"'$ref':'https://x/Users/" ID1 "'},{'value':'" ID2 "'},"
	"{'value':'" ID1UP "'},{'value':'" ID2 "','type':'GROUP'},null]}",
	"{'displayName':'Admins','externalId':'ext-1',"
	"'members':[{'value':'" ID1 "','type':'User'},"
	"{'value':'" ID2 "','type':'Group'}]}"),
    OK("group: Entra's ADSCIM schema URN in schemas is ignored", GR,
	"{'schemas':['" G "','http://schemas.microsoft.com/2006/11/"
	"ResourceManagement/ADSCIM/2.0/Group'],'displayName':'Entra'}",
	"{'displayName':'Entra','members':[]}"),
    OK("group without members gets an empty list", GR,
	"{" SG ",'displayName':'Empty'}",
	"{'displayName':'Empty','members':[]}"),
    OK("group members null gets an empty list", GR,
	"{" SG ",'displayName':'Empty','members':null}",
	"{'displayName':'Empty','members':[]}"),
    OK("group members [] stays an empty list", GR,
	"{" SG ",'displayName':'Empty','members':[]}",
	"{'displayName':'Empty','members':[]}"),

    BADS("not an object", "[1]", "object"),
    BADV("missing schemas", "{'userName':'u'}", "schemas"),
    BADV("schemas null", "{'schemas':null,'userName':'u'}", "schemas"),
    BADV("schemas not an array", "{'schemas':'" U "','userName':'u'}",
	"schemas"),
    BADV("schemas with a number", "{'schemas':['" U "',1],'userName':'u'}",
	"schemas"),
    BADV("schemas without core", "{'schemas':['" ENT "'],'userName':'u'}", U),
    BADV("schemas with unknown URN",
	"{'schemas':['" U "','urn:example:custom:1.0:User'],"
	"'userName':'u'}",
	"unknown schema 'urn:example:custom:1.0:User'"),
    BADV("schemas with Group URN on a User",
	"{'schemas':['" U "','" G "'],'userName':'u'}", "unknown schema"),
    BADS("schemas given twice",
	"{'schemas':['" U "'],'Schemas':['" U "'],'userName':'u'}",
	"more than once"),
    BADV("unknown schema URN key",
	"{" SU ",'userName':'u','urn:example:custom:1.0:User':{'a':1}}",
	"unknown schema 'urn:example:custom:1.0:User'"),
    BADV("extension attributes without URN in schemas",
	"{" SU ",'userName':'u','" ENT "':{'department':'x'}}", "not listed"),
    BADV("flat extension attribute without URN in schemas",
	"{" SU ",'userName':'u','" ENT ":department':'x'}", "not listed"),
    BADS("unknown attribute", "{" SU ",'userName':'u','shoeSize':44}",
	"unknown attribute 'shoeSize'"),
    BADS("unknown sub-attribute",
	"{" SU ",'userName':'u','name':{'nickName':'x'}}",
	"unknown attribute 'name.nickName'"),
    BADS("unknown extension attribute",
	"{" SUE ",'userName':'u','" ENT "':{'shoeSize':44}}",
	"unknown attribute '" ENT ":shoeSize'"),
    BADS("unknown flat extension attribute",
	"{" SUE ",'userName':'u','" ENT ":shoeSize':44}",
	"unknown attribute '" ENT ":shoeSize'"),
    BADS("core URN as a key", "{" SU ",'" U "':{'userName':'u'}}",
	"unknown attribute"),
    BADS("members on a User", "{" SU ",'userName':'u','members':[]}",
	"unknown attribute 'members'"),
    BADS("same attribute twice in different case",
	"{" SU ",'userName':'u','USERNAME':'v'}", "more than once"),
    BADS("same sub-attribute twice in different case",
	"{" SU ",'userName':'u','name':{'givenName':'a','GivenName':'b'}}",
	"more than once"),
    BADV("userName a number", "{" SU ",'userName':42}",
	"'userName' must be a string"),
    BADV("userName an array", "{" SU ",'userName':['u']}", "single value"),
    BADV("active maybe", "{" SU ",'userName':'u','active':'maybe'}",
	"'active' must be a boolean"),
    BADV("active 1", "{" SU ",'userName':'u','active':1}", "boolean"),
    BADV("emails not an array",
	"{" SU ",'userName':'u','emails':{'value':'a@b'}}",
	"'emails' must be an array"),
    BADV("emails of strings", "{" SU ",'userName':'u','emails':['a@b']}",
	"'emails' must be an object"),
    BADV("name not an object", "{" SU ",'userName':'u','name':'Babs'}",
	"'name' must be an object"),
    BADV("name.givenName a number",
	"{" SU ",'userName':'u','name':{'givenName':1}}",
	"'name.givenName' must be a string"),
    BADV("emails primary yes",
	"{" SU ",'userName':'u','emails':[{'value':'a','primary':'yes'}]}",
	"'emails.primary' must be a boolean"),
    BADV("two primary emails",
	"{" SU ",'userName':'u','emails':[{'value':'a','primary':true},"
	"{'value':'b','primary':'True'}]}",
	"more than one primary"),
    BADV("empty userName", "{" SU ",'userName':''}",
	"'userName' must not be empty"),
    BADV("whitespace userName", "{" SU ",'userName':' \\t\\n '}",
	"'userName' must not be empty"),
    BADV("missing userName", "{" SU ",'displayName':'d'}",
	"'userName' is required"),
    BADV("null userName", "{" SU ",'userName':null}", "'userName' is required"),
    BADV("integer as string",
	"{" SUP ",'userName':'u','" PAM "':{'maxJitDurationSeconds':'60'}}",
	"must be an integer"),
    BADV("integer with fraction",
	"{" SUP ",'userName':'u','" PAM "':{'maxJitDurationSeconds':1.5}}",
	"must be an integer"),
    BADV("dateTime month 13",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-13-01T00:00:00Z'}}",
	"xsd:dateTime"),
    BADV("dateTime 29 Feb in a common year",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2023-02-29T00:00:00Z'}}",
	"xsd:dateTime"),
    BADV("dateTime with a space",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-01-01 00:00:00Z'}}",
	"xsd:dateTime"),
    BADV("dateTime offset +15:00",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-01-01T00:00:00+15:00'}}",
	"xsd:dateTime"),
    BADV("dateTime offset +14:30",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-01-01T00:00:00+14:30'}}",
	"xsd:dateTime"),
    BADV("dateTime hour 24",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-01-01T24:00:00Z'}}",
	"xsd:dateTime"),
    BADV("dateTime offset without colon",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-01-01T00:00:00+0100'}}",
	"xsd:dateTime"),
    BADV("dateTime empty fraction",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-01-01T00:00:00.Z'}}",
	"xsd:dateTime"),
    BADV("dateTime trailing garbage",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'2024-01-01T00:00:00Zx'}}",
	"xsd:dateTime"),
    BADV("dateTime words",
	"{" SUP ",'userName':'u','" PAM "':"
	"{'accessReviewDate':'yesterday'}}",
	"xsd:dateTime"),
    BADV("dateTime a number",
	"{" SUP ",'userName':'u','" PAM "':{'accessReviewDate':20240101}}",
	"must be a string"),
    BADV("multi-valued string not an array",
	"{" SUP ",'userName':'u','" PAM "':{'adminRoles':'db-admin'}}",
	"must be an array"),
    BADV("multi-valued string holding a number",
	"{" SUP ",'userName':'u','" PAM "':{'adminRoles':[1]}}",
	"must be a string"),
    BADV("extension not an object", "{" SUE ",'userName':'u','" ENT "':1}",
	"must be an object"),
    GBADV("group missing displayName", "{" SG ",'members':[]}",
	"'displayName' is required"),
    GBADV("group empty displayName", "{" SG ",'displayName':''}",
	"must not be empty"),
    GBADV("group with User schema", "{" SU ",'displayName':'g'}", "schema"),
    GBADV("bad member uuid",
	"{" SG ",'displayName':'g','members':[{'value':'not-a-uuid'}]}",
	"'members.value' must be a resource id"),
    GBADV("member uuid with braces",
	"{" SG ",'displayName':'g','members':[{'value':'{" ID1 "}'}]}",
	"resource id"),
    GBADV("member value a number",
	"{" SG ",'displayName':'g','members':[{'value':7}]}", "resource id"),
    GBADV("member not an object",
	"{" SG ",'displayName':'g','members':['" ID1 "']}",
	"must hold objects"),
    GBADV("member without value",
	"{" SG ",'displayName':'g','members':[{'type':'User'}]}",
	"'members.value' is required"),
    GBADV("member bad type",
	"{" SG ",'displayName':'g','members':[{'value':'" ID1 "',"
	"'type':'Device'}]}",
	"User or Group"),
    GBADS("member unknown sub-attribute",
	"{" SG ",'displayName':'g','members':[{'value':'" ID1 "',"
	"'foo':1}]}",
	"unknown attribute 'members.foo'"),
    GBADV("members not an array",
	"{" SG ",'displayName':'g','members':{'value':'" ID1 "'}}",
	"must be an array"),
    GBADS("groups on a Group", "{" SG ",'displayName':'g','groups':[]}",
	"unknown attribute 'groups'"),
    BADS("nesting deeper than JSON_DEPTH_MAX",
	"{" SU ",'userName':'u','title':[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
	"nested"),
    BADV("nesting at JSON_DEPTH_MAX reaches the type check",
	"{" SU ",'userName':'u','title':[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}",
	"single value"),
};

/* A failing row is reported and the table goes on. */
#define ROW_FAIL(...)                                                          \
	do {                                                                   \
		fprintf(stderr, "  FAIL row: ");                               \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		nfail = 1;                                                     \
	} while (0)

static int
run_parse_case(const struct parse_case *pc)
{
	struct api_error e;
	json_t *in, *copy, *doc = NULL, *want = NULL;
	int r, nfail = 0;

	api_error_clear(&e);
	in = J(pc->in);
	copy = json_deep_copy(in);
	if (pc->want != NULL)
		want = J(pc->want);
	r = scim_resource_parse(pc->rt, in, &doc, &e);
	if (!json_equal(in, copy))
		ROW_FAIL("%s: input was modified", pc->name);
	if (pc->want != NULL) {
		if (r != 0)
			ROW_FAIL("%s: r=%d status=%d %s: %s", pc->name, r,
			    e.status, e.scim_type, e.detail);
		if (!json_equal(doc, want)) {
			show("got ", doc);
			show("want", want);
			ROW_FAIL("%s: stored document differs", pc->name);
		}
	} else {
		if (r != ERR_INVALID || doc != NULL)
			ROW_FAIL("%s: accepted (r=%d)", pc->name, r);
		if (e.status != pc->status ||
		    strcmp(e.scim_type, pc->scim_type) != 0)
			ROW_FAIL("%s: got %d %s (%s), want %d %s", pc->name,
			    e.status, e.scim_type, e.detail, pc->status,
			    pc->scim_type);
		if (pc->detail != NULL && strstr(e.detail, pc->detail) == NULL)
			ROW_FAIL("%s: detail \"%s\" lacks \"%s\"", pc->name,
			    e.detail, pc->detail);
	}
	json_decref(in);
	json_decref(copy);
	json_decref(want);
	json_decref(doc);
	return nfail;
}

static void
test_parse_table(void)
{
	size_t i;
	int nfail = 0;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
		nfail += run_parse_case(&parse_cases[i]);
	ASSERT_INT_EQ(nfail, 0);
}

static json_t *
user_with(const char *key, json_t *v)
{
	json_t *o = J("{" SU ",'userName':'u'}");

	ASSERT_INT_EQ(json_object_set_new(o, key, v), 0);
	return o;
}

static char *
repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		TL_FAIL("malloc");
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

/* Generated inputs: limits that are tedious to spell out in a table. */
struct gen_case {
	const char *name;
	const char *key;
	size_t len; /* of a string of 'a' */
	int ok;
};

static const struct gen_case gen_cases[] = {
    {"userName at SCIM_USERNAME_MAX", "userName", SCIM_USERNAME_MAX, 1},
    {"userName over SCIM_USERNAME_MAX", "userName", SCIM_USERNAME_MAX + 1, 0},
    {"displayName at SCIM_DISPLAYNAME_MAX", "displayName", SCIM_DISPLAYNAME_MAX,
	1},
    {"displayName over SCIM_DISPLAYNAME_MAX", "displayName",
	SCIM_DISPLAYNAME_MAX + 1, 0},
    {"title at JSON_STRING_MAX", "title", JSON_STRING_MAX, 1},
    {"title over JSON_STRING_MAX", "title", JSON_STRING_MAX + 1, 0},
};

static void
test_parse_string_limits(void)
{
	struct api_error e;
	json_t *in, *doc;
	char *s;
	size_t i;
	int r;

	for (i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++) {
		api_error_clear(&e);
		s = repeat('a', gen_cases[i].len);
		in = J("{" SU "}");
		ASSERT_INT_EQ(
		    json_object_set_new(in, gen_cases[i].key, json_string(s)),
		    0);
		if (strcmp(gen_cases[i].key, "userName") != 0)
			ASSERT_INT_EQ(json_object_set_new(
					  in, "userName", json_string("u")),
			    0);
		doc = NULL;
		r = scim_resource_parse(SCIM_RT_USER, in, &doc, &e);
		if (gen_cases[i].ok) {
			if (r != 0)
				TL_FAIL("%s: %s", gen_cases[i].name, e.detail);
			ASSERT_STR_EQ(json_string_value(json_object_get(
					  doc, gen_cases[i].key)),
			    s);
		} else {
			if (r != ERR_INVALID)
				TL_FAIL("%s accepted", gen_cases[i].name);
			ASSERT_STR_EQ(e.scim_type, "invalidValue");
			ASSERT_TRUE(strstr(e.detail, "longer") != NULL);
		}
		json_decref(doc);
		json_decref(in);
		free(s);
	}
}

static void
test_parse_nul_and_group_displayname(void)
{
	struct api_error e;
	json_t *in, *doc = NULL;
	char *s;

	api_error_clear(&e);
	in = user_with("title", json_stringn("a\0b", 3));
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_USER, in, &doc, &e), ERR_INVALID);
	ASSERT_NULL(doc);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	ASSERT_TRUE(strstr(e.detail, "'title'") != NULL);
	json_decref(in);

	/* Group displayName shares the displayName limit */
	api_error_clear(&e);
	s = repeat('g', SCIM_DISPLAYNAME_MAX + 1);
	in = J("{" SG "}");
	ASSERT_INT_EQ(
	    json_object_set_new(in, "displayName", json_string(s)), 0);
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_GROUP, in, &doc, &e), ERR_INVALID);
	ASSERT_TRUE(strstr(e.detail, "longer") != NULL);
	json_decref(in);
	free(s);
}

static void
test_parse_multi_limits(void)
{
	struct api_error e;
	json_t *arr, *in, *doc = NULL;
	char id[SCIM_ID_LEN + 1];
	size_t i;

	/* SCIM_MULTI_MAX emails pass, one more does not */
	arr = json_array();
	for (i = 0; i < SCIM_MULTI_MAX; i++)
		json_array_append_new(arr, json_pack("{s:s}", "value", "a@b"));
	in = user_with("emails", arr);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_resource_parse(SCIM_RT_USER, in, &doc, &e), 0);
	ASSERT_INT_EQ(
	    json_array_size(json_object_get(doc, "emails")), SCIM_MULTI_MAX);
	json_decref(doc);
	doc = NULL;
	json_array_append_new(arr, json_pack("{s:s}", "value", "a@b"));
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_USER, in, &doc, &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	json_decref(in);

	/* members: up to SCIM_MEMBERS_PATCH_MAX values, folded */
	arr = json_array();
	for (i = 0; i < SCIM_MEMBERS_PATCH_MAX; i++) {
		snprintf(
		    id, sizeof(id), "00000000-0000-4000-8000-%012zx", i % 1000);
		json_array_append_new(arr, json_pack("{s:s}", "value", id));
	}
	in = J("{" SG ",'displayName':'big'}");
	json_object_set_new(in, "members", arr);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_resource_parse(SCIM_RT_GROUP, in, &doc, &e), 0);
	ASSERT_INT_EQ(json_array_size(json_object_get(doc, "members")), 1000);
	json_decref(doc);
	doc = NULL;
	json_array_append_new(arr, json_pack("{s:s}", "value", id));
	api_error_clear(&e);
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_GROUP, in, &doc, &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	ASSERT_TRUE(strstr(e.detail, "members") != NULL);
	json_decref(in);
}

static void
test_parse_unknown_name_cut(void)
{
	struct api_error e;
	json_t *in, *doc = NULL, *j;
	char name[400];
	const char *q;
	size_t i;

	/* 99 ASCII bytes then 2-byte characters: the cut at 100 bytes must
	 * not split one, and the detail must stay valid UTF-8 */
	memset(name, 'x', 99);
	for (i = 99; i + 2 < sizeof(name) - 1; i += 2) {
		name[i] = (char)0xc3;
		name[i + 1] = (char)0xa9;
	}
	name[i] = '\0';
	in = user_with(name, json_integer(1));
	api_error_clear(&e);
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_USER, in, &doc, &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidSyntax");
	ASSERT_TRUE(utf8_valid(e.detail, strlen(e.detail)));
	q = strchr(e.detail, '\'');
	ASSERT_NOT_NULL(q);
	ASSERT_INT_EQ(strchr(q + 1, '\'') - (q + 1), 99);
	j = json_string(e.detail);
	ASSERT_NOT_NULL(j);
	json_decref(j);
	json_decref(in);

	/* a long unknown schema key is cut too */
	memset(name, 'y', sizeof(name) - 1);
	memcpy(name, "urn:", 4);
	name[sizeof(name) - 1] = '\0';
	in = user_with(name, json_object());
	api_error_clear(&e);
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_USER, in, &doc, &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	ASSERT_TRUE(strlen(e.detail) < 140);
	json_decref(in);
}

static void
test_parse_null_error_ok(void)
{
	json_t *in = J("{" SU ",'userName':1}"), *doc = NULL;

	/* no api_error to fill: still a clean rejection */
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_USER, in, &doc, NULL), ERR_INVALID);
	ASSERT_NULL(doc);
	ASSERT_INT_EQ(
	    scim_resource_parse(SCIM_RT_USER, NULL, &doc, NULL), ERR_INVALID);
	json_decref(in);
}

/* ---- (b) render and projection ---- */

struct render_case {
	const char *name;
	enum scim_rtype rt;
	const char *doc;
	const char *groups; /* NULL: none given */
	const char *attrs;
	const char *excl;
	const char *want;
};

#define META_U                                                                 \
	"'meta':{'resourceType':'User',"                                       \
	"'created':'2024-01-02T03:04:05.678Z',"                                \
	"'lastModified':'2024-02-03T04:05:06.789Z','version':'W/\\'7\\'',"     \
	"'location':'" BASE "/Users/" ID1 "'}"
#define META_G                                                                 \
	"'meta':{'resourceType':'Group',"                                      \
	"'created':'2024-01-02T03:04:05.678Z',"                                \
	"'lastModified':'2024-02-03T04:05:06.789Z','version':'W/\\'7\\'',"     \
	"'location':'" BASE "/Groups/" ID1 "'}"
#define RDOC                                                                   \
	"{'userName':'bjensen','name':{'givenName':'Barbara',"                 \
	"'familyName':'Jensen'},'emails':[{'value':'b@x','type':'work',"       \
	"'primary':true},{'value':'c@y','type':'home'}],'active':true,"        \
	"'password':'leaked','" ENT "':{'employeeNumber':'701984',"            \
	"'department':'Tours'}}"
#define RGROUPS "[{'value':'" ID2 "','display':'Tour Guides','type':'direct'}]"
#define GDOC                                                                   \
	"{'displayName':'Admins','members':[{'value':'" ID2 "','type':'User'," \
	"'display':'Babs'},{'value':'" ID3 "','type':'Group'}]}"
#define RSU "'schemas':['" U "','" ENT "'],'id':'" ID1 "'"
#define RSG "'schemas':['" G "'],'id':'" ID1 "'"

static const struct render_case render_cases[] = {
    {"user defaults: groups get $ref, password never", SCIM_RT_USER, RDOC,
	RGROUPS, NULL, NULL,
	"{" RSU "," META_U ",'userName':'bjensen',"
	"'name':{'givenName':'Barbara','familyName':'Jensen'},"
	"'emails':[{'value':'b@x','type':'work','primary':true},"
	"{'value':'c@y','type':'home'}],'active':true,"
	"'groups':[{'value':'" ID2 "','$ref':'" BASE "/Groups/" ID2 "',"
	"'display':'Tour Guides','type':'direct'}],"
	"'" ENT "':{'employeeNumber':'701984','department':'Tours'}}"},
    {"user empty groups array is omitted", SCIM_RT_USER, "{'userName':'u'}",
	"[]", NULL, NULL,
	"{'schemas':['" U "'],'id':'" ID1 "'," META_U ",'userName':'u'}"},
    {"attributes=userName", SCIM_RT_USER, RDOC, RGROUPS, "userName", NULL,
	"{" RSU ",'userName':'bjensen'}"},
    {"attributes=name.givenName", SCIM_RT_USER, RDOC, NULL, "name.givenName",
	NULL, "{" RSU ",'name':{'givenName':'Barbara'}}"},
    {"attributes=emails.value", SCIM_RT_USER, RDOC, NULL, "emails.value", NULL,
	"{" RSU ",'emails':[{'value':'b@x'},{'value':'c@y'}]}"},
    {"attributes with spaces and odd case", SCIM_RT_USER, RDOC, NULL,
	" USERNAME , Name.GivenName ,, ", NULL,
	"{" RSU ",'userName':'bjensen','name':{'givenName':'Barbara'}}"},
    {"attributes URN-qualified", SCIM_RT_USER, RDOC, NULL,
	U ":userName," ENT ":employeeNumber", NULL,
	"{" RSU ",'userName':'bjensen','" ENT "':"
	"{'employeeNumber':'701984'}}"},
    {"attributes a whole extension by URN", SCIM_RT_USER, RDOC, NULL, ENT, NULL,
	"{" RSU ",'" ENT "':{'employeeNumber':'701984',"
	"'department':'Tours'}}"},
    {"attributes=password is never returned", SCIM_RT_USER, RDOC, NULL,
	"password,userName", NULL, "{" RSU ",'userName':'bjensen'}"},
    {"attributes=meta.version", SCIM_RT_USER, RDOC, NULL, "meta.version", NULL,
	"{" RSU ",'meta':{'version':'W/\\'7\\''}}"},
    {"attributes=groups.display", SCIM_RT_USER, RDOC, RGROUPS, "groups.display",
	NULL, "{" RSU ",'groups':[{'display':'Tour Guides'}]}"},
    {"attributes unknown names only: id and schemas", SCIM_RT_USER, RDOC, NULL,
	"shoeSize,urn:x:y", NULL, "{" RSU "}"},
    {"excludedAttributes=id keeps id", SCIM_RT_USER,
	"{'userName':'u','title':'t'}", NULL, NULL, "id,title,meta",
	"{'schemas':['" U "'],'id':'" ID1 "','userName':'u'}"},
    {"excludedAttributes=name.givenName,emails", SCIM_RT_USER, RDOC, NULL, NULL,
	"name.givenName,emails,meta,active," ENT,
	"{" RSU ",'userName':'bjensen','name':{'familyName':'Jensen'}}"},
    {"excludedAttributes URN-qualified", SCIM_RT_USER, RDOC, NULL, NULL,
	ENT ":department,meta," U ":name,emails,active",
	"{" RSU ",'userName':'bjensen','" ENT "':"
	"{'employeeNumber':'701984'}}"},
    {"group defaults: members get $ref by type", SCIM_RT_GROUP, GDOC, NULL,
	NULL, NULL,
	"{" RSG "," META_G ",'displayName':'Admins','members':["
	"{'value':'" ID2 "','$ref':'" BASE "/Users/" ID2 "',"
	"'type':'User','display':'Babs'},"
	"{'value':'" ID3 "','$ref':'" BASE "/Groups/" ID3 "',"
	"'type':'Group'}]}"},
    {"group excludedAttributes=members", SCIM_RT_GROUP, GDOC, NULL, NULL,
	"members", "{" RSG "," META_G ",'displayName':'Admins'}"},
    {"group attributes=members.value", SCIM_RT_GROUP, GDOC, NULL,
	"members.value", NULL,
	"{" RSG ",'members':[{'value':'" ID2 "'},{'value':'" ID3 "'}]}"},
    {"group attributes=displayName", SCIM_RT_GROUP, GDOC, NULL, "displayName",
	NULL, "{" RSG ",'displayName':'Admins'}"},
    {"group without members loaded", SCIM_RT_GROUP,
	"{'displayName':'Admins','externalId':'e1'}", NULL, NULL, NULL,
	"{" RSG ",'externalId':'e1'," META_G ",'displayName':'Admins'}"},
};

static int
run_render_case(const struct render_case *rc)
{
	struct scim_meta meta = {
	    .id = ID1,
	    .created = "2024-01-02T03:04:05.678Z",
	    .last_modified = "2024-02-03T04:05:06.789Z",
	    .version = 7,
	    .base_url = BASE,
	};
	struct scim_projection *p = NULL;
	struct api_error e;
	json_t *doc, *groups = NULL, *want, *got;
	int nfail = 0;

	api_error_clear(&e);
	doc = J(rc->doc);
	want = J(rc->want);
	if (rc->groups != NULL)
		groups = J(rc->groups);
	if (scim_projection_parse(rc->rt, rc->attrs, rc->excl, &p, &e) != 0)
		ROW_FAIL("%s: projection: %s", rc->name, e.detail);
	got = scim_resource_render(rc->rt, doc, &meta, groups, p);
	if (got == NULL)
		ROW_FAIL("%s: render returned NULL", rc->name);
	if (!json_equal(got, want)) {
		show("got ", got);
		show("want", want);
		ROW_FAIL("%s: output differs", rc->name);
	}
	scim_projection_free(p);
	json_decref(doc);
	json_decref(groups);
	json_decref(want);
	json_decref(got);
	return nfail;
}

static void
test_render_table(void)
{
	size_t i;
	int nfail = 0;

	for (i = 0; i < sizeof(render_cases) / sizeof(render_cases[0]); i++)
		nfail += run_render_case(&render_cases[i]);
	ASSERT_INT_EQ(nfail, 0);
}

static void
test_render_null_projection_and_slash(void)
{
	struct scim_meta meta = {
	    .id = ID1,
	    .created = "2024-01-02T03:04:05Z",
	    .last_modified = "2024-01-02T03:04:05Z",
	    .version = 1,
	    .base_url = BASE "/",
	};
	json_t *doc = J("{'userName':'u','password':'p'}"), *got;

	got = scim_resource_render(SCIM_RT_USER, doc, &meta, NULL, NULL);
	ASSERT_NOT_NULL(got);
	ASSERT_NULL(json_object_get(got, "password"));
	ASSERT_STR_EQ(json_string_value(json_object_get(
			  json_object_get(got, "meta"), "location")),
	    BASE "/Users/" ID1);
	ASSERT_STR_EQ(json_string_value(json_object_get(
			  json_object_get(got, "meta"), "version")),
	    "W/\"1\"");
	json_decref(got);
	json_decref(doc);
}

/* Parse, render, parse again: the stored document survives. */
static void
test_roundtrip(void)
{
	struct scim_meta meta = {
	    .id = ID1,
	    .created = "2024-01-02T03:04:05Z",
	    .last_modified = "2024-01-02T03:04:05Z",
	    .version = 3,
	    .base_url = BASE,
	};
	struct api_error e;
	json_t *in, *doc = NULL, *out, *doc2 = NULL, *groups;

	api_error_clear(&e);
	in = J(parse_cases[0].in);
	groups = J(RGROUPS);
	ASSERT_INT_EQ(scim_resource_parse(SCIM_RT_USER, in, &doc, &e), 0);
	out = scim_resource_render(SCIM_RT_USER, doc, &meta, groups, NULL);
	ASSERT_NOT_NULL(out);
	ASSERT_INT_EQ(scim_resource_parse(SCIM_RT_USER, out, &doc2, &e), 0);
	ASSERT_TRUE(json_equal(doc, doc2));
	/* the groups (readOnly) came back rendered and were ignored */
	ASSERT_NOT_NULL(json_object_get(out, "groups"));
	ASSERT_NULL(json_object_get(doc2, "groups"));
	json_decref(groups);
	json_decref(in);
	json_decref(out);
	json_decref(doc);
	json_decref(doc2);
}

struct proj_err_case {
	const char *name;
	const char *attrs;
	const char *excl;
	const char *scim_type; /* NULL: accepted */
};

static const struct proj_err_case proj_err_cases[] = {
    {"both lists", "userName", "emails", "invalidSyntax"},
    {"both given, one empty", "userName", "", NULL},
    {"neither", NULL, NULL, NULL},
    {"unknown names ignored", "shoeSize,urn:a:b:c", NULL, NULL},
    {"empty names are not counted", ",,, ,userName,", NULL, NULL},
};

static void
test_projection_parse_table(void)
{
	struct scim_projection *p;
	struct api_error e;
	size_t i;
	int r;

	for (i = 0; i < sizeof(proj_err_cases) / sizeof(proj_err_cases[0]);
	     i++) {
		const struct proj_err_case *pc = &proj_err_cases[i];

		api_error_clear(&e);
		p = NULL;
		r = scim_projection_parse(
		    SCIM_RT_USER, pc->attrs, pc->excl, &p, &e);
		if (pc->scim_type == NULL) {
			if (r != 0 || p == NULL)
				TL_FAIL("%s: rejected: %s", pc->name, e.detail);
		} else {
			if (r != ERR_INVALID || p != NULL)
				TL_FAIL("%s: accepted", pc->name);
			ASSERT_INT_EQ(e.status, 400);
			ASSERT_STR_EQ(e.scim_type, pc->scim_type);
		}
		scim_projection_free(p);
	}
}

static void
test_projection_name_limit(void)
{
	struct scim_projection *p = NULL;
	struct api_error e;
	char list[4 * (SCIM_ATTRS_PARAM_MAX + 1) + 1];
	size_t i, n = 0;

	/* SCIM_ATTRS_PARAM_MAX names pass (known or not), one more fails */
	for (i = 0; i < SCIM_ATTRS_PARAM_MAX; i++)
		n += (size_t)snprintf(
		    list + n, sizeof(list) - n, "%s,", i % 2 ? "a" : "id");
	api_error_clear(&e);
	ASSERT_INT_EQ(
	    scim_projection_parse(SCIM_RT_USER, list, NULL, &p, &e), 0);
	scim_projection_free(p);
	p = NULL;
	snprintf(list + n, sizeof(list) - n, "b");
	ASSERT_INT_EQ(scim_projection_parse(SCIM_RT_USER, NULL, list, &p, &e),
	    ERR_INVALID);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
}

struct wants_case {
	enum scim_rtype rt;
	const char *attrs;
	const char *excl;
	int null_proj;
	const char *name;
	int want;
};

static const struct wants_case wants_cases[] = {
    {SCIM_RT_GROUP, NULL, NULL, 0, "members", 1},
    {SCIM_RT_GROUP, NULL, NULL, 1, "members", 1},
    {SCIM_RT_GROUP, NULL, "members", 0, "members", 0},
    {SCIM_RT_GROUP, NULL, "Members", 0, "members", 0},
    {SCIM_RT_GROUP, NULL, "members.display", 0, "members", 1},
    {SCIM_RT_GROUP, NULL, "members.display", 0, "members.display", 0},
    {SCIM_RT_GROUP, NULL, "displayName", 0, "members", 1},
    {SCIM_RT_GROUP, "displayName", NULL, 0, "members", 0},
    {SCIM_RT_GROUP, "members.value", NULL, 0, "members", 1},
    {SCIM_RT_GROUP, "members", NULL, 0, "members", 1},
    {SCIM_RT_GROUP, G ":members", NULL, 0, "members", 1},
    {SCIM_RT_GROUP, "displayName", NULL, 0, "id", 1},
    {SCIM_RT_GROUP, NULL, "id", 0, "id", 1},
    {SCIM_RT_USER, NULL, NULL, 0, "members", 0},
    {SCIM_RT_USER, NULL, NULL, 0, "groups", 1},
    {SCIM_RT_USER, NULL, "groups", 0, "groups", 0},
    {SCIM_RT_USER, NULL, NULL, 0, "password", 0},
    {SCIM_RT_USER, "password", NULL, 0, "password", 0},
    {SCIM_RT_USER, NULL, NULL, 1, "groups", 1},
    {SCIM_RT_USER, NULL, NULL, 1, "password", 0},
    {SCIM_RT_USER, ENT ":manager", NULL, 0, ENT, 1},
    {SCIM_RT_USER, "userName", NULL, 0, ENT, 0},
};

static void
test_projection_wants_table(void)
{
	struct scim_projection *p;
	struct api_error e;
	size_t i;

	for (i = 0; i < sizeof(wants_cases) / sizeof(wants_cases[0]); i++) {
		const struct wants_case *wc = &wants_cases[i];

		api_error_clear(&e);
		p = NULL;
		if (!wc->null_proj)
			ASSERT_INT_EQ(scim_projection_parse(
					  wc->rt, wc->attrs, wc->excl, &p, &e),
			    0);
		if (scim_projection_wants(p, wc->name) != wc->want)
			TL_FAIL(
			    "case %zu: wants(%s) != %d", i, wc->name, wc->want);
		scim_projection_free(p);
	}
}

/* ---- (c) ETags ---- */

struct etag_case {
	const char *header;
	long long version;
	int want;
	int any;
};

static const struct etag_case etag_cases[] = {
    {"W/\"7\"", 7, 1, 0},
    {"\"7\"", 7, 1, 0},
    {"W/\"8\"", 7, 0, 0},
    {"W/\"6\", W/\"7\"", 7, 1, 0},
    {"W/\"6\",\"7\"", 7, 1, 0},
    {" W/\"7\" ", 7, 1, 0},
    {"W/\"1\",,W/\"7\"", 7, 1, 0},
    {"W/\"6\", W/\"8\"", 7, 0, 0},
    {"*", 7, 1, 1},
    {" * ", 7, 1, 1},
    {"*, W/\"7\"", 7, 0, 0},
    {"W/\"07\"", 7, 0, 0},
    {"W/\"7 \"", 7, 0, 0},
    {"7", 7, 0, 0},
    {"W/7", 7, 0, 0},
    {"W/\"7", 7, 0, 0},
    {"w/\"7\"", 7, 0, 0},
    {"W/\"7\"x", 7, 0, 0},
    {"W/\"7\" W/\"7\"", 7, 0, 0},
    {"W/\"7\", garbage", 7, 0, 0},
    {"", 7, 0, 0},
    {",", 7, 0, 0},
    {"W/\"9223372036854775807\"", 9223372036854775807LL, 1, 0},
    {NULL, 7, 0, 0},
};

static void
test_etag_table(void)
{
	size_t i;
	int any, r;

	for (i = 0; i < sizeof(etag_cases) / sizeof(etag_cases[0]); i++) {
		any = -1;
		r = scim_etag_matches(
		    etag_cases[i].header, etag_cases[i].version, &any);
		if (r != etag_cases[i].want || any != etag_cases[i].any)
			TL_FAIL("etag case %zu (%s): r=%d any=%d", i,
			    etag_cases[i].header ? etag_cases[i].header
						 : "NULL",
			    r, any);
	}
	ASSERT_INT_EQ(scim_etag_matches("W/\"7\"", 7, NULL), 1);
	ASSERT_INT_EQ(scim_etag_matches("*", 7, NULL), 1);
}

static void
test_etag_format(void)
{
	char buf[32], small[4];

	scim_etag(7, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "W/\"7\"");
	scim_etag(9223372036854775807LL, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "W/\"9223372036854775807\"");
	ASSERT_INT_EQ(scim_etag_matches(buf, 9223372036854775807LL, NULL), 1);
	scim_etag(12345, small, sizeof(small));
	ASSERT_STR_EQ(small, "W/\"");
}

static const struct testlib_case cases[] = {
    {"parse table", test_parse_table},
    {"parse string limits", test_parse_string_limits},
    {"parse NUL byte, group displayName limit",
	test_parse_nul_and_group_displayname},
    {"parse multi-valued limits", test_parse_multi_limits},
    {"parse unknown name cut to 100 bytes", test_parse_unknown_name_cut},
    {"parse without api_error", test_parse_null_error_ok},
    {"render table", test_render_table},
    {"render NULL projection, base_url slash",
	test_render_null_projection_and_slash},
    {"parse/render/parse round trip", test_roundtrip},
    {"projection parse table", test_projection_parse_table},
    {"projection name limit", test_projection_name_limit},
    {"projection wants table", test_projection_wants_table},
    {"etag matching table", test_etag_table},
    {"etag format", test_etag_format},
};

TEST_MAIN(cases)
