-- The retry policy of API.md ("Retries and sessions") against the fake
-- server: what is repeated, how often, after how long, and what is never
-- repeated. The server counts the requests it got, so "sent once" is checked
-- where it happens. Timing bounds are generous (lower bounds are what the
-- rules promise; upper bounds only catch a wait that should not be there).
local navixy = require "navixy"
local fake = require "fake"
local hostile = require "hostile"
local sockets = require "sockets"

local demo = fake.users.demo

local function client(opts)
  opts = opts or {}
  opts.url = opts.url or fake.url
  if opts.hash == nil and opts.login == nil then opts.hash = fake.api_key end
  return navixy.new(opts)
end

-- A client with a session: api/key/create (a write) needs one.
local function session_client(opts)
  opts = opts or {}
  opts.login, opts.password = demo.login, demo.password
  return client(opts)
end

local sent = fake.sent

-- 'Retry-After: 0' makes a retry immediate, for tests about how many
-- requests go out rather than how long the client waits.
local NOW = { ["Retry-After"] = "0" }

describe("retries of a read", function()
  before_each(fake.reset)

  it("a flaky read recovers within its retries, after backoff waits", function()
    fake.fault { action = "tracker/list", type = "status", status = 502, times = 2 }
    local secs, res, err = sockets.timed(client { retries = 2 }.tracker.list)
    assert.is_nil(err)
    assert.equal(3, #res.list)
    assert.equal(3, sent("tracker/list"))
    -- full jitter: at most 0.5 s, then at most 1 s
    assert.is_true(secs < sockets.bound(1.5 + 1.0), "took " .. secs .. " s")
  end)

  it("gives up after retries + 1 attempts, with attempts and retryable set", function()
    fake.fault { action = "tracker/list", type = "status", status = 502, times = 3, headers = NOW }
    local res, err = client { retries = 2 }.tracker.list()
    assert.is_nil(res)
    assert.equal("http", err.kind)
    assert.equal(502, err.status)
    assert.equal(3, err.attempts)
    assert.is_true(err.retryable)
    assert.equal(3, sent("tracker/list"))
  end)

  it("retries = 0 in call_opts sends once", function()
    fake.fault { action = "tracker/list", type = "status", status = 503, times = 2 }
    local _, err = client { retries = 2 }:call("tracker/list", nil, { retries = 0 })
    assert.equal(1, err.attempts)
    assert.equal(1, sent("tracker/list"))
  end)

  it("call_opts.retries can raise the client's", function()
    fake.fault { action = "tracker/list", type = "status", status = 503, times = 3, headers = NOW }
    assert(client { retries = 0 }:call("tracker/list", nil, { retries = 3 }))
    assert.equal(4, sent("tracker/list"))
  end)

  it("idempotent = false stops a read from being retried", function()
    fake.fault { action = "tracker/list", type = "status", status = 502, times = 2 }
    local _, err = client { retries = 2 }:call("tracker/list", nil, { idempotent = false })
    assert.equal(502, err.status)
    assert.equal(1, err.attempts)
    assert.is_true(err.retryable) -- transient, but not repeated
    assert.equal(1, sent("tracker/list"))
  end)

  it("a connection dropped after the request is retried for a read", function()
    fake.fault { action = "tracker/list", type = "drop", times = 1 }
    assert(client { retries = 1 }.tracker.list())
    assert.equal(2, sent("tracker/list"))
  end)
end)

describe("Retry-After", function()
  before_each(fake.reset)

  it("a rate-limited read waits for Retry-After in seconds", function()
    fake.fault { action = "tracker/list", type = "error", code = 15, headers = { ["Retry-After"] = "1" } }
    local secs, res, err = sockets.timed(client { retries = 1 }.tracker.list)
    assert.is_nil(err)
    assert.is_true(res.success)
    assert.equal(2, sent("tracker/list"))
    assert.is_true(secs >= 0.95, "waited only " .. secs .. " s")
    assert.is_true(secs < sockets.bound(3), "took " .. secs .. " s")
  end)

  it("waits for Retry-After as an HTTP date", function()
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 2)
    fake.fault { action = "tracker/list", type = "status", status = 429, headers = { ["Retry-After"] = date } }
    local secs, res = sockets.timed(client { retries = 1 }.tracker.list)
    assert.is_true(res.success)
    -- whole seconds: the date is 1 to 2 s away when the answer is read
    assert.is_true(secs >= 0.9, "waited only " .. secs .. " s")
    assert.is_true(secs < sockets.bound(4), "took " .. secs .. " s")
  end)

  it("a Retry-After over 60 s returns the error at once", function()
    fake.fault { action = "tracker/list", type = "status", status = 429, headers = { ["Retry-After"] = "120" } }
    local secs, res, err = sockets.timed(client { retries = 2 }.tracker.list)
    assert.is_nil(res)
    assert.equal(429, err.status)
    assert.equal(120, err.retry_after)
    assert.is_true(err.retryable)
    assert.equal(1, err.attempts)
    assert.equal(1, sent("tracker/list"))
    assert.is_true(secs < sockets.bound(1), "took " .. secs .. " s")
  end)

  it("is honoured on a 503 too", function()
    fake.fault { action = "tracker/list", type = "status", status = 503, headers = { ["Retry-After"] = "1" } }
    local secs, res = sockets.timed(client { retries = 1 }.tracker.list)
    assert.is_true(res.success)
    assert.is_true(secs >= 0.95, "waited only " .. secs .. " s")
  end)
end)

