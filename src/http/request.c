#include "http/request.h"

#include <string.h>

#include "http/router.h"
#include "util/strutil.h"

/*
 * Request helpers for handlers (query lookup, plain JSON errors) and the
 * pure request-line helpers of http/router.h (path decoding, routing).
 */

const char *
request_query(const struct request *r, const char *name)
{
	size_t i;

	if (r == NULL || name == NULL)
		return NULL;
	for (i = 0; i < r->nquery && i < HTTP_QUERY_PARAMS_MAX; i++) {
		if (r->query[i].name != NULL &&
		    strcmp(r->query[i].name, name) == 0)
			return r->query[i].value != NULL ? r->query[i].value
							 : "";
	}
	return NULL;
}

/* Append s as a JSON string literal. Bytes that are not valid UTF-8
 * become '?' so the document stays valid whatever s holds. */
static void
req_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int ascii_only;

	ascii_only = !utf8_valid(s, strlen(s));
	buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_puts(b, "\\u00");
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 0xf]);
		} else if (*p >= 0x80 && ascii_only)
			buf_putc(b, '?');
		else
			buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

void
response_json_error(
    struct response *resp, int status, const char *code, const char *detail)
{
	if (resp->body.data == NULL && resp->body.max == 0)
		buf_init(&resp->body, HTTP_RESPONSE_MAX);
	buf_reset(&resp->body);
	resp->status = status;
	resp->content_type = CT_JSON;
	buf_puts(&resp->body, "{\"error\":");
	req_json_str(&resp->body, code != NULL ? code : "error");
	buf_puts(&resp->body, ",\"detail\":");
	req_json_str(&resp->body, detail != NULL ? detail : "");
	buf_putc(&resp->body, '}');
	if (buf_failed(&resp->body)) {
		buf_reset(&resp->body);
		buf_puts(&resp->body, "{\"error\":\"error\"}");
	}
}

enum http_method
http_method_parse(const char *s)
{
	static const struct {
		const char *name;
		enum http_method m;
	} methods[] = {
	    {"GET", HTTP_GET},
	    {"POST", HTTP_POST},
	    {"PUT", HTTP_PUT},
	    {"PATCH", HTTP_PATCH},
	    {"DELETE", HTTP_DELETE},
	    {"HEAD", HTTP_HEAD},
	};
	size_t i;

	if (s == NULL)
		return HTTP_OTHER;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(s, methods[i].name) == 0)
			return methods[i].m;
	}
	return HTTP_OTHER;
}

const char *
http_method_name(enum http_method m)
{
	switch (m) {
	case HTTP_GET:
		return "GET";
	case HTTP_POST:
		return "POST";
	case HTTP_PUT:
		return "PUT";
	case HTTP_PATCH:
		return "PATCH";
	case HTTP_DELETE:
		return "DELETE";
	case HTTP_HEAD:
		return "HEAD";
	case HTTP_OTHER:
		break;
	}
	return "OTHER";
}

static int
req_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
http_path_unescape(char *s)
{
	size_t i = 0, o = 0;
	int hi, lo;

	while (s[i] != '\0') {
		if (s[i] == '%' && (hi = req_hexval(s[i + 1])) >= 0 &&
		    (lo = req_hexval(s[i + 2])) >= 0) {
			/* a decoded NUL would cut the string silently */
			s[o++] = (hi == 0 && lo == 0) ? (char)0xff
						      : (char)(hi * 16 + lo);
			i += 3;
		} else
			s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

int
http_path_check(const char *path)
{
	const char *seg, *p;
	size_t len, n;

	if (path == NULL || path[0] != '/')
		return ERR_INVALID;
	len = strnlen(path, HTTP_PATH_MAX);
	if (len >= HTTP_PATH_MAX)
		return ERR_TOO_LARGE;
	if (!utf8_valid(path, len))
		return ERR_INVALID;
	for (p = path; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ERR_INVALID;
	}
	for (seg = path + 1;; seg += n + 1) {
		n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return ERR_INVALID;
		if (seg[n] == '\0')
			break;
	}
	return 0;
}

size_t
http_route_param_len(const char *param)
{
	return param != NULL ? strcspn(param, "/") : 0;
}

/* Length of the path segment at s, ending at '/' or at end. */
static size_t
req_seglen(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && *p != '/')
		p++;
	return (size_t)(p - s);
}

/*
 * Match pattern pat against path[0..pathlen). Captures go to
 * params[0..nparams) when params is not NULL. 1 match, 0 not.
 */
static int
req_route_match(const char *pat, const char *path, size_t pathlen,
    const char **params, size_t nparams)
{
	const char *s = path, *end = path + pathlen, *p = pat;
	size_t np = 0, pl, sl;

	if (pat == NULL)
		return 0;
	while (*p == '/') {
		if (s >= end || *s != '/')
			return 0;
		p++;
		s++;
		pl = strcspn(p, "/");
		sl = req_seglen(s, end);
		if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
			if (sl == 0 || np >= nparams)
				return 0;
			if (params != NULL)
				params[np] = s;
			np++;
		} else if (pl != sl || memcmp(p, s, pl) != 0)
			return 0;
		p += pl;
		s += sl;
	}
	return *p == '\0' && s == end;
}

static size_t
req_route_pathlen(const char *path)
{
	size_t len = strlen(path);

	if (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

int
http_route_find(const struct http_route *routes, unsigned n, enum http_method m,
    const char *path, const char **params, size_t nparams,
    const struct http_route **out)
{
	size_t len, i;
	unsigned k;
	int seen = 0;

	*out = NULL;
	for (i = 0; params != NULL && i < nparams; i++)
		params[i] = NULL;
	if (routes == NULL || path == NULL || path[0] != '/')
		return ERR_NOT_FOUND;
	len = req_route_pathlen(path);
	for (k = 0; k < n; k++) {
		if (!req_route_match(
			routes[k].pattern, path, len, params, nparams))
			continue;
		if (m != HTTP_OTHER && routes[k].method == m) {
			*out = &routes[k];
			return 0;
		}
		seen = 1;
	}
	for (i = 0; params != NULL && i < nparams; i++)
		params[i] = NULL;
	return seen ? HTTP_ROUTE_BAD_METHOD : ERR_NOT_FOUND;
}

size_t
http_route_allow(const struct http_route *routes, unsigned n, const char *path,
    char *out, size_t outsz)
{
	unsigned done = 0, bit, k;
	size_t len, o = 0, nl, count = 0;
	const char *name;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (routes == NULL || path == NULL || path[0] != '/')
		return 0;
	len = req_route_pathlen(path);
	for (k = 0; k < n; k++) {
		if (routes[k].method == HTTP_OTHER ||
		    !req_route_match(routes[k].pattern, path, len, NULL,
			HTTP_ROUTE_PARAMS_MAX))
			continue;
		bit = 1u << (unsigned)routes[k].method;
		if (done & bit)
			continue;
		name = http_method_name(routes[k].method);
		nl = strlen(name);
		if (o + (o > 0 ? 2 : 0) + nl + 1 > outsz)
			continue;
		if (o > 0) {
			memcpy(out + o, ", ", 2);
			o += 2;
		}
		memcpy(out + o, name, nl);
		o += nl;
		out[o] = '\0';
		done |= bit;
		count++;
	}
	return count;
}
