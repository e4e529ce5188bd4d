#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/errors.h"
#include "util/bounds.h"
#include "util/strutil.h"

#define CONFIG_ENV_PREFIX	"VAULTBRIDGE_"
#define CONFIG_NAME_MAX		64
#define CONFIG_BASE_URL_MAX	511		/* struct app base_url - NUL */
/*
 * A dumped value is quoted and every quote and backslash escaped, so it may
 * double in size: any value must fit a line of CONFIG_LINE_MAX as
 * `name = "<escaped>"` for --dump-config to parse back.
 */
#define CONFIG_PATH_MAX		((CONFIG_LINE_MAX - CONFIG_NAME_MAX - 8) / 2)
#define CF_SEEN_ENV		UINT_MAX	/* seen[] mark: set by env */

extern char **environ;

enum cf_type {
	CF_ADDR,	/* IPv4 or IPv6 literal */
	CF_STR,		/* text up to max bytes, "" allowed */
	CF_PATH,	/* file name up to max bytes; "" = none (NULL) */
	CF_URL,		/* http(s)://host... no trailing '/'; "" = derived */
	CF_UINT,	/* unsigned in min..max */
	CF_U64,		/* unsigned long long in min..max */
	CF_BOOL,	/* true/false/yes/no/on/off/1/0 */
	CF_LEVEL	/* debug/info/warn/error */
};

/*
 * The one option table (cf. PgBouncer's CF_ABS list). It drives
 * defaults, file parsing, environment overrides and config_dump, and
 * scripts/optscan.sh reads the names from the rows below: keep one row
 * per option starting with `{ "name",`.
 * For string types, max is the longest accepted value in bytes.
 * reloadable marks options a future SIGHUP reload may change in place.
 */
struct cf_opt {
	const char *name;
	enum cf_type type;
	const char *def;	/* default as text; NULL = none */
	uint64_t min;
	uint64_t max;
	int reloadable;
	size_t off;		/* offset of the field in struct config */
	const char *help;
};

#define OFF(f) offsetof(struct config, f)

