-- A one-connection HTTP proxy that only tunnels (CONNECT), for the spec that a WebSocket
-- goes through a proxy as libcurl sets it up. Run as its own process:
--   lua tunnel_proxy.lua PORTFILE LOGFILE
-- It writes its port to PORTFILE, accepts one client (waiting at most 10 s), writes the
-- request line it got to LOGFILE, connects where CONNECT asks (127.0.0.1 only), answers
-- 200 and copies bytes both ways until a side closes or nothing moves for 10 s. Specs start
-- it with require("tunnel_proxy").start().
local socket = require "socket"

local function serve(portfile, logfile)
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  local f = assert(io.open(portfile .. ".tmp", "w"))
  f:write(port)
  f:close()
  assert(os.rename(portfile .. ".tmp", portfile))
  server:settimeout(10)
  local client = server:accept()
  server:close()
  if not client then return end
  client:settimeout(5)
  local line = client:receive("*l") or ""
  repeat local h = client:receive("*l") until not h or h == ""
  local log = assert(io.open(logfile, "w"))
  log:write(line, "\n")
  log:close()
  local host, port_s = line:match("^CONNECT (127%.0%.0%.1):(%d+) HTTP/1%.[01]$")
  local upstream = host and socket.connect(host, tonumber(port_s))
  if not upstream then
    client:send("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    client:close()
    return
  end
  client:send("HTTP/1.1 200 Connection established\r\n\r\n")
  client:settimeout(0)
  upstream:settimeout(0)
  local other = { [client] = upstream, [upstream] = client }
  while true do
    local readable = socket.select({ client, upstream }, nil, 10)
    if #readable == 0 then break end
    local closed = false
    for _, s in ipairs(readable) do
      local data, err, partial = s:receive(65536)
      local bytes = data or partial
      if bytes and #bytes > 0 then
        other[s]:settimeout(5)
        other[s]:send(bytes)
        other[s]:settimeout(0)
      end
      if err == "closed" then closed = true end
    end
    if closed then break end
  end
  client:close()
  upstream:close()
end

-- run as a script (not required by a spec, where arg is busted's)
if arg and arg[0] and arg[0]:match("tunnel_proxy%.lua$") and arg[1] and arg[2] then
  serve(arg[1], arg[2])
  os.exit(0)
end

local M = {}

-- Starts the proxy; returns its port and a function that reads its log (the CONNECT line).
function M.start()
  local base = require("local_files").unique("tunnel_proxy")
  os.remove(base .. ".port")
  local lua = rawget(_G, "jit") and "luajit" or "lua5.4"
  os.execute(("%s spec/support/tunnel_proxy.lua %s.port %s.log >/dev/null 2>&1 &"):format(lua, base, base))
  for _ = 1, 200 do
    local p = io.open(base .. ".port")
    if p then
      local port = tonumber(p:read("*a"))
      p:close()
      if port then
        return port, function()
          local l = io.open(base .. ".log")
          if not l then return nil end
          local s = l:read("*a")
          l:close()
          return s
        end
      end
    end
    socket.sleep(0.01)
  end
  error("tunnel_proxy did not start")
end

return M
