/*
 * SCIM PATCH engine: table-driven. Each row is (resource type, stored
 * document, Operations, flags) and either the document after the PATCH
 * (plus the member delta in delta mode) or the error expected.
 *
 * JSON in the tables is written with ' for " and ` for \" so it stays
 * readable in C strings: 'path':'emails[type eq `work`].value'.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "scim/patch.h"
#include "scim/schema.h"
#include "util/bounds.h"
#include "util/errors.h"

#define U	SCIM_RT_USER
#define G	SCIM_RT_GROUP
#define DELTA	SCIM_PATCH_F_MEMBER_DELTA
#define ENT	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PAM	"urn:ietf:params:scim:schemas:extension:pam:2.0:User"

#define A1	"11111111-1111-4111-8111-111111111111"
#define A2	"22222222-2222-4222-8222-222222222222"
#define A3	"33333333-3333-4333-8333-333333333333"
#define A4	"44444444-4444-4444-8444-444444444444"
#define A1UP	"11111111-1111-4111-8111-11111111111F"
#define A1UPLOW	"11111111-1111-4111-8111-11111111111f"
#define A1UPOK	"AAAAAAAA-1111-4111-8111-111111111111"
#define A1LOW	"aaaaaaaa-1111-4111-8111-111111111111"
#define GID	"99999999-9999-4999-8999-999999999999"

#define M(id)	"{'value':'" id "'}"
#define MU(id)	"{'value':'" id "','type':'User'}"
#define GROUP3	"{'displayName':'eng','members':[" MU(A1) "," MU(A2) "," \
		"{'value':'" A4 "','type':'Group'}]}"
#define BJ	"{'userName':'bjensen','name':{'givenName':'Barbara'," \
		"'familyName':'Jensen'},'emails':[{'value':'bjensen@example.com'," \
		"'type':'work','primary':true}]}"

struct row {
	const char *name;
	enum scim_rtype rt;
	const char *doc;	/* stored document before */
	const char *ops;	/* the "Operations" array */
	int flags;
	const char *want;	/* document after; NULL: an error */
	int err;		/* expected error when want is NULL */
	int status;
	const char *scim_type;
	const char *delta;	/* {'replace_all':..,'add':..,'remove':..} */
};

/* the tail of a row that expects success without a delta */
#define END	0, 0, "", NULL

/* ' -> ", ` -> \" */
static json_t *
J(const char *s)
{
	json_error_t jerr;
	json_t *j;
	char *t;
	size_t i, o = 0;

	if ((t = malloc(2 * strlen(s) + 1)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\'')
			t[o++] = '"';
		else if (s[i] == '`') {
			t[o++] = '\\';
			t[o++] = '"';
		} else
			t[o++] = s[i];
	}
	t[o] = '\0';
	j = json_loads(t, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		fprintf(stderr, "  bad test JSON (%s): %s\n", jerr.text, t);
	free(t);
	return j;
}

static json_t *
body_of(const char *ops)
{
	json_t *b, *o;

	if ((o = J(ops)) == NULL)
		return NULL;
	b = json_pack("{s:[s],s:o}", "schemas", SCIM_SCHEMA_PATCHOP,
	    "Operations", o);
	return b;
}

static void
show(const char *what, const json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;

	fprintf(stderr, "    %s: %s\n", what, s != NULL ? s : "(null)");
	free(s);
}

static json_t *
delta_json(const struct scim_member_delta *d)
{
	return json_pack("{s:b,s:O,s:O}", "replace_all", d->replace_all,
	    "add", d->add, "remove", d->remove);
}

/* 0 if the row behaves as described, 1 (with a message) if not. */
static int
run_row(const struct row *t)
{
	struct scim_member_delta d;
	struct scim_patch *p = NULL;
	struct api_error e;
	json_t *body = NULL, *doc = NULL, *want = NULL, *dj = NULL;
	int r, bad = 1;

	api_error_clear(&e);
	scim_member_delta_init(&d);
	if ((body = body_of(t->ops)) == NULL || (doc = J(t->doc)) == NULL)
		goto out;
	if (t->want != NULL && (want = J(t->want)) == NULL)
		goto out;
	r = scim_patch_parse(t->rt, body, &p, &e);
	if (r == 0)
		r = scim_patch_apply(p, doc, t->flags, &d, &e);
	if (t->want == NULL) {
		if (r != t->err || (r == ERR_INVALID && (e.status != t->status ||
		    strcmp(e.scim_type, t->scim_type) != 0))) {
			fprintf(stderr, "  row %s: want %s %d %s, got %s %d "
			    "%s (%s)\n", t->name, err_str(t->err), t->status,
			    t->scim_type, err_str(r), e.status, e.scim_type,
			    e.detail);
			goto out;
		}
		bad = 0;
		goto out;
	}
	if (r != 0) {
		fprintf(stderr, "  row %s: failed: %s %d %s (%s)\n", t->name,
		    err_str(r), e.status, e.scim_type, e.detail);
		goto out;
	}
	if (!json_equal(doc, want)) {
		fprintf(stderr, "  row %s: document differs\n", t->name);
		show("got ", doc);
		show("want", want);
		goto out;
	}
	if (t->delta != NULL) {
		json_decref(want);
		if ((want = J(t->delta)) == NULL || (dj = delta_json(&d)) == NULL)
			goto out;
		if (!json_equal(dj, want)) {
			fprintf(stderr, "  row %s: delta differs\n", t->name);
			show("got ", dj);
			show("want", want);
			goto out;
		}
	}
	bad = 0;
out:
	scim_patch_free(p);
	scim_member_delta_clear(&d);
	json_decref(body);
	json_decref(doc);
	json_decref(want);
	json_decref(dj);
	return bad;
}

static void
run_table(const struct row *rows, size_t n)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		bad += (size_t)run_row(&rows[i]);
	ASSERT_INT_EQ(bad, 0);
}

#define RUN(rows) run_table(rows, sizeof(rows) / sizeof(rows[0]))

/* ---- RFC 7644 §3.5.2 examples ---- */