static const struct cf_opt cf_opts[] = {
	{ "http.listen", CF_ADDR, "127.0.0.1", 0, 0, 0, OFF(http_listen),
	    "IPv4/IPv6 address to bind" },
	{ "http.port", CF_UINT, "8080", 0, 65535, 0, OFF(http_port),
	    "TCP port; 0 lets the kernel pick (logged at startup)" },
	{ "http.tls_cert", CF_PATH, NULL, 0, CONFIG_PATH_MAX, 0,
	    OFF(http_tls_cert), "PEM certificate; with http.tls_key: HTTPS" },
	{ "http.tls_key", CF_PATH, NULL, 0, CONFIG_PATH_MAX, 0,
	    OFF(http_tls_key), "PEM private key file (0600 recommended)" },
	{ "http.allow_plain", CF_BOOL, "false", 0, 1, 0,
	    OFF(http_allow_plain),
	    "allow plain HTTP on a non-loopback http.listen" },
	{ "http.body_max", CF_U64, "1048576", 1024, HTTP_BODY_MAX_LIMIT, 0,
	    OFF(http_body_max), "largest request body in bytes" },
	{ "http.conn_timeout", CF_UINT, "30", 1, 3600, 0,
	    OFF(http_conn_timeout_s), "idle connection timeout, seconds" },
	{ "http.max_conns", CF_UINT, "256", 1, 10000, 0, OFF(http_max_conns),
	    "most concurrent connections" },
	{ "http.threads", CF_UINT, "8", 1, 256, 0, OFF(http_threads),
	    "worker threads; each serves many connections" },
	{ "http.drain_timeout", CF_UINT, "10", 0, 600, 1,
	    OFF(http_drain_timeout_s),
	    "seconds to finish requests in flight on SIGTERM" },
	{ "http.base_url", CF_URL, NULL, 0, CONFIG_BASE_URL_MAX, 0,
	    OFF(http_base_url),
	    "public URL prefix for Location and meta.location" },
	{ "db.dsn", CF_STR, "dbname=vaultbridge", 0, DB_DSN_MAX - 1, 0,
	    OFF(db_dsn), "libpq conninfo or URI (passwords in a passfile)" },
	{ "db.pool_size", CF_UINT, "16", 1, DB_POOL_MAX, 0, OFF(db_pool_size),
	    "most database connections" },
	{ "db.connect_timeout", CF_UINT, "5", 1, 60, 0,
	    OFF(db_connect_timeout_s), "seconds per connection attempt" },
	{ "db.acquire_timeout_ms", CF_UINT, "2000", 1, 60000, 1,
	    OFF(db_acquire_timeout_ms),
	    "wait for a free pool connection, milliseconds" },
	{ "db.statement_timeout_ms", CF_UINT, "5000", 0, 600000, 1,
	    OFF(db_statement_timeout_ms),
	    "statement_timeout per session, milliseconds; 0 = server's" },
	{ "log.level", CF_LEVEL, "info", 0, 0, 1, OFF(log_level),
	    "debug, info, warn or error" },
	{ "auth.cache_ttl_ms", CF_UINT, "10000", 0, 60000, 0,
	    OFF(auth_cache_ttl_ms),
	    "cache service-token checks at most this long (revocations "
	    "still act at once); 0 = ask the database each time" },
	{ "policy.dir", CF_PATH, "policy", 0, CONFIG_PATH_MAX, 0,
	    OFF(policy_dir),
	    "directory of *.json lifecycle policy files; \"\" = no policy" },
	{ "vault.dsn", CF_STR, "", 0, DB_DSN_MAX - 1, 0, OFF(vault_dsn),
	    "libpq conninfo of the embedded vault database; \"\" = db.dsn" },
	{ "vault.pool_size", CF_UINT, "4", 1, DB_POOL_MAX, 0,
	    OFF(vault_pool_size), "most vault database connections" },
	{ "vault.master_key", CF_PATH, NULL, 0, CONFIG_PATH_MAX, 0,
	    OFF(vault_master_key),
	    "master key file (0600) or cred:NAME (systemd credential)" },
	{ "vault.previous_keys", CF_STR, "", 0, CONFIG_PATH_MAX, 0,
	    OFF(vault_previous_keys),
	    "comma-separated older master keys, accepted during a rotation" },
	{ "sync.workers", CF_UINT, "2", 0, 64, 0, OFF(sync_workers),
	    "outbox worker threads in this daemon; 0 = none" },
	{ "sync.batch", CF_UINT, "32", 1, 1000, 0, OFF(sync_batch),
	    "jobs a worker claims at once" },
	{ "sync.max_attempts", CF_UINT, "12", 1, 1000, 0,
	    OFF(sync_max_attempts),
	    "attempts before a temporarily failing job is dead-lettered" },
	{ "sync.backoff_base_ms", CF_UINT, "200", 1, 600000, 0,
	    OFF(sync_backoff_base_ms), "first retry delay, doubling" },
	{ "sync.backoff_max_ms", CF_UINT, "60000", 1, 3600000, 0,
	    OFF(sync_backoff_max_ms), "longest retry delay" },
	{ "sync.poll_ms", CF_UINT, "250", 10, 600000, 0, OFF(sync_poll_ms),
	    "workers look for due jobs at least this often" },
	{ "sync.keep_done_s", CF_U64, "604800", 0, 315360000ULL, 0,
	    OFF(sync_keep_done_s),
	    "seconds finished jobs are kept as history" },
};

#define CF_NOPTS (sizeof(cf_opts) / sizeof(cf_opts[0]))

static const char *const cf_level_names[] = { "debug", "info", "warn",
    "error" };

static void *
cf_field(struct config *c, const struct cf_opt *o)
{
	return (char *)c + o->off;
}

static const void *
cf_cfield(const struct config *c, const struct cf_opt *o)
{
	return (const char *)c + o->off;
}

static const struct cf_opt *
cf_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < CF_NOPTS; i++) {
		if (strlen(cf_opts[i].name) == len &&
		    memcmp(cf_opts[i].name, name, len) == 0)
			return &cf_opts[i];
	}
	return NULL;
}

