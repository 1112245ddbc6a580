-- One request, repeated: args = method, path, [body file], [header lines "Name: value"...].
-- An optional pacing interval (ms per request per connection) comes from WRK_DELAY_MS.
local req
init = function(args)
  local method, path, bodyfile = args[1], args[2], args[3]
  local body = nil
  if bodyfile and bodyfile ~= "-" then
    local f = assert(io.open(bodyfile, "rb")); body = f:read("*a"); f:close()
  end
  local headers = {}
  for i = 4, #args do
    local k, v = args[i]:match("^([^:]+):%s*(.*)$")
    headers[k] = v
  end
  req = wrk.format(method, path, headers, body)
end
request = function() return req end
local pace = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pace then delay = function() return pace end end
