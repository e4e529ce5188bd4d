#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scim/filter.h"
#include "scim/schema.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "testlib.h"

#define U	SCIM_RT_USER
#define G	SCIM_RT_GROUP
#define ENT	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PAM	"urn:ietf:params:scim:schemas:extension:pam:2.0:User"

/* ---- which filters parse ---- */

static const struct {
	enum scim_rtype rt;
	const char *filter;
	int ok;
} syntax_cases[] = {
	/* RFC 7644 §3.4.2.2 examples */
	{ U, "userName eq \"bjensen\"", 1 },
	{ U, "name.familyName co \"O'Malley\"", 1 },
	{ U, "userName sw \"J\"", 1 },
	{ U, SCIM_SCHEMA_USER ":userName sw \"J\"", 1 },
	{ U, "title pr", 1 },
	{ U, "meta.lastModified gt \"2011-05-13T04:42:34Z\"", 1 },
	{ U, "meta.lastModified ge \"2011-05-13T04:42:34Z\"", 1 },
	{ U, "meta.lastModified lt \"2011-05-13T04:42:34Z\"", 1 },
	{ U, "meta.lastModified le \"2011-05-13T04:42:34Z\"", 1 },
	{ U, "title pr and userType eq \"Employee\"", 1 },
	{ U, "title pr or userType eq \"Intern\"", 1 },
	/* "schemas" is not a filterable attribute here (see report) */
	{ U, "schemas eq \"" ENT "\"", 0 },
	{ U, "userType eq \"Employee\" and (emails co \"example.com\" or "
	  "emails.value co \"example.org\")", 1 },
	{ U, "userType ne \"Employee\" and not (emails co \"example.com\" or "
	  "emails.value co \"example.org\")", 1 },
	{ U, "userType eq \"Employee\" and (emails.type eq \"work\")", 1 },
	{ U, "userType eq \"Employee\" and emails[type eq \"work\" and "
	  "value co \"@example.com\"]", 1 },
	{ U, "emails[type eq \"work\" and value co \"@example.com\"] or "
	  "ims[type eq \"xmpp\" and value co \"@foo.com\"]", 1 },
	/* what Entra ID and Okta send */
	{ U, "userName eq \"x\"", 1 },
	{ U, "userName eq \"john.doe@contoso.onmicrosoft.com\"", 1 },
	{ U, "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"", 1 },
	{ U, "id eq \"2819c223-7f76-453a-919d-413861904646\"", 1 },
	{ U, ENT ":employeeNumber eq \"42\"", 1 },
	{ G, "displayName eq \"g\"", 1 },
	{ G, "externalId eq \"7f1c\"", 1 },
	{ G, "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", 1 },
	{ G, "displayName eq \"Engineering\" and members.value eq \"x\"", 1 },
	/* case-insensitive operators, keywords, names, literals */
	{ U, "USERNAME EQ \"x\"", 1 },
	{ U, "title PR AND userType Eq \"x\" Or active eq TRUE", 1 },
	{ U, "NOT (title pr)", 1 },
	{ U, "not(title pr)", 1 },
	{ U, "active eq False", 1 },
	{ U, "active ne true", 1 },
	{ U, "userName eq NULL", 1 },
	{ U, "title ne null", 1 },
	/* extension attributes and types */
	{ U, ENT ":manager.value eq \"26118915\"", 1 },
	{ U, PAM ":maxJitDurationSeconds gt 3600", 1 },
	{ U, PAM ":maxJitDurationSeconds le -1", 1 },
	{ U, PAM ":riskLevel eq \"high\"", 1 },
	{ U, PAM ":accessReviewDate lt \"2024-01-01T00:00:00+02:00\"", 1 },
	{ U, PAM ":accessReviewDate ge \"2024-01-01T00:00:00.123456789Z\"", 1 },
	{ U, PAM ":adminRoles eq \"db-admin\"", 1 },
	{ U, PAM ":breakGlass eq true", 1 },
	{ U, PAM ":approver pr", 1 },
	{ U, PAM ":approver.value eq \"x\"", 1 },
	/* escapes, unicode */
	{ U, "userName eq \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", 1 },
	{ U, "userName eq \"\\u00e9\\uD83D\\uDE00\"", 1 },
	{ U, "userName eq \"\xc3\xa9\xf0\x9f\x98\x80\"", 1 },
	/* other forms */
	{ U, "emails[not (type eq \"work\")]", 1 },
	{ U, "((title pr))", 1 },
	{ U, "  title pr  ", 1 },
	{ U, "name pr", 1 },
	{ U, "emails pr", 1 },
	{ U, "emails.value pr", 1 },
	{ U, "meta.version eq \"W/\\\"3\\\"\"", 1 },
	{ U, "x509Certificates.value eq \"TUlJQg==\"", 1 },
	{ U, "(title pr)and(userType eq \"x\")", 1 },
	{ U, "userName eq \"x\"or title pr", 1 },
	{ U, "userName eq \"\"", 1 },
	{ U, "groups.value eq \"x\"", 1 },
	{ U, "emails.primary eq true", 1 },
	/* syntax errors */
	{ U, "", 0 },
	{ U, "   ", 0 },
	{ U, "userName", 0 },
	{ U, "userName eq", 0 },
	{ U, "userName eq ", 0 },
	{ U, "userName eq \"x", 0 },
	{ U, "(userName eq \"x\"", 0 },
	{ U, "userName eq \"x\")", 0 },
	{ U, "((title pr)", 0 },
	{ U, "()", 0 },
	{ U, "userName eq \"x\" and", 0 },
	{ U, "and userName eq \"x\"", 0 },
	{ U, "title pr and and title pr", 0 },
	{ U, "userName eq \"x\" junk", 0 },
	{ U, "userName eq \"x\" \"y\"", 0 },
	{ U, "userName eq \"x\" or", 0 },
	{ U, "userName foo \"x\"", 0 },
	{ U, "userName eqq \"x\"", 0 },
	{ U, "userName eq\"x\"", 0 },
	{ U, "userNameeq \"x\"", 0 },
	{ U, "not title pr", 0 },
	{ U, "not", 0 },
	{ U, "title pr x", 0 },
	{ U, "userName eq 'x'", 0 },
	{ U, "userName eq x", 0 },
	{ U, "userName eq tru", 0 },
	{ U, "userName eq truex", 0 },
	{ U, "emails[type eq \"work\"", 0 },
	{ U, "emails[type eq \"work\"]]", 0 },
	{ U, "emails[]", 0 },
	{ U, "emails[type eq \"work\"].value eq \"x\"", 0 },
	{ U, "emails[type[value eq \"x\"]]", 0 },
	/* unknown attributes */
	{ U, "nosuch eq \"x\"", 0 },
	{ U, "name.nosuch eq \"x\"", 0 },
	{ U, "name.givenName.x eq \"x\"", 0 },
	{ U, "emails[nosuch eq \"x\"]", 0 },
	{ U, "emails[emails.type eq \"x\"]", 0 },
	{ U, "employeeNumber eq \"1\"", 0 },
	{ U, "urn:x:y:userName eq \"1\"", 0 },
	{ U, "members[value eq \"x\"]", 0 },
	{ G, "userName eq \"x\"", 0 },
	{ G, ENT ":employeeNumber eq \"1\"", 0 },
	/* bad strings */
	{ U, "userName eq \"\\x\"", 0 },
	{ U, "userName eq \"\\u12\"", 0 },
	{ U, "userName eq \"\\u12G4\"", 0 },
	{ U, "userName eq \"\\uD800\"", 0 },
	{ U, "userName eq \"\\uD800\\u0041\"", 0 },
	{ U, "userName eq \"\\uDC00\"", 0 },
	{ U, "userName eq \"\\u0000\"", 0 },
	{ U, "userName eq \"a\tb\"", 0 },
	{ U, "userName eq \"\\", 0 },
	{ U, "userName eq \"\xff\"", 0 },
	{ U, "userName eq \"\xc0\xaf\"", 0 },
	{ U, "userName eq \"\xed\xa0\x80\"", 0 },
	/* bad numbers */
	{ U, PAM ":maxJitDurationSeconds eq 01", 0 },
	{ U, PAM ":maxJitDurationSeconds eq -", 0 },
	{ U, PAM ":maxJitDurationSeconds eq 1e", 0 },
	{ U, PAM ":maxJitDurationSeconds eq 1.", 0 },
	{ U, PAM ":maxJitDurationSeconds eq +1", 0 },
	{ U, PAM ":maxJitDurationSeconds eq 12abc", 0 },
	{ U, PAM ":maxJitDurationSeconds eq 99999999999999999999", 0 },
	/* type mismatches */
	{ U, "active gt true", 0 },
	{ U, "active co \"t\"", 0 },
	{ U, "active eq \"true\"", 0 },
	{ U, "active eq 1", 0 },
	{ U, "userName eq 5", 0 },
	{ U, "userName eq true", 0 },
	{ U, "userName gt null", 0 },
	{ U, PAM ":maxJitDurationSeconds eq \"5\"", 0 },
	{ U, PAM ":maxJitDurationSeconds eq 1.5", 0 },
	{ U, PAM ":maxJitDurationSeconds co 5", 0 },
	{ U, PAM ":maxJitDurationSeconds eq true", 0 },
	{ U, "meta.lastModified gt \"yesterday\"", 0 },
	{ U, "meta.lastModified gt \"2011-02-30T00:00:00Z\"", 0 },
	/* PostgreSQL refuses year 0: it must not get past the parser */
	{ U, "meta.lastModified gt \"0000-01-01T00:00:00Z\"", 0 },
	{ U, "meta.lastModified gt \"2011-05-13 04:42:34Z\"", 0 },
	{ U, "meta.lastModified co \"2011\"", 0 },
	{ U, "meta.lastModified gt 2011", 0 },
	{ U, "name eq \"x\"", 0 },
	{ U, "name gt \"x\"", 0 },
	{ U, "meta eq \"x\"", 0 },
	{ U, PAM ":approver gt \"x\"", 1 },	/* approver has "value" */
	{ U, "x509Certificates gt \"x\"", 0 },	/* binary value */
	{ U, "password eq \"x\"", 0 },
	{ U, "password pr", 0 },
	/* value paths only on multi-valued complex attributes */
	{ U, "name[givenName eq \"x\"]", 0 },
	{ U, "userName[value eq \"x\"]", 0 },
	{ U, PAM ":adminRoles[value eq \"x\"]", 0 },
	{ U, "emails.value[type eq \"x\"]", 0 },
};

static void
test_syntax_table(void)
{
	struct scim_filter *f;
	struct api_error e;
	size_t i;
	int r;

	for (i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
		const char *s = syntax_cases[i].filter;

		api_error_clear(&e);
		r = scim_filter_parse(syntax_cases[i].rt, s, strlen(s), &f, &e);
		if (syntax_cases[i].ok) {
			if (r != 0 || f == NULL)
				TL_FAIL("\"%s\" rejected: %s", s, e.detail);
			scim_filter_free(f);
			continue;
		}
		if (r != ERR_INVALID || f != NULL)
			TL_FAIL("\"%s\" accepted (r=%d)", s, r);
		ASSERT_INT_EQ(e.status, 400);
		ASSERT_STR_EQ(e.scim_type, "invalidFilter");
		if (strstr(e.detail, "offset ") == NULL)
			TL_FAIL("\"%s\": detail without offset: %s", s,
			    e.detail);
	}
}

/* ---- error messages ---- */

static const struct {
	const char *filter;
	const char *needle;	/* in the detail */
} message_cases[] = {
	{ "userName eq \"x\" junk", "at offset 16" },
	{ "(userName eq \"x\"", "expected ')'" },
	{ "(userName eq \"x\"", "at offset 16" },
	{ "nosuch eq \"x\"", "unknown attribute \"nosuch\" at offset 0" },
	{ "title pr and nosuch pr", "at offset 13" },
	{ "userName eq \"\\q\"", "invalid escape in string at offset 13" },
	{ "userName eq \"abc", "unterminated string at offset 12" },
	{ "active gt true", "boolean" },
	{ "userName eq \"\xff\"", "invalid UTF-8 at offset 13" },
	{ "userName xx \"a\"", "expected an operator" },
	{ "userName eq \"x\" and", "end of input" },
	{ "not title pr", "\"not\" must be followed by '('" },
	{ "name eq \"x\"", "complex attribute \"name\"" },
};

static void
test_messages(void)
{
	struct scim_filter *f;
	struct api_error e;
	size_t i;

	for (i = 0; i < sizeof(message_cases) / sizeof(message_cases[0]);
	    i++) {
		const char *s = message_cases[i].filter;

		api_error_clear(&e);
		ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e),
		    ERR_INVALID);
		if (strstr(e.detail, message_cases[i].needle) == NULL)
			TL_FAIL("\"%s\": detail \"%s\" lacks \"%s\"", s,
			    e.detail, message_cases[i].needle);
	}
}

