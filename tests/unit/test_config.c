#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/buf.h"
#include "testlib.h"

static char tdir[64];
static unsigned tseq;
static char *const no_env[] = { NULL };

/* Write len bytes into a new file in the test dir; returns its path
 * (static storage, valid until the next call). */
static const char *
tfile_n(const char *text, size_t len)
{
	static char path[128];
	int fd;

	if (tdir[0] == '\0') {
		snprintf(tdir, sizeof(tdir), "/tmp/vbtest-config-XXXXXX");
		if (mkdtemp(tdir) == NULL)
			TL_FAIL("mkdtemp");
	}
	snprintf(path, sizeof(path), "%s/c%u.conf", tdir, tseq++);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		TL_FAIL("open %s", path);
	if (write(fd, text, len) != (ssize_t)len)
		TL_FAIL("write");
	close(fd);
	return path;
}

static const char *
tfile(const char *text)
{
	return tfile_n(text, strlen(text));
}

static struct config *
load_ok(const char *text, char *const *envp)
{
	struct config *c = NULL;
	char err[512];
	int r;

	r = config_load(tfile(text), envp, &c, err, sizeof(err));
	if (r != 0)
		TL_FAIL("config_load: %d %s", r, err);
	ASSERT_NOT_NULL(c);
	return c;
}

static void
t_defaults(void)
{
	struct config *c = NULL;
	char err[256];

	ASSERT_INT_EQ(config_load(NULL, no_env, &c, err, sizeof(err)), 0);
	ASSERT_STR_EQ(c->http_listen, "127.0.0.1");
	ASSERT_INT_EQ(c->http_port, 8080);
	ASSERT_NULL(c->http_tls_cert);
	ASSERT_NULL(c->http_tls_key);
	ASSERT_INT_EQ(c->http_allow_plain, 0);
	ASSERT_INT_EQ(c->http_body_max, 1048576);
	ASSERT_INT_EQ(c->http_conn_timeout_s, 30);
	ASSERT_INT_EQ(c->http_max_conns, 256);
	ASSERT_INT_EQ(c->http_threads, 8);
	ASSERT_INT_EQ(c->http_drain_timeout_s, 10);
	ASSERT_NULL(c->http_base_url);
	ASSERT_STR_EQ(c->db_dsn, "dbname=vaultbridge");
	ASSERT_INT_EQ(c->db_pool_size, 16);
	ASSERT_INT_EQ(c->db_connect_timeout_s, 5);
	ASSERT_INT_EQ(c->db_acquire_timeout_ms, 2000);
	ASSERT_INT_EQ(c->db_statement_timeout_ms, 5000);
	ASSERT_INT_EQ(c->log_level, LOG_LEVEL_INFO);
	ASSERT_INT_EQ(c->auth_cache_ttl_ms, 10000);
	ASSERT_STR_EQ(c->policy_dir, "policy");
	ASSERT_INT_EQ(config_check(c, err, sizeof(err)), 0);
	config_free(c);
	config_free(NULL);
}

static void
t_good_file(void)
{
	struct config *c;

	c = load_ok("# vaultbridge\n"
	    "\n"
	    "   # indented comment\n"
	    "http.listen = ::1\n"
	    "http.port=0\r\n"
	    "\thttp.allow_plain\t=\tYes  \n"
	    "http.body_max = 67108864\n"
	    "http.conn_timeout = 3600\n"
	    "http.max_conns = 1\n"
	    "http.threads = 256\n"
	    "http.drain_timeout = 0\n"
	    "http.base_url = \"https://scim.example.com/vb\"\n"
	    "db.dsn = host=/tmp dbname=vb application_name=x\n"
	    "db.pool_size = 256\n"
	    "db.connect_timeout = 60\n"
	    "db.acquire_timeout_ms = 1\n"
	    "db.statement_timeout_ms = 0\n"
	    "log.level = DEBUG\n"
	    "auth.cache_ttl_ms = 60000\n"
	    "policy.dir = /etc/vaultbridge/policy", no_env);
	ASSERT_STR_EQ(c->http_listen, "::1");
	ASSERT_INT_EQ(c->http_port, 0);
	ASSERT_INT_EQ(c->http_allow_plain, 1);
	ASSERT_INT_EQ(c->http_body_max, 67108864);
	ASSERT_INT_EQ(c->http_conn_timeout_s, 3600);
	ASSERT_INT_EQ(c->http_max_conns, 1);
	ASSERT_INT_EQ(c->http_threads, 256);
	ASSERT_INT_EQ(c->http_drain_timeout_s, 0);
	ASSERT_STR_EQ(c->http_base_url, "https://scim.example.com/vb");
	ASSERT_STR_EQ(c->db_dsn, "host=/tmp dbname=vb application_name=x");
	ASSERT_INT_EQ(c->db_pool_size, 256);
	ASSERT_INT_EQ(c->db_connect_timeout_s, 60);
	ASSERT_INT_EQ(c->db_acquire_timeout_ms, 1);
	ASSERT_INT_EQ(c->db_statement_timeout_ms, 0);
	ASSERT_INT_EQ(c->log_level, LOG_LEVEL_DEBUG);
	ASSERT_INT_EQ(c->auth_cache_ttl_ms, 60000);
	ASSERT_STR_EQ(c->policy_dir, "/etc/vaultbridge/policy");
	config_free(c);
}