static const struct row rfc_rows[] = {
	{ "add member", G, "{'displayName':'g','members':[" MU(A2) "]}",
	  "[{'op':'add','path':'members','value':[{'display':'Babs Jensen',"
	  "'$ref':'https://example.com/v2/Users/" A1 "','value':'" A1 "'}]}]",
	  0, "{'displayName':'g','members':[" MU(A2) "," M(A1) "]}", END },
	{ "add existing member is a no-op", G,
	  "{'displayName':'g','members':[" MU(A2) "]}",
	  "[{'op':'add','path':'members','value':[" M(A2) "]}]",
	  0, "{'displayName':'g','members':[" MU(A2) "]}", END },
	{ "add emails and nickname without path", U, BJ,
	  "[{'op':'add','value':{'emails':[{'value':'babs@jensen.org',"
	  "'type':'home'}],'nickname':'Babs'}}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Barbara',"
	  "'familyName':'Jensen'},'emails':[{'value':'bjensen@example.com',"
	  "'type':'work','primary':true},{'value':'babs@jensen.org',"
	  "'type':'home'}],'nickName':'Babs'}", END },
	{ "add duplicate email skipped", U, BJ,
	  "[{'op':'add','path':'emails','value':[{'value':"
	  "'bjensen@example.com','type':'work','primary':true}]}]",
	  0, BJ, END },
	{ "replace members", G,
	  "{'displayName':'g','members':[" MU(A3) "]}",
	  "[{'op':'replace','path':'members','value':[{'display':'Babs',"
	  "'value':'" A1 "'},{'display':'James','value':'" A2 "'}]}]",
	  0, "{'displayName':'g','members':[" M(A1) "," M(A2) "]}", END },
	{ "replace addresses[type eq work]", U,
	  "{'userName':'b','addresses':[{'type':'work','streetAddress':'x',"
	  "'locality':'y'},{'type':'home','locality':'z','primary':true}]}",
	  "[{'op':'replace','path':'addresses[type eq `work`]','value':"
	  "{'type':'work','streetAddress':'911 Universal City Plaza',"
	  "'locality':'Hollywood','region':'CA','postalCode':'91608',"
	  "'country':'US','primary':true}}]",
	  0, "{'userName':'b','addresses':[{'type':'work','streetAddress':"
	  "'911 Universal City Plaza','locality':'Hollywood','region':'CA',"
	  "'postalCode':'91608','country':'US','primary':true},{'type':"
	  "'home','locality':'z','primary':false}]}", END },
	{ "replace addresses[type eq work].streetAddress", U,
	  "{'userName':'b','addresses':[{'type':'work','streetAddress':'x'},"
	  "{'type':'home','streetAddress':'h'}]}",
	  "[{'op':'replace','path':'addresses[type eq `work`].streetAddress',"
	  "'value':'1010 Broadway Ave'}]",
	  0, "{'userName':'b','addresses':[{'type':'work','streetAddress':"
	  "'1010 Broadway Ave'},{'type':'home','streetAddress':'h'}]}", END },
	{ "replace without path", U, BJ,
	  "[{'op':'replace','value':{'emails':[{'value':'bjensen@example.com',"
	  "'type':'work','primary':true},{'value':'babs@jensen.org','type':"
	  "'home'}],'nickname':'Babs'}}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Barbara',"
	  "'familyName':'Jensen'},'emails':[{'value':'bjensen@example.com',"
	  "'type':'work','primary':true},{'value':'babs@jensen.org',"
	  "'type':'home'}],'nickName':'Babs'}", END },
	{ "replace complex single merges", U, BJ,
	  "[{'op':'replace','path':'name','value':{'givenName':'Babs'}}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Babs',"
	  "'familyName':'Jensen'},'emails':[{'value':'bjensen@example.com',"
	  "'type':'work','primary':true}]}", END },
	{ "replace name.familyName", U, BJ,
	  "[{'op':'replace','path':'name.familyName','value':'J'}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Barbara',"
	  "'familyName':'J'},'emails':[{'value':'bjensen@example.com',"
	  "'type':'work','primary':true}]}", END },
	{ "replace of a missing attribute adds it", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'title','value':'CTO'}]",
	  0, "{'userName':'b','title':'CTO'}", END },
	{ "remove members[value eq]", G, GROUP3,
	  "[{'op':'remove','path':'members[value eq `" A2 "`]'}]",
	  0, "{'displayName':'eng','members':[" MU(A1) ","
	  "{'value':'" A4 "','type':'Group'}]}", END },
	{ "remove all members", G, GROUP3,
	  "[{'op':'remove','path':'members'}]", 0, "{'displayName':'eng'}", END },
	{ "remove emails with a complex filter", U,
	  "{'userName':'b','emails':[{'value':'a@example.com','type':'work'},"
	  "{'value':'b@other.org','type':'work'},{'value':'c@example.com',"
	  "'type':'home'}]}",
	  "[{'op':'remove','path':'emails[type eq `work` and value ew "
	  "`example.com`]'}]",
	  0, "{'userName':'b','emails':[{'value':'b@other.org','type':"
	  "'work'},{'value':'c@example.com','type':'home'}]}", END },
	{ "remove last value unassigns", U, BJ,
	  "[{'op':'remove','path':'emails[type eq `work`]'}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Barbara',"
	  "'familyName':'Jensen'}}", END },
	{ "remove filter matching nothing is a no-op", U, BJ,
	  "[{'op':'remove','path':'emails[type eq `home`]'},"
	  "{'op':'remove','path':'phoneNumbers[type eq `work`]'}]", 0, BJ, END },
	{ "remove then add members (replace)", G, GROUP3,
	  "[{'op':'remove','path':'members'},{'op':'add','path':'members',"
	  "'value':[" M(A3) "]}]",
	  0, "{'displayName':'eng','members':[" M(A3) "]}", END },
	{ "remove sub-attribute and its empty parent", U,
	  "{'userName':'b','name':{'givenName':'x'},'title':'t'}",
	  "[{'op':'remove','path':'name.givenName'},"
	  "{'op':'remove','path':'title'}]",
	  0, "{'userName':'b'}", END },
	{ "remove filtered sub-attribute", U,
	  "{'userName':'b','emails':[{'value':'a@x','type':'work',"
	  "'display':'A'},{'value':'b@x','type':'home','display':'B'}]}",
	  "[{'op':'remove','path':'emails[type eq `work`].display'}]",
	  0, "{'userName':'b','emails':[{'value':'a@x','type':'work'},"
	  "{'value':'b@x','type':'home','display':'B'}]}", END },
	{ "add single-valued replaces", U, "{'userName':'b','title':'a'}",
	  "[{'op':'add','path':'title','value':'b'}]",
	  0, "{'userName':'b','title':'b'}", END },
	{ "add complex merges", U, BJ,
	  "[{'op':'add','path':'name','value':{'middleName':'Q'}}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Barbara',"
	  "'familyName':'Jensen','middleName':'Q'},'emails':[{'value':"
	  "'bjensen@example.com','type':'work','primary':true}]}", END },
	{ "add primary email takes the flag", U, BJ,
	  "[{'op':'add','path':'emails','value':[{'value':'n@x','type':"
	  "'home','primary':'True'}]}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Barbara',"
	  "'familyName':'Jensen'},'emails':[{'value':'bjensen@example.com',"
	  "'type':'work','primary':false},{'value':'n@x','type':'home',"
	  "'primary':true}]}", END },
	{ "externalId", U, "{'userName':'b'}",
	  "[{'op':'add','path':'externalId','value':'ext-1'}]",
	  0, "{'userName':'b','externalId':'ext-1'}", END },
	{ "sequential operations", U, "{'userName':'b'}",
	  "[{'op':'add','path':'title','value':'x'},{'op':'replace','path':"
	  "'title','value':'y'},{'op':'add','path':'nickName','value':'n'},"
	  "{'op':'remove','path':'nickName'}]",
	  0, "{'userName':'b','title':'y'}", END },
	{ "id and meta are never touched", U,
	  "{'id':'" GID "','meta':{},'userName':'b','title':'x'}",
	  "[{'op':'remove','path':'title'}]",
	  0, "{'id':'" GID "','meta':{},'userName':'b'}", END },
};

