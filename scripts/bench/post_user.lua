-- POST /scim/v2/Users with a new unique userName each time.
package.path = os.getenv("VB_BENCH_DIR") .. "/?.lua;" .. package.path
local c = require("common")
local next_id = 0
local n = 0
local run = ""

function setup(thread)
	thread:set("tid", next_id)
	next_id = next_id + 1
end

function init(args)
	math.randomseed(os.time() + (tid or 0))
	run = string.format("%x%x", os.time(), math.random(0, 0xfffff))
end

request = function()
	n = n + 1
	local name = string.format("bench-%s-%d-%d@example.com", run, tid or 0, n)
	local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],' ..
	    '"userName":"' .. name .. '","active":true,' ..
	    '"name":{"givenName":"Bench","familyName":"User"},' ..
	    '"emails":[{"value":"' .. name .. '","type":"work","primary":true}]}'
	return wrk.format("POST", "/scim/v2/Users", c.headers, body)
end

dofile(os.getenv("VB_BENCH_DIR") .. "/report.lua")
