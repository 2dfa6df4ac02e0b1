-- client:batch: many calls side by side on the curl multi handle, each with
-- the rules of client:call, results in input order.
local navixy = require "navixy"
local core = require "navixy.core"
local fake = require "fake"
local sockets = require "sockets"
local setup = require "setup"

local count = setup.count


local function states_calls(first, n)
  local calls = {}
  for i = 1, n do calls[i] = { "tracker/get_state", { tracker_id = first + i - 1 } } end
  return calls
end

describe("client:batch", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("returns one { result = res } per call, in input order", function()
    -- the first call answers last: order comes from the input, not from completion
    fake.fault { action = "user/get_info", type = "delay", seconds = 0.3 }
    local calls = { { "user/get_info" } }
    for i = 1, 6 do calls[#calls + 1] = { "tracker/get_state", { tracker_id = 1000 + i } } end
    calls[#calls + 1] = { "tracker/list", { labels = { "Van" } } }
    local results = client:batch(calls)
    assert.equal(#calls, #results)
    assert.equal("demo@example.com", results[1].result.user_info.login)
    for i = 1, 6 do
      assert.is_nil(results[i + 1].err)
      assert.equal(11000 + i, results[i + 1].result.state.source_id)
    end
    assert.same({ "Van 2" }, { results[8].result.list[1].label })
    assert.equal(8, fake.stats().requests)
  end)

  it("fills only the failing item's slot, with the same errors as client:call", function()
    fake.fault { action = "probe/http", type = "status", status = 502, body = "<html>bad gateway</html>" }
    fake.fault { action = "probe/decode", type = "raw", status = 200, body = "not json" }
    fake.fault { action = "probe/drop", type = "drop" }
    fake.fault { action = "probe/slow", type = "delay", seconds = 2 }
    local once = { retries = 0 }
    local started = core.now()
    local results = client:batch {
      { "tracker/get_state", { tracker_id = 1 } },
      { "tracker/get_state", { tracker_id = 999 }, once }, -- no such tracker: api error 201
      { "probe/http", nil, once },
      { "probe/decode", nil, once },
      { "probe/drop", nil, once },
      { "probe/slow", nil, { timeout = 0.3, retries = 0 } },
      { "tracker/list" },
    }
    assert.is_true(core.now() - started < sockets.bound(0.3), "the timeout did not hold up the batch")
    assert.equal(7, #results)
    assert.equal(10001, results[1].result.state.source_id)
    local kinds = {}
    for i = 2, 6 do
      assert.is_nil(results[i].result)
      assert.is_true(navixy.is_error(results[i].err))
      kinds[i] = results[i].err.kind
    end
    assert.same({ [2] = "api", [3] = "http", [4] = "decode", [5] = "transport", [6] = "timeout" }, kinds)
    assert.equal(201, results[2].err.code)
    assert.equal(502, results[3].err.status)
    assert.equal("probe/decode", results[4].err.action)
    assert.equal(3, #results[7].result.list)
  end)

  it("keeps at most `concurrency` requests in flight, as the server counts them", function()
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.3, times = 20 }
    local started = core.now()
    local results = client:batch(states_calls(1000, 20), { concurrency = 4 })
    local elapsed = core.now() - started
    for i, r in ipairs(results) do assert.equal(10000 + 999 + i, r.result.state.source_id) end
    assert.equal(4, fake.stats().max_in_flight)
    -- 5 rounds of 0.3 s side by side, where one after another would take 6 s
    assert.is_true(elapsed >= 1.4, "took only " .. elapsed .. " s")
    assert.is_true(sockets.below(elapsed, 6), "took " .. elapsed .. " s")
  end)

  it("runs 8 at a time by default, and never more than there are calls", function()
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.2, times = 16 }
    assert.equal(16, #client:batch(states_calls(1000, 16)))
    assert.equal(8, fake.stats().max_in_flight)
    fake.reset()
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.2, times = 3 }
    assert.equal(3, #client:batch(states_calls(1000, 3), { concurrency = 50 }))
    assert.equal(3, fake.stats().max_in_flight)
  end)

  it("reuses its connections from one batch to the next", function()
    for _ = 1, 6 do
      for _, r in ipairs(client:batch(states_calls(1000, 12), { concurrency = 4 })) do assert(r.result) end
    end
    -- counted by the server (nginx's serial number of the connection that carried each
    -- request): 72 requests, never more connections than the concurrency
    local reqs, connections, n = fake.requests(), {}, 0
    assert.equal(72, #reqs)
    for _, req in ipairs(reqs) do
      if not connections[req.connection] then connections[req.connection], n = true, n + 1 end
    end
    assert.is_true(n <= 4, n .. " connections")
    -- and the client's own connection still serves client:call
    assert.truthy(client:call("tracker/list"))
  end)

  it("sends each item with the client's auth placement and encoding", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, auth = "query", encoding = "form" }
    local results = c:batch { { "tracker/list", { labels = { "Truck" } } }, { "user/get_info" } }
    assert.equal(1, #results[1].result.list)
    assert.truthy(results[2].result)
    for _, req in ipairs(fake.requests()) do
      assert.equal("query", req.hash_from)
      assert.equal("application/x-www-form-urlencoded", req.content_type)
    end
    c:close()
  end)

  it("returns an empty array for no calls, sending nothing", function()
    assert.same({}, client:batch {})
    assert.equal(0, fake.stats().requests)
  end)
end)

describe("client:batch misuse", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("raises on a malformed item before anything is sent", function()
    local function good() return { "tracker/list" } end
    assert.has_error(function() client:batch { good(), { 42 } } end,
      "navixy: batch item 2: action must be a string, got number")
    assert.has_error(function() client:batch { good(), good(), { "tracker/list", "labels=x" } } end,
      "navixy: batch item 3: params must be a table, got string")
    assert.has_error(function() client:batch { "tracker/list" } end,
      "navixy: batch item 1 must be a table {action, params, call_opts}, got string")
    assert.has_error(function() client:batch { good(), { "tracker/list", {}, { timout = 1 } } } end)
    assert.has_error(function() client:batch { good(), { "tracker/list", { f = print } } } end)
    assert.has_error(function() client:batch { good(), { "bad action" } } end)
    assert.equal(0, fake.stats().requests)
  end)

  it("checks every item with the rules the C core sends by, so nothing raises after writes went out", function()
    local calls = {}
    for i = 1, 6 do calls[i] = { "api/key/create", { title = "k" .. i } } end
    for _, bad in ipairs { { timeout = 1e10 }, { timeout = 1e300 }, { timeout = math.huge }, { retries = 1e9 } } do
      calls[7] = { "api/key/create", { title = "k7" }, bad }
      assert.has_error(function() client:batch(calls, { concurrency = 2 }) end)
    end
    calls[7] = { "tracker/list", { 1, 2 } } -- an array is no params object
    assert.has_error(function() client:batch(calls) end)
    assert.equal(0, fake.stats().requests)
  end)

  it("checks its options", function()
    local calls = { { "tracker/list" } }
    assert.has_error(function() client:batch(calls, { concurency = 2 }) end,
      "navixy: unknown batch option 'concurency'")
    for _, bad in ipairs { 0, -1, 1.5, "8", 257, 0 / 0 } do
      assert.has_error(function() client:batch(calls, { concurrency = bad }) end)
    end
    assert.has_error(function() client:batch(calls, 8) end)
    assert.has_error(function() client:batch("tracker/list") end)
    assert.equal(0, fake.stats().requests)
  end)

  it("raises on a closed client", function()
    client:close()
    assert.has_error(function() client:batch { { "tracker/list" } } end, "navixy: client is closed")
  end)

  it("passes on an error raised mid-batch and leaves the client usable", function()
    local seen = 0
    local c = navixy.new { url = fake.url, hash = fake.api_key, on_request = function()
      seen = seen + 1
      if seen == 3 then error("hook failed") end
    end }
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.2, times = 4 }
    assert.has_error(function() c:batch(states_calls(1000, 12), { concurrency = 4 }) end, "hook failed")
    seen = 100
    -- other trackers than the aborted batch's: an answer left in flight from
    -- it would show up here with the wrong id
    local results = c:batch(states_calls(2000, 6), { concurrency = 3 })
    for i, r in ipairs(results) do assert.equal(11999 + i, r.result.state.source_id) end
    assert.truthy(c:call("tracker/list"))
    c:close()
  end)

  it("releases a login cut short by an error while the other items wait for it", function()
    local fail_login = true
    local c = navixy.new { url = fake.url, login = fake.users.demo.login, password = fake.users.demo.password,
      on_request = function(r)
        if fail_login and r.action == "user/auth" then error("hook failed during the login") end
      end }
    assert.has_error(function() c:batch(states_calls(1000, 8), { concurrency = 4 }) end,
      "hook failed during the login")
    assert.is_nil(c:get_hash())
    fail_login = false
    local results = c:batch(states_calls(1000, 8), { concurrency = 4 })
    for i, r in ipairs(results) do assert.equal(10999 + i, r.result.state.source_id) end
    assert.equal(2, fake.stats().logins)
    c:close()
  end)

  it("refuses a batch started inside another on the same client", function()
    local c
    c = navixy.new { url = fake.url, hash = fake.api_key, on_request = function()
      c:batch { { "tracker/list" } }
    end }
    assert.has_error(function() c:batch(states_calls(1000, 2)) end,
      "navixy: client:batch is already running on this client")
    c:close()
  end)
end)

describe("client:batch sessions", function()
  before_each(fake.reset)

  local function login_client()
    return navixy.new { url = fake.url, login = fake.users.demo.login, password = fake.users.demo.password }
  end

  it("logs in once for the whole batch, lazily", function()
    local c = login_client()
    local results = c:batch(states_calls(1000, 12), { concurrency = 6 })
    for _, r in ipairs(results) do assert.truthy(r.result) end
    assert.equal(1, fake.stats().logins)
    c:close()
  end)

  it("logs in again once when the session ends mid-way, and repeats every item", function()
    local c = login_client()
    assert.truthy(c:call("tracker/list"))
    fake.expire_sessions()
    local results = c:batch(states_calls(1000, 16), { concurrency = 8 })
    for i, r in ipairs(results) do assert.equal(10999 + i, r.result.state.source_id) end
    assert.equal(2, fake.stats().logins)
    c:close()
  end)
end)

describe("client:batch retries and rate limit", function()
  before_each(fake.reset)

  it("retries a flaky item while the others go on", function()
    local log = {}
    local c = navixy.new { url = fake.url, hash = fake.api_key, on_request = function(r)
      log[#log + 1] = r.action .. "#" .. r.attempt .. ":" .. tostring(r.status)
    end }
    fake.fault { action = "user/get_info", type = "status", status = 503, times = 1,
      headers = { ["Retry-After"] = "1" } }
    local calls = { { "user/get_info" } }
    for i = 1, 6 do calls[#calls + 1] = { "tracker/get_state", { tracker_id = 1000 + i } } end
    local results = c:batch(calls, { concurrency = 2 })
    assert.equal("demo@example.com", results[1].result.user_info.login)
    for i = 2, 7 do assert.truthy(results[i].result) end
    assert.equal(2, fake.stats().by_action["user/get_info"])
    -- the other worker did all six while the flaky item waited out its Retry-After
    -- (which of the two first answers came first is the server's to say)
    local flaky = {}
    for _, entry in ipairs(log) do
      if entry:find("^user/get_info") then flaky[#flaky + 1] = entry end
    end
    assert.same({ "user/get_info#1:503", "user/get_info#2:200" }, flaky)
    assert.equal(8, #log)
    assert.equal("user/get_info#2:200", log[#log])
    c:close()
  end)

  it("counts every item against the client's rate limit", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 10 }
    local started = core.now()
    local results = c:batch(states_calls(1000, 15), { concurrency = 8 })
    local elapsed = core.now() - started
    for _, r in ipairs(results) do assert.truthy(r.result) end
    -- 10 in the first window, the other 5 one window later
    assert.is_true(elapsed >= 1, "15 requests at 10/s took only " .. elapsed .. " s")
    assert.equal(15, count(fake.requests()))
    c:close()
  end)
end)

describe("results as they come", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("client:each hands each result over as it completes, with its index", function()
    fake.fault { action = "user/get_info", type = "delay", seconds = 0.4 }
    local calls = { { "user/get_info" } }
    for i = 1, 5 do calls[#calls + 1] = { "tracker/get_state", { tracker_id = 1000 + i } } end
    calls[#calls + 1] = { "tracker/get_state", { tracker_id = 99 } }
    local order, seen = {}, {}
    for i, res, err in client:each(calls, { concurrency = 7 }) do
      order[#order + 1] = i
      seen[i] = res or err
    end
    assert.equal(#calls, #order)
    assert.equal(1, order[#order]) -- the slow one last, though first in the input
    assert.equal("demo@example.com", seen[1].user_info.login)
    assert.equal(11003, seen[4].state.source_id)
    assert.equal(201, seen[7].code) -- an error fills its own place
  end)

  it("batch with on_result keeps no result: memory grows with concurrency, not with calls", function()
    local alive = setmetatable({}, { __mode = "k" })
    local most, handed = 0, 0
    local returned = client:batch(states_calls(1000, 300), { concurrency = 4, on_result = function(i, res, err)
      assert.is_nil(err)
      assert.equal(10999 + i, res.state.source_id)
      handed = handed + 1
      alive[res] = true
      collectgarbage()
      collectgarbage()
      local n = 0
      for _ in pairs(alive) do n = n + 1 end
      most = math.max(most, n)
    end })
    assert.is_nil(returned)
    assert.equal(300, handed)
    assert.is_true(most <= 4 + 1, "results held at once: " .. most)
  end)

  it("reads the calls once, up front: the array may change while the batch runs", function()
    local calls = states_calls(1000, 20)
    local got = {}
    client:batch(calls, { concurrency = 2, on_result = function(i, res, err)
      assert.is_nil(err)
      got[i] = res.state.source_id
      for j = 1, #calls do calls[j] = nil end -- e.g. freeing what was handed over
    end })
    for i = 1, 20 do assert.equal(10999 + i, got[i]) end
  end)

  it("an error raised by on_result ends the batch, nothing left in flight", function()
    assert.has_error(function()
      client:batch(states_calls(1000, 50), { concurrency = 4, on_result = function(i)
        if i == 3 then error("stop here", 0) end
      end })
    end, "stop here")
    local results = client:batch(states_calls(2000, 4))
    for i, r in ipairs(results) do assert.equal(11999 + i, r.result.state.source_id) end
  end)

  it("on_result must be a function", function()
    assert.has_error(function() client:batch({ { "tracker/list" } }, { on_result = 42 }) end,
      "navixy: batch option 'on_result' must be a function, got number")
  end)

  it("a loop left early drops the rest; the client goes on", function()
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.2, times = 100 }
    local it = client:each(states_calls(1000, 40), { concurrency = 4 })
    for _ in it do break end -- luacheck: ignore (left at once, on purpose)
    -- Lua 5.4 closed it by itself (a to-be-closed value); iterator:close() does it anywhere
    it:close()
    local results = client:batch(states_calls(2000, 3))
    for i, r in ipairs(results) do assert.equal(11999 + i, r.result.state.source_id) end
  end)

  it("a loop left without closing it is given up by the next batch on the client", function()
    local it = client:each(states_calls(1000, 40), { concurrency = 4 })
    assert.truthy(it()) -- one result, then the loop is left as it is
    local results = client:batch(states_calls(2000, 3))
    for i, r in ipairs(results) do assert.equal(11999 + i, r.result.state.source_id) end
    assert.has_error(function() it() end,
      "navixy: this batch was given up: another batch started on the client while it waited")
  end)
end)

describe("a batch over TLS with HTTP/2", function()
  it("goes on one connection, multiplexed", function()
    local c = setup.client { url = fake.tls_url:gsub("127%.0%.0%.1", "localhost"), ca_file = fake.ca_file }
    -- one call first, so that libcurl knows the connection speaks HTTP/2 before the batch
    -- starts: requests that start while that is not known yet wait for it (PIPEWAIT), but on a
    -- loaded machine one of sixteen was seen to open a second connection meanwhile
    assert(c:call("tracker/get_state", { tracker_id = 1000 }))
    fake.reset()
    fake.fault { action = "tracker/get_state", type = "delay", seconds = 0.2, times = 64 }
    local results = c:batch(states_calls(1000, 64), { concurrency = 16 })
    for i, r in ipairs(results) do assert.equal(10999 + i, r.result.state.source_id) end
    local connections = {}
    for _, req in ipairs(fake.requests()) do connections[req.connection] = true end
    assert.equal(1, setup.count(connections))
    assert.equal(16, fake.stats().max_in_flight)
    c:close()
  end)
end)

describe("a batch over HTTP/2 that the server cuts short (spec/support/hostile-h2)", function()
  local background = require "background"
  local cjson = require "cjson"
  local PORT = tonumber(os.getenv("NAVIXY_HOSTILE_H2_PORT")) or fake.port + 23

  -- Runs `calls` as one batch against hostile-h2 in `mode`, the first `after`
  -- requests of each connection answered: the results, the attempts the client
  -- counted per action (on_request) and what the server received per action
  -- ({ received, processed }).
  local function run(mode, after, calls)
    local log = os.tmpname()
    local results, attempts, server = nil, {}, {}
    background.with(PORT, { "spec/support/hostile-h2", PORT, fake.rundir .. "/server.pem",
                            fake.rundir .. "/server.key", log }, function()
      local c = setup.client { url = ("https://localhost:%d/%s/after=%d/v2"):format(PORT, mode, after),
        ca_file = fake.ca_file, retries = 3,
        on_request = function(info) attempts[info.action] = (attempts[info.action] or 0) + 1 end }
      results = c:batch(calls, { concurrency = #calls })
      c:close()
    end)
    for line in io.lines(log) do
      local r = cjson.decode(line)
      local action = r.path:match("/v2/(.*)$")
      local s = server[action] or { received = 0, processed = 0 }
      s.received = s.received + 1
      if r.processed then s.processed = s.processed + 1 end
      server[action] = s
    end
    os.remove(log)
    return results, attempts, server
  end

  -- n reads (safe to repeat: multiplexed on one connection) and n writes (each on
  -- a connection of its own, closed after its answer), each action its own
  local function mixed(n)
    local calls = {}
    for i = 1, n do
      calls[#calls + 1] = { "probe" .. i .. "/get" }
      calls[#calls + 1] = { "probe" .. i .. "/update" }
    end
    return calls
  end

  for _, mode in ipairs { "goaway", "goaway_late", "rst_refused", "rst_internal" } do
    it(mode .. ": every request sent is an attempt the client counts, and no write goes twice", function()
      -- mid-batch: the 4th request of the reads' connection on
      local results, attempts, server = run(mode, 3, mixed(6))
      assert.equal(12, #results)
      for i, r in ipairs(results) do assert.is_nil(r.err, i .. ": " .. tostring(r.err)) end
      local retried = 0
      for action, s in pairs(server) do
        assert.is_true(s.received <= attempts[action], action .. ": sent behind the client's back")
        if action:find("/update$") then assert.equal(1, s.received, action) end
        if attempts[action] > 1 then retried = retried + 1 end
      end
      assert.is_true(retried >= 1, "no read was cut short")
      -- every write cut short at once: an error of one attempt, never sent again
      results, attempts, server = run(mode, 0, { { "probe1/update" }, { "probe2/update" } })
      for i, r in ipairs(results) do
        assert.same({ "transport", 1 }, { r.err and r.err.kind, r.err and r.err.attempts }, "write " .. i)
        local action = "probe" .. i .. "/update"
        assert.same({ 1, 1 }, { attempts[action], server[action] and server[action].received or 0 }, action)
      end
    end)
  end
end)

describe("calls from an iterator", function()
  local client
  setup.client_per_test(function(c) client = c end)

  -- An iterator over the calls of states_calls(first, n), and how many it gave.
  local function iterator(first, n)
    local given = 0
    local function next_call()
      if given == n then return nil end
      given = given + 1
      return { "tracker/get_state", { tracker_id = first + given - 1 } }
    end
    return next_call, function() return given end
  end

  it("client:batch takes the items as they are needed, results in the order given", function()
    local results = client:batch(iterator(1000, 25), { concurrency = 4 })
    assert.equal(25, #results)
    for i = 1, 25 do assert.equal(10999 + i, results[i].result.state.source_id) end
    assert.equal(25, fake.stats().requests)
  end)

  it("client:each and on_result take them too, never far ahead of the results", function()
    local next_call, given = iterator(1000, 30)
    local seen, most_ahead = {}, 0
    for i, res, err in client:each(next_call, { concurrency = 3 }) do
      assert.is_nil(err)
      seen[i] = res.state.source_id
      most_ahead = math.max(most_ahead, given() - count(seen))
    end
    for i = 1, 30 do assert.equal(10999 + i, seen[i]) end
    assert.is_true(most_ahead <= 3 + 1, "items taken ahead of their results: " .. most_ahead)
    local handed = 0
    client:batch(iterator(2000, 10), { on_result = function(_, res)
      assert.equal(true, res.success)
      handed = handed + 1
    end })
    assert.equal(10, handed)
  end)

  it("an empty iterator sends nothing", function()
    assert.same({}, client:batch(function() return nil end))
    for _ in client:each(function() return nil end) do error("no result expected") end
    assert.equal(0, fake.stats().requests)
  end)

  it("a malformed item raises when it is taken, naming it, and the client stays usable", function()
    local next_call, given = iterator(1000, 5)
    local function with_bad()
      if given() == 5 then return { "tracker/get_state", "tracker_id=1" } end
      return next_call()
    end
    assert.has_error(function() client:batch(with_bad, { concurrency = 2 }) end,
      "navixy: batch item 6: params must be a table, got string")
    assert.is_true(fake.stats().requests <= 5)
    local results = client:batch(states_calls(1000, 3))
    for i = 1, 3 do assert.equal(10999 + i, results[i].result.state.source_id) end
  end)

  it("raises on calls that are neither an array nor an iterator", function()
    assert.has_error(function() client:batch("tracker/list") end,
      "navixy: client:batch expects an array or an iterator of calls, got string")
    assert.has_error(function() client:each(42) end,
      "navixy: client:batch expects an array or an iterator of calls, got number")
  end)
end)
