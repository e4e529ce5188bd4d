-- GET /scim/v2/Users?startIndex=S&count=100 (S random in the first 1,000).
package.path = os.getenv("VB_BENCH_DIR") .. "/?.lua;" .. package.path
local c = require("common")

function init(args)
	math.randomseed(os.time() + math.random(1, 1000))
end

request = function()
	local s = math.random(1, 1000)
	return wrk.format("GET", "/scim/v2/Users?startIndex=" .. s ..
	    "&count=100", c.headers)
end

dofile(os.getenv("VB_BENCH_DIR") .. "/report.lua")