/* The detail never repeats more than 100 bytes of the input. */
static void
test_no_long_echo(void)
{
	static const char *const tails[] = {
		" eq \"x\"",		/* unknown attribute */
		"",
	};
	char in[1024], run[101];
	struct scim_filter *f;
	struct api_error e;
	size_t i, n;

	memset(run, 'a', 100);
	run[100] = '\0';
	for (i = 0; i < 2; i++) {
		memset(in, 'a', 500);
		n = 500;
		memcpy(in + n, tails[i], strlen(tails[i]));
		n += strlen(tails[i]);
		api_error_clear(&e);
		ASSERT_INT_EQ(scim_filter_parse(U, in, n, &f, &e), ERR_INVALID);
		ASSERT_NULL(strstr(e.detail, run));
	}
	/* junk after a valid expression */
	memcpy(in, "title pr ", 9);
	memset(in + 9, 'b', 500);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, in, 509, &f, &e), ERR_INVALID);
	memset(run, 'b', 100);
	ASSERT_NULL(strstr(e.detail, run));
	ASSERT_NOT_NULL(strstr(e.detail, "offset 9"));
	/* a long string value followed by junk */
	memcpy(in, "userName eq \"", 13);
	memset(in + 13, 'c', 500);
	memcpy(in + 513, "\" )", 3);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, in, 516, &f, &e), ERR_INVALID);
	memset(run, 'c', 100);
	ASSERT_NULL(strstr(e.detail, run));
	/* snippets are cut on a character boundary: the detail is UTF-8 */
	n = 0;
	memcpy(in, "title pr ", 9);
	for (n = 9; n < 9 + 60; n += 2)
		memcpy(in + n, "\xc3\xa9", 2);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, in, n, &f, &e), ERR_INVALID);
	ASSERT_TRUE(utf8_valid(e.detail, strlen(e.detail)));
}

