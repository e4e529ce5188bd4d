#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/serve.h"
#include "app/version.h"
#include "cli/key_cmd.h"
#include "cli/reconcile_cmd.h"
#include "cli/token_cmd.h"
#include "config/config.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "policy/policy.h"
#include "util/log.h"

#define CLI_ERR_MAX	1024

enum {
	OPT_CHECK_CONFIG = 256,
	OPT_DUMP_CONFIG
};

static const struct option cli_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "dump-config", no_argument, NULL, OPT_DUMP_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fputs("usage: vaultbridge [--config PATH] COMMAND [ARGS]\n"
	    "       vaultbridge [--config PATH] --check-config | --dump-config\n"
	    "\n"
	    "commands:\n"
	    "  serve                      run the daemon in the foreground\n"
	    "  migrate                    apply pending migrations (bridge "
	    "and vault)\n"
	    "  token create --name NAME [--scopes a,b,...|all] "
	    "[--expires SECONDS]\n"
	    "               [--user USERNAME]\n"
	    "                             new API token, printed once on "
	    "stdout;\n"
	    "                             --user: acts as that SCIM user "
	    "(scope vault)\n"
	    "  token list                 id name scopes created expires "
	    "user state\n"
	    "  token revoke ID_OR_NAME    revoke a token\n"
	    "  policy check [DIR]         validate the lifecycle policy "
	    "(policy.dir)\n"
	    "  key generate PATH          new master key file (0600), prints "
	    "its id\n"
	    "  key id                     ids of the configured master keys\n"
	    "  key rotate                 re-wrap every data key under "
	    "vault.master_key\n"
	    "  reconcile [--dry-run | --apply]\n"
	    "                             compare intended access with the "
	    "vault,\n"
	    "                             report drift (JSON) and repair "
	    "it\n"
	    "  version                    print the version\n"
	    "\n"
	    "options:\n"
	    "  -c, --config PATH          configuration file (default: none;\n"
	    "                             built-in defaults and "
	    "VAULTBRIDGE_* env)\n"
	    "      --check-config         check the configuration and exit\n"
	    "      --dump-config          print the effective configuration\n"
	    "  -h, --help                 this text\n"
	    "\n"
	    "scopes: scim jit approve killswitch ci admin vault (default: scim)\n"
	    "exit status: 0 ok, 1 runtime error, 2 usage error\n", f);
}

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vaultbridge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'vaultbridge --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

static int
db_open_dsn(const struct config *cfg, const char *dsn, const char *what,
    unsigned statement_timeout_ms, struct db_pool **poolp,
    struct db_conn **connp)
{
	struct db_pool_opts o;
	struct db_pool *pool = NULL;
	struct db_conn *conn = NULL;
	int r;

	*poolp = NULL;
	*connp = NULL;
	memset(&o, 0, sizeof(o));
	o.dsn = dsn;
	o.size = 1;
	o.connect_timeout_s = cfg->db_connect_timeout_s;
	o.acquire_timeout_ms = cfg->db_acquire_timeout_ms;
	o.statement_timeout_ms = statement_timeout_ms;
	if ((r = db_pool_new(&o, &pool)) != 0) {
		fprintf(stderr, "vaultbridge: database pool: %s\n",
		    err_str(r));
		goto out;
	}
	if ((r = db_acquire(pool, &conn)) != 0) {
		fprintf(stderr, "vaultbridge: cannot connect to the %s: %s\n",
		    what, err_str(r));
		goto out;
	}
	*poolp = pool;
	*connp = conn;
	pool = NULL;
	conn = NULL;
	r = 0;
out:
	cli_db_close(pool, conn);
	return r;
}

int
cli_db_open(const struct config *cfg, unsigned statement_timeout_ms,
    struct db_pool **poolp, struct db_conn **connp)
{
	return db_open_dsn(cfg, cfg->db_dsn, "database (db.dsn)",
	    statement_timeout_ms, poolp, connp);
}

const char *
cli_vault_dsn(const struct config *cfg)
{
	return cfg->vault_dsn != NULL && cfg->vault_dsn[0] != '\0' ?
	    cfg->vault_dsn : cfg->db_dsn;
}

int
cli_vault_db_open(const struct config *cfg, unsigned statement_timeout_ms,
    struct db_pool **poolp, struct db_conn **connp)
{
	return db_open_dsn(cfg, cli_vault_dsn(cfg),
	    "vault database (vault.dsn)", statement_timeout_ms, poolp, connp);
}

void
cli_db_close(struct db_pool *pool, struct db_conn *conn)
{
	if (pool != NULL && conn != NULL)
		db_release(pool, conn);
	db_pool_free(pool);
}

/* Migrate one set over its own connection; prints what happened. */
static int
migrate_one(const struct config *cfg, const struct db_migration_set *set,
    int vault)
{
	struct db_pool *pool = NULL;
	struct db_conn *conn = NULL;
	int applied = 0, version = 0, r, ret = CLI_EXIT_FAIL;

	r = vault ? cli_vault_db_open(cfg, 0, &pool, &conn) :
	    cli_db_open(cfg, 0, &pool, &conn);
	if (r != 0)
		goto out;
	if ((r = db_migrate_set(conn, set, &applied)) != 0) {
		fprintf(stderr, "vaultbridge: migrate %s: %s\n", set->name,
		    err_str(r));
		goto out;
	}
	if ((r = db_migrate_set_current(conn, set, &version)) != 0) {
		fprintf(stderr, "vaultbridge: migrate %s: reading the schema "
		    "version: %s\n", set->name, err_str(r));
		goto out;
	}
	printf("migrated %s: %d applied, schema version %d\n", set->name,
	    applied, version);
	ret = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	cli_db_close(pool, conn);
	return ret;
}