/* ---- Microsoft Entra ID ---- */

static const struct row entra_rows[] = {
	{ "capitalised ops", U, "{'userName':'b','nickName':'n'}",
	  "[{'op':'Replace','path':'displayName','value':'B'},"
	  "{'op':'Add','path':'title','value':'T'},"
	  "{'op':'Remove','path':'nickName'},"
	  "{'op':'REPLACE','path':'userName','value':'b2'}]",
	  0, "{'userName':'b2','displayName':'B','title':'T'}", END },
	{ "boolean as string", U, "{'userName':'b','active':true}",
	  "[{'op':'Replace','path':'active','value':'False'}]",
	  0, "{'userName':'b','active':false}", END },
	{ "boolean as string upper case", U, "{'userName':'b','active':false}",
	  "[{'op':'Replace','path':'active','value':'TRUE'}]",
	  0, "{'userName':'b','active':true}", END },
	{ "no-path replace with dotted and URN keys", U,
	  "{'userName':'b','name':{'givenName':'old','formatted':'F'}}",
	  "[{'op':'Replace','value':{'name.givenName':'Bo',"
	  "'name.familyName':'Lee','" ENT ":employeeNumber':'42',"
	  "'active':'True','displayName':'Bo Lee','" ENT ":manager':"
	  "'" A3 "'}}]",
	  0, "{'userName':'b','name':{'givenName':'Bo','formatted':'F',"
	  "'familyName':'Lee'},'active':true,'displayName':'Bo Lee','" ENT
	  "':{'employeeNumber':'42','manager':{'value':'" A3 "'}}}", END },
	{ "no-path keys with value filters", U,
	  "{'userName':'b','emails':[{'type':'work','value':'old@x'}]}",
	  "[{'op':'Replace','value':{'emails[type eq `work`].value':'new@x',"
	  "'addresses[type eq `work`].locality':'Oslo'}}]",
	  0, "{'userName':'b','emails':[{'type':'work','value':'new@x'}],"
	  "'addresses':[{'type':'work','locality':'Oslo'}]}", END },
	{ "no-path key with core URN prefix", U, "{'userName':'b'}",
	  "[{'op':'Replace','value':{'urn:ietf:params:scim:schemas:core:2.0:"
	  "User:userName':'c'}}]",
	  0, "{'userName':'c'}", END },
	{ "emails[type eq work].value creates", U, "{'userName':'b'}",
	  "[{'op':'Add','path':'emails[type eq `work`].value',"
	  "'value':'b@x.org'}]",
	  0, "{'userName':'b','emails':[{'type':'work','value':'b@x.org'}]}", END },
	{ "emails[type eq work].value replace creates", U,
	  "{'userName':'b','emails':[{'type':'home','value':'h@x'}]}",
	  "[{'op':'Replace','path':'emails[type eq `work`].value',"
	  "'value':'b@x.org'}]",
	  0, "{'userName':'b','emails':[{'type':'home','value':'h@x'},"
	  "{'type':'work','value':'b@x.org'}]}", END },
	{ "emails[type eq work].value replaces", U, BJ,
	  "[{'op':'Replace','path':'emails[type eq `work`].value',"
	  "'value':'new@example.com'}]",
	  0, "{'userName':'bjensen','name':{'givenName':'Barbara',"
	  "'familyName':'Jensen'},'emails':[{'value':'new@example.com',"
	  "'type':'work','primary':true}]}", END },
	{ "addresses[type eq work].locality creates", U, "{'userName':'b'}",
	  "[{'op':'Add','path':'addresses[type eq `work`].locality',"
	  "'value':'Oslo'},{'op':'Add','path':"
	  "'addresses[type eq `work`].postalCode','value':'0150'}]",
	  0, "{'userName':'b','addresses':[{'type':'work','locality':'Oslo',"
	  "'postalCode':'0150'}]}", END },
	{ "phoneNumbers[type eq mobile].value", U, "{'userName':'b'}",
	  "[{'op':'Add','path':'phoneNumbers[type eq `mobile`].value',"
	  "'value':'+47 1'}]",
	  0, "{'userName':'b','phoneNumbers':[{'type':'mobile','value':"
	  "'+47 1'}]}", END },
	{ "members remove by filter", G, GROUP3,
	  "[{'op':'Remove','path':'members[value eq `" A1 "`]'}]",
	  0, "{'displayName':'eng','members':[" MU(A2) ","
	  "{'value':'" A4 "','type':'Group'}]}", END },
	{ "members remove by value list", G, GROUP3,
	  "[{'op':'Remove','path':'members','value':[" M(A1) "," M(A4) ","
	  M(A3) "]}]",
	  0, "{'displayName':'eng','members':[" MU(A2) "]}", END },
	{ "members add", G, "{'displayName':'eng'}",
	  "[{'op':'Add','path':'members','value':[" M(A1) "," M(A2) "]}]",
	  0, "{'displayName':'eng','members':[" M(A1) "," M(A2) "]}", END },
	{ "replace displayName of a group", G, GROUP3,
	  "[{'op':'Replace','path':'displayName','value':'Engineering'}]",
	  0, "{'displayName':'Engineering','members':[" MU(A1) "," MU(A2) ","
	  "{'value':'" A4 "','type':'Group'}]}", END },
	{ "manager as a plain string", U, "{'userName':'b'}",
	  "[{'op':'Add','path':'" ENT ":manager','value':'" A2 "'}]",
	  0, "{'userName':'b','" ENT "':{'manager':{'value':'" A2 "'}}}", END },
	{ "remove manager", U,
	  "{'userName':'b','" ENT "':{'manager':{'value':'" A2 "'}}}",
	  "[{'op':'Remove','path':'" ENT ":manager','value':[{'value':'"
	  A2 "'}]}]",
	  0, "{'userName':'b'}", END },
	{ "roles with primary as a string", U, "{'userName':'b'}",
	  "[{'op':'Add','path':'roles','value':[{'primary':'True','type':"
	  "'WindowsAzureActiveDirectoryRole','value':'Admin'}]}]",
	  0, "{'userName':'b','roles':[{'primary':true,'type':"
	  "'WindowsAzureActiveDirectoryRole','value':'Admin'}]}", END },
	{ "single member object not in a list", G, "{'displayName':'eng'}",
	  "[{'op':'Add','path':'members','value':" M(A1) "}]",
	  0, "{'displayName':'eng','members':[" M(A1) "]}", END },
	{ "add with a filter and no match appends", U, "{'userName':'b'}",
	  "[{'op':'Add','path':'emails[type eq `work`]','value':"
	  "{'value':'w@x'}}]",
	  0, "{'userName':'b','emails':[{'value':'w@x','type':'work'}]}",
	  END },
	{ "add with a filter merges into the match", U,
	  "{'userName':'b','emails':[{'value':'w@x','type':'work'}]}",
	  "[{'op':'Add','path':'emails[type eq `work`]','value':"
	  "{'display':'W','primary':true}}]",
	  0, "{'userName':'b','emails':[{'value':'w@x','type':'work',"
	  "'display':'W','primary':true}]}", END },
	{ "no-path value with password dropped", U, "{'userName':'b'}",
	  "[{'op':'Replace','value':{'password':'s3cret','title':'t'}}]",
	  0, "{'userName':'b','title':'t'}", END },
	{ "password path dropped", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'password','value':'s3cret'}]",
	  0, "{'userName':'b'}", END },
};