static void
t_bools(void)
{
	static const struct {
		const char *text;
		int want;
	} tab[] = {
		{ "true", 1 }, { "yes", 1 }, { "on", 1 }, { "1", 1 },
		{ "TRUE", 1 }, { "\"on\"", 1 },
		{ "false", 0 }, { "no", 0 }, { "off", 0 }, { "0", 0 },
		{ "Off", 0 },
	};
	char line[128];
	struct config *c;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		snprintf(line, sizeof(line), "http.allow_plain = %s\n",
		    tab[i].text);
		c = load_ok(line, no_env);
		if (c->http_allow_plain != tab[i].want)
			TL_FAIL("bool %s", tab[i].text);
		config_free(c);
	}
}

static void
t_quoted(void)
{
	struct config *c;

	c = load_ok("db.dsn = \"a \\\"b\\\" \\\\c # d\"  \n"
	    "http.tls_cert = \"\"\n", no_env);
	ASSERT_STR_EQ(c->db_dsn, "a \"b\" \\c # d");
	ASSERT_NULL(c->http_tls_cert);
	config_free(c);
	c = load_ok("db.dsn = \"\"\n", no_env);
	ASSERT_STR_EQ(c->db_dsn, "");
	config_free(c);
	/* policy.dir = "" turns the policy off (NULL), no default */
	c = load_ok("policy.dir = \"\"\n", no_env);
	ASSERT_NULL(c->policy_dir);
	config_free(c);
}

/* A file of exactly CONFIG_LINE_MAX bytes per line is fine. */
static void
t_long_line_ok(void)
{
	char text[4096 + 2];
	struct config *c;

	memset(text, 'x', sizeof(text));
	text[0] = '#';
	text[4096] = '\n';
	text[4097] = '\0';
	c = load_ok(text, no_env);
	config_free(c);
}

