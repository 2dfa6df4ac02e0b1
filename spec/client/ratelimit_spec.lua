-- rate_limit: at most R requests in any one-second window (a sliding
-- window, with a small margin), that every request passes through: calls,
-- retries and logins.
local navixy = require "navixy"
local fake = require "fake"
local ratelimit = require "navixy.ratelimit"
local rules = require "navixy.store.rules"
local sockets = require "sockets"

local demo = fake.users.demo
local WINDOW = 1 + ratelimit.MARGIN

describe("rate_limit against the fake server", function()
  before_each(fake.reset)
  after_each(function() fake.rate_limit(false) end)

  it("30 calls at rate_limit = 20: 20 at once, the other 10 one window later", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 20 }
    local secs = sockets.timed(function()
      for _ = 1, 30 do assert(c.tracker.list()) end
    end)
    assert.is_true(secs >= WINDOW - 0.02, "took only " .. secs .. " s")
    assert.is_true(secs < sockets.bound(WINDOW + 1), "took " .. secs .. " s")
    assert.equal(30, fake.stats().by_action["tracker/list"])
  end)

  it("never lets the server see more than R in any one-second window", function()
    fake.rate_limit(10)
    local c = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 10 }
    local calls = {}
    for i = 1, 25 do calls[i] = { "tracker/list" } end
    for _, r in ipairs(c:batch(calls, { concurrency = 16 })) do assert.truthy(r.result, tostring(r.err)) end
    local stats = fake.rate_stats().accounts["key:fixed"]
    assert.equal(25, stats.requests)
    assert.equal(0, stats.refused)
    assert.is_true(stats.max_in_window <= 10, "the server saw " .. stats.max_in_window .. " in one second")
  end)

  it("retries and logins count against the window", function()
    -- 1 login + 1 call + 4 retries = 6 requests at 4 a second: the last two
    -- wait for the window to move. Without counting retries and logins none
    -- would wait.
    fake.fault { action = "tracker/list", type = "status", status = 429, times = 4,
      headers = { ["Retry-After"] = "0" } }
    local c = navixy.new { url = fake.url, login = demo.login, password = demo.password,
      rate_limit = 4, retries = 4 }
    local secs, res = sockets.timed(c.tracker.list)
    assert.is_true(res.success)
    assert.equal(1, fake.stats().logins)
    assert.equal(5, fake.stats().by_action["tracker/list"])
    assert.is_true(secs >= WINDOW - 0.05, "took only " .. secs .. " s")
    assert.is_true(secs < sockets.bound(WINDOW + 1), "took " .. secs .. " s")
  end)

  it("is per client without a store", function()
    local a = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 5 }
    local b = navixy.new { url = fake.url, hash = fake.api_key, rate_limit = 5 }
    local secs = sockets.timed(function()
      for _ = 1, 5 do assert(a.tracker.list()); assert(b.tracker.list()) end
    end)
    -- one shared window would hold the second five for a whole window
    assert.is_true(sockets.below(secs, WINDOW), "took " .. secs .. " s: the clients share a window?")
  end)

  it("must be a positive number", function()
    assert.has_error(function() navixy.new { url = fake.url, rate_limit = 0 } end)
    assert.has_error(function() navixy.new { url = fake.url, rate_limit = -1 } end)
    assert.has_error(function() navixy.new { url = fake.url, rate_limit = "fast" } end)
  end)
end)