/* ---- limits ---- */

static void
test_limits(void)
{
	struct scim_filter *f = NULL;
	struct api_error e;
	char *s;
	size_t i, n;

	/* length: exactly SCIM_FILTER_MAX bytes is fine, one more is not */
	s = malloc(SCIM_FILTER_MAX + 2);
	ASSERT_NOT_NULL(s);
	memcpy(s, "userName eq \"", 13);
	memset(s + 13, 'x', SCIM_FILTER_MAX - 14);
	s[SCIM_FILTER_MAX - 1] = '"';
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, SCIM_FILTER_MAX, &f, &e), 0);
	ASSERT_INT_EQ(strlen(f->text), SCIM_FILTER_MAX - 14);
	scim_filter_free(f);
	memset(s + 13, 'x', SCIM_FILTER_MAX - 13);
	s[SCIM_FILTER_MAX] = '"';
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, SCIM_FILTER_MAX + 1, &f, &e),
	    ERR_INVALID);
	ASSERT_NOT_NULL(strstr(e.detail, "longer than"));

	/* depth: SCIM_FILTER_DEPTH_MAX parentheses fine, one more not */
	n = 0;
	for (i = 0; i < SCIM_FILTER_DEPTH_MAX; i++)
		s[n++] = '(';
	memcpy(s + n, "title pr", 8);
	n += 8;
	for (i = 0; i < SCIM_FILTER_DEPTH_MAX; i++)
		s[n++] = ')';
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, n, &f, &e), 0);
	scim_filter_free(f);
	n = 0;
	for (i = 0; i <= SCIM_FILTER_DEPTH_MAX; i++)
		s[n++] = '(';
	memcpy(s + n, "title pr", 8);
	n += 8;
	for (i = 0; i <= SCIM_FILTER_DEPTH_MAX; i++)
		s[n++] = ')';
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, n, &f, &e), ERR_INVALID);
	ASSERT_NOT_NULL(strstr(e.detail, "nested deeper"));

	/* "not (" nests as well */
	n = 0;
	for (i = 0; i <= SCIM_FILTER_DEPTH_MAX; i++) {
		memcpy(s + n, "not (", 5);
		n += 5;
	}
	memcpy(s + n, "title pr", 8);
	n += 8;
	for (i = 0; i <= SCIM_FILTER_DEPTH_MAX; i++)
		s[n++] = ')';
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, n, &f, &e), ERR_INVALID);

	/* very deep input is rejected without exhausting the stack */
	memset(s, '(', SCIM_FILTER_MAX);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, SCIM_FILTER_MAX, &f, &e),
	    ERR_INVALID);

	/* nodes: 128 comparisons + 127 "or" = 255 nodes fine; 129 not */
	n = 0;
	for (i = 0; i < 128; i++) {
		memcpy(s + n, i ? " or title pr" : "title pr", i ? 12 : 8);
		n += i ? 12 : 8;
	}
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, n, &f, &e), 0);
	scim_filter_free(f);
	memcpy(s + n, " or title pr", 12);
	n += 12;
	memcpy(s + n, " or title pr", 12);
	n += 12;
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, s, n, &f, &e), ERR_INVALID);
	ASSERT_NOT_NULL(strstr(e.detail, "terms"));
	free(s);

	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, NULL, 0, &f, &e), ERR_INVALID);
	ASSERT_NULL(f);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_filter_parse(U, "title pr\0or x", 13, &f, &e),
	    ERR_INVALID);
}