/* Values must be printable UTF-8 so that config_dump can write them back. */
static int
cf_text_ok(const char *v, size_t len)
{
	size_t i;

	if (!utf8_valid(v, len))
		return 0;
	for (i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	}
	return 1;
}

static int
cf_bool_parse(const char *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return ERR_INVALID;
}

static int
cf_url_ok(const char *v)
{
	const char *host;
	size_t i;

	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return 0;
	if (*host == '\0' || *host == '/' || *host == ':')
		return 0;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] == ' ' || v[i] == '"' || v[i] == '\\' ||
		    v[i] == '<' || v[i] == '>' || v[i] == '?' || v[i] == '#' ||
		    (unsigned char)v[i] >= 0x80)
			return 0;
	}
	return v[i - 1] != '/';
}

/*
 * Store value v (NUL-terminated, len bytes) into option o of c. 0, or
 * ERR_CONFIG / ERR_ALLOC with a message naming the option (never the
 * value: a DSN may carry a password despite the advice).
 */
static int
cf_set(struct config *c, const struct cf_opt *o, const char *v, size_t len,
    char *err, size_t errsz)
{
	uint64_t n;
	char **sp;
	char *dup = NULL;
	int b;
	enum log_level l;
	unsigned char addr[sizeof(struct in6_addr)];

	if (strlen(v) != len || !cf_text_ok(v, len)) {
		err_msg(err, errsz, "%s: value must be printable UTF-8 text",
		    o->name);
		return ERR_CONFIG;
	}
	switch (o->type) {
	case CF_ADDR:
	case CF_STR:
	case CF_PATH:
	case CF_URL:
		if (o->type == CF_ADDR) {
			if (inet_pton(AF_INET, v, addr) != 1 &&
			    inet_pton(AF_INET6, v, addr) != 1) {
				err_msg(err, errsz, "%s: expected an IPv4 or "
				    "IPv6 address (no brackets, no names)",
				    o->name);
				return ERR_CONFIG;
			}
		} else if (len > o->max) {
			err_msg(err, errsz, "%s: value longer than %llu bytes",
			    o->name, (unsigned long long)o->max);
			return ERR_CONFIG;
		} else if (o->type == CF_URL && len > 0 && !cf_url_ok(v)) {
			err_msg(err, errsz, "%s: expected http://host[:port] "
			    "or https://host[:port][/prefix] without a "
			    "trailing '/'", o->name);
			return ERR_CONFIG;
		}
		if (len > 0 || o->type == CF_STR) {
			if ((dup = strdup(v)) == NULL) {
				err_msg(err, errsz, "out of memory");
				return ERR_ALLOC;
			}
		}
		sp = cf_field(c, o);
		free(*sp);
		*sp = dup;
		return 0;
	case CF_UINT:
	case CF_U64:
		if (parse_u64(v, o->min, o->max, &n) != 0) {
			err_msg(err, errsz, "%s: expected an integer in "
			    "%llu..%llu", o->name, (unsigned long long)o->min,
			    (unsigned long long)o->max);
			return ERR_CONFIG;
		}
		if (o->type == CF_UINT)
			*(unsigned *)cf_field(c, o) = (unsigned)n;
		else
			*(unsigned long long *)cf_field(c, o) = n;
		return 0;
	case CF_BOOL:
		if (cf_bool_parse(v, &b) != 0) {
			err_msg(err, errsz, "%s: expected true/false, yes/no, "
			    "on/off or 1/0", o->name);
			return ERR_CONFIG;
		}
		*(int *)cf_field(c, o) = b;
		return 0;
	case CF_LEVEL:
		if (log_level_parse(v, &l) != 0) {
			err_msg(err, errsz, "%s: expected debug, info, warn "
			    "or error", o->name);
			return ERR_CONFIG;
		}
		*(enum log_level *)cf_field(c, o) = l;
		return 0;
	}
	err_msg(err, errsz, "%s: internal error", o->name);
	return ERR_INTERNAL;
}

static int
cf_is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Split one line (NUL-terminated, no newline) into key and value. The
 * value is unquoted in place. Returns 1 for key/value, 0 for a blank or
 * comment line, ERR_CONFIG with message.
 */
