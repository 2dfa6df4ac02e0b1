-- A raw WebSocket client over LuaSocket, for what our own client never does: requests
-- without the Atmosphere query, unmasked or fragmented client frames, pings from the
-- client side. Frames are written and read by spec/support/ws_frames.lua.
--   local c = raw.open(port, target [, header_lines])   -- c.status, c.head, c.headers
--   c:send(bytes); local f = c:frame(timeout)            -- the next frame, or nil, "timeout"|"closed"
local socket = require "socket"
local frames = require "ws_frames"

local M = {}
local Conn = {}
Conn.__index = Conn

M.KEY = "dGhlIHNhbXBsZSBub25jZQ==" -- RFC 6455's example key

function M.open(port, target, extra)
  local sock = assert(socket.tcp())
  sock:settimeout(5)
  assert(sock:connect("127.0.0.1", port))
  local lines = { "GET " .. target .. " HTTP/1.1", "Host: 127.0.0.1:" .. port, "Upgrade: websocket",
                  "Connection: Upgrade", "Sec-WebSocket-Key: " .. M.KEY, "Sec-WebSocket-Version: 13" }
  for _, l in ipairs(extra or {}) do lines[#lines + 1] = l end
  assert(sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n"))
  local head, headers = {}, {}
  while true do
    local line = assert(sock:receive("*l"))
    if line == "" then break end
    head[#head + 1] = line
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then headers[name:lower()] = value end
  end
  local c = setmetatable({ sock = sock, head = head, headers = headers, buf = "", queue = {},
                           status = tonumber(head[1]:match("^HTTP/1%.1 (%d+)")) }, Conn)
  if c.status ~= 101 and headers["content-length"] then
    c.body = sock:receive(tonumber(headers["content-length"]))
  end
  return c
end

function Conn:send(bytes) return self.sock:send(bytes) end

-- The next frame within `timeout` seconds (default 2), or nil and "timeout" or "closed".
function Conn:frame(timeout)
  local deadline = socket.gettime() + (timeout or 2)
  while #self.queue == 0 do
    local got, rest = frames.read(self.buf)
    for _, f in ipairs(got) do self.queue[#self.queue + 1] = f end
    self.buf = rest
    if #self.queue > 0 then break end
    local left = deadline - socket.gettime()
    if left <= 0 then return nil, "timeout" end
    socket.select({ self.sock }, nil, left)
    self.sock:settimeout(0) -- what has arrived, without waiting for 8192 bytes
    local data, err, partial = self.sock:receive(8192)
    local bytes = data or partial or ""
    self.buf = self.buf .. bytes
    if err == "closed" and bytes == "" and #self.buf < 2 then return nil, "closed" end
  end
  return table.remove(self.queue, 1)
end

function Conn:close() self.sock:close() end

return M
