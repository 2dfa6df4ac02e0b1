-- The fake Navixy API: request parsing, where the hash is, which API it is for, the rate
-- limit, fault injection, and dispatch to the handlers. The handlers live in modules
-- named for what they serve (account, tracking, history, files, uploads, iot_logic,
-- panel); each handler cites the doc page (in Navixy/navixy-public-docs) it follows.
-- Entry points (nginx.conf.in): api(base) in content_by_lua, done() in log_by_lua.
local answers = require "fake.answers"
local catalogue = require "navixy.catalogue"
local data = require "fake.data"
local errors = require "fake.errors"
local faults = require "fake.faults"
local multipart = require "fake.multipart"
local params = require "fake.params"
local ratelimit = require "fake.ratelimit"
local store = require "fake.store"

local M = {}
M.API_KEY, M.CODE, M.USERS = data.API_KEY, data.CODE, data.USERS
M.STATUS, M.DESCR, M.apierr, M.send_json = errors.STATUS, errors.DESCR, errors.apierr, answers.json

-- Handler specs: fn(params, ctx) returns the success body (without `success`) or an
-- answer of fake.answers, or raises an API error. public: no hash needed; interim: only
-- a two-factor interim hash works (and it works nowhere else); master: only a session
-- of the user's own login works, not an API key; permissions: the Admin Panel
-- permissions needed ({category, operation} pairs).
-- Each handler's `entry` is the action's entry in the catalogue generated from the docs
-- (lua/navixy/catalogue/data.lua): its params are checked against it and its method is
-- the one taken, so the fake keeps no second copy of the documented rules.
local H = {}

-- The catalogue entry of a handler's key (the data warehouse's keys start "dwh/v1/").
local function documented(key)
  local dwh = key:match("^dwh/v1/(.+)$")
  if dwh then return catalogue.get(dwh, "dwh") end
  return catalogue.get(key)
end

for _, name in ipairs{ "account", "tracking", "history", "files", "uploads", "iot_logic", "panel", "lists",
                       "presigned", "eco_fleet" } do
  for action, h in pairs(require("fake." .. name).handlers) do
    assert(not H[action], "two handlers for " .. action)
    h.entry = documented(action)
    H[action] = h
  end
end
M.handlers = H

---------------------------------------------------------------- request parsing

local PART_KEEP = 64 * 1024 -- parts up to this size are recorded byte for byte (base64)

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

