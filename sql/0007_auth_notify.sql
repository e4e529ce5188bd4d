-- Tell every daemon at once when a token's row changes, so the auth
-- cache of each (http/auth.c) can drop it: the changed row's old id is
-- sent on channel vaultbridge_auth (DB_TOKEN_WATCH_CHANNEL in
-- include/db/token_watch.h), which each daemon's watcher LISTENs on
-- (src/http/auth_watch.c). A TRUNCATE sends an empty payload: "any
-- token".
--
-- A trigger rather than a pg_notify() in db_token_revoke: a token can
-- be revoked by the CLI of another version, by another daemon, or by an
-- operator's UPDATE or DELETE in psql during an incident, and all of
-- them must end the token's cached life at once. Only the database sees
-- every path. The notification is sent at commit, so no daemon hears of
-- a change that was rolled back, nor before it is visible.
--
-- Unlike the per-write notify that 0006 removed, this one is rare: a
-- transaction that notifies serialises its commit with the other
-- notifying ones, which costs nothing at the rate tokens change.
--
-- An UPDATE notifies only when a column that authentication reads
-- changed (a future column updated on every use, such as a last-used
-- time, must not make every request notify). A column added to
-- api_token that authentication reads must be added to the WHEN clause.

CREATE FUNCTION vb_auth_notify() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF TG_LEVEL = 'STATEMENT' THEN
		PERFORM pg_notify('vaultbridge_auth', '');
	ELSE
		PERFORM pg_notify('vaultbridge_auth', OLD.id);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER api_token_auth_notify_update AFTER UPDATE ON api_token
	FOR EACH ROW
	WHEN (OLD.id IS DISTINCT FROM NEW.id
	    OR OLD.name IS DISTINCT FROM NEW.name
	    OR OLD.scopes IS DISTINCT FROM NEW.scopes
	    OR OLD.hash IS DISTINCT FROM NEW.hash
	    OR OLD.expires IS DISTINCT FROM NEW.expires
	    OR OLD.revoked IS DISTINCT FROM NEW.revoked
	    OR OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION vb_auth_notify();

CREATE TRIGGER api_token_auth_notify_delete AFTER DELETE ON api_token
	FOR EACH ROW EXECUTE FUNCTION vb_auth_notify();

CREATE TRIGGER api_token_auth_notify_truncate AFTER TRUNCATE ON api_token
	FOR EACH STATEMENT EXECUTE FUNCTION vb_auth_notify();
