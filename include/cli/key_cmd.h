#ifndef VB_CLI_KEY_CMD_H
#define VB_CLI_KEY_CMD_H

/*
 * "vaultbridge key generate PATH": write a new master key file (0600,
 * never overwrites) and print its key id.
 * "vaultbridge key id": print the key ids of vault.master_key and
 * vault.previous_keys.
 * "vaultbridge key rotate": re-wrap every data key of the embedded vault
 * under vault.master_key, accepting vault.previous_keys; prints how many
 * were re-wrapped. argv[0] is "key". Returns a CLI_EXIT_* code.
 */
struct config;

int key_cmd_main(const struct config *cfg, int argc, char **argv);

#endif
