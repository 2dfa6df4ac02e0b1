-- Where the hash goes, sessions, and keeping secrets out of sight.
local navixy = require "navixy"
local fake = require "fake"

local demo = fake.users.demo

describe("auth placement", function()
  before_each(fake.reset)

  for _, encoding in ipairs { "json", "form" } do
    it("header mode sends Authorization: NVX <hash> (" .. encoding .. ")", function()
      local c = navixy.new { url = fake.url, hash = fake.api_key, encoding = encoding }
      assert(c.user.get_info())
      local req = fake.last_request()
      assert.equal("NVX " .. fake.api_key, req.headers.authorization)
      assert.equal("header", req.hash_from)
      assert.is_nil(req.body:find(fake.api_key, 1, true))
      assert.is_nil(req.uri:find(fake.api_key, 1, true))
    end)

    it("query mode sends ?hash= (" .. encoding .. ")", function()
      local c = navixy.new { url = fake.url, hash = fake.api_key, encoding = encoding, auth = "query" }
      assert(c.user.get_info())
      local req = fake.last_request()
      assert.equal("query", req.hash_from)
      assert.equal("/v2/user/get_info?hash=" .. fake.api_key, req.uri)
      assert.is_nil(req.headers.authorization)
    end)

    it("body mode puts the hash in the body (" .. encoding .. ")", function()
      local c = navixy.new { url = fake.url, hash = fake.api_key, encoding = encoding, auth = "body" }
      assert(c.tracker.get_state { tracker_id = 1 })
      local req = fake.last_request()
      assert.equal("body", req.hash_from)
      assert.equal(1, tonumber(req.params.tracker_id))
      assert.is_nil(req.headers.authorization)
    end)
  end

  it("body mode with JSON makes hash a root field next to the params", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, auth = "body" }
    c.tracker.list()
    assert.equal('{"hash":"' .. fake.api_key .. '"}', fake.last_request().body)
    c.tracker.get_state { tracker_id = 1 }
    assert.equal('{"hash":"' .. fake.api_key .. '","tracker_id":1}', fake.last_request().body)
  end)

  it("body mode refuses a params.hash that would conflict", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, auth = "body" }
    assert.has_error(function() c:call("tracker/list", { hash = "other" }) end)
  end)

  it("escapes a hash in the query and in form bodies", function()
    local c = navixy.new { url = fake.url, hash = "a b&c", auth = "query" }
    c.tracker.list()
    assert.equal("/v2/tracker/list?hash=a%20b%26c", fake.last_request().uri)
  end)
end)

describe("get_hash and set_hash", function()
  before_each(fake.reset)

  it("swap the hash used by later calls", function()
    local c = navixy.new { url = fake.url, hash = "0000000000000000000000000000dead" }
    assert.equal("0000000000000000000000000000dead", c:get_hash())
    local _, err = c.user.get_info()
    assert.equal(4, err.code)
    c:set_hash(fake.api_key)
    assert.equal(fake.api_key, c:get_hash())
    assert(c.user.get_info())
    c:set_hash(nil)
    assert.is_nil(c:get_hash())
  end)

  it("refuse a hash with CR, LF or NUL, or not a string", function()
    local c = navixy.new { url = fake.url }
    assert.has_error(function() c:set_hash("abc\r\nX-Injected: 1") end)
    assert.has_error(function() c:set_hash("abc\0def") end)
    assert.has_error(function() c:set_hash(42) end)
    assert.has_error(function() c:set_hash("") end)
  end)
end)