/* ---- Okta ---- */

static const struct row okta_rows[] = {
	{ "deactivate", U, "{'userName':'b','active':true}",
	  "[{'op':'replace','value':{'active':false}}]",
	  0, "{'userName':'b','active':false}", END },
	{ "group rename with id in value", G, "{'displayName':'old'}",
	  "[{'op':'replace','value':{'id':'" GID "','displayName':'new'}}]",
	  0, "{'displayName':'new'}", END },
	{ "group rename, doc carries the same id", G,
	  "{'id':'" GID "','displayName':'old'}",
	  "[{'op':'replace','value':{'id':'" GID "','displayName':'new',"
	  "'schemas':['" SCIM_SCHEMA_GROUP "'],'meta':{'version':'W/`1`'}}}]",
	  0, "{'id':'" GID "','displayName':'new'}", END },
	{ "member list replace", G, GROUP3,
	  "[{'op':'replace','path':'members','value':[{'value':'" A2 "',"
	  "'display':'b'},{'value':'" A3 "','display':'c'}]}]",
	  0, "{'displayName':'eng','members':[" M(A2) "," M(A3) "]}", END },
	{ "member add with display", G, GROUP3,
	  "[{'op':'add','path':'members','value':[{'value':'" A3 "',"
	  "'display':'c'}]}]",
	  0, "{'displayName':'eng','members':[" MU(A1) "," MU(A2) ","
	  "{'value':'" A4 "','type':'Group'}," M(A3) "]}", END },
	{ "member list replace with empty list", G, GROUP3,
	  "[{'op':'replace','path':'members','value':[]}]",
	  0, "{'displayName':'eng'}", END },
	{ "member type canonicalised", G, "{'displayName':'eng'}",
	  "[{'op':'add','path':'members','value':[{'value':'" A3 "',"
	  "'type':'group'}]}]",
	  0, "{'displayName':'eng','members':[{'value':'" A3 "','type':"
	  "'Group'}]}", END },
};

/* ---- extensions ---- */

static const struct row ext_rows[] = {
	{ "enterprise employeeNumber", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'" ENT ":employeeNumber','value':'701984'}]",
	  0, "{'userName':'b','" ENT "':{'employeeNumber':'701984'}}", END },
	{ "enterprise manager.value", U,
	  "{'userName':'b','" ENT "':{'department':'R'}}",
	  "[{'op':'replace','path':'" ENT ":manager.value','value':'" A1 "'}]",
	  0, "{'userName':'b','" ENT "':{'department':'R','manager':"
	  "{'value':'" A1 "'}}}", END },
	{ "enterprise object without path", U, "{'userName':'b'}",
	  "[{'op':'add','value':{'" ENT "':{'costCenter':'4130','manager':"
	  "{'value':'" A1 "','displayName':'ignored'}}}}]",
	  0, "{'userName':'b','" ENT "':{'costCenter':'4130','manager':"
	  "{'value':'" A1 "'}}}", END },
	{ "extension path with object value", U, "{'userName':'b'}",
	  "[{'op':'add','path':'" ENT "','value':{'division':'D',"
	  "'manager.value':'" A2 "'}}]",
	  0, "{'userName':'b','" ENT "':{'division':'D','manager':"
	  "{'value':'" A2 "'}}}", END },
	{ "remove last extension attribute drops the extension", U,
	  "{'userName':'b','" ENT "':{'employeeNumber':'1'}}",
	  "[{'op':'remove','path':'" ENT ":employeeNumber'}]",
	  0, "{'userName':'b'}", END },
	{ "remove whole extension", U,
	  "{'userName':'b','" ENT "':{'employeeNumber':'1','division':'d'}}",
	  "[{'op':'remove','path':'" ENT "'}]", 0, "{'userName':'b'}", END },
	{ "PAM privileged and adminRoles", U, "{'userName':'b'}",
	  "[{'op':'Add','path':'" PAM ":privileged','value':'True'},"
	  "{'op':'add','path':'" PAM ":adminRoles','value':['db-admin',"
	  "'db-admin','domain-admin']},"
	  "{'op':'add','path':'" PAM ":adminRoles','value':'db-admin'},"
	  "{'op':'add','path':'" PAM ":maxJitDurationSeconds','value':3600},"
	  "{'op':'add','path':'" PAM ":accessReviewDate','value':"
	  "'2024-05-01T10:00:00Z'},"
	  "{'op':'add','path':'" PAM ":riskLevel','value':'high'}]",
	  0, "{'userName':'b','" PAM "':{'privileged':true,'adminRoles':"
	  "['db-admin','domain-admin'],'maxJitDurationSeconds':3600,"
	  "'accessReviewDate':'2024-05-01T10:00:00Z','riskLevel':'high'}}", END },
	{ "PAM adminRoles remove by value, replace", U,
	  "{'userName':'b','" PAM "':{'adminRoles':['a','b','c'],"
	  "'sodTags':['x']}}",
	  "[{'op':'remove','path':'" PAM ":adminRoles','value':['b']},"
	  "{'op':'replace','path':'" PAM ":sodTags','value':['y','z']}]",
	  0, "{'userName':'b','" PAM "':{'adminRoles':['a','c'],"
	  "'sodTags':['y','z']}}", END },
	{ "PAM no-path keys", U, "{'userName':'b'}",
	  "[{'op':'replace','value':{'" PAM ":breakGlass':'false','" PAM
	  ":approver':{'value':'" A4 "'}}}]",
	  0, "{'userName':'b','" PAM "':{'breakGlass':false,'approver':"
	  "{'value':'" A4 "'}}}", END },
	{ "replace extension with null removes it", U,
	  "{'userName':'b','" PAM "':{'privileged':true}}",
	  "[{'op':'replace','value':{'" PAM "':null}}]", 0, "{'userName':'b'}", END },
	{ "replace with null unassigns", U,
	  "{'userName':'b','title':'t','" ENT "':{'division':'d'}}",
	  "[{'op':'replace','path':'title','value':null},"
	  "{'op':'replace','value':{'" ENT ":division':null}}]",
	  0, "{'userName':'b'}", END },
};

/* ---- errors ---- */

#define E400(t)	NULL, ERR_INVALID, 400, t, NULL

