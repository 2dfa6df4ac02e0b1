--- `make bench`, real-time events: client:subscribe against the fake Navixy server's
-- WebSocket endpoint (spec/support/fake/, started here unless it runs), on Lua 5.4 and
-- LuaJIT, each measurement in a process of its own. Prints, beside its target:
--   latency     from asking the fake to emit an event (its control API, so the number
--               includes that request) to sub:next() returning it decoded: the median
--               and 90th percentile of 100;
--   throughput  state_batch events (two trackers, full states, 1.3 kB each) sent back to
--               back, read and decoded by sub:next(): events per second;
--   memory      RSS after a full GC at 10,000 events and at the end (100,000);
--   reconnect   a dropped connection to the first message of the next one, less the
--               backoff waited: the median of 8.
-- Timing only: nothing here passes or fails.
--
--   lua5.4 bench/ws.lua                    (from the repository root)
--   lua5.4 bench/ws.lua measure latency|throughput|reconnect   (one, in this Lua)
local root = (arg[0]:match("^(.*)/bench/ws%.lua$") or ".")
local flavour = rawget(_G, "jit") and "luajit" or "lua5.4"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/spec/support/?.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local fake = require "fake"

local LATENCY_N, EVENTS, RSS_AT = 100, 100000, 10000
local STATE_BATCH = { { type = "state_batch", target = { type = "all" } } }

local rss_kib = require("rss").kib

-- A subscription past its answer and first states.
local function subscribed(client)
  local sub = client:subscribe(STATE_BATCH)
  assert(assert(sub:next(5)).type == "response")
  assert(assert(sub:next(5)).type == "event")
  return sub
end

local MEASURE = {}

function MEASURE.latency(navixy, core)
  local client = navixy.new { url = fake.url, hash = fake.api_key }
  local sub = subscribed(client)
  local times = {}
  for i = 1, LATENCY_N + 5 do
    local t0 = core.now()
    fake.ws_emit { event = "state_batch" }
    local msg = assert(sub:next(5))
    assert(msg.event == "state_batch" and msg.data[2].source_id == 10002)
    if i > 5 then times[#times + 1] = (core.now() - t0) * 1000 end -- the first ones warm up
  end
  table.sort(times)
  sub:close()
  client:close()
  print(("%.3f %.3f"):format(times[math.floor(#times / 2) + 1], times[math.floor(#times * 0.9)]))
end

function MEASURE.throughput(navixy, core)
  local client = navixy.new { url = fake.url, hash = fake.api_key }
  local sub = subscribed(client)
  fake.ws_emit { event = "state_batch", count = EVENTS }
  assert(sub:next(5))
  local t0, rss_early = core.now(), nil
  for i = 2, EVENTS do
    local msg = assert(sub:next(5))
    assert(msg.data[1].source_id == 10001)
    if i == RSS_AT then
      collectgarbage()
      collectgarbage()
      rss_early = rss_kib()
    end
  end
  local secs = core.now() - t0
  collectgarbage()
  collectgarbage()
  print(("%.0f %d %d"):format((EVENTS - 1) / secs, rss_early, rss_kib()))
  sub:close()
  client:close()
end

-- A drop (the fake closes the TCP connection) to the first message of the new connection,
-- less the backoff it waited: the median and the longest of 8. Eight: the first
-- connection and eight more stay within the client's storm cap
-- (subscription.CONNECTS_PER_MINUTE, 10), which would add its own wait.
function MEASURE.reconnect(navixy, core)
  local client = navixy.new { url = fake.url, hash = fake.api_key }
  local backoff
  local sub = client:subscribe(STATE_BATCH, { on_status = function(info) backoff = info.retry_in or backoff end })
  assert(sub:next(5))
  local times = {}
  for _ = 1, 8 do
    while sub:next(0.05) do end -- nothing left of the last connection
    backoff = nil
    local t0 = core.now()
    fake.ws_fault { type = "drop" }
    local msg = assert(sub:next(15))
    assert(msg.type == "response" and backoff)
    times[#times + 1] = (core.now() - t0 - backoff) * 1000
  end
  table.sort(times)
  sub:close()
  client:close()
  print(("%.3f %.3f"):format((times[4] + times[5]) / 2, times[8]))
end

if arg[1] == "measure" then
  local navixy, core = require "navixy", require "navixy.core"
  fake.reset()
  MEASURE[arg[2]](navixy, core)
  fake.reset()
  os.exit(0)
end

---------------------------------------------------------------- the driver

local function run(lua, what)
  local p = assert(io.popen(("%s %s/bench/ws.lua measure %s 2>&1"):format(lua, root, what)))
  local out = p:read("*a")
  p:close()
  local numbers = {}
  for n in out:gmatch("[%d.]+") do numbers[#numbers + 1] = tonumber(n) end
  if #numbers == 0 then error("bench/ws.lua measure " .. what .. " on " .. lua .. " failed:\n" .. out) end
  return numbers
end

local started = false
if not fake.alive() then
  fake.ensure()
  started = true
end
print("")
print("real-time events (client:subscribe, the fake server's WebSocket endpoint on loopback)")
print(("%-58s %12s %12s"):format("", "measured", "target"))
local ok, err = pcall(function()
  for _, lua in ipairs { "lua5.4", "luajit" } do
    local lat = run(lua, "latency")
    print(("%-58s %9.2f ms %12s"):format("emit -> sub:next(), median of 100, " .. lua, lat[1], "<= 5 ms"))
    print(("%-58s %9.2f ms"):format("  90th percentile", lat[2]))
  end
  for _, lua in ipairs { "lua5.4", "luajit" } do
    local re = run(lua, "reconnect")
    print(("%-58s %9.2f ms %12s"):format("drop -> first message again, less the backoff, " .. lua, re[1],
      "<= 1000 ms"))
    print(("%-58s %9.2f ms"):format("  longest of 8", re[2]))
  end
  for _, lua in ipairs { "lua5.4", "luajit" } do
    local tp = run(lua, "throughput")
    print(("%-58s %9.0f /s %12s"):format("state_batch events decoded, " .. lua, tp[1], ">= 10,000/s"))
    print(("%-58s %9d KiB %11s"):format(("  RSS growth from %d to %d events"):format(RSS_AT, EVENTS),
      tp[3] - tp[2], "< 1 MiB"))
  end
end)
if started then os.execute(("%q stop >/dev/null"):format(fake.script)) end
if not ok then error(err, 0) end
