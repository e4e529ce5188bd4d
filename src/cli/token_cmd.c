#include "cli/token_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "crypto/token.h"
#include "db/pool.h"
#include "db/token_store.h"
#include "http/request.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

/* --expires: at most 100 years */

static const struct {
	const char *name;
	unsigned bit;
} token_scopes[] = {
	{ "scim", SCOPE_SCIM },
	{ "jit", SCOPE_JIT },
	{ "approve", SCOPE_APPROVE },
	{ "killswitch", SCOPE_KILLSWITCH },
	{ "ci", SCOPE_CI },
	{ "admin", SCOPE_ADMIN },
	{ "vault", SCOPE_VAULT },
};

#define TOKEN_NSCOPES (sizeof(token_scopes) / sizeof(token_scopes[0]))

static int
token_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
token_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("vaultbridge: token ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: vaultbridge token create --name NAME "
	    "[--scopes a,b,...|all] [--expires SECONDS]\n"
	    "       vaultbridge token create --name NAME --user USERNAME "
	    "[--scopes vault] [--expires SECONDS]\n"
	    "       vaultbridge token list\n"
	    "       vaultbridge token revoke ID_OR_NAME\n", stderr);
	return CLI_EXIT_USAGE;
}

/*
 * "scim,jit" or "all" into a SCOPE_* mask. "all" means every scope of
 * a service token, so not "vault", which acts as a user (*all is set
 * so that a user token can refuse it). 0 or ERR_INVALID.
 */
static int
token_scopes_parse(const char *s, unsigned *out, int *all)
{
	const char *p = s, *e;
	unsigned mask = 0;
	size_t i, n;

	*all = 0;
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 3 && memcmp(p, "all", 3) == 0) {
			mask |= SCOPE_ALL & ~(unsigned)SCOPE_VAULT;
			*all = 1;
		}
		else {
			for (i = 0; i < TOKEN_NSCOPES; i++) {
				if (strlen(token_scopes[i].name) == n &&
				    memcmp(token_scopes[i].name, p, n) == 0)
					break;
			}
			if (i == TOKEN_NSCOPES)
				return ERR_INVALID;
			mask |= token_scopes[i].bit;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	*out = mask;
	return 0;
}

/* Names are printed in space-separated lists: no blanks, no controls. */
static int
token_name_ok(const char *s)
{
	size_t i, n = strlen(s), hex = 0;
	char c;

	if (n == 0 || n > TOKEN_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == '@'))
			return 0;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
			hex++;
	}
	/* a name that looks like a token id would make revoke ambiguous */
	return !(n == CRYPTO_TOKEN_ID_LEN && hex == n);
}

