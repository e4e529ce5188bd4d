#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/health.h"
#include "http/auth.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server.h"
#include "testlib.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"

static int
h_dummy(const struct request *r, struct response *resp)
{
	(void)r;
	resp->status = 204;
	return 0;
}

/* Shaped like the daemon's table: literal rows before "{id}" rows. */
static const struct http_route routes[] = {
	{ HTTP_GET, "/healthz", h_dummy, SCOPE_NONE, 0 },		/* 0 */
	{ HTTP_GET, "/scim/v2/Users", h_dummy, SCOPE_SCIM, 1 },		/* 1 */
	{ HTTP_POST, "/scim/v2/Users/.search", h_dummy, SCOPE_SCIM, 1 },/* 2 */
	{ HTTP_POST, "/scim/v2/Users", h_dummy, SCOPE_SCIM, 1 },	/* 3 */
	{ HTTP_GET, "/scim/v2/Users/{id}", h_dummy, SCOPE_SCIM, 1 },	/* 4 */
	{ HTTP_PUT, "/scim/v2/Users/{id}", h_dummy, SCOPE_SCIM, 1 },	/* 5 */
	{ HTTP_DELETE, "/scim/v2/Users/{id}", h_dummy, SCOPE_SCIM, 1 },	/* 6 */
	{ HTTP_GET, "/scim/v2/Schemas/{id}", h_dummy, SCOPE_SCIM, 1 },	/* 7 */
	{ HTTP_GET, "/a/{x}/b/{y}", h_dummy, SCOPE_NONE, 0 },		/* 8 */
	{ HTTP_GET, "/a/{x}/c/{y}/{z}", h_dummy, SCOPE_NONE, 0 },	/* 9 */
	{ HTTP_GET, "/", h_dummy, SCOPE_NONE, 0 },			/* 10 */
};
#define NROUTES ((unsigned)(sizeof(routes) / sizeof(routes[0])))

static void
t_route_find(void)
{
	static const struct {
		enum http_method m;
		const char *path;
		int rc;
		int row;
		const char *p0, *p1;
	} cases[] = {
		{ HTTP_GET, "/healthz", 0, 0, NULL, NULL },
		{ HTTP_GET, "/healthz/", 0, 0, NULL, NULL },
		{ HTTP_GET, "/healthz//", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "/healthzz", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "/HEALTHZ", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "//healthz", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_POST, "/healthz", HTTP_ROUTE_BAD_METHOD, -1, NULL, NULL },
		{ HTTP_HEAD, "/healthz", HTTP_ROUTE_BAD_METHOD, -1, NULL, NULL },
		{ HTTP_OTHER, "/healthz", HTTP_ROUTE_BAD_METHOD, -1, NULL,
		    NULL },
		{ HTTP_GET, "/scim/v2/Users", 0, 1, NULL, NULL },
		{ HTTP_POST, "/scim/v2/Users", 0, 3, NULL, NULL },
		{ HTTP_POST, "/scim/v2/Users/", 0, 3, NULL, NULL },
		/* the literal row wins over {id} because it comes first */
		{ HTTP_POST, "/scim/v2/Users/.search", 0, 2, NULL, NULL },
		/* no GET .search row: {id} takes it, the handler 404s */
		{ HTTP_GET, "/scim/v2/Users/.search", 0, 4, ".search", NULL },
		{ HTTP_GET, "/scim/v2/Users/abc", 0, 4, "abc", NULL },
		{ HTTP_GET, "/scim/v2/Users/abc/", 0, 4, "abc", NULL },
		{ HTTP_PUT, "/scim/v2/Users/abc", 0, 5, "abc", NULL },
		{ HTTP_DELETE, "/scim/v2/Users/x-1", 0, 6, "x-1", NULL },
		{ HTTP_PATCH, "/scim/v2/Users/abc", HTTP_ROUTE_BAD_METHOD, -1,
		    NULL, NULL },
		{ HTTP_GET, "/scim/v2/Users/abc/extra", ERR_NOT_FOUND, -1,
		    NULL, NULL },
		{ HTTP_GET, "/scim/v2/Users/abc/extra/more", ERR_NOT_FOUND, -1,
		    NULL, NULL },
		{ HTTP_GET, "/scim/v2/Users//", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "/scim/v2/Users//x", ERR_NOT_FOUND, -1, NULL,
		    NULL },
		{ HTTP_GET, "/scim/v2", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "/scim", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "/", 0, 10, NULL, NULL },
		{ HTTP_GET, "/scim/v2/Schemas/"
		    "urn:ietf:params:scim:schemas:core:2.0:User", 0, 7,
		    "urn:ietf:params:scim:schemas:core:2.0:User", NULL },
		{ HTTP_GET, "/a/1/b/22", 0, 8, "1", "22" },
		{ HTTP_GET, "/a/1/b/22/", 0, 8, "1", "22" },
		{ HTTP_GET, "/a/1/b", ERR_NOT_FOUND, -1, NULL, NULL },
		/* three captures never fit HTTP_ROUTE_PARAMS_MAX = 2 */
		{ HTTP_GET, "/a/1/c/2/3", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "relative", ERR_NOT_FOUND, -1, NULL, NULL },
		{ HTTP_GET, "", ERR_NOT_FOUND, -1, NULL, NULL },
	};
	const char *params[HTTP_ROUTE_PARAMS_MAX];
	const struct http_route *rt;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		params[0] = params[1] = "junk";
		rc = http_route_find(routes, NROUTES, cases[i].m,
		    cases[i].path, params, HTTP_ROUTE_PARAMS_MAX, &rt);
		if (rc != cases[i].rc)
			TL_FAIL("case %zu %s: rc %d want %d", i, cases[i].path,
			    rc, cases[i].rc);
		if (cases[i].row < 0) {
			ASSERT_NULL(rt);
			ASSERT_NULL(params[0]);
			ASSERT_NULL(params[1]);
			continue;
		}
		if (rt != &routes[cases[i].row])
			TL_FAIL("case %zu %s: row %td want %d", i,
			    cases[i].path, rt - routes, cases[i].row);
		if (cases[i].p0 == NULL)
			ASSERT_NULL(params[0]);
		else {
			ASSERT_NOT_NULL(params[0]);
			ASSERT_INT_EQ(http_route_param_len(params[0]),
			    strlen(cases[i].p0));
			ASSERT_TRUE(strncmp(params[0], cases[i].p0,
			    strlen(cases[i].p0)) == 0);
		}
		if (cases[i].p1 == NULL)
			ASSERT_NULL(params[1]);
		else {
			ASSERT_NOT_NULL(params[1]);
			ASSERT_INT_EQ(http_route_param_len(params[1]),
			    strlen(cases[i].p1));
			ASSERT_TRUE(strncmp(params[1], cases[i].p1,
			    strlen(cases[i].p1)) == 0);
		}
	}
}

