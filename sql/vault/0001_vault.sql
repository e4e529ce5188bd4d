-- embedded vault schema, version 1: safes with their wrapped data keys,
-- members, accounts with sealed secrets, checkout sessions, the ledger of
-- applied lifecycle operations and the access log. Everything lives in
-- schema "vault", so the vault may share a database with the bridge.
-- Applied by db_migrate_set (set "vault") in one transaction with its
-- vault.schema_migrations row. Plaintext secrets never reach this
-- database: vault.account.secret is sealed (crypto/seal) under the safe's
-- data key, and vault.safe.dek is that data key wrapped by a master key
-- that lives only in a file.

CREATE SCHEMA IF NOT EXISTS vault;

CREATE TABLE vault.schema_migrations (
	version integer PRIMARY KEY,
	name text NOT NULL,
	applied timestamptz NOT NULL DEFAULT now()
);

-- ref is the SCIM Group id the safe comes from; name follows the group's
-- displayName. Only active safes must have distinct names: a frozen safe
-- waiting for its purge must not block a re-created group of that name.
CREATE TABLE vault.safe (
	ref uuid PRIMARY KEY,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
	state text NOT NULL DEFAULT 'active'
	    CHECK (state IN ('active', 'frozen')),
	created timestamptz NOT NULL DEFAULT now(),
	frozen_at timestamptz,
	dek bytea NOT NULL CHECK (length(dek) = 82),
	dek_key_id text NOT NULL CHECK (dek_key_id ~ '^[0-9a-f]{16}$'),
	last_op bigint NOT NULL DEFAULT 0,
	CHECK ((state = 'frozen') = (frozen_at IS NOT NULL))
);
CREATE UNIQUE INDEX safe_active_name_key ON vault.safe (lower(name))
	WHERE state = 'active';
CREATE INDEX safe_dek_key_id_idx ON vault.safe (dek_key_id);

CREATE TABLE vault.member (
	safe_ref uuid NOT NULL REFERENCES vault.safe (ref) ON DELETE CASCADE,
	user_ref uuid NOT NULL,
	user_name text NOT NULL,
	perms integer NOT NULL CHECK (perms BETWEEN 0 AND 15),
	updated timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (safe_ref, user_ref)
);
CREATE INDEX member_user_idx ON vault.member (user_ref);

CREATE TABLE vault.account (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	safe_ref uuid NOT NULL REFERENCES vault.safe (ref) ON DELETE CASCADE,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
	address text NOT NULL DEFAULT '',
	username text NOT NULL DEFAULT '',
	secret bytea,
	secret_version bigint NOT NULL DEFAULT 0,
	secret_updated timestamptz,
	created timestamptz NOT NULL DEFAULT now(),
	CHECK ((secret IS NULL) = (secret_version = 0))
);
CREATE UNIQUE INDEX account_name_key ON vault.account (safe_ref, lower(name));

-- A retrieval opens a checkout session; sessions_revoke ends the open ones
-- of a user. No foreign keys: sessions and the access log are evidence
-- and outlive a purged safe or a deleted account.
CREATE TABLE vault.session (
	id bigserial PRIMARY KEY,
	user_ref uuid NOT NULL,
	safe_ref uuid NOT NULL,
	account_id uuid NOT NULL,
	opened timestamptz NOT NULL DEFAULT now(),
	ended timestamptz
);
CREATE INDEX session_open_idx ON vault.session (user_ref) WHERE ended IS NULL;

-- The ledger: one row per lifecycle operation (op_id = outbox job id)
-- that reached the vault, in apply order (seq). A redelivered op_id
-- changes nothing but deliveries, so deliveries > 1 is a redelivery that
-- was detected and ignored.
CREATE TABLE vault.applied_op (
	op_id bigint PRIMARY KEY,
	op text NOT NULL,
	safe_ref uuid,
	user_ref uuid,
	perms integer,
	seq bigserial NOT NULL UNIQUE,
	applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	deliveries integer NOT NULL DEFAULT 1
);

CREATE TABLE vault.access_log (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	safe_ref uuid NOT NULL,
	account_id uuid NOT NULL,
	user_ref uuid NOT NULL,
	action text NOT NULL CHECK (action IN ('retrieve')),
	request_id text,
	secret_version bigint NOT NULL,
	session_id bigint
);
CREATE INDEX access_log_account_idx ON vault.access_log (account_id, at);
