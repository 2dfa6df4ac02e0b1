-- Errors that say what went wrong: the invalid params of error 7, an HTML page where
-- JSON was due, and a base URL without /v2.
local fake = require "fake"
local navixy = require "navixy"
local setup = require "setup"

describe("errors that name the cause", function()
  before_each(fake.reset)

  it("API error 7 shows each invalid param and why in tostring", function()
    local client = setup.client()
    local _, err = client:call("report/tracker/generate", { trackers = { 1 }, from = "yesterday",
      to = "2024-05-02 00:00:00", time_filter = { from = "00:00", to = "23:59", weekdays = { 1, 2, 3, 4, 5 } },
      plugin = { plugin_id = 4 } })
    assert.equal(7, err.code)
    assert.same({ { parameter = "from", error = "Wrong date format" } }, err.response.errors)
    assert.equal("navixy: report/tracker/generate: api error 7 (HTTP 400): Invalid parameters "
      .. "(from: Wrong date format)", tostring(err))
    fake.fault{ action = "tracker/list", type = "error", code = 7, status = 400,
      errors = { { parameter = "labels", error = "Must be\nan array" }, { parameter = "limit", error = "Too big" } } }
    _, err = client:call("tracker/list")
    assert.matches("(labels: Must be an array; limit: Too big)", tostring(err), 1, true)
    client:close()
  end)

  it("a 2xx HTML page is a decode error naming a proxy or login portal, never a file", function()
    local client = setup.client()
    fake.fault{ action = "tracker/list", type = "status", status = 200, content_type = "text/html; charset=utf-8",
      body = "<!DOCTYPE html><html><body>Sign in to the Wi-Fi</body></html>" }
    local res, err = client:call("tracker/list")
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    assert.equal(200, err.status)
    assert.matches("an HTML page", tostring(err), 1, true)
    assert.matches("a proxy or a login portal", tostring(err), 1, true)
    -- untyped, known by its start
    fake.fault{ action = "tracker/list", type = "raw", status = 200, content_type = "",
      body = "  <html><body>portal</body></html>" }
    res, err = client:call("tracker/list")
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    assert.matches("an HTML page", tostring(err), 1, true)
    client:close()
  end)

  it("names a base URL without /v2 for an HTML page and for a 404", function()
    local client = navixy.new{ url = fake.base, hash = fake.api_key }
    local _, err = client:call("tracker/list") -- the fake's front answers 404 outside /v2/
    assert.equal(404, err.status)
    assert.matches("likely cause: the base URL has no /v2", tostring(err), 1, true)
    client:close()
    local v2 = setup.client()
    local _, err2 = v2:call("no/such/action") -- an action the server lacks: 111 "Wrong handler", HTTP 400
    assert.equal(111, err2.code)
    assert.equal(400, err2.status)
    assert.not_matches("/v2", tostring(err2), 1, true) -- the URL is right: no hint
    v2:close()
  end)

  it("keeps file answers that are files", function()
    local client = setup.client()
    local file = assert(client:call("report/tracker/download", { report_id = 1, format = "pdf" }))
    assert.equal("application/pdf", file.content_type)
    client:close()
  end)
end)
