#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/bounds.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/strutil.h"
#include "testlib.h"

static void
t_buf_max(void)
{
	struct buf b;

	buf_init(&b, 8);
	ASSERT_STR_EQ(buf_str(&b), "");
	buf_puts(&b, "1234");
	buf_append(&b, "5678", 4);
	ASSERT_FALSE(buf_failed(&b));
	ASSERT_INT_EQ(b.len, 8);
	ASSERT_STR_EQ(buf_str(&b), "12345678");
	/* one byte over the maximum fails, and the contents stay */
	buf_putc(&b, '9');
	ASSERT_TRUE(buf_failed(&b));
	ASSERT_STR_EQ(buf_str(&b), "12345678");
	ASSERT_TRUE(b.cap <= 9);
	buf_free(&b);
	ASSERT_NULL(b.data);
	buf_free(NULL);
	buf_free_wipe(NULL);
}

static void
t_buf_sticky(void)
{
	struct buf b;

	buf_init(&b, 4);
	buf_puts(&b, "abcdef");
	ASSERT_TRUE(buf_failed(&b));
	/* a smaller append after the failure is ignored too */
	buf_puts(&b, "x");
	buf_printf(&b, "%d", 1);
	ASSERT_TRUE(buf_failed(&b));
	ASSERT_INT_EQ(b.len, 0);
	ASSERT_NULL(buf_steal(&b, NULL));
	buf_reset(&b);
	ASSERT_FALSE(buf_failed(&b));
	buf_puts(&b, "ok");
	ASSERT_STR_EQ(buf_str(&b), "ok");
	buf_free_wipe(&b);
}

static void
t_buf_printf(void)
{
	char big[1000];
	struct buf b;
	size_t i;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 100000);
	for (i = 0; i < 50; i++)
		buf_printf(&b, "%zu:%s;", i, "x");
	ASSERT_FALSE(buf_failed(&b));
	ASSERT_TRUE(strncmp(buf_str(&b), "0:x;1:x;2:x;", 12) == 0);
	ASSERT_TRUE(strstr(buf_str(&b), "49:x;") != NULL);
	buf_reset(&b);
	ASSERT_INT_EQ(b.len, 0);
	ASSERT_STR_EQ(buf_str(&b), "");
	buf_printf(&b, "[%s]", big);
	ASSERT_INT_EQ(b.len, 1001);
	ASSERT_INT_EQ(strlen(buf_str(&b)), 1001);
	ASSERT_TRUE(b.data[0] == '[' && b.data[1000] == ']');
	buf_free(&b);

	/* exactly at the maximum fits, one more fails */
	buf_init(&b, 5);
	buf_printf(&b, "%05d", 42);
	ASSERT_FALSE(buf_failed(&b));
	ASSERT_STR_EQ(buf_str(&b), "00042");
	buf_free(&b);
	buf_init(&b, 5);
	buf_printf(&b, "%06d", 42);
	ASSERT_TRUE(buf_failed(&b));
	buf_free(&b);
}

static void
t_buf_steal(void)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 64);
	p = buf_steal(&b, &len);
	ASSERT_NOT_NULL(p);
	ASSERT_STR_EQ(p, "");
	ASSERT_INT_EQ(len, 0);
	free(p);

	buf_append(&b, "a\0b", 3);
	p = buf_steal(&b, &len);
	ASSERT_NOT_NULL(p);
	ASSERT_INT_EQ(len, 3);
	ASSERT_TRUE(memcmp(p, "a\0b", 4) == 0);
	ASSERT_NULL(b.data);
	ASSERT_INT_EQ(b.len, 0);
	ASSERT_STR_EQ(buf_str(&b), "");
	free(p);
	/* the buffer is usable again */
	buf_puts(&b, "again");
	ASSERT_STR_EQ(buf_str(&b), "again");
	buf_free(&b);
}

