#include "scim/schema.h"

#include <string.h>

#include "util/bounds.h"
#include "util/strutil.h"

/*
 * Static schema tables (RFC 7643 §4, §8.7.1) plus the PAM extension.
 * Fields not named in an initialiser take the RFC defaults, which the
 * enums encode as 0: singular, optional, caseExact false, readWrite,
 * returned default, uniqueness none.
 */

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SUBS(a)		.sub = (a), .nsub = NELEM(a)

static const char *const ref_external[] = { "external", NULL };
static const char *const ref_uri[] = { "uri", NULL };
static const char *const ref_user[] = { "User", NULL };
static const char *const ref_user_group[] = { "User", "Group", NULL };

static const char *const cv_email_type[] = { "work", "home", "other", NULL };
static const char *const cv_phone_type[] = {
	"work", "home", "mobile", "fax", "pager", "other", NULL
};
static const char *const cv_im_type[] = {
	"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo", NULL
};
static const char *const cv_photo_type[] = { "photo", "thumbnail", NULL };
static const char *const cv_addr_type[] = { "work", "home", "other", NULL };
static const char *const cv_group_type[] = { "direct", "indirect", NULL };
static const char *const cv_member_type[] = { "User", "Group", NULL };
static const char *const cv_risk[] = {
	"low", "medium", "high", "critical", NULL
};

/* ---- common attributes (RFC 7643 §3.1) ---- */

static const struct scim_attr meta_subs[] = {
	{ .name = "resourceType", .type = SCIM_T_STRING, .case_exact = 1,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "The name of the resource type of the resource." },
	{ .name = "created", .type = SCIM_T_DATETIME,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "The date and time the resource was added to the "
	  "service provider." },
	{ .name = "lastModified", .type = SCIM_T_DATETIME,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "The most recent date and time the resource was "
	  "modified in the service provider." },
	{ .name = "location", .type = SCIM_T_REFERENCE, .case_exact = 1,
	  .mutability = SCIM_MUT_READ_ONLY, .reference_types = ref_uri,
	  .description = "The URI of the resource being returned." },
	{ .name = "version", .type = SCIM_T_STRING, .case_exact = 1,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "The version (ETag) of the resource being "
	  "returned." },
};

static const struct scim_attr common_attrs[] = {
	{ .name = "id", .type = SCIM_T_STRING, .case_exact = 1,
	  .mutability = SCIM_MUT_READ_ONLY, .returned = SCIM_RET_ALWAYS,
	  .uniqueness = SCIM_UNIQ_SERVER,
	  .description = "Unique identifier for the SCIM resource as "
	  "defined by the service provider." },
	{ .name = "externalId", .type = SCIM_T_STRING, .case_exact = 1,
	  .description = "An identifier for the resource as defined by the "
	  "provisioning client." },
	{ .name = "meta", .type = SCIM_T_COMPLEX,
	  .mutability = SCIM_MUT_READ_ONLY, SUBS(meta_subs),
	  .description = "Resource metadata maintained by the service "
	  "provider." },
};

static const struct scim_schema schema_common = {
	.id = "common",
	.name = "Common",
	.description = "Attributes common to all resources (pseudo-schema)",
	.attrs = common_attrs,
	.nattrs = NELEM(common_attrs),
	.is_extension = 0,
};

/* ---- core User (RFC 7643 §4.1, §8.7.1) ---- */

static const struct scim_attr name_subs[] = {
	{ .name = "formatted", .type = SCIM_T_STRING,
	  .description = "The full name, including all middle names, "
	  "titles, and suffixes as appropriate, formatted for display." },
	{ .name = "familyName", .type = SCIM_T_STRING,
	  .description = "The family name of the User, or last name in most "
	  "Western languages." },
	{ .name = "givenName", .type = SCIM_T_STRING,
	  .description = "The given name of the User, or first name in most "
	  "Western languages." },
	{ .name = "middleName", .type = SCIM_T_STRING,
	  .description = "The middle name(s) of the User." },
	{ .name = "honorificPrefix", .type = SCIM_T_STRING,
	  .description = "The honorific prefix(es) of the User, or title in "
	  "most Western languages (e.g., 'Ms.')." },
	{ .name = "honorificSuffix", .type = SCIM_T_STRING,
	  .description = "The honorific suffix(es) of the User, or suffix in "
	  "most Western languages (e.g., 'III')." },
};

static const struct scim_attr email_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .description = "Email address for the User, canonicalized "
	  "according to RFC 5321." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .canonical_values = cv_email_type,
	  .description = "A label indicating the attribute's function, "
	  "e.g., 'work' or 'home'." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary or preferred "
	  "email address." },
};

