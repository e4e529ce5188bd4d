-- make bench population: 100,000 users, 10,000 groups of 10 members.
-- Deterministic ids (md5 of a name) so the wrk scripts can address them.
INSERT INTO scim_user (id, doc)
SELECT md5('u' || i)::uuid, jsonb_build_object(
	'userName', 'user' || i || '@example.com',
	'externalId', 'ext-' || i,
	'active', true,
	'displayName', 'User ' || i,
	'name', jsonb_build_object('givenName', 'User', 'familyName', 'N' || i),
	'emails', jsonb_build_array(jsonb_build_object(
	    'value', 'user' || i || '@example.com', 'type', 'work',
	    'primary', true)))
FROM generate_series(1, :users) AS i;

INSERT INTO scim_group (id, doc)
SELECT md5('g' || i)::uuid, jsonb_build_object('displayName', 'group-' || i)
FROM generate_series(1, :groups) AS i;

INSERT INTO scim_group_member (group_id, member_id, member_type)
SELECT md5('g' || g)::uuid, md5('u' || ((g * 7 + k * 13) % :users + 1))::uuid,
    'User'
FROM generate_series(1, :groups) AS g, generate_series(1, 10) AS k
ON CONFLICT DO NOTHING;

-- As autovacuum would soon after a bulk load: statistics for the planner,
-- and the visibility map, without which count(*) cannot use an
-- index-only scan and reads every heap page.
VACUUM ANALYZE;
