-- Lifecycle sync (issue #3): safe bindings and the outbox of jobs that
-- carry SCIM changes to the vault backend (include/db/outbox.h).
--
-- The jobs are derived by the triggers below, in the transaction of the
-- change that causes them, whichever code path makes it: POST, PUT,
-- PATCH, DELETE, Bulk, the membership cascade of a deleted user or
-- group. The daemon only writes bindings (src/sync/lifecycle.c).
--
-- ORDERING. Workers apply the jobs of one (safe, user) in id order and
-- claim a job only when no job with a smaller id for the same key is
-- still pending (src/db/outbox.c, claim_sql). That is only right if id
-- order is commit order per key: if T1 and T2 both enqueue for (S, U)
-- and T1 commits first, T1's ids must be smaller. That holds when both
-- take a common, conflicting row lock BEFORE they insert the jobs and
-- keep it until commit (ids come from a sequence at insert time):
--   - jobs for safe S are enqueued holding the row lock of group S: the
--     SCIM handlers lock it (db_scim_get FOR UPDATE, or the row is their
--     own insert); the cascade of a user DELETE updates the groups'
--     version (vb_drop_memberships) before the statement's AFTER
--     triggers run; reconciliation takes db_binding_lock;
--   - jobs for (S, U) are also enqueued holding a lock on user row U
--     that conflicts with what a change of U's "active" holds (FOR
--     UPDATE from the handler, FOR NO KEY UPDATE from the UPDATE): the
--     membership triggers lock the users they enqueue for FOR NO KEY
--     UPDATE (the mode bump_users in src/db/scim_store.c takes a moment
--     later anyway, so no lock upgrade, hence no new deadlock between
--     two groups adding one user), the binding fan-out locks the member
--     users FOR SHARE; the user trigger holds U's row lock itself.
-- In READ COMMITTED a PL/pgSQL statement takes a fresh snapshot when it
-- starts, so every function below first takes its locks in one
-- statement (PERFORM ... FOR ...) and reads bindings, members and
-- "active" in the next one: that read sees whatever the transaction it
-- waited for committed. Example: group PATCH T1 adds U while T2
-- deactivates U. If T2 holds U first, T1's lock waits, T2's trigger does
-- not see T1's uncommitted membership (no job), T1 then reads U as
-- inactive (no member_set). If T1 locks first, T2's UPDATE waits, and
-- its trigger sees T1's membership and enqueues member_remove after
-- T1's member_set. Crossings of opposite lock orders (rare: a member
-- replace racing a perms change of another group sharing users) end in
-- a deadlock error (40P01), which the client sees as 503 + Retry-After.