static const struct row err_rows[] = {
	{ "bad op", U, "{'userName':'b'}",
	  "[{'op':'move','path':'title','value':'x'}]", 0,
	  E400("invalidSyntax") },
	{ "op missing", U, "{'userName':'b'}",
	  "[{'path':'title','value':'x'}]", 0, E400("invalidSyntax") },
	{ "operation not an object", U, "{'userName':'b'}", "['add']", 0,
	  E400("invalidSyntax") },
	{ "no operations", U, "{'userName':'b'}", "[]", 0,
	  E400("invalidSyntax") },
	{ "missing value", U, "{'userName':'b'}",
	  "[{'op':'add','path':'title'}]", 0, E400("invalidValue") },
	{ "no-path value not an object", U, "{'userName':'b'}",
	  "[{'op':'replace','value':'x'}]", 0, E400("invalidValue") },
	{ "unknown attribute in path", U, "{'userName':'b'}",
	  "[{'op':'add','path':'bogus','value':'x'}]", 0,
	  E400("invalidPath") },
	{ "unknown attribute without path", U, "{'userName':'b'}",
	  "[{'op':'replace','value':{'title':'t','bogus':'x'}}]", 0,
	  E400("invalidPath") },
	{ "bad filter key without path", U, "{'userName':'b'}",
	  "[{'op':'replace','value':{'emails[type eq].value':'x'}}]", 0,
	  E400("invalidPath") },
	{ "unknown sub-attribute in value", U, "{'userName':'b'}",
	  "[{'op':'add','path':'emails','value':[{'vaule':'x'}]}]", 0,
	  E400("invalidPath") },
	{ "extension of another type", G, "{'displayName':'g'}",
	  "[{'op':'add','path':'" ENT ":employeeNumber','value':'1'}]", 0,
	  E400("invalidPath") },
	{ "readOnly groups", U, "{'userName':'b'}",
	  "[{'op':'add','path':'groups','value':[{'value':'" A1 "'}]}]", 0,
	  E400("mutability") },
	{ "readOnly id by path", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'id','value':'" A1 "'}]", 0,
	  E400("mutability") },
	{ "readOnly meta.created", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'meta.created','value':"
	  "'2020-01-01T00:00:00Z'}]", 0, E400("mutability") },
	{ "readOnly member display", G, GROUP3,
	  "[{'op':'replace','path':'members[value eq `" A1 "`].display',"
	  "'value':'x'}]", 0, E400("mutability") },
	{ "readOnly manager.displayName", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'" ENT ":manager.displayName',"
	  "'value':'x'}]", 0, E400("mutability") },
	{ "readOnly groups without path", U, "{'userName':'b'}",
	  "[{'op':'add','value':{'groups':[]}}]", 0, E400("mutability") },
	{ "bad boolean", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'active','value':'yes'}]", 0,
	  E400("invalidValue") },
	{ "number for a string", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'" ENT ":employeeNumber','value':5}]", 0,
	  E400("invalidValue") },
	{ "string for an integer", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'" PAM ":maxJitDurationSeconds',"
	  "'value':'10'}]", 0, E400("invalidValue") },
	{ "bad dateTime", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'" PAM ":accessReviewDate',"
	  "'value':'yesterday'}]", 0, E400("invalidValue") },
	{ "object for a string", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'title','value':{'a':1}}]", 0,
	  E400("invalidValue") },
	{ "bad member uuid", G, "{'displayName':'g'}",
	  "[{'op':'add','path':'members','value':[{'value':'bob'}]}]", 0,
	  E400("invalidValue") },
	/* as a POST body does (scim/resource.c), ids are folded to lower case */
	{ "upper-case member uuid folded", G, "{'displayName':'g'}",
	  "[{'op':'add','path':'members','value':[{'value':'" A1UP "'}]}]",
	  0, "{'displayName':'g','members':[{'value':'" A1UPLOW "'}]}", END },
	{ "upper-case member uuid folded in delta mode", G,
	  "{'displayName':'g'}",
	  "[{'op':'add','path':'members','value':[{'value':'" A1UP "'}]}]",
	  DELTA, "{'displayName':'g'}", 0, 0, NULL,
	  "{'replace_all':false,'add':{'" A1UPLOW "':{'value':'" A1UPLOW
	  "'}},'remove':{}}" },
	{ "member without value", G, "{'displayName':'g'}",
	  "[{'op':'add','path':'members','value':[{'display':'x'}]}]", 0,
	  E400("invalidValue") },
	{ "bad member type", G, "{'displayName':'g'}",
	  "[{'op':'add','path':'members','value':[{'value':'" A1 "',"
	  "'type':'Robot'}]}]", 0, E400("invalidValue") },
	{ "remove without path", U, "{'userName':'b'}",
	  "[{'op':'remove'}]", 0, E400("noTarget") },
	{ "remove without path, with value", G, GROUP3,
	  "[{'op':'Remove','value':[" M(A1) "]}]", 0, E400("noTarget") },
	{ "remove userName", U, "{'userName':'b'}",
	  "[{'op':'remove','path':'userName'}]", 0, E400("mutability") },
	{ "remove group displayName", G, "{'displayName':'g'}",
	  "[{'op':'remove','path':'displayName'}]", 0, E400("mutability") },
	{ "replace userName with null", U, "{'userName':'b'}",
	  "[{'op':'replace','value':{'userName':null}}]", 0,
	  E400("mutability") },
	{ "empty userName", U, "{'userName':'b'}",
	  "[{'op':'replace','path':'userName','value':''}]", 0,
	  E400("invalidValue") },
	{ "replace filter without match", U, BJ,
	  "[{'op':'replace','path':'emails[type eq `home`]','value':"
	  "{'type':'home','value':'h@x'}}]", 0, E400("noTarget") },
	{ "replace non-eq filter without match", U, BJ,
	  "[{'op':'replace','path':'emails[value co `nope`].type','value':"
	  "'home'}]", 0, E400("noTarget") },
	{ "two primaries in one value", U, "{'userName':'b'}",
	  "[{'op':'add','path':'emails','value':[{'value':'a@x','primary':"
	  "true},{'value':'b@x','primary':true}]}]", 0,
	  E400("invalidValue") },
	{ "two primaries by filter", U,
	  "{'userName':'b','emails':[{'value':'a@x','type':'work'},"
	  "{'value':'b@x','type':'home'}]}",
	  "[{'op':'replace','path':'emails.primary','value':true}]", 0,
	  E400("invalidValue") },
	{ "immutable member type", G, GROUP3,
	  "[{'op':'replace','path':'members[value eq `" A1 "`].type',"
	  "'value':'Group'}]", 0, E400("mutability") },
	{ "remove immutable member value", G, GROUP3,
	  "[{'op':'remove','path':'members[value eq `" A1 "`].value'}]", 0,
	  E400("mutability") },
	{ "different id in value", G, "{'id':'" GID "','displayName':'g'}",
	  "[{'op':'replace','value':{'id':'" A1 "','displayName':'x'}}]", 0,
	  E400("mutability") },
	{ "filter on single-valued attribute", U, BJ,
	  "[{'op':'remove','path':'name[givenName eq `x`]'}]", 0,
	  E400("invalidPath") },
	{ "bad filter syntax", U, BJ,
	  "[{'op':'remove','path':'emails[type eq]'}]", 0,
	  E400("invalidPath") },
	{ "path not a string", U, BJ,
	  "[{'op':'remove','path':5}]", 0, E400("invalidPath") },
	{ "op given twice in two cases", U, BJ,
	  "[{'op':'add','OP':'remove','path':'title','value':'x'}]", 0,
	  E400("invalidSyntax") },
};

