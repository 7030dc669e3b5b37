-- wrk: POST /device/code as the postiz CLI sends it (Content-Type application/json, no body),
-- each request from its own address (X-Forwarded-For: the server trusts the proxy in the
-- benchmark), as many CLIs behind a proxy do.
local n = 0

init = function(args)
  math.randomseed(os.time())
  n = math.random(1, 1000000)
end

request = function()
  n = (n + 1) % 16777216
  local address = string.format("10.%d.%d.%d", math.floor(n / 65536), math.floor(n / 256) % 256, n % 256)
  return wrk.format("POST", "/device/code",
    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = address }, "")
end

-- The summary line (bench/wrk/report.lua, found beside this script).
done = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'report.lua')
