/*
 * Service behaviour of the real binary (contract-cli.md): health and
 * readiness, bearer authentication and scopes, the token CLI, body
 * limits, request logging, database outage and recovery, graceful
 * shutdown, TLS, config checks and dumps, migrations.
 */

#include "itest.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCIM_ERROR_URN	"urn:ietf:params:scim:api:messages:2.0:Error"
#define USERS		"/scim/v2/Users"

static int db_stopped;

/*
 * Every test starts from the default server on a running database, so
 * a test that failed half-way does not break the next one.
 */
static void
fresh(void)
{
	if (db_stopped) {
		ASSERT_INT_EQ(itest_db_start(itest), 0);
		db_stopped = 0;
	}
	if (itest->extra_config[0] != '\0' || !itest_server_alive(itest)) {
		itest->extra_config[0] = '\0';
		ASSERT_INT_EQ(itest_server_start(itest), 0);
	}
	snprintf(itest->addr, sizeof(itest->addr), "http://127.0.0.1:%d",
	    itest->port);
}

static void
restore_default(void)
{
	itest->extra_config[0] = '\0';
	ASSERT_INT_EQ(itest_server_start(itest), 0);
}


/* The log lines from byte offset off on, into a malloc'd string. */
static char *
log_since(long off)
{
	char *p = NULL;
	FILE *f;
	long sz;
	size_t n;

	if ((f = fopen(itest->log_path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < off ||
	    fseek(f, off, SEEK_SET) != 0 ||
	    (p = calloc(1, (size_t)(sz - off) + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(p, 1, (size_t)(sz - off), f);
	p[n] = '\0';
	fclose(f);
	return p;
}

static long
log_size(void)
{
	struct stat sb;

	return stat(itest->log_path, &sb) == 0 ? (long)sb.st_size : -1;
}

static int
count_in(const char *hay, const char *needle)
{
	const char *p = hay;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}


static void
expect_401(const char *token, const char *const *headers)
{
	struct itest_resp r;

	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, token, NULL, headers,
	    &r), 0);
	if (r.status != 401)
		fprintf(stderr, "  token \"%.40s\": status %ld\n", token,
		    r.status);
	ASSERT_SCIM_ERROR(&r, 401, NULL);
	ASSERT_TRUE(strncmp(r.www_authenticate, "Bearer realm=\"vaultbridge\"",
	    26) == 0);
	itest_resp_free(&r);
}

static void
t_healthz(void)
{
	struct itest_resp r;

	fresh();
	ASSERT_INT_EQ(itest_http(itest, "GET", "/healthz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	ASSERT_STR_EQ(itest_json_str(&r, "status"), "ok");
	itest_resp_free(&r);
	/* a bad token does not matter on /healthz */
	ASSERT_INT_EQ(itest_http(itest, "GET", "/healthz", "garbage", NULL,
	    NULL, &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
}

static void
t_readyz(void)
{
	struct itest_resp r;

	fresh();
	ASSERT_INT_EQ(itest_http(itest, "GET", "/readyz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	ASSERT_STR_EQ(itest_json_str(&r, "status"), "ready");
	itest_resp_free(&r);
}

static void
t_scim_ok_with_token(void)
{
	struct itest_resp r;

	fresh();
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	ASSERT_TRUE(strncmp(r.content_type, "application/scim+json", 21) ==
	    0);
	itest_resp_free(&r);
}

static void
t_auth_missing_and_garbage(void)
{
	static const char *const basic[] = {
	    "Authorization: Basic aXRlc3Q6aXRlc3Q=", NULL };
	static const char *const lower[] = {
	    "Authorization: bearer", NULL };
	char big[2100], tweaked[160];
	size_t n;

	fresh();
	expect_401("", NULL);
	expect_401("garbage", NULL);
	expect_401("vbt_0000000000000000000000000000000000000000", NULL);
	expect_401("a.b.c", NULL);
	expect_401("\"\\';--", NULL);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_401(big, NULL);
	/* the real token with its last character changed */
	snprintf(tweaked, sizeof(tweaked), "%s", itest->token);
	n = strlen(tweaked);
	ASSERT_TRUE(n > 0);
	tweaked[n - 1] = tweaked[n - 1] == 'A' ? 'B' : 'A';
	expect_401(tweaked, NULL);
	/* a prefix of the real token */
	snprintf(tweaked, sizeof(tweaked), "%.*s", (int)(n / 2),
	    itest->token);
	expect_401(tweaked, NULL);
	expect_401("", basic);
	expect_401("", lower);
}

static void
t_auth_revoked(void)
{
	const char *rev[] = { "token", "revoke", "it-revoke", NULL };
	const char *rev_none[] = { "token", "revoke", "no-such-token", NULL };
	struct itest_resp r;
	char tok[200], out[256];
	long long t0;
	long st;

	fresh();
	itest_make_token("it-revoke", NULL, NULL, tok, sizeof(tok));
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, tok, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), rev), 0);
	/* the auth cache is on by default: the revocation reaches it by a
	 * notification, within moments, not after the TTL (it_auth.c) */
	t0 = itest_now_ms();
	for (;;) {
		ASSERT_INT_EQ(itest_http(itest, "GET", USERS, tok, NULL, NULL,
		    &r), 0);
		st = r.status;
		itest_resp_free(&r);
		if (st != 200 || itest_now_ms() - t0 > 1000)
			break;
		itest_sleep_ms(10);
	}
	expect_401(tok, NULL);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), rev_none), 1);
}

static void
t_auth_expired(void)
{
	struct itest_resp r;
	char tok[200];

	fresh();
	itest_make_token("it-expire", NULL, "1", tok, sizeof(tok));
	itest_sleep_ms(2200);
	expect_401(tok, NULL);
	/* still a bad token afterwards (no state flip-flop) */
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, tok, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 401);
	itest_resp_free(&r);
}

static void
t_scope_forbidden(void)
{
	struct itest_resp r;
	char tok[200];

	fresh();
	itest_make_token("it-jit-only", "jit", NULL, tok, sizeof(tok));
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, tok, NULL, NULL, &r),
	    0);
	ASSERT_SCIM_ERROR(&r, 403, NULL);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET",
	    "/scim/v2/ServiceProviderConfig", tok, NULL, NULL, &r), 0);
	ASSERT_INT_EQ(r.status, 403);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "POST", USERS, tok,
	    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
	    "\"userName\":\"must-not-exist\"}", NULL, &r), 0);
	ASSERT_SCIM_ERROR(&r, 403, NULL);
	itest_resp_free(&r);
	/* the default scope is scim */
	itest_make_token("it-default-scope", NULL, NULL, tok, sizeof(tok));
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, tok, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
}

