-- How params become a request body, as the server sees it (raw bytes).
local navixy = require "navixy"
local fake = require "fake"

local function body_for(encoding, params)
  fake.reset()
  local c = navixy.new { url = fake.url, hash = fake.api_key, encoding = encoding }
  c:call("tracker/list", params)
  c:close()
  return fake.last_request()
end

describe("JSON encoding", function()
  it("sends params as one JSON object with stable key order", function()
    local req = body_for("json", { b = 1, a = "x", c = true })
    assert.equal('{"a":"x","b":1,"c":true}', req.body)
    assert.equal("application/json", req.content_type)
  end)

  it("writes integers without .0, and floats that read back the same", function()
    local req = body_for("json", { i = 7, f = 7.0, big = 2 ^ 53, x = 0.1, neg = -3 })
    assert.equal('{"big":9007199254740992,"f":7,"i":7,"neg":-3,"x":0.10000000000000001}', req.body)
  end)

  it("sends an empty table as {}, navixy.array as [], navixy.null as null", function()
    local req = body_for("json", { o = {}, a = navixy.array(), n = navixy.null,
      l = navixy.array { 1, 2 } })
    assert.equal('{"a":[],"l":[1,2],"n":null,"o":{}}', req.body)
  end)

  it("sends no params as {}", function()
    assert.equal("{}", body_for("json", nil).body)
  end)

  it("keeps UTF-8 and escapes control characters", function()
    local req = body_for("json", { label = "Grüße \"ok\"\n\1" })
    assert.equal('{"label":"Grüße \\"ok\\"\\u000A\\u0001"}', req.body)
    assert.equal("Grüße \"ok\"\n\1", req.params.label)
  end)

  it("encodes nested arrays and objects", function()
    local req = body_for("json", { trackers = { 1, 2 }, tag = { name = "hop", color = "FF0000" } })
    assert.equal('{"tag":{"color":"FF0000","name":"hop"},"trackers":[1,2]}', req.body)
  end)
end)

describe("form encoding", function()
  it("sends strings as they are, numbers in decimal, booleans as true/false", function()
    local req = body_for("form", { s = "a b&c=d", n = 7, f = 1.5, t = true, nf = false })
    assert.equal("f=1.5&n=7&nf=false&s=a%20b%26c%3Dd&t=true", req.body)
    assert.equal("application/x-www-form-urlencoded", req.content_type)
    assert.equal("a b&c=d", req.params.s)
  end)

  it("sends tables as JSON text, as the API expects", function()
    local req = body_for("form", { trackers = { 1, 2 }, tag = { name = "hop" }, e = navixy.array() })
    assert.equal("e=%5B%5D&tag=%7B%22name%22%3A%22hop%22%7D&trackers=%5B1%2C2%5D", req.body)
    assert.same({ 1, 2 }, req.params.trackers)
  end)

  it("sends a string that looks like a number as a string", function()
    local req = body_for("form", { code = "007" })
    assert.equal("code=007", req.body)
  end)

  it("sends no params as an empty body", function()
    assert.equal("", body_for("form", nil).body)
  end)

  it("raises on params that have no form", function()
    local c = navixy.new { url = fake.url, hash = fake.api_key, encoding = "form" }
    assert.has_error(function() c:call("tracker/list", { x = print }) end)
    assert.has_error(function() c:call("tracker/list", { "positional" }) end)
  end)
end)

describe("navixy.null", function()
  it("is lua-cjson's null too, so code using both mixes them", function()
    assert.equal(require("cjson").null, navixy.null)
    assert.equal('{"n":null}', body_for("json", { n = require("cjson").null }).body)
  end)
end)

describe("navixy.array", function()
  it("marks a table and returns it", function()
    local t = { 1 }
    assert.equal(t, navixy.array(t))
    assert.same({}, navixy.array())
  end)

  it("raises on a non-table, as misuse: navixy: and no position", function()
    -- (pcall, not has_error: luassert strips a position from the message it compares)
    local _, msg = pcall(function() local t = navixy.array(5); return t end)
    assert.equal("navixy: navixy.array expects a table, got number", msg)
  end)
end)
