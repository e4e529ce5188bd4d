-- PATCH /scim/v2/Groups/{id}: add one random user as a member.
package.path = os.getenv("VB_BENCH_DIR") .. "/?.lua;" .. package.path
local c = require("common")
local groups, users

function init(args)
	math.randomseed(os.time() + math.random(1, 1000))
	groups = c.read_lines(os.getenv("VB_GROUP_IDS"))
	users = c.read_lines(os.getenv("VB_USER_IDS"))
end

request = function()
	local g = groups[math.random(1, #groups)]
	local u = users[math.random(1, #users)]
	local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
	    '"Operations":[{"op":"add","path":"members","value":[{"value":"' ..
	    u .. '"}]}]}'
	return wrk.format("PATCH", "/scim/v2/Groups/" .. g, c.headers, body)
end

dofile(os.getenv("VB_BENCH_DIR") .. "/report.lua")
