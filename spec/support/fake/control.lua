-- The control API of the fake server, under /_fake/ (JSON in and out). See
-- spec/support/fake.lua for the client side and README-style notes there.
local cjson = require "cjson.safe"
local dates = require "fake.dates"
local faults = require "fake.faults"
local history = require "fake.history"
local ratelimit = require "fake.ratelimit"
local store = require "fake.store"
local subscription = require "fake.subscription"

local function reply(status, body)
  local text = type(body) == "string" and body or store.encode(body)
  ngx.status = status
  ngx.header.content_type = "application/json"
  ngx.header.content_length = #text
  ngx.print(text)
end

local function json_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body or body:match("^%s*$") then return {} end
  local t = cjson.decode(body)
  if type(t) ~= "table" then return nil end
  return t
end

local C = {}

C.ping = function() return { ok = true } end

C.reset = function()
  store.reset()
  return { ok = true }
end

C.expire = function()
  return { ok = true, expired = store.expire_sessions() }
end

-- Ends every Admin Panel session (as 24 hours would): the next panel call gets code 4.
C.expire_panel = function()
  return { ok = true, expired = store.expire_panel_sessions() }
end

C.stats = function() return store.stats() end

-- ?last=N: only the last N requests (fake.last_request() uses last=1).
C.requests = function()
  local last = tonumber(ngx.var.arg_last)
  return store.requests_json(last)
end

C.fault = function()
  local spec = json_body()
  if not spec then return nil, "body must be a JSON object" end
  if type(spec.action) ~= "string" or spec.action == "" then return nil, "action is required (\"*\" for any)" end
  spec.type = spec.type or "error"
  if not faults.TYPES[spec.type] then return nil, "unknown fault type " .. tostring(spec.type) end
  local times = tonumber(spec.times or 1)
  if not times or times < 1 then return nil, "times must be a positive number" end
  spec.times = times
  return { ok = true, id = store.fault_add(spec) }
end

-- Each setting's check: returns nil when the value is fine, else why not.
local function positive_int(v) return type(v) == "number" and v == math.floor(v) and v > 0 end
local CHECK = {
  time_zone = function(v) return not dates.ZONES[v] and "time_zone must be one of fake/dates.lua's ZONES" end,
  history_bounds = function(v) return v ~= "[)" and v ~= "[]" and 'history_bounds must be "[)" or "[]"' end,
  resend_timeout = function(v) return not (type(v) == "number" and v >= 0) and "resend_timeout must be seconds" end,
  store_period = function(v)
    return v ~= false and not dates.parse_duration(v) and "store_period: an ISO 8601 duration or false"
  end,
  report_seconds = function(v)
    return v ~= false and not (type(v) == "number" and v > 0) and "report_seconds must be seconds > 0 or false"
  end,
  reports_at_once = function(v) return not positive_int(v) and "reports_at_once must be a positive integer" end,
  platform = function(v)
    if type(v) ~= "table" then return "platform must be an object" end
    for k, x in pairs(v) do
      if store.DEFAULTS.platform[k] == nil then return "unknown platform field " .. k end
      if k:find("max_time_span", 1, true) and not dates.parse_duration(x) then return k .. ": an ISO 8601 duration" end
      if (k:find("max_limit", 1, true) or k:find("max_file_size", 1, true)) and not positive_int(x) then
        return k .. " must be a positive integer"
      end
    end
  end,
}

-- GET: the settings now. POST: changes some ({time_zone, history_bounds,
-- resend_timeout, store_period, report_seconds, reports_at_once, platform = {["history.max_limit"] = 10, ...}}).
C.settings = function()
  if ngx.req.get_method() == "POST" then
    local changes = json_body()
    if not changes then return nil, "body must be a JSON object" end
    for k, v in pairs(changes) do
      local check = CHECK[k]
      if not check then return nil, "unknown setting " .. tostring(k) end
      local why = check(v)
      if why then return nil, why end
    end
    store.change_settings(changes)
  end
  return store.settings()
end

-- GET: per account, what arrived in which second (ratelimit.lua). POST {limit = N or
-- false, log = true, window = s}: the limit on (N per one-second window, or per `window`
-- seconds) or off; log alone keeps the per-account log with the limit off.
C.rate_limit = function()
  if ngx.req.get_method() == "POST" then
    local b = json_body()
    if not b then return nil, "body must be a JSON object" end
    local limit = b.limit or false
    if limit ~= false and not positive_int(limit) then return nil, "limit must be a positive integer or false" end
    local window = b.window or 1
    if type(window) ~= "number" or window <= 0 or window > 1 then return nil, "window must be seconds in (0, 1]" end
    store.change_settings{ rate_limit = limit, rate_log = b.log == true, rate_window = window }
  end
  local s = store.settings()
  return ratelimit.report(s.rate_limit, s.rate_log, s.rate_window)
end

-- POST {events = [{tracker_id, time = ISO 8601 with offset, event?, message?, id?, is_read?}]}:
-- history/tracker/list answers exactly these from now on (until reset).
C.events = function()
  local b = json_body()
  if not b then return nil, "body must be a JSON object" end
  local n, err = history.place(b.events)
  if not n then return nil, err end
  return { ok = true, placed = n }
end

-- The two-factor resend clock starts again: the next user/auth/code/resend is allowed.
C.resend_reset = function()
  local n = 0
  for _, k in ipairs(store.dict:get_keys(0)) do
    if k:sub(1, 7) == "resend:" then store.dict:delete(k); n = n + 1 end
  end
  return { ok = true, reset = n }
end
-- The WebSocket endpoint's (fake/subscription.lua): events, faults, settings, counters.
C.ws_emit = function()
  local spec = json_body()
  if not spec then return nil, "body must be a JSON object" end
  return subscription.emit(spec)
end

C.ws_fault = function()
  local spec = json_body()
  if not spec then return nil, "body must be a JSON object" end
  return subscription.fault(spec)
end

C.ws_config = function()
  local spec = json_body()
  if not spec then return nil, "body must be a JSON object" end
  return subscription.set_config(spec)
end

C.ws_stats = function() return subscription.stats() end

C.ws_messages = function() return subscription.messages() end

return function()
  local name = ngx.var.uri:match("^/_fake/([%w_]+)/?$")
  local fn = name and C[name]
  if not fn then return reply(404, { ok = false, error = "unknown control endpoint " .. ngx.var.uri }) end
  local res, err = fn()
  if not res then return reply(400, { ok = false, error = err }) end
  return reply(200, res)
end
