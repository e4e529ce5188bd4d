-- PATCH /scim/v2/Groups/{id} on groups that are safes (make bench,
-- propagation): every request changes membership, so every request
-- makes one outbox job. Each wrk thread owns its own (group, user)
-- pairs and walks them in passes: add all, then remove all, and so on;
-- a pair's add and remove are a whole pass apart, never in flight
-- together.
package.path = os.getenv("VB_BENCH_DIR") .. "/?.lua;" .. package.path
local c = require("common")
local groups, users
local my_tid = 0
local counter = 0
local counter_threads = 0

function setup(thread)
	thread:set("tid", counter_threads)
	counter_threads = counter_threads + 1
end

function init(args)
	groups = c.read_lines(os.getenv("VB_SAFE_GROUP_IDS"))
	users = c.read_lines(os.getenv("VB_USER_IDS"))
	-- "tid" is the global that setup() gave this thread
	my_tid = tonumber(rawget(_G, "tid")) or 0
end

local pairs_per_thread = 4000
-- VB_DELAY_MS > 0: each connection waits that long between requests,
-- which caps the rate (32 connections x 1000 / (delay + latency)).
local delay_ms = tonumber(os.getenv("VB_DELAY_MS")) or 0

if delay_ms > 0 then
	delay = function()
		return delay_ms
	end
end

request = function()
	local i = counter % pairs_per_thread
	local pass = math.floor(counter / pairs_per_thread)
	counter = counter + 1
	-- pair number p, unique per thread; consecutive requests hit other
	-- groups AND other users, so that 32 requests in flight do not
	-- queue on one group's or one user's row lock. (p mod groups,
	-- p mod users) stays distinct while p < lcm(#groups, #users).
	local p = my_tid * pairs_per_thread + i
	local g = groups[(p % #groups) + 1]
	local u = users[(p % #users) + 1]
	local body
	if pass % 2 == 0 then
		body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
		    '"Operations":[{"op":"add","path":"members","value":[{"value":"' ..
		    u .. '"}]}]}'
	else
		body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
		    '"Operations":[{"op":"remove","path":"members[value eq \\"' ..
		    u .. '\\"]"}]}'
	end
	return wrk.format("PATCH", "/scim/v2/Groups/" .. g, c.headers, body)
end

dofile(os.getenv("VB_BENCH_DIR") .. "/report.lua")
