-- One PUT per record, each to a new id: args = path prefix, body file, auth header value.
local prefix, body, auth
local n = 0
init = function(args)
  prefix, auth = args[1], args[3]
  local f = assert(io.open(args[2], "rb")); body = f:read("*a"); f:close()
end
request = function()
  n = n + 1
  return wrk.format("PUT", prefix .. string.format("%07d", n),
    {["Content-Type"] = "application/json", ["Authorization"] = auth}, body)
end
