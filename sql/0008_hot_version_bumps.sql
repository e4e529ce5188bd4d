-- Membership changes update rows in place (HOT) again. Every member
-- PATCH bumps the group's and each touched user's version and
-- lastModified (a User's "groups" are part of it). With an index on
-- last_modified those updates could never be HOT, so each one wrote a
-- new entry into every index of the table: eight for scim_user,
-- including the GIN index of e-mail values that has to re-read the
-- document. Measured on the 2-core bench: member PATCHes on safes went
-- from 450-620 to 800-850 per second with these two indexes gone, and
-- the per-user bump from about 170 to 60 microseconds.
--
-- What it costs: a filter or sortBy on meta.lastModified is answered by
-- PostgreSQL scanning the table (still in SQL, never in the daemon;
-- about 20 ms at 100,000 users). IGA clients push changes and look up
-- by userName, externalId or id; none of the fixtures reads by
-- lastModified.
--
-- fillfactor leaves room on each page for the new row version, which
-- HOT needs; it applies to pages written from now on.
DROP INDEX scim_user_last_modified;
DROP INDEX scim_group_last_modified;
ALTER TABLE scim_user SET (fillfactor = 90);
ALTER TABLE scim_group SET (fillfactor = 90);