describe("login", function()
  before_each(fake.reset)

  it("client:login() posts user/auth and stores the hash", function()
    local c = navixy.new { url = fake.url, login = demo.login, password = demo.password }
    local res = assert(c:login())
    assert.equal("authenticated", res.type)
    assert.equal(res.hash, c:get_hash())
    assert.equal(1, fake.stats().logins)
    local reqs = fake.requests()
    assert.equal("user/auth", reqs[#reqs].action)
    assert.equal(demo.login, reqs[#reqs].params.login)
    assert.is_nil(reqs[#reqs].hash)
  end)

  it("client:login(l, p) takes credentials", function()
    local c = navixy.new { url = fake.url }
    assert(c:login(demo.login, demo.password))
    assert(c.user.get_info())
  end)

  it("navixy.login returns client, result", function()
    local c, res = navixy.login { url = fake.url, login = demo.login, password = demo.password }
    assert.equal("authenticated", res.type)
    assert.equal(res.hash, c:get_hash())
  end)

  it("a wrong password comes back as api error 102", function()
    local c, err = navixy.login { url = fake.url, login = demo.login, password = "nope" }
    assert.is_nil(c)
    assert.equal("api", err.kind)
    assert.equal(102, err.code)
    assert.equal(400, err.status)
    assert.equal("user/auth", err.action)
    assert.is_nil(tostring(err):find("nope", 1, true))
  end)

  it("logs in lazily on the first call, once", function()
    local c = navixy.new { url = fake.url, login = demo.login, password = demo.password }
    assert.equal(0, fake.stats().logins)
    assert(c.tracker.list())
    assert(c.tracker.list())
    assert(c.user.get_info())
    assert.equal(1, fake.stats().logins)
  end)

  it("raises without credentials", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    assert.has_error(function() c:login() end)
    assert.has_error(function() c:login("only-login") end)
  end)
end)

describe("two-factor login", function()
  local twofa = fake.users.twofa
  before_each(fake.reset)

  it("login answers second_factor_required; verify_code finishes it", function()
    local c = navixy.new { url = fake.url, login = twofa.login, password = twofa.password }
    local res = assert(c:login())
    assert.equal("second_factor_required", res.type)
    assert.equal(res.hash, c:get_hash())
    local ok = assert(c:verify_code(twofa.code))
    assert.is_true(ok.success)
    assert.not_equal(res.hash, c:get_hash())
    assert(c.tracker.list())
  end)

  it("calls before verify_code get a clear error and send nothing", function()
    local c = navixy.new { url = fake.url, login = twofa.login, password = twofa.password }
    local _, err = c.tracker.list()
    assert.equal("api", err.kind)
    assert.matches("verify_code", err.description)
    local before = fake.stats().requests
    _, err = c.tracker.list()
    assert.matches("two%-factor", tostring(err))
    assert.equal(before, fake.stats().requests)
    assert.equal(1, fake.stats().logins)
  end)

  it("resend_code sends user/auth/code/resend with the interim hash, as often as the API allows", function()
    local c = navixy.new { url = fake.url, login = twofa.login, password = twofa.password }
    local interim = assert(c:login()).hash
    local res, err = c:resend_code()
    assert.is_nil(err)
    assert.is_true(res.success)
    local req = fake.last_request()
    assert.equal("user/auth/code/resend", req.action)
    assert.equal(interim, req.hash)
    -- asked again too soon: error 264, with the API's timeout and remainder
    res, err = c:resend_code()
    assert.is_nil(res)
    assert.equal("api", err.kind)
    assert.equal(264, err.code)
    assert.is_false(err.retryable)
    assert.equal("PT5M", err.response.timeout)
    assert.matches("^PT", err.response.remainder)
    fake.reset_resend()
    assert(c:resend_code())
    assert.equal(3, fake.stats().by_action["user/auth/code/resend"])
    -- the login goes on as usual
    assert(c:verify_code(twofa.code))
    assert(c.tracker.list())
    assert.equal(1, fake.stats().logins)
  end)

  it("resend_code fails as any call does: no interim hash, no server", function()
    local c = navixy.new { url = fake.url }
    local _, err = c:resend_code()
    assert.equal("api", err.kind)
    assert.equal(3, err.code)
    local down = navixy.new { url = "http://127.0.0.1:1/v2", retries = 0 }
    _, err = down:resend_code()
    assert.equal("transport", err.kind)
  end)

  it("a wrong code is api error 282", function()
    local c = navixy.new { url = fake.url, login = twofa.login, password = twofa.password }
    c:login()
    local res, err = c:verify_code("000000")
    assert.is_nil(res)
    assert.equal(282, err.code)
  end)
end)

describe("logout", function()
  before_each(fake.reset)

  it("ends the session and forgets the hash", function()
    local c = assert(navixy.login { url = fake.url, login = demo.login, password = demo.password })
    local hash = c:get_hash()
    assert.is_true(c:logout())
    assert.is_nil(c:get_hash())
    local status = fake.call("user/get_info", nil, hash)
    assert.equal(400, status)
  end)

  it("returns nil, err when the server cannot be reached, keeping the hash", function()
    local c = navixy.new { url = "http://127.0.0.1:9/v2", hash = "abcdef0123456789", retries = 0 }
    local ok, err = c:logout()
    assert.is_nil(ok)
    assert.equal("transport", err.kind)
    assert.equal("abcdef0123456789", c:get_hash())
  end)
end)

describe("secrets", function()
  it("tostring(client) masks the hash", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, auth = "query" }
    local s = tostring(c)
    assert.equal("navixy client (" .. fake.url .. ", auth query, hash a6aa...)", s)
    assert.is_nil(s:find(fake.api_key, 1, true))
  end)

  it("tostring(client) never shows the password", function()
    local c = navixy.new { url = fake.url, login = demo.login, password = demo.password }
    assert.is_nil(tostring(c):find(demo.password, 1, true))
    assert(c.tracker.list())
    assert.is_nil(tostring(c):find(c:get_hash(), 1, true))
  end)

  it("the client table itself holds nothing to dump", function()
    local c = navixy.new { url = fake.url, login = demo.login, password = demo.password }
    assert.is_nil(next(c))
  end)

  it("errors mask a hash the server echoes back", function()
    fake.reset()
    fake.fault { action = "tracker/list", type = "status", status = 502,
      body = "<html>bad gateway for hash " .. fake.api_key .. "</html>" }
    local c = navixy.new { url = fake.url, hash = fake.api_key, retries = 0 }
    local _, err = c.tracker.list()
    assert.equal("http", err.kind)
    assert.is_nil(err.body:find(fake.api_key, 1, true))
    assert.truthy(err.body:find("a6aa...", 1, true))
  end)
end)
