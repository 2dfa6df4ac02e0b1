-- Calling actions: client:call, namespaces, what the server receives, and
-- what comes back on success.
local navixy = require "navixy"
local fake = require "fake"
local setup = require "setup"
local raised = setup.raised

describe("calling an action", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("returns the whole decoded answer", function()
    local res, err = client:call("tracker/list")
    assert.is_nil(err)
    assert.is_true(res.success)
    assert.equal(3, #res.list)
    assert.equal("Truck 1", res.list[1].label)
  end)

  it("sends a POST to <url>/<action>", function()
    client:call("tracker/list", { labels = { "Truck" } })
    local req = fake.last_request()
    assert.equal("POST", req.method)
    assert.equal("/v2/tracker/list", req.path)
    assert.same({ "Truck" }, req.params.labels)
  end)

  it("tolerates a trailing slash in the URL and a leading slash in the action", function()
    local c = navixy.new { url = fake.url .. "/", hash = fake.api_key }
    assert.truthy(c:call("/tracker/list"))
    assert.equal("/v2/tracker/list", fake.last_request().path)
  end)

  it("keeps integers integers in Lua 5.4 and JSON null as navixy.null", function()
    local list = assert(client:call("tracker/list")).list
    assert.equal("1", tostring(list[1].id))
    assert.equal("1", tostring(list[1].id))
    local res = assert(client:call("tracker/get_state", { tracker_id = 1 }))
    assert.equal("number", type(res.state.gps.location.lat))
    assert.equal(navixy.null, res.state.battery_level)
    assert.same({}, res.state.inputs)
  end)

  it("sends the user agent, Accept and JSON content type", function()
    client:call("tracker/list")
    local h = fake.last_request().headers
    assert.equal("navixy-lua/" .. navixy.VERSION, h["user-agent"])
    assert.equal("application/json", h["content-type"])
    assert.equal("application/json", h["accept"])
  end)

  it("sends NVX-ISO-DateTime with iso_datetime = true, and extra headers", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, iso_datetime = true,
      headers = { ["X-Trace"] = "abc" }, user_agent = "fleet-tool/2" }
    c:call("tracker/list")
    local h = fake.last_request().headers
    assert.equal("true", h["nvx-iso-datetime"])
    assert.equal("abc", h["x-trace"])
    assert.equal("fleet-tool/2", h["user-agent"])
  end)

  it("sends calls without a hash when the client has none", function()
    local c = navixy.new { url = fake.url }
    local res, err = c:call("tracker/list")
    assert.is_nil(res)
    assert.equal(3, err.code)
    assert.is_nil(fake.last_request().hash)
  end)
end)

describe("namespaces", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("client.a.b(params) calls a/b", function()
    local res = assert(client.tracker.get_state { tracker_id = 2 })
    assert.is_true(res.success)
    assert.equal("tracker/get_state", fake.last_request().action)
  end)

  it("client.a:b(params) works too", function()
    assert(client.tracker:get_state { tracker_id = 2 })
    assert.equal(2, fake.last_request().params.tracker_id)
  end)

  it("goes to any depth", function()
    -- (api/key/list needs a login session: here the API key is in use)
    local _, err = client.report.tracker.status{ report_id = 999 }
    assert.equal(204, err.code) -- no such report: the server was asked
    assert.equal("report/tracker/status", fake.last_request().action)
    _, err = client.report.tracker:status{ report_id = 999 }
    assert.equal(204, err.code)
  end)

  it("passes call options through", function()
    fake.fault { action = "tracker/list", type = "delay", seconds = 2 }
    local res, err = client.tracker.list(nil, { timeout = 0.3, retries = 0 })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
  end)

  it("lets the client's own methods win at the top level", function()
    assert.equal(navixy.new { url = fake.url }.login, client.login)
    assert.is_function(client.get_hash)
  end)

  it("says what it is", function()
    assert.equal("navixy action tracker/list", tostring(client.tracker.list))
  end)
end)

describe("misuse raises", function()
  local client = navixy.new { url = fake.url, hash = fake.api_key }
  before_each(fake.reset) -- the tests count what reached the server: nothing

  it("on a non-string or malformed action", function()
    assert.has_error(function() client:call(42) end, "navixy: action must be a string, got number")
    assert.has_error(function() client:call("") end)
    assert.has_error(function() client:call("tracker/list?x=1") end)
    assert.has_error(function() client:call("tracker/ list") end)
    assert.has_error(function() client:call("tracker/list\r\nX: y") end)
    assert.has_error(function() client:call("../admin") end)
  end)

  it("on action names that would leave the base URL or name another host", function()
    for _, action in ipairs { "%2e%2e/%2e%2e/admin", "//evil.example/x", "http://evil.example/x",
      "tracker//list", "./list", "tracker/../../admin", "tracker/%6cist", "a:b", "/" } do
      assert.matches("^navixy: invalid action", raised(client.call, client, action), nil, action)
    end
    assert.equal(0, fake.stats().requests)
  end)

  it("on params that are an array: the body must be a JSON object", function()
    assert.matches("^navixy: params must be a table of name = value",
      raised(client.call, client, "tracker/list", { 1, 2, 3 }))
    assert.matches("^navixy: params must be", raised(client.call, client, "tracker/list", navixy.array()))
    assert.equal(0, fake.stats().requests)
  end)

  it("with messages that start with navixy: (no file:line: prefix), wherever the check is made", function()
    assert.matches("^navixy: cannot encode a function value",
      raised(client.call, client, "tracker/list", { f = print }))
    assert.matches("^navixy: ", raised(client.call, client, "tracker/list", { n = 0 / 0 }))
    assert.matches("^navixy: ", raised(client.call, client, "tracker/list", {}, { timeout = 1e300 }))
    assert.matches("^navixy: ", raised(navixy.new, { url = fake.url, timeout = 1e10 }))
    assert.matches("^navixy: ", raised(navixy.encode, { [true] = 1 }))
    assert.matches("^navixy: ", raised(client.login, client))
  end)

  it("on params that are not a table", function()
    assert.has_error(function() client:call("tracker/list", "labels=x") end,
      "navixy: params must be a table, got string")
  end)

  it("on unknown or mistyped call options", function()
    assert.has_error(function() client:call("tracker/list", {}, { timout = 1 }) end,
      "navixy: unknown call option 'timout' (did you mean 'timeout'?)")
    assert.has_error(function() client:call("tracker/list", {}, { retries = -1 }) end)
    assert.has_error(function() client:call("tracker/list", {}, { idempotent = "yes" }) end)
  end)

  it("on params that have no JSON form", function()
    assert.has_error(function() client:call("tracker/list", { f = print }) end,
      "navixy: cannot encode a function value")
    assert.has_error(function() client:call("tracker/list", { x = { 1, nil, 3 } }) end)
    local cycle = {}
    cycle.self = cycle
    assert.has_error(function() client:call("tracker/list", { c = cycle }) end)
    assert.has_error(function() client:call("tracker/list", { n = 0 / 0 }) end)
  end)

  it("on a method called with '.' instead of ':'", function()
    assert.has_error(function() client.call("tracker/list") end)
  end)
end)