/* The bridge schema (db.dsn), then the embedded vault's (vault.dsn). */
static int
cmd_migrate(const struct config *cfg)
{
	int ret;

	if ((ret = migrate_one(cfg, &db_bridge_set, 0)) != CLI_EXIT_OK)
		return ret;
	return migrate_one(cfg, &db_vault_set, 1);
}

/*
 * "policy check [DIR]": load and validate the policy of DIR (default
 * policy.dir) as serve would; argv[0] is "policy", arguments were
 * checked by main.
 */
static int
cmd_policy_check(const struct config *cfg, int argc, char **argv)
{
	struct policy *p = NULL;
	const char *dir = argc > 2 ? argv[2] : cfg->policy_dir;
	char err[CLI_ERR_MAX];

	if (policy_load_dir(dir, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "vaultbridge: %s\n", err);
		return CLI_EXIT_FAIL;
	}
	if (dir == NULL)
		fputs("vaultbridge: policy.dir is empty: no policy, no group "
		    "becomes a safe\n", stderr);
	printf("policy ok: %zu safe rules, %zu permission sets\n",
	    policy_nrules(p), policy_nsets(p));
	policy_free(p);
	return CLI_EXIT_OK;
}

static int
cmd_serve(const struct config *cfg)
{
	char err[CLI_ERR_MAX];
	int r;

	if (config_check(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "vaultbridge: %s\n", err);
		return CLI_EXIT_FAIL;
	}
	if ((r = app_serve(cfg)) != 0) {
		log_error("serve: %s", err_str(r));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	const char *path = NULL, *cmd;
	char err[CLI_ERR_MAX];
	int ch, check = 0, dump = 0, ret = CLI_EXIT_USAGE;

	/* a closed stdout must give EPIPE, not kill a token command */
	signal(SIGPIPE, SIG_IGN);
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", cli_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case OPT_CHECK_CONFIG:
			check = 1;
			break;
		case OPT_DUMP_CONFIG:
			dump = 1;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			fputs("Try 'vaultbridge --help'.\n", stderr);
			return CLI_EXIT_USAGE;
		}
	}
	cmd = optind < argc ? argv[optind] : NULL;
	if (check && dump)
		return usage_error("%s", "--check-config and --dump-config "
		    "exclude each other");
	if ((check || dump) && cmd != NULL)
		return usage_error("unexpected argument '%s' after "
		    "--check-config/--dump-config", cmd);
	if (!check && !dump && cmd == NULL)
		return usage_error("%s", "no command given");

	if (cmd != NULL && strcmp(cmd, "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (cmd != NULL && strcmp(cmd, "version") == 0) {
		if (optind + 1 < argc)
			return usage_error("version: unexpected argument "
			    "'%s'", argv[optind + 1]);
		printf("vaultbridge %s\n", VB_VERSION);
		return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	}
	if (cmd != NULL && strcmp(cmd, "serve") != 0 &&
	    strcmp(cmd, "migrate") != 0 && strcmp(cmd, "token") != 0 &&
	    strcmp(cmd, "policy") != 0 && strcmp(cmd, "key") != 0 &&
	    strcmp(cmd, "reconcile") != 0)
		return usage_error("unknown command '%s'", cmd);
	if (cmd != NULL && strcmp(cmd, "policy") == 0) {
		if (optind + 1 >= argc ||
		    strcmp(argv[optind + 1], "check") != 0)
			return usage_error("%s", "policy: expected "
			    "'policy check [DIR]'");
		if (optind + 3 < argc)
			return usage_error("policy check: unexpected argument "
			    "'%s'", argv[optind + 3]);
	} else if (cmd != NULL && strcmp(cmd, "token") != 0 &&
	    strcmp(cmd, "key") != 0 && strcmp(cmd, "reconcile") != 0 &&
	    optind + 1 < argc)
		return usage_error("unexpected argument '%s'",
		    argv[optind + 1]);

	if (config_load(path, NULL, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "vaultbridge: %s\n", err);
		ret = CLI_EXIT_FAIL;
		goto out;
	}
	log_set_level(cfg->log_level);
	if (check) {
		if (config_check(cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "vaultbridge: %s\n", err);
			ret = CLI_EXIT_FAIL;
			goto out;
		}
		puts("config ok");
		ret = CLI_EXIT_OK;
	} else if (dump) {
		config_dump(cfg, stdout);
		ret = CLI_EXIT_OK;
	} else if (strcmp(cmd, "serve") == 0)
		ret = cmd_serve(cfg);
	else if (strcmp(cmd, "migrate") == 0)
		ret = cmd_migrate(cfg);
	else if (strcmp(cmd, "policy") == 0)
		ret = cmd_policy_check(cfg, argc - optind, argv + optind);
	else if (strcmp(cmd, "key") == 0)
		ret = key_cmd_main(cfg, argc - optind, argv + optind);
	else if (strcmp(cmd, "reconcile") == 0)
		ret = reconcile_cmd_main(cfg, argc - optind, argv + optind);
	else
		ret = token_cmd_main(cfg, argc - optind, argv + optind);
	if (fflush(stdout) != 0 && ret == CLI_EXIT_OK)
		ret = CLI_EXIT_FAIL;
out:
	config_free(cfg);
	return ret;
}
