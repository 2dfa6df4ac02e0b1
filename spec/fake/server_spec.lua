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
    -- an action the server does not have: 111 "Wrong handler" (errors.md), HTTP 400
    status, res = fake.call("no/such/action", {}, fake.api_key)
    assert.equal(400, status); assert.same({ code = 111, description = "Wrong handler" }, res.status)
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

  it("lets a waiting two-factor login resend its code once per 5 minutes (264 within)", function()
    local hash = login(twofa).hash
    local status, r = fake.call("user/auth/code/resend", nil, hash)
    assert.equal(200, status); assert.is_true(r.success)
    status, r = fake.call("user/auth/code/resend", nil, hash)
    assert.equal(403, status)
    assert.equal(264, r.status.code)
    assert.equal("PT5M", r.timeout)
    local m, sec = r.remainder:match("^PT(%d+)M([%d.]*)S?$") -- "PT4M59.987S", or "PT5M" at once
    local left = tonumber(m) * 60 + (tonumber(sec) or 0)
    assert.is_true(left > 295 and left <= 300, r.remainder)
    -- the clock is the user's: a new login does not reset it
    status, r = fake.call("user/auth/code/resend", nil, login(twofa).hash)
    assert.equal(403, status)
    assert.equal(264, r.status.code)
    -- a normal session cannot resend
    status, r = fake.call("user/auth/code/resend", nil, fake.api_key)
    assert.equal(400, status)
    assert.equal(4, r.status.code)
    fake.reset_resend()
    assert.equal(200, (fake.call("user/auth/code/resend", nil, hash)))
    fake.settings { resend_timeout = 1 }
    fake.reset_resend()
    assert.equal(200, (fake.call("user/auth/code/resend", nil, hash)))
    local t0 = socket.gettime()
    status, r = fake.call("user/auth/code/resend", nil, hash)
    assert.equal(403, status)
    assert.equal(264, r.status.code); assert.equal("PT1S", r.timeout)
    socket.sleep(math.max(0, t0 + 1.05 - socket.gettime()))
    assert.equal(200, (fake.call("user/auth/code/resend", nil, hash)))
  end)

  it("derives the HTTPS ports from NAVIXY_FAKE_PORT when only that is set", function()
    local lua = require "flavour"
    local function run(cmd)
      local p = assert(io.popen(("cd '%s' && env -u NAVIXY_FAKE_TLS_PORT -u NAVIXY_FAKE_OTHER_TLS_PORT %s")
        :format(fake.root, cmd)))
      local out = p:read("*a"); p:close()
      return out
    end
    assert.equal("30000 30001 30002 30003\n", run("NAVIXY_FAKE_PORT=30000 spec/support/fake-navixy ports"))
    assert.equal("30000 30001 30002 30003\n", run("NAVIXY_FAKE_PORT=30000 " .. lua .. [[ -e '
      package.path = "spec/support/?.lua;" .. package.path
      local f = require "fake"
      print(f.port .. " " .. f.tls_port .. " " .. f.other_tls_port .. " " .. f.upload_port)']]))
    assert.equal("30000 31000 31001 30003\n",
      run("NAVIXY_FAKE_PORT=30000 NAVIXY_FAKE_TLS_PORT=31000 spec/support/fake-navixy ports"))
    assert.equal("18080 18443 18444 18083\n", run("env -u NAVIXY_FAKE_PORT spec/support/fake-navixy ports"))
  end)

  -- The pids of the fake's nginx workers (children of the master), from /proc.
  local function workers()
    local f = assert(io.open(fake.rundir .. "/nginx.pid")); local master = f:read("*l"); f:close()
    local list = {}
    local p = assert(io.popen("ls /proc"))
    for pid in p:lines() do
      local s = pid:match("^%d+$") and io.open("/proc/" .. pid .. "/stat")
      if s then
        if (s:read("*l") or ""):match("%) %S+ (%d+)") == master then list[#list + 1] = pid end
        s:close()
      end
    end
    p:close()
    return list
  end

  it("restarts without procps, with as many workers as asked, all sharing one state", function()
    -- a PATH with what the script needs and no pgrep, ps or pkill (procps)
    local bin = os.tmpname()
    os.remove(bin)
    assert(os.execute("mkdir " .. bin))
    for _, tool in ipairs{ "bash", "cat", "dirname", "id", "mkdir", "mv", "nginx", "openssl", "rm", "sed", "seq",
                           "sleep", "tail" } do
      local p = assert(io.popen("command -v " .. tool)); local path = p:read("*l"); p:close()
      assert.truthy(path, tool)
      os.execute(("ln -s '%s' '%s/%s'"):format(path, bin, tool))
    end
    -- nginx must not inherit the sanitizers' LD_PRELOAD (make check-memory)
    local function script(env, cmd)
      local r = os.execute(("cd '%s' && env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS PATH='%s' %s "
        .. "spec/support/fake-navixy %s '%s' >/dev/null")
        :format(fake.root, bin, env, cmd, fake.rundir))
      return r == true or r == 0
    end
    local ok = script("NAVIXY_FAKE_WORKERS=4", "restart")
    local four = workers()
    local hash = ok and login(demo).hash
    local counts = {}
    if ok then
      -- 40 requests on fresh connections spread over the workers; one session for all
      for _ = 1, 40 do
        local s = assert(socket.connect("127.0.0.1", fake.port))
        s:send("POST /v2/user/get_info HTTP/1.1\r\nHost: x\r\nAuthorization: NVX " .. hash
          .. "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        counts[assert(s:receive("*l"))] = true
        s:close()
      end
    end
    local stats = ok and fake.stats()
    local back = script("", "restart")
    os.execute("rm -rf " .. bin)
    assert.is_true(ok, "restart with 4 workers and no procps")
    assert.is_true(back, "restart with the default workers")
    assert.equal(4, #four)
    assert.same({ ["HTTP/1.1 200 OK"] = true }, counts)
    assert.equal(40, stats.by_action["user/get_info"])
    assert.equal(2, #workers())
    fake.ensure()
  end)
end)
