-- A small GraphQL endpoint for the Navixy Repository API (api-docs/navixy-repository-api/,
-- a preview), at <host>/v4/graphql (the documented sandbox is /v4/graphql/sandbox). Not
-- a GraphQL engine: it knows a few queries of the schema by their root field and answers
-- them in the documented shapes:
--   devices(organizationId:, first:, after:)  a DeviceConnection over 45 fixed devices
--     (devices/queries.md, pagination.md: edges { node cursor }, nodes, pageInfo, total;
--     first defaults to 20, at most 100)
--   device(id:)   a device, or errors[] NOT_FOUND at HTTP 200 with data { device: null }
--     ("All business logic errors ... return HTTP 200", error-handling.md)
-- A body that is not {"query": "..."} or a query without braces is HTTP 400 with errors[]
-- (a parse error); no valid hash in `Authorization: NVX <hash>` or `Bearer <hash>` is
-- HTTP 401 UNAUTHORIZED. Each request is recorded (action "graphql").
local cjson = require "cjson.safe"
local store = require "fake.store"

local M = {}

local DEVICES = {}
for i = 1, 45 do
  DEVICES[i] = { id = ("019a6a3f-0000-7000-8000-%012d"):format(i), title = "Device " .. i,
                 status = { code = i % 5 == 0 and "INACTIVE" or "ACTIVE", title = "Active" } }
end

local function problem(code, status, message, detail, typ)
  return { message = message, extensions = { type = "https://api.navixy.com/errors/" .. typ, title = message,
    status = status, detail = detail, instance = "/graphql", code = code } }
end

local function answer(status, body)
  ngx.status = status
  ngx.header.content_type = "application/graphql-response+json; charset=utf-8"
  ngx.print(store.encode(body))
end

local function devices(v)
  local first = tonumber(v.first) or 20
  if first < 1 or first > 100 then
    return nil, problem("VALIDATION_ERROR", 400, "Validation failed", "first must be from 1 to 100", "validation")
  end
  local start = 1
  if v.after ~= nil and v.after ~= cjson.null then
    start = (tonumber(tostring(v.after):match("^cursor:(%d+)$")) or -1) + 1
    if start < 1 then
      return nil, problem("VALIDATION_ERROR", 400, "Validation failed", "after: not a cursor", "validation")
    end
  end
  local edges, nodes = {}, {}
  for i = start, math.min(#DEVICES, start + first - 1) do
    edges[#edges + 1] = { node = DEVICES[i], cursor = "cursor:" .. i }
    nodes[#nodes + 1] = DEVICES[i]
  end
  local last = start + #edges - 1
  return { edges = store.array(edges), nodes = store.array(nodes),
    pageInfo = { hasNextPage = last < #DEVICES, hasPreviousPage = start > 1,
                 startCursor = edges[1] and edges[1].cursor or cjson.null,
                 endCursor = edges[#edges] and edges[#edges].cursor or cjson.null },
    total = { count = #DEVICES, precision = "EXACT" } }
end

function M.serve()
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local headers = ngx.req.get_headers(0)
  local req = cjson.decode(body)
  local auth = headers["authorization"]
  local hash = type(auth) == "string" and (auth:match("^NVX (%S+)$") or auth:match("^Bearer (%S+)$"))
  store.record{ method = ngx.req.get_method(), uri = ngx.var.request_uri, path = ngx.var.uri, action = "graphql",
    headers = headers, body = body, params = type(req) == "table" and req or nil, hash = hash, time = ngx.now() }
  if not hash or not require("fake.navixy").lookup(hash) then
    return answer(401, { errors = { problem("UNAUTHORIZED", 401, "Authentication required",
      "Authentication is missing or invalid.", "unauthorized") } })
  end
  if type(req) ~= "table" or type(req.query) ~= "string" or not req.query:find("{", 1, true) then
    return answer(400, { errors = { problem("GRAPHQL_PARSE_FAILED", 400, "Syntax Error: Expected {",
      "The query could not be parsed.", "parse") } })
  end
  local v = type(req.variables) == "table" and req.variables or {}
  if req.query:find("devices%s*%(") then
    local conn, err = devices(v)
    if not conn then return answer(200, { errors = { err }, data = cjson.null }) end
    return answer(200, { data = { devices = conn } })
  elseif req.query:find("device%s*%(") then
    for _, d in ipairs(DEVICES) do
      if d.id == v.id then return answer(200, { data = { device = d } }) end
    end
    local err = problem("NOT_FOUND", 404, "Resource Not Found", "Device with ID '" .. tostring(v.id)
      .. "' does not exist", "not-found")
    err.path = { "device" }
    return answer(200, { errors = { err }, data = { device = cjson.null } })
  end
  return answer(400, { errors = { problem("GRAPHQL_VALIDATION_FAILED", 400, "Cannot query this field",
    "The fake knows the root fields devices and device only.", "validation") } })
end

return M
