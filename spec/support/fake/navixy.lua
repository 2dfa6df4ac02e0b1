-- The fake Navixy API v2: request parsing, auth, the handlers and fault injection.
-- Entry points (see nginx.conf.in): api() in content_by_lua, done() in log_by_lua.
-- Shapes follow /work/shared/NAVIXY.md; data is fixed and deterministic.
local cjson = require "cjson.safe"
local store = require "fake.store"
local faults = require "fake.faults"

local null, EMPTY = cjson.null, store.EMPTY_ARRAY
local M = {}

M.API_KEY = "a6aa75587e5c59c32d347da438505fc3" -- the demo user's fixed, never-expiring key
M.CODE = "123456"                              -- the 2FA confirmation code
M.USERS = {
  { id = 1, login = "demo@example.com", password = "demo-pass", name = "Demo User" },
  { id = 2, login = "2fa@example.com", password = "2fa-pass", name = "2FA User", factor = "email" },
}
local MAX_KEYS = 20        -- keys a user may create (the fixed key does not count)
local MAX_STATES = 2000    -- trackers per tracker/get_states call
local SYNTH_MIN, SYNTH_MAX = 1000, 1000000 -- synthetic trackers: they exist, not in tracker/list

---------------------------------------------------------------- errors

-- HTTP status per error code (400 unless listed), and the descriptions.
local STATUS = { [1] = 500, [2] = 403, [6] = 500, [8] = 503, [9] = 412, [11] = 403, [13] = 403,
  [14] = 503, [15] = 429, [101] = 403, [204] = 404, [208] = 403, [219] = 403, [229] = 404,
  [236] = 402, [247] = 409, [268] = 402, [271] = 413, [275] = 403, [276] = 403 }
local DESCR = {
  [1] = "Database error", [2] = "Service auth error", [3] = "Wrong hash",
  [4] = "User or API key not found or session ended", [5] = "Wrong request format",
  [6] = "Unexpected error", [7] = "Invalid parameters",
  [8] = "Queue service error, try again later", [9] = "Too large request",
  [11] = "Access denied", [12] = "Dealer not found", [13] = "Operation not permitted",
  [14] = "Database unavailable", [15] = "Too many requests (rate limit exceeded)",
  [101] = "In demo mode this function is disabled", [102] = "Wrong login or password",
  [103] = "User not activated", [104] = "Logins limit exceeded, please reuse existing sessions instead",
  [201] = "Not found in the database", [204] = "Entity not found", [208] = "Device blocked",
  [211] = "Requested time span is too big", [212] = "Requested limit is too big",
  [217] = "List contains nonexistent entities", [268] = "Over quota",
  [276] = "Action forbidden for this session type", [282] = "Wrong confirmation code",
}
M.STATUS, M.DESCR = STATUS, DESCR

-- Raised by handlers (error(apierr(...))) and turned into the answer by api().
local ApiError = {}
local function apierr(code, extra, status)
  local body = extra or {}
  body.success = false
  body.status = { code = code, description = body.description or DESCR[code] or "Error" }
  body.description = nil
  return setmetatable({ body = body, http = status or STATUS[code] or 400 }, ApiError)
end
M.apierr = apierr

-- Code 7 with the documented errors[] list.
local function invalid(param, msg)
  error(apierr(7, { errors = { { parameter = param, error = msg or "Wrong parameter value" } } }))
end

---------------------------------------------------------------- tolerant parameters

-- Form and query values are strings; arrays and objects are JSON text, as the API takes them.
local function decode_values(args)
  for k, v in pairs(args) do
    if type(v) == "string" and v:match("^%s*[%[{]") then
      local d = cjson.decode(v)
      if d ~= nil then args[k] = d end
    end
  end
  return args
end

local function int(v) -- 7, "7", 7.0 → 7; anything else → nil
  local n = tonumber(v)
  if n and n == math.floor(n) then return n end
end

local function bool(v) return v == true or v == "true" or v == 1 or v == "1" end

local function str(v) return type(v) == "string" and v ~= "" and v or nil end

local function id_list(p, name)
  local v = p[name]
  if type(v) ~= "table" then invalid(name, "Must be an array of ids") end
  local ids = {}
  for i, x in ipairs(v) do
    ids[i] = int(x) or invalid(name, "Must be an array of ids")
  end
  return ids
end

---------------------------------------------------------------- dates

-- "yyyy-MM-dd HH:mm:ss" (or ISO "…T…") as UTC seconds, without os.time's local time zone.
local function parse_time(s)
  local y, mo, d, h, mi, se = tostring(s or ""):match("^(%d%d%d%d)-(%d%d)-(%d%d)[ T](%d%d):(%d%d):(%d%d)")
  if not y then return nil end
  y, mo = tonumber(y), tonumber(mo)
  if mo <= 2 then y = y - 1 end -- days_from_civil (Howard Hinnant)
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + tonumber(d) - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
end