/* The whitespace-separated field i (0-based) of line, into out. */
static int
field(const char *line, int i, char *out, size_t outsz)
{
	const char *p = line, *e;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n')
			return -1;
		e = p;
		while (*e != '\0' && *e != ' ' && *e != '\t' && *e != '\n')
			e++;
		if (i-- == 0) {
			snprintf(out, outsz, "%.*s", (int)(e - p), p);
			return 0;
		}
		p = e;
	}
}

/* The line of the token list naming name (field 1), or NULL. */
static const char *
list_line(const char *out, const char *name, char *line, size_t linesz)
{
	const char *p = out, *e;
	char f[128];

	while (*p != '\0') {
		e = strchr(p, '\n');
		snprintf(line, linesz, "%.*s",
		    (int)(e != NULL ? (size_t)(e - p) : strlen(p)), p);
		if (field(line, 1, f, sizeof(f)) == 0 && strcmp(f, name) == 0)
			return line;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return NULL;
}

/* The last whitespace-separated field of line. */
static void
last_field(const char *line, char *out, size_t outsz)
{
	const char *e = line + strlen(line), *b;

	while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		e--;
	b = e;
	while (b > line && b[-1] != ' ' && b[-1] != '\t')
		b--;
	snprintf(out, outsz, "%.*s", (int)(e - b), b);
}

static void
t_token_list(void)
{
	const char *list[] = { "token", "list", NULL };
	const char *rev[] = { "token", "revoke", "it-list-r", NULL };
	char out[32768], line[1024], st[64], sc[128];
	char tok_a[200], tok_r[200], tok_e[200];
	const char *l;

	fresh();
	itest_make_token("it-list-a", "scim,jit", NULL, tok_a, sizeof(tok_a));
	itest_make_token("it-list-r", NULL, NULL, tok_r, sizeof(tok_r));
	itest_make_token("it-list-e", NULL, "1", tok_e, sizeof(tok_e));
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), rev), 0);
	itest_sleep_ms(2200);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), list), 0);
	/* never a secret: none of the token texts nor their tails */
	ASSERT_TRUE(strstr(out, itest->token) == NULL);
	ASSERT_TRUE(strstr(out, tok_a) == NULL);
	ASSERT_TRUE(strstr(out, tok_r) == NULL);
	ASSERT_TRUE(strstr(out, tok_e) == NULL);
	ASSERT_TRUE(strstr(out, itest->token + strlen(itest->token) - 16) ==
	    NULL);
	ASSERT_TRUE(strstr(out, tok_a + strlen(tok_a) - 16) == NULL);
	/* one line per token: id name scopes created expires state */
	ASSERT_NOT_NULL(l = list_line(out, "itest-admin", line, sizeof(line)));
	last_field(l, st, sizeof(st));
	ASSERT_STR_EQ(st, "active");
	ASSERT_NOT_NULL(l = list_line(out, "it-list-a", line, sizeof(line)));
	last_field(l, st, sizeof(st));
	ASSERT_STR_EQ(st, "active");
	ASSERT_INT_EQ(field(l, 2, sc, sizeof(sc)), 0);
	ASSERT_TRUE(strstr(sc, "scim") != NULL && strstr(sc, "jit") != NULL);
	ASSERT_TRUE(strstr(sc, "admin") == NULL);
	ASSERT_NOT_NULL(l = list_line(out, "it-list-r", line, sizeof(line)));
	last_field(l, st, sizeof(st));
	ASSERT_STR_EQ(st, "revoked");
	ASSERT_NOT_NULL(l = list_line(out, "it-list-e", line, sizeof(line)));
	last_field(l, st, sizeof(st));
	ASSERT_STR_EQ(st, "expired");
}

