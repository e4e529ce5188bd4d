#include "util/strutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
parse_u64n(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	unsigned d;

	if (s == NULL || len == 0 || len > 20)
		return ERR_INVALID;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_INVALID;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return ERR_INVALID;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return ERR_INVALID;
	*out = v;
	return 0;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (s == NULL)
		return ERR_INVALID;
	return parse_u64n(s, strlen(s), min, max, out);
}

int
utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
str_ieq_n(const char *s, size_t n, const char *t)
{
	size_t i;
	unsigned char a, b;

	for (i = 0; i < n; i++) {
		a = (unsigned char)s[i];
		b = (unsigned char)t[i];
		if (b == '\0')
			return 0;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + 32);
		if (a != b)
			return 0;
	}
	return t[n] == '\0';
}

char *
str_ndup(const char *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
str_is_uuid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int
file_read_small(const char *path, size_t max, char **outp, size_t *lenp)
{
	struct stat st;
	char *p = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, r = ERR_IO;

	*outp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto out;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if ((size_t)st.st_size > max) {
		r = ERR_TOO_LARGE;
		goto out;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, p + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		len += (size_t)n;
	}
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	p[len] = '\0';
	*outp = p;
	p = NULL;
	if (lenp != NULL)
		*lenp = len;
	r = 0;
out:
	free(p);
	if (fd >= 0)
		close(fd);
	return r;
}

int
json_depth_ok(const char *s, size_t n, int max)
{
	size_t i;
	int depth = 0, in_str = 0;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			in_str = 1;
			break;
		case '[':
		case '{':
			if (++depth > max)
				return 0;
			break;
		case ']':
		case '}':
			depth--;
			break;
		default:
			break;
		}
	}
	return 1;
}