/* ---- member delta mode (Groups, members not loaded) ---- */

#define NOCHANGE "{'displayName':'eng'}"
#define NEED NULL, ERR_NEED_MEMBERS, 0, "", NULL

static const struct row delta_rows[] = {
	{ "add", G, NOCHANGE,
	  "[{'op':'add','path':'members','value':[" M(A1) ",{'value':'" A2
	  "','type':'User','display':'x'}]}]", DELTA, NOCHANGE, 0, 0, NULL,
	  "{'replace_all':false,'add':{'" A1 "':" M(A1) ",'" A2 "':" MU(A2)
	  "},'remove':{}}" },
	{ "remove by filter", G, NOCHANGE,
	  "[{'op':'Remove','path':'members[value eq `" A1 "`]'}]", DELTA,
	  NOCHANGE, 0, 0, NULL,
	  "{'replace_all':false,'add':{},'remove':{'" A1 "':null}}" },
	{ "remove by or-ed filter", G, NOCHANGE,
	  "[{'op':'remove','path':'members[value eq `" A1 "` or value eq `"
	  A2 "` or value eq `not-a-uuid`]'}]", DELTA, NOCHANGE, 0, 0, NULL,
	  "{'replace_all':false,'add':{},'remove':{'" A1 "':null,'" A2
	  "':null}}" },
	{ "remove by upper-case filter literal", G, NOCHANGE,
	  "[{'op':'remove','path':'members[value eq `" A1UPOK "`]'}]", DELTA,
	  NOCHANGE, 0, 0, NULL,
	  "{'replace_all':false,'add':{},'remove':{'" A1LOW "':null}}" },
	{ "remove by value list", G, NOCHANGE,
	  "[{'op':'Remove','path':'members','value':[" M(A1) "," M(A3) "]}]",
	  DELTA, NOCHANGE, 0, 0, NULL,
	  "{'replace_all':false,'add':{},'remove':{'" A1 "':null,'" A3
	  "':null}}" },
	{ "remove all", G, NOCHANGE,
	  "[{'op':'remove','path':'members'}]", DELTA, NOCHANGE, 0, 0, NULL,
	  "{'replace_all':true,'add':{},'remove':{}}" },
	{ "replace list", G, NOCHANGE,
	  "[{'op':'replace','path':'members','value':[" M(A1) "," M(A1) ","
	  M(A2) "]}]", DELTA, NOCHANGE, 0, 0, NULL,
	  "{'replace_all':true,'add':{'" A1 "':" M(A1) ",'" A2 "':" M(A2)
	  "},'remove':{}}" },
	{ "replace list without path", G, NOCHANGE,
	  "[{'op':'replace','value':{'displayName':'new','members':["
	  M(A3) "]}}]", DELTA, "{'displayName':'new'}", 0, 0, NULL,
	  "{'replace_all':true,'add':{'" A3 "':" M(A3) "},'remove':{}}" },
	{ "later op wins: add then remove", G, NOCHANGE,
	  "[{'op':'add','path':'members','value':[" M(A1) "," M(A2) "]},"
	  "{'op':'remove','path':'members[value eq `" A1 "`]'}]", DELTA,
	  NOCHANGE, 0, 0, NULL,
	  "{'replace_all':false,'add':{'" A2 "':" M(A2) "},'remove':{'" A1
	  "':null}}" },
	{ "later op wins: remove then add", G, NOCHANGE,
	  "[{'op':'remove','path':'members','value':[" M(A1) "]},"
	  "{'op':'add','path':'members','value':[" M(A1) "]}]", DELTA,
	  NOCHANGE, 0, 0, NULL,
	  "{'replace_all':false,'add':{'" A1 "':" M(A1) "},'remove':{}}" },
	{ "remove all then add", G, NOCHANGE,
	  "[{'op':'add','path':'members','value':[" M(A1) "]},"
	  "{'op':'remove','path':'members'},"
	  "{'op':'add','path':'members','value':[" M(A3) "]},"
	  "{'op':'remove','path':'members[value eq `" A4 "`]'}]", DELTA,
	  NOCHANGE, 0, 0, NULL,
	  "{'replace_all':true,'add':{'" A3 "':" M(A3) "},'remove':{}}" },
	{ "rename and add", G, NOCHANGE,
	  "[{'op':'Replace','path':'displayName','value':'x'},"
	  "{'op':'Add','path':'members','value':[" M(A4) "]}]", DELTA,
	  "{'displayName':'x'}", 0, 0, NULL,
	  "{'replace_all':false,'add':{'" A4 "':" M(A4) "},'remove':{}}" },
	{ "no member ops", G, NOCHANGE,
	  "[{'op':'replace','path':'displayName','value':'y'}]", DELTA,
	  "{'displayName':'y'}", 0, 0, NULL,
	  "{'replace_all':false,'add':{},'remove':{}}" },
	{ "filter on type needs members", G, NOCHANGE,
	  "[{'op':'remove','path':'members[type eq `Group`]'}]", DELTA, NEED },
	{ "and filter needs members", G, NOCHANGE,
	  "[{'op':'remove','path':'members[value eq `" A1 "` and type eq "
	  "`User`]'}]", DELTA, NEED },
	{ "sub-attribute path needs members", G, NOCHANGE,
	  "[{'op':'replace','path':'members[value eq `" A1 "`].type',"
	  "'value':'User'}]", DELTA, NEED },
	{ "filtered replace needs members", G, NOCHANGE,
	  "[{'op':'replace','path':'members[value eq `" A1 "`]',"
	  "'value':" M(A3) "}]", DELTA, NEED },
	{ "need members leaves doc alone", G, NOCHANGE,
	  "[{'op':'replace','path':'displayName','value':'z'},"
	  "{'op':'remove','path':'members[display eq `x`]'}]", DELTA, NEED },
	/* the same operations with members loaded */
	{ "loaded: filter on type", G, GROUP3,
	  "[{'op':'remove','path':'members[type eq `Group`]'}]", 0,
	  "{'displayName':'eng','members':[" MU(A1) "," MU(A2) "]}", END },
	{ "loaded: and filter", G, GROUP3,
	  "[{'op':'remove','path':'members[value eq `" A1 "` and type eq "
	  "`User`]'}]", 0,
	  "{'displayName':'eng','members':[" MU(A2) ",{'value':'" A4
	  "','type':'Group'}]}", END },
	{ "loaded: set type where unset", G,
	  "{'displayName':'eng','members':[" M(A1) "]}",
	  "[{'op':'replace','path':'members[value eq `" A1 "`].type',"
	  "'value':'User'}]", 0,
	  "{'displayName':'eng','members':[" MU(A1) "]}", END },
	{ "loaded: filtered replace", G, GROUP3,
	  "[{'op':'replace','path':'members[value eq `" A1 "`]',"
	  "'value':" M(A3) "}]", 0,
	  "{'displayName':'eng','members':[" M(A3) "," MU(A2) ",{'value':'"
	  A4 "','type':'Group'}]}", END },
	{ "loaded: filtered replace onto an existing member", G, GROUP3,
	  "[{'op':'replace','path':'members[value eq `" A1 "`]',"
	  "'value':" M(A2) "}]", 0,
	  "{'displayName':'eng','members':[" M(A2) ",{'value':'"
	  A4 "','type':'Group'}]}", END },
	{ "loaded: or-ed filter", G, GROUP3,
	  "[{'op':'remove','path':'members[value eq `"
	  "11111111-1111-4111-8111-111111111111` or value eq `"
	  "44444444-4444-4444-8444-444444444444`]'}]", 0,
	  "{'displayName':'eng','members':[" MU(A2) "]}", END },
};

