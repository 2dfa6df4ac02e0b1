-- The control API of the fake server, under /_fake/ (JSON in and out). See
-- spec/support/fake.lua for the client side and README-style notes there.
local cjson = require "cjson.safe"
local store = require "fake.store"
local faults = require "fake.faults"
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
