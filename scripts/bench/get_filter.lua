-- GET /scim/v2/Users?filter=userName eq "userN@example.com" (N random).
package.path = os.getenv("VB_BENCH_DIR") .. "/?.lua;" .. package.path
local c = require("common")
local users = tonumber(os.getenv("VB_USERS") or "100000")

function init(args)
	math.randomseed(os.time() + math.random(1, 1000))
end

request = function()
	local i = math.random(1, users)
	local path = "/scim/v2/Users?filter=userName%20eq%20%22user" .. i ..
	    "%40example.com%22"
	return wrk.format("GET", path, c.headers)
end

dofile(os.getenv("VB_BENCH_DIR") .. "/report.lua")