static void
t_route_params_into_path(void)
{
	char buf[64];
	const char *params[HTTP_ROUTE_PARAMS_MAX];
	const struct http_route *rt;
	size_t l0, l1;

	/* captures point into the caller's buffer, which may be cut */
	snprintf(buf, sizeof(buf), "/a/xy/b/zzz/");
	ASSERT_INT_EQ(http_route_find(routes, NROUTES, HTTP_GET, buf, params,
	    HTTP_ROUTE_PARAMS_MAX, &rt), 0);
	ASSERT_TRUE(params[0] == buf + 3);
	ASSERT_TRUE(params[1] == buf + 8);
	l0 = http_route_param_len(params[0]);
	l1 = http_route_param_len(params[1]);
	buf[3 + l0] = '\0';
	buf[8 + l1] = '\0';
	ASSERT_STR_EQ(params[0], "xy");
	ASSERT_STR_EQ(params[1], "zzz");
	/* fewer slots than captures: the row cannot match */
	ASSERT_INT_EQ(http_route_find(routes, NROUTES, HTTP_GET,
	    "/scim/v2/Users/abc", params, 0, &rt), ERR_NOT_FOUND);
	ASSERT_INT_EQ(http_route_find(NULL, 0, HTTP_GET, "/healthz", params,
	    HTTP_ROUTE_PARAMS_MAX, &rt), ERR_NOT_FOUND);
	ASSERT_INT_EQ(http_route_param_len(NULL), 0);
}

static void
t_route_allow(void)
{
	static const struct {
		const char *path;
		size_t outsz;
		const char *want;
		size_t count;
	} cases[] = {
		{ "/scim/v2/Users/abc", 64, "GET, PUT, DELETE", 3 },
		{ "/scim/v2/Users/abc/", 64, "GET, PUT, DELETE", 3 },
		{ "/scim/v2/Users", 64, "GET, POST", 2 },
		{ "/scim/v2/Users/.search", 64, "POST, GET, PUT, DELETE", 4 },
		{ "/healthz", 64, "GET", 1 },
		{ "/nope", 64, "", 0 },
		/* "GET, PUT" needs 9 bytes: PUT is left out, DELETE too */
		{ "/scim/v2/Users/abc", 8, "GET", 1 },
		{ "/scim/v2/Users/abc", 3, "", 0 },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		if (http_route_allow(routes, NROUTES, cases[i].path, out,
		    cases[i].outsz) != cases[i].count)
			TL_FAIL("case %zu: count", i);
		ASSERT_STR_EQ(out, cases[i].want);
	}
	ASSERT_INT_EQ(http_route_allow(routes, NROUTES, "/healthz", out, 0), 0);
}

