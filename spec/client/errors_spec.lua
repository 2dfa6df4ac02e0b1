-- Every way a call can fail comes back as nil, err with the right fields.
local navixy = require "navixy"
local fake = require "fake"
local setup = require "setup"

-- a client of the fake server that does not retry
local function client(opts)
  opts = opts or {}
  if opts.retries == nil then opts.retries = 0 end
  return setup.client(opts)
end

describe("API errors", function()
  before_each(fake.reset)

  it("concatenate as their text, on either side", function()
    local _, err = client().tracker.get_state { tracker_id = 99 }
    assert.equal("failed: " .. tostring(err), "failed: " .. err)
    assert.equal(tostring(err) .. " (giving up)", err .. " (giving up)")
    assert.equal(tostring(err) .. tostring(err), err .. err)
  end)

  it("an unknown tracker: kind api, code 201, HTTP 400, full fields", function()
    local res, err = client().tracker.get_state { tracker_id = 99 }
    assert.is_nil(res)
    assert.is_true(navixy.is_error(err))
    assert.equal("api", err.kind)
    assert.equal(201, err.code)
    assert.equal(400, err.status)
    assert.equal("tracker/get_state", err.action)
    assert.is_string(err.description)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.is_false(err.response.success)
    assert.equal(201, err.response.status.code)
    assert.is_nil(err.body)
  end)

  it("tostring is one line: action, code, status, description", function()
    local _, err = client { hash = "00000000000000000000000000000000" }.tracker.list()
    assert.equal("navixy: tracker/list: api error 4 (HTTP 400): "
      .. "User or API key not found or session ended", tostring(err))
  end)

  it("tostring counts the attempts of a call tried more than once", function()
    fake.fault { action = "tracker/list", type = "status", status = 502, body = "<html>", times = 3 }
    local _, err = client { retries = 2 }.tracker.list()
    assert.equal(3, err.attempts)
    assert.equal("navixy: tracker/list: http error (HTTP 502): HTTP 502 Bad Gateway (3 attempts)", tostring(err))
    fake.fault { action = "tracker/list", type = "status", status = 502, body = "<html>", times = 1 }
    _, err = client { retries = 0 }.tracker.list()
    assert.equal("navixy: tracker/list: http error (HTTP 502): HTTP 502 Bad Gateway", tostring(err))
  end)

  it("keeps extra fields of the answer (errors[] of code 7)", function()
    -- validate = false: sent as it is, for the server's refusal (the catalogue refuses it first)
    local _, err = client().tracker.get_state({}, { validate = false })
    assert.equal(7, err.code)
    assert.is_table(err.response.errors)
    assert.is_string(err.response.errors[1].parameter)
  end)

  it("a blocked tracker: code 208 with HTTP 403", function()
    local _, err = client().tracker.get_state { tracker_id = 3 }
    assert.equal(208, err.code)
    assert.equal(403, err.status)
  end)

  it("an expired hash: code 4", function()
    local c = assert(navixy.login { url = fake.url, login = fake.users.demo.login,
      password = fake.users.demo.password })
    c:set_hash(c:get_hash()) -- a hash-only client from here on: no re-login
    fake.expire_sessions()
    local bare = client { hash = c:get_hash() }
    local _, err = bare.tracker.list()
    assert.equal("api", err.kind)
    assert.equal(4, err.code)
  end)

  it("HTTP 200 with success: false is an api error too", function()
    fake.fault { action = "tracker/list", type = "raw",
      body = '{"success":false,"status":{"code":13,"description":"Operation not permitted"}}' }
    local _, err = client().tracker.list()
    assert.equal("api", err.kind)
    assert.equal(13, err.code)
    assert.equal(200, err.status)
  end)

  it("an injected error with its HTTP status", function()
    fake.fault { action = "tracker/list", type = "error", code = 236, status = 402,
      description = "Feature unavailable due to tariff restrictions" }
    local _, err = client().tracker.list()
    assert.equal(236, err.code)
    assert.equal(402, err.status)
    assert.equal("Feature unavailable due to tariff restrictions", err.description)
  end)
end)

