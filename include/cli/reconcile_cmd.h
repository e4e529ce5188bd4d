#ifndef VB_CLI_RECONCILE_CMD_H
#define VB_CLI_RECONCILE_CMD_H

/*
 * "vaultbridge reconcile [--dry-run] [--apply]": compare intended access
 * with the embedded vault and print the drift report (JSON) on stdout.
 * Without --dry-run the repairs are enqueued as jobs; with --apply this
 * process also runs the workers' claim-apply loop until no due job is
 * left (for use without a running daemon). Exit 0 when done (drift or
 * not), 1 on error. argv[0] is "reconcile".
 */
struct config;

int reconcile_cmd_main(const struct config *cfg, int argc, char **argv);

#endif
