--- A WebSocket over a cosocket, for subscriptions inside nginx: the I/O is
-- ngx.socket.tcp's (it yields, never blocking the worker), the protocol is
-- the C core's, the same code the curl transport runs (core.ws_handshake,
-- core.ws_check_answer, core.ws_parser). The connection object answers as
-- the curl one does (see navixy.transport.curl's websocket):
--   conn:send(text [, seconds]) -> true | nil, err   (by default within the timeout)
--   conn:recv(seconds)  -> text | nil, err   (kind "timeout", phase "recv": still
--                          usable; the answers to pings are bounded by `seconds` too)
--   conn:close([wait])  the close handshake, waiting at most `wait` seconds
-- err = { kind = "timeout"|"transport"|"http"|"protocol"|"closed", phase =,
--         description =, code =, reason =, status =, body = }
-- A cosocket belongs to the request or timer that opened it: the connection
-- is used from there only, one reader at a time.
local core = require "navixy.core"
local http1 = require "navixy.transport.http1"
local url = require "navixy.url"

local floor, min = math.floor, math.min

local M = {}

local READ_SIZE = 65536
local HEAD_MAX = 16384    -- as the C core's NVX_WS_HEAD_MAX
local BODY_MAX = 65536    -- of a refused upgrade's answer, read for its error
local CLOSE_WAIT = 1      -- seconds close() waits for the server's close

local Conn = {}
Conn.__index = Conn

local function failure(kind, phase, description)
  return { kind = kind, phase = phase, description = description }
end

local left_ms = http1.left_ms

-- Milliseconds a write may take until `deadline`: at least 1 (0 would be
-- nginx's default send timeout, not none).
local function write_ms(deadline) return left_ms(deadline) or 1 end

-- A refused upgrade: the status and the start of the answer's body.
local function refused(r, status, headers)
  local parts = {}
  http1.read_body(r, headers, BODY_MAX, function(piece)
    parts[#parts + 1] = piece
    return true
  end)
  local err = failure("http", "handshake", "the server answered the upgrade with HTTP " .. status)
  err.status, err.body = status, table.concat(parts)
  return err
end

--- Connects through `transport` (a navixy.transport.ngx) and upgrades.
-- `s`: u (the parsed base URL), target (path and query), header_lines,
-- timeout and connect_timeout (seconds), max_message (bytes). Returns the
-- connection, or nil and err.
function M.open(transport, s)
  local now = core.now()
  local deadline = now + s.timeout
  -- fresh: a connection of its own, never pooled (it is closed, not kept)
  local sock, failed = transport:open(s.u, min(deadline, now + s.connect_timeout), true)
  if not sock then
    return nil, failure(failed.kind, failed.phase == "tls" and "tls" or "connect", failed.message)
  end
  local request, key = core.ws_handshake(url.host_header(s.u), s.target, s.header_lines)
  local ms = left_ms(deadline)
  local sent, err
  if ms then
    sock:settimeout(ms)
    sent, err = sock:send(request)
  end
  if not sent then
    sock:close()
    return nil, failure(ms and err ~= "timeout" and "transport" or "timeout", "handshake",
      "sending the upgrade failed: " .. tostring(err or "timeout"))
  end
  local r = http1.reader(sock, deadline)
  local head, status, headers = http1.read_head(r, HEAD_MAX)
  if not head then
    sock:close()
    if status == "timeout" then return nil, failure("timeout", "handshake", "no answer to the upgrade in time") end
    return nil, failure("transport", "handshake", "reading the answer to the upgrade failed: " .. tostring(status))
  end
  local ok, why = core.ws_check_answer(head, key)
  if not ok then
    local e = status ~= 101 and refused(r, status, headers) or failure("protocol", "handshake", why)
    sock:close()
    return nil, e
  end
  local conn = setmetatable({
    sock = sock, parser = core.ws_parser(s.max_message), events = {}, next_event = 1,
    timeout = s.timeout,
  }, Conn)
  -- frames may have come with the head
  local rest = r.buf:sub(r.pos)
  if rest ~= "" then
    local fed = conn:feed(rest, deadline)
    if fed then return nil, fed end
  end
  return conn
end

-- Parses bytes; queues the events; sends what the protocol answers (pongs,
-- the echo of a close) by `deadline`. Returns nil, or an error when that
-- answer failed (a frame cut short: the connection has ended).
function Conn:feed(bytes, deadline)
  local events, reply = self.parser:feed(bytes)
  if self.next_event > #self.events then self.events, self.next_event = events, 1
  else
    for _, ev in ipairs(events) do self.events[#self.events + 1] = ev end
  end
  if reply ~= "" then
    self.sock:settimeout(write_ms(deadline))
    local ok, err = self.sock:send(reply)
    if not ok then return self:ended(failure("transport", "send", "sending failed: " .. tostring(err))) end
  end
  return nil
end

-- The connection is over: every later call gets `err`.
function Conn:ended(err)
  self.final = err
  if self.sock then
    self.sock:close()
    self.sock = nil
  end
  return err
end

-- The stream's end, as the error the caller gets.
local function final_error(ev)
  if ev.type == "close" then
    local e = failure("closed", "recv", "the server closed the WebSocket"
      .. (ev.code and " (code " .. ev.code .. ")" or ""))
    e.code, e.reason = ev.code, ev.reason
    return e
  end
  local e = failure("protocol", "recv", ev.description)
  e.code = ev.code
  return e
end

function Conn:recv(seconds)
  if self.final then return nil, self.final end
  local deadline = core.now() + seconds
  while true do
    while self.next_event <= #self.events do
      local ev = self.events[self.next_event]
      self.next_event = self.next_event + 1
      if ev.type == "text" or ev.type == "binary" then return ev.data end
      if ev.type == "close" or ev.type == "error" then return nil, self:ended(final_error(ev)) end
      -- pings were answered by feed; pongs need nothing
    end
    local ms = left_ms(deadline)
    if not ms then return nil, failure("timeout", "recv", "no message in time") end
    self.sock:settimeout(ms)
    local data, err = self.sock:receiveany(READ_SIZE)
    if not data then
      if err == "timeout" then return nil, failure("timeout", "recv", "no message in time") end
      local e = failure("transport", "recv", err == "closed" and "the server closed the connection"
        or "receiving failed: " .. tostring(err))
      e.code = 1006 -- RFC 6455 7.1.5: closed without a close frame
      return nil, self:ended(e)
    end
    local failed = self:feed(data, deadline)
    if failed then return nil, failed end
  end
end

function Conn:send(text, seconds)
  if self.final then return nil, self.final end
  self.sock:settimeout(write_ms(core.now() + (seconds or self.timeout)))
  local ok, err = self.sock:send(self.parser:frame("text", text))
  if not ok then
    return nil, self:ended(failure(err == "timeout" and "timeout" or "transport", "send",
      "sending failed: " .. tostring(err)))
  end
  return true
end

--- Our close, then the server's (at most `wait` seconds, default 1), then
-- the socket is closed. Idempotent.
function Conn:close(wait)
  local sock = self.sock
  if not sock then return end
  self.sock = nil
  self.final = self.final or failure("closed", "recv", "the connection was closed")
  wait = min(wait or CLOSE_WAIT, self.timeout)
  sock:settimeout(math.max(1, floor(min(wait, 1) * 1000)))
  if sock:send(self.parser:frame("close", "", 1000)) and wait > 0 then
    local deadline = core.now() + wait
    while true do
      local ms = left_ms(deadline)
      if not ms then break end
      sock:settimeout(ms)
      local data = sock:receiveany(READ_SIZE)
      if not data then break end
      local events = self.parser:feed(data)
      local done = false
      for _, ev in ipairs(events) do done = done or ev.type == "close" or ev.type == "error" end
      if done then break end
    end
  end
  sock:close()
end

return M
