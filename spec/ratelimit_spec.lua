-- rate_limit: a token bucket per client, burst of one second's worth, that
-- every request passes through: calls, retries and logins.
local navixy = require "navixy"
local fake = require "fake"
local ratelimit = require "navixy.ratelimit"
local sockets = require "sockets"

local demo = fake.users.demo

describe("rate_limit against the fake server", function()
  before_each(fake.reset)

  it("30 calls at rate_limit = 20 take at least half a second", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 20 }
    local secs = sockets.timed(function()
      for _ = 1, 30 do assert(c.tracker.list()) end
    end)
    -- 20 go at once (the burst), the other 10 at 20 per second
    assert.is_true(secs >= 0.5 - 0.02, "took only " .. secs .. " s")
    assert.is_true(secs < sockets.bound(3), "took " .. secs .. " s")
    assert.equal(30, fake.stats().by_action["tracker/list"])
  end)

  it("retries and logins count against the bucket", function()
    -- 1 login + 1 call + 4 retries = 6 requests at 4/s with a burst of 4:
    -- the last two wait 0.25 s each. Without counting retries and logins
    -- at most one request would wait.
    fake.fault { action = "tracker/list", type = "status", status = 429, times = 4,
      headers = { ["Retry-After"] = "0" } }
    local c = navixy.new { url = fake.url, login = demo.login, password = demo.password,
      rate_limit = 4, retries = 4 }
    local secs, res = sockets.timed(c.tracker.list)
    assert.is_true(res.success)
    assert.equal(1, fake.stats().logins)
    assert.equal(5, fake.stats().by_action["tracker/list"])
    assert.is_true(secs >= 0.5 - 0.05, "took only " .. secs .. " s")
    assert.is_true(secs < sockets.bound(3), "took " .. secs .. " s")
  end)

  it("is per client", function()
    local a = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 5 }
    local b = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 5 }
    local secs = sockets.timed(function()
      for _ = 1, 5 do assert(a.tracker.list()); assert(b.tracker.list()) end
    end)
    assert.is_true(secs < sockets.bound(0.5), "took " .. secs .. " s: the clients share a bucket?")
  end)

  it("must be a positive number", function()
    assert.has_error(function() navixy.new { url = fake.url, rate_limit = 0 } end)
    assert.has_error(function() navixy.new { url = fake.url, rate_limit = -1 } end)
    assert.has_error(function() navixy.new { url = fake.url, rate_limit = "fast" } end)
  end)
end)

describe("the token bucket", function()
  it("starts full: a burst of one second's worth goes at once", function()
    local b = ratelimit.new(10, 100)
    for _ = 1, 10 do assert.equal(0, b:reserve(100)) end
    assert.near(0.1, b:reserve(100), 1e-9)
  end)

  it("queues reservations: each waits one interval longer than the one before", function()
    local b = ratelimit.new(4, 0)
    for _ = 1, 4 do b:reserve(0) end
    assert.near(0.25, b:reserve(0), 1e-9)
    assert.near(0.5, b:reserve(0), 1e-9)
    assert.near(0.75, b:reserve(0), 1e-9)
  end)

  it("refills with time, never above the burst", function()
    local b = ratelimit.new(2, 0)
    b:reserve(0); b:reserve(0)
    assert.equal(0, b:reserve(0.5)) -- one token back after 0.5 s
    assert.near(0.5, b:reserve(0.5), 1e-9)
    local idle = ratelimit.new(2, 0)
    assert.equal(0, idle:reserve(1000))
    assert.equal(0, idle:reserve(1000))
    assert.near(0.5, idle:reserve(1000), 1e-9) -- an hour idle still gives 2, not 2000
  end)

  it("below one request per second still lets one through at once", function()
    local b = ratelimit.new(0.5, 0)
    assert.equal(0, b:reserve(0))
    assert.near(2, b:reserve(0), 1e-9)
  end)
end)