static void
t_method(void)
{
	static const struct {
		const char *s;
		enum http_method m;
	} cases[] = {
		{ "GET", HTTP_GET }, { "POST", HTTP_POST }, { "PUT", HTTP_PUT },
		{ "PATCH", HTTP_PATCH }, { "DELETE", HTTP_DELETE },
		{ "HEAD", HTTP_HEAD }, { "get", HTTP_OTHER },
		{ "OPTIONS", HTTP_OTHER }, { "GETX", HTTP_OTHER },
		{ "", HTTP_OTHER }, { NULL, HTTP_OTHER },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_INT_EQ(http_method_parse(cases[i].s), cases[i].m);
		if (cases[i].m != HTTP_OTHER)
			ASSERT_STR_EQ(http_method_name(cases[i].m),
			    cases[i].s);
	}
	ASSERT_STR_EQ(http_method_name(HTTP_OTHER), "OTHER");
}

static void
t_path_unescape(void)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "/a%20b", "/a b" },
		{ "/a%2Fb", "/a/b" },
		{ "/a%2fb", "/a/b" },
		{ "%41%42%43", "ABC" },
		{ "/x%00y", "/x\xffy" },
		{ "%00", "\xff" },
		{ "/bad%zz", "/bad%zz" },
		{ "/short%4", "/short%4" },
		{ "/end%", "/end%" },
		{ "/pct%%41", "/pct%A" },
		{ "a+b", "a+b" },
		{ "%e2%82%ac", "\xe2\x82\xac" },
		{ "", "" },
	};
	char buf[64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		n = http_path_unescape(buf);
		ASSERT_STR_EQ(buf, cases[i].out);
		ASSERT_INT_EQ(n, strlen(cases[i].out));
	}
}

static void
t_path_check(void)
{
	static const struct {
		const char *path;
		int rc;
	} cases[] = {
		{ "/", 0 },
		{ "/healthz", 0 },
		{ "/scim/v2/Users/.search", 0 },
		{ "/...", 0 },
		{ "/a..b", 0 },
		{ "/caf\xc3\xa9", 0 },
		{ "/a/./b", ERR_INVALID },
		{ "/a/../b", ERR_INVALID },
		{ "/..", ERR_INVALID },
		{ "/.", ERR_INVALID },
		{ "/a/..", ERR_INVALID },
		{ "/a/../", ERR_INVALID },
		{ "relative", ERR_INVALID },
		{ "", ERR_INVALID },
		{ "*", ERR_INVALID },
		{ "/a\x01", ERR_INVALID },
		{ "/a\nb", ERR_INVALID },
		{ "/a\x7f", ERR_INVALID },
		{ "/x\xffy", ERR_INVALID },	/* an unescaped %00 */
		{ "/\xc0\xaf", ERR_INVALID },	/* overlong '/' */
		{ "/\xed\xa0\x80", ERR_INVALID },	/* surrogate */
		{ "/\xe2\x82", ERR_INVALID },	/* cut sequence */
		{ NULL, ERR_INVALID },
	};
	char *longp;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (http_path_check(cases[i].path) != cases[i].rc)
			TL_FAIL("case %zu: want %d", i, cases[i].rc);
	}
	longp = malloc(HTTP_PATH_MAX + 2);
	ASSERT_NOT_NULL(longp);
	memset(longp, 'a', HTTP_PATH_MAX + 1);
	longp[0] = '/';
	longp[HTTP_PATH_MAX - 1] = '\0';
	ASSERT_INT_EQ(http_path_check(longp), 0);
	longp[HTTP_PATH_MAX - 1] = 'a';
	longp[HTTP_PATH_MAX] = '\0';
	ASSERT_INT_EQ(http_path_check(longp), ERR_TOO_LARGE);
	longp[HTTP_PATH_MAX + 1] = '\0';
	longp[HTTP_PATH_MAX] = 'a';
	ASSERT_INT_EQ(http_path_check(longp), ERR_TOO_LARGE);
	free(longp);
}