/* ---- AST shape ---- */

static void
test_ast(void)
{
	struct scim_filter *f;
	struct api_error e;
	const char *s;

	api_error_clear(&e);
	/* and binds tighter than or */
	s = "title pr or nickName pr and userType eq \"x\"";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_INT_EQ(f->op, SCIM_FOP_OR);
	ASSERT_INT_EQ(f->left->op, SCIM_FOP_PR);
	ASSERT_STR_EQ(f->left->path.attr->name, "title");
	ASSERT_INT_EQ(f->right->op, SCIM_FOP_AND);
	ASSERT_INT_EQ(f->right->right->op, SCIM_FOP_EQ);
	ASSERT_INT_EQ(f->right->right->vtype, SCIM_FVAL_STRING);
	ASSERT_STR_EQ(f->right->right->text, "x");
	scim_filter_free(f);

	/* not binds tighter than and */
	s = "not (title pr) and nickName pr";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_INT_EQ(f->op, SCIM_FOP_AND);
	ASSERT_INT_EQ(f->left->op, SCIM_FOP_NOT);
	ASSERT_INT_EQ(f->left->left->op, SCIM_FOP_PR);
	scim_filter_free(f);

	/* complex attribute without sub-attribute -> "value" */
	s = "emails co \"x\"";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_STR_EQ(f->path.attr->name, "emails");
	ASSERT_NOT_NULL(f->path.sub);
	ASSERT_STR_EQ(f->path.sub->name, "value");
	scim_filter_free(f);
	s = "emails pr";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_NULL(f->path.sub);
	ASSERT_INT_EQ(f->vtype, SCIM_FVAL_NONE);
	ASSERT_NULL(f->text);
	scim_filter_free(f);

	/* value path */
	s = "emails[type eq \"work\" and value co \"@example.com\"]";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_INT_EQ(f->op, SCIM_FOP_VALUEPATH);
	ASSERT_STR_EQ(f->path.attr->name, "emails");
	ASSERT_NULL(f->path.sub);
	ASSERT_INT_EQ(f->left->op, SCIM_FOP_AND);
	ASSERT_STR_EQ(f->left->left->path.attr->name, "emails");
	ASSERT_STR_EQ(f->left->left->path.sub->name, "type");
	ASSERT_STR_EQ(f->left->right->path.sub->name, "value");
	ASSERT_INT_EQ(f->left->right->op, SCIM_FOP_CO);
	ASSERT_STR_EQ(f->left->right->text, "@example.com");
	scim_filter_free(f);

	/* schema of extension and common attributes */
	s = ENT ":manager.value eq \"m\" and id eq \"i\"";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_STR_EQ(f->left->path.schema->id, ENT);
	ASSERT_TRUE(f->left->path.schema->is_extension);
	ASSERT_STR_EQ(f->left->path.sub->name, "value");
	ASSERT_TRUE(f->right->path.schema == scim_schema_common());
	scim_filter_free(f);

	/* literals */
	s = "userName eq \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t"
	    "\\u00e9\\uD83D\\uDE00\"";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_STR_EQ(f->text, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
	scim_filter_free(f);
	s = PAM ":maxJitDurationSeconds ge -42";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_INT_EQ(f->vtype, SCIM_FVAL_NUMBER);
	ASSERT_STR_EQ(f->text, "-42");
	ASSERT_INT_EQ(f->op, SCIM_FOP_GE);
	scim_filter_free(f);
	s = "active eq TRUE or nickName eq null";
	ASSERT_INT_EQ(scim_filter_parse(U, s, strlen(s), &f, &e), 0);
	ASSERT_INT_EQ(f->left->vtype, SCIM_FVAL_TRUE);
	ASSERT_INT_EQ(f->right->vtype, SCIM_FVAL_NULL);
	scim_filter_free(f);
	scim_filter_free(NULL);
}

/* ---- evaluation ---- */

static const char user_doc[] =
    "{\"userName\":\"BJensen\","
    "\"id\":\"2819c223-7f76-453a-919d-413861904646\","
    "\"externalId\":\"Ext-1\","
    "\"name\":{\"familyName\":\"O'Malley\",\"givenName\":\"Barbara\"},"
    "\"displayName\":\"\xc3\x89mile \xc3\x84rger \xc5\xb8 \xce\x94 \xd0\x96\","
    "\"title\":\"Tour Guide \xf0\x9f\x98\x80\","
    "\"userType\":\"Employee\",\"active\":true,\"nickName\":\"\","
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
    "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"ims\":[{\"value\":\"babs@foo.com\",\"type\":\"xmpp\"}],"
    "\"phoneNumbers\":[],"
    "\"meta\":{\"created\":\"2010-01-23T04:56:22Z\","
    "\"lastModified\":\"2011-05-13T04:42:34Z\",\"version\":\"W/\\\"3\\\"\"},"
    "\"" ENT "\":{\"employeeNumber\":\"701984\",\"manager\":{\"value\":"
    "\"26118915-6090-4610-87e4-49d8ca9f808d\",\"displayName\":"
    "\"John Smith\"}},"
    "\"" PAM "\":{\"privileged\":true,\"adminRoles\":[\"db-admin\","
    "\"Linux-Root\"],\"riskLevel\":\"high\",\"maxJitDurationSeconds\":3600,"
    "\"accessReviewDate\":\"2024-03-01T10:00:00+02:00\","
    "\"breakGlass\":false}}";

static const char group_doc[] =
    "{\"displayName\":\"Admins\",\"id\":\"g1\","
    "\"members\":[{\"value\":\"2819c223-7f76-453a-919d-413861904646\","
    "\"type\":\"User\",\"display\":\"Babs\"},"
    "{\"value\":\"g2\",\"type\":\"Group\"}]}";

static const struct {
	enum scim_rtype rt;
	const char *filter;
	int match;
} match_cases[] = {
	/* eq / ne, caseExact false */
	{ U, "userName eq \"bjensen\"", 1 },
	{ U, "userName eq \"BJENSEN\"", 1 },
	{ U, "userName eq \"bjensen2\"", 0 },
	{ U, "userName ne \"bjensen\"", 0 },
	{ U, "userName ne \"x\"", 1 },
	/* co / sw / ew */
	{ U, "userName co \"JEN\"", 1 },
	{ U, "userName co \"\"", 1 },
	{ U, "userName co \"xyz\"", 0 },
	{ U, "userName sw \"bj\"", 1 },
	{ U, "userName sw \"jen\"", 0 },
	{ U, "userName ew \"SEN\"", 1 },
	{ U, "userName ew \"bj\"", 0 },
	{ U, "userName sw \"bjensen-longer\"", 0 },
	/* ordering on strings */
	{ U, "userName gt \"a\"", 1 },
	{ U, "userName gt \"c\"", 0 },
	{ U, "userName ge \"bjensen\"", 1 },
	{ U, "userName gt \"bjensen\"", 0 },
	{ U, "userName lt \"BK\"", 1 },
	{ U, "userName lt \"bjensen\"", 0 },
	{ U, "userName le \"bjensen\"", 1 },
	{ U, "userName lt \"bjensenz\"", 1 },
	/* caseExact true */
	{ U, "externalId eq \"ext-1\"", 0 },
	{ U, "externalId eq \"Ext-1\"", 1 },
	{ U, "externalId sw \"ext\"", 0 },
	{ U, "externalId co \"xt-\"", 1 },
	{ U, "externalId gt \"a\"", 0 },	/* 'E' < 'a' bytewise */
	{ U, "id eq \"2819C223-7F76-453A-919D-413861904646\"", 0 },
	{ U, "id eq \"2819c223-7f76-453a-919d-413861904646\"", 1 },
	/* UTF-8 case folding and escapes */
	{ U, "displayName eq \"\xc3\xa9mile \xc3\xa4rger \xc3\xbf \xce\xb4 "
	  "\xd0\xb6\"", 1 },
	{ U, "displayName sw \"\\u00c9MILE\"", 1 },
	{ U, "displayName co \"\\u00e4RGER\"", 1 },
	{ U, "title co \"\\uD83D\\uDE00\"", 1 },
	{ U, "title ew \"guide \\uD83D\\uDE00\"", 1 },
	/* sub-attributes of single complex */
	{ U, "name.familyName co \"o'malley\"", 1 },
	{ U, "name.givenName eq \"barbara\"", 1 },
	{ U, "name.middleName pr", 0 },
	/* pr */
	{ U, "title pr", 1 },
	{ U, "nickName pr", 0 },		/* "" */
	{ U, "locale pr", 0 },			/* absent */
	{ U, "phoneNumbers pr", 0 },		/* [] */
	{ U, "name pr", 1 },
	{ U, "emails pr", 1 },
	{ U, "emails.display pr", 0 },
	{ U, "x509Certificates pr", 0 },
	/* boolean */
	{ U, "active eq true", 1 },
	{ U, "active eq false", 0 },
	{ U, "active ne false", 1 },
	{ U, "emails.primary eq true", 1 },
	/* null */
	{ U, "userName eq null", 0 },
	{ U, "locale eq null", 1 },
	{ U, "nickName eq null", 1 },
	{ U, "title ne null", 1 },
	{ U, "locale ne null", 0 },
	/* ne is "not eq" (as the SQL does): absent attributes match */
	{ U, "locale ne \"x\"", 1 },
	{ U, "not (locale eq \"x\")", 1 },
	{ U, ENT ":costCenter ne \"x\"", 1 },
	/* multi-valued: any element */
	{ U, "emails co \"example.com\"", 1 },
	{ U, "emails.value co \"example.org\"", 0 },
	{ U, "emails.value ew \"@JENSEN.ORG\"", 1 },
	{ U, "emails.type eq \"home\"", 1 },
	{ U, "emails.type eq \"other\"", 0 },
	{ U, "emails.type ne \"work\"", 0 },	/* one of them is */
	{ U, "emails.type ne \"other\"", 1 },
	{ U, "emails[type ne \"work\"]", 1 },	/* per element */
	{ U, PAM ":adminRoles ne \"DB-ADMIN\"", 0 },
	{ U, PAM ":adminRoles ne \"x\"", 1 },
	/* value paths correlate sub-attributes within one element */
	{ U, "emails[type eq \"work\" and value co \"@example.com\"]", 1 },
	{ U, "emails[type eq \"home\" and value co \"@example.com\"]", 0 },
	{ U, "emails.type eq \"home\" and "
	  "emails.value co \"@example.com\"", 1 },
	{ U, "emails[primary eq true and type eq \"work\"]", 1 },
	{ U, "emails[primary eq true and type eq \"home\"]", 0 },
	{ U, "emails[not (type eq \"work\")]", 1 },
	{ U, "emails[type eq \"work\" or type eq \"x\"]", 1 },
	{ U, "emails[display pr]", 0 },
	{ U, "ims[type eq \"xmpp\" and value co \"@foo.com\"]", 1 },
	{ U, "emails[type eq \"x\"] or ims[type eq \"xmpp\"]", 1 },
	{ U, "phoneNumbers[type eq \"work\"]", 0 },
	{ U, "addresses[type eq \"work\"]", 0 },
	/* RFC examples */
	{ U, "userType eq \"Employee\" and (emails co \"example.com\" or "
	  "emails.value co \"example.org\")", 1 },
	{ U, "userType ne \"Employee\" and not (emails co \"example.com\" or "
	  "emails.value co \"example.org\")", 0 },
	{ U, "userType eq \"Employee\" and emails[type eq \"work\" and "
	  "value co \"@example.com\"]", 1 },
	{ U, SCIM_SCHEMA_USER ":userName sw \"B\"", 1 },
	/* precedence: not > and > or */
	{ U, "title pr or locale pr and userType eq \"Intern\"", 1 },
	{ U, "(title pr or locale pr) and userType eq \"Intern\"", 0 },
	{ U, "locale pr and title pr or userType eq \"Employee\"", 1 },
	{ U, "locale pr and (title pr or userType eq \"Employee\")", 0 },
	{ U, "not (title pr) or userType eq \"Employee\"", 1 },
	{ U, "not (title pr) and userType eq \"Employee\"", 0 },
	{ U, "not (title pr or locale pr)", 0 },
	{ U, "not (locale pr)", 1 },
	{ U, "title pr and not (userType eq \"intern\")", 1 },
	{ U, "not (not (title pr))", 1 },
	/* dateTime: chronological, offsets, fractions */
	{ U, "meta.lastModified gt \"2011-05-13T04:42:33Z\"", 1 },
	{ U, "meta.lastModified gt \"2011-05-13T04:42:34Z\"", 0 },
	{ U, "meta.lastModified ge \"2011-05-13T04:42:34Z\"", 1 },
	{ U, "meta.lastModified eq \"2011-05-13T06:42:34+02:00\"", 1 },
	{ U, "meta.lastModified eq \"2011-05-12T23:42:34-05:00\"", 1 },
	{ U, "meta.lastModified lt \"2011-05-13T04:42:34.001Z\"", 1 },
	{ U, "meta.lastModified gt \"2011-05-13T04:42:33.999999Z\"", 1 },
	{ U, "meta.lastModified le \"2011-05-13T05:42:34+01:00\"", 1 },
	{ U, "meta.lastModified lt \"2011-05-13T05:42:34+01:00\"", 0 },
	{ U, "meta.lastModified lt \"2011-05-13T05:00:00+00:00\"", 1 },
	{ U, "meta.lastModified lt \"2010-12-31T23:59:59Z\"", 0 },
	{ U, "meta.lastModified gt \"2000-02-29T00:00:00Z\"", 1 },
	{ U, "meta.created eq \"2010-01-23T04:56:22.000Z\"", 1 },
	{ U, "meta.version eq \"W/\\\"3\\\"\"", 1 },
	/* enterprise extension */
	{ U, ENT ":employeeNumber eq \"701984\"", 1 },
	{ U, ENT ":employeeNumber eq \"1\"", 0 },
	{ U, ENT ":manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
	  1 },
	{ U, ENT ":manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", 1 },
	{ U, ENT ":manager.displayName sw \"john\"", 1 },
	{ U, ENT ":costCenter pr", 0 },
	/* PAM extension */
	{ U, PAM ":privileged eq true", 1 },
	{ U, PAM ":adminRoles eq \"linux-root\"", 1 },
	{ U, PAM ":adminRoles eq \"x\"", 0 },
	{ U, PAM ":adminRoles sw \"db\"", 1 },
	{ U, PAM ":adminRoles pr", 1 },
	{ U, PAM ":riskLevel eq \"HIGH\"", 1 },
	{ U, PAM ":maxJitDurationSeconds gt 3599", 1 },
	{ U, PAM ":maxJitDurationSeconds ge 3600", 1 },
	{ U, PAM ":maxJitDurationSeconds gt 3600", 0 },
	{ U, PAM ":maxJitDurationSeconds lt 3601", 1 },
	{ U, PAM ":maxJitDurationSeconds eq 3600", 1 },
	{ U, PAM ":maxJitDurationSeconds ne 3600", 0 },
	{ U, PAM ":maxJitDurationSeconds gt -9223372036854775808", 1 },
	{ U, PAM ":accessReviewDate gt \"2024-03-01T07:59:59Z\"", 1 },
	{ U, PAM ":accessReviewDate gt \"2024-03-01T08:00:00Z\"", 0 },
	{ U, PAM ":accessReviewDate eq \"2024-03-01T08:00:00Z\"", 1 },
	{ U, PAM ":breakGlass eq false", 1 },
	{ U, PAM ":jitEligible eq false", 0 },
	{ U, PAM ":jitEligible pr", 0 },
	{ U, PAM ":approver pr", 0 },
	/* Group */
	{ G, "displayName eq \"admins\"", 1 },
	{ G, "displayName eq \"admin\"", 0 },
	{ G, "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", 1 },
	/* members.value is caseExact false (RFC 7643 §8.7.1), like uuids */
	{ G, "members[value eq \"2819C223-7F76-453A-919D-413861904646\"]", 1 },
	{ G, "members.value eq \"nope\"", 0 },
	{ G, "members.value ne \"nope\"", 1 },
	{ G, "members.value ne \"g2\"", 0 },
	{ G, "members[type eq \"Group\" and value eq \"g2\"]", 1 },
	{ G, "members[type eq \"Group\" and value eq "
	  "\"2819c223-7f76-453a-919d-413861904646\"]", 0 },
	{ G, "members[type eq \"group\"]", 1 },
	{ G, "members pr", 1 },
	{ G, "members.display pr", 1 },
	{ G, "id eq \"g1\"", 1 },
};

static void
test_match_table(void)
{
	struct scim_filter *f;
	struct api_error e;
	json_t *udoc, *gdoc;
	json_error_t je;
	size_t i;
	int m;

	udoc = json_loads(user_doc, 0, &je);
	if (udoc == NULL)
		TL_FAIL("user doc: %s", je.text);
	gdoc = json_loads(group_doc, 0, &je);
	ASSERT_NOT_NULL(gdoc);
	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const char *s = match_cases[i].filter;

		api_error_clear(&e);
		if (scim_filter_parse(match_cases[i].rt, s, strlen(s), &f,
		    &e) != 0)
			TL_FAIL("\"%s\" rejected: %s", s, e.detail);
		m = scim_filter_match(f, match_cases[i].rt == U ? udoc : gdoc);
		scim_filter_free(f);
		if (m != match_cases[i].match)
			TL_FAIL("\"%s\" matched %d, want %d", s, m,
			    match_cases[i].match);
	}
	json_decref(udoc);
	json_decref(gdoc);
}

