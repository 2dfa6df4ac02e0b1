-- The sibling APIs on the same host: client:dwh() (/dwh/v1) and client:eco_fleet()
-- (/eco_fleet) sharing the session; call options headers (replacing the client's) and
-- query (any method); RFC 7807 problems as API errors.
local fake = require "fake"
local navixy = require "navixy"
local setup = require "setup"

local READ = { tracker_id = 1, from = "2024-10-10T00:00:00Z", to = "2024-10-10T00:00:30Z", columns = { "lat" } }
local PROPS = { step_size = 1, resampling_props = { { data_type = "FUEL", resampling_method = "PREVIOUS" } } }

describe("call options headers and query", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("headers replace the client's header of the same name: one header each", function()
    assert(client:call("tracker/list", nil, { headers = { accept = "application/json; charset=utf-8",
      ["X-Request-Id"] = "r1" } }))
    local h = fake.last_request().headers
    assert.equal("application/json; charset=utf-8", h.accept) -- one value, not a list of two
    assert.equal("r1", h["x-request-id"])
    assert.equal("NVX " .. fake.api_key, h.authorization)
    assert(client:call("tracker/list"))
    assert.equal("application/json", fake.last_request().headers.accept) -- for that call only
  end)

  it("query adds a query string to a POST and to a GET", function()
    assert(client:call("tracker/list", { labels = { "a" } }, { query = { trace = "x y", n = 2 } }))
    local req = fake.last_request()
    assert.equal("POST", req.method)
    assert.equal("/v2/tracker/list?n=2&trace=x%20y", req.uri)
    assert.same({ "a" }, req.params.labels)
    local get = setup.client{ auth = "query" }
    assert(get:call("tracker/list", { labels = { "a" } }, { method = "GET", query = { trace = "t" } }))
    assert.matches("^/v2/tracker/list%?labels=.*&trace=t&hash=", fake.last_request().uri)
    get:close()
  end)

  it("raises on a header value with CR or LF and on a query that is not a table", function()
    assert.matches("^navixy: option 'headers'", setup.raised(client.call, client, "tracker/list", nil,
      { headers = { Accept = "a\r\nX: y" } }))
    assert.matches("^navixy: call option 'query'", setup.raised(client.call, client, "tracker/list", nil,
      { query = "a=1" }))
  end)
end)

describe("client:dwh() and client:eco_fleet()", function()
  before_each(fake.reset)

  it("ask the Raw IoT Data API for CSV or Parquet by Accept", function()
    local client = setup.client()
    local dwh = client:dwh()
    assert.equal(dwh, client:dwh()) -- one per client
    assert.matches("/dwh/v1", tostring(dwh))
    local csv = assert(dwh:call("tracker/raw_data/read", READ, { headers = { Accept = "text/csv" } }))
    assert.equal("text/csv", csv.content_type)
    assert.equal("text/csv", fake.last_request().headers.accept)
    local parquet = assert(dwh:call("tracker/raw_data/read", READ,
      { headers = { Accept = "application/octet-stream" } }))
    assert.equal("PAR1", parquet.body:sub(1, 4))
    client:close()
  end)

  it("turn RFC 7807 problems into api errors: code the type, description the detail", function()
    local client = setup.client()
    local _, err = client:dwh():call("tracker/raw_data/get_inputs", { tracker_id = 99 })
    assert.equal("api", err.kind)
    assert.equal("errors/default/bad-request", err.code)
    assert.equal("201: Not found in database", err.description) -- the problem's detail: "code: description"
    assert.equal(400, err.status)
    assert.equal("navixy: tracker/raw_data/get_inputs: api error errors/default/bad-request (HTTP 400): "
      .. "201: Not found in database", tostring(err))
    _, err = client:eco_fleet():call("trackers/1/resampling", PROPS, { query = { interval = "P1D/2020-12-31T00:00Z" } })
    assert.equal("errors/default/not-acceptable", err.code)
    assert.matches("Accept must be text/csv, got application/json", tostring(err), 1, true)
    client:close()
  end)

  it("send Eco Fleet's POST with a query and Accept: text/csv", function()
    local client = setup.client{ auth = "body" } -- the siblings take the hash in the header whatever
    local res, err = client:eco_fleet():call("trackers/2/resampling", PROPS,
      { query = { interval = "PT1H/2020-12-31T00:00Z" }, headers = { Accept = "text/csv" } })
    assert.is_nil(err)
    assert.equal("text/csv", res.content_type)
    assert.matches('^"Time","Fuel level","SPEED"', res.body)
    local req = fake.last_request()
    assert.equal("/eco_fleet/trackers/2/resampling?interval=PT1H%2F2020-12-31T00%3A00Z", req.uri)
    assert.equal("NVX " .. fake.api_key, req.headers.authorization)
    client:close()
  end)

  it("follow the client's API key when it changes", function()
    local demo = fake.users.demo
    local maker = navixy.new{ url = fake.url, login = demo.login, password = demo.password }
    local other = assert(maker:call("api/key/create", { title = "other" })).value.hash
    maker:close()
    local client = setup.client()
    assert.equal(fake.api_key, client:dwh():get_hash())
    client:set_hash(other)
    assert(client:dwh():call("tracker/raw_data/get_inputs", { tracker_id = 1 }))
    assert.equal("NVX " .. other, fake.last_request().headers.authorization)
    client:close()
  end)

  it("share the user's session: one login, and one re-login when it ends", function()
    local demo = fake.users.demo
    local client = navixy.new{ url = fake.url, login = demo.login, password = demo.password }
    local dwh = client:dwh()
    assert(dwh:call("tracker/raw_data/get_inputs", { tracker_id = 1 }))
    assert.equal(1, fake.stats().logins)
    assert.equal(client:get_hash(), dwh:get_hash())
    fake.expire_sessions()
    assert(dwh:call("tracker/raw_data/get_inputs", { tracker_id = 1 })) -- a 401, the user logs in again
    assert.equal(2, fake.stats().logins)
    assert.equal(client:get_hash(), dwh:get_hash())
    assert(client:call("user/get_info")) -- the user client has the new session too
    assert.equal(2, fake.stats().logins)
    client:close()
    assert.matches("closed", tostring(dwh))
  end)
end)