static void
t_rfc(void)
{
	RUN(rfc_rows);
}

static void
t_entra(void)
{
	RUN(entra_rows);
}

static void
t_okta(void)
{
	RUN(okta_rows);
}

static void
t_ext(void)
{
	RUN(ext_rows);
}

static void
t_errors(void)
{
	RUN(err_rows);
}

static void
t_delta(void)
{
	RUN(delta_rows);
}

/* ---- whole bodies and limits ---- */

static int
parse_text(enum scim_rtype rt, const char *body, struct api_error *e)
{
	struct scim_patch *p = NULL;
	json_t *b = J(body);
	int r;

	api_error_clear(e);
	if (b == NULL)
		return ERR_INTERNAL;
	r = scim_patch_parse(rt, b, &p, e);
	scim_patch_free(p);
	json_decref(b);
	return r;
}

static void
t_body(void)
{
	struct api_error e;

	ASSERT_INT_EQ(parse_text(U, "['x']", &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidSyntax");
	ASSERT_INT_EQ(parse_text(U, "{'Operations':[{'op':'add','path':"
	    "'title','value':'x'}]}", &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidSyntax");
	ASSERT_INT_EQ(parse_text(U, "{'schemas':['" SCIM_SCHEMA_USER "'],"
	    "'Operations':[{'op':'add','path':'title','value':'x'}]}", &e),
	    ERR_INVALID);
	ASSERT_INT_EQ(e.status, 400);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	ASSERT_INT_EQ(parse_text(U, "{'schemas':['" SCIM_SCHEMA_PATCHOP "'],"
	    "'Operations':{'op':'add'}}", &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidSyntax");
	/* URN and member names compare case-insensitively */
	ASSERT_INT_EQ(parse_text(U, "{'SCHEMAS':['urn:ietf:params:scim:api:"
	    "messages:2.0:patchop'],'operations':[{'OP':'add','Path':'title',"
	    "'Value':'x'}]}", &e), 0);
}

static json_t *
members_json(size_t from, size_t n, int typed)
{
	char id[40];
	json_t *a = json_array();
	size_t i;

	for (i = from; a != NULL && i < from + n; i++) {
		snprintf(id, sizeof(id), "%08zx-0000-4000-8000-000000000000", i);
		if (json_array_append_new(a, typed ?
		    json_pack("{s:s,s:s}", "value", id, "type", "User") :
		    json_pack("{s:s}", "value", id)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
one_op(const char *op, const char *path, json_t *value)
{
	json_t *o;

	o = path != NULL ?
	    json_pack("{s:s,s:s,s:o}", "op", op, "path", path, "value", value) :
	    json_pack("{s:s,s:o}", "op", op, "value", value);
	return json_pack("{s:[s],s:[o]}", "schemas", SCIM_SCHEMA_PATCHOP,
	    "Operations", o);
}

static void
t_limits(void)
{
	struct scim_patch *p = NULL;
	struct api_error e;
	json_t *b, *ops;
	size_t i;

	/* too many operations */
	ops = json_array();
	for (i = 0; i < SCIM_PATCH_OPS_MAX + 1; i++)
		json_array_append_new(ops, json_pack("{s:s,s:s,s:s}", "op",
		    "add", "path", "title", "value", "x"));
	b = json_pack("{s:[s],s:o}", "schemas", SCIM_SCHEMA_PATCHOP,
	    "Operations", ops);
	ASSERT_NOT_NULL(b);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_patch_parse(U, b, &p, &e), ERR_INVALID);
	ASSERT_NULL(p);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	json_decref(b);

	/* too many member values in one PATCH */
	b = one_op("add", "members", members_json(0,
	    SCIM_MEMBERS_PATCH_MAX + 1, 0));
	ASSERT_NOT_NULL(b);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_patch_parse(G, b, &p, &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	json_decref(b);

	/* too many values of a normal multi-valued attribute */
	ops = json_array();
	for (i = 0; i < SCIM_MULTI_MAX + 1; i++)
		json_array_append_new(ops, json_sprintf("r%zu", i));
	b = one_op("add", PAM ":adminRoles", ops);
	api_error_clear(&e);
	ASSERT_INT_EQ(scim_patch_parse(U, b, &p, &e), ERR_INVALID);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	json_decref(b);

	ASSERT_INT_EQ(scim_patch_touches_members(NULL), 0);
	scim_patch_free(NULL);
}

/* ---- delta mode and loaded-members mode agree ---- */

/* Ids of a member array as a set (object id -> null). */
static json_t *
id_set(const json_t *members)
{
	json_t *s = json_object(), *m;
	size_t i;

	json_array_foreach(members, i, m)
		json_object_set_new(s, json_string_value(json_object_get(m,
		    "value")), json_null());
	return s;
}

/*
 * Apply body both ways to a group with the given members: with members
 * loaded, and in delta mode (then the delta applied to the initial set
 * as db_group_members_apply does). Returns the final member count, or
 * -1 if the two disagree or anything fails.
 */
static long
equivalent(const json_t *initial, const json_t *body)
{
	struct scim_member_delta d;
	struct scim_patch *p = NULL;
	struct api_error e;
	json_t *full = NULL, *lean = NULL, *s1 = NULL, *s2 = NULL, *v;
	const char *k;
	long n = -1;

	scim_member_delta_init(&d);
	api_error_clear(&e);
	if (scim_patch_parse(G, body, &p, &e) != 0) {
		fprintf(stderr, "  parse: %s\n", e.detail);
		goto out;
	}
	if (!scim_patch_touches_members(p))
		goto out;
	full = json_pack("{s:s,s:O}", "displayName", "g", "members", initial);
	lean = json_pack("{s:s}", "displayName", "g");
	if (full == NULL || lean == NULL ||
	    scim_patch_apply(p, full, 0, NULL, &e) != 0 ||
	    scim_patch_apply(p, lean, DELTA, &d, &e) != 0) {
		fprintf(stderr, "  apply: %s\n", e.detail);
		goto out;
	}
	s1 = id_set(json_object_get(full, "members"));
	s2 = d.replace_all ? json_object() : id_set(initial);
	json_object_foreach(d.remove, k, v)
		json_object_del(s2, k);
	json_object_foreach(d.add, k, v)
		json_object_set_new(s2, k, json_null());
	json_object_del(full, "members");
	if (!json_equal(s1, s2) || !json_equal(full, lean)) {
		fprintf(stderr, "  modes disagree\n");
		goto out;
	}
	n = (long)json_object_size(s1);
out:
	scim_patch_free(p);
	scim_member_delta_clear(&d);
	json_decref(full);
	json_decref(lean);
	json_decref(s1);
	json_decref(s2);
	return n;
}

static long
equivalent_text(const char *initial, const char *ops)
{
	json_t *i = J(initial), *b = body_of(ops);
	long n = equivalent(i, b);

	json_decref(i);
	json_decref(b);
	return n;
}

#define INIT3	"[" MU(A1) "," MU(A2) ",{'value':'" A4 "','type':'Group'}]"

static void
t_equivalence(void)
{
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'add','path':'members',"
	    "'value':[" M(A1) "," M(A3) "]}]"), 4);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'Remove','path':"
	    "'members[value eq `" A1 "`]'}]"), 2);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'remove','path':"
	    "'members[value eq `" A1 "` or value eq `" A4 "` or value eq `"
	    A3 "`]'}]"), 1);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'remove','path':"
	    "'members[value eq `" A1UPOK "` or value eq `"
	    "22222222-2222-4222-8222-222222222222`]'}]"), 2);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'Remove','path':"
	    "'members','value':[" M(A2) "," M(A3) "]}]"), 2);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'remove','path':"
	    "'members'}]"), 0);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'replace','path':"
	    "'members','value':[" M(A3) "," M(A2) "]}]"), 2);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'replace','value':"
	    "{'members':[" M(A3) "],'displayName':'n'}}]"), 1);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'add','path':'members',"
	    "'value':[" M(A3) "]},{'op':'remove','path':'members[value eq `"
	    A3 "`]'},{'op':'remove','path':'members','value':[" M(A1) "]},"
	    "{'op':'add','path':'members','value':[" M(A1) "]}]"), 3);
	ASSERT_INT_EQ(equivalent_text(INIT3, "[{'op':'remove','path':"
	    "'members'},{'op':'add','path':'members','value':[" M(A4) "]},"
	    "{'op':'remove','path':'members[value eq `" A1 "`]'}]"), 1);
	ASSERT_INT_EQ(equivalent_text("[" MU(A1LOW) "," MU(A2) "]",
	    "[{'op':'remove','path':'members[value eq `" A1UPOK "`]'}]"), 1);
	ASSERT_INT_EQ(equivalent_text("[]", "[{'op':'remove','path':"
	    "'members[value eq `" A1 "`]'}]"), 0);
}