static void
t_errors(void)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} tab[] = {
		{ "nope = 1\n", 1, "unknown key 'nope'" },
		{ "HTTP.PORT = 1\n", 1, "unknown key" },
		{ "http.port.x = 1\n", 1, "unknown key" },
		{ "# c\n\nhttp.port = 1\nhttp.port = 2\n", 4,
		    "duplicate key 'http.port' (first set on line 3)" },
		{ "http.port = 65536\n", 1, "http.port: expected an integer "
		    "in 0..65535" },
		{ "http.port = -1\n", 1, "expected an integer" },
		{ "http.port = +1\n", 1, "expected an integer" },
		{ "http.port = 12a\n", 1, "expected an integer" },
		{ "http.port = \" 80\"\n", 1, "expected an integer" },
		{ "http.port = 0x50\n", 1, "expected an integer" },
		{ "http.port = 18446744073709551616\n", 1,
		    "expected an integer" },
		{ "http.body_max = 1023\n", 1, "in 1024..67108864" },
		{ "http.body_max = 67108865\n", 1, "expected an integer" },
		{ "http.conn_timeout = 0\n", 1, "in 1..3600" },
		{ "http.max_conns = 10001\n", 1, "in 1..10000" },
		{ "http.drain_timeout = 601\n", 1, "in 0..600" },
		{ "db.pool_size = 0\n", 1, "in 1..256" },
		{ "db.connect_timeout = 61\n", 1, "in 1..60" },
		{ "db.acquire_timeout_ms = 0\n", 1, "in 1..60000" },
		{ "db.statement_timeout_ms = 600001\n", 1, "in 0..600000" },
		{ "auth.cache_ttl_ms = 60001\n", 1, "in 0..60000" },
		{ "policy.dir = \"a\tb\"\n", 1, "policy.dir: value must be "
		    "printable" },
		{ "policy.dir = a\npolicy.dir = b\n", 2,
		    "duplicate key 'policy.dir'" },
		{ "\n\n\nhttp.allow_plain = maybe\n", 4, "expected true/false" },
		{ "http.allow_plain = \"\"\n", 1, "expected true/false" },
		{ "log.level = verbose\n", 1, "expected debug, info" },
		{ "http.listen = localhost\n", 1, "IPv4 or IPv6" },
		{ "http.listen = [::1]\n", 1, "IPv4 or IPv6" },
		{ "http.listen = \"\"\n", 1, "IPv4 or IPv6" },
		{ "http.base_url = ftp://x\n", 1, "expected http://" },
		{ "http.base_url = \"https://x/\"\n", 1, "trailing '/'" },
		{ "http.base_url = https://\n", 1, "expected http://" },
		{ "http.port 8080\n", 1, "expected \"key = value\"" },
		{ "= 8080\n", 1, "unknown key ''" },
		{ "x\n", 1, "expected \"key = value\"" },
		{ "db.dsn = \"abc\n", 1, "unterminated quoted value" },
		{ "db.dsn = \"a\\nb\"\n", 1, "bad escape" },
		{ "db.dsn = \"a\" b\n", 1, "text after the closing quote" },
		{ "db.dsn = \"a\" # b\n", 1, "text after the closing quote" },
		{ "http.port =\n", 1, "missing value" },
		{ "http.port =   \t\n", 1, "missing value" },
		{ "db.dsn = a # b\n", 1, "quote the value" },
		{ "db.dsn = a\"b\n", 1, "quote the value" },
		{ "db.dsn = \"a\tb\"\n", 1, "printable UTF-8" },
		{ "\n# \xff\n", 2, "not UTF-8" },
		{ "# ok\n# \xc0\xaf overlong\n", 2, "not UTF-8" },
	};
	struct config *c = NULL;
	char err[512], want[512];
	const char *path;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		path = tfile(tab[i].text);
		c = NULL;
		if (config_load(path, no_env, &c, err, sizeof(err)) !=
		    ERR_CONFIG || c != NULL)
			TL_FAIL("case %zu (%s) loaded", i, tab[i].text);
		snprintf(want, sizeof(want), "%s:%u: ", path, tab[i].line);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, tab[i].msg) == NULL)
			TL_FAIL("case %zu: got \"%s\", want \"%s%s\"", i, err,
			    want, tab[i].msg);
	}
}

