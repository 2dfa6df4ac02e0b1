-- The fake refuses what Navixy's docs refuse, by the rules of the catalogue generated from
-- them (lua/navixy/catalogue/data.lua), with LuaSocket only (never our client).
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"

local key = fake.api_key

-- POST of a JSON body; returns status, decoded answer.
local function post(action, body, hash)
  local status, text = fake.http("POST", fake.url .. "/" .. action, body,
    { ["content-type"] = "application/json", authorization = "NVX " .. (hash or key) })
  return status, cjson.decode(text)
end

local function refused(parameter, status, res)
  assert.equal(400, status)
  assert.same({ code = 7, description = "Invalid parameters" }, res.status)
  assert.is_false(res.success)
  assert.equal(parameter, res.errors[1].parameter)
  assert.is_string(res.errors[1].error)
end

describe("fake Navixy server: what the docs refuse", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("refuses tracker/list labels empty, as an object, a bare string, too long, too many or repeated", function()
    refused("labels", post("tracker/list", '{"labels":[]}'))
    refused("labels", post("tracker/list", '{"labels":{}}'))
    refused("labels", post("tracker/list", '{"labels":{"a":"b"}}'))
    refused("labels", post("tracker/list", '{"labels":"a"}'))
    refused("labels", post("tracker/list", '{"labels":[""]}'))
    refused("labels", post("tracker/list", cjson.encode{ labels = { ("x"):rep(61) } }))
    refused("labels", post("tracker/list", '{"labels":[1]}'))
    refused("labels", post("tracker/list", '{"labels":["a","b","a"]}')) -- "No duplicate items"
    local many = {}
    for i = 1, 1025 do many[i] = "l" .. i end
    refused("labels", post("tracker/list", cjson.encode{ labels = many }))
    -- within the bounds, and without labels at all
    assert.equal(200, (post("tracker/list", cjson.encode{ labels = { ("x"):rep(60) } })))
    assert.equal(200, (post("tracker/list", "{}")))
  end)

  it("refuses a missing required param and a wrong JSON type, one error per problem", function()
    local status, res = post("tracker/get_state", "{}")
    refused("tracker_id", status, res)
    assert.equal("required, missing", res.errors[1].error)
    refused("tracker_id", post("tracker/get_state", '{"tracker_id":"1"}'))
    refused("tracker_id", post("tracker/get_state", '{"tracker_id":1.5}'))
    status, res = post("track/download", '{"tracker_id":"x"}')
    assert.equal(400, status); assert.equal(7, res.status.code)
    assert.is_true(#res.errors >= 3) -- tracker_id's type, from and to missing
  end)

  it("reads form and query values as the documented types", function()
    local form = { ["content-type"] = "application/x-www-form-urlencoded", authorization = "NVX " .. key }
    assert.equal(200, (fake.http("POST", fake.url .. "/tracker/get_state", "tracker_id=1", form)))
    assert.equal(200, (fake.http("POST", fake.url .. "/tracker/get_state?tracker_id=1", "", form)))
    assert.equal(200, (fake.http("POST", fake.url .. "/tracker/list", 'labels=["a"]', form)))
    local status, text = fake.http("POST", fake.url .. "/tracker/get_state", "tracker_id=one", form)
    refused("tracker_id", status, cjson.decode(text))
    status, text = fake.http("POST", fake.url .. "/tracker/list", "labels=a", form)
    refused("labels", status, cjson.decode(text))
  end)

  it("answers the API key actions with an API key as the docs say: error 4", function()
    for _, call in ipairs{ { "api/key/list", "{}" }, { "api/key/create", '{"title":"t"}' },
                           { "api/key/delete", '{"key":"0123456789abcdef0123456789abcdef"}' } } do
      local status, res = post(call[1], call[2])
      assert.equal(400, status)
      assert.same({ code = 4, description = "User or API key not found or session ended" }, res.status)
    end
    local _, login = fake.call("user/auth", { login = fake.users.demo.login, password = fake.users.demo.password })
    local status, res = post("api/key/list", "{}", login.hash)
    assert.equal(200, status); assert.is_true(res.success)
  end)

  it("answers an action it does not have with 111 Wrong handler, as errors.md's table has it", function()
    local status, res = post("tracker/lsit", "{}")
    assert.equal(400, status)
    assert.same({ success = false, status = { code = 111, description = "Wrong handler" } }, res)
  end)

  it("answers every Raw IoT Data error as an RFC 7807 problem, the rate limit's too", function()
    local h = { ["content-type"] = "application/json", authorization = "NVX " .. key }
    local url = fake.dwh_url .. "/tracker/raw_data/get_inputs"
    fake.rate_limit(1)
    local status, body, headers
    for _ = 1, 20 do -- one request a second: back to back, one is refused soon, however busy the machine
      status, body, headers = fake.http("POST", url, '{"tracker_id":1}', h)
      if status ~= 200 then break end
    end
    fake.rate_limit(false)
    assert.equal(429, status); assert.equal("application/problem+json", headers["content-type"])
    assert.same({ type = "errors/default/too-many-requests", title = "Too Many Requests", status = 429,
                  detail = "15: Too many requests (rate limit exceeded)" }, cjson.decode(body))
    status, body, headers = fake.http("POST", url, '{"tracker_id":"1"}', h)
    assert.equal(400, status); assert.equal("application/problem+json", headers["content-type"])
    assert.equal("tracker_id: expected integer, got string", cjson.decode(body).detail)
  end)

  it("describes errors in the docs' words", function()
    local _, res = post("tracker/get_state", '{"tracker_id":99}')
    assert.same({ code = 201, description = "Not found in database" }, res.status)
  end)
end)
