/* scim/value: the one definition of xsd:dateTime and boolean values. */
#include <string.h>

#include <jansson.h>

#include "scim/value.h"
#include "testlib.h"

static const struct {
	const char *text;
	int ok;
	long long secs;		/* when ok */
	long nanos;
} dt_cases[] = {
	{ "1970-01-01T00:00:00Z", 1, 0, 0 },
	{ "1970-01-01T00:00:00", 1, 0, 0 },		/* no zone: UTC */
	{ "2011-05-13T04:42:34Z", 1, 1305261754, 0 },	/* RFC 7644 example */
	{ "2011-05-13T04:42:34.5Z", 1, 1305261754, 500000000 },
	{ "2011-05-13T04:42:34.123456789Z", 1, 1305261754, 123456789 },
	{ "2011-05-13T06:42:34+02:00", 1, 1305261754, 0 },
	{ "2011-05-12T23:42:34-05:00", 1, 1305261754, 0 },
	{ "2011-05-13t04:42:34z", 1, 1305261754, 0 },	/* RFC 3339 case */
	{ "2020-02-29T00:00:00Z", 1, 1582934400, 0 },	/* leap year */
	{ "2000-02-29T00:00:00Z", 1, 951782400, 0 },	/* 400-year rule */
	{ "2016-12-31T23:59:60Z", 1, 1483228800, 0 },	/* leap second */
	{ "0001-01-01T00:00:00Z", 1, -62135596800LL, 0 },
	{ "9999-12-31T23:59:59Z", 1, 253402300799LL, 0 },
	{ "2020-01-01T00:00:00+14:00", 1, 1577786400, 0 },
	{ "0000-01-01T00:00:00Z", 0, 0, 0 },		/* PostgreSQL refuses */
	{ "2019-02-29T00:00:00Z", 0, 0, 0 },		/* not a leap year */
	{ "1900-02-29T00:00:00Z", 0, 0, 0 },		/* 100-year rule */
	{ "2020-04-31T00:00:00Z", 0, 0, 0 },
	{ "2020-13-01T00:00:00Z", 0, 0, 0 },
	{ "2020-00-01T00:00:00Z", 0, 0, 0 },
	{ "2020-01-00T00:00:00Z", 0, 0, 0 },
	{ "2020-01-01T24:00:00Z", 0, 0, 0 },
	{ "2020-01-01T00:60:00Z", 0, 0, 0 },
	{ "2020-01-01T00:00:61Z", 0, 0, 0 },
	{ "2020-01-01T00:00:00+14:01", 0, 0, 0 },
	{ "2020-01-01T00:00:00+15:00", 0, 0, 0 },
	{ "2020-01-01T00:00:00+0100", 0, 0, 0 },
	{ "2020-01-01T00:00:00.Z", 0, 0, 0 },
	{ "2020-01-01T00:00:00ZZ", 0, 0, 0 },
	{ "2020-01-01 00:00:00Z", 0, 0, 0 },
	{ "2020-01-01", 0, 0, 0 },
	{ "20200101T000000Z", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "2020-01-01T00:00:00Z trailing", 0, 0, 0 },
	{ "+2020-01-01T00:00:00Z", 0, 0, 0 },
};

static void
test_datetime_table(void)
{
	struct scim_datetime d;
	size_t i;
	int r;

	for (i = 0; i < sizeof(dt_cases) / sizeof(dt_cases[0]); i++) {
		memset(&d, 0, sizeof(d));
		r = scim_datetime_parse(dt_cases[i].text,
		    strlen(dt_cases[i].text), &d);
		if ((r == 0) != dt_cases[i].ok)
			TL_FAIL("\"%s\": parse %s", dt_cases[i].text,
			    r == 0 ? "accepted" : "refused");
		if (!dt_cases[i].ok)
			continue;
		if (d.secs != dt_cases[i].secs || d.nanos != dt_cases[i].nanos)
			TL_FAIL("\"%s\": %lld.%09ld, want %lld.%09ld",
			    dt_cases[i].text, d.secs, d.nanos,
			    dt_cases[i].secs, dt_cases[i].nanos);
		/* checking without a result gives the same verdict */
		ASSERT_INT_EQ(scim_datetime_parse(dt_cases[i].text,
		    strlen(dt_cases[i].text), NULL), 0);
	}
}

static void
test_datetime_length_bound(void)
{
	const char *s = "2011-05-13T04:42:34Z";

	/* the length given is what counts, not a NUL */
	ASSERT_INT_EQ(scim_datetime_parse(s, 19, NULL), 0);
	ASSERT_INT_EQ(scim_datetime_parse(s, 18, NULL), ERR_INVALID);
	ASSERT_INT_EQ(scim_datetime_parse(s, 0, NULL), ERR_INVALID);
}

static void
test_datetime_cmp(void)
{
	struct scim_datetime a, b;

	ASSERT_INT_EQ(scim_datetime_parse("2011-05-13T04:42:34Z", 20, &a), 0);
	ASSERT_INT_EQ(scim_datetime_parse("2011-05-13T06:42:34+02:00", 25,
	    &b), 0);
	ASSERT_INT_EQ(scim_datetime_cmp(&a, &b), 0);
	ASSERT_INT_EQ(scim_datetime_parse("2011-05-13T04:42:34.001Z", 24,
	    &b), 0);
	ASSERT_TRUE(scim_datetime_cmp(&a, &b) < 0);
	ASSERT_TRUE(scim_datetime_cmp(&b, &a) > 0);
}

static const struct {
	const char *json;
	int ok;
	int value;
} bool_cases[] = {
	{ "true", 1, 1 }, { "false", 1, 0 },
	{ "\"True\"", 1, 1 }, { "\"False\"", 1, 0 },	/* Microsoft Entra ID */
	{ "\"TRUE\"", 1, 1 }, { "\"false\"", 1, 0 },
	{ "\"yes\"", 0, 0 }, { "\"1\"", 0, 0 }, { "1", 0, 0 }, { "0", 0, 0 },
	{ "null", 0, 0 }, { "\"\"", 0, 0 }, { "\"truee\"", 0, 0 },
	{ "\"tru\"", 0, 0 }, { "[true]", 0, 0 }, { "{}", 0, 0 },
};

static void
test_bool_table(void)
{
	json_t *v;
	size_t i;
	int b, r;

	for (i = 0; i < sizeof(bool_cases) / sizeof(bool_cases[0]); i++) {
		v = json_loads(bool_cases[i].json, JSON_DECODE_ANY, NULL);
		ASSERT_NOT_NULL(v);
		b = -1;
		r = scim_bool_parse(v, &b);
		json_decref(v);
		if ((r == 0) != bool_cases[i].ok)
			TL_FAIL("%s: %s", bool_cases[i].json,
			    r == 0 ? "accepted" : "refused");
		if (bool_cases[i].ok && b != bool_cases[i].value)
			TL_FAIL("%s: %d, want %d", bool_cases[i].json, b,
			    bool_cases[i].value);
	}
}

static const struct testlib_case cases[] = {
	{ "dateTime table", test_datetime_table },
	{ "dateTime length is the bound", test_datetime_length_bound },
	{ "dateTime ordering across zones", test_datetime_cmp },
	{ "boolean table", test_bool_table },
};

TEST_MAIN(cases)