local function fmt_time(t) return os.date("!%Y-%m-%d %H:%M:%S", t) end

---------------------------------------------------------------- data

local TRACKERS = {
  { id = 1, label = "Truck 1", model = "telfmb920", blocked = false, phone = "+491700000001" },
  { id = 2, label = "Van 2", model = "qlgv300", blocked = false, phone = "+491700000002" },
  { id = 3, label = "Car 3", model = "telfmb920", blocked = true, phone = "+491700000003" },
}

local function tracker_exists(id)
  return (id >= 1 and id <= #TRACKERS) or (id >= SYNTH_MIN and id <= SYNTH_MAX)
end

local function tracker_blocked(id) return TRACKERS[id] ~= nil and TRACKERS[id].blocked end

local function tracker_json(t)
  return {
    id = t.id, label = t.label, clone = false, group_id = 0,
    source = {
      id = 10000 + t.id, device_id = "35000000000000" .. t.id, model = t.model,
      blocked = t.blocked, tariff_id = 5, creation_date = "2023-01-15 10:00:00",
      tariff_end_date = "2030-01-01", phone = t.phone,
    },
    -- tracker 1 has a tag; the others show an empty array
    tag_bindings = t.id == 1 and { { tag_id = 1, ordinal = 1 } } or EMPTY,
  }
end

-- inputs is an EMPTY array and battery_level a JSON null on purpose: the client specs
-- check that both survive decoding.
local function state_json(id)
  return {
    source_id = 10000 + id,
    gps = {
      updated = "2024-05-01 12:00:00", signal_level = 100,
      location = { lat = 52.52 + (id % 1000) / 10000, lng = 13.405 }, heading = 90, speed = 0, alt = 34,
    },
    connection_status = "active", movement_status = "parked",
    last_update = "2024-05-01 12:00:05", battery_level = null,
    inputs = EMPTY, outputs = { false, false }, additional = {},
  }
end

local function user_by_id(uid)
  for _, u in ipairs(M.USERS) do if u.id == uid then return u end end
end

---------------------------------------------------------------- handlers
-- Each handler gets (params, ctx) where ctx.auth = {uid, kind = "session"|"key"|"interim",
-- hash}; it returns the success body (without `success`) or raises an apierr.
-- `public` handlers need no hash; `interim` ones need a 2FA interim hash.

local H = {}

H["user/auth"] = { public = true, fn = function(p)
  local login, password = str(p.login), str(p.password)
  if not login or not password then
    local errors = {}
    if not login then errors[#errors + 1] = { parameter = "login", error = "Required parameter" } end
    if not password then errors[#errors + 1] = { parameter = "password", error = "Required parameter" } end
    error(apierr(7, { errors = errors }))
  end
  for _, u in ipairs(M.USERS) do
    if u.login == login and u.password == password then
      if u.factor then
        return { type = "second_factor_required", factor_type = u.factor, hash = store.session_new(u.id, true) }
      end
      return { type = "authenticated", hash = store.session_new(u.id),
               user = { id = u.id, login = u.login, name = u.name } }
    end
  end
  error(apierr(102))
end }

H["user/auth/code/verify"] = { interim = true, fn = function(p, ctx)
  local code = p.code
  if code == nil or code == "" then invalid("code", "Required parameter") end
  if tostring(code) ~= M.CODE then error(apierr(282)) end
  store.session_end(ctx.auth.hash)
  return { hash = store.session_new(ctx.auth.uid) }
end }

H["user/auth/code/resend"] = { interim = true, fn = function() return {} end }

H["user/logout"] = { fn = function(_, ctx)
  if ctx.auth.kind ~= "session" then error(apierr(276)) end
  store.session_end(ctx.auth.hash)
  return {}
end }

H["user/get_info"] = { fn = function(_, ctx)
  local u = user_by_id(ctx.auth.uid)
  return {
    user_info = { id = u.id, login = u.login, title = u.name, locale = "en", time_zone = "Europe/Berlin" },
    features = { "api", "tracking", "history", "geocoding" },
  }
end }

H["tracker/list"] = { fn = function(p)
  local labels = p.labels
  if type(labels) == "string" then labels = { labels } end
  local list = {}
  for _, t in ipairs(TRACKERS) do
    local keep = type(labels) ~= "table" or next(labels) == nil
    if not keep then
      for _, l in ipairs(labels) do
        if t.label:lower():find(tostring(l):lower(), 1, true) then keep = true end
      end
    end
    if keep then list[#list + 1] = tracker_json(t) end
  end
  return { list = store.array(list) }
end }

H["tracker/get_state"] = { fn = function(p)
  if p.tracker_id == nil then invalid("tracker_id", "Required parameter") end
  local id = int(p.tracker_id) or invalid("tracker_id", "Must be an integer")
  if not tracker_exists(id) then error(apierr(201)) end
  if tracker_blocked(id) then error(apierr(208)) end
  return { user_time = "2024-05-01 14:00:00", state = state_json(id) }
end }

H["tracker/get_states"] = { fn = function(p)
  if p.trackers == nil then invalid("trackers", "Required parameter") end
  local ids = id_list(p, "trackers")
  if #ids > MAX_STATES then invalid("trackers", "Too many trackers (max " .. MAX_STATES .. ")") end
  local states, blocked, not_exist = {}, {}, {}
  for _, id in ipairs(ids) do
    if not tracker_exists(id) then not_exist[#not_exist + 1] = id
    elseif tracker_blocked(id) then blocked[#blocked + 1] = id
    else states[tostring(id)] = state_json(id) end
  end
  if #not_exist > 0 and not bool(p.allow_not_exist) then error(apierr(217)) end
  if #blocked > 0 and not bool(p.list_blocked) then error(apierr(208)) end
  local res = { user_time = "2024-05-01 14:00:00", states = states }
  if bool(p.list_blocked) then res.blocked = store.array(blocked) end
  if bool(p.allow_not_exist) then res.not_exist = store.array(not_exist) end
  return res
end }

-- Creating and deleting keys needs a login session: with an API key it is error 4.
local function need_session(ctx)
  if ctx.auth.kind ~= "session" then error(apierr(4)) end
end

local function key_json(k) return { hash = k.hash, title = k.title, create_date = k.create_date } end

H["api/key/create"] = { fn = function(p, ctx)
  need_session(ctx)
  local title = str(p.title) or invalid("title", "Required parameter")
  if #store.keys_of(ctx.auth.uid) >= MAX_KEYS then error(apierr(268)) end
  local rec = { hash = store.new_hash(), title = title, create_date = fmt_time(ngx.time()), uid = ctx.auth.uid }
  store.key_add(rec)
  return { value = key_json(rec) }
end }

H["api/key/list"] = { fn = function(_, ctx)
  local list = {}
  if ctx.auth.uid == 1 then -- the fixed key is listed first for its owner
    list[1] = { hash = M.API_KEY, title = "fixed test key", create_date = "2024-01-01 00:00:00" }
  end
  for _, k in ipairs(store.keys_of(ctx.auth.uid)) do list[#list + 1] = key_json(k) end
  return { list = store.array(list) }
end }

H["api/key/delete"] = { fn = function(p, ctx)
  need_session(ctx)
  local key = str(p.key) or invalid("key", "Required parameter")
  -- the fixed key stays valid whatever the tests do; deleting it is refused
  if key == M.API_KEY then error(apierr(13)) end
  local rec = store.key_get(key)
  if not rec or rec.uid ~= ctx.auth.uid then error(apierr(201)) end
  store.key_delete(key)
  return {}
end }

-- One event per tracker per whole hour in [from, to), ordered by time; at most `limit`.
H["history/tracker/list"] = { fn = function(p)
  local ids = id_list(p, "trackers")
  local from = parse_time(p.from) or invalid("from", "Wrong date format")
  local to = parse_time(p.to) or invalid("to", "Wrong date format")
  if to < from then invalid("to", "Must be after from") end
  if to - from > 31 * 86400 then error(apierr(211, { max_time_span = "P31D" })) end
  local limit = p.limit == nil and 1000 or int(p.limit) or invalid("limit", "Must be an integer")
  if limit > 1000 then error(apierr(212)) end
  for _, id in ipairs(ids) do if not tracker_exists(id) then error(apierr(217)) end end
  local first = math.ceil(from / 3600) -- hour numbers in the window
  local last = math.ceil(to / 3600) - 1
  local hours = math.max(0, last - first + 1)
  local total = hours * #ids
  local ascending = p.ascending == nil or bool(p.ascending)
  local list = {}
  for i = 0, hours - 1 do
    if #list >= limit then break end
    local hour = ascending and first + i or last - i
    for _, id in ipairs(ids) do
      if #list >= limit then break end
      list[#list + 1] = {
        id = hour * 10000000 + id, type = "tracker", event = "speedup", is_read = false,
        message = "Speed limit exceeded", time = fmt_time(hour * 3600), tracker_id = id,
        rule_id = 1, location = { lat = 52.52, lng = 13.405 }, address = "", extra = {},
      }
    end
  end
  return { list = store.array(list), limit_exceeded = total > #list, total = total, total_unread = total }
end }

---------------------------------------------------------------- request parsing and auth

-- Returns params (table) or raises code 5 for a malformed body. Query args fill in what
-- the body does not have.
local function parse_params(body, content_type)
  local params
  local ct = (content_type or ""):lower()
  local trimmed = body and body:match("^%s*(.-)%s*$") or ""
  if trimmed == "" then
    params = {}
  elseif ct:find("json", 1, true) or (ct == "" and trimmed:sub(1, 1) == "{") then
    params = cjson.decode(body)
    -- an object is wanted: cjson gives an empty table for both {} and [], so "[" is refused here
    if type(params) ~= "table" or trimmed:sub(1, 1) ~= "{" then return nil end
  else
    params = decode_values(ngx.decode_args(body, 0))
  end
  for k, v in pairs(decode_values(ngx.req.get_uri_args(0))) do
    if params[k] == nil then params[k] = v end
  end
  return params
end

-- Where the hash came from: header, then query, then body.
local function find_hash(headers, query, params)
  local a = headers["authorization"]
  if type(a) == "string" then
    local h = a:match("^NVX (%S+)$") -- exactly one space, as the docs say
    if h then return h, "header" end
  end
  if type(query.hash) == "string" then return query.hash, "query" end
  if params and type(params.hash) == "string" then return params.hash, "body" end
end

-- Returns the auth record for a hash, or nil.
local function lookup(hash)
  if hash == M.API_KEY then return { uid = 1, kind = "key", hash = hash } end
  local s = store.session_get(hash)
  if s then return { uid = s.uid, kind = s.interim and "interim" or "session", hash = hash } end
  local k = store.key_get(hash)
  if k then return { uid = k.uid, kind = "key", hash = hash } end
end

---------------------------------------------------------------- answers

local function send_json(status, body)
  local text = store.encode(body)
  ngx.status = status
  ngx.header.content_type = "application/json"
  local ctx = ngx.ctx
  if ctx.chunked then -- fault "chunked": no Content-Length, the body in pieces
    for i = 1, #text, 64 do ngx.print(text:sub(i, i + 63)); ngx.flush(true) end
  else
    ngx.header.content_length = #text
    ngx.print(text)
  end
end
M.send_json = send_json

local function handle(action, params, ctx)
  local h = H[action]
  if not h then error(apierr(5, nil, 404)) end -- unknown action: 404 with code 5
  if params == nil then error(apierr(5)) end
  if not h.public then
    if not ctx.hash then error(apierr(3)) end
    local auth = lookup(ctx.hash)
    -- an interim 2FA hash only works for the code/* calls, and only it works there
    if not auth or (auth.kind == "interim") ~= (h.interim == true) then error(apierr(4)) end
    ctx.auth = auth
  end
  local res = h.fn(params, ctx)
  res.success = true
  return res
end

function M.api()
  local method = ngx.req.get_method()
  local action = ngx.var.uri:match("^/v2/(.-)/*$") or ""
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body and ngx.req.get_body_file() then -- large bodies are buffered to a file
    local f = io.open(ngx.req.get_body_file(), "rb")
    body = f:read("*a"); f:close()
  end
  local headers, query = ngx.req.get_headers(0), ngx.req.get_uri_args(0)
  local content_type = ngx.var.content_type
  local params = parse_params(body, content_type)
  local hash, hash_from = find_hash(headers, query, params)

  ngx.ctx.epoch = store.enter() -- left in M.done (log phase), whatever happens here
  store.record{
    method = method, uri = ngx.var.request_uri, path = ngx.var.uri, action = action,
    query = query, headers = headers, body = body or "", params = params,
    hash = hash, hash_from = hash_from, content_type = content_type, time = ngx.now(),
    -- which TCP connection carried it (nginx's serial number), and its how-manieth
    -- request: shows whether a client keeps connections alive
    connection = tonumber(ngx.var.connection), connection_requests = tonumber(ngx.var.connection_requests),
    scheme = ngx.var.scheme,
  }

  local fault = store.fault_take(action)
  if fault and faults.apply(fault, M) == "done" then return end

  if method ~= "POST" and method ~= "GET" then
    return send_json(405, apierr(5).body)
  end
  local ok, res = pcall(handle, action, params, { hash = hash })
  if ok then return send_json(200, res) end
  if getmetatable(res) == ApiError then return send_json(res.http, res.body) end
  ngx.log(ngx.ERR, "fake navixy: ", action, ": ", tostring(res))
  return send_json(500, apierr(6).body)
end

function M.done()
  if ngx.ctx.epoch then store.leave(ngx.ctx.epoch) end
end

-- Shared with the WebSocket endpoint (fake/subscription.lua): the same hashes, trackers
-- and states, and the request log and faults of the HTTP API.
M.lookup, M.state_json, M.TRACKERS = lookup, state_json, TRACKERS
M.tracker_exists, M.tracker_blocked = tracker_exists, tracker_blocked

return M
