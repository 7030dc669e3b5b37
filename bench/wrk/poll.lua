-- wrk: the postiz CLI's poll, POST /device/token with {"device_code":"…"} (Content-Type
-- application/json), cycling over the device codes in the file named after `--` (one per line),
-- from a random place in it. Optional arguments: the path ("-": /device/token; the floor's
-- ceiling has its own), and the 0-based place to start at (a run that continues another starts
-- where that one stopped, so no flow is polled twice within an interval).
local codes = {}
local i = 0
local path = "/device/token"

init = function(args)
  for line in io.lines(args[1]) do codes[#codes + 1] = line end
  if args[2] and args[2] ~= "-" then path = args[2] end
  if args[3] then
    i = tonumber(args[3]) % #codes
  else
    math.randomseed(os.time())
    i = math.random(#codes)
  end
end

request = function()
  i = i % #codes + 1
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" },
    '{"device_code":"' .. codes[i] .. '"}')
end

-- The summary line (bench/wrk/report.lua, found beside this script).
done = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'report.lua')
