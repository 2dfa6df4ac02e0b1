-- The fake Navixy server's IoT Logic GET actions (<base>/iot/logic/flow/...), with
-- LuaSocket only (never our client): parameters from the query string, the documented
-- shapes, HTTP 401 for an ended session and 404 for a missing flow, and the methods.
package.path = "spec/support/?.lua;" .. package.path
local fake = require "fake"
local cjson = require "cjson"

local key = fake.api_key

describe("fake Navixy server: IoT Logic", function()
  setup(function() fake.ensure() end)
  before_each(function() fake.reset() end)

  it("serves the GET actions with their parameters in the query string", function()
    local status, res = fake.get("iot/logic/flow/list", nil, key)
    assert.equal(200, status)
    assert.same({ 1, "Default flow", true, 2 }, { res.list[1].id, res.list[1].title, res.list[1].enabled,
                                                 res.list[1].devices_count })
    assert.equal(cjson.null, res.list[2].description)
    local req = fake.last_request()
    assert.same({ "GET", "iot/logic/flow/list", "header" }, { req.method, req.action, req.hash_from })

    status, res = fake.get("iot/logic/flow/read", { flow_id = 1 }, key)
    assert.equal(200, status)
    assert.same({ 1, "data_source", "output_endpoint" },
                { res.value.id, res.value.nodes[1].type, res.value.nodes[2].type })
    assert.same({ { from = 1, to = 2 } }, res.value.edges)
    assert.equal("1", fake.last_request().query.flow_id)

    status, res = fake.get("iot/logic/flow/export", { flow_id = 1 }, key)
    assert.equal(200, status)
    assert.is_nil(res.value.id); assert.is_nil(res.value.enabled); assert.equal("Default flow", res.value.title)

    status, res = fake.get("iot/logic/flow/schema/read", nil, key)
    assert.equal(200, status)
    assert.equal("object", res.value.type)
    status, res = fake.get("iot/logic/flow/template/list", nil, key)
    assert.equal(200, status)
    assert.equal(1, res.list[1].id)
    status, res = fake.get("iot/logic/flow/template/read", { flow_id = 1 }, key)
    assert.equal(200, status)
    assert.equal(2, #res.value.nodes)
    status, res = fake.get("iot/logic/flow/sources/list", { flow_id = 1 }, key)
    assert.equal(200, status)
    assert.same({ 10001, 10002 }, res.value)
    status, res = fake.get("iot/logic/flow/sources/list", { flow_id = 2 }, key)
    assert.equal(200, status)
    assert.same({}, res.value)

    status, res = fake.get("iot/logic/flow/sources/mapping/list", { offset = 1, limit = 1 }, key)
    assert.equal(200, status)
    assert.same({ 2, 1, 10002, "navixy_ngp" }, { res.count, #res.list, res.list[1].device_id, res.list[1].model_code })
    status, res = fake.get("iot/logic/flow/sources/mapping/list", { limit = 0 }, key)
    assert.equal(400, status); assert.equal(7, res.status.code)
  end)

  it("answers a missing flow with 201 and HTTP 404, an ended session with 4 and HTTP 401", function()
    local status, res = fake.get("iot/logic/flow/read", { flow_id = 99 }, key)
    assert.equal(404, status); assert.same({ code = 201, description = "Not found" }, res.status)
    status, res = fake.get("iot/logic/flow/read", {}, key)
    assert.equal(400, status); assert.equal(7, res.status.code)

    local _, login = fake.call("user/auth", { login = fake.users.demo.login, password = fake.users.demo.password })
    assert.equal(200, (fake.get("iot/logic/flow/list", nil, login.hash)))
    fake.expire_sessions()
    status, res = fake.get("iot/logic/flow/list", nil, login.hash)
    assert.equal(401, status); assert.equal(4, res.status.code)
    status, res = fake.get("iot/logic/flow/list")
    assert.equal(401, status); assert.equal(4, res.status.code)
    -- the user API keeps HTTP 400 for the same code
    status, res = fake.call("user/get_info", nil, login.hash)
    assert.equal(400, status); assert.equal(4, res.status.code)
  end)

  it("refuses a POST to the operations the OpenAPI declares GET, with 112 and HTTP 405", function()
    for _, action in ipairs{ "iot/logic/flow/list", "iot/logic/flow/read", "iot/logic/flow/template/list" } do
      local status, res = fake.call(action, { flow_id = 1 }, key)
      assert.equal(405, status); assert.equal(112, res.status.code)
      assert.equal("POST", fake.last_request().method)
    end
    assert.equal(200, (fake.get("iot/logic/flow/read", { flow_id = 1 }, key)))
    -- the hash in the query works for GET as everywhere
    local status = fake.http("GET", fake.url .. "/iot/logic/flow/list?hash=" .. key)
    assert.equal(200, status)
    assert.equal("query", fake.last_request().hash_from)
    -- the query's text is read as the documented integer
    local res
    status, res = fake.get("iot/logic/flow/read", { flow_id = "x" }, key)
    assert.equal(400, status); assert.equal(7, res.status.code); assert.equal("flow_id", res.errors[1].parameter)
  end)
end)