static void
t_auth_parse(void)
{
	static const struct {
		const char *hdr;
		int rc;
		const char *tok;
	} cases[] = {
		{ NULL, ERR_NOT_FOUND, NULL },
		{ "", ERR_NOT_FOUND, NULL },
		{ "Basic dXNlcjpwYXNz", ERR_NOT_FOUND, NULL },
		{ "Digest x", ERR_NOT_FOUND, NULL },
		{ "Bearerx", ERR_NOT_FOUND, NULL },
		{ "Bearer\tx", ERR_NOT_FOUND, NULL },
		{ " Bearer x", ERR_NOT_FOUND, NULL },
		{ "Bearer", ERR_AUTH, NULL },
		{ "Bearer ", ERR_AUTH, NULL },
		{ "bearer  x", ERR_AUTH, NULL },
		{ "Bearer x ", ERR_AUTH, NULL },
		{ "Bearer x y", ERR_AUTH, NULL },
		{ "Bearer =x", ERR_AUTH, NULL },
		{ "Bearer x=y", ERR_AUTH, NULL },
		{ "Bearer x\"", ERR_AUTH, NULL },
		{ "Bearer x,y", ERR_AUTH, NULL },
		{ "Bearer x\x01", ERR_AUTH, NULL },
		{ "Bearer t\xc3\xb6k", ERR_AUTH, NULL },
		{ "Bearer x", 0, "x" },
		{ "bearer x", 0, "x" },
		{ "BEARER abc", 0, "abc" },
		{ "Bearer abc==", 0, "abc==" },
		{ "Bearer a-b.c_d~e+f/g", 0, "a-b.c_d~e+f/g" },
		{ "Bearer vbt_0123456789abcdef_"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0,
		    "vbt_0123456789abcdef_"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
	};
	char hdr[TOKEN_TEXT_MAX + 16];
	const char *tok;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tok = "junk";
		len = 99;
		rc = http_auth_parse(cases[i].hdr, &tok, &len);
		if (rc != cases[i].rc)
			TL_FAIL("case %zu: rc %d want %d", i, rc, cases[i].rc);
		if (cases[i].tok == NULL) {
			ASSERT_NULL(tok);
			ASSERT_INT_EQ(len, 0);
			continue;
		}
		ASSERT_INT_EQ(len, strlen(cases[i].tok));
		ASSERT_TRUE(memcmp(tok, cases[i].tok, len) == 0);
		/* the token lies inside the header, nothing copied */
		ASSERT_TRUE(tok == cases[i].hdr + 7);
	}
	/* TOKEN_TEXT_MAX bytes pass, one more is refused */
	memcpy(hdr, "Bearer ", 7);
	memset(hdr + 7, 'a', TOKEN_TEXT_MAX);
	hdr[7 + TOKEN_TEXT_MAX] = '\0';
	ASSERT_INT_EQ(http_auth_parse(hdr, &tok, &len), 0);
	ASSERT_INT_EQ(len, TOKEN_TEXT_MAX);
	hdr[7 + TOKEN_TEXT_MAX] = 'a';
	hdr[8 + TOKEN_TEXT_MAX] = '\0';
	ASSERT_INT_EQ(http_auth_parse(hdr, &tok, &len), ERR_AUTH);
}

static void
t_auth_check_no_token(void)
{
	struct app app;
	struct principal who;

	/* refused before any database access: app has no pool */
	memset(&app, 0, sizeof(app));
	memset(&who, 'x', sizeof(who));
	ASSERT_INT_EQ(http_auth_check(&app, NULL, SCOPE_SCIM, &who), ERR_AUTH);
	ASSERT_STR_EQ(who.token_name, "");
	ASSERT_INT_EQ(who.scopes, 0);
	ASSERT_INT_EQ(http_auth_check(&app, "Basic abc", SCOPE_SCIM, &who),
	    ERR_AUTH);
	ASSERT_INT_EQ(http_auth_check(&app, "Bearer not-a-vb-token",
	    SCOPE_SCIM, &who), ERR_AUTH);
	ASSERT_INT_EQ(http_auth_check(&app, "Bearer  vbt_x", SCOPE_SCIM,
	    &who), ERR_AUTH);
}

/* A ticket taken now, as a request takes it before its database read. */
static struct auth_cache_ticket
ticket(struct auth_cache *c)
{
	struct auth_cache_ticket t;

	http_auth_cache_ticket(c, &t);
	return t;
}


