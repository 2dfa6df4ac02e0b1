-- A one-connection server that answers a WebSocket upgrade with canned bytes, for the
-- handshake failures the fake server never makes (a wrong Sec-WebSocket-Accept, no
-- Upgrade header, a head that never ends, a close mid-answer). Run as its own process:
--   lua ws_peer.lua PORTFILE ANSWERFILE [close]
-- It writes its port to PORTFILE, accepts one connection (waiting at most 10 s), reads the
-- request head, sends ANSWERFILE's bytes, then closes at once ("close") or waits (at most
-- 5 s) for the client to, and exits. Specs start it with require("ws_peer").start(answer).
-- "{ACCEPT}" in the answer becomes the right Sec-WebSocket-Accept for the request's key,
-- for a valid upgrade followed by whatever the answer holds.
local socket = require "socket"

-- run as a script (not required by a spec, where arg is busted's)
if arg and arg[0] and arg[0]:match("ws_peer%.lua$") and arg[1] and arg[2] then
  -- The accept is computed here, with the core's SHA-1 (the build the specs load, as
  -- helper.lua finds it; checked against RFC 6455's example in spec/unit/ws_framing_spec.lua),
  -- and loaded before the port is written: the client's `timeout` runs while the peer
  -- answers, and piping the key through two openssl processes took more than the
  -- spec's 0.3 s on a busy machine (the client then timed out in its handshake).
  package.path = "spec/support/?.lua;" .. package.path
  package.cpath = (os.getenv("NAVIXY_BUILD") or "build") .. "/" .. require("flavour") .. "/?.so;" .. package.cpath
  local sha1hex, b64 = require("navixy.core").sha1hex, require("mime").b64
  local function accept_for(key)
    local digest = sha1hex(key .. "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    return (b64((digest:gsub("..", function(h) return string.char(tonumber(h, 16)) end))))
  end
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  local f = assert(io.open(arg[1] .. ".tmp", "w"))
  f:write(port)
  f:close()
  assert(os.rename(arg[1] .. ".tmp", arg[1]))
  server:settimeout(10)
  local c = server:accept()
  if c then
    c:settimeout(5)
    local key
    repeat
      local line = c:receive("*l")
      key = key or line and line:match("^[Ss]ec%-[Ww]eb[Ss]ocket%-[Kk]ey:%s*(%S+)")
    until not line or line == ""
    local a = assert(io.open(arg[2], "rb"))
    local answer = a:read("*a")
    a:close()
    if key and answer:find("{ACCEPT}", 1, true) then
      answer = answer:gsub("{ACCEPT}", accept_for(key))
    end
    c:send(answer)
    if arg[3] ~= "close" then c:receive("*a") end
    c:close()
  end
  server:close()
  os.exit(0)
end

local M = {}

-- Starts a peer answering `answer` (and closing at once when `close` is "close");
-- returns its port.
function M.start(answer, close)
  local base = require("local_files").unique("ws_peer")
  local f = assert(io.open(base .. ".answer", "wb"))
  f:write(answer)
  f:close()
  os.remove(base .. ".port")
  local lua = rawget(_G, "jit") and "luajit" or "lua5.4"
  os.execute(("%s spec/support/ws_peer.lua %s.port %s.answer %s >/dev/null 2>&1 &"):format(
    lua, base, base, close or ""))
  for _ = 1, 200 do
    local p = io.open(base .. ".port")
    if p then
      local port = tonumber(p:read("*a"))
      p:close()
      if port then return port end
    end
    socket.sleep(0.01)
  end
  error("ws_peer did not start")
end

return M