static void
t_body_too_large(void)
{
	static const char *const no_expect[] = { "Expect:", NULL };
	struct itest_resp r;
	size_t n = 1024 * 1024 + 1;
	char *body;
	int rc;

	fresh();
	/* syntactically a JSON object, just too big */
	ASSERT_NOT_NULL(body = malloc(n + 1));
	memset(body, ' ', n);
	memcpy(body, "{\"userName\":\"", 13);
	memset(body + 13, 'x', n - 13 - 2);
	memcpy(body + n - 2, "\"}", 2);
	body[n] = '\0';
	rc = itest_http_raw(itest, "POST", USERS, NULL, body, n, NULL, &r);
	if (rc != 0)
		free(body);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_SCIM_ERROR(&r, 413, NULL);
	itest_resp_free(&r);
	/* a client that sends it all without Expect: 100-continue */
	rc = itest_http_raw(itest, "POST", USERS, NULL, body, n, no_expect,
	    &r);
	if (rc == 0 && r.status != 413)
		fprintf(stderr, "  without Expect: status %ld\n", r.status);
	ASSERT_TRUE(rc != 0 || r.status == 413);
	itest_resp_free(&r);
	ASSERT_TRUE(itest_server_alive(itest));
	/* a body of exactly body_max is not refused for its size (but
	 * userName is far too long and schemas are missing) */
	n--;
	memcpy(body + n - 2, "\"}", 2);
	rc = itest_http_raw(itest, "POST", USERS, NULL, body, n, NULL, &r);
	free(body);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_SCIM_ERROR(&r, 400, NULL);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", "/healthz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
}

static void
t_body_max_config(void)
{
	struct itest_resp r;
	char body[3000];
	size_t n;

	fresh();
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "http.body_max = 2048");
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	n = (size_t)snprintf(body, sizeof(body), "{\"schemas\":"
	    "[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
	    "\"userName\":\"it-bodymax\",\"displayName\":\"%0*d\"}", 2100, 0);
	ASSERT_TRUE(n > 2048 && n < sizeof(body));
	ASSERT_INT_EQ(itest_http(itest, "POST", USERS, NULL, body, NULL, &r),
	    0);
	ASSERT_SCIM_ERROR(&r, 413, NULL);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	restore_default();
}

/* Wait (bounded) until the log holds at least want request lines
 * after off, then a little more so late extra lines are seen too. */
static char *
wait_request_lines(long off, int want)
{
	long long deadline = itest_now_ms() + 3000;
	char *s;

	for (;;) {
		s = log_since(off);
		if (s != NULL && count_in(s, "request rid=") >= want)
			break;
		if (itest_now_ms() >= deadline)
			return s;
		free(s);
		itest_sleep_ms(50);
	}
	free(s);
	itest_sleep_ms(300);
	return log_since(off);
}