static void
t_equivalence_bulk(void)
{
	json_t *initial, *b, *vals, *ops;
	size_t i;
	char path[128];

	/* 5,000 adds in one operation onto 3 members, one already there */
	initial = J(INIT3);
	vals = members_json(0, 5000, 0);
	json_array_append_new(vals, json_pack("{s:s}", "value", A1));
	b = one_op("add", "members", vals);
	ASSERT_INT_EQ(equivalent(initial, b), 5003);
	json_decref(b);

	/* 5,000 members loaded; Entra removes 2,500 by value list */
	json_decref(initial);
	initial = members_json(0, 5000, 1);
	b = one_op("Remove", "members", members_json(0, 2500, 0));
	ASSERT_INT_EQ(equivalent(initial, b), 2500);
	json_decref(b);

	/* Okta replaces the whole list of 5,000 with 4,000 others */
	b = one_op("replace", "members", members_json(3000, 4000, 0));
	ASSERT_INT_EQ(equivalent(initial, b), 4000);
	json_decref(b);

	/* 1,000 single-member remove operations by filter */
	ops = json_array();
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "members[value eq "
		    "\"%08zx-0000-4000-8000-000000000000\"]", i * 2);
		json_array_append_new(ops, json_pack("{s:s,s:s}", "op",
		    "Remove", "path", path));
	}
	b = json_pack("{s:[s],s:o}", "schemas", SCIM_SCHEMA_PATCHOP,
	    "Operations", ops);
	ASSERT_INT_EQ(equivalent(initial, b), 4000);
	json_decref(b);
	json_decref(initial);
}

/* A delta is folded only from what the PATCH says. */
static void
t_delta_counts(void)
{
	struct scim_member_delta d;
	struct scim_patch *p = NULL;
	struct api_error e;
	json_t *b, *doc;

	b = one_op("add", "members", members_json(0, 5000, 0));
	doc = json_pack("{s:s}", "displayName", "g");
	api_error_clear(&e);
	scim_member_delta_init(&d);
	ASSERT_INT_EQ(scim_patch_parse(G, b, &p, &e), 0);
	ASSERT_INT_EQ(scim_patch_touches_members(p), 1);
	ASSERT_INT_EQ(scim_patch_apply(p, doc, DELTA, &d, &e), 0);
	ASSERT_INT_EQ(json_object_size(d.add), 5000);
	ASSERT_INT_EQ(json_object_size(d.remove), 0);
	ASSERT_INT_EQ(d.replace_all, 0);
	ASSERT_NULL(json_object_get(doc, "members"));
	/* the same parsed PATCH applies again (a retry) with the same result */
	scim_member_delta_clear(&d);
	scim_member_delta_init(&d);
	ASSERT_INT_EQ(scim_patch_apply(p, doc, DELTA, &d, &e), 0);
	ASSERT_INT_EQ(json_object_size(d.add), 5000);
	scim_member_delta_clear(&d);
	scim_patch_free(p);
	json_decref(b);
	json_decref(doc);

	/* a User PATCH never touches members and ignores the flag */
	b = J("{'schemas':['" SCIM_SCHEMA_PATCHOP "'],'Operations':[{'op':"
	    "'add','path':'title','value':'x'}]}");
	doc = J("{'userName':'b'}");
	scim_member_delta_init(&d);
	ASSERT_INT_EQ(scim_patch_parse(U, b, &p, &e), 0);
	ASSERT_INT_EQ(scim_patch_touches_members(p), 0);
	ASSERT_INT_EQ(scim_patch_apply(p, doc, DELTA, &d, &e), 0);
	ASSERT_STR_EQ(json_string_value(json_object_get(doc, "title")), "x");
	scim_member_delta_clear(&d);
	scim_patch_free(p);
	json_decref(b);
	json_decref(doc);
}

static const struct testlib_case cases[] = {
	{ "rfc7644 examples", t_rfc },
	{ "entra quirks", t_entra },
	{ "okta quirks", t_okta },
	{ "extensions", t_ext },
	{ "errors", t_errors },
	{ "member delta", t_delta },
	{ "body checks", t_body },
	{ "limits", t_limits },
	{ "delta equals loaded members", t_equivalence },
	{ "delta equals loaded members, 5000", t_equivalence_bulk },
	{ "delta counts", t_delta_counts },
};

TEST_MAIN(cases)