/* Odd documents: wrong JSON types never match and never crash. */
static void
test_match_odd_docs(void)
{
	static const char *const docs[] = {
		"{}",
		"{\"userName\":5,\"emails\":\"x\",\"name\":[1,2],"
		"\"active\":\"true\",\"meta\":{\"lastModified\":\"bad\"}}",
		"{\"emails\":[1,null,\"a\",{\"value\":7}],\"ims\":{\"value\":"
		"\"a\",\"type\":\"xmpp\"}}",
		"{\"" PAM "\":\"notanobject\"}",
		"{\"" PAM "\":{\"maxJitDurationSeconds\":3600.5}}",
		"{\"USERNAME\":\"bjensen\"}",
	};
	static const char *const filters[] = {
		"userName eq \"bjensen\"", "emails co \"a\"",
		"emails[type eq \"work\"]", "name.givenName pr",
		"active eq true",
		"meta.lastModified gt \"2000-01-01T00:00:00Z\"",
		PAM ":maxJitDurationSeconds gt 3600",
		"ims[type eq \"xmpp\"]", "emails pr",
	};
	static const int want[][9] = {
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0, 0, 0, 0, 0, 0, 0, 1, 1 },
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0, 0, 0, 0, 0, 0, 1, 0, 0 },
		{ 1, 0, 0, 0, 0, 0, 0, 0, 0 },
	};
	struct scim_filter *f;
	struct api_error e;
	json_t *doc;
	size_t i, k;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		doc = json_loads(docs[i], 0, NULL);
		ASSERT_NOT_NULL(doc);
		for (k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
			api_error_clear(&e);
			ASSERT_INT_EQ(scim_filter_parse(U, filters[k],
			    strlen(filters[k]), &f, &e), 0);
			if (scim_filter_match(f, doc) != want[i][k])
				TL_FAIL("doc %zu filter \"%s\": want %d", i,
				    filters[k], want[i][k]);
			scim_filter_free(f);
		}
		json_decref(doc);
	}
	ASSERT_INT_EQ(scim_filter_match(NULL, NULL), 0);
}