static const struct scim_attr phone_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .description = "Phone number of the User (RFC 3966 format "
	  "preferred)." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .canonical_values = cv_phone_type,
	  .description = "A label indicating the attribute's function, "
	  "e.g., 'work', 'home', 'mobile'." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary or preferred "
	  "phone number." },
};

static const struct scim_attr im_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .description = "Instant messaging address for the User." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .canonical_values = cv_im_type,
	  .description = "A label indicating the attribute's function, "
	  "e.g., 'aim', 'gtalk', 'xmpp'." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary or preferred "
	  "messenger address." },
};

static const struct scim_attr photo_subs[] = {
	{ .name = "value", .type = SCIM_T_REFERENCE,
	  .reference_types = ref_external,
	  .description = "URL of a photo of the User." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .canonical_values = cv_photo_type,
	  .description = "A label indicating the attribute's function, "
	  "i.e., 'photo' or 'thumbnail'." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary photo." },
};

static const struct scim_attr addr_subs[] = {
	{ .name = "formatted", .type = SCIM_T_STRING,
	  .description = "The full mailing address, formatted for display "
	  "or use with a mailing label." },
	{ .name = "streetAddress", .type = SCIM_T_STRING,
	  .description = "The full street address component, which may "
	  "include house number, street name, P.O. box, and multi-line "
	  "extended street address information." },
	{ .name = "locality", .type = SCIM_T_STRING,
	  .description = "The city or locality component." },
	{ .name = "region", .type = SCIM_T_STRING,
	  .description = "The state or region component." },
	{ .name = "postalCode", .type = SCIM_T_STRING,
	  .description = "The zip code or postal code component." },
	{ .name = "country", .type = SCIM_T_STRING,
	  .description = "The country name component (ISO 3166-1 alpha-2 "
	  "code)." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .canonical_values = cv_addr_type,
	  .description = "A label indicating the attribute's function, "
	  "e.g., 'work' or 'home'." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary or preferred "
	  "mailing address." },
};

static const struct scim_attr ugroup_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "The identifier of the User's group." },
	{ .name = "$ref", .type = SCIM_T_REFERENCE,
	  .mutability = SCIM_MUT_READ_ONLY, .reference_types = ref_user_group,
	  .description = "The URI of the corresponding 'Group' resource to "
	  "which the user belongs." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_READ_ONLY, .canonical_values = cv_group_type,
	  .description = "A label indicating the attribute's function, "
	  "e.g., 'direct' or 'indirect'." },
};

static const struct scim_attr entitlement_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .description = "The value of an entitlement." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .description = "A label indicating the attribute's function." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary "
	  "entitlement." },
};

static const struct scim_attr role_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .description = "The value of a role." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .description = "A label indicating the attribute's function." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary role." },
};

static const struct scim_attr x509_subs[] = {
	{ .name = "value", .type = SCIM_T_BINARY,
	  .description = "The value of an X.509 certificate (base64 DER)." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .description = "A human-readable name, primarily used for display "
	  "purposes." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .description = "A label indicating the attribute's function." },
	{ .name = "primary", .type = SCIM_T_BOOLEAN,
	  .description = "Indicates whether this is the primary "
	  "certificate." },
};

