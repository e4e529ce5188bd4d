-- Shared by the wrk scripts of `make bench`: the token comes from the
-- environment, ids from files the bench script wrote.
local M = {}

M.token = os.getenv("VB_TOKEN") or ""
M.headers = {
	["Authorization"] = "Bearer " .. M.token,
	["Content-Type"] = "application/scim+json",
}

function M.read_lines(path)
	local t = {}
	local f = assert(io.open(path, "r"))
	for line in f:lines() do
		t[#t + 1] = line
	end
	f:close()
	return t
end

return M
