#include "cli/key_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/serve.h"
#include "cli/cli.h"
#include "config/config.h"
#include "crypto/seal.h"
#include "crypto/token.h"
#include "util/bounds.h"
#include "vault/embedded.h"

static int key_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
key_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("vaultbridge: key ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: vaultbridge key generate PATH\n"
	      "       vaultbridge key id\n"
	      "       vaultbridge key rotate\n",
	    stderr);
	return CLI_EXIT_USAGE;
}

static int
key_generate(int argc, char **argv)
{
	char id[SEAL_KEY_ID_LEN + 1], err[SEAL_ERR_MAX];
	int r;

	if (argc != 2 || argv[1][0] == '\0')
		return key_usage("generate: wants exactly one PATH");
	err[0] = '\0';
	if ((r = seal_key_generate(argv[1], id, err, sizeof(err))) != 0) {
		if (r == ERR_CONFLICT)
			fprintf(stderr,
			    "vaultbridge: key generate: %s exists; "
			    "a key file is never overwritten\n",
			    argv[1]);
		else
			fprintf(stderr, "vaultbridge: key generate: %s\n",
			    err[0] != '\0' ? err : err_str(r));
		return CLI_EXIT_FAIL;
	}
	printf("%s\n", id);
	return CLI_EXIT_OK;
}

/*
 * The key paths of the configuration: vault.master_key, then each of
 * the comma-separated vault.previous_keys (empty items skipped), as
 * serve reads them. *listp (malloc'd, caller frees) holds the strings
 * paths points into. 0, ERR_CONFIG (no master key, too many keys) with
 * a message on stderr, ERR_ALLOC.
 */
static int
key_paths(const struct config *cfg, const char *paths[SEAL_KEYRING_MAX],
    size_t *n, char **listp)
{
	char *list, *p, *comma;

	*n = 0;
	*listp = NULL;
	if (cfg->vault_master_key == NULL || cfg->vault_master_key[0] == '\0') {
		fprintf(stderr,
		    "vaultbridge: key: vault.master_key is not "
		    "set\n");
		return ERR_CONFIG;
	}
	paths[(*n)++] = cfg->vault_master_key;
	if ((list = strdup(cfg->vault_previous_keys != NULL
		     ? cfg->vault_previous_keys
		     : "")) == NULL)
		return ERR_ALLOC;
	*listp = list;
	for (p = list; *p != '\0'; p = comma + 1) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		if (*p != '\0') {
			if (*n == SEAL_KEYRING_MAX) {
				fprintf(stderr,
				    "vaultbridge: key: "
				    "vault.previous_keys: more than %d keys\n",
				    SEAL_KEYRING_MAX - 1);
				return ERR_CONFIG;
			}
			paths[(*n)++] = p;
		}
		if (comma == NULL)
			break;
	}
	return 0;
}

static int
key_id(const struct config *cfg, int argc, char **argv)
{
	const char *paths[SEAL_KEYRING_MAX];
	struct seal_keyring *kr = NULL;
	char id[SEAL_KEY_ID_LEN + 1], err[SEAL_ERR_MAX];
	char *list = NULL;
	size_t n = 0, i;
	int ret = CLI_EXIT_FAIL;

	if (argc != 1)
		return key_usage("id: unexpected argument '%s'", argv[1]);
	if (key_paths(cfg, paths, &n, &list) != 0)
		goto out;
	err[0] = '\0';
	if (seal_keyring_load(paths, n, &kr, err, sizeof(err)) != 0) {
		fprintf(stderr, "vaultbridge: key id: %s\n", err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (seal_keyring_key_id(kr, i, id) != 0) {
			fprintf(stderr,
			    "vaultbridge: key id: key %zu is "
			    "missing from the keyring\n",
			    i);
			goto out;
		}
		printf("%s %s %s\n", id, i == 0 ? "current" : "previous",
		    paths[i]);
	}
	ret = CLI_EXIT_OK;
out:
	seal_keyring_free(kr);
	free(list);
	return ret;
}

static int
key_rotate(const struct config *cfg, int argc, char **argv)
{
	struct app app;
	char err[SEAL_ERR_MAX];
	unsigned rewrapped = 0, current = 0;
	int r, ret = CLI_EXIT_FAIL;

	if (argc != 1)
		return key_usage("rotate: unexpected argument '%s'", argv[1]);
	memset(&app, 0, sizeof(app));
	app.cfg = cfg;
	/* loads vault.master_key + vault.previous_keys, checks the vault */
	if ((r = app_vault_open(cfg, &app)) != 0) {
		fprintf(stderr,
		    "vaultbridge: key rotate: cannot open the "
		    "vault (%s; see the log above)\n",
		    err_str(r));
		goto out;
	}
	err[0] = '\0';
	r = vault_embedded_rotate(
	    app.vault, &rewrapped, &current, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr,
		    "vaultbridge: key rotate: %s%s%s "
		    "(rewrapped %u before the failure)\n",
		    err_str(r), err[0] != '\0' ? ": " : "", err, rewrapped);
		goto out;
	}
	printf("rewrapped %u, already current %u\n", rewrapped, current);
	ret = CLI_EXIT_OK;
out:
	app_vault_close(&app);
	return ret;
}

int
key_cmd_main(const struct config *cfg, int argc, char **argv)
{
	int r;

	if (argc < 2)
		return key_usage("%s", "needs generate, id or rotate");
	if (strcmp(argv[1], "generate") != 0 && strcmp(argv[1], "id") != 0 &&
	    strcmp(argv[1], "rotate") != 0)
		return key_usage("unknown subcommand '%s'", argv[1]);
	if ((r = crypto_init()) != 0) {
		fprintf(stderr, "vaultbridge: crypto init: %s\n", err_str(r));
		return CLI_EXIT_FAIL;
	}
	if (strcmp(argv[1], "generate") == 0)
		return key_generate(argc - 1, argv + 1);
	if (strcmp(argv[1], "id") == 0)
		return key_id(cfg, argc - 1, argv + 1);
	return key_rotate(cfg, argc - 1, argv + 1);
}