static const struct scim_attr user_attrs[] = {
	{ .name = "userName", .type = SCIM_T_STRING, .required = 1,
	  .uniqueness = SCIM_UNIQ_SERVER,
	  .description = "Unique identifier for the User, typically used by "
	  "the user to directly authenticate to the service provider. "
	  "Unique across the service provider, compared "
	  "case-insensitively." },
	{ .name = "name", .type = SCIM_T_COMPLEX, SUBS(name_subs),
	  .description = "The components of the user's real name." },
	{ .name = "displayName", .type = SCIM_T_STRING,
	  .description = "The name of the User, suitable for display to "
	  "end-users." },
	{ .name = "nickName", .type = SCIM_T_STRING,
	  .description = "The casual way to address the user in real life." },
	{ .name = "profileUrl", .type = SCIM_T_REFERENCE,
	  .reference_types = ref_external,
	  .description = "A fully qualified URL pointing to a page "
	  "representing the User's online profile." },
	{ .name = "title", .type = SCIM_T_STRING,
	  .description = "The user's title, such as \"Vice President\"." },
	{ .name = "userType", .type = SCIM_T_STRING,
	  .description = "Used to identify the relationship between the "
	  "organization and the user, e.g. 'Contractor', 'Employee'." },
	{ .name = "preferredLanguage", .type = SCIM_T_STRING,
	  .description = "The User's preferred written or spoken language "
	  "(RFC 7231 Accept-Language format, e.g. 'en-US')." },
	{ .name = "locale", .type = SCIM_T_STRING,
	  .description = "The User's default location for localizing items "
	  "such as currency and date formats (e.g. 'en-US')." },
	{ .name = "timezone", .type = SCIM_T_STRING,
	  .description = "The User's time zone in the IANA Time Zone "
	  "database format, e.g. 'America/Los_Angeles'." },
	{ .name = "active", .type = SCIM_T_BOOLEAN,
	  .description = "A Boolean value indicating the User's "
	  "administrative status." },
	{ .name = "password", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_WRITE_ONLY, .returned = SCIM_RET_NEVER,
	  .description = "The User's cleartext password. Accepted and "
	  "discarded: this service never stores or returns passwords." },
	{ .name = "emails", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(email_subs),
	  .description = "Email addresses for the user." },
	{ .name = "phoneNumbers", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(phone_subs),
	  .description = "Phone numbers for the User." },
	{ .name = "ims", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(im_subs),
	  .description = "Instant messaging addresses for the User." },
	{ .name = "photos", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(photo_subs),
	  .description = "URLs of photos of the User." },
	{ .name = "addresses", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(addr_subs),
	  .description = "A physical mailing address for this User." },
	{ .name = "groups", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  .mutability = SCIM_MUT_READ_ONLY, SUBS(ugroup_subs),
	  .description = "A list of groups to which the user belongs, either "
	  "through direct membership or through nested groups. Read-only: "
	  "change membership through the Group resource." },
	{ .name = "entitlements", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(entitlement_subs),
	  .description = "A list of entitlements for the User that represent "
	  "a thing the User has." },
	{ .name = "roles", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(role_subs),
	  .description = "A list of roles for the User that collectively "
	  "represent who the User is, e.g., 'Student', 'Faculty'." },
	{ .name = "x509Certificates", .type = SCIM_T_COMPLEX,
	  .multi_valued = 1, SUBS(x509_subs),
	  .description = "A list of certificates issued to the User." },
};

static const struct scim_schema schema_user = {
	.id = SCIM_SCHEMA_USER,
	.name = "User",
	.description = "User Account",
	.attrs = user_attrs,
	.nattrs = NELEM(user_attrs),
	.is_extension = 0,
};

/* ---- enterprise User extension (RFC 7643 §4.3) ---- */

static const struct scim_attr manager_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .description = "The id of the SCIM resource representing the "
	  "User's manager." },
	{ .name = "$ref", .type = SCIM_T_REFERENCE,
	  .reference_types = ref_user,
	  .description = "The URI of the SCIM resource representing the "
	  "User's manager." },
	{ .name = "displayName", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "The displayName of the User's manager." },
};

static const struct scim_attr enterprise_attrs[] = {
	{ .name = "employeeNumber", .type = SCIM_T_STRING,
	  .description = "Numeric or alphanumeric identifier assigned to a "
	  "person, typically based on order of hire or association with an "
	  "organization." },
	{ .name = "costCenter", .type = SCIM_T_STRING,
	  .description = "Identifies the name of a cost center." },
	{ .name = "organization", .type = SCIM_T_STRING,
	  .description = "Identifies the name of an organization." },
	{ .name = "division", .type = SCIM_T_STRING,
	  .description = "Identifies the name of a division." },
	{ .name = "department", .type = SCIM_T_STRING,
	  .description = "Identifies the name of a department." },
	{ .name = "manager", .type = SCIM_T_COMPLEX, SUBS(manager_subs),
	  .description = "The User's manager." },
};

static const struct scim_schema schema_enterprise = {
	.id = SCIM_SCHEMA_ENTERPRISE,
	.name = "EnterpriseUser",
	.description = "Enterprise User",
	.attrs = enterprise_attrs,
	.nattrs = NELEM(enterprise_attrs),
	.is_extension = 1,
};

/* ---- PAM User extension (vaultbridge) ---- */

static const struct scim_attr approver_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .description = "The id of the User who approves this user's "
	  "privileged access requests." },
	{ .name = "$ref", .type = SCIM_T_REFERENCE,
	  .reference_types = ref_user,
	  .description = "The URI of the approving User resource." },
	{ .name = "displayName", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "The displayName of the approving User." },
};

