-- Sessions against the fake server, which counts the logins it answers:
-- a lazy first login, one transparent re-login when a session ends, never a
-- login per call, no loop on a hash that stopped working, and a clear error
-- for two-factor users.
local navixy = require "navixy"
local fake = require "fake"
local sockets = require "sockets"

local demo, twofa = fake.users.demo, fake.users.twofa

local function login_client(opts)
  opts = opts or {}
  opts.url = fake.url
  opts.login = opts.login or demo.login
  opts.password = opts.password or demo.password
  return navixy.new(opts)
end

local sent = fake.sent

describe("sessions", function()
  before_each(fake.reset)

  it("log in lazily on the first call, and never once per call", function()
    local c = login_client()
    for _ = 1, 10 do assert(c.tracker.list()) end
    assert.equal(1, fake.stats().logins)
    assert.equal(10, sent("tracker/list"))
  end)

  it("an expiring session re-logs in transparently: exactly one more login", function()
    local c = login_client()
    assert(c.tracker.list())
    local before, old_hash = fake.stats().logins, c:get_hash()
    fake.expire_sessions()
    local res, err = c.tracker.list()
    assert.is_nil(err)
    assert.equal(3, #res.list)
    assert.equal(before + 1, fake.stats().logins)
    assert.are_not.equal(old_hash, c:get_hash())
    assert.equal(3, sent("tracker/list")) -- ok, refused (code 4), repeated
    assert(c.tracker.list()) -- and the new session holds
    assert.equal(before + 1, fake.stats().logins)
  end)

  it("code 3 (wrong hash) re-logs in the same way", function()
    local c = login_client()
    assert(c.tracker.list())
    fake.fault { action = "tracker/list", type = "error", code = 3 }
    assert(c.tracker.list())
    assert.equal(2, fake.stats().logins)
  end)

  it("a session refused again after the re-login is returned, without a loop", function()
    local c = login_client { retries = 2 }
    assert(c:login())
    fake.fault { action = "tracker/list", type = "error", code = 4, times = 5 }
    local res, err = c.tracker.list()
    assert.is_nil(res)
    assert.equal(4, err.code)
    assert.equal(2, fake.stats().logins) -- the first one and one re-login
    assert.equal(2, sent("tracker/list"))
    assert.equal(2, err.attempts)
  end)

  it("the repeat after a re-login does not use up retries", function()
    local c = login_client { retries = 1 }
    assert(c:login())
    fake.fault { action = "tracker/list", type = "error", code = 4 }
    fake.fault { action = "tracker/list", type = "status", status = 502, headers = { ["Retry-After"] = "0" } }
    assert(c.tracker.list()) -- 4, re-login, 502, retry, success
    assert.equal(3, sent("tracker/list"))
    assert.equal(2, fake.stats().logins)
  end)

  it("calls running at the same time share one re-login, and its refusal", function()
    local c = login_client()
    assert(c:login())
    local calls = {}
    for i = 1, 8 do calls[i] = { "tracker/get_state", { tracker_id = 1000 + i } } end
    fake.expire_sessions()
    local results = c:batch(calls, { concurrency = 8 })
    for _, r in ipairs(results) do assert.truthy(r.result) end
    assert.equal(2, fake.stats().logins)
    fake.expire_sessions()
    fake.fault { action = "user/auth", type = "error", code = 102 }
    results = c:batch(calls, { concurrency = 8 })
    for _, r in ipairs(results) do
      assert.is_nil(r.result)
      assert.equal(102, r.err.code) -- the refused re-login, not a leftover code 4
    end
    assert.equal(3, fake.stats().logins)
    c:close()
  end)

  it("a hash-only client gets error 4 without looping", function()
    local c = navixy.new { url = fake.url, hash = "00000000000000000000000000000000", retries = 2 }
    local res, err = c.tracker.list()
    assert.is_nil(res)
    assert.equal("api", err.kind)
    assert.equal(4, err.code)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.equal(1, sent("tracker/list"))
    assert.equal(0, fake.stats().logins)
  end)

  it("a hash-only client with an ended session gets error 4 too", function()
    local saved = assert(navixy.login { url = fake.url, login = demo.login, password = demo.password })
    local c = navixy.new { url = fake.url, hash = saved:get_hash(), retries = 2 }
    fake.expire_sessions()
    local before = fake.stats().logins
    local _, err = c.tracker.list()
    assert.equal(4, err.code)
    assert.equal(before, fake.stats().logins)
  end)

  it("a login that fails for a transient reason is retried like any call", function()
    fake.fault { action = "user/auth", type = "error", code = 8, headers = { ["Retry-After"] = "0" } }
    assert(login_client { retries = 1 }.tracker.list())
    assert.equal(2, sent("user/auth"))
    assert.equal(2, fake.stats().logins) -- the server counts the refused one too
  end)

  it("a wrong password is not tried again by every later call", function()
    local c = login_client { password = "wrong-pass" }
    local _, err = c.tracker.list()
    assert.equal(102, err.code)
    assert.equal("user/auth", err.action)
    for _ = 1, 3 do
      local _, again = c.tracker.list()
      assert.equal(102, again.code)
      assert.equal(0, again.attempts)
      assert.matches("earlier login was refused", again.description)
    end
    assert.equal(1, fake.stats().logins)
    assert.equal(0, sent("tracker/list"))
    -- new credentials clear it
    assert(c:login(demo.login, demo.password))
    assert(c.tracker.list())
    assert.equal(2, fake.stats().logins)
  end)

  it("a login refused for a passing reason (104) is tried again after a while", function()
    local session = require "navixy.session"
    local saved = session.LOGIN_RETRY_AFTER
    session.LOGIN_RETRY_AFTER = 0.3
    finally(function() session.LOGIN_RETRY_AFTER = saved end)
    fake.fault { action = "user/auth", type = "error", code = 104,
      description = "Logins limit exceeded, please reuse existing sessions instead" }
    local c = login_client()
    local _, err = c.tracker.list()
    assert.equal(104, err.code)
    local _, again = c.tracker.list()
    assert.equal(104, again.code)
    assert.equal(0, again.attempts) -- answered from memory: nothing sent
    assert.equal(1, sent("user/auth"))
    require("navixy.core").sleep(0.4)
    assert(c.tracker.list())
    assert.equal(2, sent("user/auth"))
  end)
end)

describe("a login that cannot finish", function()
  before_each(fake.reset)

  it("does not hold up later calls: its coroutine was dropped mid-login", function()
    local yielded = false
    local c = login_client { timeout = 2, on_request = function(info)
      if info.action == "user/auth" and not yielded then
        yielded = true
        coroutine.yield() -- the login's coroutine stops here, and is never resumed
      end
    end }
    local co = coroutine.create(function() return c.tracker.list() end)
    assert.is_true(coroutine.resume(co))
    assert.equal("suspended", coroutine.status(co))
    co = nil -- luacheck: ignore (dropped)
    local secs, res, err = sockets.timed(c.tracker.list)
    assert.is_nil(err)
    assert.equal(3, #res.list)
    assert.is_true(secs < sockets.bound(1), "took " .. secs .. " s")
    assert.equal(2, fake.stats().logins)
  end)

  it("does not hold up a call made from another coroutine while it runs", function()
    local inner, started = nil, false
    local c
    c = login_client { timeout = 2, on_request = function(info)
      if info.action == "user/auth" and not started then
        started = true
        inner = { coroutine.resume(coroutine.create(function() return c.tracker.list() end)) }
      end
    end }
    local secs, res, err = sockets.timed(c.tracker.list)
    assert.is_nil(err)
    assert.equal(3, #res.list)
    assert.is_true(inner[1], tostring(inner[2]))
    assert.equal(3, #inner[2].list)
    assert.is_true(secs < sockets.bound(1), "took " .. secs .. " s")
  end)
end)

describe("two-factor users", function()
  before_each(fake.reset)

  it("get a clear error instead of a silent loop", function()
    local c = login_client { login = twofa.login, password = twofa.password, retries = 2 }
    for _ = 1, 3 do
      local res, err = c.tracker.list()
      assert.is_nil(res)
      assert.equal("api", err.kind)
      assert.matches("two%-factor", err.description)
      assert.matches("verify_code", err.description)
      assert.equal(0, err.attempts)
    end
    assert.equal(1, fake.stats().logins)
    assert.equal(0, sent("tracker/list"))
    assert(c:verify_code(twofa.code))
    assert(c.tracker.list())
  end)

  it("a session that ends after verify_code asks for the code again, once", function()
    local c = login_client { login = twofa.login, password = twofa.password }
    assert(c:login())
    assert(c:verify_code(twofa.code))
    assert(c.tracker.list())
    fake.expire_sessions()
    local _, err = c.tracker.list()
    assert.matches("two%-factor", err.description)
    local _, again = c.tracker.list()
    assert.matches("two%-factor", again.description)
    assert.equal(2, fake.stats().logins)
  end)
end)
