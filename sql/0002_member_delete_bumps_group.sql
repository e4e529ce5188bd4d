-- Deleting a User or Group changes the member list of every group it was
-- in: bump those groups' version (their ETag) and lastModified in the same
-- statement, as db_scim_touch does after an explicit member change, so a
-- client holding the old ETag does not get 304 for the old member list.
-- The trigger function runs each statement with a fresh snapshot, so it
-- also sees memberships committed while the DELETE waited for the row
-- lock that member inserts hold (FOR KEY SHARE, src/db/scim_store.c).

CREATE OR REPLACE FUNCTION vb_drop_memberships() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	WITH d AS (
		DELETE FROM scim_group_member WHERE member_id = OLD.id
		RETURNING group_id
	)
	UPDATE scim_group g
	SET version = g.version + 1,
	    last_modified = greatest(date_trunc('milliseconds', now()),
		g.last_modified)
	WHERE g.id IN (SELECT group_id FROM d);
	RETURN NULL;
END
$$;
