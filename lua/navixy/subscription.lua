--- client:subscribe: Navixy's real-time events over a WebSocket,
-- <base>/event/subscription with the Atmosphere protocol (Navixy docs,
-- websocket/README.md, subscription.md, events.md).
--
-- A subscription connects when it is first read (sub:next), in the context
-- that reads it: inside nginx, on cosockets of the request or timer doing
-- so. Its first frame, "<uuid>|<heartbeat ms>|X|", and the heartbeats "X"
-- are the protocol's: never handed on. As atmosphere.js does, the client
-- sends "X" every announced interval (the number is how often the CLIENT
-- beats, Atmosphere's clientHeartbeatFrequencyInSeconds); the server's own
-- heartbeat is a separate, longer setting, so a connection is taken as lost
-- only after opts.silence seconds without a frame (docs/realtime-heartbeats.md).
-- Everything sub:next does, reads and writes, ends by its deadline. A lost
-- connection is replaced after the retry backoff (navixy.policy), and the
-- new one is given the current set (navixy.subscription_set); a connection
-- counts as working only once it has lasted HEALTHY_AFTER seconds, and at
-- most CONNECTS_PER_MINUTE connections are opened in any minute. A logout event
-- or an error 3 or 4 makes a client with credentials log in again, once
-- (navixy.session), and subscribe again; without credentials it ends the
-- subscription. The hash travels in the subscribe message only; it is masked
-- out of every error, status and tostring.
local errors = require "navixy.errors"
local misuse = errors.misuse
local json = require "navixy.json"
local options = require "navixy.options"
local policy = require "navixy.retry"
local response = require "navixy.response"
local rules = require "navixy.store.rules"
local session = require "navixy.session"
local subscription_set = require "navixy.subscription_set"

local type, setmetatable, tostring = type, setmetatable, tostring
local huge, max, min = math.huge, math.max, math.min

local M = {}

M.PATH = "/event/subscription"
-- The query atmosphere-javascript sends (websocket/README.md)
M.QUERY = "X-Atmosphere-tracking-id=0&X-Atmosphere-Framework=2.3.6-javascript"
  .. "&X-Atmosphere-Transport=websocket&Content-Type=application/json&X-atmo-protocol=true"
local ACTION = "event/subscription"
local IDLE_WAIT = 3600 -- seconds one read waits when nothing else bounds it
-- A server that greets, answers and drops must not reset the backoff each
-- time (issue 19 item 6: 43 connections in 20 s, forever): a lost
-- connection counts as a failure in a row unless it lasted this long, more
-- than the longest backoff (navixy.policy's MAX_DELAY, 8 s) several times over.
M.HEALTHY_AFTER = 30
-- and whatever the backoff says, at most this many connections a minute
-- (a full backoff cycle, 0.5 s up to 8 s, opens about 8).
M.CONNECTS_PER_MINUTE = 10

local Sub = {}
Sub.__index = Sub

---------------------------------------------------------------- errors

local function new_error(self, fields)
  fields.action = fields.action or ACTION
  return errors.new(fields, self.st.secrets)
end

-- A WebSocket failure (a table of the C core or of ws_ngx) as a navixy error.
local function from_ws(self, e)
  if e.kind == "http" then
    if e.status >= 300 then
      local _, err = response.interpret(ACTION, { status = e.status, body = e.body or "" }, self.st.secrets)
      err.phase = "handshake"
      return err
    end
    return new_error(self, { kind = "http", status = e.status, phase = "handshake", body = e.body,
      description = "the server answered the upgrade with HTTP " .. e.status .. " instead of switching to WebSocket" })
  end
  local kind, phase, description = e.kind, e.phase, e.description
  if kind == "closed" then
    kind, phase = "transport", "closed"
    if e.reason and e.reason ~= "" then
      -- the server's words in a transport error: masked here, as errors.new
      -- masks the descriptions of api, http and decode errors
      description = description .. ": " .. errors.mask(e.reason, self.st.secrets())
    end
  elseif kind == "protocol" then
    kind = "transport"
    if e.code == 1009 then
      phase = "limit"
      description = description .. " (max_message, " .. ("%.0f"):format(self.opts.max_message) .. " bytes)"
    end
  elseif kind == "interrupted" then
    kind, phase = "transport", "interrupted"
  end
  return new_error(self, { kind = kind, phase = phase, description = description, close_code = e.code })
end

-- An answer that says the session is over: an error 3 or 4, or a logout event.
local function session_error(self, msg)
  if msg.type == "error" then
    local status = msg.status
    return new_error(self, { kind = "api", code = status.code, response = msg,
      action = type(msg.action) == "string" and msg.action or nil,
      description = type(status.description) == "string" and status.description or "session ended" })
  end
  return new_error(self, { kind = "api", code = 4, response = msg,
    description = "the session ended: the server sent a logout event (" .. tostring(msg.data) .. ")" })
end

---------------------------------------------------------------- status

local function notify(self, info)
  if self.opts.on_status then self.opts.on_status(info) end
end

---------------------------------------------------------------- the connection

-- The connection is over (or given up): nothing of it stays open.
local function drop_connection(self, wait)
  local conn = self.conn
  self.conn = nil
  if conn then conn:close(wait) end
end

-- The subscription ends with err: every later read returns it.
local function finish(self, err)
  self.final = err
  drop_connection(self, 0)
  return nil, err
end

-- Seconds until another connection keeps within CONNECTS_PER_MINUTE (0: now).
local function cap_wait(self, now)
  local opened = self.opened
  if #opened < M.CONNECTS_PER_MINUTE then return 0 end
  return max(0, opened[#opened - M.CONNECTS_PER_MINUTE + 1] + 60 - now)
end

--- A connection attempt failed or the connection was lost with `err`:
-- another comes after the backoff, or the subscription ends.
local function lost(self, err)
  local now = self.t:now()
  if self.conn and now - self.opened[#self.opened] >= M.HEALTHY_AFTER then self.failures = 0 end
  drop_connection(self, 0)
  if not self.opts.reconnect or not policy.reconnectable(err) then return finish(self, err) end
  self.failures = self.failures + 1
  if self.failures > self.opts.retries then return finish(self, err) end
  local delay = max(policy.backoff(self.failures), cap_wait(self, now))
  self.retry_at = now + delay
  notify(self, { status = "reconnecting", kind = err.kind, phase = err.phase, code = err.code,
    http_status = err.status, description = err.description, retry_in = delay, failures = self.failures })
  return nil
end

-- Seconds a write made now may take: until `deadline` (at least a
-- moment: a write is tried, not skipped), else the client's timeout.
local function write_time(self, deadline)
  if not deadline then return self.opts.timeout end
  return max(0.001, deadline - self.t:now())
end

-- One message of ours: action, the hash, requests; sent by `deadline` (nil:
-- within the timeout).
local function send(self, action, requests, deadline)
  local hash = self.st.hash
  self.hash_used = hash
  local ok, e = self.conn:send(json.encode { action = action, hash = hash, requests = requests },
    write_time(self, deadline))
  if not ok then return nil, from_ws(self, e) end
  return true
end

-- The current set, sent with the hash in use; true, or nil and the error.
local function send_set(self, deadline)
  local sub, unsub = self.set:requests()
  if sub then
    local ok, err = send(self, "subscribe", sub, deadline)
    if not ok then return nil, err end
  end
  if unsub then return send(self, "unsubscribe", unsub, deadline) end
  return true
end

-- Opens a connection (logging in first when the client has credentials
-- but no hash). Returns nil: the caller reads on, or nil and a final error.
local function connect(self)
  local st, t = self.st, self.t
  if st.source and not st.hash then
    local res, err = session.login(st, t, t:now() + st.timeout, rules.NONE)
    if not res then
      if err.kind == "api" then return finish(self, err) end
      return lost(self, err)
    end
  end
  if st.second_factor then
    return finish(self, new_error(self, { kind = "api", attempts = 0,
      description = "two-factor authentication required: call client:verify_code(code) first" }))
  end
  local opened = self.opened
  opened[#opened + 1] = t:now()
  if #opened > M.CONNECTS_PER_MINUTE then table.remove(opened, 1) end
  local conn, e = t:websocket(self.settings)
  if not conn then return lost(self, from_ws(self, e)) end
  self.conn, self.greeted, self.heartbeat, self.next_beat, self.atmosphere = conn, false, nil, nil, false
  self.last_frame = t:now()
  self.connections = self.connections + 1
  return nil
end

-- The first frame: "<uuid>|<heartbeat ms>|<padding>|" and maybe a message.
-- Sends the current set. Returns what follows the greeting ("" when
-- nothing), or nil and a final error.
local function greeting(self, text, deadline)
  self.greeted = true
  local _, ms, padding, rest = text:match("^([%w-]*)|(%d+)|([^|]*)|(.*)$")
  if ms then
    local secs = tonumber(ms) / 1000
    self.atmosphere = true
    self.heartbeat = secs > 0 and secs or nil -- how often we send ours (0: never)
    self.next_beat = self.heartbeat and self.t:now() + secs
    self.padding = padding ~= "" and padding or "X"
  else
    rest = text -- not the Atmosphere protocol: no heartbeats, no silence to watch
  end
  local ok, err = send_set(self, deadline)
  if not ok then return lost(self, err) end
  notify(self, { status = "connected", connection = self.connections })
  return rest
end

-- The session ended (msg: a logout event or an error 3 or 4): log in again
-- once and subscribe again, or end with it.
local function session_ended(self, msg, deadline)
  local st, t = self.st, self.t
  if not st.source or self.relogged then return finish(self, session_error(self, msg)) end
  self.relogged = true
  if st.hash == self.hash_used then -- else another caller has logged in since
    -- the hash that ended, so that the store does not hand it back (another
    -- client of the account may have logged in for it already)
    local res, err = session.login(st, t, t:now() + st.timeout, self.hash_used)
    if not res then return finish(self, err) end
  end
  notify(self, { status = "login" })
  local ok, err = send_set(self, deadline)
  if not ok then return lost(self, err) end
  return nil
end

-- Messages that may need handling here rather than handing on.
local SUSPECT = { '"type"%s*:%s*"error"', '"event"%s*:%s*"logout"' }

local function suspect(text)
  return text:find(SUSPECT[1]) or text:find(SUSPECT[2])
end

local function ends_session(msg)
  if msg.type == "event" then return msg.event == "logout" end
  if msg.type ~= "error" or type(msg.status) ~= "table" then return false end
  return msg.status.code == 3 or msg.status.code == 4
end

-- A text frame: handled here (nil), or the message to hand on.
local function on_text(self, text, deadline)
  if not self.greeted then
    local rest, err = greeting(self, text, deadline)
    if not rest then return nil, err end
    if rest == "" then return nil end
    text = rest
  end
  if text == self.padding then return nil end -- the server's heartbeat: it is there
  local msg
  if self.opts.decode or suspect(text) then
    msg = json.decode_object(text)
    if not msg then
      return lost(self, new_error(self, { kind = "transport", phase = "recv",
        description = "a message that is not a JSON object: " .. text:sub(1, 80) }))
    end
    if ends_session(msg) then return session_ended(self, msg, deadline) end
    if msg.type == "response" then self.relogged = false end
  end
  if self.opts.decode then return msg end
  return text
end

local function timeout_error(self)
  return new_error(self, { kind = "timeout", phase = "recv", retryable = true,
    description = "no message within the time given to sub:next" })
end

-- Our heartbeat, when due: true, or nil and the error.
local function beat(self, now, deadline)
  if not self.next_beat or now < self.next_beat then return true end
  self.next_beat = now + self.heartbeat
  local ok, e = self.conn:send(self.padding, write_time(self, deadline))
  if not ok then return nil, from_ws(self, e) end
  return true
end

-- One read on the open connection, until `deadline` (nil: none), our
-- heartbeat sent on the way. Returns a message; or nil and an error for the
-- caller; or nil (read on: the caller looks at the deadline).
local function receive(self, deadline)
  local t = self.t
  local now = t:now()
  local ok, err = beat(self, now, deadline)
  if not ok then return lost(self, err) end
  -- silence allowed: opts.silence once greeted by Atmosphere, the timeout for the greeting
  local watch = not self.greeted and self.last_frame + self.opts.timeout
    or self.atmosphere and self.last_frame + self.opts.silence or nil
  local bound = min(deadline or huge, watch or huge, self.next_beat or huge)
  local text, e = self.conn:recv(bound == huge and IDLE_WAIT or max(0, bound - now))
  if text then
    self.last_frame = t:now()
    return on_text(self, text, deadline)
  end
  -- a timeout in a read leaves the connection usable; any other failure does not
  if e.kind ~= "timeout" or e.phase ~= "recv" then return lost(self, from_ws(self, e)) end
  now = t:now()
  if watch and now >= watch then
    return lost(self, new_error(self, { kind = "timeout", phase = self.greeted and "heartbeat" or "recv",
      description = self.greeted and ("no frame from the server for %.1f s (silence allowed: %.1f s)")
        :format(now - self.last_frame, self.opts.silence)
        or "no greeting from the server in time" }))
  end
  return nil
end

---------------------------------------------------------------- the methods

local function check_open(self, method)
  if getmetatable(self) ~= Sub then
    misuse("expected a subscription (use sub:%s(...), not sub.%s(...))", method, method)
  end
  if self.closed then misuse("subscription is closed") end
  if self.st.closed then misuse("the client of this subscription is closed") end
end

--- sub:next([timeout]) -> message | nil, err
function Sub:next(timeout)
  check_open(self, "next")
  if timeout ~= nil and (type(timeout) ~= "number" or timeout ~= timeout or timeout < 0) then
    misuse("sub:next(timeout) expects seconds (a number of at least 0) or nil")
  end
  local t = self.t
  local deadline = timeout and t:now() + timeout
  while true do
    if self.final then return nil, self.final end
    if self.closed then return nil, new_error(self, { kind = "transport", phase = "closed",
      description = "the subscription was closed" }) end
    if self.conn then
      local msg, err = receive(self, deadline)
      if msg ~= nil or err then return msg, err end
      -- whatever keeps arriving (heartbeats, pings, the greeting): the
      -- deadline bounds next (issue 19 items 1 and 2)
      if deadline and t:now() >= deadline then return nil, timeout_error(self) end
    else
      local wait = self.retry_at and self.retry_at - t:now() or 0
      if deadline and t:now() + wait > deadline then
        t:sleep(max(0, deadline - t:now()))
        return nil, timeout_error(self)
      end
      if wait > 0 then t:sleep(wait) end
      local _, err = connect(self)
      if err then return nil, err end
    end
  end
end

--- for msg in sub:events() do ... end: until the subscription is closed or
-- ends with an error (sub:next() then tells which).
function Sub:events()
  check_open(self, "events")
  return function()
    if self.closed or self.final or self.st.closed then return nil end
    return (self:next())
  end
end

-- Changes the set and tells the server now, when connected (else the next
-- connection is given the whole set).
local function change(self, action, requests)
  check_open(self, action)
  subscription_set.check(requests, "sub:" .. action .. "(requests)")
  if self.final then return nil, self.final end
  self.set[action](self.set, requests)
  if self.conn and self.greeted then
    local ok, err = send(self, action, requests)
    if not ok then lost(self, err) end
  end
  return true
end

--- sub:subscribe(more) -> true | nil, err (the final error)
function Sub:subscribe(requests) return change(self, "subscribe", requests) end

--- sub:unsubscribe(requests) -> true | nil, err
function Sub:unsubscribe(requests) return change(self, "unsubscribe", requests) end

--- Closes the connection (the close handshake); idempotent.
function Sub:close()
  if self.closed then return end
  self.closed = true
  if self.st.subscriptions then self.st.subscriptions[self] = nil end
  drop_connection(self)
end

function Sub:__tostring()
  local state
  if self.closed then return "navixy subscription (closed)" end
  if self.final then state = "ended: " .. self.final.kind
  elseif self.conn then state = self.greeted and "open" or "connecting"
  elseif self.retry_at then state = "reconnecting"
  else state = "not connected yet" end
  local types = table.concat(self.set:names(), " ")
  local hash = self.st.hash and "hash " .. errors.masked(self.st.hash) or "no hash yet"
  return ("navixy subscription (%s, %s, %s, %s)"):format(self.where, state, types ~= "" and types or "nothing", hash)
end

Sub.__name = "navixy subscription"
Sub.__close = function(self) self:close() end
-- Lua 5.2+: a subscription collected while open goes without the close
-- handshake (a collector must not wait); its connection closes.
Sub.__gc = function(self)
  if not self.closed and self.conn then
    self.closed = true
    pcall(self.conn.close, self.conn, 0)
  end
end

---------------------------------------------------------------- making one

-- Header lines the upgrade sets itself (RFC 6455): a client's own are
-- left out rather than refused.
local function upgrade_lines(lines)
  local out = {}
  for _, line in ipairs(lines) do
    local name = line:match("^([^:]*):"):lower()
    if name ~= "host" and name ~= "upgrade" and name ~= "connection" and not name:find("^sec%-websocket%-") then
      out[#out + 1] = line
    end
  end
  return out
end

--- Makes the subscription of client state `st` (see navixy.client); it
-- connects when first read. Raises on misuse.
function M.new(st, requests, opts)
  subscription_set.check(requests, "client:subscribe(requests, opts)")
  local o = options.subscribe(opts, st.options)
  if not st.hash and not st.source then
    misuse("client:subscribe needs a hash or credentials (login and password)")
  end
  local u = st.options.u
  local set = subscription_set.new()
  set:subscribe(requests)
  local self = setmetatable({
    st = st, t = st.transport, opts = o, set = set, failures = 0, connections = 0, opened = {},
    relogged = false, closed = false, padding = "X",
    where = u.host .. ":" .. u.port .. u.path .. M.PATH,
    settings = {
      url = st.url .. M.PATH .. "?" .. M.QUERY, u = u, target = u.path .. M.PATH .. "?" .. M.QUERY,
      header_lines = upgrade_lines(st.options.header_lines), timeout = o.timeout,
      connect_timeout = o.connect_timeout, ssl_verify = st.options.ssl_verify,
      ca_file = st.options.ca_file, proxy = st.options.proxy, max_message = o.max_message,
    },
  }, Sub)
  st.subscriptions[self] = true
  return self
end

return M