static int
cf_split(char *line, char **keyp, size_t *keylenp, char **valp,
    size_t *vallenp, char *err, size_t errsz)
{
	char *p = line, *key, *v, *w, *end;

	while (cf_is_space(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	key = p;
	while (*p != '\0' && *p != '=' && !cf_is_space(*p))
		p++;
	*keyp = key;
	*keylenp = (size_t)(p - key);
	while (cf_is_space(*p))
		p++;
	if (*p != '=') {
		err_msg(err, errsz, "expected \"key = value\"");
		return ERR_CONFIG;
	}
	p++;
	while (cf_is_space(*p))
		p++;
	if (*p == '"') {
		v = w = ++p;
		for (;;) {
			if (*p == '\0') {
				err_msg(err, errsz,
				    "unterminated quoted value");
				return ERR_CONFIG;
			}
			if (*p == '"')
				break;
			if (*p == '\\') {
				p++;
				if (*p != '"' && *p != '\\') {
					err_msg(err, errsz, "bad escape in "
					    "quoted value (only \\\" and \\\\)");
					return ERR_CONFIG;
				}
			}
			*w++ = *p++;
		}
		p++;
		while (cf_is_space(*p))
			p++;
		if (*p != '\0') {
			err_msg(err, errsz, "text after the closing quote");
			return ERR_CONFIG;
		}
		*w = '\0';
		*valp = v;
		*vallenp = (size_t)(w - v);
		return 1;
	}
	v = p;
	end = v + strlen(v);
	while (end > v && cf_is_space(end[-1]))
		end--;
	*end = '\0';
	if (end == v) {
		err_msg(err, errsz, "missing value (write \"\" for empty)");
		return ERR_CONFIG;
	}
	if (strchr(v, '"') != NULL || strchr(v, '#') != NULL) {
		err_msg(err, errsz, "'\"' or '#' in an unquoted value: quote "
		    "the value (comments are whole lines)");
		return ERR_CONFIG;
	}
	*valp = v;
	*vallenp = (size_t)(end - v);
	return 1;
}

static int
cf_parse_text(struct config *c, const char *path, char *text, size_t len,
    unsigned *seen, char *err, size_t errsz)
{
	char line[CONFIG_LINE_MAX + 1], msg[256], kbuf[CONFIG_NAME_MAX + 8];
	char *p = text, *nl, *key, *val;
	size_t ll, keylen, vallen, idx;
	const struct cf_opt *o;
	unsigned lineno = 0;
	int r;

	while (p < text + len) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(text + len - p))) == NULL)
			nl = text + len;
		ll = (size_t)(nl - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > CONFIG_LINE_MAX) {
			err_msg(err, errsz, "%s:%u: line longer than %d bytes",
			    path, lineno, CONFIG_LINE_MAX);
			return ERR_CONFIG;
		}
		if (memchr(p, '\0', ll) != NULL || !utf8_valid(p, ll)) {
			err_msg(err, errsz, "%s:%u: line is not UTF-8 text",
			    path, lineno);
			return ERR_CONFIG;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = nl + 1;
		r = cf_split(line, &key, &keylen, &val, &vallen, msg,
		    sizeof(msg));
		if (r == 0)
			continue;
		if (r < 0) {
			err_msg(err, errsz, "%s:%u: %s", path, lineno, msg);
			return r;
		}
		if ((o = cf_find(key, keylen)) == NULL) {
			if (keylen > CONFIG_NAME_MAX)
				keylen = CONFIG_NAME_MAX;
			key[keylen] = '\0';
			log_clean(key, kbuf, sizeof(kbuf));
			err_msg(err, errsz, "%s:%u: unknown key '%s'", path,
			    lineno, kbuf);
			return ERR_CONFIG;
		}
		idx = (size_t)(o - cf_opts);
		if (seen[idx] != 0) {
			err_msg(err, errsz, "%s:%u: duplicate key '%s' (first "
			    "set on line %u)", path, lineno, o->name,
			    seen[idx]);
			return ERR_CONFIG;
		}
		seen[idx] = lineno;
		if ((r = cf_set(c, o, val, vallen, msg, sizeof(msg))) != 0) {
			err_msg(err, errsz, "%s:%u: %s", path, lineno, msg);
			return r;
		}
	}
	return 0;
}

