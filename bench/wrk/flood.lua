-- wrk: GET /device/callback with a fresh junk state and a fresh well-formed junk code (32
-- letters and digits, Postiz's shape) on every request, each from its own address: a flood of
-- distinct refused callbacks from many addresses, every one of which the server must record
-- (docs/security.md, "How big the record can grow"). With an argument `repeat=N`, each request
-- carries N such codes (repeated parameters).
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local n = 0
local repeats = 1

init = function(args)
  -- Each thread has a Lua state of its own: seed each differently.
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  n = math.random(1, 1000000)
  for _, arg in ipairs(args) do
    local count = arg:match("^repeat=(%d+)$")
    if count then repeats = tonumber(count) end
  end
end

local function random(length)
  local out = {}
  for i = 1, length do
    local k = math.random(1, #chars)
    out[i] = chars:sub(k, k)
  end
  return table.concat(out)
end

request = function()
  n = (n + 1) % 16777216
  local address = string.format("10.%d.%d.%d", math.floor(n / 65536), math.floor(n / 256) % 256, n % 256)
  local codes = {}
  for i = 1, repeats do codes[i] = "code=" .. random(32) end
  return wrk.format("GET", "/device/callback?state=" .. random(43) .. "&" .. table.concat(codes, "&"),
    { ["X-Forwarded-For"] = address })
end

done = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'report.lua')
