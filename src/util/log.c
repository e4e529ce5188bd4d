#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/bounds.h"
#include "util/errors.h"

/* Set once at startup, before any thread exists; read-only afterwards. */
static enum log_level log_min = LOG_LEVEL_INFO;

void
log_set_level(enum log_level l)
{
	log_min = l;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return ERR_INVALID;
}

static void log_emit(enum log_level l, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_emit(enum log_level l, const char *fmt, va_list ap)
{
	static const char *const tags[] = { "debug", "info", "warn", "error" };
	char line[LOG_LINE_MAX], ts[32];
	struct timespec now;
	struct tm tm;
	int n;

	if (l < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* one write per line so concurrent threads do not interleave */
	fprintf(stderr, "ts=%s.%03ldZ level=%s %s\n", ts,
	    now.tv_nsec / 1000000, tags[l], line);
}

#define LOG_FN(name, lvl)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
	va_start(ap, fmt);						\
	log_emit(lvl, fmt, ap);						\
	va_end(ap);							\
}

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_clean(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	if (outsz == 0)
		return out;
	if (s == NULL)
		s = "(null)";
	for (i = 0; i < LOG_CLIENT_STR_MAX && s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ||
		    c == '=') {
			if (o + 5 >= outsz)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		} else {
			if (o + 1 >= outsz)
				break;
			out[o++] = (char)c;
		}
	}
	if (s[i] != '\0' && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