static const struct scim_attr pam_attrs[] = {
	{ .name = "privileged", .type = SCIM_T_BOOLEAN,
	  .description = "True if the account is a privileged identity whose "
	  "access is brokered and audited by the PAM bridge." },
	{ .name = "adminRoles", .type = SCIM_T_STRING, .multi_valued = 1,
	  .description = "Administrative roles the user may hold on target "
	  "systems (e.g. 'db-admin', 'domain-admin'). Holding a role here "
	  "makes it requestable, not standing access." },
	{ .name = "vaultScope", .type = SCIM_T_STRING, .multi_valued = 1,
	  .description = "Vault safes or secret scopes the user may be "
	  "granted access to, by name." },
	{ .name = "approver", .type = SCIM_T_COMPLEX, SUBS(approver_subs),
	  .description = "The User who approves this user's just-in-time "
	  "access requests." },
	{ .name = "breakGlass", .type = SCIM_T_BOOLEAN,
	  .description = "True for an emergency (break-glass) account: "
	  "access is granted without approval but alerts and a mandatory "
	  "review follow every use." },
	{ .name = "jitEligible", .type = SCIM_T_BOOLEAN,
	  .description = "True if the user may request just-in-time "
	  "elevation; false means no elevation requests are accepted." },
	{ .name = "maxJitDurationSeconds", .type = SCIM_T_INTEGER,
	  .description = "Upper bound, in seconds, on the duration of one "
	  "just-in-time grant to this user; policy may lower it further." },
	{ .name = "riskLevel", .type = SCIM_T_STRING,
	  .canonical_values = cv_risk,
	  .description = "Risk classification of the account: 'low', "
	  "'medium', 'high' or 'critical'. Policy may require stronger "
	  "approval for higher levels." },
	{ .name = "accessReviewDate", .type = SCIM_T_DATETIME,
	  .description = "When the user's privileged access was last "
	  "certified in an access review." },
	{ .name = "sodTags", .type = SCIM_T_STRING, .multi_valued = 1,
	  .description = "Separation-of-duties tags; access that would "
	  "combine conflicting tags is refused by policy." },
};

static const struct scim_schema schema_pam = {
	.id = SCIM_SCHEMA_PAM,
	.name = "PamUser",
	.description = "Privileged Access Management User extension",
	.attrs = pam_attrs,
	.nattrs = NELEM(pam_attrs),
	.is_extension = 1,
};

/* ---- core Group (RFC 7643 §4.2) ---- */

static const struct scim_attr member_subs[] = {
	{ .name = "value", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_IMMUTABLE,
	  .description = "Identifier of the member of this Group." },
	{ .name = "$ref", .type = SCIM_T_REFERENCE,
	  .mutability = SCIM_MUT_IMMUTABLE, .reference_types = ref_user_group,
	  .description = "The URI corresponding to a SCIM resource that is a "
	  "member of this Group." },
	{ .name = "type", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_IMMUTABLE, .canonical_values = cv_member_type,
	  .description = "A label indicating the type of resource, e.g., "
	  "'User' or 'Group'." },
	{ .name = "display", .type = SCIM_T_STRING,
	  .mutability = SCIM_MUT_READ_ONLY,
	  .description = "A human-readable name for the member." },
};

static const struct scim_attr group_attrs[] = {
	{ .name = "displayName", .type = SCIM_T_STRING, .required = 1,
	  .uniqueness = SCIM_UNIQ_SERVER,
	  .description = "A human-readable name for the Group, unique "
	  "across the service provider (compared case-insensitively)." },
	{ .name = "members", .type = SCIM_T_COMPLEX, .multi_valued = 1,
	  SUBS(member_subs),
	  .description = "A list of members of the Group." },
};

static const struct scim_schema schema_group = {
	.id = SCIM_SCHEMA_GROUP,
	.name = "Group",
	.description = "Group",
	.attrs = group_attrs,
	.nattrs = NELEM(group_attrs),
	.is_extension = 0,
};

/* ---- resource types ---- */

static const struct scim_schema *const user_exts[] = {
	&schema_enterprise, &schema_pam, NULL
};
static const struct scim_schema *const group_exts[] = { NULL };

static const struct scim_resource_type rtypes[] = {
	{ .rtype = SCIM_RT_USER, .name = "User", .endpoint = "/Users",
	  .description = "User Account", .schema = &schema_user,
	  .extensions = user_exts },
	{ .rtype = SCIM_RT_GROUP, .name = "Group", .endpoint = "/Groups",
	  .description = "Group", .schema = &schema_group,
	  .extensions = group_exts },
};

static const struct scim_schema *const all_schemas[] = {
	&schema_user, &schema_enterprise, &schema_pam, &schema_group,
};

