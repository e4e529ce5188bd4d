#ifndef VB_APP_VAULT_API_H
#define VB_APP_VAULT_API_H

#include "http/request.h"

/*
 * Vault HTTP API (JSON, errors as {"error","detail"}), through
 * app->vault (vault/backend.h):
 *
 *   admin (SCOPE_ADMIN):
 *   GET    /admin/safes                            safes and state
 *   GET    /admin/safes/{safe}/members             members and perms
 *   GET    /admin/safes/{safe}/accounts            accounts, no secrets
 *   PUT    /admin/safes/{safe}/accounts/{account}  create/update
 *          {"address": "...", "username": "..."}   201 created / 200
 *   DELETE /admin/safes/{safe}/accounts/{account}  204
 *   PUT    /admin/safes/{safe}/accounts/{account}/secret
 *          {"secret": "..."} or {"generate": {"length": n}}: set or
 *          rotate; answers the new version, never the secret
 *
 *   users (SCOPE_VAULT, token bound to a SCIM user):
 *   POST   /v1/safes/{safe}/accounts/{account}/retrieve
 *          {"reason": "..."}: the secret if the token's user holds
 *          retrieve on the safe now; 403 otherwise. Audited.
 *
 * Every privileged call writes an audit record (db/audit_store.h)
 * before it answers; a retrieval whose audit record cannot be written
 * is refused.
 */

int vault_h_safes_list(const struct request *req, struct response *resp);
int vault_h_safe_members(const struct request *req, struct response *resp);
int vault_h_accounts_list(const struct request *req, struct response *resp);
int vault_h_account_put(const struct request *req, struct response *resp);
int vault_h_account_delete(const struct request *req,
    struct response *resp);
int vault_h_secret_put(const struct request *req, struct response *resp);
int vault_h_secret_retrieve(const struct request *req,
    struct response *resp);

#endif