describe("the sliding window", function()
  local function reserve(rate, now, limit, window, member)
    return (rules.reserve(rate, now, member or "a", limit, window or 1))
  end

  it("spreads a window's `limit` slots over its first half, then the next one a window after the first",
    function()
      local rate = rules.new_rate()
      for i = 1, 10 do assert.near((i - 1) * 0.05, reserve(rate, 100, 10), 1e-9) end
      assert.near(1, reserve(rate, 100, 10), 1e-9)
    end)

  it("queues reservations: any `limit` + 1 in a row span at least a window", function()
    local rate = rules.new_rate()
    local at = {}
    for i = 1, 12 do at[i] = reserve(rate, 0, 4) end
    for i = 2, 12 do assert.is_true(at[i] > at[i - 1]) end
    for i = 5, 12 do assert.is_true(at[i] - at[i - 4] >= 1 - 1e-9) end
    assert.near(2.375, at[12], 1e-9) -- 4 a window, no slower
  end)

  it("is a window, not a bucket: a slot frees exactly one window after it was used", function()
    local rate = rules.new_rate()
    assert.equal(0, reserve(rate, 0, 2)); assert.equal(0, reserve(rate, 0.5, 2))
    assert.near(0.5, reserve(rate, 0.5, 2), 1e-9) -- at 1.0: the slot of 0.0 frees
    assert.near(1.0, reserve(rate, 0.5, 2), 1e-9) -- at 1.5: the slot of 0.5 frees
    local idle = rules.new_rate()
    reserve(idle, 0, 2); reserve(idle, 0, 2)
    assert.equal(0, reserve(idle, 1000, 2)); assert.near(0.25, reserve(idle, 1000, 2), 1e-9)
    assert.near(1, reserve(idle, 1000, 2), 1e-9) -- an hour idle still gives 2, not 2000
  end)

  it("puts a login before the queue, where it fits under the full limit", function()
    local rate = rules.new_rate()
    for _ = 1, 30 do reserve(rate, 0, 9) end -- a queue of 3 windows at 9 (10 - 1 kept free)
    local wait = rules.reserve(rate, 0.01, "login", 10, 1, true)
    assert.equal(0, wait)
    for i = 11, #rate.times do assert.is_true(rate.times[i] - rate.times[i - 10] >= 1 - 1e-9) end
    assert.near(1, rules.reserve(rate, 0.01, "login", 10, 1, true), 1e-9) -- a second waits a window
  end)

  it("forgets what can no longer constrain anybody", function()
    local rate = rules.new_rate()
    for i = 1, 100 do reserve(rate, i * 0.1, 50) end
    assert.is_true(#rate.times <= 11, #rate.times .. " slots kept")
  end)

  it("holds for clients of different limits sharing it: none sees more than its own", function()
    local rate = rules.new_rate()
    for _ = 1, 10 do reserve(rate, 0, 10, 1, "big") end
    assert.near(1.25, reserve(rate, 0, 5, 1, "small"), 1e-9) -- 5 slots, from the 6th, are in its window
  end)

  it("counts the clients that asked lately, for a share of the rate", function()
    local rate = rules.new_rate()
    assert.equal(1, select(2, rules.reserve(rate, 0, "a", 10, 1)))
    assert.equal(2, select(2, rules.reserve(rate, 0, "b", 10, 1)))
    assert.equal(2, select(2, rules.reserve(rate, 1, "a", 10, 1)))
    assert.equal(1, select(2, rules.reserve(rate, 1 + rules.MEMBER_TTL, "a", 10, 1)))
  end)

  it("below one request per second lets one through per 1/R seconds", function()
    local limit, seconds = ratelimit.window(0.5)
    assert.equal(1, limit)
    assert.near(2 + ratelimit.MARGIN, seconds, 1e-9)
    assert.same({ 50, WINDOW }, { ratelimit.window(50.7) })
  end)

  it("pulls slots dated beyond any queue back to now; a queue within bounds stays", function()
    local rate = rules.new_rate()
    rate.times = { 3600, 3600.5 } -- ahead of the clock by an hour: at most a window's wait
    assert.near(1, reserve(rate, 0, 2), 1e-9)
    rate.times = { 1, 2, 3 } -- a queue, each a window after the last: kept
    assert.near(3.25, reserve(rate, 0, 2), 1e-9)
  end)

  it("gives no slot further away than max_wait: the next caller does not queue behind it", function()
    local rate = rules.new_rate()
    for _ = 1, 4 do reserve(rate, 0, 2) end -- slots at 0, 0.25, 1, 1.25
    assert.near(2, rules.reserve(rate, 0, "a", 2, 1, false, 1.5), 1e-9)
    assert.equal(4, #rate.times)
    assert.near(2, rules.reserve(rate, 0, "a", 2, 1, false, 2), 1e-9)
    assert.equal(5, #rate.times)
  end)

  it("survives the text form the shared stores keep", function()
    local rate = rules.new_rate()
    reserve(rate, 1700000000.25, 2, 1, "p1:c1"); reserve(rate, 1700000000.5, 2, 1, "p2:c1")
    local back = rules.unpack_rate(rules.pack_rate(rate))
    assert.same(rate, back)
  end)
end)