static int
token_write_all(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
token_create(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "scopes", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	static const char zero[TOKEN_TEXT_MAX];
	unsigned char hash[TOKEN_HASH_LEN];
	char id[40];
	struct db_pool *pool = NULL;
	struct db_conn *conn = NULL;
	struct buf text;
	char user_ref[SCIM_ID_LEN + 1];
	const char *name = NULL, *user = NULL;
	unsigned scopes = 0;
	uint64_t expires = 0;
	size_t n;
	int ch, r, all = 0, have_scopes = 0, active;
	int ret = CLI_EXIT_FAIL;

	buf_init(&text, TOKEN_TEXT_MAX);
	user_ref[0] = '\0';
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+n:s:e:u:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 's':
			if (token_scopes_parse(optarg, &scopes, &all) != 0) {
				ret = token_usage("create: bad --scopes (use "
				    "scim,jit,approve,killswitch,ci,admin or "
				    "all; vault with --user)");
				goto out;
			}
			have_scopes = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'e':
			if (parse_u64(optarg, 1, TOKEN_EXPIRES_MAX,
			    &expires) != 0) {
				ret = token_usage("create: --expires wants "
				    "seconds in 1..%llu", TOKEN_EXPIRES_MAX);
				goto out;
			}
			break;
		default:
			ret = token_usage("create: bad option");
			goto out;
		}
	}
	if (optind < argc) {
		ret = token_usage("create: unexpected argument '%s'",
		    argv[optind]);
		goto out;
	}
	if (name == NULL) {
		ret = token_usage("create: --name is required");
		goto out;
	}
	if (!token_name_ok(name)) {
		ret = token_usage("create: --name wants 1..%d characters of "
		    "A-Z a-z 0-9 . _ - @, and not a 16-hex-digit id",
		    TOKEN_NAME_MAX);
		goto out;
	}
	if (user != NULL && (user[0] == '\0' ||
	    strlen(user) > SCIM_USERNAME_MAX)) {
		ret = token_usage("create: --user wants a userName of 1..%d "
		    "bytes", SCIM_USERNAME_MAX);
		goto out;
	}
	if (user != NULL) {
		/* a user's token acts as that user: vault access only */
		if (!have_scopes)
			scopes = SCOPE_VAULT;
		else if (all || scopes != SCOPE_VAULT) {
			ret = token_usage("create: a token bound to a user "
			    "(--user) may only carry the scope vault");
			goto out;
		}
	} else if (!have_scopes)
		scopes = SCOPE_SCIM;
	else if ((scopes & SCOPE_VAULT) != 0) {
		ret = token_usage("create: the scope vault acts as a user: "
		    "give --user USERNAME");
		goto out;
	} else if (scopes == 0) {
		ret = token_usage("create: --scopes names no scope");
		goto out;
	}
	if ((r = crypto_init()) != 0) {
		fprintf(stderr, "vaultbridge: crypto init: %s\n", err_str(r));
		goto out;
	}
	if (cli_db_open(cfg, cfg->db_statement_timeout_ms, &pool, &conn) != 0)
		goto out;
	if (user != NULL) {
		r = db_token_user_find(conn, user, user_ref, &active);
		if (r == ERR_NOT_FOUND || r == ERR_INVALID) {
			fprintf(stderr, "vaultbridge: token create: no SCIM "
			    "user with userName '%s'\n", user);
			goto out;
		}
		if (r != 0) {
			fprintf(stderr, "vaultbridge: token create: %s\n",
			    err_str(r));
			goto out;
		}
		if (!active) {
			fprintf(stderr, "vaultbridge: token create: user '%s' "
			    "is not active\n", user);
			goto out;
		}
	}
	/* the secret lives only in this buffer, wiped at out: */
	buf_append(&text, zero, sizeof(zero));
	if (buf_failed(&text)) {
		fprintf(stderr, "vaultbridge: out of memory\n");
		goto out;
	}
	if ((r = crypto_token_new(id, sizeof(id), text.data, TOKEN_TEXT_MAX,
	    hash)) != 0) {
		fprintf(stderr, "vaultbridge: token create: %s\n",
		    err_str(r));
		goto out;
	}
	if (user != NULL)
		r = db_token_insert_user(conn, id, name, scopes, hash, expires,
		    user_ref);
	else
		r = db_token_insert(conn, id, name, scopes, hash, expires);
	if (r != 0) {
		if (r == ERR_CONFLICT)
			fprintf(stderr, "vaultbridge: token create: a token "
			    "named '%s' is already active (revoke it "
			    "first)\n", name);
		else if (r == ERR_NOT_FOUND)
			fprintf(stderr, "vaultbridge: token create: user '%s' "
			    "was deleted meanwhile\n", user);
		else
			fprintf(stderr, "vaultbridge: token create: %s\n",
			    err_str(r));
		goto out;
	}
	/* write(2), not stdio: no copy of the secret in a stdio buffer */
	n = strnlen(text.data, TOKEN_TEXT_MAX);
	if (n == 0 || n >= TOKEN_TEXT_MAX) {
		fprintf(stderr, "vaultbridge: token create: bad token text\n");
		goto out;
	}
	text.data[n] = '\n';
	if (token_write_all(text.data, n + 1) != 0) {
		fprintf(stderr, "vaultbridge: token create: cannot write the "
		    "token to stdout: %s; revoking it\n", strerror(errno));
		if (db_token_revoke(conn, id) != 0)
			fprintf(stderr, "vaultbridge: token create: revoking "
			    "token %s failed\n", id);
		goto out;
	}
	log_info("token created id=%s name=%s scopes=0x%02x expires_s=%llu "
	    "user=%s", id, name, scopes, (unsigned long long)expires,
	    user_ref[0] != '\0' ? user_ref : "-");
	ret = CLI_EXIT_OK;