-- A User counts as active unless its "active" is JSON false (absent or
-- null mean active, RFC 7643 §4.1.1 gives no default); never errors.
CREATE FUNCTION vb_user_active(doc jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT (doc->'active') IS DISTINCT FROM 'false'::jsonb
$$;

-- A SCIM Group that is a safe. No foreign key: a binding outlives its
-- group (frozen safe kept for retention_days, then purged).
CREATE TABLE sync_binding (
	group_id uuid PRIMARY KEY,
	safe_name text NOT NULL
	    CHECK (octet_length(safe_name) BETWEEN 1 AND 128),
	rule_id text NOT NULL CHECK (octet_length(rule_id) BETWEEN 1 AND 64),
	perms integer NOT NULL CHECK (perms BETWEEN 0 AND 15),
	retention_days integer NOT NULL
	    CHECK (retention_days BETWEEN 0 AND 3650),
	state text NOT NULL DEFAULT 'active'
	    CHECK (state IN ('active', 'frozen')),
	updated timestamptz NOT NULL DEFAULT now()
);
-- two active safes never share a name (accounts are addressed by it);
-- a frozen safe's name may be taken again (group deleted and re-created)
CREATE UNIQUE INDEX sync_binding_active_name ON sync_binding
	(lower(safe_name)) WHERE state = 'active';

CREATE TABLE sync_job (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	op text NOT NULL CHECK (op IN ('safe_ensure', 'safe_freeze',
	    'safe_purge', 'member_set', 'member_remove', 'sessions_revoke')),
	safe_ref uuid,
	user_ref uuid,
	-- sizes of struct sync_job (VAULT_SAFE_NAME_MAX, VAULT_USER_NAME_MAX)
	safe_name text NOT NULL DEFAULT ''
	    CHECK (octet_length(safe_name) <= 128),
	user_name text NOT NULL DEFAULT ''
	    CHECK (octet_length(user_name) <= 256),
	perms integer NOT NULL DEFAULT 0 CHECK (perms BETWEEN 0 AND 15),
	state text NOT NULL DEFAULT 'pending'
	    CHECK (state IN ('pending', 'done', 'dead', 'cancelled')),
	attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	not_before timestamptz NOT NULL DEFAULT now(),
	created timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished timestamptz,
	last_error text,
	origin text NOT NULL DEFAULT 'scim'
	    CHECK (octet_length(origin) BETWEEN 1 AND 31),
	applied_by text,
	-- the shape of each op: safe ops have no user, sessions_revoke no
	-- safe, member ops both
	CHECK ((safe_ref IS NULL) = (op = 'sessions_revoke')),
	CHECK ((user_ref IS NULL) =
	    (op IN ('safe_ensure', 'safe_freeze', 'safe_purge')))
);
-- the claim scan: pending jobs in id order
CREATE INDEX sync_job_pending ON sync_job (id) WHERE state = 'pending';
-- the claim's blocking checks and the stats of due jobs
CREATE INDEX sync_job_pending_key ON sync_job (safe_ref, user_ref, id)
	WHERE state = 'pending';
CREATE INDEX sync_job_pending_user ON sync_job (user_ref, id)
	WHERE state = 'pending' AND safe_ref IS NULL;
CREATE INDEX sync_job_due ON sync_job (not_before) WHERE state = 'pending';
-- the dead-letter list, and pruning of finished history
CREATE INDEX sync_job_dead ON sync_job (id) WHERE state = 'dead';
CREATE INDEX sync_job_finished ON sync_job (finished)
	WHERE state IN ('done', 'cancelled');

-- Members added to a group that is an active safe: member_set for each
-- active User member.
CREATE FUNCTION vb_sync_members_added() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM 1 FROM scim_user u
	WHERE u.id IN (SELECT n.member_id FROM vb_new n
	    JOIN sync_binding b ON b.group_id = n.group_id
	    WHERE n.member_type = 'User' AND b.state = 'active')
	ORDER BY u.id FOR NO KEY UPDATE OF u;
	INSERT INTO sync_job (op, safe_ref, user_ref, safe_name, user_name,
	    perms)
	SELECT 'member_set', b.group_id, u.id, b.safe_name,
	    coalesce(u.doc->>'userName', ''), b.perms
	FROM vb_new n
	JOIN sync_binding b ON b.group_id = n.group_id AND b.state = 'active'
	JOIN scim_user u ON u.id = n.member_id
	WHERE n.member_type = 'User' AND vb_user_active(u.doc)
	ORDER BY b.group_id, u.id;
	RETURN NULL;
END
$$;

-- Members removed from a group that is an active safe (also the cascade
-- of a deleted user): member_remove for each User member. Not filtered
-- on "active": removing a non-member is a no-op for the backend, and a
-- spare remove repairs rather than harms.
CREATE FUNCTION vb_sync_members_removed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM 1 FROM scim_user u
	WHERE u.id IN (SELECT o.member_id FROM vb_old o
	    JOIN sync_binding b ON b.group_id = o.group_id
	    WHERE o.member_type = 'User' AND b.state = 'active')
	ORDER BY u.id FOR NO KEY UPDATE OF u;
	INSERT INTO sync_job (op, safe_ref, user_ref, safe_name, user_name,
	    perms)
	SELECT 'member_remove', b.group_id, o.member_id, b.safe_name,
	    coalesce(u.doc->>'userName', ''), 0
	FROM vb_old o
	JOIN sync_binding b ON b.group_id = o.group_id AND b.state = 'active'
	LEFT JOIN scim_user u ON u.id = o.member_id
	WHERE o.member_type = 'User'
	ORDER BY b.group_id, o.member_id;
	RETURN NULL;
END
$$;

CREATE TRIGGER scim_group_member_sync_added AFTER INSERT
	ON scim_group_member REFERENCING NEW TABLE AS vb_new
	FOR EACH STATEMENT EXECUTE FUNCTION vb_sync_members_added();
CREATE TRIGGER scim_group_member_sync_removed AFTER DELETE
	ON scim_group_member REFERENCING OLD TABLE AS vb_old
	FOR EACH STATEMENT EXECUTE FUNCTION vb_sync_members_removed();

-- A User's "active" changed (or its userName, while active): its
-- membership in every active safe follows. Deactivation also ends its
-- sessions (sessions_revoke, the kill switch's plumbing). The UPDATE
-- holds U's row lock, so the reads below (a fresh snapshot) see every
-- membership and binding committed before it.
CREATE FUNCTION vb_sync_user_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	was boolean := vb_user_active(OLD.doc);
	now_active boolean := vb_user_active(NEW.doc);
BEGIN
	IF now_active THEN
		INSERT INTO sync_job (op, safe_ref, user_ref, safe_name,
		    user_name, perms)
		SELECT 'member_set', b.group_id, NEW.id, b.safe_name,
		    coalesce(NEW.doc->>'userName', ''), b.perms
		FROM scim_group_member m
		JOIN sync_binding b ON b.group_id = m.group_id
		WHERE m.member_id = NEW.id AND m.member_type = 'User'
		    AND b.state = 'active'
		ORDER BY b.group_id;
	ELSIF was THEN
		INSERT INTO sync_job (op, safe_ref, user_ref, safe_name,
		    user_name, perms)
		SELECT 'member_remove', b.group_id, NEW.id, b.safe_name,
		    coalesce(NEW.doc->>'userName', ''), 0
		FROM scim_group_member m
		JOIN sync_binding b ON b.group_id = m.group_id
		WHERE m.member_id = NEW.id AND m.member_type = 'User'
		    AND b.state = 'active'
		ORDER BY b.group_id;
		INSERT INTO sync_job (op, user_ref, user_name)
		VALUES ('sessions_revoke', NEW.id,
		    coalesce(NEW.doc->>'userName', ''));
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER scim_user_sync_changed AFTER UPDATE ON scim_user
	FOR EACH ROW
	WHEN (vb_user_active(OLD.doc) IS DISTINCT FROM vb_user_active(NEW.doc)
	    OR (vb_user_active(NEW.doc) AND (OLD.doc->>'userName') IS DISTINCT
	    FROM (NEW.doc->>'userName')))
	EXECUTE FUNCTION vb_sync_user_changed();

-- A deleted active User's sessions end too (its memberships go through
-- the member trigger above, by the cascade).
CREATE FUNCTION vb_sync_user_deleted() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO sync_job (op, user_ref, user_name)
	VALUES ('sessions_revoke', OLD.id, coalesce(OLD.doc->>'userName', ''));
	RETURN NULL;
END
$$;

CREATE TRIGGER scim_user_sync_deleted AFTER DELETE ON scim_user
	FOR EACH ROW WHEN (vb_user_active(OLD.doc))
	EXECUTE FUNCTION vb_sync_user_deleted();

-- A deleted group's safe freezes whichever path deletes it. BEFORE
-- DELETE, so that the membership cascade (an AFTER action of the
-- foreign key) already finds the binding frozen and enqueues no
-- member_remove: the freeze removes every member at once.
CREATE FUNCTION vb_sync_group_deleting() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	UPDATE sync_binding SET state = 'frozen', updated = now()
	WHERE group_id = OLD.id AND state = 'active';
	RETURN OLD;
END
$$;

CREATE TRIGGER scim_group_sync_deleting BEFORE DELETE ON scim_group
	FOR EACH ROW EXECUTE FUNCTION vb_sync_group_deleting();

-- A binding created or changed (the writer holds the group's row lock):
--   becomes active or is renamed   -> safe_ensure
--   becomes active, perms changed  -> member_set for every active User
--                                     member (locked FOR SHARE first)
--   becomes active again           -> its pending purge is cancelled
--   becomes frozen                 -> safe_freeze, and safe_purge due
--                                     retention_days later
CREATE FUNCTION vb_sync_binding_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	was_active boolean := TG_OP = 'UPDATE' AND OLD.state = 'active';
BEGIN
	IF NEW.state = 'active' THEN
		IF NOT was_active THEN
			UPDATE sync_job SET state = 'cancelled',
			    finished = now(),
			    last_error = 'safe active again before its purge'
			WHERE safe_ref = NEW.group_id AND op = 'safe_purge'
			    AND state = 'pending';
		END IF;
		IF NOT was_active OR OLD.safe_name <> NEW.safe_name THEN
			INSERT INTO sync_job (op, safe_ref, safe_name, perms)
			VALUES ('safe_ensure', NEW.group_id, NEW.safe_name,
			    NEW.perms);
		END IF;
		IF NOT was_active OR OLD.perms <> NEW.perms THEN
			PERFORM 1 FROM scim_user u
			WHERE u.id IN (SELECT m.member_id
			    FROM scim_group_member m
			    WHERE m.group_id = NEW.group_id
			    AND m.member_type = 'User')
			ORDER BY u.id FOR SHARE OF u;
			INSERT INTO sync_job (op, safe_ref, user_ref,
			    safe_name, user_name, perms)
			SELECT 'member_set', NEW.group_id, u.id,
			    NEW.safe_name, coalesce(u.doc->>'userName', ''),
			    NEW.perms
			FROM scim_group_member m
			JOIN scim_user u ON u.id = m.member_id
			WHERE m.group_id = NEW.group_id
			    AND m.member_type = 'User' AND vb_user_active(u.doc)
			ORDER BY u.id;
		END IF;
	ELSIF was_active THEN
		INSERT INTO sync_job (op, safe_ref, safe_name, perms)
		VALUES ('safe_freeze', NEW.group_id, NEW.safe_name, 0);
		INSERT INTO sync_job (op, safe_ref, safe_name, perms,
		    not_before)
		VALUES ('safe_purge', NEW.group_id, NEW.safe_name, 0,
		    now() + make_interval(days => NEW.retention_days));
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER sync_binding_changed AFTER INSERT OR UPDATE ON sync_binding
	FOR EACH ROW EXECUTE FUNCTION vb_sync_binding_changed();

-- Wake the workers (LISTEN vb_sync) when a statement enqueued something;
-- delivered at commit, deduplicated per transaction.
CREATE FUNCTION vb_sync_notify() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM vb_new) THEN
		PERFORM pg_notify('vb_sync', '');
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER sync_job_notify AFTER INSERT ON sync_job
	REFERENCING NEW TABLE AS vb_new
	FOR EACH STATEMENT EXECUTE FUNCTION vb_sync_notify();