static int
cf_parse_file(struct config *c, const char *path, unsigned *seen, char *err,
    size_t errsz)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	errno = 0;
	r = file_read_small(path, CONFIG_FILE_MAX, &text, &len);
	if (r == ERR_TOO_LARGE) {
		err_msg(err, errsz, "%s: file larger than %d bytes", path,
		    CONFIG_FILE_MAX);
		return ERR_CONFIG;
	}
	if (r == ERR_ALLOC) {
		err_msg(err, errsz, "%s: out of memory", path);
		return ERR_ALLOC;
	}
	if (r != 0) {
		err_msg(err, errsz, "%s: cannot read: %s", path,
		    errno != 0 ? strerror(errno) : "not a regular file");
		return ERR_CONFIG;
	}
	r = cf_parse_text(c, path, text, len, seen, err, errsz);
	free(text);
	return r;
}

static void
cf_env_name(const struct cf_opt *o, char *out, size_t outsz)
{
	size_t i, n = strlen(CONFIG_ENV_PREFIX);
	char ch;

	snprintf(out, outsz, "%s", CONFIG_ENV_PREFIX);
	for (i = 0; o->name[i] != '\0' && n + 1 < outsz; i++) {
		ch = o->name[i];
		if (ch == '.')
			ch = '_';
		else if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		out[n++] = ch;
	}
	out[n] = '\0';
}

static int
cf_parse_env(struct config *c, char *const *envp, unsigned *seen, char *err,
    size_t errsz)
{
	char name[CONFIG_NAME_MAX + sizeof(CONFIG_ENV_PREFIX)], msg[256];
	const char *v;
	size_t i, j, nlen, vlen;
	int r;

	if (envp == NULL)
		envp = environ;
	if (envp == NULL)
		return 0;
	for (i = 0; i < CF_NOPTS; i++) {
		cf_env_name(&cf_opts[i], name, sizeof(name));
		nlen = strlen(name);
		for (j = 0; envp[j] != NULL; j++) {
			if (strncmp(envp[j], name, nlen) == 0 &&
			    envp[j][nlen] == '=')
				break;
		}
		if (envp[j] == NULL)
			continue;
		v = envp[j] + nlen + 1;
		vlen = strlen(v);
		if (vlen > CONFIG_LINE_MAX) {
			err_msg(err, errsz, "environment %s: value longer than "
			    "%d bytes", name, CONFIG_LINE_MAX);
			return ERR_CONFIG;
		}
		if ((r = cf_set(c, &cf_opts[i], v, vlen, msg,
		    sizeof(msg))) != 0) {
			err_msg(err, errsz, "environment %s: %s", name, msg);
			return r;
		}
		seen[i] = CF_SEEN_ENV;
	}
	return 0;
}

int
config_load(const char *path, char *const *envp, struct config **out,
    char *err, size_t errsz)
{
	struct config *c = NULL;
	unsigned seen[CF_NOPTS];
	char msg[256];
	size_t i;
	int r = ERR_INTERNAL;

	*out = NULL;
	err_msg(err, errsz, "%s", "");
	memset(seen, 0, sizeof(seen));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_msg(err, errsz, "out of memory");
		return ERR_ALLOC;
	}
	if (path != NULL &&
	    (r = cf_parse_file(c, path, seen, err, errsz)) != 0)
		goto out;
	/* env beats file: applied after it, overwriting */
	if ((r = cf_parse_env(c, envp, seen, err, errsz)) != 0)
		goto out;
	/* defaults last, for whatever neither set (fill_default_*) */
	for (i = 0; i < CF_NOPTS; i++) {
		if (seen[i] != 0 || cf_opts[i].def == NULL)
			continue;
		if ((r = cf_set(c, &cf_opts[i], cf_opts[i].def,
		    strlen(cf_opts[i].def), msg, sizeof(msg))) != 0) {
			err_msg(err, errsz, "default %s", msg);
			goto out;
		}
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	config_free(c);
	return r;
}

