#ifndef VB_UTIL_BOUNDS_H
#define VB_UTIL_BOUNDS_H

/* Every size and count limit of the project lives here. */

/* HTTP */
#define HTTP_BODY_MAX_DEFAULT	(1024 * 1024)	/* bytes; config http.body_max */
#define HTTP_BODY_MAX_LIMIT	(64 * 1024 * 1024)
#define HTTP_PATH_MAX		2048
#define HTTP_QUERY_PARAMS_MAX	32
#define HTTP_QUERY_VALUE_MAX	4096
#define HTTP_HEADER_VALUE_MAX	1024
#define HTTP_ROUTE_PARAMS_MAX	2
#define HTTP_RESPONSE_MAX	(64 * 1024 * 1024)
#define REQUEST_ID_LEN		16

/* JSON */
#define JSON_DEPTH_MAX		16	/* nesting of any request body */
#define JSON_STRING_MAX		(64 * 1024)	/* one string value, bytes */

/* SCIM */
#define SCIM_ID_LEN		36	/* uuid text */
#define SCIM_ATTR_NAME_MAX	256	/* a full attribute path with URN */
#define SCIM_FILTER_MAX		4096	/* filter expression, bytes */
#define SCIM_FILTER_DEPTH_MAX	32	/* nesting of parentheses/not */
#define SCIM_FILTER_NODES_MAX	256	/* AST nodes (incl. and/or/not) */
#define SCIM_USERNAME_MAX	256
#define SCIM_DISPLAYNAME_MAX	512
#define SCIM_MULTI_MAX		100	/* values of one multi-valued attr
					 * (members excepted) */
#define SCIM_MEMBERS_PATCH_MAX	50000	/* member values in one request */
#define SCIM_PATCH_OPS_MAX	1000	/* operations in one PATCH */
#define SCIM_LIST_COUNT_DEFAULT	100	/* page size when count is absent */
#define SCIM_LIST_COUNT_MAX	1000	/* "count" is capped to this */
#define SCIM_BULK_OPS_MAX	1000	/* advertised maxOperations */
#define SCIM_BULK_PAYLOAD_MAX	(4 * 1024 * 1024) /* maxPayloadSize */
#define SCIM_ATTRS_PARAM_MAX	64	/* names in attributes= */
#define SCIM_BULK_ID_MAX	256	/* a bulkId, bytes */

/* tokens */
#define TOKEN_NAME_MAX		64
#define TOKEN_TEXT_MAX		128
#define TOKEN_EXPIRES_MAX	(100ULL * 366 * 24 * 3600) /* seconds */
#define HTTP_AUTH_CACHE_MAX	1024	/* verified tokens cached */

/* configuration and key material files */
#define CONFIG_FILE_MAX		(1024 * 1024)	/* whole config file, bytes */
#define CONFIG_LINE_MAX		4096		/* one line without newline */
#define TLS_PEM_MAX		(256 * 1024)	/* certificate or key file */

/* logs */
#define LOG_LINE_MAX		2048
#define LOG_CLIENT_STR_MAX	100	/* client strings are cut to this */

/* policy (policy.dir, loaded at startup) */
#define POLICY_FILE_MAX		(256 * 1024)	/* one policy file, bytes */
#define POLICY_FILES_MAX	64	/* *.json files in policy.dir */
#define POLICY_RULES_MAX	1024	/* safe rules, all files */
#define POLICY_SETS_MAX		64	/* permission sets, all files */
#define POLICY_ID_MAX		64	/* rule id or set name, bytes */
#define POLICY_MATCH_MAX	256	/* one match string, bytes */
#define POLICY_TEXT_MAX		1024	/* a "description", bytes */
#define POLICY_SAFE_NAME_MAX	128	/* largest name.max_length */
#define POLICY_RETENTION_DAYS_MAX 3650	/* retention_days, 10 years */

/* database */
#define DB_POOL_MAX		256
#define DB_DSN_MAX		1024
/* per-connection prepared-statement cache (src/db/stmt_cache.c) */
#define DB_STMT_CACHE_SIZE	64
#define DB_STMT_CACHE_BYTES	(256 * 1024)
#define DB_STMT_SQL_MAX		(16 * 1024)

/* sealed secrets and master keys (crypto/seal) */
#define VAULT_REASON_MAX	512	/* "reason" of a retrieval, characters */
#define SEAL_SECRET_MAX		(64 * 1024)	/* one sealed secret, bytes */
#define SEAL_AD_MAX		512	/* associated data ("safe:../account:..") */
#define SEAL_KEYRING_MAX	8	/* master keys loaded at once */
#define SEAL_KEY_FILE_MAX	128	/* bytes read from a master key file */
#define SEAL_CRED_NAME_MAX	255	/* systemd credential name in "cred:NAME" */
#define SEAL_ERR_MAX		256	/* suggested size of a seal error buffer */

#endif
