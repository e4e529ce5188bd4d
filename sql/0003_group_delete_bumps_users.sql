-- Deleting a Group changes the "groups" attribute of every User that was
-- a member: bump their version (ETag) and lastModified, as a member PATCH
-- does (src/db/scim_store.c bump_users_sql). BEFORE DELETE, because the
-- foreign key's cascade removes the membership rows before any AFTER
-- trigger of ours could read them. Rows are locked in id order, as in
-- bump_users_sql, so concurrent member changes cannot deadlock with it.

CREATE FUNCTION vb_group_delete_bump_users() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	WITH x AS (
		SELECT s.id FROM scim_user s
		WHERE s.id IN (SELECT member_id FROM scim_group_member
		    WHERE group_id = OLD.id AND member_type = 'User')
		ORDER BY s.id FOR NO KEY UPDATE
	)
	UPDATE scim_user s
	SET version = s.version + 1,
	    last_modified = greatest(date_trunc('milliseconds', now()),
		s.last_modified)
	FROM x WHERE s.id = x.id;
	RETURN OLD;
END
$$;

CREATE TRIGGER scim_group_delete_bump_users BEFORE DELETE ON scim_group
	FOR EACH ROW EXECUTE FUNCTION vb_group_delete_bump_users();