void
config_free(struct config *c)
{
	size_t i;
	char **sp;

	if (c == NULL)
		return;
	for (i = 0; i < CF_NOPTS; i++) {
		switch (cf_opts[i].type) {
		case CF_ADDR:
		case CF_STR:
		case CF_PATH:
		case CF_URL:
			sp = cf_field(c, &cf_opts[i]);
			free(*sp);
			*sp = NULL;
			break;
		default:
			break;
		}
	}
	free(c);
}

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int
cf_is_loopback(const char *a)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };
	struct in_addr a4;
	struct in6_addr a6;

	if (a == NULL)
		return 0;
	if (inet_pton(AF_INET, a, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, a, &a6) != 1)
		return 0;
	if (memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0)
		return 1;
	return memcmp(a6.s6_addr, v4mapped, sizeof(v4mapped)) == 0 &&
	    a6.s6_addr[12] == 127;
}

static int
cf_check_file(const char *opt, const char *path, int secret, char *err,
    size_t errsz)
{
	char clean[LOG_CLIENT_STR_MAX * 4 + 8];
	struct stat st;
	int fd, r = 0;

	log_clean(path, clean, sizeof(clean));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		err_msg(err, errsz, "%s: cannot read %s: %s", opt, clean,
		    strerror(errno));
		return ERR_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_msg(err, errsz, "%s: %s is not a regular file", opt, clean);
		r = ERR_CONFIG;
	} else if (secret && (st.st_mode & 077) != 0)
		log_warn("%s: %s is readable by group or others; mode 0600 "
		    "recommended", opt, clean);
	close(fd);
	return r;
}

int
config_check(const struct config *c, char *err, size_t errsz)
{
	char clean[LOG_CLIENT_STR_MAX * 4 + 8];
	int r;

	err_msg(err, errsz, "%s", "");
	if ((c->http_tls_cert == NULL) != (c->http_tls_key == NULL)) {
		err_msg(err, errsz, "%s is set without %s: both are needed "
		    "for HTTPS", c->http_tls_cert != NULL ? "http.tls_cert" :
		    "http.tls_key", c->http_tls_cert != NULL ? "http.tls_key" :
		    "http.tls_cert");
		return ERR_CONFIG;
	}
	if (c->http_tls_cert == NULL && !c->http_allow_plain &&
	    !cf_is_loopback(c->http_listen)) {
		log_clean(c->http_listen, clean, sizeof(clean));
		err_msg(err, errsz, "http.listen = %s is not a loopback "
		    "address: set http.tls_cert and http.tls_key, or "
		    "http.allow_plain = true to serve plain HTTP there",
		    clean);
		return ERR_CONFIG;
	}
	if (c->http_tls_cert != NULL) {
		if ((r = cf_check_file("http.tls_cert", c->http_tls_cert, 0,
		    err, errsz)) != 0 ||
		    (r = cf_check_file("http.tls_key", c->http_tls_key, 1,
		    err, errsz)) != 0)
			return r;
	}
	return 0;
}

static void
cf_dump_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void
config_dump(const struct config *c, FILE *f)
{
	const struct cf_opt *o;
	const void *v;
	size_t i;
	unsigned l;

	for (i = 0; i < CF_NOPTS; i++) {
		o = &cf_opts[i];
		v = cf_cfield(c, o);
		fprintf(f, "%s = ", o->name);
		switch (o->type) {
		case CF_ADDR:
		case CF_STR:
		case CF_PATH:
		case CF_URL:
			cf_dump_str(f, *(char *const *)v);
			break;
		case CF_UINT:
			fprintf(f, "%u", *(const unsigned *)v);
			break;
		case CF_U64:
			fprintf(f, "%llu", *(const unsigned long long *)v);
			break;
		case CF_BOOL:
			fputs(*(const int *)v ? "true" : "false", f);
			break;
		case CF_LEVEL:
			l = (unsigned)*(const enum log_level *)v;
			fputs(l < sizeof(cf_level_names) /
			    sizeof(cf_level_names[0]) ? cf_level_names[l] :
			    "info", f);
			break;
		}
		fputc('\n', f);
	}
}