static void
t_parse_u64(void)
{
	static const struct {
		const char *s;
		uint64_t min, max;
		int ok;
		uint64_t want;
	} tab[] = {
		{ "", 0, UINT64_MAX, 0, 0 },
		{ "0", 0, UINT64_MAX, 1, 0 },
		{ "7", 0, UINT64_MAX, 1, 7 },
		{ "00042", 0, UINT64_MAX, 1, 42 },
		{ "-1", 0, UINT64_MAX, 0, 0 },
		{ "-0", 0, UINT64_MAX, 0, 0 },
		{ "+1", 0, UINT64_MAX, 0, 0 },
		{ " 1", 0, UINT64_MAX, 0, 0 },
		{ "1 ", 0, UINT64_MAX, 0, 0 },
		{ "1\n", 0, UINT64_MAX, 0, 0 },
		{ "1.0", 0, UINT64_MAX, 0, 0 },
		{ "0x10", 0, UINT64_MAX, 0, 0 },
		{ "1e3", 0, UINT64_MAX, 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, 0, 0 },
		{ "99999999999999999999", 0, UINT64_MAX, 0, 0 },
		{ "184467440737095516150", 0, UINT64_MAX, 0, 0 },
		{ "10", 10, 20, 1, 10 },
		{ "20", 10, 20, 1, 20 },
		{ "9", 10, 20, 0, 0 },
		{ "21", 10, 20, 0, 0 },
		{ "65535", 1, 65535, 1, 65535 },
		{ "65536", 1, 65535, 0, 0 },
	};
	uint64_t v;
	size_t i;
	int r;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		v = 12345;
		r = parse_u64(tab[i].s, tab[i].min, tab[i].max, &v);
		if (tab[i].ok && (r != 0 || v != tab[i].want))
			TL_FAIL("case %zu \"%s\": r=%d v=%llu", i, tab[i].s, r,
			    (unsigned long long)v);
		if (!tab[i].ok && (r != ERR_INVALID || v != 12345))
			TL_FAIL("case %zu \"%s\" accepted or *out touched", i,
			    tab[i].s);
	}
	ASSERT_INT_EQ(parse_u64(NULL, 0, 10, &v), ERR_INVALID);
	/* parse_u64n reads exactly len bytes */
	ASSERT_INT_EQ(parse_u64n("123abc", 3, 0, 1000, &v), 0);
	ASSERT_INT_EQ(v, 123);
	ASSERT_INT_EQ(parse_u64n("123abc", 4, 0, 1000, &v), ERR_INVALID);
	ASSERT_INT_EQ(parse_u64n("123", 0, 0, 1000, &v), ERR_INVALID);
}

