-- User-bound API tokens and the audit trail.
--
-- A token may act as one SCIM User (api_token.user_id): such a token is
-- what an engineer presents to the vault API (scope "vault", 0x40; later
-- "jit", 0x02). Deleting the user deletes its tokens in the same
-- statement; a user with "active": false keeps its tokens, but they do
-- not authenticate (http/auth.c reads the user with the token, in one
-- query). Scope bit 0x40 means "acts as a user": only user-bound tokens
-- carry it, and they carry nothing but vault and jit.

UPDATE api_token SET scopes = scopes & ~64 WHERE scopes & 64 <> 0;

ALTER TABLE api_token
	ADD COLUMN user_id uuid REFERENCES scim_user (id) ON DELETE CASCADE,
	ADD CONSTRAINT api_token_user_scopes CHECK (user_id IS NULL
	    OR (scopes & ~(64 | 2)) = 0),
	ADD CONSTRAINT api_token_service_scopes CHECK (user_id IS NOT NULL
	    OR (scopes & 64) = 0);
-- the cascade of a user delete finds the user's tokens through this
CREATE INDEX api_token_user_id ON api_token (user_id)
	WHERE user_id IS NOT NULL;

-- Audit events: one row per privileged decision (a secret handed out or
-- refused, an account or secret changed), written in the transaction of
-- the change it records (db/audit_store.h). No foreign keys: the trail
-- is evidence and outlives the users, tokens and safes it names.
--
-- Prepared for a hash chain (a later migration): rows are only ever
-- appended (the trigger below refuses UPDATE and DELETE), id gives the
-- order, every column has one canonical text form (at in UTC with
-- microseconds, detail as jsonb, whose text form has sorted keys and no
-- insignificant blanks), so a row's hash can be computed from its
-- columns alone; the chain then adds prev_hash/hash columns, filled
-- under a lock that serialises writers.
CREATE TABLE audit_event (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	actor text NOT NULL CHECK (octet_length(actor) BETWEEN 1 AND 64),
	actor_token text CHECK (actor_token ~ '^[0-9a-f]{16}$'),
	actor_user uuid,
	action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
	target text NOT NULL CHECK (octet_length(target) <= 1024),
	decision text NOT NULL CHECK (decision IN ('allow', 'deny', 'error')),
	request_id text CHECK (octet_length(request_id) <= 64),
	detail jsonb NOT NULL DEFAULT '{}'
	    CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX audit_event_at ON audit_event (at);
CREATE INDEX audit_event_actor_user ON audit_event (actor_user, at)
	WHERE actor_user IS NOT NULL;
CREATE INDEX audit_event_target ON audit_event (target, at);

CREATE FUNCTION vb_audit_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION 'audit_event is append-only'
	    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_event_append_only
	BEFORE UPDATE OR DELETE ON audit_event
	FOR EACH ROW EXECUTE FUNCTION vb_audit_append_only();