static void
t_request_log(void)
{
	static const char bogus[] = "itestBogusSecretTokenValue0123456789";
	struct itest_resp r;
	char *s = NULL;
	long off;

	fresh();
	ASSERT_TRUE(itest_log_count(itest, "listening addr=") > 0);
	ASSERT_TRUE(itest_log_contains(itest, "port="));
	itest_sleep_ms(200);
	off = log_size();
	ASSERT_TRUE(off >= 0);
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET",
	    USERS "/00000000-0000-4000-8000-000000000000", NULL, NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 404);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, bogus, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 401);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", "/healthz", "", NULL, NULL,
	    &r), 0);
	itest_resp_free(&r);
	/* requests refused before any handler are logged too */
	ASSERT_INT_EQ(itest_http(itest, "GET", "/no/such/route", NULL, NULL,
	    NULL, &r), 0);
	ASSERT_TRUE(r.status == 404);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS "?filter=%FF", NULL,
	    NULL, NULL, &r), 0);
	ASSERT_INT_EQ(r.status, 400);
	itest_resp_free(&r);
	{
		size_t n = 1024 * 1024 + 10;
		char *big = malloc(n + 1);
		int rc;

		ASSERT_NOT_NULL(big);
		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		big[n] = '\0';
		rc = itest_http(itest, "POST", USERS, NULL, big, NULL, &r);
		free(big);
		ASSERT_INT_EQ(rc, 0);
		ASSERT_INT_EQ(r.status, 413);
		itest_resp_free(&r);
	}
	s = wait_request_lines(off, 7);
	ASSERT_NOT_NULL(s);
	if (count_in(s, "request rid=") != 7 ||
	    strstr(s, "status=413") == NULL) {
		fprintf(stderr, "  log:\n%s\n", s);
		free(s);
		TL_FAIL("want 7 request lines, one of them status=413");
	}
	if (count_in(s, "token=itest-admin") < 2 ||
	    strstr(s, "method=GET") == NULL ||
	    strstr(s, "route=/scim/v2/Users/{id}") == NULL ||
	    strstr(s, "status=404") == NULL ||
	    strstr(s, "status=401") == NULL || strstr(s, " ms=") == NULL) {
		fprintf(stderr, "  log:\n%s\n", s);
		free(s);
		TL_FAIL("request lines lack fields");
	}
	free(s);
	/* never a presented credential anywhere in the log */
	ASSERT_FALSE(itest_log_contains(itest, itest->token));
	ASSERT_FALSE(itest_log_contains(itest, bogus));
}

/* A raw TCP connection to the server; -1 on error. */
static int
raw_connect(void)
{
	struct sockaddr_in sa;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)itest->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read until the peer closes, at most ms; 1 if it closed, else 0. The
 * first bytes read go to buf (NUL-terminated). */
static int
wait_closed(int fd, long ms, char *buf, size_t bufsz)
{
	long long deadline = itest_now_ms() + ms;
	size_t used = 0;
	char sink[1024];
	ssize_t n;

	buf[0] = '\0';
	while (itest_now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 50) <= 0)
			continue;
		if (used + 1 < bufsz)
			n = recv(fd, buf + used, bufsz - 1 - used, 0);
		else
			n = recv(fd, sink, sizeof(sink), 0);
		if (n <= 0)
			return 1;
		if (used + 1 < bufsz) {
			used += (size_t)n;
			buf[used] = '\0';
		}
	}
	return 0;
}

/* Idle and half-sent requests are cut after http.conn_timeout; the
 * server keeps serving meanwhile. */
static void
t_conn_timeout(void)
{
	static const char partial[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	struct itest_resp r;
	char buf[512];
	int fd1, fd2, c1, c2;
	long long t0;

	fresh();
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "http.conn_timeout = 1");
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	ASSERT_TRUE((fd1 = raw_connect()) != -1);
	if ((fd2 = raw_connect()) == -1) {
		close(fd1);
		TL_FAIL("connect");
	}
	/* fd1 idle, fd2 with half a request */
	if (send(fd2, partial, sizeof(partial) - 1, MSG_NOSIGNAL) < 0) {
		close(fd1);
		close(fd2);
		TL_FAIL("send");
	}
	if (itest_http(itest, "GET", "/healthz", "", NULL, NULL, &r) != 0 ||
	    r.status != 200) {
		itest_resp_free(&r);
		close(fd1);
		close(fd2);
		TL_FAIL("server not serving next to idle connections");
	}
	itest_resp_free(&r);
	t0 = itest_now_ms();
	c1 = wait_closed(fd1, 6000, buf, sizeof(buf));
	c2 = wait_closed(fd2, 6000 - (long)(itest_now_ms() - t0), buf,
	    sizeof(buf));
	close(fd1);
	close(fd2);
	ASSERT_TRUE(c1);
	ASSERT_TRUE(c2);
	ASSERT_TRUE(itest_server_alive(itest));
	restore_default();
}

