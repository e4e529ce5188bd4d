#ifndef VB_CLI_TOKEN_CMD_H
#define VB_CLI_TOKEN_CMD_H

/*
 * "vaultbridge token create|list|revoke". argv[0] is "token"; argc
 * counts it. Output as in the CLI contract: create prints the new token
 * text alone on the first stdout line (shown once, then wiped from
 * memory); list prints "id name scopes created expires user state" lines
 * (state active, revoked, expired or user-inactive);
 * revoke exits 1 when nothing matched. Returns a CLI_EXIT_* code.
 */
struct config;

int token_cmd_main(const struct config *cfg, int argc, char **argv);

#endif
