-- vaultbridge schema, version 1: SCIM Users and Groups, group membership,
-- API tokens. Applied by db_migrate in one transaction together with its
-- schema_migrations row. Timestamps come from now() in the database and
-- are kept at millisecond precision, the precision clients see in
-- meta.created / meta.lastModified, so that a filter on a value a client
-- has read back compares equal.

CREATE TABLE schema_migrations (
	version integer PRIMARY KEY,
	name text NOT NULL,
	applied timestamptz NOT NULL DEFAULT now()
);

-- Lower-cased "value" of every element of doc->'emails', for the GIN
-- index below: `emails.value eq "X"` (case-insensitive) is answered with
-- vb_email_values(doc) @> ARRAY[lower(X)]. IMMUTABLE because it reads only
-- its argument; queries must call it with exactly this spelling to match
-- the index expression (src/db/scim_query.c does).
CREATE FUNCTION vb_email_values(doc jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT coalesce(array_agg(lower(e.v->>'value')), '{}')
	FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc->'emails') = 'array'
	    THEN doc->'emails' END) AS e(v)
	WHERE jsonb_typeof(e.v) = 'object' AND e.v->>'value' IS NOT NULL
$$;

CREATE TABLE scim_user (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	doc jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
	version bigint NOT NULL DEFAULT 1,
	created timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	last_modified timestamptz NOT NULL
	    DEFAULT date_trunc('milliseconds', now())
);

-- userName is unique case-insensitively (RFC 7643 §4.1.1).
CREATE UNIQUE INDEX scim_user_username_key
	ON scim_user (lower(doc->>'userName'));
-- the same expression for `sw` (LIKE 'abc%') in a non-C collation
CREATE INDEX scim_user_username_pat
	ON scim_user (lower(doc->>'userName') text_pattern_ops);
CREATE INDEX scim_user_external_id ON scim_user ((doc->>'externalId'));
CREATE INDEX scim_user_display_name
	ON scim_user (lower(doc->>'displayName'));
-- fastupdate off: right after a bulk provisioning run, lookups must not
-- scan a long pending list until autovacuum merges it
CREATE INDEX scim_user_emails ON scim_user USING gin (vb_email_values(doc))
	WITH (fastupdate = off);
CREATE INDEX scim_user_created ON scim_user (created, id);
CREATE INDEX scim_user_last_modified ON scim_user (last_modified);

CREATE TABLE scim_group (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	doc jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
	version bigint NOT NULL DEFAULT 1,
	created timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	last_modified timestamptz NOT NULL
	    DEFAULT date_trunc('milliseconds', now())
);

-- Group displayName is unique case-insensitively.
CREATE UNIQUE INDEX scim_group_display_name_key
	ON scim_group (lower(doc->>'displayName'));
CREATE INDEX scim_group_display_name_pat
	ON scim_group (lower(doc->>'displayName') text_pattern_ops);
CREATE INDEX scim_group_external_id ON scim_group ((doc->>'externalId'));
CREATE INDEX scim_group_created ON scim_group (created, id);
CREATE INDEX scim_group_last_modified ON scim_group (last_modified);

-- member_id names a scim_user or a scim_group row, so it carries no
-- foreign key; the triggers below remove the memberships of a deleted
-- user or group in the same statement.
CREATE TABLE scim_group_member (
	group_id uuid NOT NULL REFERENCES scim_group (id) ON DELETE CASCADE,
	member_id uuid NOT NULL,
	member_type text NOT NULL CHECK (member_type IN ('User', 'Group')),
	PRIMARY KEY (group_id, member_id)
);
CREATE INDEX scim_group_member_member ON scim_group_member (member_id);

CREATE FUNCTION vb_drop_memberships() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	DELETE FROM scim_group_member WHERE member_id = OLD.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER scim_user_drop_memberships AFTER DELETE ON scim_user
	FOR EACH ROW EXECUTE FUNCTION vb_drop_memberships();
CREATE TRIGGER scim_group_drop_memberships AFTER DELETE ON scim_group
	FOR EACH ROW EXECUTE FUNCTION vb_drop_memberships();

-- API bearer tokens: only BLAKE2b-256 of the secret part is stored.
CREATE TABLE api_token (
	id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
	name text NOT NULL
	    CHECK (octet_length(name) BETWEEN 1 AND 64),
	scopes integer NOT NULL CHECK (scopes >= 0),
	hash bytea NOT NULL CHECK (octet_length(hash) = 32),
	created timestamptz NOT NULL DEFAULT now(),
	expires timestamptz,
	revoked timestamptz
);
-- a name is taken while a token of that name is not revoked
CREATE UNIQUE INDEX api_token_name_key ON api_token (name)
	WHERE revoked IS NULL;
