#ifndef VB_CLI_CLI_H
#define VB_CLI_CLI_H

#include "util/errors.h"

/*
 * Shared by the command-line subcommands (src/cli/main.c). Exit codes
 * of the binary.
 */
#define CLI_EXIT_OK	0	/* done */
#define CLI_EXIT_FAIL	1	/* runtime error (database, config, ...) */
#define CLI_EXIT_USAGE	2	/* bad command line */

struct config;
struct db_pool;
struct db_conn;

/*
 * Open a one-connection pool from cfg and borrow its connection, for a
 * short-lived command; statement_timeout_ms replaces
 * db.statement_timeout_ms (0 = server default, for migrations). On
 * failure prints a message on stderr and returns ERR_*; *poolp and
 * *connp are NULL then. Release both with cli_db_close().
 */
int cli_db_open(const struct config *cfg, unsigned statement_timeout_ms,
    struct db_pool **poolp, struct db_conn **connp) WUR;

/* The same on the embedded vault's database (vault.dsn, or db.dsn when
 * that is ""). */
int cli_vault_db_open(const struct config *cfg,
    unsigned statement_timeout_ms, struct db_pool **poolp,
    struct db_conn **connp) WUR;
/* vault.dsn, or db.dsn when vault.dsn is "". Borrowed from cfg. */
const char *cli_vault_dsn(const struct config *cfg);
/* Give back the connection and free the pool; NULLs are fine. */
void cli_db_close(struct db_pool *pool, struct db_conn *conn);

#endif
