-- Closing clients, garbage collection and resource use.
local navixy = require "navixy"
local fake = require "fake"

local open_fds = require("local_files").open_fds

describe("closing a client", function()
  before_each(fake.reset)

  it("is idempotent", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    c:close()
    c:close()
    assert.equal("navixy client (closed)", tostring(c))
  end)

  it("makes later calls raise 'client is closed'", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    c:close()
    assert.has_error(function() c:call("tracker/list") end, "navixy: client is closed")
    assert.has_error(function() c.tracker.list() end, "navixy: client is closed")
    assert.has_error(function() c:get_hash() end, "navixy: client is closed")
  end)

  it("reuses one connection across calls (keep-alive)", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key }
    assert(c.tracker.list())
    for _ = 1, 20 do assert(c.tracker.list()) end
    -- counted by the server (nginx's connection serial numbers): the process's
    -- descriptors move with other tests' clients being collected
    local reqs = fake.requests()
    assert.equal(21, #reqs)
    for _, req in ipairs(reqs) do assert.equal(reqs[1].connection, req.connection) end
    c:close()
  end)

  it("keeps the descriptor count flat over thousands of clients", function()
    local function churn(n)
      for _ = 1, n do
        local c = navixy.new { url = fake.url, hash = fake.api_key }
        assert(c.tracker.list())
        if _ % 2 == 0 then c:close() end -- the others are left to the GC
      end
      collectgarbage()
      collectgarbage()
    end
    churn(200)
    local before = open_fds()
    churn(2000)
    assert.is_true(open_fds() - before <= 2, "descriptors grew")
  end)
end)

describe("navixy.core", function()
  local core = require "navixy.core"
  -- the settings navixy.options computes (the core takes no defaults)
  local function settings(more)
    local s = { url = fake.url, auth = "header", encoding = "json", timeout = 30,
                connect_timeout = 10, max_size = 1024, ssl_verify = true,
                headers = { "Accept: application/json" } }
    for k, v in pairs(more or {}) do s[k] = v end
    return s
  end

  it("userdata clients close once, via close or __gc", function()
    local h = core.new(settings())
    assert.is_false(h:is_closed())
    h:close()
    assert.is_true(h:is_closed())
    h:close()
    assert.equal("navixy.core client (closed)", tostring(h))
    assert.has_error(function() h:request { action = "tracker/list", body = "{}" } end,
      "navixy: client is closed")
  end)

  it("raises on bad settings without leaking, with messages that start with navixy:", function()
    local bad = {
      settings { auth = "x" }, settings { timeout = -1 }, settings { timeout = 0 },
      settings { timeout = 1e7 }, settings { max_size = 0 }, settings { headers = { "no colon" } },
      settings { headers = { "X: a\r\nY: b" } }, settings { hash = "" }, settings { url = fake.url .. "\n" },
      settings { encoding = false }, {}, "x",
    }
    for _, s in ipairs(bad) do
      local ok, msg = pcall(core.new, s)
      assert.is_false(ok)
      assert.matches("^navixy: ", msg)
    end
  end)

  it("raises on requests the C core cannot send safely", function()
    local h = core.new(settings())
    for _, req in ipairs {
      { action = "tracker list", body = "{}" }, { action = "a\r\nX: y", body = "{}" },
      { action = "", body = "{}" }, { action = "a?b", body = "{}" }, { body = "{}" },
      { action = "a", body = "{}", timeout = 0 }, { action = "a", body = "{}", timeout = 1e12 },
    } do
      local ok, msg = pcall(h.request, h, req)
      assert.is_false(ok)
      assert.matches("^navixy: ", msg)
    end
    h:close()
  end)

  it("raises on waits and slots out of range, with messages that start with navixy:", function()
    local h = core.new(settings())
    for _, seconds in ipairs { -1, 0 / 0, 2e9, math.huge } do
      assert.has_error(function() h:wait(seconds) end, "navixy: wait out of range")
      assert.has_error(function() h:events(seconds, {}) end, "navixy: wait out of range")
    end
    for _, slot in ipairs { -1, 257 } do
      assert.has_error(function() h:start(slot, { action = "tracker/list", body = "{}" }) end,
        "navixy: slot out of range")
    end
    assert.has_error(function() h:events(0) end) -- no table for the events
    assert.is_nil(h:wait(0)) -- in range: nothing started, nothing came
    assert.equal(0, h:events(0, {}))
    h:close()
  end)

  it("sha1hex gives the FIPS 180 digests", function()
    assert.equal("a9993e364706816aba3e25717850c26c9cd0d89d", core.sha1hex("abc"))
    assert.equal("da39a3ee5e6b4b0d3255bfef95601890afd80709", core.sha1hex(""))
    assert.equal("84983e441c3bd26ebaae4aa1f95129e5e54670f1",
      core.sha1hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    assert.equal("34aa973cd4c4daa4f61eeb2bdbad27316534016f", core.sha1hex(("a"):rep(1000000)))
  end)

  -- the request the ngx transport sends: the URL's path after its origin
  local origin = fake.url:match("^(https?://[^/]+)")
  local host = origin:match("//(.*)")
  local function http1(h, req) return h:http1_request(req, host, #origin) end
  local function text(path, lines, body)
    return ("POST %s HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: gzip\r\n%s\r\nContent-Length: %d\r\n\r\n%s")
      :format(path, host, table.concat(lines, "\r\n"), #body, body)
  end
  local path = fake.url:sub(#origin + 1)

  it("http1_request shows a request as it would be sent", function()
    local h = core.new(settings { hash = "abcd1234abcd1234", auth = "query" })
    assert.equal(text(path .. "/tracker/list?hash=abcd1234abcd1234",
      { "Accept: application/json", "Content-Type: application/json" }, "{}"),
      http1(h, { action = "tracker/list", body = "{}" }))
    assert.equal(("GET %s/tracker/list?a=1&hash=abcd1234abcd1234 HTTP/1.1\r\nHost: %s\r\n"
      .. "Accept-Encoding: gzip\r\nAccept: application/json\r\n\r\n"):format(path, host),
      http1(h, { action = "tracker/list", body = "a=1", method = "GET" }))
    assert.has_error(function() h:http1_request({ action = "x", body = "{}" }, "a\r\nb", 0) end)
  end)

  it("prepares a login without the hash, wherever the hash would go", function()
    for _, auth in ipairs { "header", "query", "body" } do
      local h = core.new(settings { hash = "abcd1234abcd1234", auth = auth })
      assert.equal(text(path .. "/user/auth", { "Accept: application/json", "Content-Type: application/json" },
        '{"login":"x"}'), http1(h, { action = "user/auth", body = '{"login":"x"}', anonymous = true }))
      local with = http1(h, { action = "tracker/list", body = "{}" })
      if auth == "header" then assert.matches("\r\nAuthorization: NVX abcd1234abcd1234\r\n", with, 1, true) end
      h:close()
    end
  end)
end)