const struct scim_resource_type *
scim_schema_rtype(enum scim_rtype rt)
{
	return rt == SCIM_RT_GROUP ? &rtypes[1] : &rtypes[0];
}

const struct scim_schema *
scim_schema_by_id(const char *urn, size_t len)
{
	size_t i;

	if (urn == NULL)
		return NULL;
	for (i = 0; i < NELEM(all_schemas); i++)
		if (str_ieq_n(urn, len, all_schemas[i]->id))
			return all_schemas[i];
	return NULL;
}

const struct scim_schema *
scim_schema_common(void)
{
	return &schema_common;
}

int
scim_schema_allowed(enum scim_rtype rt, const char *urn, size_t len)
{
	const struct scim_resource_type *t = scim_schema_rtype(rt);
	size_t i;

	if (urn == NULL)
		return 0;
	if (str_ieq_n(urn, len, t->schema->id))
		return 1;
	for (i = 0; t->extensions[i] != NULL; i++)
		if (str_ieq_n(urn, len, t->extensions[i]->id))
			return 1;
	return 0;
}

const struct scim_attr *
scim_attr_sub(const struct scim_attr *a, const char *name, size_t len)
{
	size_t i;

	if (a == NULL || name == NULL || a->type != SCIM_T_COMPLEX)
		return NULL;
	for (i = 0; i < a->nsub; i++)
		if (str_ieq_n(name, len, a->sub[i].name))
			return &a->sub[i];
	return NULL;
}

const struct scim_attr *
scim_schema_attr(const struct scim_schema *s, const char *name, size_t len)
{
	size_t i;

	if (s == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->nattrs; i++)
		if (str_ieq_n(name, len, s->attrs[i].name))
			return &s->attrs[i];
	return NULL;
}

/* Length of the longest schema id (allowed or not) that prefixes path and
 * is followed by ':'; 0 if none. *sp gets that schema. */
static size_t
urn_prefix(const char *path, size_t len, const struct scim_schema **sp)
{
	size_t i, n, best = 0;

	*sp = NULL;
	for (i = 0; i < NELEM(all_schemas); i++) {
		n = strlen(all_schemas[i]->id);
		if (n >= len || path[n] != ':' || n <= best)
			continue;
		if (str_ieq_n(path, n, all_schemas[i]->id)) {
			best = n;
			*sp = all_schemas[i];
		}
	}
	return best;
}

int
scim_schema_resolve(enum scim_rtype rt, const char *path, size_t len,
    struct scim_attr_path *out)
{
	const struct scim_resource_type *t = scim_schema_rtype(rt);
	const struct scim_schema *s = NULL;
	const struct scim_attr *a = NULL, *sub = NULL;
	const char *dot;
	size_t skip, alen;
	int r = ERR_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	if (path == NULL || len == 0 || len > SCIM_ATTR_NAME_MAX ||
	    memchr(path, '\0', len) != NULL)
		goto out;
	if ((skip = urn_prefix(path, len, &s)) != 0) {
		if (!scim_schema_allowed(rt, s->id, strlen(s->id)))
			goto out;
		path += skip + 1;
		len -= skip + 1;
	}
	if (len == 0 || memchr(path, ':', len) != NULL)
		goto out;
	dot = memchr(path, '.', len);
	alen = dot != NULL ? (size_t)(dot - path) : len;
	if (alen == 0)
		goto out;
	if (s == NULL || s == t->schema) {
		if ((a = scim_schema_attr(t->schema, path, alen)) != NULL)
			s = t->schema;
		else if ((a = scim_schema_attr(&schema_common, path,
		    alen)) != NULL)
			s = &schema_common;
	} else
		a = scim_schema_attr(s, path, alen);
	if (a == NULL)
		goto out;
	if (dot != NULL) {
		/* exactly one level of sub-attributes (RFC 7644 §3.10) */
		if ((sub = scim_attr_sub(a, dot + 1, len - alen - 1)) == NULL)
			goto out;
	}
	out->schema = s;
	out->attr = a;
	out->sub = sub;
	r = 0;
out:
	return r;
}

const char *
scim_type_name(enum scim_type t)
{
	switch (t) {
	case SCIM_T_STRING: return "string";
	case SCIM_T_BOOLEAN: return "boolean";
	case SCIM_T_DECIMAL: return "decimal";
	case SCIM_T_INTEGER: return "integer";
	case SCIM_T_DATETIME: return "dateTime";
	case SCIM_T_BINARY: return "binary";
	case SCIM_T_REFERENCE: return "reference";
	case SCIM_T_COMPLEX: return "complex";
	}
	return "string";
}