/* ---- PATCH paths ---- */

static const struct {
	enum scim_rtype rt;
	const char *path;
	int ok;
	const char *attr;
	const char *sub;
	int has_filter;
} path_cases[] = {
	{ U, "members", 0, NULL, NULL, 0 },
	{ G, "members", 1, "members", NULL, 0 },
	{ U, "userName", 1, "userName", NULL, 0 },
	{ U, "name.givenName", 1, "name", "givenName", 0 },
	{ U, "emails", 1, "emails", NULL, 0 },
	{ U, "emails[type eq \"work\"].value", 1, "emails", "value", 1 },
	{ U, "EMAILS[TYPE EQ \"work\"].VALUE", 1, "emails", "value", 1 },
	{ U, "emails[type eq \"work\"]", 1, "emails", NULL, 1 },
	{ U, "emails[type eq \"work\" and primary eq true].display", 1,
	  "emails", "display", 1 },
	{ U, "addresses[type eq \"work\"].streetAddress", 1, "addresses",
	  "streetAddress", 1 },
	{ G, "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", 1,
	  "members", NULL, 1 },
	{ G, "members[value eq \"x\"].display", 1, "members", "display", 1 },
	{ U, ENT ":employeeNumber", 1, "employeeNumber", NULL, 0 },
	{ U, ENT ":manager.value", 1, "manager", "value", 0 },
	{ U, ENT ":manager", 1, "manager", NULL, 0 },
	{ U, PAM ":adminRoles", 1, "adminRoles", NULL, 0 },
	{ U, "urn:ietf:params:scim:schemas:core:2.0:User:displayName", 1,
	  "displayName", NULL, 0 },
	{ U, "password", 1, "password", NULL, 0 },
	{ U, "externalId", 1, "externalId", NULL, 0 },
	/* invalid */
	{ U, "", 0, NULL, NULL, 0 },
	{ U, "nosuch", 0, NULL, NULL, 0 },
	{ U, "name.nosuch", 0, NULL, NULL, 0 },
	{ U, "emails[type eq \"work\"", 0, NULL, NULL, 0 },
	{ U, "emails[type eq \"work\"].nosuch", 0, NULL, NULL, 0 },
	{ U, "emails[type eq \"work\"]x", 0, NULL, NULL, 0 },
	{ U, "emails[type eq \"work\"].", 0, NULL, NULL, 0 },
	{ U, "emails[type eq \"work\"].value.x", 0, NULL, NULL, 0 },
	{ U, "emails[type eq \"work\"].value ", 0, NULL, NULL, 0 },
	{ U, "emails[type eq \"work\"][type eq \"x\"]", 0, NULL, NULL, 0 },
	{ U, "emails [type eq \"work\"]", 0, NULL, NULL, 0 },
	{ U, "emails[nosuch eq 1]", 0, NULL, NULL, 0 },
	{ U, "emails[type eq 1]", 0, NULL, NULL, 0 },
	{ U, "emails[]", 0, NULL, NULL, 0 },
	{ U, "name[givenName eq \"x\"]", 0, NULL, NULL, 0 },
	{ U, "userName[value eq \"x\"]", 0, NULL, NULL, 0 },
	{ U, "emails.value[type eq \"x\"]", 0, NULL, NULL, 0 },
	{ U, ENT, 0, NULL, NULL, 0 },
	{ U, "userName eq \"x\"", 0, NULL, NULL, 0 },
	{ U, "userName\xff", 0, NULL, NULL, 0 },
	{ G, ENT ":employeeNumber", 0, NULL, NULL, 0 },
};