static void
t_auth_cache(void)
{
	struct auth_cache *c;
	struct auth_cache_ticket t;
	struct principal who;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];
	char id[32];
	struct timespec nap = { 0, 60 * 1000 * 1000 };
	unsigned i;

	memset(h1, 1, sizeof(h1));
	memset(h2, 2, sizeof(h2));
	ASSERT_INT_EQ(http_auth_cache_new(0, &c), 0);
	ASSERT_NULL(c);
	ASSERT_INT_EQ(http_auth_cache_get(NULL, "a", h1, &who), ERR_NOT_FOUND);
	http_auth_cache_ticket(NULL, &t);
	http_auth_cache_put(NULL, &t, "a", h1, 1, "n", -1);
	http_auth_cache_enable(NULL, 1000);
	http_auth_cache_renew(NULL, 1000);
	http_auth_cache_drop(NULL, "a");
	http_auth_cache_disable(NULL);
	http_auth_cache_free(NULL);

	ASSERT_INT_EQ(http_auth_cache_new(60000, &c), 0);
	ASSERT_NOT_NULL(c);
	http_auth_cache_enable(c, 60000);
	ASSERT_INT_EQ(http_auth_cache_get(c, "0123456789abcdef", h1, &who),
	    ERR_NOT_FOUND);
	t = ticket(c);
	http_auth_cache_put(c, &t, "0123456789abcdef", h1, SCOPE_SCIM,
	    "okta", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "0123456789abcdef", h1, &who), 0);
	ASSERT_STR_EQ(who.token_id, "0123456789abcdef");
	ASSERT_STR_EQ(who.token_name, "okta");
	ASSERT_INT_EQ(who.scopes, SCOPE_SCIM);
	/* right id, wrong secret */
	ASSERT_INT_EQ(http_auth_cache_get(c, "0123456789abcdef", h2, &who),
	    ERR_AUTH);
	ASSERT_INT_EQ(http_auth_cache_get(c, "0123456789abcdee", h1, &who),
	    ERR_NOT_FOUND);
	/* put again replaces, it does not duplicate */
	http_auth_cache_put(c, &t, "0123456789abcdef", h2, SCOPE_ALL, "okta2",
	    -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "0123456789abcdef", h1, &who),
	    ERR_AUTH);
	ASSERT_INT_EQ(http_auth_cache_get(c, "0123456789abcdef", h2, &who), 0);
	ASSERT_INT_EQ(who.scopes, SCOPE_ALL);
	/* over capacity: the newest entries are kept */
	for (i = 0; i < HTTP_AUTH_CACHE_MAX + 10; i++) {
		snprintf(id, sizeof(id), "id%u", i);
		t = ticket(c);
		http_auth_cache_put(c, &t, id, h1, SCOPE_SCIM, id, -1);
	}
	for (i = HTTP_AUTH_CACHE_MAX + 10 - 50; i < HTTP_AUTH_CACHE_MAX + 10;
	    i++) {
		snprintf(id, sizeof(id), "id%u", i);
		ASSERT_INT_EQ(http_auth_cache_get(c, id, h1, &who), 0);
		ASSERT_STR_EQ(who.token_name, id);
	}
	/* an over-long id is not cached */
	t = ticket(c);
	http_auth_cache_put(c, &t, "0123456789012345678901234567890123456789xx",
	    h1, 1, "long", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c,
	    "0123456789012345678901234567890123456789xx", h1, &who),
	    ERR_NOT_FOUND);
	http_auth_cache_free(c);

	/* entries end after the TTL */
	ASSERT_INT_EQ(http_auth_cache_new(20, &c), 0);
	http_auth_cache_enable(c, 60000);
	t = ticket(c);
	http_auth_cache_put(c, &t, "ttl", h1, SCOPE_SCIM, "t", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "ttl", h1, &who), 0);
	nanosleep(&nap, NULL);
	ASSERT_INT_EQ(http_auth_cache_get(c, "ttl", h1, &who), ERR_NOT_FOUND);
	ASSERT_INT_EQ(http_auth_cache_get(c, "ttl", h2, &who), ERR_NOT_FOUND);
	http_auth_cache_free(c);
}

/* Off until enabled, off again after disable or when the lease ends. */
static void
t_auth_cache_fail_closed(void)
{
	struct auth_cache *c;
	struct auth_cache_ticket t;
	struct principal who;
	unsigned char h[TOKEN_HASH_LEN];
	long long t0;

	memset(h, 7, sizeof(h));
	ASSERT_INT_EQ(http_auth_cache_new(60000, &c), 0);
	/* a new cache is off: nothing stored, nothing found */
	t = ticket(c);
	http_auth_cache_put(c, &t, "a", h, SCOPE_SCIM, "a", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), ERR_NOT_FOUND);
	/* renew does not switch it on */
	http_auth_cache_renew(c, 60000);
	t = ticket(c);
	http_auth_cache_put(c, &t, "a", h, SCOPE_SCIM, "a", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), ERR_NOT_FOUND);

	http_auth_cache_enable(c, 60000);
	t = ticket(c);
	http_auth_cache_put(c, &t, "a", h, SCOPE_SCIM, "a", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), 0);
	/* disabled: not found, and forgotten for good */
	http_auth_cache_disable(c);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), ERR_NOT_FOUND);
	t = ticket(c);
	http_auth_cache_put(c, &t, "b", h, SCOPE_SCIM, "b", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "b", h, &who), ERR_NOT_FOUND);
	http_auth_cache_enable(c, 60000);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), ERR_NOT_FOUND);
	ASSERT_INT_EQ(http_auth_cache_get(c, "b", h, &who), ERR_NOT_FOUND);

	/* enable flushes what was there */
	t = ticket(c);
	http_auth_cache_put(c, &t, "a", h, SCOPE_SCIM, "a", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), 0);
	http_auth_cache_enable(c, 60000);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), ERR_NOT_FOUND);

	/* the lease: without a renewal the cache goes off by itself */
	http_auth_cache_enable(c, 50);
	t = ticket(c);
	http_auth_cache_put(c, &t, "a", h, SCOPE_SCIM, "a", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), 0);
	t0 = clock_mono_ms();
	while (http_auth_cache_get(c, "a", h, &who) == 0 &&
	    clock_mono_ms() - t0 < 2000)
		;
	ASSERT_INT_EQ(http_auth_cache_get(c, "a", h, &who), ERR_NOT_FOUND);
	ASSERT_TRUE(clock_mono_ms() - t0 < 2000);
	t = ticket(c);
	http_auth_cache_put(c, &t, "c", h, SCOPE_SCIM, "c", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "c", h, &who), ERR_NOT_FOUND);
	/* a renewal brings it back */
	http_auth_cache_renew(c, 60000);
	t = ticket(c);
	http_auth_cache_put(c, &t, "c", h, SCOPE_SCIM, "c", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "c", h, &who), 0);
	http_auth_cache_free(c);
}