describe("HTTP errors", function()
  before_each(fake.reset)

  it("an HTML 502 is kind http with the body kept", function()
    fake.fault { action = "tracker/list", type = "status", status = 502,
      body = "<html><body>Bad Gateway</body></html>", content_type = "text/html" }
    local res, err = client().tracker.list()
    assert.is_nil(res)
    assert.equal("http", err.kind)
    assert.equal(502, err.status)
    assert.is_nil(err.code)
    assert.equal("<html><body>Bad Gateway</body></html>", err.body)
    assert.is_true(err.retryable)
    assert.equal("navixy: tracker/list: http error (HTTP 502): HTTP 502 Bad Gateway", tostring(err))
  end)

  it("a 500 without a body", function()
    fake.fault { action = "tracker/list", type = "status", status = 500 }
    local _, err = client().tracker.list()
    assert.equal("http", err.kind)
    assert.equal(500, err.status)
    assert.equal("", err.body)
  end)

  it("cuts a long body to 4 KiB", function()
    fake.fault { action = "tracker/list", type = "status", status = 503, body = string.rep("x", 10000) }
    local _, err = client().tracker.list()
    assert.equal(4096, #err.body)
  end)

  it("a redirect is not followed", function()
    fake.fault { action = "tracker/list", type = "redirect" }
    local _, err = client().tracker.list()
    assert.equal("http", err.kind)
    assert.equal(302, err.status)
    assert.is_false(err.retryable)
    assert.matches("not followed", err.description)
  end)
end)

describe("decode errors", function()
  before_each(fake.reset)

  it("a non-JSON 200 is kind decode with the body kept", function()
    fake.fault { action = "tracker/list", type = "raw", body = "<html>oops</html>" }
    local _, err = client().tracker.list()
    assert.equal("decode", err.kind)
    assert.equal(200, err.status)
    assert.equal("<html>oops</html>", err.body)
  end)

  it("a JSON 200 that is not an object is kind decode", function()
    fake.fault { action = "tracker/list", type = "raw", body = "[1,2,3]" }
    local _, err = client().tracker.list()
    assert.equal("decode", err.kind)
    fake.fault { action = "tracker/list", type = "raw", body = '"just a string"' }
    _, err = client().tracker.list()
    assert.equal("decode", err.kind)
  end)

  it("a truncated JSON object is kind decode", function()
    fake.fault { action = "tracker/list", type = "raw", body = '{"success":true,"list":[' }
    local _, err = client().tracker.list()
    assert.equal("decode", err.kind)
  end)
end)

describe("transport errors", function()
  before_each(fake.reset)

  it("a refused connection is kind transport", function()
    local res, err = client { url = "http://127.0.0.1:9/v2" }.tracker.list()
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    assert.is_nil(err.status)
    assert.is_nil(err.code)
    assert.is_true(err.retryable)
    assert.matches("^navixy: tracker/list: transport error: ", tostring(err))
  end)

  it("a timeout is kind timeout", function()
    fake.fault { action = "tracker/list", type = "delay", seconds = 3 }
    local _, err = client { timeout = 0.5 }.tracker.list()
    assert.equal("timeout", err.kind)
    assert.is_nil(err.status)
    assert.matches("^navixy: tracker/list: timeout: ", tostring(err))
  end)

  it("a dropped connection is kind transport", function()
    -- a write goes out on a new connection: a drop there is no stale kept-alive one
    fake.fault { action = "tracker/update", type = "drop" }
    local _, err = client().tracker.update { tracker_id = 1 }
    assert.same({ "transport", "send" }, { err.kind, err.phase })
  end)

  it("an answer over max_size is refused", function()
    fake.fault { action = "tracker/list", type = "large", bytes = 200000 }
    local _, err = client { max_size = 100000 }.tracker.list()
    assert.equal("transport", err.kind)
    assert.matches("max_size", err.description)
    assert.is_false(err.retryable)
  end)

  it("a large chunked answer arrives whole", function()
    fake.fault { action = "tracker/list", type = "large", bytes = 3000000 }
    local res = assert(client().tracker.list())
    assert.is_true(res.success)
    assert.is_true(#res.list > 1000)
  end)

  it("a normal answer sent chunked decodes the same", function()
    fake.fault { action = "tracker/list", type = "chunked" }
    local res = assert(client().tracker.list())
    assert.equal(3, #res.list)
  end)
end)

describe("navixy.is_error", function()
  it("is false for anything that is not an error", function()
    assert.is_false(navixy.is_error(nil))
    assert.is_false(navixy.is_error({ kind = "api" }))
    assert.is_false(navixy.is_error("navixy: x"))
  end)
end)