static void
t_error_long_line(void)
{
	char text[4200], err[512];
	struct config *c = NULL;
	const char *path;

	memcpy(text, "# x\n", 4);
	memset(text + 4, '#', 4097);
	text[4 + 4097] = '\n';
	path = tfile_n(text, 4 + 4098);
	ASSERT_INT_EQ(config_load(path, no_env, &c, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_NULL(c);
	ASSERT_TRUE(strstr(err, ":2: line longer than 4096 bytes") != NULL);
}

static void
t_error_nul(void)
{
	static const char text[] = "http.port = 1\nhttp.listen = 1\0002\n";
	struct config *c = NULL;
	char err[512];
	const char *path;

	path = tfile_n(text, sizeof(text) - 1);
	ASSERT_INT_EQ(config_load(path, no_env, &c, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_TRUE(strstr(err, ":2: line is not UTF-8 text") != NULL);
}

static void
t_error_missing_file(void)
{
	struct config *c = NULL;
	char err[512];

	ASSERT_INT_EQ(config_load("/nonexistent/vb.conf", no_env, &c, err,
	    sizeof(err)), ERR_CONFIG);
	ASSERT_NULL(c);
	ASSERT_STR_EQ(err, "/nonexistent/vb.conf: cannot read: No such "
	    "file or directory");
	ASSERT_INT_EQ(config_load("/tmp", no_env, &c, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_TRUE(strstr(err, "/tmp: cannot read") != NULL);
}

static void
t_env(void)
{
	char *const env1[] = { "PATH=/bin", "VAULTBRIDGE_HTTP_PORT=2000",
	    "VAULTBRIDGE_TOKEN=vbt_x", "VAULTBRIDGE_ADDR=http://x",
	    "VAULTBRIDGE_HTTP_TLS_CERT=", "VAULTBRIDGE_LOG_LEVEL=warn",
	    "VAULTBRIDGE_DB_DSN=dbname=fromenv",
	    "VAULTBRIDGE_HTTP_PORT=3000", "VAULTBRIDGE_POLICY_DIR=/srv/pol",
	    NULL };
	char *const env_bad[] = { "VAULTBRIDGE_DB_POOL_SIZE=0", NULL };
	char *const env_lower[] = { "vaultbridge_http_port=1", NULL };
	struct config *c;
	char err[512];
	const char *path;

	c = load_ok("http.port = 1000\nhttp.tls_cert = /a\n"
	    "http.tls_key = /b\n", env1);
	/* env beats file; the first of two equal names wins (getenv) */
	ASSERT_INT_EQ(c->http_port, 2000);
	ASSERT_NULL(c->http_tls_cert);
	ASSERT_STR_EQ(c->http_tls_key, "/b");
	ASSERT_INT_EQ(c->log_level, LOG_LEVEL_WARN);
	ASSERT_STR_EQ(c->db_dsn, "dbname=fromenv");
	ASSERT_STR_EQ(c->policy_dir, "/srv/pol");
	config_free(c);

	c = load_ok("", env_lower);
	ASSERT_INT_EQ(c->http_port, 8080);
	config_free(c);

	/* without a file */
	c = NULL;
	ASSERT_INT_EQ(config_load(NULL, env1, &c, err, sizeof(err)), 0);
	ASSERT_INT_EQ(c->http_port, 2000);
	config_free(c);

	path = tfile("db.pool_size = 3\n");
	c = NULL;
	ASSERT_INT_EQ(config_load(path, env_bad, &c, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_NULL(c);
	ASSERT_STR_EQ(err, "environment VAULTBRIDGE_DB_POOL_SIZE: "
	    "db.pool_size: expected an integer in 1..256");
}

static void
t_env_environ(void)
{
	struct config *c = NULL;
	char err[512];

	ASSERT_INT_EQ(setenv("VAULTBRIDGE_HTTP_MAX_CONNS", "77", 1), 0);
	ASSERT_INT_EQ(config_load(NULL, NULL, &c, err, sizeof(err)), 0);
	ASSERT_INT_EQ(c->http_max_conns, 77);
	config_free(c);
	ASSERT_INT_EQ(unsetenv("VAULTBRIDGE_HTTP_MAX_CONNS"), 0);
}

static char *
dump(const struct config *c)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f;

	if ((f = open_memstream(&p, &n)) == NULL)
		TL_FAIL("open_memstream");
	config_dump(c, f);
	fclose(f);
	return p;
}

static int
str_eq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
round_trip(const char *text)
{
	struct config *a, *b;
	char *da, *db;

	a = load_ok(text, no_env);
	da = dump(a);
	b = load_ok(da, no_env);
	db = dump(b);
	ASSERT_STR_EQ(da, db);
	ASSERT_TRUE(str_eq_null(a->http_listen, b->http_listen));
	ASSERT_INT_EQ(a->http_port, b->http_port);
	ASSERT_TRUE(str_eq_null(a->http_tls_cert, b->http_tls_cert));
	ASSERT_TRUE(str_eq_null(a->http_tls_key, b->http_tls_key));
	ASSERT_INT_EQ(a->http_allow_plain, b->http_allow_plain);
	ASSERT_INT_EQ(a->http_body_max, b->http_body_max);
	ASSERT_INT_EQ(a->http_conn_timeout_s, b->http_conn_timeout_s);
	ASSERT_INT_EQ(a->http_max_conns, b->http_max_conns);
	ASSERT_INT_EQ(a->http_threads, b->http_threads);
	ASSERT_INT_EQ(a->http_drain_timeout_s, b->http_drain_timeout_s);
	ASSERT_TRUE(str_eq_null(a->http_base_url, b->http_base_url));
	ASSERT_TRUE(str_eq_null(a->db_dsn, b->db_dsn));
	ASSERT_INT_EQ(a->db_pool_size, b->db_pool_size);
	ASSERT_INT_EQ(a->db_connect_timeout_s, b->db_connect_timeout_s);
	ASSERT_INT_EQ(a->db_acquire_timeout_ms, b->db_acquire_timeout_ms);
	ASSERT_INT_EQ(a->db_statement_timeout_ms, b->db_statement_timeout_ms);
	ASSERT_INT_EQ(a->log_level, b->log_level);
	ASSERT_INT_EQ(a->auth_cache_ttl_ms, b->auth_cache_ttl_ms);
	ASSERT_TRUE(str_eq_null(a->policy_dir, b->policy_dir));
	free(da);
	free(db);
	config_free(a);
	config_free(b);
}

/*
 * Regression (fuzz_config): a value read unquoted is dumped quoted with
 * every backslash doubled, so the dump of the longest accepted path must
 * still fit a line. Lengths around both the value and the line limit.
 */
static void
long_path_round_trip(void)
{
	static const size_t lens[] = { 1, 2000, 2005, 2010, 2011, 2012, 2013,
	    2020, 3000, 4070, 4078, 4079, 4080, 4090 };
	struct buf b;
	size_t k, i, accepted = 0, refused = 0;

	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct config *c = NULL;
		char err[256];
		int r;

		buf_init(&b, 8192);
		buf_puts(&b, "http.tls_cert = /");
		for (i = 1; i < lens[k]; i++)
			buf_putc(&b, '\\');
		buf_putc(&b, '\n');
		ASSERT_FALSE(buf_failed(&b));
		r = config_load(tfile(buf_str(&b)), no_env, &c, err,
		    sizeof(err));
		if (r == 0) {
			accepted++;
			config_free(c);
			round_trip(buf_str(&b));
		} else
			refused++;
		buf_free(&b);
	}
	/* the limit lies inside the range tried */
	ASSERT_TRUE(accepted > 0);
	ASSERT_TRUE(refused > 0);
}

static void
t_dump_round_trip(void)
{
	struct config *c;
	char *d;

	round_trip("");
	round_trip("http.listen = 0.0.0.0\nhttp.port = 443\n"
	    "http.tls_cert = \"/etc/vb/my \\\"cert\\\".pem\"\n"
	    "http.tls_key = /etc/vb/key\\with\\backslash.pem\n"
	    "http.allow_plain = on\nhttp.body_max = 2048\n"
	    "http.base_url = http://[::1]:8443\n"
	    "db.dsn = \"host='/tmp' password=\\\"x\\\\y\\\" # not a comment\"\n"
	    "log.level = error\nauth.cache_ttl_ms = 5\n"
	    "http.drain_timeout = 0\ndb.statement_timeout_ms = 0\n");
	round_trip("db.dsn = \"\"\nlog.level = warn\nhttp.port = 0\n");
	round_trip("policy.dir = \"\"\n");
	round_trip("policy.dir = \"/etc/vb/my \\\"policy\\\"\"\n");
	long_path_round_trip();

	/* the dump has one "key = value" line per option */
	c = load_ok("db.dsn = \"a\\\"b\"\n", no_env);
	d = dump(c);
	ASSERT_TRUE(strstr(d, "http.listen = \"127.0.0.1\"\n") != NULL);
	ASSERT_TRUE(strstr(d, "http.port = 8080\n") != NULL);
	ASSERT_TRUE(strstr(d, "http.tls_cert = \"\"\n") != NULL);
	ASSERT_TRUE(strstr(d, "http.allow_plain = false\n") != NULL);
	ASSERT_TRUE(strstr(d, "db.dsn = \"a\\\"b\"\n") != NULL);
	ASSERT_TRUE(strstr(d, "log.level = info\n") != NULL);
	ASSERT_TRUE(strstr(d, "auth.cache_ttl_ms = 10000\n") != NULL);
	ASSERT_TRUE(strstr(d, "policy.dir = \"policy\"\n") != NULL);
	free(d);
	config_free(c);
}

/* The shipped example parses and carries exactly the defaults. */
static void
t_example(void)
{
	struct config *c = NULL, *d = NULL;
	char err[512], *dc, *dd;

	if (config_load("config/vaultbridge.conf.example", no_env, &c, err,
	    sizeof(err)) != 0)
		TL_FAIL("example: %s (run from the repository root)", err);
	ASSERT_INT_EQ(config_check(c, err, sizeof(err)), 0);
	ASSERT_INT_EQ(config_load(NULL, no_env, &d, err, sizeof(err)), 0);
	dc = dump(c);
	dd = dump(d);
	ASSERT_STR_EQ(dc, dd);
	free(dc);
	free(dd);
	config_free(c);
	config_free(d);
}

static void
t_check(void)
{
	char cert[128], key[128], line[512], err[512];
	static const struct {
		const char *text;
		const char *msg;	/* NULL = ok */
	} tab[] = {
		{ "http.listen = 0.0.0.0\n", "is not a loopback address" },
		{ "http.listen = 10.1.2.3\n", "is not a loopback address" },
		{ "http.listen = ::\n", "is not a loopback address" },
		{ "http.listen = ::ffff:10.0.0.1\n", "not a loopback" },
		{ "http.listen = 0.0.0.0\nhttp.allow_plain = true\n", NULL },
		{ "http.listen = 127.0.0.1\n", NULL },
		{ "http.listen = 127.9.8.7\n", NULL },
		{ "http.listen = ::1\n", NULL },
		{ "http.listen = ::ffff:127.0.0.1\n", NULL },
		{ "http.tls_cert = /nonexistent/cert.pem\n",
		    "http.tls_cert is set without http.tls_key" },
		{ "http.tls_key = /nonexistent/key.pem\n",
		    "http.tls_key is set without http.tls_cert" },
		{ "http.tls_cert = /nonexistent/c.pem\n"
		    "http.tls_key = /nonexistent/k.pem\n",
		    "http.tls_cert: cannot read /nonexistent/c.pem" },
		{ "http.tls_cert = /tmp\nhttp.tls_key = /tmp\n",
		    "http.tls_cert: /tmp is not a regular file" },
	};
	struct config *c;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		c = load_ok(tab[i].text, no_env);
		if (tab[i].msg == NULL) {
			if (config_check(c, err, sizeof(err)) != 0)
				TL_FAIL("case %zu: %s", i, err);
		} else if (config_check(c, err, sizeof(err)) != ERR_CONFIG ||
		    strstr(err, tab[i].msg) == NULL)
			TL_FAIL("case %zu: got \"%s\" want \"%s\"", i, err,
			    tab[i].msg);
		config_free(c);
	}

	/* readable cert and key: TLS on any address is fine */
	snprintf(cert, sizeof(cert), "%s", tfile("cert"));
	snprintf(key, sizeof(key), "%s", tfile("key"));
	snprintf(line, sizeof(line), "http.listen = 0.0.0.0\n"
	    "http.tls_cert = %s\nhttp.tls_key = %s\n", cert, key);
	c = load_ok(line, no_env);
	if (config_check(c, err, sizeof(err)) != 0)
		TL_FAIL("tls: %s", err);
	config_free(c);
	snprintf(line, sizeof(line), "http.tls_cert = %s\n"
	    "http.tls_key = %s/missing\n", cert, tdir);
	c = load_ok(line, no_env);
	ASSERT_INT_EQ(config_check(c, err, sizeof(err)), ERR_CONFIG);
	ASSERT_TRUE(strstr(err, "http.tls_key: cannot read") != NULL);
	config_free(c);
}

static void
t_cleanup(void)
{
	char path[128];
	unsigned i;

	for (i = 0; i < tseq; i++) {
		snprintf(path, sizeof(path), "%s/c%u.conf", tdir, i);
		unlink(path);
	}
	ASSERT_INT_EQ(rmdir(tdir), 0);
}

static const struct testlib_case cases[] = {
	{ "defaults", t_defaults },
	{ "good_file", t_good_file },
	{ "bools", t_bools },
	{ "quoted", t_quoted },
	{ "long_line_ok", t_long_line_ok },
	{ "errors", t_errors },
	{ "error_long_line", t_error_long_line },
	{ "error_nul", t_error_nul },
	{ "error_missing_file", t_error_missing_file },
	{ "env", t_env },
	{ "env_environ", t_env_environ },
	{ "dump_round_trip", t_dump_round_trip },
	{ "example", t_example },
	{ "check", t_check },
	{ "cleanup", t_cleanup },
};

/* testlib.h's main keeps counters in non-volatile locals across setjmp */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
TEST_MAIN(cases)