/* Put token "0123456789abcdef" with ticket t, then get it back. */
static int
put_get(struct auth_cache *c, const struct auth_cache_ticket *t,
    const unsigned char h[TOKEN_HASH_LEN])
{
	struct principal who;

	http_auth_cache_put(c, t, "0123456789abcdef", h, SCOPE_SCIM, "x", -1);
	return http_auth_cache_get(c, "0123456789abcdef", h, &who);
}

/* A put with a ticket from before a drop (or any flush) is refused. */
static void
t_auth_cache_generation(void)
{
	struct auth_cache *c;
	struct auth_cache_ticket t, fresh;
	struct principal who;
	unsigned char h[TOKEN_HASH_LEN];

	memset(h, 3, sizeof(h));
	ASSERT_INT_EQ(http_auth_cache_new(60000, &c), 0);
	http_auth_cache_enable(c, 60000);

	/* read the row, then the revocation is notified, then the put */
	t = ticket(c);
	http_auth_cache_drop(c, "0123456789abcdef");
	ASSERT_INT_EQ(put_get(c, &t, h), ERR_NOT_FOUND);
	/* a drop of another token voids the ticket too (one generation) */
	t = ticket(c);
	http_auth_cache_drop(c, "fedcba9876543210");
	ASSERT_INT_EQ(put_get(c, &t, h), ERR_NOT_FOUND);
	/* a reconnection (enable) in between, and a flush-all ("") */
	t = ticket(c);
	http_auth_cache_enable(c, 60000);
	ASSERT_INT_EQ(put_get(c, &t, h), ERR_NOT_FOUND);
	t = ticket(c);
	http_auth_cache_drop(c, "");
	ASSERT_INT_EQ(put_get(c, &t, h), ERR_NOT_FOUND);
	/* a ticket taken after the drop is good */
	fresh = ticket(c);
	ASSERT_INT_EQ(put_get(c, &fresh, h), 0);
	/* a renewal does not move the generation */
	t = ticket(c);
	http_auth_cache_renew(c, 60000);
	http_auth_cache_put(c, &t, "1111111111111111", h, SCOPE_SCIM, "y",
	    -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "1111111111111111", h, &who), 0);

	/* drop forgets that token only */
	http_auth_cache_drop(c, "0123456789abcdef");
	ASSERT_INT_EQ(http_auth_cache_get(c, "0123456789abcdef", h, &who),
	    ERR_NOT_FOUND);
	ASSERT_INT_EQ(http_auth_cache_get(c, "1111111111111111", h, &who), 0);
	/* "", NULL, or a payload longer than an id: everything */
	http_auth_cache_drop(c, "");
	ASSERT_INT_EQ(http_auth_cache_get(c, "1111111111111111", h, &who),
	    ERR_NOT_FOUND);
	fresh = ticket(c);
	http_auth_cache_put(c, &fresh, "1111111111111111", h, SCOPE_SCIM,
	    "y", -1);
	http_auth_cache_drop(c,
	    "0123456789012345678901234567890123456789xx");
	ASSERT_INT_EQ(http_auth_cache_get(c, "1111111111111111", h, &who),
	    ERR_NOT_FOUND);
	fresh = ticket(c);
	http_auth_cache_put(c, &fresh, "1111111111111111", h, SCOPE_SCIM,
	    "y", -1);
	http_auth_cache_drop(c, NULL);
	ASSERT_INT_EQ(http_auth_cache_get(c, "1111111111111111", h, &who),
	    ERR_NOT_FOUND);
	http_auth_cache_free(c);
}

