-- GET one random record of N: args = path prefix, N. Seeded, so every system gets the same ids.
local prefix, n
init = function(args)
  prefix, n = args[1], tonumber(args[2])
  math.randomseed(20261129)
end
request = function()
  return wrk.format("GET", prefix .. string.format("%06d", math.random(0, n - 1)))
end
local pace = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pace then delay = function() return pace end end