-- What a spec may want to know of one multipart part.
local function part_record(part)
  return { name = part.name, filename = part.filename, content_type = part.content_type, headers = part.headers,
           size = #part.data, md5 = ngx.md5(part.data), sha1 = hex(ngx.sha1_bin(part.data)),
           base64 = #part.data <= PART_KEEP and ngx.encode_base64(part.data) or nil }
end

-- The request's parameters: the body's (JSON, form or multipart), then the query's for
-- names the body does not have. Returns nil for a malformed body (code 5); else also the
-- names whose values came as text (form, query, multipart fields: typed by the docs when
-- checked), and for a multipart body its parts, its plain fields and its files (by part
-- name).
local function parse_params(body, content_type)
  local ct = (content_type or ""):lower()
  local p, parts, fields, files
  local json_body = false
  if ct:find("^%s*multipart/form%-data") then
    local boundary = multipart.boundary(content_type)
    parts = boundary and multipart.parse(body or "", boundary)
    if not parts then return nil end
    p, fields, files = {}, {}, {}
    for _, part in ipairs(parts) do
      if part.filename then -- a file part (RFC 7578 4.2: it has a filename)
        files[part.name] = files[part.name] or part
      elseif fields[part.name] == nil then
        fields[part.name], p[part.name] = part.data, part.data
      end
    end
    params.decode_values(p)
  else
    local trimmed = body and body:match("^%s*(.-)%s*$") or ""
    if trimmed == "" then
      p = {}
    elseif ct:find("json", 1, true) or (ct == "" and trimmed:sub(1, 1) == "{") then
      p = require("cjson.safe").decode(body)
      -- an object is wanted: cjson gives an empty table for both {} and [], so "[" is refused here
      if type(p) ~= "table" or trimmed:sub(1, 1) ~= "{" then return nil end
      json_body = true
    else
      p = params.decode_values(ngx.decode_args(body, 0))
    end
  end
  local textual = {}
  if not json_body then
    for k in pairs(p) do textual[k] = true end
  end
  for k, v in pairs(params.decode_values(ngx.req.get_uri_args(0))) do
    if p[k] == nil then p[k], textual[k] = v, true end
  end
  return p, textual, parts, fields, files
end

-- Where the hash came from: header, then query, then body.
local function find_hash(headers, query, p)
  local a = headers["authorization"]
  if type(a) == "string" then
    local h = a:match("^NVX (%S+)$") -- exactly one space, as the docs say
    if h then return h, "header" end
  end
  if type(query.hash) == "string" then return query.hash, "query" end
  if p and type(p.hash) == "string" then return p.hash, "body" end
end

---------------------------------------------------------------- auth

-- The auth record of a hash, or nil; `account` is its rate-limit account (ratelimit.lua).
local function lookup(hash)
  if hash == data.API_KEY then return { uid = 1, kind = "key", hash = hash, account = "key:fixed" } end
  local s = store.session_get(hash)
  if s then
    return { uid = s.uid, kind = s.interim and "interim" or "session", hash = hash, account = "user:" .. s.uid }
  end
  local k = store.key_get(hash)
  if k then return { uid = k.uid, kind = "key", hash = hash, account = "key:" .. k.seq } end
  local ps = store.panel_session_get(hash)
  if ps then
    return { kind = "panel", panel = ps.panel, dealer = ps.dealer, hash = hash, account = "panel:" .. ps.panel }
  end
end
M.lookup = lookup

-- The account a request counts for: its hash's, or the one a login names.
local function account_of(action, p, auth)
  if auth then return auth.account end
  if action == "user/auth" then
    local u = p and data.user_by_login(p.login)
    return u and "user:" .. u.id
  end
  if action == "panel/account/auth" then
    local login = p and p.login ~= nil and tostring(p.login)
    return login and data.PANELS[login] and "panel:" .. login or nil
  end
end

-- Which API a request is for: "user", "panel" (<base>/panel/...), "iot" (<base>/iot/logic/...)
-- or "sibling" (the Raw IoT Data API /dwh/v1/..., the Eco Fleet API /eco_fleet/...).
local function family(base, action)
  if base ~= "/v2/" then return "sibling" end
  if action:sub(1, 6) == "panel/" then return "panel" end
  if action:sub(1, 10) == "iot/logic/" then return "iot" end
  return "user"
end

-- IoT Logic answers these codes with other statuses (iot-logic-api/technical-details/README.md).
-- Its table words 201 "Not found" (the user API's: "Not found in database").
local IOT_STATUS = { [3] = 401, [4] = 401, [201] = 404 }
local IOT_DESCR = { [201] = "Not found" }

local function has_permissions(auth, needed)
  local granted = data.PANELS[auth.panel].permissions
  for _, need in ipairs(needed or {}) do
    local found = false
    for _, op in ipairs(granted[need[1]] or {}) do if op == need[2] then found = true end end
    if not found then return false end
  end
  return true
end

-- Code 111 "Wrong handler" (errors.md) for an action the fake does not serve: the docs'
-- table has no other code for a path that names no action.
local function handle(key, p, ctx)
  local h = H[key]
  if not h then errors.raise(111) end
  if p == nil then errors.raise(5) end
  -- Error 112 "Wrong method" is in errors.md; 405 is what HTTP calls a method refused.
  if h.entry and h.entry.method == "GET" and ctx.method ~= "GET" then errors.raise(112, nil, 405) end
  if not h.public then
    if not ctx.hash then errors.raise(ctx.family == "iot" and 4 or 3) end
    local auth = ctx.auth
    if ctx.family == "panel" then
      -- panel and user hashes do not cross (panel-api/authentication.md)
      if not auth or auth.kind ~= "panel" then errors.raise(4) end
      if not has_permissions(auth, h.permissions) then errors.raise(13) end
    elseif not auth or auth.kind == "panel" or (auth.kind == "interim") ~= (h.interim == true) then
      -- an interim 2FA hash only works for the code/* calls, and only it works there
      errors.raise(4)
    elseif h.master and auth.kind ~= "session" then
      errors.raise(4)
    end
  end
  if h.entry then params.check(h.entry, p, ctx.textual, ctx.files) end
  local res = h.fn(p, ctx)
  if answers.is_answer(res) then return res end
  res.success = true
  return res
end

---------------------------------------------------------------- the request

-- Sends API error `err` (errors.apierr) in the shape of API family `fam`: the Raw IoT
-- Data API's errors are RFC 7807 problems (data-warehouse-api/README.md, "Errors"), with
-- "errors/default/unauthorized" for no hash or a wrong one; IoT Logic's statuses differ.
local function refuse(fam, err)
  local code, status = err.body.status.code, err.http
  if fam == "sibling" then -- /dwh/v1, /eco_fleet: RFC 7807
    if code == 3 or code == 4 then status = 401 end
    local detail = code .. ": " .. err.body.status.description
    for i, e in ipairs(err.body.errors or {}) do
      detail = (i == 1 and "" or detail .. "; ") .. e.parameter .. ": " .. e.error
    end
    return answers.problem(status, detail)
  end
  if fam == "iot" and status == 400 then
    status = IOT_STATUS[code] or status
    err.body.status.description = IOT_DESCR[code] or err.body.status.description
  end
  return answers.json(status, err.body)
end

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  local file = not body and ngx.req.get_body_file()
  if file then -- large bodies are buffered to a file
    local f = io.open(file, "rb")
    body = f:read("*a"); f:close()
  end
  return body
end

function M.api(base)
  base = base or "/v2/"
  local method = ngx.req.get_method()
  local action = ngx.var.uri:sub(#base + 1):match("^(.-)/*$")
  local body = read_body()
  local headers, query = ngx.req.get_headers(0), ngx.req.get_uri_args(0)
  local content_type = ngx.var.content_type
  local p, textual, parts, fields, files = parse_params(body, content_type)
  local hash, hash_from = find_hash(headers, query, p)
  local recorded_parts
  if parts then
    recorded_parts = {}
    for i, part in ipairs(parts) do recorded_parts[i] = part_record(part) end
  end

  ngx.ctx.epoch = store.enter() -- left in M.done (log phase), whatever happens here
  store.record{
    method = method, uri = ngx.var.request_uri, path = ngx.var.uri, action = action,
    base = base ~= "/v2/" and base or nil,
    query = query, headers = headers, body = body or "", params = p, parts = recorded_parts,
    hash = hash, hash_from = hash_from, content_type = content_type, time = ngx.now(),
    -- which TCP connection carried it (nginx's serial number), and its how-manieth
    -- request: shows whether a client keeps connections alive
    connection = tonumber(ngx.var.connection), connection_requests = tonumber(ngx.var.connection_requests),
    scheme = ngx.var.scheme,
  }

  local settings = store.settings()
  local auth = hash and lookup(hash)
  local fam = family(base, action)
  if settings.rate_limit or settings.rate_log then
    if ratelimit.refuse(account_of(action, p, auth), tonumber(settings.rate_limit), settings.rate_window) then
      store.count("rate_limited")
      return refuse(fam, errors.apierr(15))
    end
  end

  local fault = store.fault_take(action)
  if fault and faults.apply(fault) == "done" then return end

  if method ~= "POST" and method ~= "GET" then
    return refuse(fam, errors.apierr(5, nil, 405))
  end
  local iso = p and (params.bool(p.iso_datetime) or tostring(headers["nvx-iso-datetime"]):lower() == "true")
  local ctx = { hash = hash, auth = auth, method = method, family = fam, settings = settings,
                tz = settings.time_zone, iso = iso, query = query, fields = fields, files = files,
                textual = textual }
  local key = (base == "/v2/" and "" or base:sub(2)) .. action
  if fam == "sibling" and p then -- REST paths: trackers/123/resampling is trackers/{id}/resampling
    key = key:gsub("/trackers/(%d+)/", function(id) p.tracker_id = tonumber(id); return "/trackers/{id}/" end)
  end
  local ok, res = pcall(handle, key, p, ctx)
  if ok then
    if answers.is_answer(res) then return res.send() end
    return answers.json(200, res)
  end
  if errors.is_apierr(res) then return refuse(fam, res) end
  ngx.log(ngx.ERR, "fake navixy: ", action, ": ", tostring(res))
  return refuse(fam, errors.apierr(6))
end

function M.done()
  if ngx.ctx.epoch then store.leave(ngx.ctx.epoch) end
end

-- Shared with the WebSocket endpoint (fake/subscription.lua): the same hashes, trackers
-- and states, and the request log and faults of the HTTP API.
M.state_json, M.TRACKERS = require("fake.tracking").state_json, data.TRACKERS
M.tracker_exists, M.tracker_blocked = data.tracker_exists, data.tracker_blocked

return M
