--- One measurement of `make bench`, in a process of its own (run by
-- bench/run.lua under lua5.4 or luajit); prints one line of numbers.
--
--   measure.lua seq URL N          client:call N times: calls/s
--   measure.lua batch URL N C      N calls by client:batch (1000 a batch) at concurrency C: calls/s
--   measure.lua luasocket URL N    LuaSocket + lua-cjson N times: calls/s
--   measure.lua decode ROUNDS      a 20,000-tracker tracker/list answer: our decode
--                                  path and cjson.decode, alternately: ms, ms per round
--   measure.lua rss URL            resident memory (KiB) after 10k and 100k calls by
--                                  client:call, then after 10k, 100k, 300k, 600k by client:batch
local root = arg[0]:match("^(.*)/bench/measure%.lua$") or "."
local flavour = rawget(_G, "jit") and "luajit" or "lua5.4"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local navixy = require "navixy"
local core = require "navixy.core"

local HASH = "a6aa75587e5c59c32d347da438505fc3"
local WARMUP = 200
local PARAMS = { tracker_id = 1 }

local what = arg[1]

local function new_client(url)
  return navixy.new { url = url, hash = HASH }
end

local function check(res, err)
  if not res then error(tostring(err)) end
  return res
end

local function seq(url, n)
  local client = new_client(url)
  for _ = 1, WARMUP do check(client:call("tracker/get_state", PARAMS)) end
  local t0 = core.now()
  for _ = 1, n do check(client:call("tracker/get_state", PARAMS)) end
  return n / (core.now() - t0)
end

local function calls_of(n)
  local calls = {}
  for i = 1, n do calls[i] = { "tracker/get_state", PARAMS } end
  return calls
end

-- N calls as batches of BATCH_SIZE, the size of a fleet poll (and a batch
-- keeps all its answers until it returns: one of 40,000 would mostly
-- measure the heap growing).
local BATCH_SIZE = 1000

local function batch(url, n, c)
  local client = new_client(url)
  client:batch(calls_of(WARMUP), { concurrency = c }) -- opens the connections
  local calls = calls_of(math.min(n, BATCH_SIZE))
  local t0 = core.now()
  for _ = 1, math.ceil(n / #calls) do
    for _, r in ipairs(client:batch(calls, { concurrency = c })) do check(r.result, r.err) end
  end
  return math.ceil(n / #calls) * #calls / (core.now() - t0)
end

-- What a Lua user would write without this module. LuaSocket's socket.http
-- cannot keep a connection alive: it sends "Connection: close" and opens a
-- new TCP connection for every request.
local function luasocket(url, n)
  local http = require "socket.http"
  local ltn12 = require "ltn12"
  local cjson = require "cjson"
  local function call(action, params)
    local body = cjson.encode(params)
    local chunks = {}
    local ok, status = http.request {
      url = url .. "/" .. action, method = "POST",
      headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#body),
                  accept = "application/json", authorization = "NVX " .. HASH },
      source = ltn12.source.string(body), sink = ltn12.sink.table(chunks),
    }
    if not ok or status ~= 200 then error("luasocket: " .. tostring(status)) end
    local res = cjson.decode(table.concat(chunks))
    if res.success ~= true then error("luasocket: not a success") end
    return res
  end
  for _ = 1, WARMUP do call("tracker/get_state", PARAMS) end
  local t0 = core.now()
  for _ = 1, n do call("tracker/get_state", PARAMS) end
  return n / (core.now() - t0)
end

-- A tracker/list answer with `n` trackers, shaped as the API documents it.
local function tracker_list(n)
  local cjson = require "cjson"
  local list = {}
  for i = 1, n do
    list[i] = {
      id = 100000 + i, label = "Truck " .. i, clone = false, group_id = i % 17,
      source = {
        id = 200000 + i, device_id = "35000000" .. (1000000 + i), model = "telfmb920",
        blocked = i % 50 == 0, tariff_id = 5, creation_date = "2023-01-15 10:00:00",
        tariff_end_date = "2030-01-01", phone = "+49170" .. (1000000 + i),
      },
      tag_bindings = { { tag_id = i % 5 + 1, ordinal = 1 } },
    }
  end
  return cjson.encode { success = true, list = list }
end

-- Our path for an answer that arrived (status, body -> result), as client:call runs
-- it, against cjson.decode alone; alternately, `rounds` times each.
local function decode(rounds)
  local cjson = require "cjson"
  local response = require "navixy.response"
  local body = tracker_list(20000)
  local ours, theirs = {}, {}
  local function time(f)
    collectgarbage()
    collectgarbage()
    local t0 = core.now()
    local v = f()
    local t = core.now() - t0
    assert(#v.list == 20000)
    return t * 1000
  end
  for r = 1, rounds do
    if r % 2 == 1 then
      theirs[r] = time(function() return cjson.decode(body) end)
      ours[r] = time(function() return response.interpret("tracker/list", 200, body) end)
    else
      ours[r] = time(function() return response.interpret("tracker/list", 200, body) end)
      theirs[r] = time(function() return cjson.decode(body) end)
    end
  end
  local out = {}
  for r = 1, rounds do out[#out + 1] = ("%.3f %.3f"):format(ours[r], theirs[r]) end
  return table.concat(out, " ")
end

local function rss_kib()
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)"))
end

local function settled_rss()
  collectgarbage()
  collectgarbage()
  return rss_kib()
end

-- RSS after 10k and after 100k calls one at a time; then after 10k, 100k,
-- 300k and 600k calls in batches of 1000 (the last two to tell an allocator
-- still reaching its high-water mark from a leak).
local function rss(url)
  local client = new_client(url)
  local out = {}
  for i = 1, 100000 do
    check(client:call("tracker/get_state", PARAMS))
    if i == 10000 or i == 100000 then out[#out + 1] = settled_rss() end
  end
  local calls = calls_of(1000)
  for i = 1, 600 do
    for _, r in ipairs(client:batch(calls)) do check(r.result, r.err) end
    if i == 10 or i == 100 or i == 300 or i == 600 then out[#out + 1] = settled_rss() end
  end
  return table.concat(out, " ")
end

local handlers = {
  seq = function() return ("%.1f"):format(seq(arg[2], tonumber(arg[3]))) end,
  batch = function() return ("%.1f"):format(batch(arg[2], tonumber(arg[3]), tonumber(arg[4]))) end,
  luasocket = function() return ("%.1f"):format(luasocket(arg[2], tonumber(arg[3]))) end,
  decode = function() return decode(tonumber(arg[2])) end,
  rss = function() return rss(arg[2]) end,
}

local handler = handlers[what]
if not handler then
  io.stderr:write("usage: measure.lua seq|batch|luasocket|decode|rss ...\n")
  os.exit(2)
end
print(handler())
