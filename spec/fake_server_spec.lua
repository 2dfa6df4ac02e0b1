-- Tests of the fake Navixy server itself, with LuaSocket only (never our client).
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"
local socket = require "socket"

local demo, twofa = fake.users.demo, fake.users.twofa

local function login(user)
  local status, res = fake.call("user/auth", { login = user.login, password = user.password })
  assert.equal(200, status)
  return res
end

-- POST with an arbitrary body and headers; returns status, decoded body, headers.
local function post(path, body, headers)
  local status, text, h = fake.http("POST", fake.url .. path, body, headers)
  return status, cjson.decode(text), h
end

describe("fake Navixy server", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("logs in and takes the hash in the header, the query, JSON and form bodies", function()
    local res = login(demo)
    assert.equal("authenticated", res.type)
    assert.matches("^%x+$", res.hash)
    assert.equal(32, #res.hash)
    local h = res.hash

    local status, info = fake.call("user/get_info", nil, h)
    assert.equal(200, status)
    assert.equal("demo@example.com", info.user_info.login)
    assert.equal("header", fake.last_request().hash_from)

    status, info = post("/user/get_info?hash=" .. h, "", nil)
    assert.equal(200, status)
    assert.equal("demo@example.com", info.user_info.login)
    assert.equal("query", fake.last_request().hash_from)

    status, info = post("/user/get_info", cjson.encode{ hash = h }, { ["content-type"] = "application/json" })
    assert.equal(200, status)
    assert.equal("demo@example.com", info.user_info.login)
    assert.equal("body", fake.last_request().hash_from)

    local raw
    status, raw = fake.http("POST", fake.url .. "/tracker/get_states/", "hash=" .. h .. "&trackers=[1,2]",
      { ["content-type"] = "application/x-www-form-urlencoded" })
    assert.equal(200, status)
    info = cjson.decode(raw)
    assert.truthy(info.states["1"] and info.states["2"])
    assert.equal(cjson.null, info.states["1"].battery_level)
    assert.truthy(raw:find('"inputs":[]', 1, true)) -- an empty array, not {}
    local req = fake.last_request()
    assert.equal("body", req.hash_from)
    assert.same({ 1, 2 }, req.params.trackers)
  end)

  it("answers errors with the documented shapes and statuses", function()
    local status, res = fake.call("user/get_info")
    assert.equal(400, status); assert.equal(3, res.status.code)
    status, res = fake.call("user/get_info", nil, "0123456789abcdef0123456789abcdef")
    assert.equal(400, status); assert.equal(4, res.status.code)
    status, res = fake.call("user/auth", { login = demo.login, password = "nope" })
    assert.equal(400, status); assert.equal(102, res.status.code)
    status, res = fake.call("tracker/get_state", { tracker_id = 3 }, fake.api_key)
    assert.equal(403, status); assert.equal(208, res.status.code)
    status, res = fake.call("tracker/get_state", {}, fake.api_key)
    assert.equal(400, status); assert.equal(7, res.status.code); assert.equal("tracker_id", res.errors[1].parameter)
    status, res = post("/tracker/list", "{oops", { ["content-type"] = "application/json" })
    assert.equal(400, status); assert.equal(5, res.status.code)
    status, res = fake.call("no/such/action", {}, fake.api_key)
    assert.equal(404, status); assert.equal(5, res.status.code)
  end)

  it("runs the two-factor flow", function()
    local res = login(twofa)
    assert.equal("second_factor_required", res.type)
    assert.equal("email", res.factor_type)
    local status, r = fake.call("user/get_info", nil, res.hash)
    assert.equal(400, status); assert.equal(4, r.status.code) -- the interim hash works for code/* only
    status, r = fake.call("user/auth/code/verify", { code = "000000" }, res.hash)
    assert.equal(400, status); assert.equal(282, r.status.code)
    status, r = fake.call("user/auth/code/verify", { code = twofa.code }, res.hash)
    assert.equal(200, status)
    status, r = fake.call("user/get_info", nil, r.hash)
    assert.equal(200, status)
    assert.equal("2fa@example.com", r.user_info.login)
    assert.equal(1, fake.stats().logins)
  end)

  it("expires sessions but not the API key", function()
    local h = login(demo).hash
    fake.expire_sessions()
    local _, r = fake.call("user/get_info", nil, h)
    assert.equal(4, r.status.code)
    assert.equal(200, (fake.call("user/get_info", nil, fake.api_key)))
  end)

  it("injects faults for the next N requests, then answers normally", function()
    fake.fault{ action = "tracker/list", type = "status", status = 502, body = "<html>bad gateway</html>" }
    fake.fault{ action = "tracker/list", type = "error", code = 15, headers = { ["Retry-After"] = "1" } }
    local status, body = fake.call("tracker/list", nil, fake.api_key)
    assert.equal(502, status); assert.equal("<html>bad gateway</html>", body)
    local res, h
    status, res, h = fake.call("tracker/list", nil, fake.api_key)
    assert.equal(429, status); assert.equal(15, res.status.code); assert.equal("1", h["retry-after"])
    status, res = fake.call("tracker/list", nil, fake.api_key)
    assert.equal(200, status); assert.equal(3, #res.list)

    fake.fault{ action = "*", type = "large", bytes = 300000 }
    status, res, h = fake.call("tracker/list", nil, fake.api_key)
    assert.equal(200, status); assert.equal("chunked", h["transfer-encoding"])
    assert.is_true(#res.list > 2000)

    fake.fault{ action = "user/get_info", type = "drop" }
    assert.is_nil((fake.call("user/get_info", nil, fake.api_key)))
  end)

  it("counts the requests in flight at once", function()
    local n = 4
    fake.fault{ action = "*", type = "delay", seconds = 0.3, times = n }
    local socks = {}
    for i = 1, n do -- n raw connections, all sent before any is read
      local s = assert(socket.connect("127.0.0.1", fake.port))
      s:settimeout(5)
      assert(s:send("POST /v2/user/get_info HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: NVX "
        .. fake.api_key .. "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
      socks[i] = s
    end
    for _, s in ipairs(socks) do
      assert.matches("^HTTP/1.1 200", assert(s:receive("*a")))
      s:close()
    end
    local st = fake.stats()
    assert.equal(n, st.max_in_flight)
    assert.equal(n, st.by_action["user/get_info"])
    assert.equal(0, st.in_flight)
  end)
end)
