-- Secrets never show: across many failure modes, every tostring(err),
-- tostring(client), every error field (recursively) and every on_request
-- payload is collected and searched for the password and the hashes. The
-- fake server is made to echo them back in every place an answer can hold
-- text. What is collected is also written to build/results/, where
-- spec/support/check-secrets (a check of `make test`) looks again, together
-- with the TAP output of every suite.
local navixy = require "navixy"
local fake = require "fake"
local sockets = require "sockets"

local demo, twofa = fake.users.demo, fake.users.twofa
local flavour = require "flavour"

-- Everything seen, for the files written at the end.
local seen, hook_lines = {}, {}

local function record(text) seen[#seen + 1] = text end

-- Every string reachable from v (keys and values, metatables skipped: the
-- error metatable holds functions only), plus tostring of tables with one.
local function strings(v, out, depth)
  out = out or {}
  depth = depth or 0
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "number" or type(v) == "boolean" then
    out[#out + 1] = tostring(v)
  elseif type(v) == "table" and depth < 50 then
    if getmetatable(v) and getmetatable(v).__tostring then out[#out + 1] = tostring(v) end
    for k, x in pairs(v) do
      strings(k, out, depth + 1)
      strings(x, out, depth + 1)
    end
  end
  return out
end

local function hook(info)
  local parts = {}
  for _, s in ipairs(strings(info)) do parts[#parts + 1] = s end
  table.sort(parts)
  hook_lines[#hook_lines + 1] = table.concat(parts, " ")
end

-- The secrets a client holds: its hash (beyond the 4 characters it may
-- show: 5 are already too many) and the password (not even its first 5).
local function forbidden(c, extra)
  local list = { demo.password, demo.password:sub(1, 5), twofa.password, twofa.password:sub(1, 5),
    fake.api_key:sub(1, 5) }
  local h = c and c:get_hash()
  if h then list[#list + 1] = h:sub(1, 5) end
  for _, s in ipairs(extra or {}) do list[#list + 1] = s:sub(1, 5) end
  return list
end

local function assert_clean(what, values, secrets)
  for _, text in ipairs(strings(values)) do
    record(text)
    for _, secret in ipairs(secrets) do
      if text:find(secret, 1, true) then
        error(("%s shows a secret (%d characters of it)"):format(what, #secret), 2)
      end
    end
  end
end

-- Checks an error and the client's tostring; returns the error.
local function check(c, err, extra)
  assert.is_true(navixy.is_error(err), "expected an error, got " .. tostring(err))
  local secrets = forbidden(c, extra)
  assert_clean("tostring(err)", { tostring(err) }, secrets)
  assert_clean("an error field", err, secrets)
  assert_clean("tostring(client)", { tostring(c) }, secrets)
  assert_clean("the on_request payloads", hook_lines, secrets)
  return err
end

local function client(opts)
  opts.url = opts.url or fake.url
  opts.on_request = hook
  if opts.retries == nil then opts.retries = 0 end
  return navixy.new(opts)
end

local function logged_in(auth, encoding)
  local c = client { login = demo.login, password = demo.password, auth = auth, encoding = encoding }
  assert(c:login())
  return c
end

-- An answer body that holds the secrets in every way JSON can (the
-- password defaults to the demo user's; a client without one has none).
local function echo_body(hash, code, password)
  password = password or demo.password
  return {
    success = false,
    status = { code = code, description = "echo " .. hash .. " / " .. password },
    errors = { { parameter = "hash", error = "bad value " .. hash }, { parameter = "password", error = password } },
    [hash] = { nested = { hash, password } },
    copy = hash,
  }
end

local MODES = {
  { "header", "json" }, { "query", "json" }, { "body", "json" }, { "body", "form" }, { "query", "form" },
}

after_each(function()
  -- append what this test saw: the files then hold the whole run
  local dir = fake.root .. "/build/results/"
  local f = io.open(dir .. "secrets-outputs-" .. flavour .. ".log", "a")
  if f then f:write(table.concat(seen, "\n"), "\n"); f:close() end
  local h = io.open(dir .. "on_request-" .. flavour .. ".log", "a")
  if h then h:write(table.concat(hook_lines, "\n"), "\n"); h:close() end
  seen, hook_lines = {}, {}
end)

describe("secrets", function()
  before_each(fake.reset)

  setup(function()
    -- start the files afresh for this run
    for _, name in ipairs { "secrets-outputs-", "on_request-" } do
      local f = io.open(fake.root .. "/build/results/" .. name .. flavour .. ".log", "w")
      if f then f:close() end
    end
  end)

  for _, mode in ipairs(MODES) do
    local auth, encoding = mode[1], mode[2]
    describe("with auth = " .. auth .. ", encoding = " .. encoding, function()
      it("an API error echoing the hash and password everywhere", function()
        local c = logged_in(auth, encoding)
        local hash = c:get_hash()
        fake.fault { action = "tracker/list", type = "raw", status = 400, body = echo_body(hash, 7) }
        local _, err = c.tracker.list()
        check(c, err)
        assert.equal(7, err.code)
        assert.equal(hash:sub(1, 4) .. "...", err.response.copy) -- masked, still there
        assert.equal("****", err.response.errors[2].error)
      end)

      it("an HTTP error whose body echoes them", function()
        local c = logged_in(auth, encoding)
        local hash = c:get_hash()
        fake.fault { action = "tracker/list", type = "status", status = 502,
          body = "<html>" .. hash .. " " .. demo.password .. "</html>" }
        local _, err = c.tracker.list()
        check(c, err)
        assert.equal("http", err.kind)
      end)

      it("a decode error whose body echoes them", function()
        local c = logged_in(auth, encoding)
        fake.fault { action = "tracker/list", type = "raw", body = "oops " .. c:get_hash() .. demo.password }
        local _, err = c.tracker.list()
        check(c, err)
        assert.equal("decode", err.kind)
      end)

      it("an ended session whose re-login is refused with an echo of the password", function()
        local c = logged_in(auth, encoding)
        local old = c:get_hash()
        fake.expire_sessions()
        fake.fault { action = "user/auth", type = "raw", status = 400, body = echo_body(old, 7) }
        local _, err = c.tracker.list()
        check(c, err, { old })
        assert.equal("user/auth", err.action)
      end)

      it("a transport error and a timeout", function()
        local c = logged_in(auth, encoding)
        fake.fault { action = "tracker/list", type = "stall", seconds = 2 }
        local _, err = c:call("tracker/list", nil, { timeout = 0.2 })
        check(c, err)
        assert.equal("timeout", err.kind)
        -- a write goes out on a new connection: its drop is a transport error
        fake.fault { action = "tracker/update", type = "drop" }
        _, err = c.tracker.update { tracker_id = 1 }
        check(c, err)
        assert.equal("transport", err.kind)
      end)
    end)
  end

  it("a body with the hash across the 4 KiB cut leaves no piece of it", function()
    local c = logged_in("header", "json")
    local hash = c:get_hash()
    for shift = 1, #hash - 1 do
      fake.fault { action = "tracker/list", type = "status", status = 500,
        body = string.rep("x", 4096 - shift) .. hash .. string.rep("y", 100) }
      local _, err = c.tracker.list()
      check(c, err)
      assert.is_nil(err.body:find(hash:sub(1, 5), 1, true))
    end
  end)

  it("a wrong password, first and again", function()
    local c = client { login = demo.login, password = "wrong-" .. demo.password }
    fake.fault { action = "user/auth", type = "error", code = 102,
      description = "no user with password wrong-" .. demo.password }
    local _, err = c.tracker.list()
    check(c, err, { "wrong-" .. demo.password })
    assert.equal(102, err.code)
    local _, again = c.tracker.list()
    check(c, again, { "wrong-" .. demo.password })
  end)

  it("the two-factor error", function()
    local c = client { login = twofa.login, password = twofa.password }
    local _, err = c.tracker.list()
    check(c, err)
    assert.matches("two%-factor", err.description)
  end)

  it("a refused connection, TLS rejection and max_size", function()
    local url = ("http://127.0.0.1:%d/v2"):format(sockets.refused())
    local c = client { url = url, hash = fake.api_key }
    check(c, select(2, c.tracker.list()), { fake.api_key })
    c = client { url = fake.tls_url, hash = fake.api_key, auth = "query" }
    check(c, select(2, c.tracker.list()), { fake.api_key })
    c = client { hash = fake.api_key, max_size = 100, auth = "body" }
    fake.fault { action = "tracker/list", type = "large", bytes = 5000 }
    check(c, select(2, c.tracker.list()), { fake.api_key })
  end)

  it("an API key echoed back by the server", function()
    local c = client { hash = fake.api_key, auth = "query" }
    fake.fault { action = "tracker/list", type = "raw", status = 403, body = echo_body(fake.api_key, 11, "") }
    local _, err = c.tracker.list()
    check(c, err, { fake.api_key })
    assert.equal(11, err.code)
  end)

  it("tostring(client) before login, logged in, after logout and closed", function()
    local c = client { login = demo.login, password = demo.password }
    assert_clean("tostring(client)", { tostring(c) }, forbidden(c))
    assert(c:login())
    local hash = c:get_hash()
    assert_clean("tostring(client)", { tostring(c) }, forbidden(c))
    assert(c:logout())
    c:close()
    assert_clean("tostring(client)", { tostring(c) }, forbidden(nil, { hash }))
  end)

  it("a subscription: tostring, its notices and errors, with the server echoing the hash", function()
    local c = logged_in("header", "json")
    local first = c:get_hash()
    local notices = {}
    local sub = c:subscribe({ { type = "state", trackers = { 1 } } }, { on_status = function(info)
      notices[#notices + 1] = info
    end })
    assert_clean("tostring(sub)", { tostring(sub) }, forbidden(c))
    assert.equal("response", assert(sub:next(sockets.bound(2))).type)
    assert_clean("tostring(sub)", { tostring(sub) }, forbidden(c))
    fake.ws_fault { type = "close", code = 4000, reason = "bye " .. first .. " " .. demo.password }
    repeat local msg = assert(sub:next(sockets.bound(3))) until msg.type == "response"
    fake.expire_sessions() -- a logout event: a new session
    repeat local msg = assert(sub:next(sockets.bound(3))) until msg.type == "response"
    local second = c:get_hash()
    assert.are_not.equal(first, second)
    sub:close()
    -- one that ends with the server's close echoing the hash in use
    sub = c:subscribe({ { type = "state", trackers = { 1 } } }, { retries = 0, on_status = function(info)
      notices[#notices + 1] = info
    end })
    assert(sub:next(sockets.bound(2)))
    fake.ws_fault { type = "close", code = 4000, reason = "bye " .. second }
    local msg, err
    repeat msg, err = sub:next(sockets.bound(3)) until not msg
    check(c, err, { first })
    assert_clean("tostring(sub)", { tostring(sub) }, forbidden(c, { first }))
    assert_clean("the on_status notices", notices, forbidden(c, { first }))
    assert.is_true(#notices >= 4)
    sub:close()
    c:close()
  end)

  it("the collection really finds a secret (the check can fail)", function()
    local c = logged_in("header", "json")
    local ok, msg = pcall(assert_clean, "a planted value", { "x" .. c:get_hash() }, forbidden(c))
    assert.is_false(ok)
    assert.matches("shows a secret", msg)
    ok = pcall(assert_clean, "a planted value", { { deep = { demo.password } } }, forbidden(c))
    assert.is_false(ok)
    seen = {} -- the planted values are not output of the client
  end)
end)

describe("masking", function()
  before_each(fake.reset)

  -- a login that works with `password`, then answers of `body` to tracker/list
  local function echoing(password, body, status)
    fake.fault { action = "user/auth", type = "raw",
                 body = { success = true, hash = "0123456789abcdef0123456789abcdef" } }
    fake.fault { action = "tracker/list", type = "raw", status = status or 400, body = body,
                 content_type = type(body) == "string" and "text/plain" or nil }
    local c = client { login = demo.login, password = password }
    local _, err = c.tracker.list()
    return c, err
  end

  it("finds secrets in their escaped forms: JSON-escaped, percent-encoded", function()
    local password = 'pa"ss\\w/rd %x+é'
    local json_escaped = 'pa\\"ss\\\\w\\/rd %x+\\u00e9'
    local percent = "pa%22ss%5Cw%2Frd+%25x%2B%C3%A9"
    local _, err = echoing(password, '{"success":false,"status":{"code":7,"description":"got ' .. json_escaped
      .. '"},"echo":"' .. json_escaped .. '","query":"password=' .. percent .. '"}')
    for _, text in ipairs { err.description, tostring(err), err.response.echo, err.response.query } do
      assert.is_nil(text:find("ss\\w", 1, true), text)
      assert.is_nil(text:find("%5Cw", 1, true), text)
      assert.truthy(text:find("****", 1, true), text)
    end
    _, err = echoing(password, "password=" .. percent .. " and " .. json_escaped, 502)
    assert.equal("password=**** and ****", err.body)
  end)

  it("masks at any depth", function()
    local password = "deep-secret-42"
    local body = ('{"a":'):rep(300) .. '"' .. password .. '"' .. ("}"):rep(300)
    local _, err = echoing(password, '{"success":false,"status":{"code":7},"nest":' .. body .. '}')
    local v = err.response.nest
    for _ = 1, 300 do v = v.a end
    assert.equal("****", v)
  end)

  it("never alters data: a short hash leaves the words it is part of alone", function()
    local c = client { hash = "s" }
    local _, err = c.tracker.get_state { tracker_id = 99 }
    assert.equal(4, err.response.status.code) -- the key "status" kept its name
    assert.equal(false, err.response.success)
    assert.equal("navixy: tracker/list: api error 4 (HTTP 400): User or API key not found or session ended",
      tostring(select(2, client { hash = "s" }.tracker.list())))
  end)

  it("does not touch what the server did not write: a password that is a common phrase", function()
    local c = client { login = demo.login, password = "timed out", url = fake.url, timeout = 0.3 }
    fake.fault { action = "user/auth", type = "delay", seconds = 2 }
    local _, err = c.tracker.list()
    assert.equal("timeout", err.kind)
    assert.truthy(err.description:find("timed out", 1, true), err.description)
  end)
end)