describe("writes", function()
  before_each(fake.reset)

  it("a write answered by a 500 is sent once", function()
    fake.fault { action = "api/key/create", type = "status", status = 500, headers = NOW }
    local c = session_client { retries = 3 }
    local res, err = c.api.key.create { title = "once" }
    assert.is_nil(res)
    assert.equal("http", err.kind)
    assert.equal(500, err.status)
    assert.equal(1, err.attempts)
    assert.is_true(err.retryable)
    assert.equal(1, sent("api/key/create"))
  end)

  it("idempotent = true repeats it", function()
    fake.fault { action = "api/key/create", type = "status", status = 500, headers = NOW }
    local c = session_client { retries = 3 }
    local res = assert(c:call("api/key/create", { title = "twice" }, { idempotent = true }))
    assert.equal("twice", res.value.title)
    assert.equal(2, sent("api/key/create"))
  end)

  it("a timeout after the request was sent is not retried for a write", function()
    fake.fault { action = "api/key/create", type = "delay", seconds = 2 }
    local c = session_client { retries = 2 }
    assert(c:login())
    local _, err = c:call("api/key/create", { title = "slow" }, { timeout = 0.3 })
    assert.equal("timeout", err.kind)
    assert.equal(1, err.attempts)
    assert.is_true(err.retryable)
    assert.equal(1, sent("api/key/create"))
  end)

  it("a connection dropped after the request is not retried for a write", function()
    fake.fault { action = "api/key/create", type = "drop" }
    local _, err = session_client { retries = 2 }.api.key.create { title = "dropped" }
    assert.equal("transport", err.kind)
    assert.equal(1, err.attempts)
    assert.equal(1, sent("api/key/create"))
  end)
end)