out:
	buf_free_wipe(&text);
	cli_db_close(pool, conn);
	return ret;
}

static void
token_scopes_str(unsigned mask, char *out, size_t outsz)
{
	size_t i, o = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < TOKEN_NSCOPES; i++) {
		if ((mask & token_scopes[i].bit) == 0)
			continue;
		n = snprintf(out + o, outsz - o, "%s%s", o > 0 ? "," : "",
		    token_scopes[i].name);
		if (n < 0 || (size_t)n >= outsz - o)
			break;
		o += (size_t)n;
	}
	if (o == 0)
		snprintf(out, outsz, "-");
}

/*
 * One list field: blanks and controls would split or garble the line.
 * Blanks become blank ('T' turns "2024-01-02 03:04:05" into ISO 8601).
 */
static void
token_field(const char *s, char blank, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outsz; i++) {
		if (s[i] == ' ')
			out[i] = blank;
		else if ((unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f)
			out[i] = '?';
		else
			out[i] = s[i];
	}
	out[i] = '\0';
	if (i == 0)
		snprintf(out, outsz, "-");
}

static int
token_list(const struct config *cfg, int argc, char **argv)
{
	struct db_pool *pool = NULL;
	struct db_conn *conn = NULL;
	struct db_token *t = NULL;
	char id[48], name[TOKEN_NAME_MAX + 8], sc[80], cr[48], ex[48];
	char user[SCIM_USERNAME_MAX + 8];
	size_t n = 0, i;
	int r, ret = CLI_EXIT_FAIL;

	if (argc > 1)
		return token_usage("list: unexpected argument '%s'", argv[1]);
	if (cli_db_open(cfg, cfg->db_statement_timeout_ms, &pool, &conn) != 0)
		goto out;
	if ((r = db_token_list(conn, &t, &n)) != 0) {
		fprintf(stderr, "vaultbridge: token list: %s\n", err_str(r));
		goto out;
	}
	for (i = 0; i < n; i++) {
		token_field(t[i].id, '?', id, sizeof(id));
		token_field(t[i].name, '?', name, sizeof(name));
		token_scopes_str(t[i].scopes, sc, sizeof(sc));
		token_field(t[i].created, 'T', cr, sizeof(cr));
		if (t[i].expires[0] == '\0')
			snprintf(ex, sizeof(ex), "never");
		else
			token_field(t[i].expires, 'T', ex, sizeof(ex));
		token_field(t[i].user_name, '?', user, sizeof(user));
		printf("%s %s %s %s %s %s %s\n", id, name, sc, cr, ex, user,
		    t[i].revoked ? "revoked" : t[i].expired ? "expired" :
		    !t[i].user_ok ? "user-inactive" : "active");
	}
	ret = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	free(t);
	cli_db_close(pool, conn);
	return ret;
}

static int
token_revoke(const struct config *cfg, int argc, char **argv)
{
	struct db_pool *pool = NULL;
	struct db_conn *conn = NULL;
	int r, ret = CLI_EXIT_FAIL;

	if (argc != 2)
		return token_usage("revoke: wants exactly one ID_OR_NAME");
	if (argv[1][0] == '\0' || strlen(argv[1]) > TOKEN_NAME_MAX)
		return token_usage("revoke: bad ID_OR_NAME");
	if (cli_db_open(cfg, cfg->db_statement_timeout_ms, &pool, &conn) != 0)
		goto out;
	if ((r = db_token_revoke(conn, argv[1])) != 0) {
		if (r == ERR_NOT_FOUND)
			fprintf(stderr, "vaultbridge: token revoke: no active "
			    "token with id or name '%s'\n", argv[1]);
		else
			fprintf(stderr, "vaultbridge: token revoke: %s\n",
			    err_str(r));
		goto out;
	}
	printf("revoked %s\n", argv[1]);
	ret = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	cli_db_close(pool, conn);
	return ret;
}

int
token_cmd_main(const struct config *cfg, int argc, char **argv)
{
	if (argc < 2)
		return token_usage("%s", "needs create, list or revoke");
	if (strcmp(argv[1], "create") == 0)
		return token_create(cfg, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return token_list(cfg, argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return token_revoke(cfg, argc - 1, argv + 1);
	return token_usage("unknown subcommand '%s'", argv[1]);
}