/* Garbage on the wire gets an error or a close, never a crash. */
static void
t_garbage_http(void)
{
	static const char *const reqs[] = {
		"GARBAGE\r\n\r\n",
		"GET\r\n\r\n",
		"GET /healthz HTTP/9.9\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: -1\r\n\r\n",
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: 99999999999999999999\r\n\r\n",
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n"
		    "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
		"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n"
		    "Authorization: Bearer \x01\x02\xff\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"GET /../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nX: \r\n \r\n\r\n",
	};
	struct itest_resp r;
	char buf[512];
	size_t i;
	int fd;

	fresh();
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		ASSERT_TRUE((fd = raw_connect()) != -1);
		(void)send(fd, reqs[i], strlen(reqs[i]), MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		(void)wait_closed(fd, 3000, buf, sizeof(buf));
		close(fd);
		/* 505 for an unknown HTTP version is right; no other 5xx */
		if ((strncmp(buf, "HTTP/1.1 5", 10) == 0 ||
		    strncmp(buf, "HTTP/1.0 5", 10) == 0) &&
		    strncmp(buf + 9, "505", 3) != 0)
			TL_FAIL("request %zu answered %.40s", i, buf);
		if (strstr(buf, "root:") != NULL)
			TL_FAIL("request %zu leaked a file", i);
		ASSERT_TRUE(itest_server_alive(itest));
	}
	ASSERT_INT_EQ(itest_http(itest, "GET", "/healthz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
}

static void
t_db_outage(void)
{
	struct itest_resp r;
	long long t0, deadline;
	int ok = 0;

	fresh();
	ASSERT_INT_EQ(itest_db_stop(itest), 0);
	db_stopped = 1;
	t0 = itest_now_ms();
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_SCIM_ERROR(&r, 503, NULL);
	ASSERT_STR_EQ(r.retry_after, "1");
	itest_resp_free(&r);
	/* bounded by the connect and acquire timeouts, not hanging */
	ASSERT_TRUE(itest_now_ms() - t0 < 15000);
	ASSERT_INT_EQ(itest_http(itest, "POST", USERS, NULL,
	    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
	    "\"userName\":\"it-outage\"}", NULL, &r), 0);
	ASSERT_SCIM_ERROR(&r, 503, NULL);
	ASSERT_STR_EQ(r.retry_after, "1");
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", "/readyz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 503);
	ASSERT_STR_EQ(itest_json_str(&r, "status"), "unavailable");
	ASSERT_TRUE(r.retry_after[0] != '\0');
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", "/healthz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	ASSERT_TRUE(itest_server_alive(itest));

	ASSERT_INT_EQ(itest_db_start(itest), 0);
	db_stopped = 0;
	deadline = itest_now_ms() + 30000;
	while (itest_now_ms() < deadline) {
		if (itest_http(itest, "GET", USERS, NULL, NULL, NULL,
		    &r) == 0 && r.status == 200)
			ok = 1;
		itest_resp_free(&r);
		if (ok)
			break;
		itest_sleep_ms(200);
	}
	ASSERT_TRUE(ok);
	ASSERT_TRUE(itest_server_alive(itest));
	ASSERT_INT_EQ(itest_http(itest, "GET", "/readyz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	/* writes work again and the failed POST left nothing behind */
	ASSERT_INT_EQ(itest_http(itest, "POST", USERS, NULL,
	    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
	    "\"userName\":\"it-outage\"}", NULL, &r), 0);
	ASSERT_INT_EQ(r.status, 201);
	itest_resp_free(&r);
	ASSERT_TRUE(itest_log_count(itest, "status=5") > 0);
}

/* Started while the database is down: serves 503, then recovers. */
static void
t_start_without_db(void)
{
	struct itest_resp r;
	long long deadline;
	int ok = 0;

	fresh();
	(void)itest_server_stop(itest, SIGTERM);
	ASSERT_INT_EQ(itest_db_stop(itest), 0);
	db_stopped = 1;
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	ASSERT_INT_EQ(itest_http(itest, "GET", "/readyz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 503);
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_SCIM_ERROR(&r, 503, NULL);
	ASSERT_STR_EQ(r.retry_after, "1");
	itest_resp_free(&r);
	ASSERT_INT_EQ(itest_db_start(itest), 0);
	db_stopped = 0;
	deadline = itest_now_ms() + 30000;
	while (itest_now_ms() < deadline && !ok) {
		if (itest_http(itest, "GET", USERS, NULL, NULL, NULL,
		    &r) == 0 && r.status == 200)
			ok = 1;
		itest_resp_free(&r);
		if (!ok)
			itest_sleep_ms(200);
	}
	ASSERT_TRUE(ok);
	ASSERT_TRUE(itest_server_alive(itest));
}

static void
t_sigterm(void)
{
	long long t0;
	int st;

	fresh();
	t0 = itest_now_ms();
	st = itest_server_stop(itest, SIGTERM);
	ASSERT_TRUE(st != -1);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
	/* idle server: well within http.drain_timeout (10 s) */
	ASSERT_TRUE(itest_now_ms() - t0 < 10000);
	ASSERT_TRUE(itest_log_contains(itest, "stopped"));
	restore_default();
}

struct slow_req {
	char *body;
	int rc;
	long status;
	size_t nresults;
	char first_status[8];
};

static void *
slow_thread(void *arg)
{
	struct slow_req *s = arg;
	struct itest_resp r;
	const char *st;

	s->rc = itest_http(itest, "POST", "/scim/v2/Bulk", NULL, s->body,
	    NULL, &r);
	if (s->rc == 0) {
		s->status = r.status;
		s->nresults = json_array_size(json_object_get(r.json,
		    "Operations"));
		st = itest_json_str(&r, "Operations.0.status");
		snprintf(s->first_status, sizeof(s->first_status), "%s",
		    st != NULL ? st : "");
	}
	itest_resp_free(&r);
	return NULL;
}

/* SIGTERM while a long Bulk request runs: it is drained (completes and
 * is answered), then the process exits 0. */
static void
t_sigterm_in_flight(void)
{
	struct slow_req s;
	pthread_t th;
	size_t cap = 400 * 200, len, i;
	char out[64];
	int st;

	fresh();
	memset(&s, 0, sizeof(s));
	ASSERT_NOT_NULL(s.body = malloc(cap));
	len = (size_t)snprintf(s.body, cap, "{\"schemas\":[\"urn:ietf:params:"
	    "scim:api:messages:2.0:BulkRequest\"],\"Operations\":[");
	for (i = 0; i < 400; i++)
		len += (size_t)snprintf(s.body + len, cap - len,
		    "%s{\"method\":\"POST\",\"path\":\"/Users\","
		    "\"bulkId\":\"b%zu\",\"data\":{\"schemas\":[\"urn:ietf:params:scim:schemas:"
		    "core:2.0:User\"],\"userName\":\"it-drain-%zu\"}}",
		    i ? "," : "", i, i);
	snprintf(s.body + len, cap - len, "]}");
	if (pthread_create(&th, NULL, slow_thread, &s) != 0) {
		free(s.body);
		TL_FAIL("pthread_create");
	}
	/* until the first user of the request is stored */
	for (i = 0; i < 100; i++) {
		if (itest_sql(itest, out, sizeof(out), "SELECT count(*) FROM "
		    "scim_user WHERE doc->>'userName' LIKE 'it-drain-%'") ==
		    0 && out[0] != '0')
			break;
		itest_sleep_ms(20);
	}
	st = itest_server_stop(itest, SIGTERM);
	pthread_join(th, NULL);
	free(s.body);
	ASSERT_TRUE(st != -1 && WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
	ASSERT_INT_EQ(s.rc, 0);
	ASSERT_INT_EQ(s.status, 200);
	ASSERT_INT_EQ(s.nresults, 400);
	ASSERT_STR_EQ(s.first_status, "201");
	ASSERT_INT_EQ(itest_sql(itest, out, sizeof(out), "SELECT count(*) "
	    "FROM scim_user WHERE doc->>'userName' LIKE 'it-drain-%'"), 0);
	ASSERT_STR_EQ(out, "400\n");
	ASSERT_TRUE(itest_log_contains(itest, "in_flight=1"));
	restore_default();
}

static void
t_sigterm_short_drain(void)
{
	long long t0;
	int st;

	fresh();
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "http.drain_timeout = 1");
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	t0 = itest_now_ms();
	st = itest_server_stop(itest, SIGINT);
	ASSERT_TRUE(st != -1 && WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
	ASSERT_TRUE(itest_now_ms() - t0 < 3000);
	restore_default();
}

static void
t_tls(void)
{
	char cert[400], key[400], out[256];
	const char *gen[] = { "openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days",
	    "1", "-subj", "/CN=127.0.0.1", "-addext",
	    "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
	    NULL };
	struct itest_resp r;
	char plain[64];
	int rc;

	fresh();
	snprintf(cert, sizeof(cert), "%s/tls-cert.pem", itest->dir);
	snprintf(key, sizeof(key), "%s/tls-key.pem", itest->dir);
	ASSERT_INT_EQ(itest_run(gen, out, sizeof(out), 60), 0);
	ASSERT_INT_EQ(chmod(key, 0600), 0);
	snprintf(itest->extra_config, sizeof(itest->extra_config),
	    "http.tls_cert = %s\nhttp.tls_key = %s", cert, key);
	ASSERT_INT_EQ(itest_server_start(itest), 0);
	ASSERT_TRUE(strncmp(itest->addr, "https://", 8) == 0);
	ASSERT_TRUE(itest_log_contains(itest, "tls=1"));
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	/* Location and meta.location use https */
	ASSERT_INT_EQ(itest_http(itest, "POST", USERS, NULL,
	    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
	    "\"userName\":\"it-tls-user\"}", NULL, &r), 0);
	ASSERT_INT_EQ(r.status, 201);
	ASSERT_TRUE(strncmp(r.location, "https://", 8) == 0);
	itest_resp_free(&r);
	/* plain HTTP to the TLS port gets no answer */
	snprintf(plain, sizeof(plain), "%s", itest->addr);
	snprintf(itest->addr, sizeof(itest->addr), "http://127.0.0.1:%d",
	    itest->port);
	rc = itest_http(itest, "GET", "/healthz", "", NULL, NULL, &r);
	ASSERT_TRUE(rc != 0 || r.status != 200);
	itest_resp_free(&r);
	snprintf(itest->addr, sizeof(itest->addr), "%s", plain);
	ASSERT_TRUE(itest_server_alive(itest));
	ASSERT_INT_EQ(itest_http(itest, "GET", "/healthz", "", NULL, NULL,
	    &r), 0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	restore_default();
}

/* Write text to DIR/name; the path into path. */
static void
write_conf(const char *name, const char *text, char *path, size_t pathsz)
{
	FILE *f;

	snprintf(path, pathsz, "%s/%s", itest->dir, name);
	ASSERT_NOT_NULL(f = fopen(path, "w"));
	fputs(text, f);
	ASSERT_INT_EQ(fclose(f), 0);
}

/* --check-config with the config file at path; exit status. */
static int
check_config(const char *path, char *out, size_t outsz)
{
	const char *argv[] = { "--check-config", NULL };
	char saved[sizeof(itest->config_path)];
	int rc;

	snprintf(saved, sizeof(saved), "%s", itest->config_path);
	snprintf(itest->config_path, sizeof(itest->config_path), "%s", path);
	rc = itest_cli(itest, out, outsz, argv);
	snprintf(itest->config_path, sizeof(itest->config_path), "%s", saved);
	return rc;
}

static void
t_check_config(void)
{
	static const struct {
		const char *text;
		int ok;
	} cases[] = {
		{ "http.listen = 0.0.0.0\n", 0 },
		{ "http.listen = ::\n", 0 },
		{ "http.listen = 0.0.0.0\nhttp.allow_plain = true\n", 1 },
		{ "http.listen = 127.0.0.1\n", 1 },
		{ "http.listen = ::1\n", 1 },
		{ "http.port = 70000\n", 0 },
		{ "http.body_max = 10\n", 0 },
		{ "no.such.key = 1\n", 0 },
		{ "log.level = chatty\n", 0 },
		{ "http.allow_plain = maybe\n", 0 },
		{ "http.tls_cert = /nonexistent.pem\n", 0 },
		{ "# only a comment\n\n", 1 },
	};
	char path[300], out[1024];
	size_t i;
	int rc, rc2;

	fresh();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_conf("check.conf", cases[i].text, path, sizeof(path));
		rc = check_config(path, out, sizeof(out));
		if (cases[i].ok && (rc != 0 || strstr(out, "config ok") ==
		    NULL))
			TL_FAIL("config \"%s\": exit %d, out \"%s\"",
			    cases[i].text, rc, out);
		if (!cases[i].ok && rc != 1)
			TL_FAIL("config \"%s\": exit %d, want 1",
			    cases[i].text, rc);
	}
	/* the environment beats the file */
	write_conf("check.conf", "http.listen = 127.0.0.1\n", path,
	    sizeof(path));
	setenv("VAULTBRIDGE_HTTP_LISTEN", "0.0.0.0", 1);
	rc = check_config(path, out, sizeof(out));
	setenv("VAULTBRIDGE_HTTP_ALLOW_PLAIN", "yes", 1);
	rc2 = check_config(path, out, sizeof(out));
	unsetenv("VAULTBRIDGE_HTTP_LISTEN");
	unsetenv("VAULTBRIDGE_HTTP_ALLOW_PLAIN");
	ASSERT_INT_EQ(rc, 1);
	ASSERT_INT_EQ(rc2, 0);
}

static void
t_dump_config(void)
{
	static const char *const keys[] = { "http.listen", "http.port",
	    "http.tls_cert", "http.tls_key", "http.allow_plain",
	    "http.body_max", "http.conn_timeout", "http.max_conns",
	    "http.drain_timeout", "http.base_url", "db.dsn", "db.pool_size",
	    "db.connect_timeout", "db.acquire_timeout_ms",
	    "db.statement_timeout_ms", "log.level", "auth.cache_ttl_ms" };
	const char *argv[] = { "--dump-config", NULL };
	char out1[16384], out2[16384], path[300], want[64], saved[300];
	size_t i;
	int rc;

	fresh();
	ASSERT_INT_EQ(itest_cli(itest, out1, sizeof(out1), argv), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char k[64];
		const char *p = out1;
		int found = 0;

		snprintf(k, sizeof(k), "%s =", keys[i]);
		/* at the start of a line */
		while ((p = strstr(p, k)) != NULL) {
			if (p == out1 || p[-1] == '\n')
				found = 1;
			p++;
		}
		if (!found)
			TL_FAIL("dump lacks %s:\n%s", keys[i], out1);
	}
	snprintf(want, sizeof(want), "http.port = %d\n", itest->port);
	ASSERT_TRUE(strstr(out1, want) != NULL);
	ASSERT_TRUE(strstr(out1, "log.level = info\n") != NULL);
	write_conf("dump.conf", out1, path, sizeof(path));
	snprintf(saved, sizeof(saved), "%s", itest->config_path);
	snprintf(itest->config_path, sizeof(itest->config_path), "%s", path);
	rc = itest_cli(itest, out2, sizeof(out2), argv);
	snprintf(itest->config_path, sizeof(itest->config_path), "%s", saved);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_STR_EQ(out2, out1);
	/* and the dump is a valid config */
	ASSERT_INT_EQ(check_config(path, out2, sizeof(out2)), 0);
	/* the environment shows in the dump */
	setenv("VAULTBRIDGE_LOG_LEVEL", "debug", 1);
	rc = itest_cli(itest, out2, sizeof(out2), argv);
	unsetenv("VAULTBRIDGE_LOG_LEVEL");
	ASSERT_INT_EQ(rc, 0);
	ASSERT_TRUE(strstr(out2, "log.level = debug\n") != NULL);
}

static void
t_migrate_twice(void)
{
	const char *argv[] = { "migrate", NULL };
	char out1[512], out2[512];
	const char *v1, *v2;

	fresh();
	ASSERT_INT_EQ(itest_cli(itest, out1, sizeof(out1), argv), 0);
	ASSERT_TRUE(strstr(out1, "migrated bridge: 0 applied, schema version ") ==
	    out1);
	ASSERT_INT_EQ(itest_cli(itest, out2, sizeof(out2), argv), 0);
	ASSERT_STR_EQ(out2, out1);
	v1 = strstr(out1, "version ") + 8;
	v2 = v1;
	while (*v2 >= '0' && *v2 <= '9')
		v2++;
	ASSERT_TRUE(v2 > v1);
	/* the server keeps working during and after */
	ASSERT_TRUE(itest_server_alive(itest));
}

static void
t_cli_misc(void)
{
	const char *ver[] = { "version", NULL };
	const char *bad[] = { "frobnicate", NULL };
	const char *noname[] = { "token", "create", NULL };
	const char *badscope[] = { "token", "create", "--name", "it-bad",
	    "--scopes", "nosuchscope", NULL };
	char out[512];

	fresh();
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), ver), 0);
	ASSERT_TRUE(strncmp(out, "vaultbridge ", 12) == 0);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), bad), 2);
	ASSERT_INT_EQ(itest_cli(itest, out, sizeof(out), noname), 2);
	ASSERT_TRUE(itest_cli(itest, out, sizeof(out), badscope) != 0);
	ASSERT_TRUE(out[0] == '\0');
}

