-- The fake Navixy server's rate limit (issue 13), with LuaSocket only (never our
-- client): N requests in any one-second window per account, HTTP 429 with error 15 above
-- it, exact across nginx workers and client processes, and what every account sent when.
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"
local socket = require "socket"

local key = fake.api_key
local demo = fake.users.demo

local function login(user)
  local status, res = fake.call("user/auth", { login = user.login, password = user.password })
  assert.equal(200, status)
  return res.hash
end

-- n requests sent on n connections before any answer is read: they all arrive at once.
local function burst(n, hash)
  local socks = {}
  for i = 1, n do
    local s = assert(socket.connect("127.0.0.1", fake.port))
    s:settimeout(10)
    assert(s:send("POST /v2/tracker/list HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: NVX " .. hash
      .. "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
    socks[i] = s
  end
  local counts = {}
  for _, s in ipairs(socks) do
    local code = assert(s:receive("*l")):match("^HTTP/1.1 (%d+)")
    counts[code] = (counts[code] or 0) + 1
    s:close()
  end
  return counts
end

describe("fake Navixy server: rate limit", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)
  after_each(function() fake.reset() end)

  it("is off after reset, logging nothing", function()
    for _ = 1, 120 do assert.equal(200, (fake.call("tracker/list", nil, key))) end
    local st = fake.rate_stats()
    assert.is_false(st.enabled)
    assert.same({}, st.accounts)
    assert.equal(0, fake.stats().rate_limited)
  end)

  it("answers 429 with error 15 above N a second, and counts what it refused", function()
    assert.is_true(fake.rate_limit(5).enabled)
    local statuses = {}
    for i = 1, 8 do
      local status, res = fake.call("tracker/list", nil, key)
      statuses[i] = status
      if status == 429 then assert.equal(15, res.status.code) end
    end
    assert.same({ 200, 200, 200, 200, 200, 429, 429, 429 }, statuses)
    assert.equal(3, fake.stats().rate_limited)
    local acc = fake.rate_stats().accounts["key:fixed"]
    assert.same({ 8, 3, 8, 5 }, { acc.requests, acc.refused, acc.max_in_window, acc.max_admitted_in_window })
    assert.equal(8, #acc.times)
    local sum = 0
    for _, n in pairs(acc.per_second) do sum = sum + n end
    assert.equal(8, sum)
  end)

  it("slides its window: a request leaves it one second after it came", function()
    fake.rate_limit(2)
    assert.equal(200, (fake.call("tracker/list", nil, key)))
    local t0 = socket.gettime() -- the first arrived before this
    socket.sleep(0.5)
    assert.equal(200, (fake.call("tracker/list", nil, key)))
    assert.equal(429, (fake.call("tracker/list", nil, key)))
    socket.sleep(math.max(0, t0 + 1.05 - socket.gettime()))
    assert.equal(200, (fake.call("tracker/list", nil, key))) -- the first left the window
    assert.equal(429, (fake.call("tracker/list", nil, key))) -- the second is still in it
  end)

  it("counts every session of a user together, logins included, and each API key alone", function()
    fake.rate_limit(4)
    local a = login(demo)          -- 1 (user/auth counts for the user it names)
    local b = login(demo)          -- 2
    assert.equal(200, (fake.call("user/get_info", nil, a))) -- 3
    assert.equal(200, (fake.call("user/get_info", nil, b))) -- 4
    assert.equal(429, (fake.call("user/get_info", nil, a)))
    assert.equal(429, (fake.call("user/auth", { login = demo.login, password = demo.password })))
    assert.equal(200, (fake.call("user/get_info", nil, key))) -- the key has its own counter
    local _, created = fake.call("api/key/create", { title = "own" }, key)
    assert.equal(4, created.status.code) -- a key cannot create keys, but it counted for key:fixed
    local acc = fake.rate_stats().accounts
    assert.same({ 6, 2 }, { acc["user:1"].requests, acc["user:1"].refused })
    assert.same({ 2, 0 }, { acc["key:fixed"].requests, acc["key:fixed"].refused })
    assert.equal(3, fake.stats().logins) -- user/auth requests that arrived, the refused one too
    assert.equal(2, fake.stats().rate_limited)
    -- a wrong password still names the account; an unknown login names none
    fake.call("user/auth", { login = demo.login, password = "wrong" })
    fake.call("user/auth", { login = "nobody@example.com", password = "x" })
    local accounts = 0
    for name in pairs(fake.rate_stats().accounts) do accounts = accounts + 1; assert.truthy(acc[name]) end
    assert.equal(2, accounts)
    assert.equal(7, fake.rate_stats().accounts["user:1"].requests)
  end)

  it("counts panel logins and sessions per panel account", function()
    fake.rate_limit(3)
    local main = fake.panels.main
    local _, res = fake.call("panel/account/auth", { login = main.login, password = main.password })
    assert.equal(200, (fake.call("panel/user/list", nil, res.hash)))
    assert.equal(200, (fake.call("panel/user/list", nil, res.hash)))
    assert.equal(429, (fake.call("panel/user/list", nil, res.hash)))
    assert.same({ 4, 1 }, { fake.rate_stats().accounts["panel:20410"].requests,
                            fake.rate_stats().accounts["panel:20410"].refused })
    assert.equal(1, fake.stats().panel_logins)
  end)

  it("lets exactly N through when many requests arrive at once on both workers", function()
    fake.rate_limit(10)
    local counts = burst(40, key)
    assert.same({ ["200"] = 10, ["429"] = 30 }, counts)
    local acc = fake.rate_stats().accounts["key:fixed"]
    assert.same({ 40, 30, 10 }, { acc.requests, acc.refused, acc.max_admitted_in_window })
  end)

  it("keeps one count for an account used by several client processes", function()
    fake.rate_limit(20)
    local lua = require "flavour"
    local code = [[package.path = "spec/support/?.lua;" .. package.path
      local fake = require "fake"
      local ok, limited = 0, 0
      for _ = 1, 30 do
        local status = fake.call("tracker/list", nil, fake.api_key)
        if status == 200 then ok = ok + 1 elseif status == 429 then limited = limited + 1 end
      end
      print(ok, limited)]]
    local script = os.tmpname()
    local f = assert(io.open(script, "w")); f:write(code); f:close()
    local procs = {}
    for i = 1, 3 do procs[i] = assert(io.popen(("cd '%s' && %s '%s'"):format(fake.root, lua, script))) end
    local ok, limited = 0, 0
    for _, p in ipairs(procs) do
      local a, b = p:read("*l"):match("^(%d+)%s+(%d+)$")
      p:close()
      ok, limited = ok + tonumber(a), limited + tonumber(b)
    end
    assert.equal(90, ok + limited)
    local acc = fake.rate_stats().accounts["key:fixed"]
    assert.same({ 90, limited }, { acc.requests, acc.refused })
    assert.is_true(acc.max_admitted_in_window <= 20)
    assert.is_true(ok >= 20)
    assert.equal(limited, fake.stats().rate_limited)
    os.remove(script)
  end)

  it("logs arrivals with the limit off when asked, and refuses none", function()
    local st = fake.rate_limit(false, { log = true })
    assert.is_false(st.enabled); assert.is_true(st.log)
    for _ = 1, 60 do assert.equal(200, (fake.call("tracker/list", nil, key))) end
    local acc = fake.rate_stats().accounts["key:fixed"]
    assert.same({ 60, 0 }, { acc.requests, acc.refused })
    assert.is_true(acc.max_in_window >= 1 and acc.max_in_window <= 60)
    local status = fake.http("POST", fake.base .. "/_fake/rate_limit", cjson.encode{ limit = 0 },
      { ["content-type"] = "application/json" })
    assert.equal(400, status)
  end)
end)