static void
t_utf8_valid(void)
{
	static const struct {
		const char *s;
		size_t len;
		int ok;
	} tab[] = {
		{ "", 0, 1 },
		{ "plain ascii", 11, 1 },
		{ "a\0b", 3, 1 },			/* NUL is ASCII */
		{ "\xc3\xa9", 2, 1 },			/* é */
		{ "\xe2\x82\xac", 3, 1 },		/* € */
		{ "\xf0\x9f\x98\x80", 4, 1 },		/* 4-byte emoji */
		{ "\xf4\x8f\xbf\xbf", 4, 1 },		/* U+10FFFF */
		{ "\xed\x9f\xbf", 3, 1 },		/* U+D7FF */
		{ "\xee\x80\x80", 3, 1 },		/* U+E000 */
		{ "\xc0\xaf", 2, 0 },			/* overlong '/' */
		{ "\xc1\xbf", 2, 0 },			/* overlong */
		{ "\xe0\x80\xaf", 3, 0 },		/* overlong 3-byte */
		{ "\xe0\x9f\xbf", 3, 0 },		/* overlong U+7FF */
		{ "\xf0\x80\x80\xaf", 4, 0 },		/* overlong 4-byte */
		{ "\xf0\x8f\xbf\xbf", 4, 0 },		/* overlong U+FFFF */
		{ "\xed\xa0\x80", 3, 0 },		/* surrogate D800 */
		{ "\xed\xbf\xbf", 3, 0 },		/* surrogate DFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },		/* > U+10FFFF */
		{ "\xe2\x82", 2, 0 },			/* truncated */
		{ "a\xc3", 2, 0 },			/* truncated at end */
		{ "\xf0\x9f\x98", 3, 0 },		/* truncated 4-byte */
		{ "\x80", 1, 0 },			/* lone continuation */
		{ "\xc3\x28", 2, 0 },			/* bad continuation */
		{ "\xf8\x88\x80\x80\x80", 5, 0 },	/* 5-byte form */
		{ "\xff", 1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (utf8_valid(tab[i].s, tab[i].len) != tab[i].ok)
			TL_FAIL("case %zu", i);
	}
	/* a valid sequence cut by len is truncated */
	ASSERT_INT_EQ(utf8_valid("\xe2\x82\xac", 2), 0);
}

static void
t_log_clean(void)
{
	char out[512], in[300], small[8], want[120];

	ASSERT_STR_EQ(log_clean("abc", out, sizeof(out)), "abc");
	ASSERT_STR_EQ(log_clean("a\"b\\c=d", out, sizeof(out)),
	    "a\\x22b\\x5cc\\x3dd");
	ASSERT_STR_EQ(log_clean("x\ny\r\t\x7f", out, sizeof(out)),
	    "x\\x0ay\\x0d\\x09\\x7f");
	ASSERT_STR_EQ(log_clean("\xc3\xa9", out, sizeof(out)),
	    "\\xc3\\xa9");
	ASSERT_STR_EQ(log_clean(NULL, out, sizeof(out)), "(null)");
	ASSERT_STR_EQ(log_clean("", out, sizeof(out)), "");

	/* cut to LOG_CLIENT_STR_MAX input bytes, marked with "..." */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	memset(want, 'a', LOG_CLIENT_STR_MAX);
	memcpy(want + LOG_CLIENT_STR_MAX, "...", 4);
	ASSERT_STR_EQ(log_clean(in, out, sizeof(out)), want);
	in[LOG_CLIENT_STR_MAX] = '\0';
	want[LOG_CLIENT_STR_MAX] = '\0';
	ASSERT_STR_EQ(log_clean(in, out, sizeof(out)), want);

	/* a small output buffer is never overrun and stays terminated */
	memset(small, 'Z', sizeof(small));
	log_clean("abcdefghijkl", small, 5);
	ASSERT_STR_EQ(small, "abcd");
	ASSERT_TRUE(small[5] == 'Z');
	log_clean("\n\n\n", small, 8);
	ASSERT_STR_EQ(small, "\\x0a");
	small[0] = 'Q';
	log_clean("abc", small, 0);
	ASSERT_TRUE(small[0] == 'Q');
}

static void
t_str_is_uuid(void)
{
	static const struct {
		const char *s;
		int ok;
	} tab[] = {
		{ "123e4567-e89b-12d3-a456-426614174000", 1 },
		{ "00000000-0000-0000-0000-000000000000", 1 },
		{ "123E4567-e89b-12d3-a456-426614174000", 0 },
		{ "123e4567e89b-12d3-a456-4266141740000", 0 },
		{ "123e4567-e89b-12d3-a456-42661417400", 0 },
		{ "123e4567-e89b-12d3-a456-4266141740000", 0 },
		{ "123e4567-e89b-12d3-a456-42661417400g", 0 },
		{ "{23e4567-e89b-12d3-a456-426614174000", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (str_is_uuid(tab[i].s) != tab[i].ok)
			TL_FAIL("case %zu %s", i, tab[i].s);
	}
	ASSERT_INT_EQ(str_is_uuid(NULL), 0);
}

static void
t_file_read_small(void)
{
	char dir[] = "/tmp/vbtest-util-XXXXXX", path[64];
	char *p = NULL;
	size_t len = 99;
	int fd;

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, "hello\r\n\n", 8), 8);
	close(fd);

	ASSERT_INT_EQ(file_read_small(path, 100, &p, &len), 0);
	ASSERT_STR_EQ(p, "hello");
	ASSERT_INT_EQ(len, 5);
	free(p);
	/* the limit is on the file size, newlines included */
	ASSERT_INT_EQ(file_read_small(path, 8, &p, NULL), 0);
	free(p);
	ASSERT_INT_EQ(file_read_small(path, 7, &p, &len), ERR_TOO_LARGE);
	ASSERT_NULL(p);
	ASSERT_INT_EQ(file_read_small(dir, 100, &p, &len), ERR_IO);
	ASSERT_NULL(p);

	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_INT_EQ(file_read_small(path, 100, &p, &len), 0);
	ASSERT_STR_EQ(p, "");
	ASSERT_INT_EQ(len, 0);
	free(p);

	ASSERT_INT_EQ(unlink(path), 0);
	ASSERT_INT_EQ(file_read_small(path, 100, &p, &len), ERR_IO);
	ASSERT_NULL(p);
	ASSERT_INT_EQ(rmdir(dir), 0);
}