static void
t_still_alive(void)
{
	struct itest_resp r;

	fresh();
	ASSERT_TRUE(itest_server_alive(itest));
	ASSERT_INT_EQ(itest_http(itest, "GET", USERS, NULL, NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
	/* sanitizer builds (VB_BINARY=build-asan/vaultbridge) report here */
	ASSERT_FALSE(itest_log_contains(itest, "Sanitizer"));
	ASSERT_FALSE(itest_log_contains(itest, "runtime error:"));
}

static const struct testlib_case cases[] = {
	{ "healthz", t_healthz },
	{ "readyz", t_readyz },
	{ "scim_ok_with_token", t_scim_ok_with_token },
	{ "auth_missing_and_garbage", t_auth_missing_and_garbage },
	{ "auth_revoked", t_auth_revoked },
	{ "auth_expired", t_auth_expired },
	{ "scope_forbidden", t_scope_forbidden },
	{ "token_list", t_token_list },
	{ "body_too_large", t_body_too_large },
	{ "body_max_config", t_body_max_config },
	{ "request_log", t_request_log },
	{ "conn_timeout", t_conn_timeout },
	{ "garbage_http", t_garbage_http },
	{ "db_outage", t_db_outage },
	{ "start_without_db", t_start_without_db },
	{ "sigterm", t_sigterm },
	{ "sigterm_in_flight", t_sigterm_in_flight },
	{ "sigint_short_drain", t_sigterm_short_drain },
	{ "tls", t_tls },
	{ "check_config", t_check_config },
	{ "dump_config", t_dump_config },
	{ "migrate_twice", t_migrate_twice },
	{ "cli_misc", t_cli_misc },
	{ "still_alive", t_still_alive },
};

ITEST_MAIN(cases)
