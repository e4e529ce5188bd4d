#include "cli/reconcile_cmd.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/app.h"
#include "app/serve.h"
#include "cli/cli.h"
#include "config/config.h"
#include "crypto/token.h"
#include "db/pool.h"
#include "policy/policy.h"
#include "sync/reconcile.h"
#include "sync/worker.h"
#include "util/errors.h"

/* The command's own small pool: reconcile and a worker round each
 * borrow one connection at a time. */
#define RECONCILE_POOL_SIZE	2

static int
reconcile_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
reconcile_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("vaultbridge: reconcile: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: vaultbridge reconcile [--dry-run | --apply]\n",
	    stderr);
	return CLI_EXIT_USAGE;
}

int
reconcile_cmd_main(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "apply", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct db_pool_opts po;
	struct app app;
	struct policy *policy = NULL;
	json_t *report = NULL;
	char *text = NULL, err[1024];
	unsigned handled, total = 0;
	int ch, r, dry_run = 0, apply = 0, ret = CLI_EXIT_FAIL;

	memset(&app, 0, sizeof(app));
	atomic_init(&app.requests, 0);
	atomic_init(&app.in_flight, 0);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			dry_run = 1;
			break;
		case 'a':
			apply = 1;
			break;
		default:
			return reconcile_usage("bad option");
		}
	}
	if (optind < argc)
		return reconcile_usage("unexpected argument '%s'",
		    argv[optind]);
	if (dry_run && apply)
		return reconcile_usage("--dry-run and --apply exclude each "
		    "other");

	if ((r = crypto_init()) != 0) {
		fprintf(stderr, "vaultbridge: crypto init: %s\n", err_str(r));
		goto out;
	}
	if ((r = policy_load_dir(cfg->policy_dir, &policy, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "vaultbridge: reconcile: the policy does not "
		    "load: %s\n", err);
		goto out;
	}
	app.cfg = cfg;
	app.policy = policy;
	memset(&po, 0, sizeof(po));
	po.dsn = cfg->db_dsn;
	po.size = RECONCILE_POOL_SIZE;
	po.connect_timeout_s = cfg->db_connect_timeout_s;
	po.acquire_timeout_ms = cfg->db_acquire_timeout_ms;
	po.statement_timeout_ms = cfg->db_statement_timeout_ms;
	if ((r = db_pool_new(&po, &app.pool)) != 0) {
		fprintf(stderr, "vaultbridge: database pool: %s\n",
		    err_str(r));
		goto out;
	}
	if ((r = app_vault_open(cfg, &app)) != 0) {
		fprintf(stderr, "vaultbridge: reconcile: cannot open the "
		    "vault: %s\n", err_str(r));
		goto out;
	}
	if ((r = reconcile_run(&app, dry_run, &report)) != 0) {
		fprintf(stderr, "vaultbridge: reconcile: %s\n", err_str(r));
		goto out;
	}
	if ((text = json_dumps(report, JSON_INDENT(2))) == NULL) {
		fprintf(stderr, "vaultbridge: reconcile: out of memory\n");
		goto out;
	}
	printf("%s\n", text);
	if (fflush(stdout) != 0)
		goto out;
	if (apply) {
		/* every due job, ours and any others, until none is left;
		 * retries back off, so this ends when only they remain */
		do {
			handled = 0;
			if ((r = sync_run_once(&app, &handled)) != 0) {
				fprintf(stderr, "vaultbridge: reconcile: "
				    "applying jobs: %s\n", err_str(r));
				goto out;
			}
			total += handled;
		} while (handled > 0);
		fprintf(stderr, "vaultbridge: reconcile: %u job(s) handled\n",
		    total);
	}
	ret = CLI_EXIT_OK;
out:
	free(text);
	json_decref(report);
	app_vault_close(&app);
	db_pool_free(app.pool);
	policy_free(policy);
	return ret;
}
