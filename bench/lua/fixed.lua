-- One request, repeated: args = method, path.
-- An optional pacing interval (ms per request per connection) comes from WRK_DELAY_MS.
local req
init = function(args)
  req = wrk.format(args[1], args[2])
end
request = function() return req end
local pace = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pace then delay = function() return pace end end