/* An entry never outlives the token's own expiry. */
static void
t_auth_cache_expiry(void)
{
	struct auth_cache *c;
	struct auth_cache_ticket t;
	struct principal who;
	unsigned char h[TOKEN_HASH_LEN];
	long long t0, gone;

	memset(h, 5, sizeof(h));
	ASSERT_INT_EQ(http_auth_cache_new(60000, &c), 0);
	http_auth_cache_enable(c, 60000);

	/* expired already (0 ms left): not cached at all */
	t = ticket(c);
	http_auth_cache_put(c, &t, "e0", h, SCOPE_SCIM, "e0", 0);
	ASSERT_INT_EQ(http_auth_cache_get(c, "e0", h, &who), ERR_NOT_FOUND);

	/* 150 ms left, TTL 60 s: gone after about 150 ms */
	t0 = clock_mono_ms();
	t = ticket(c);
	http_auth_cache_put(c, &t, "e1", h, SCOPE_SCIM, "e1", 150);
	/* a token without expiry, for comparison */
	http_auth_cache_put(c, &t, "never", h, SCOPE_SCIM, "never", -1);
	ASSERT_INT_EQ(http_auth_cache_get(c, "e1", h, &who), 0);
	while (http_auth_cache_get(c, "e1", h, &who) == 0 &&
	    clock_mono_ms() - t0 < 5000)
		;
	gone = clock_mono_ms() - t0;
	ASSERT_INT_EQ(http_auth_cache_get(c, "e1", h, &who), ERR_NOT_FOUND);
	/* not before its expiry (the ticket was taken after t0, on the
	 * same clock), and long before the TTL */
	ASSERT_TRUE(gone >= 150);
	ASSERT_TRUE(gone < 5000);
	ASSERT_INT_EQ(http_auth_cache_get(c, "never", h, &who), 0);

	/* the ticket's time counts, not the put's: a read that took longer
	 * than the token had left caches nothing */
	t = ticket(c);
	nanosleep(&(struct timespec){ 0, 40 * 1000 * 1000 }, NULL);
	http_auth_cache_put(c, &t, "e2", h, SCOPE_SCIM, "e2", 20);
	ASSERT_INT_EQ(http_auth_cache_get(c, "e2", h, &who), ERR_NOT_FOUND);

	/* a token expiring after the TTL ends with the TTL */
	http_auth_cache_free(c);
	ASSERT_INT_EQ(http_auth_cache_new(100, &c), 0);
	http_auth_cache_enable(c, 60000);
	t = ticket(c);
	t0 = clock_mono_ms();
	http_auth_cache_put(c, &t, "e3", h, SCOPE_SCIM, "e3", 3600000);
	ASSERT_INT_EQ(http_auth_cache_get(c, "e3", h, &who), 0);
	while (http_auth_cache_get(c, "e3", h, &who) == 0 &&
	    clock_mono_ms() - t0 < 5000)
		;
	ASSERT_TRUE(clock_mono_ms() - t0 < 5000);
	ASSERT_INT_EQ(http_auth_cache_get(c, "e3", h, &who), ERR_NOT_FOUND);
	http_auth_cache_free(c);
}

static void
t_log_clean(void)
{
	static const struct {
		const char *in;
		size_t outsz;
		const char *want;
	} cases[] = {
		{ "GET", 64, "GET" },
		{ "a b", 64, "a b" },
		{ "a\"b", 64, "a\\x22b" },
		{ "a\\b", 64, "a\\x5cb" },
		{ "a=b", 64, "a\\x3db" },
		{ "line\nstatus=200", 64, "line\\x0astatus\\x3d200" },
		{ "\r\n", 64, "\\x0d\\x0a" },
		{ "\x1b[31m", 64, "\\x1b[31m" },
		{ "caf\xc3\xa9", 64, "caf\\xc3\\xa9" },
		{ "\x7f", 64, "\\x7f" },
		{ NULL, 64, "(null)" },
		{ "", 64, "" },
		/* a small buffer is never overrun and stays terminated */
		{ "\n\n", 4, "" },
		{ "abcdef", 4, "abc" },
		{ "ab\ncd", 8, "ab\\x0ac" },
	};
	char out[512], big[LOG_CLIENT_STR_MAX + 50], want[LOG_CLIENT_STR_MAX + 8];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'Z', sizeof(out));
		ASSERT_TRUE(log_clean(cases[i].in, out, cases[i].outsz) ==
		    out);
		ASSERT_STR_EQ(out, cases[i].want);
		ASSERT_TRUE(strlen(out) < cases[i].outsz);
	}
	/* cut at LOG_CLIENT_STR_MAX input bytes, marked with "..." */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(want, 'a', LOG_CLIENT_STR_MAX);
	memcpy(want + LOG_CLIENT_STR_MAX, "...", 4);
	ASSERT_STR_EQ(log_clean(big, out, sizeof(out)), want);
	/* escapes never turn into a key=value a log reader would parse */
	log_clean("x token=secret", out, sizeof(out));
	ASSERT_TRUE(strchr(out, '=') == NULL);
}

