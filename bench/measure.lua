--- One measurement of `make bench`, in a process of its own (run by
-- bench/run.lua under lua5.4 or luajit); prints one line of numbers, or
-- fails (an error, a non-zero exit) when any call failed.
--
--   measure.lua seq URL ACTION N        client:call N times: calls/s
--   measure.lua seq_raw URL ACTION N    the same with decode = false: the answers' bytes
--   measure.lua batch URL ACTION N C    N calls by client:batch (1000 a batch) at concurrency C: calls/s
--   measure.lua batch_raw URL ACTION N C  the same with decode = false: the answers' bytes
--   measure.lua core_seq URL ACTION N   the floor under seq_raw: navixy.core's request alone, N times
--                                       (the client's core settings, one request table, no Lua layers)
--   measure.lua core_batch URL ACTION N C  the floor under batch_raw: navixy.core's start and events on
--                                       C slots, N requests
--   measure.lua sched_batch URL ACTION N C  core_batch through the batch scheduler and the curl
--                                       transport, no call pipeline: what the scheduler adds
--   measure.lua many URL ACTION N C     N calls by one client:batch at concurrency C, after a batch
--                                       of C calls that opens the connections: calls/s (issue 22:
--                                       c = 256 against a server answering in 20 ms)
--   measure.lua luacurl URL ACTION N    Debian's lua-curl (an easy handle) + cjson N times: calls/s
--   measure.lua decode FILE ROUNDS      the answer in FILE through our decode path and cjson.decode,
--                                       alternately: ms ms per round
--   measure.lua decode_n FILE WHICH K   decode FILE K times, WHICH = ours|cjson (for callgrind): items
--   measure.lua ids FILE ROUNDS         every id of the history answer in FILE read after a full decode
--                                       and from a lazy answer (decode = "lazy"), alternately: CPU ms
--                                       ms (10 reads) per round
--   measure.lua ids_n FILE WHICH K      the same K times, WHICH = full|lazy (for callgrind)
--   measure.lua stream URL ACTION N C   N calls by client:batch with on_result at concurrency C: RSS KiB
--                                       before the calls array, with it, peak (VmHWM), after
--   measure.lua stream_iter URL ACTION N C  the same calls from an iterator: RSS KiB before, peak, after
--   measure.lua big URL                 one call answered with 10 MB: RSS KiB before, after, idle (trim.h) and GC
--   measure.lua big_cjson URL           the same answer's bytes (decode = false) through cjson.decode:
--                                       RSS KiB before, idle and GC
--   measure.lua big_batch URL K         a batch of K such calls: RSS KiB before, peak, after, after close, idle, GC
--   measure.lua heap FILE K CUSHION     the answer in FILE decoded K times in a row (the heap policy's
--                                       cushion set to CUSHION bytes; 0: trimmed at every cycle, as
--                                       before issue 22): median CPU ms a decode, page faults a decode,
--                                       RSS KiB before, after, after the idle time and a GC
--   measure.lua fds URL N               N clients, one call each: open fds before, after
--   measure.lua h2 URL CA N C COUNTS    N calls by client:batch over TLS at concurrency C; COUNTS is
--                                       the server's /counts: connections, requests, HTTP/2 requests
--
-- URL is a base URL (http://127.0.0.1:PORT/v2); ACTION the answer served
-- (bench/answers.lua). Every answer is checked (success, list length).
local root = arg[0]:match("^(.*)/bench/measure%.lua$") or "."
local flavour = rawget(_G, "jit") and "luajit" or "lua5.4"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local navixy = require "navixy"
local core = require "navixy.core"

local HASH = "a6aa75587e5c59c32d347da438505fc3"
local WARMUP = 50
local BATCH_SIZE = 1000 -- a fleet poll; a batch keeps its answers until it returns

local function new_client(url, extra)
  local o = { url = url, hash = HASH, retries = 0 } -- a failure shows at once
  for k, v in pairs(extra or {}) do o[k] = v end
  return navixy.new(o)
end

local function check(res, err)
  if not res then error(tostring(err), 0) end
  if res.success ~= true then error("not a success", 0) end
  return res
end

-- The params an action's docs require (the client checks them), the body
-- raw.c sends; none for the others.
local PARAMS = {
  ["tracker/get_state"] = { tracker_id = 1 },
  ["history/tracker/list"] = { trackers = { 1 }, from = "2024-01-01 00:00:00", to = "2024-01-02 00:00:00" },
}

local function calls_of(action, n, call_opts)
  local calls, params = {}, PARAMS[action]
  for i = 1, n do calls[i] = { action, params, call_opts } end
  return calls
end

---------------------------------------------------------------- rates

local function seq(url, action, n)
  local client = new_client(url)
  for _ = 1, WARMUP do check(client:call(action, PARAMS[action])) end
  local t0 = core.now()
  for _ = 1, n do check(client:call(action, PARAMS[action])) end
  return n / (core.now() - t0)
end

-- An answer's bytes (decode = false), checked without decoding them: the
-- first one for "success":true (cjson wrote the answers, bench/answers.lua,
-- in Lua's hash order: it may come anywhere, a search through the whole
-- answer), each later one for the same length (a look that costs the same
-- wherever that key came: the calls' own cost is what is measured; the
-- client gives bytes for 2xx answers only).
local raw_length
local function check_raw(body, err)
  if type(body) ~= "string" then error(tostring(err or "not a success"), 0) end
  if raw_length == nil then
    if not body:find('"success":true', 1, true) then error("not a success", 0) end
    raw_length = #body
  elseif #body ~= raw_length then
    error(("an answer of %d bytes, not %d"):format(#body, raw_length), 0)
  end
  return body
end

-- issue 22: sequential calls with decode = false, what a call costs besides decoding
local function seq_raw(url, action, n)
  local client = new_client(url)
  local call_opts = { decode = false }
  for _ = 1, WARMUP do check_raw(client:call(action, PARAMS[action], call_opts)) end
  local t0 = core.now()
  for _ = 1, n do check_raw(client:call(action, PARAMS[action], call_opts)) end
  return n / (core.now() - t0)
end

-- raw: the answers' bytes (decode = false), checked without decoding them
local function batch(url, action, n, c, raw)
  local client = new_client(url)
  local opts = { concurrency = c }
  local call_opts = raw and { decode = false } or nil
  client:batch(calls_of(action, WARMUP * c, call_opts), opts) -- opens the connections
  local calls = calls_of(action, math.min(n, BATCH_SIZE), call_opts)
  local rounds = math.ceil(n / #calls)
  local t0 = core.now()
  for _ = 1, rounds do
    for _, r in ipairs(client:batch(calls, opts)) do
      if raw then
        check_raw(r.result, r.err)
      else
        check(r.result, r.err)
      end
    end
  end
  return rounds * #calls / (core.now() - t0)
end

-- issue 22: the least code that does what seq_raw and batch_raw do with
-- our C core (the answer's bytes, checked the same way): what is left of a
-- call with every Lua layer above navixy.core taken away.
local function core_floor(url, action)
  local options = require "navixy.options"
  local o = options.client({ url = url, hash = HASH, retries = 0 }, navixy.VERSION)
  local body = PARAMS[action] and navixy.encode(PARAMS[action]) or "{}"
  return core.new(o.core), { action = action, body = body }
end

local function core_seq(url, action, n)
  local handle, req = core_floor(url, action)
  local function one()
    local r = handle:request(req)
    check_raw(r.status == 200 and r.body, r.message)
  end
  for _ = 1, WARMUP do one() end
  local t0 = core.now()
  for _ = 1, n do one() end
  return n / (core.now() - t0)
end

local function core_batch(url, action, n, c)
  local handle, req = core_floor(url, action)
  local total, started, done, t0 = n + WARMUP * c, 0, 0, nil
  for slot = 1, c do
    handle:start(slot, req)
    started = started + 1
  end
  local events = {} -- every answer there is, in one call: slot, event pairs (as the scheduler takes them)
  while done < total do
    for k = 1, 2 * handle:events(60, events), 2 do
      local slot, r = events[k], events[k + 1]
      check_raw(r.status == 200 and r.body, r.message)
      done = done + 1
      if done == WARMUP * c then t0 = core.now() end
      if started < total then
        handle:start(slot, req)
        started = started + 1
      end
    end
  end
  return n / (core.now() - t0)
end

-- issue 22: what the batch scheduler costs over core_batch: its run and
-- workers (navixy.batch.scheduler) over the curl transport, as client:batch
-- drives them (a step resumes every worker with an answer), each worker
-- sending one fixed request and keeping the answer as client:batch keeps a
-- result, with no call pipeline (navixy.call) above it: the answer's
-- bytes, checked as core_batch checks them.
local function sched_batch(url, action, n, c)
  local scheduler = require "navixy.batch.scheduler"
  local handle, req = core_floor(url, action)
  local transport = require("navixy.transport.curl").new(handle)
  local function run(count)
    local taken, results = 0, {}
    scheduler.run(transport, c, function(worker)
      while taken < count do
        taken = taken + 1
        local i, r = taken, worker:send({ action = req.action, body = req.body })
        results[i] = { result = check_raw(r.status == 200 and r.body, r.message) }
      end
    end)
    return results
  end
  run(WARMUP * c)
  local t0 = core.now()
  run(n)
  return n / (core.now() - t0)
end

-- issue 22: many calls in flight against a server that takes its time:
-- one batch of all N, every answer decoded and checked.
local function many(url, action, n, c)
  local client = new_client(url)
  local opts = { concurrency = c }
  for _, r in ipairs(client:batch(calls_of(action, c), opts)) do check(r.result, r.err) end
  local calls = calls_of(action, n)
  local t0 = core.now()
  local results = client:batch(calls, opts)
  local rate = n / (core.now() - t0)
  for _, r in ipairs(results) do check(r.result, r.err) end
  return rate
end

-- The peer a Lua user has from Debian: lua-curl 0.3.0 (luacurl, an easy
-- handle only; Lua 5.1/LuaJIT) and lua-cjson, the request of raw.c.
local function luacurl(url, action, n)
  local curl = require "curl"
  local cjson = require "cjson"
  local e = curl.easy_init()
  local chunks, status = {}, nil
  e:setopt(curl.OPT_URL, url .. "/" .. action)
  e:setopt(curl.OPT_NOSIGNAL, 1)
  e:setopt(curl.OPT_POST, 1)
  e:setopt(curl.OPT_POSTFIELDS, "{}")
  e:setopt(curl.OPT_HTTPHEADER, { "Expect:", "Content-Type: application/json", "Accept: application/json",
    "Authorization: NVX " .. HASH })
  e:setopt(curl.OPT_WRITEFUNCTION, function(data, size)
    chunks[#chunks + 1] = data
    return size
  end)
  e:setopt(curl.OPT_HEADERFUNCTION, function(line, size)
    status = tonumber(line:match("^HTTP/[%d%.]+ (%d+)")) or status
    return size
  end)
  local function call()
    chunks, status = {}, nil
    local rc = e:perform()
    if rc ~= 0 or status ~= 200 then error(("lua-curl: %s, HTTP %s"):format(tostring(rc), tostring(status)), 0) end
    return cjson.decode(table.concat(chunks))
  end
  for _ = 1, WARMUP do check(call()) end
  local t0 = core.now()
  for _ = 1, n do check(call()) end
  return n / (core.now() - t0)
end

---------------------------------------------------------------- decoding

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

-- Our path for an answer that arrived, as client:call runs it, and cjson.decode.
local function decoders(body)
  local cjson = require "cjson"
  local response = require "navixy.response"
  local result = { status = 200, body = body, content_type = "application/json" }
  local n = #cjson.decode(body).list
  local function checked(v)
    if not (v and v.success == true and #v.list == n) then error("decoded wrong", 0) end
    return v
  end
  return {
    ours = function() return checked(response.interpret("history/tracker/list", result)) end,
    cjson = function() return checked(cjson.decode(body)) end,
  }
end

-- "a b a b ...": ms a run of first and of second per round (the mean of
-- `reps` runs on `clock`, after a full collection), the order alternating
-- from round to round.
local function alternately(first, second, rounds, reps, clock)
  local function time(f)
    collectgarbage()
    collectgarbage()
    local t0 = clock()
    for _ = 1, reps do f() end
    return (clock() - t0) * 1000 / reps
  end
  local out = {}
  for r = 1, rounds do
    local a, b
    if r % 2 == 1 then
      b = time(second)
      a = time(first)
    else
      a = time(first)
      b = time(second)
    end
    out[#out + 1] = ("%.3f %.3f"):format(a, b)
  end
  return table.concat(out, " ")
end

local function decode(path, rounds)
  local d = decoders(read_file(path))
  return alternately(d.ours, d.cjson, rounds, 1, core.now)
end

-- Every id of the history answer in FILE read, after a full decode and from
-- a lazy answer (decode = "lazy"), both through the path client:call runs.
local function id_readers(body)
  local response = require "navixy.response"
  local result = { status = 200, body = body, content_type = "application/json" }
  local function read_ids(v)
    local list, sum = v.list, 0
    for i = 1, #list do sum = sum + list[i].id end
    return sum
  end
  local want = read_ids(response.interpret("history/tracker/list", result))
  local function checked(sum)
    if sum ~= want then error("read wrong", 0) end
  end
  return {
    full = function() checked(read_ids(response.interpret("history/tracker/list", result))) end,
    lazy = function() checked(read_ids(response.interpret("history/tracker/list", result, nil, nil, true))) end,
  }
end

-- ms of the full decode and of the lazy answer, alternately, per round.
local function ids(path, rounds)
  local r = id_readers(read_file(path))
  return alternately(r.full, r.lazy, rounds, 10, os.clock) -- CPU time: what a busy machine disturbs least
end

local function ids_n(path, which, k)
  local f = id_readers(read_file(path))[which] or error("full or lazy, not " .. tostring(which))
  for _ = 1, k do f() end
  return tostring(k)
end

local function decode_n(path, which, k)
  local f = decoders(read_file(path))[which] or error("ours or cjson, not " .. tostring(which))
  local n = 0
  for _ = 1, k do n = #f().list end
  return tostring(n)
end

---------------------------------------------------------------- memory

local function status_kib(field)
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end

local function settled_rss()
  collectgarbage()
  collectgarbage()
  return status_kib("VmRSS")
end

-- RSS once the heap policy counts the process idle (csrc/trim.h): its idle
-- time waited, then collected.
local function idle_rss()
  local _, idle = core.heap_policy()
  core.sleep(idle + 0.2)
  return settled_rss()
end

-- The streaming form: every result handed to on_result and dropped.
local function stream(url, action, n, c)
  local client = new_client(url)
  check(client:call(action, PARAMS[action]))
  local before = settled_rss()
  local calls = {}
  for i = 1, n do calls[i] = { action, PARAMS[action] } end
  local with_calls = settled_rss()
  local got = 0
  client:batch(calls, { concurrency = c, on_result = function(_, res, err)
    check(res, err)
    got = got + 1
  end })
  if got ~= n then error(("%d results of %d"):format(got, n), 0) end
  local peak = status_kib("VmHWM")
  calls = nil -- luacheck: ignore 311
  return ("%d %d %d %d"):format(before, with_calls, peak, settled_rss())
end

-- The same calls from an iterator (issue 22): no calls array at all, each
-- call made and encoded as a worker takes it. RSS KiB before, peak, after.
local function stream_iter(url, action, n, c)
  local client = new_client(url)
  check(client:call(action, PARAMS[action]))
  local before = settled_rss()
  local made, got = 0, 0
  local function next_call()
    if made == n then return nil end
    made = made + 1
    return { action, PARAMS[action] }
  end
  client:batch(next_call, { concurrency = c, on_result = function(_, res, err)
    check(res, err)
    got = got + 1
  end })
  if got ~= n then error(("%d results of %d"):format(got, n), 0) end
  return ("%d %d %d"):format(before, status_kib("VmHWM"), settled_rss())
end

local BIG = "history/tracker/list" -- under /big/v2: about 10 MB

local function big(url)
  local client = new_client(url)
  local before = settled_rss()
  local res = check(client:call(BIG, PARAMS[BIG]))
  local after = settled_rss()
  if #res.list == 0 then error("an empty answer", 0) end
  res = nil -- luacheck: ignore 311
  return ("%d %d %d"):format(before, after, idle_rss())
end

-- The peer of `big` on LuaJIT: the same answer's bytes (decode = false) decoded by
-- cjson.decode: RSS KiB before, after the idle time and GC.
local function big_cjson(url)
  local cjson = require "cjson"
  local client = new_client(url)
  local before = settled_rss()
  local body = check_raw(client:call(BIG, PARAMS[BIG], { decode = false }))
  local res = cjson.decode(body)
  if #res.list == 0 then error("an empty answer", 0) end
  body, res = nil, nil -- luacheck: ignore 311
  return ("%d %d"):format(before, idle_rss())
end

local function big_batch(url, k)
  local client = new_client(url)
  local before = settled_rss()
  local results = client:batch(calls_of(BIG, k), { concurrency = k })
  for _, r in ipairs(results) do check(r.result, r.err) end
  local peak, held = status_kib("VmHWM"), settled_rss()
  results = nil -- luacheck: ignore 311
  client:close()
  client = nil -- luacheck: ignore 311
  return ("%d %d %d %d"):format(before, peak, held, idle_rss())
end

-- Minor page faults of this process so far (/proc/self/stat, field 10).
local function minor_faults()
  local f = assert(io.open("/proc/self/stat"))
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("^%d+ %b() %S+" .. (" %S+"):rep(6) .. " (%d+)"))
end

local function heap(path, k, cushion)
  core.heap_policy(cushion)
  local ours = decoders(read_file(path)).ours
  local before = settled_rss()
  local times, faults = {}, minor_faults()
  for i = 1, k do
    -- the previous answer collected first, as the decode rows do: the time is the decode's
    -- own, page faults included, not the collector's; CPU time, what a busy machine
    -- disturbs least
    collectgarbage()
    collectgarbage()
    local t0 = os.clock()
    ours()
    times[i] = (os.clock() - t0) * 1000
  end
  faults = (minor_faults() - faults) / k
  table.sort(times)
  local median = times[math.floor(k / 2) + 1]
  return ("%.3f %.0f %d %d %d"):format(median, faults, before, status_kib("VmRSS"), idle_rss())
end

-- The descriptors this process holds (the pipe of ls counted each time).
local function open_fds()
  local f = assert(io.open("/proc/self/stat")) -- opened by this process: its own pid
  local pid = f:read("*l"):match("^(%d+)")
  f:close()
  local p = assert(io.popen("ls /proc/" .. pid .. "/fd"))
  local n = 0
  for _ in p:lines() do n = n + 1 end
  p:close()
  return n
end

local function fds(url, n)
  local clients = {}
  check(new_client(url):call("tracker/get_state", PARAMS["tracker/get_state"])) -- the module's own descriptors opened
  collectgarbage()
  collectgarbage()
  local before = open_fds()
  for i = 1, n do
    clients[i] = new_client(url)
    check(clients[i]:call("tracker/get_state", PARAMS["tracker/get_state"]))
  end
  return ("%d %d"):format(before, open_fds())
end

---------------------------------------------------------------- HTTP/2

local function fetch_counts(counts_url)
  local http = require "socket.http"
  local body, code = http.request(counts_url)
  if code ~= 200 then error("counts: " .. tostring(code), 0) end
  return body
end

local function h2(url, ca, n, c, counts_url)
  local client = new_client(url, { ca_file = ca })
  fetch_counts(counts_url .. "?reset=1")
  for _, r in ipairs(client:batch(calls_of("tracker/list", n), { concurrency = c })) do check(r.result, r.err) end
  local counts = fetch_counts(counts_url)
  local function count(key) return tonumber(counts:match('"' .. key .. '":(%d+)')) or 0 end
  return ("%d %d %d"):format(count("tls_connections"), count("tls_requests"), count("tls_http2_requests"))
end

local handlers = {
  seq = function(a) return ("%.1f"):format(seq(a[2], a[3], tonumber(a[4]))) end,
  seq_raw = function(a) return ("%.1f"):format(seq_raw(a[2], a[3], tonumber(a[4]))) end,
  batch = function(a) return ("%.1f"):format(batch(a[2], a[3], tonumber(a[4]), tonumber(a[5]))) end,
  batch_raw = function(a) return ("%.1f"):format(batch(a[2], a[3], tonumber(a[4]), tonumber(a[5]), true)) end,
  core_seq = function(a) return ("%.1f"):format(core_seq(a[2], a[3], tonumber(a[4]))) end,
  core_batch = function(a) return ("%.1f"):format(core_batch(a[2], a[3], tonumber(a[4]), tonumber(a[5]))) end,
  sched_batch = function(a) return ("%.1f"):format(sched_batch(a[2], a[3], tonumber(a[4]), tonumber(a[5]))) end,
  many = function(a) return ("%.1f"):format(many(a[2], a[3], tonumber(a[4]), tonumber(a[5]))) end,
  luacurl = function(a) return ("%.1f"):format(luacurl(a[2], a[3], tonumber(a[4]))) end,
  decode = function(a) return decode(a[2], tonumber(a[3])) end,
  decode_n = function(a) return decode_n(a[2], a[3], tonumber(a[4])) end,
  ids = function(a) return ids(a[2], tonumber(a[3])) end,
  ids_n = function(a) return ids_n(a[2], a[3], tonumber(a[4])) end,
  stream = function(a) return stream(a[2], a[3], tonumber(a[4]), tonumber(a[5])) end,
  stream_iter = function(a) return stream_iter(a[2], a[3], tonumber(a[4]), tonumber(a[5])) end,
  big = function(a) return big(a[2]) end,
  big_cjson = function(a) return big_cjson(a[2]) end,
  big_batch = function(a) return big_batch(a[2], tonumber(a[3])) end,
  heap = function(a) return heap(a[2], tonumber(a[3]), tonumber(a[4])) end,
  fds = function(a) return fds(a[2], tonumber(a[3])) end,
  h2 = function(a) return h2(a[2], a[3], tonumber(a[4]), tonumber(a[5]), a[6]) end,
}

local handler = handlers[arg[1]]
if not handler then
  io.stderr:write("usage: measure.lua seq|seq_raw|batch|batch_raw|core_seq|core_batch|sched_batch|many|luacurl|decode|"
    .. "decode_n|ids|ids_n|stream|stream_iter|big|big_cjson|big_batch|heap|fds|h2 ...\n")
  os.exit(2)
end
print(handler(arg))
