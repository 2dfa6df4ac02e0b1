--- client:graphql(query, variables, opts): the Navixy Repository API
-- (api-docs/navixy-repository-api/, a preview: "structure, field names, and
-- behaviors are subject to change"). GraphQL over HTTP: one endpoint, every
-- request a POST of {"query", "variables"}; the answer {"data", "errors"}.
--
-- The endpoint has a client of its own sharing this client's session
-- (client:dwh() does the same): a first login, and one re-login when the
-- endpoint answers 401, are this client's.
--
-- Where the docs are silent, options with the defaults they imply:
--   opts.url   the endpoint; default <origin of the client's URL>/v4/graphql
--              (the documented sandbox is https://api.navixy.dev/v4/graphql/sandbox)
--   opts.auth  how the client's hash goes: "nvx" (default: Authorization: NVX
--              <hash>, as every Navixy API the docs show it) or "bearer"
--              (Authorization: Bearer <hash>); the authentication page is empty
--
-- Errors (error-handling.md): "All business logic errors ... return HTTP 200"
-- with errors[]; an answer with errors[] at any status is an error of kind
-- "api": description the first message, code its extensions.code, every one
-- in err.response.errors (and the partial data in err.response.data).
--
-- Relay cursor paging (pagination.md) goes through client:pages with
-- opts.cursor: see M.iterate.
local errors = require "navixy.errors"
local json = require "navixy.json"
local options = require "navixy.options"

local type = type

local M = {}

M.PATH = "/v4/graphql"

local fail = errors.misuse

local OWN = { url = "string", auth = "string" }
local CALL = { timeout = true, retries = true }

local function check(query, variables, opts)
  if type(query) ~= "string" or query == "" then fail("client:graphql(query, variables) expects a query string") end
  if variables ~= nil and type(variables) ~= "table" then
    fail("client:graphql variables must be a table, got %s", type(variables))
  end
  local own, call_opts = require("navixy.pages").split("client:graphql", opts, OWN, CALL)
  if own.auth and own.auth ~= "nvx" and own.auth ~= "bearer" then
    fail("client:graphql option 'auth' must be \"nvx\" or \"bearer\", got %q", own.auth)
  end
  return own, call_opts
end

-- The endpoint's client (sharing the session: its login, its re-login on
-- a 401) and the action: the endpoint's base URL is all but its last
-- segment, which is the action ("graphql").
local function endpoint_of(ctx, own)
  local endpoint = own.url or (ctx.origin .. M.PATH)
  local base, action = endpoint:match("^(.-)/([^/]+)/*$")
  if not base or base:find("^%a+:/?$") then
    fail("client:graphql option 'url' must name the endpoint, got %q", endpoint)
  end
  return ctx.sibling(base), action
end

-- An answer's errors[] as an API error (nil when it has none); `hash` is
-- masked out of it, should the server echo it.
local function graphql_error(answer, status, action, hash)
  local list = type(answer) == "table" and answer.errors
  if type(list) ~= "table" or type(list[1]) ~= "table" then return nil end
  local first = list[1]
  local ext = type(first.extensions) == "table" and first.extensions or {}
  return errors.new({ kind = "api", code = ext.code, status = status, action = action, response = answer,
    description = type(first.message) == "string" and first.message or "the answer holds errors" },
    { hash })
end

--- data, or nil and err. `ctx`: origin (of the client's URL), sibling(base)
-- (the client of a base URL sharing this client's session), can_login.
function M.run(client, ctx, query, variables, opts)
  local own, call_opts = check(query, variables, opts)
  local c, action = endpoint_of(ctx, own)
  local o = options.into({ decode = false }, call_opts)
  if own.auth == "bearer" then
    -- the scheme in a call header: the hash must be known before the call (a
    -- session that ends meanwhile is renewed for the next call)
    if not c:get_hash() and not client:get_hash() and ctx.can_login then
      local ok, err = client:login()
      if not ok then return nil, err end
    end
    local hash = c:get_hash() or client:get_hash()
    if hash then o.headers = { Authorization = "Bearer " .. hash } end
  end
  local body, err, info = c:call(action, { query = query, variables = variables }, o)
  local hash = c:get_hash()
  if not body then return nil, graphql_error(err.response, err.status, action, hash) or err end
  local answer = json.decode_object(body)
  local gerr = answer and graphql_error(answer, info and info.status, action, hash)
  if gerr then return nil, gerr end
  if not answer or answer.data == nil then
    return nil, errors.new({ kind = "decode", action = action, status = info and info.status, body = body,
      description = answer and "the answer has neither data nor errors" or "the answer is not a JSON object" },
      { hash })
  end
  return answer.data
end

-- The value at a dotted path ("organization.devices") of t, or nil.
local function at(t, path)
  for key in path:gmatch("[^.]+") do
    if type(t) ~= "table" then return nil end
    t = t[key]
  end
  return t
end

--- The iterator of client:pages(query, variables, { cursor = "path" }): the
-- nodes of the Relay connection at `path` in data, page by page: each page
-- is the query with variables.after = the previous pageInfo.endCursor (and
-- variables.first = opts.limit when given), until pageInfo.hasNextPage is
-- false. The query declares $after (and $first). Items are edges[].node, or
-- nodes[] when the query asks for those. A failed page raises its error.
function M.iterate(client, ctx, query, variables, own, call_opts)
  local after, more = nil, true
  local gql_opts = options.into({ url = own.url, auth = own.auth }, call_opts)
  local function fetch()
    local vars = options.into({}, variables)
    vars.after, vars.first = after, own.limit or vars.first
    local data, err = M.run(client, ctx, query, vars, gql_opts)
    if not data then error(err, 0) end
    local conn = at(data, own.cursor)
    if type(conn) ~= "table" then
      error(errors.new({ kind = "decode", action = "graphql", response = data,
        description = "the answer has no connection at '" .. own.cursor .. "' (opts.cursor)" }), 0)
    end
    local list = {}
    if type(conn.edges) == "table" then
      for i, edge in ipairs(conn.edges) do list[i] = type(edge) == "table" and edge.node or edge end
    elseif type(conn.nodes) == "table" then
      list = conn.nodes
    end
    local info = type(conn.pageInfo) == "table" and conn.pageInfo or {}
    more = info.hasNextPage == true and type(info.endCursor) == "string" and info.endCursor ~= after
    after = info.endCursor
    return list
  end
  return require("navixy.pages").items(function()
    if not more then return nil end
    local list = fetch()
    if #list == 0 then more = false end
    return list
  end)
end

return M
