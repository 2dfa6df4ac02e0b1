--- The blocking transport: libcurl through the client's navixy.core handle,
-- which also places the hash (see navixy.transport for the contract).
-- send performs one request on the handle's own connection; the runner
-- drives the handle's curl multi handle for the batch scheduler (one run at
-- a time: its slots belong to the handle).
local core = require "navixy.core"
local errors = require "navixy.errors"
local sink = require "navixy.sink"

local Curl = {}
Curl.__index = Curl
function Curl.yields() return false end -- curl_easy_perform and nanosleep block the process

local M = {}

--- `handle` is the client's navixy.core client.
function M.new(handle)
  return setmetatable({ handle = handle }, Curl)
end

--- One attempt, in the handle's slot 0; a file answer with req.sink
-- streams there chunk by chunk (the transfer pauses while Lua writes one).
-- The rest of a file answer's transfer after its first event, into req.sink.
-- (Apart from Curl:send: LuaJIT closes upvalues at every return of a
-- function that makes closures, and does not compile that.)
local function streamed(handle, req, event)
  return sink.stream(req, event, function()
    handle:resume(0)
    local _, next_event = handle:wait(1e9, 0)
    return next_event
  end, function() handle:cancel(0) end)
end

function Curl:send(req)
  local handle = self.handle
  local event = handle:request(req)
  if not req.sink then return event end
  return streamed(handle, req, event)
end

local Runner = {}
Runner.__index = Runner

function Runner:start(slot, req) return self.handle:start(slot, req) end
function Runner:wait(seconds, out) return self.handle:events(seconds, out) end
function Runner:resume(slot) return self.handle:resume(slot) end
function Runner:drop(slot) return self.handle:cancel(slot) end
function Runner:cancel() return self.handle:cancel() end
function Runner:finish()
  if self.owner.run == self.run then self.owner.run = nil end
end

--- The runner of `run` (a scheduler run). The batch slots belong to the
-- handle, so one run at a time: a run still open but waiting between steps
-- (an iteration of client:each left without closing it) is given up; one
-- inside a step (a batch started from within it) makes this raise.
function Curl:runner(run)
  local current = self.run
  if current then
    if current:busy() then errors.misuse("client:batch is already running on this client") end
    current:supersede()
  end
  self.run = run
  return setmetatable({ handle = self.handle, owner = self, run = run }, Runner)
end

-- A WebSocket on core.ws_connect: libcurl connects (TLS and its
-- verification, proxies, timeouts as for calls), the C core speaks the
-- protocol. Its methods are those of navixy.transport.ws_ngx's connection.
local Ws = {}
Ws.__index = Ws

--- Opens a WebSocket with the settings `s` (see navixy.subscription): the
-- connection, or nil and err (a table: kind, phase, description, ...).
function Curl.websocket(_, s)
  local ws, err = core.ws_connect {
    url = s.url, headers = s.header_lines, timeout = s.timeout, connect_timeout = s.connect_timeout,
    ssl_verify = s.ssl_verify, ca_file = s.ca_file, proxy = s.proxy, max_message = s.max_message,
  }
  if not ws then return nil, err end
  return setmetatable({ ws = ws }, Ws)
end

function Ws:send(text, seconds) return self.ws:send_text(text, seconds) end

function Ws:recv(seconds)
  local msg, err = self.ws:recv(seconds)
  if not msg then return nil, err end
  return msg.data
end

function Ws:close(wait) self.ws:close(1000, nil, wait) end

Curl.name = function() return "curl" end
Curl.sleep = function(_, seconds) core.sleep(seconds) end
Curl.now = core.now
function Curl.close() end -- the handle is closed by the client

M.now = core.now

return M
