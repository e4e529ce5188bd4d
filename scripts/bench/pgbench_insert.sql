-- The database ceiling for POST /Users: the same single-row insert into a
-- table shaped and indexed like scim_user.
INSERT INTO bench_user (doc) VALUES (jsonb_build_object(
	'userName', gen_random_uuid()::text || '@example.com', 'active', true,
	'name', jsonb_build_object('givenName', 'Bench', 'familyName', 'User'),
	'emails', jsonb_build_array(jsonb_build_object('value',
	    gen_random_uuid()::text || '@example.com', 'type', 'work',
	    'primary', true))));