static void
test_path_table(void)
{
	struct scim_path p;
	struct api_error e;
	size_t i;
	int r;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const char *s = path_cases[i].path;

		api_error_clear(&e);
		r = scim_path_parse(path_cases[i].rt, s, strlen(s), &p, &e);
		if (!path_cases[i].ok) {
			if (r != ERR_INVALID)
				TL_FAIL("path \"%s\" accepted", s);
			ASSERT_INT_EQ(e.status, 400);
			ASSERT_STR_EQ(e.scim_type, "invalidPath");
			ASSERT_NULL(p.filter);
			ASSERT_NULL(p.attr.attr);
			continue;
		}
		if (r != 0)
			TL_FAIL("path \"%s\" rejected: %s", s, e.detail);
		ASSERT_STR_EQ(p.attr.attr->name, path_cases[i].attr);
		if (path_cases[i].sub == NULL)
			ASSERT_NULL(p.attr.sub);
		else
			ASSERT_STR_EQ(p.attr.sub->name, path_cases[i].sub);
		ASSERT_INT_EQ(p.filter != NULL, path_cases[i].has_filter);
		scim_path_clear(&p);
		ASSERT_NULL(p.filter);
	}
	scim_path_clear(NULL);
}

/* A PATCH value filter picks elements with scim_filter_match_elem. */
static void
test_match_elem(void)
{
	struct scim_path p;
	struct api_error e;
	json_t *doc, *emails, *el;
	const char *s;
	size_t i;
	int hits = 0, which = -1;

	doc = json_loads(user_doc, 0, NULL);
	ASSERT_NOT_NULL(doc);
	emails = json_object_get(doc, "emails");
	s = "emails[type eq \"WORK\"].value";
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_path_parse(U, s, strlen(s), &p, &e), 0);
	ASSERT_STR_EQ(p.filter->path.attr->name, "emails");
	ASSERT_STR_EQ(p.filter->path.sub->name, "type");
	json_array_foreach(emails, i, el) {
		if (scim_filter_match_elem(p.filter, el)) {
			hits++;
			which = (int)i;
		}
	}
	ASSERT_INT_EQ(hits, 1);
	ASSERT_INT_EQ(which, 0);
	ASSERT_INT_EQ(scim_filter_match_elem(p.filter, NULL), 0);
	ASSERT_INT_EQ(scim_filter_match_elem(p.filter, json_array_get(
	    emails, 0)), 1);
	scim_path_clear(&p);

	s = "emails[not (primary eq true) and value ew \".org\"]";
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_path_parse(U, s, strlen(s), &p, &e), 0);
	ASSERT_INT_EQ(scim_filter_match_elem(p.filter,
	    json_array_get(emails, 0)), 0);
	ASSERT_INT_EQ(scim_filter_match_elem(p.filter,
	    json_array_get(emails, 1)), 1);
	scim_path_clear(&p);
	json_decref(doc);
}