static void
t_str_misc(void)
{
	char *p;

	ASSERT_INT_EQ(str_ieq_n("Bearer x", 6, "bearer"), 1);
	ASSERT_INT_EQ(str_ieq_n("Bearer", 6, "bearerx"), 0);
	ASSERT_INT_EQ(str_ieq_n("Beare", 5, "bearer"), 0);
	ASSERT_INT_EQ(str_ieq_n("", 0, ""), 1);
	p = str_ndup("abcdef", 3);
	ASSERT_STR_EQ(p, "abc");
	free(p);
}

static void
t_errors(void)
{
	struct api_error e;

	ASSERT_STR_EQ(err_str(ERR_CONFIG), "configuration error");
	ASSERT_STR_EQ(err_str(12345), "unknown error");
	api_error_clear(&e);
	ASSERT_INT_EQ(api_error_set(&e, 400, SCIM_ET_INVALID_VALUE, "bad %s",
	    "x"), ERR_INVALID);
	/* the first error set wins */
	ASSERT_INT_EQ(api_error_set(&e, 409, SCIM_ET_UNIQUENESS, "other"),
	    ERR_INVALID);
	ASSERT_INT_EQ(e.status, 400);
	ASSERT_STR_EQ(e.scim_type, "invalidValue");
	ASSERT_STR_EQ(e.detail, "bad x");
	ASSERT_INT_EQ(api_error_set(NULL, 400, NULL, "x"), ERR_INVALID);
}

static void
t_log_level(void)
{
	enum log_level l = LOG_LEVEL_ERROR;

	ASSERT_INT_EQ(log_level_parse("debug", &l), 0);
	ASSERT_INT_EQ(l, LOG_LEVEL_DEBUG);
	ASSERT_INT_EQ(log_level_parse("WARN", &l), 0);
	ASSERT_INT_EQ(l, LOG_LEVEL_WARN);
	ASSERT_INT_EQ(log_level_parse("warning", &l), ERR_INVALID);
	ASSERT_INT_EQ(log_level_parse("", &l), ERR_INVALID);
}

/* json_depth_ok: nesting counted outside strings only; err_msg. */
static void
t_json_depth(void)
{
	static const struct {
		const char *text;
		int max;
		int ok;
	} tab[] = {
		{ "{}", 1, 1 },
		{ "{\"a\":[1,{\"b\":2}]}", 3, 1 },
		{ "{\"a\":[1,{\"b\":2}]}", 2, 0 },
		{ "[[[[]]]]", 4, 1 },
		{ "[[[[]]]]", 3, 0 },
		/* brackets inside strings do not count, escapes are skipped */
		{ "{\"s\":\"[[[[{{{{\"}", 1, 1 },
		{ "{\"s\":\"\\\"[[[[\"}", 1, 1 },
		/* depth is the deepest point, not the number of brackets */
		{ "[[],[],[],[]]", 2, 1 },
		{ "", 0, 1 },
	};
	char err[8];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		ASSERT_INT_EQ(json_depth_ok(tab[i].text, strlen(tab[i].text),
		    tab[i].max), tab[i].ok);
	err_msg(err, sizeof(err), "%s-%d", "abcdef", 42);
	ASSERT_STR_EQ(err, "abcdef-");
	err_msg(NULL, 0, "%s", "nothing happens");
}

/* CLOCK_MONOTONIC in ms: never goes back, and a 20 ms nap shows. */
static void
t_clock_mono(void)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	long long a, b;

	a = clock_mono_ms();
	ASSERT_TRUE(a >= 0);
	nanosleep(&nap, NULL);
	b = clock_mono_ms();
	ASSERT_TRUE(b >= a + 19);
	ASSERT_TRUE(b < a + 10000);
}

static const struct testlib_case cases[] = {
	{ "buf_max", t_buf_max },
	{ "clock_mono", t_clock_mono },
	{ "json_depth", t_json_depth },
	{ "buf_sticky", t_buf_sticky },
	{ "buf_printf", t_buf_printf },
	{ "buf_steal", t_buf_steal },
	{ "parse_u64", t_parse_u64 },
	{ "utf8_valid", t_utf8_valid },
	{ "log_clean", t_log_clean },
	{ "str_is_uuid", t_str_is_uuid },
	{ "file_read_small", t_file_read_small },
	{ "str_misc", t_str_misc },
	{ "errors", t_errors },
	{ "log_level", t_log_level },
};

/* testlib.h's main keeps counters in non-volatile locals across setjmp */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
TEST_MAIN(cases)
