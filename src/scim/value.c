#include "scim/value.h"

#include "util/strutil.h"

static int
num(const char *s, size_t len, size_t at, size_t cnt, int *vp)
{
	size_t i;
	int v = 0;

	if (at + cnt > len)
		return ERR_INVALID;
	for (i = at; i < at + cnt; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_INVALID;
		v = v * 10 + (s[i] - '0');
	}
	*vp = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long
days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
scim_datetime_parse(const char *s, size_t len, struct scim_datetime *out)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, leap;
	size_t i = 19;
	long frac = 0, scale = 100000000;
	long long off = 0;

	if (len < 19 || num(s, len, 0, 4, &y) != 0 || s[4] != '-' ||
	    num(s, len, 5, 2, &mo) != 0 || s[7] != '-' ||
	    num(s, len, 8, 2, &d) != 0 || (s[10] != 'T' && s[10] != 't') ||
	    num(s, len, 11, 2, &h) != 0 || s[13] != ':' ||
	    num(s, len, 14, 2, &mi) != 0 || s[16] != ':' ||
	    num(s, len, 17, 2, &sec) != 0)
		return ERR_INVALID;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
	    sec > 60)
		return ERR_INVALID;
	if (i < len && s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return ERR_INVALID;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i < len && (s[i] == '+' || s[i] == '-')) {
		if (num(s, len, i + 1, 2, &oh) != 0 || i + 3 >= len ||
		    s[i + 3] != ':' || num(s, len, i + 4, 2, &om) != 0 ||
		    oh > 14 || om > 59 || (oh == 14 && om != 0))
			return ERR_INVALID;
		off = (oh * 3600LL + om * 60LL) * (s[i] == '+' ? 1 : -1);
		i += 6;
	}
	if (i != len)
		return ERR_INVALID;
	if (out != NULL) {
		out->secs = days_from_civil(y, mo, d) * 86400LL + h * 3600LL +
		    mi * 60LL + sec - off;
		out->nanos = frac;
	}
	return 0;
}

int
scim_datetime_cmp(const struct scim_datetime *a, const struct scim_datetime *b)
{
	if (a->secs != b->secs)
		return a->secs < b->secs ? -1 : 1;
	if (a->nanos != b->nanos)
		return a->nanos < b->nanos ? -1 : 1;
	return 0;
}

int
scim_bool_parse(const json_t *v, int *out)
{
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v)) {
		if (str_ieq_n(json_string_value(v), json_string_length(v),
		    "true")) {
			*out = 1;
			return 0;
		}
		if (str_ieq_n(json_string_value(v), json_string_length(v),
		    "false")) {
			*out = 0;
			return 0;
		}
	}
	return ERR_INVALID;
}