static void
t_request_query(void)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.query[0].name = "filter";
	r.query[0].value = "userName eq \"bjensen\"";
	r.query[1].name = "count";
	r.query[1].value = "10";
	r.query[2].name = "flag";
	r.query[2].value = NULL;
	r.query[3].name = "count";
	r.query[3].value = "20";
	r.nquery = 4;
	ASSERT_STR_EQ(request_query(&r, "filter"), "userName eq \"bjensen\"");
	ASSERT_STR_EQ(request_query(&r, "count"), "10");
	ASSERT_STR_EQ(request_query(&r, "flag"), "");
	ASSERT_NULL(request_query(&r, "Count"));
	ASSERT_NULL(request_query(&r, "startIndex"));
	ASSERT_NULL(request_query(&r, ""));
	ASSERT_NULL(request_query(&r, NULL));
	ASSERT_NULL(request_query(NULL, "count"));
	/* entries past nquery are not looked at */
	r.query[4].name = "late";
	r.query[4].value = "1";
	ASSERT_NULL(request_query(&r, "late"));
	r.nquery = 0;
	ASSERT_NULL(request_query(&r, "filter"));
}

static void
t_json_error(void)
{
	static const struct {
		int status;
		const char *code, *detail, *want;
	} cases[] = {
		{ 404, "not_found", "no such endpoint",
		    "{\"error\":\"not_found\",\"detail\":\"no such endpoint\"}" },
		{ 400, "bad", "a\"b\\c\nd\x01",
		    "{\"error\":\"bad\",\"detail\":\"a\\\"b\\\\c\\u000ad\\u0001\"}" },
		{ 400, "bad", "caf\xc3\xa9",
		    "{\"error\":\"bad\",\"detail\":\"caf\xc3\xa9\"}" },
		{ 400, "bad", "caf\xff",
		    "{\"error\":\"bad\",\"detail\":\"caf?\"}" },
		{ 500, NULL, NULL,
		    "{\"error\":\"error\",\"detail\":\"\"}" },
	};
	struct response resp;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&resp, 0, sizeof(resp));
		buf_init(&resp.body, HTTP_RESPONSE_MAX);
		buf_puts(&resp.body, "old contents");
		response_json_error(&resp, cases[i].status, cases[i].code,
		    cases[i].detail);
		ASSERT_INT_EQ(resp.status, cases[i].status);
		ASSERT_STR_EQ(resp.content_type, CT_JSON);
		ASSERT_STR_EQ(buf_str(&resp.body), cases[i].want);
		buf_free(&resp.body);
	}
	/* a zeroed response gets a body too */
	memset(&resp, 0, sizeof(resp));
	response_json_error(&resp, 503, "unavailable", "x");
	ASSERT_STR_EQ(buf_str(&resp.body),
	    "{\"error\":\"unavailable\",\"detail\":\"x\"}");
	buf_free(&resp.body);
}

static void
t_health(void)
{
	struct app app;
	struct request r;
	struct response resp;

	memset(&app, 0, sizeof(app));
	memset(&r, 0, sizeof(r));
	r.app = &app;
	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, HTTP_RESPONSE_MAX);
	ASSERT_INT_EQ(health_healthz(&r, &resp), 0);
	ASSERT_INT_EQ(resp.status, 200);
	ASSERT_STR_EQ(resp.content_type, CT_JSON);
	ASSERT_STR_EQ(buf_str(&resp.body), "{\"status\":\"ok\"}");
	ASSERT_INT_EQ(resp.retry_after, 0);
	/* no pool: the database counts as unreachable */
	ASSERT_INT_EQ(health_readyz(&r, &resp), 0);
	ASSERT_INT_EQ(resp.status, 503);
	ASSERT_INT_EQ(resp.retry_after, 1);
	ASSERT_STR_EQ(buf_str(&resp.body), "{\"status\":\"unavailable\","
	    "\"detail\":\"database unreachable\"}");
	buf_free(&resp.body);
}

static const struct testlib_case cases[] = {
	{ "route_find", t_route_find },
	{ "route_params_into_path", t_route_params_into_path },
	{ "route_allow", t_route_allow },
	{ "method", t_method },
	{ "path_unescape", t_path_unescape },
	{ "path_check", t_path_check },
	{ "auth_parse", t_auth_parse },
	{ "auth_check_no_token", t_auth_check_no_token },
	{ "auth_cache", t_auth_cache },
	{ "auth_cache_fail_closed", t_auth_cache_fail_closed },
	{ "auth_cache_generation", t_auth_cache_generation },
	{ "auth_cache_expiry", t_auth_cache_expiry },
	{ "log_clean", t_log_clean },
	{ "request_query", t_request_query },
	{ "json_error", t_json_error },
	{ "health", t_health },
};

TEST_MAIN(cases)