describe("API error codes", function()
  before_each(fake.reset)

  for _, code in ipairs { 8, 14, 15 } do
    it("code " .. code .. " is retried always, a write included", function()
      fake.fault { action = "api/key/create", type = "error", code = code }
      local res = assert(session_client { retries = 1 }.api.key.create { title = "code " .. code })
      assert.is_true(res.success)
      assert.equal(2, sent("api/key/create"))
    end)

    it("code " .. code .. " is retried even with idempotent = false", function()
      fake.fault { action = "tracker/list", type = "error", code = code, headers = NOW }
      assert(client { retries = 1 }:call("tracker/list", nil, { idempotent = false }))
      assert.equal(2, sent("tracker/list"))
    end)
  end

  for _, code in ipairs { 1, 6 } do
    it("code " .. code .. " is retried for a read", function()
      fake.fault { action = "tracker/list", type = "error", code = code, headers = NOW }
      assert(client { retries = 1 }.tracker.list())
      assert.equal(2, sent("tracker/list"))
    end)

    it("code " .. code .. " is not retried for a write", function()
      fake.fault { action = "api/key/create", type = "error", code = code, headers = NOW }
      local _, err = session_client { retries = 2 }.api.key.create { title = "x" }
      assert.equal("api", err.kind)
      assert.equal(code, err.code)
      assert.is_true(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(1, sent("api/key/create"))
    end)
  end

  for _, code in ipairs { 7, 201, 102 } do
    it("code " .. code .. " is never retried", function()
      fake.fault { action = "tracker/list", type = "error", code = code, status = 500, headers = NOW }
      local _, err = client { retries = 2 }:call("tracker/list", nil, { idempotent = true })
      assert.equal(code, err.code)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(1, sent("tracker/list"))
    end)
  end

  it("a real 201 from the server is final", function()
    local _, err = client { retries = 2 }.tracker.get_state { tracker_id = 99 }
    assert.equal(201, err.code)
    assert.is_false(err.retryable)
    assert.equal(1, sent("tracker/get_state"))
  end)

  it("a redirect is never retried", function()
    fake.fault { action = "tracker/list", type = "redirect", headers = NOW }
    local _, err = client { retries = 2 }.tracker.list()
    assert.equal(302, err.status)
    assert.equal(1, err.attempts)
    assert.equal(1, sent("tracker/list"))
  end)
end)

describe("transport failures", function()
  before_each(fake.reset)

  it("a TLS verification failure is never retried", function()
    local secs, res, err = sockets.timed(
      navixy.new { url = fake.tls_url, hash = fake.api_key, retries = 3 }.tracker.list)
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    assert.equal("tls", err.phase)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.is_true(secs < sockets.bound(1), "took " .. secs .. " s: was it retried?")
  end)

  it("a refused connection is retried and reported as transport", function()
    local url = ("http://127.0.0.1:%d/v2"):format(sockets.refused())
    local secs, res, err = sockets.timed(client { url = url, retries = 2 }.api.key.create, { title = "x" })
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    assert.equal("connect", err.phase)
    assert.is_true(err.retryable)
    assert.equal(3, err.attempts) -- a write too: nothing reached the server
    assert.is_true(secs < sockets.bound(1.5 + 1.0), "took " .. secs .. " s")
  end)

  it("a 3 s stall with timeout = 0.5 returns a timeout in under 1.5 s", function()
    fake.fault { action = "tracker/list", type = "stall", seconds = 3 }
    local secs, res, err = sockets.timed(client { timeout = 0.5, retries = 0 }.tracker.list)
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.equal(1, err.attempts)
    assert.is_true(err.retryable)
    assert.is_true(secs >= 0.45 and secs < sockets.bound(1.5), "took " .. secs .. " s")
  end)

  it("call_opts.timeout bounds one call, and a stalled read recovers on retry", function()
    fake.fault { action = "tracker/list", type = "stall", seconds = 3 }
    local c = client { timeout = 30, retries = 1 }
    local secs, res = sockets.timed(function() return c:call("tracker/list", nil, { timeout = 0.5 }) end)
    assert.equal(3, #res.list)
    assert.equal(2, sent("tracker/list"))
    assert.is_true(secs < sockets.bound(2.5), "took " .. secs .. " s")
  end)

  it("connect_timeout bounds the connect: kind timeout, retried always", function()
    local port, close = sockets.blackhole()
    local c = client { url = ("http://127.0.0.1:%d/v2"):format(port), connect_timeout = 0.3,
      timeout = 10, retries = 1 }
    local secs, res, err = sockets.timed(c.api.key.create, { title = "x" })
    close()
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.equal("connect", err.phase)
    assert.is_true(err.retryable)
    assert.equal(2, err.attempts)
    -- two connects of 0.3 s and one wait of at most 0.5 s
    assert.is_true(secs >= 0.55 and secs < sockets.bound(2.5), "took " .. secs .. " s")
  end)

  it("timeout caps the connect too when it is the smaller", function()
    local port, close = sockets.blackhole()
    local c = client { url = ("http://127.0.0.1:%d/v2"):format(port), connect_timeout = 10,
      timeout = 0.3, retries = 0 }
    local secs, _, err = sockets.timed(c.tracker.list)
    close()
    assert.equal("timeout", err.kind)
    assert.is_true(secs < sockets.bound(1.5), "took " .. secs .. " s")
  end)
end)

describe("answer size", function()
  before_each(fake.reset)

  it("a streamed answer over max_size is a clear, final error", function()
    fake.fault { action = "tracker/list", type = "large", bytes = 200000, times = 3 }
    local _, err = client { max_size = 100000, retries = 2 }.tracker.list()
    assert.equal("transport", err.kind)
    assert.equal("limit", err.phase)
    assert.equal("answer larger than max_size (100000 bytes)", err.description)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.equal(1, sent("tracker/list"))
  end)

  it("an answer whose Content-Length is over max_size is refused the same way", function()
    fake.fault { action = "tracker/list", type = "raw", body = string.rep(" ", 5000) .. "{}" }
    local _, err = client { max_size = 1000, retries = 0 }.tracker.list()
    assert.equal("transport", err.kind)
    assert.equal("limit", err.phase)
    assert.matches("max_size", err.description)
  end)

  it("an answer of exactly max_size is accepted", function()
    local body = '{"success":true,"pad":"' .. string.rep("x", 100) .. '"}'
    fake.fault { action = "tracker/list", type = "raw", body = body }
    local res = assert(client { max_size = #body }.tracker.list())
    assert.equal(100, #res.pad)
  end)

  it("max_size must be a positive number", function()
    assert.has_error(function() client { max_size = 0 } end)
    assert.has_error(function() client { max_size = "big" } end)
  end)

  for _, case in ipairs {
    { "huge_header", { bytes = 8 * 1024 * 1024 }, "a header line of 8 MB" },
    { "many_headers", { count = 100000 }, "100,000 header lines" },
  } do
    it("refuses " .. case[3] .. " as a final limit error, not a transient one", function()
      local _, err = client { url = hostile.url(case[1], case[2]) }.tracker.list()
      assert.same({ "transport", "limit", false, 1 }, { err.kind, err.phase, err.retryable, err.attempts })
      assert.equal("answer headers larger than 65536 bytes", err.description)
    end)
  end
end)

describe("a hostile server", function()
  for _, case in ipairs {
    { "trickle_status", "the status line a byte at a time" },
    { "trickle_body", "the body a byte at a time" },
    { "hang", "nothing at all" },
  } do
    it("cannot hold an attempt past the timeout by sending " .. case[2], function()
      local c = client { url = hostile.url(case[1], { every = 0.3 }), retries = 0, timeout = 2 }
      local secs, _, err = sockets.timed(c.tracker.list)
      assert.same({ "timeout", "send" }, { err.kind, err.phase })
      assert.is_true(secs >= 1.9 and secs < sockets.bound(3), "took " .. secs .. " s")
    end)
  end
end)

describe("a hostile server behind a subscription", function()
  local REQUESTS = { { type = "state_batch", target = { type = "all" } } }

  -- The error that ends a subscription to `mode` (reconnect off), and how long it took.
  local function ended(mode, params)
    local c = client { url = hostile.url(mode, params), retries = 0, timeout = 2 }
    return sockets.timed(function()
      local sub = c:subscribe(REQUESTS, { reconnect = false })
      local ev, err = sub:next(5)
      sub:close()
      assert.is_nil(ev)
      return err
    end)
  end

  for _, case in ipairs {
    { "trickle_status", "the status line of the upgrade a byte at a time" },
    { "hang", "no answer to the upgrade" },
  } do
    it("cannot hold the upgrade past the timeout with " .. case[2], function()
      local secs, err = ended(case[1], { every = 0.3 })
      assert.equal("timeout", err.kind)
      assert.is_true(secs >= 1.9 and secs < sockets.bound(3), "took " .. secs .. " s")
    end)
  end

  for _, case in ipairs {
    { "huge_header", { bytes = 8 * 1024 * 1024 }, "a header line of 8 MB" },
    { "many_headers", { count = 100000 }, "100,000 header lines" },
  } do
    it("refuses " .. case[3] .. " in the answer to the upgrade at once", function()
      local secs, err = ended(case[1], case[2])
      assert.equal("transport", err.kind)
      assert.matches("the answer head is too long", err.description, 1, true)
      assert.is_true(secs < sockets.bound(1), "took " .. secs .. " s")
    end)
  end
end)

describe("compressed answers", function()
  it("are inflated; a gzip bomb is a final limit error, the inflated bytes held to max_size", function()
    local res = assert(client { url = hostile.url("gzip_json") }.tracker.list())
    assert.equal(1, res.value)
    local secs, _, err = sockets.timed(function()
      return client { url = hostile.url("gzip_bomb", { bytes = 256 * 1024 * 1024 }), max_size = 1e6 }.tracker.list()
    end)
    assert.same({ "transport", "limit", false, 1 }, { err.kind, err.phase, err.retryable, err.attempts })
    assert.is_true(secs < sockets.bound(5), "took " .. secs .. " s")
  end)
end)

describe("encoded answers (curl decodes them)", function()
  -- spec/support/hostile's "encoded" variants: the valid answer, or an error of the
  -- attempt, counted, never a crash, a hang or the wrong data (as on cosockets: nginx_spec)
  for _, case in ipairs {
    { "deflate" }, { "deflate_raw" }, { "gzip_gzip" }, { "gzip_identity" }, { "te_gzip" },
    { "members", "transport", "data after the end of the compressed body" },
    { "trailing", "transport", "data after the end of the compressed body" }, { "bad_crc", "transport" },
    { "bad_isize", "transport" }, { "bad_header", "transport" }, { "br", "transport" },
    { "empty", "decode" }, -- libcurl inflates nothing to nothing: an empty answer
  } do
    local variant, kind, description = case[1], case[2], case[3]
    local outcome = kind and "a " .. kind .. " error" or "the answer it encodes"
    it("takes a " .. variant .. " answer as " .. outcome, function()
      local secs, res, err = sockets.timed(function()
        return client { url = hostile.url("encoded", { variant = variant }), retries = 1 }.tracker.list()
      end)
      assert.is_true(secs < sockets.bound(5), "took " .. secs .. " s")
      if not kind then
        assert.is_nil(err)
        assert.equal(1, res.value)
      else
        assert.is_nil(res)
        assert.equal(kind, err.kind)
        assert.equal(kind == "transport" and 2 or 1, err.attempts)
        if description then assert.equal(description, err.description) end
      end
    end)
  end
end)

describe("a kept-alive connection the server closed", function()
  before_each(fake.reset)

  it("is sent again at once on a new one as an attempt of its own, even with retries = 0", function()
    local events = {}
    local c = client { retries = 0, on_request = function(info) events[#events + 1] = info end }
    assert(c.tracker.list())
    fake.fault { action = "tracker/list", type = "drop" } -- read, then closed unanswered
    local res, err = c.tracker.list()
    assert.is_nil(err)
    assert.equal(3, #res.list)
    -- libcurl would have sent it again by itself; every request that left is counted
    assert.equal(3, sent("tracker/list"))
    assert.equal(3, #events)
    assert.same({ "transport", 0, 1 }, { events[2].kind, events[2].retry_in, events[2].attempt })
    assert.same({ 200, 2 }, { events[3].status, events[3].attempt })
  end)

  it("is the final error of an action not safe to repeat (it never went out on a kept-alive one)", function()
    local c = session_client { retries = 0 }
    assert(c.tracker.list())
    fake.fault { action = "api/key/create", type = "drop" }
    local _, err = c.api.key.create { title = "x" }
    assert.same({ "transport", "send", 1 }, { err.kind, err.phase, err.attempts })
    assert.equal(1, sent("api/key/create"))
  end)
end)

describe("on_request", function()
  before_each(fake.reset)

  local function recorder()
    local seen = {}
    return seen, function(info) seen[#seen + 1] = info end
  end

  it("gets action, attempt, status, elapsed, kind, code and retry_in per request", function()
    fake.fault { action = "tracker/list", type = "error", code = 8, headers = NOW }
    local seen, hook = recorder()
    assert(client { retries = 2, on_request = hook }.tracker.list())
    assert.equal(2, #seen)
    local first, second = seen[1], seen[2]
    assert.equal("tracker/list", first.action)
    assert.equal(1, first.attempt)
    assert.equal(503, first.status)
    assert.equal("api", first.kind)
    assert.equal(8, first.code)
    assert.equal(0, first.retry_in)
    assert.is_number(first.elapsed)
    assert.is_true(first.elapsed >= 0 and first.elapsed < 5)
    assert.equal(2, second.attempt)
    assert.equal(200, second.status)
    assert.is_nil(second.kind)
    assert.is_nil(second.retry_in)
  end)

  it("reports a transport failure without a status, and the final attempt without retry_in", function()
    local seen, hook = recorder()
    local url = ("http://127.0.0.1:%d/v2"):format(sockets.refused())
    client { url = url, retries = 1, on_request = hook }.tracker.list()
    assert.equal(2, #seen)
    assert.is_nil(seen[1].status)
    assert.equal("transport", seen[1].kind)
    assert.is_number(seen[1].retry_in)
    assert.is_true(seen[1].retry_in >= 0 and seen[1].retry_in <= 0.5)
    assert.is_nil(seen[2].retry_in)
  end)

  it("sees logins, and only the documented fields, never the hash or password", function()
    local seen, hook = recorder()
    local c = session_client { on_request = hook }
    assert(c.tracker.list())
    fake.expire_sessions()
    assert(c.tracker.list())
    local actions = {}
    for _, info in ipairs(seen) do
      actions[#actions + 1] = info.action
      for k, v in pairs(info) do
        assert.is_truthy(({ action = 1, attempt = 1, status = 1, elapsed = 1, kind = 1, code = 1,
          retry_in = 1, transport = 1 })[k], "unexpected field " .. tostring(k))
        assert.is_true(type(v) == "string" or type(v) == "number")
        if type(v) == "string" then
          assert.is_nil(v:find(c:get_hash(), 1, true))
          assert.is_nil(v:find(demo.password, 1, true))
        end
      end
    end
    assert.same({ "user/auth", "tracker/list", "tracker/list", "user/auth", "tracker/list" }, actions)
  end)

  it("may call the client: that call and the one it reports on each keep their own request", function()
    -- (client:call reuses the job of the client's last call: never one still in use)
    local c, armed, inner
    c = client { retries = 1, on_request = function(info)
      if armed and info.action == "tracker/list" and info.attempt == 1 then
        armed = false
        inner = { c:call("tracker/get_state", { tracker_id = 1 }, { decode = false }) }
      end
    end }
    assert(c:call("tracker/list")) -- a call before: its job is there for the next
    fake.reset()
    armed = true
    fake.fault { action = "tracker/list", type = "error", code = 8, headers = NOW }
    local raw, err, info = c:call("tracker/list", nil, { decode = false })
    assert.is_nil(err)
    assert.equal(200, info.status)
    assert.matches('"list":%[', raw) -- tracker/list's answer, not the inner call's
    assert.equal(200, inner[3].status)
    assert.matches('"state":{', inner[1])
    assert.equal(2, sent("tracker/list"))
    assert.equal(1, sent("tracker/get_state"))
    assert(c:call("tracker/list")) -- and the client goes on
  end)

  it("must be a function", function()
    assert.has_error(function() client { on_request = true } end)
  end)
end)
