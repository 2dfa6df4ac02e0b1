-- client:graphql: the Repository API's GraphQL endpoint, errors[] at HTTP 200 as errors,
-- Relay cursor paging through client:pages.
local fake = require "fake"
local navixy = require "navixy"
local setup = require "setup"

local DEVICES = [[
query Devices($first: Int, $after: String) {
  devices(organizationId: "019d48ea-0752-8000-801f-444556437ab1", first: $first, after: $after) {
    edges { node { id title } cursor }
    pageInfo { hasNextPage endCursor }
  }
}]]
local DEVICE = "query Device($id: ID!) { device(id: $id) { id title } }"

local function graphql_requests() return fake.requests_of("graphql") end

describe("client:graphql", function()
  local client
  setup.client_per_test(function(c) client = c end)

  it("posts the query and variables to <origin>/v4/graphql with the hash, and returns data", function()
    local data, err = client:graphql(DEVICE, { id = "019a6a3f-0000-7000-8000-000000000007" })
    assert.is_nil(err)
    assert.equal("Device 7", data.device.title)
    local req = graphql_requests()[1]
    assert.equal("/v4/graphql", req.path)
    assert.equal("POST", req.method)
    assert.equal("NVX " .. fake.api_key, req.headers.authorization)
    assert.equal(DEVICE, req.params.query)
  end)

  it("sends the hash as a Bearer token with opts.auth = \"bearer\"", function()
    assert(client:graphql(DEVICE, { id = "019a6a3f-0000-7000-8000-000000000001" }, { auth = "bearer" }))
    assert.equal("Bearer " .. fake.api_key, graphql_requests()[1].headers.authorization)
  end)

  it("turns errors[] at HTTP 200 into an api error, the first message as description", function()
    local data, err = client:graphql(DEVICE, { id = "nope" })
    assert.is_nil(data)
    assert.is_true(navixy.is_error(err))
    assert.equal("api", err.kind)
    assert.equal(200, err.status)
    assert.equal("NOT_FOUND", err.code)
    assert.equal("Resource Not Found", err.description)
    assert.equal("Device with ID 'nope' does not exist", err.response.errors[1].extensions.detail)
    assert.equal(navixy.null, err.response.data.device)
    assert.matches("api error NOT_FOUND %(HTTP 200%): Resource Not Found", tostring(err))
  end)

  it("takes another endpoint with opts.url; an answer with neither data nor errors is a decode error", function()
    local data, err = client:graphql(DEVICE, {}, { url = fake.url .. "/tracker/list" })
    assert.is_nil(data)
    assert.equal("decode", err.kind)
    assert.matches("neither data nor errors", tostring(err), 1, true)
    assert.equal(1, #fake.requests_of("tracker/list"))
  end)

  it("turns a 400 or 401 with errors[] into an api error too", function()
    local _, err = client:graphql("not a query")
    assert.equal("api", err.kind)
    assert.equal(400, err.status)
    assert.equal("GRAPHQL_PARSE_FAILED", err.code)
    local anonymous = navixy.new{ url = fake.url }
    _, err = anonymous:graphql(DEVICE, { id = "x" })
    assert.equal(401, err.status)
    assert.equal("UNAUTHORIZED", err.code)
    anonymous:close()
  end)

  it("logs in for the endpoint and again after a 401, sharing the client's session", function()
    local user = navixy.new{ url = fake.url, login = fake.users.demo.login, password = fake.users.demo.password }
    assert(user:graphql(DEVICE, { id = "019a6a3f-0000-7000-8000-000000000002" }))
    local first = user:get_hash()
    assert.equal("NVX " .. first, graphql_requests()[1].headers.authorization)
    fake.expire_sessions() -- every session ends
    assert(user:graphql(DEVICE, { id = "019a6a3f-0000-7000-8000-000000000002" }))
    assert.not_equal(first, user:get_hash())
    local reqs = graphql_requests()
    assert.equal(3, #reqs) -- the 401, then the same query with the new session
    assert.equal("NVX " .. user:get_hash(), reqs[3].headers.authorization)
    user:close()
  end)

  it("pages through a Relay connection with client:pages and opts.cursor", function()
    local ids = {}
    for node, i in client:pages(DEVICES, {}, { cursor = "devices", limit = 20 }) do ids[i] = node.id end
    assert.equal(45, #ids)
    assert.equal("019a6a3f-0000-7000-8000-000000000045", ids[45])
    local reqs = graphql_requests()
    assert.equal(3, #reqs) -- 20 + 20 + 5
    assert.equal(20, reqs[1].params.variables.first)
    assert.is_nil(reqs[1].params.variables.after)
    assert.equal("cursor:20", reqs[2].params.variables.after)
    assert.equal("cursor:40", reqs[3].params.variables.after)
  end)

  it("raises the error of a failed page and the misuse of options", function()
    local ok, err = pcall(function() for _ in client:pages(DEVICES, {}, { cursor = "devices", limit = 500 }) do end end)
    assert.is_false(ok)
    assert.equal("VALIDATION_ERROR", err.code)
    ok, err = pcall(function() for _ in client:pages(DEVICES, {}, { cursor = "nothing.here" }) do end end)
    assert.is_false(ok)
    assert.equal("decode", err.kind)
    assert.matches("^navixy: unknown client:graphql option 'cursor'",
      setup.raised(client.graphql, client, DEVICES, {}, { cursor = "devices" }))
    assert.matches("^navixy: client:graphql option 'auth' must be",
      setup.raised(client.graphql, client, DEVICES, {}, { auth = "basic" }))
    assert.matches("^navixy: client:pages options 'list' and 'ahead'",
      setup.raised(client.pages, client, DEVICES, {}, { cursor = "devices", ahead = 2 }))
  end)
end)