/* Mutated filters: never crash, leak or accept with an error set. */
static void
test_mutations(void)
{
	static const char *const seeds[] = {
		"userType eq \"Employee\" and emails[type eq \"work\" and "
		"value co \"@example.com\"]",
		"not (title pr) or meta.lastModified gt "
		"\"2011-05-13T04:42:34+02:00\"",
		PAM ":maxJitDurationSeconds ge -12 and userName eq "
		"\"\\u00e9\\uD83D\\uDE00\\n\"",
	};
	static const char alphabet[] = "()[]\" \\.:uU0aZ-e\x80\xc3\xa9";
	struct scim_filter *f;
	struct scim_path p;
	struct api_error e;
	json_t *doc;
	char buf[256];
	uint32_t rnd = 12345;
	size_t i, k, n, at;
	int r;

	doc = json_loads(user_doc, 0, NULL);
	ASSERT_NOT_NULL(doc);
	for (i = 0; i < 30000; i++) {
		const char *seed = seeds[i % 3];

		n = strlen(seed);
		memcpy(buf, seed, n);
		for (k = 0; k < 1 + i % 4 && n > 1; k++) {
			rnd = rnd * 1103515245u + 12345u;
			at = (rnd >> 8) % n;
			rnd = rnd * 1103515245u + 12345u;
			switch ((rnd >> 16) % 3) {
			case 0:
				buf[at] = alphabet[(rnd >> 20) %
				    (sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default:
				n = at + 1;
				break;
			}
		}
		api_error_clear(&e);
		r = scim_filter_parse(U, buf, n, &f, &e);
		if (r == 0) {
			ASSERT_INT_EQ(e.status, 0);
			(void)scim_filter_match(f, doc);
			scim_filter_free(f);
		} else {
			ASSERT_INT_EQ(r, ERR_INVALID);
			ASSERT_NULL(f);
			ASSERT_INT_EQ(e.status, 400);
			ASSERT_TRUE(utf8_valid(e.detail, strlen(e.detail)));
		}
		api_error_clear(&e);
		r = scim_path_parse(U, buf, n, &p, &e);
		if (r == 0)
			scim_path_clear(&p);
		else
			ASSERT_STR_EQ(e.scim_type, "invalidPath");
	}
	json_decref(doc);
}

static const struct testlib_case cases[] = {
	{ "syntax_table", test_syntax_table },
	{ "messages", test_messages },
	{ "no_long_echo", test_no_long_echo },
	{ "limits", test_limits },
	{ "ast", test_ast },
	{ "match_table", test_match_table },
	{ "match_odd_docs", test_match_odd_docs },
	{ "path_table", test_path_table },
	{ "match_elem", test_match_elem },
	{ "mutations", test_mutations },
};

/* testlib.h's main keeps counters across setjmp (see report) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
TEST_MAIN(cases)
