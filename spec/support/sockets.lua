-- Loopback endpoints that fail in a known way, for the resilience specs
-- (LuaSocket only, never our own client):
--   sockets.refused()    a port nothing listens on: connect() is refused
--   sockets.blackhole()  a port whose accept queue is full: a SYN is dropped,
--                        so connect() hangs until the client gives up
--   sockets.listening(port)  whether a server (a helper's) accepts on it now
local socket = require "socket"

local M = {}

--- Seconds on a clock independent of the client under test.
M.now = socket.gettime

--- Whether something accepts connections on 127.0.0.1:port now.
function M.port_open(port)
  local s = socket.tcp()
  s:settimeout(0.2)
  local connected = s:connect("127.0.0.1", port)
  s:close()
  return connected ~= nil
end

-- Under valgrind or the sanitizers (make check-memory) everything runs
-- several times slower; NAVIXY_TEST_SLOWDOWN stretches upper time bounds
-- (never lower ones: those are what the rules promise).
local SLOWDOWN = tonumber(os.getenv("NAVIXY_TEST_SLOWDOWN")) or 1

--- An upper time bound for work expected to take about `secs`: twice that
-- and a second more, stretched under a slow run. Upper bounds catch a wait
-- that is not bounded at all (a timeout ignored, a retry loop that never
-- ends), never how fast the machine is: a loaded 2-core machine running two
-- suites side by side must stay well inside them. What the time cannot
-- tell apart (one attempt or two) is asserted by counting.
function M.bound(secs)
  return (2 * secs + 1) * SLOWDOWN
end

--- An upper bound that the wrong behaviour cannot meet: `limit` seconds is
-- what it would cost at the least (a promise of the rules, such as a whole
-- rate window), so the bound is not stretched beyond it. Under a slow run
-- (valgrind) the comparison says nothing and is not made.
function M.below(secs, limit)
  return SLOWDOWN > 1 or secs < limit
end

--- Whether fn() comes true within bound(secs) seconds (default 2), asked
-- every few milliseconds: for what another process does in its own time.
function M.eventually(fn, secs)
  local deadline = M.now() + M.bound(secs or 2)
  while not fn() do
    if M.now() > deadline then return false end
    socket.sleep(0.005)
  end
  return true
end

--- Runs fn and returns the seconds it took, then whatever fn returned.
function M.timed(fn, ...)
  local t0 = socket.gettime()
  local a, b, c = fn(...)
  return socket.gettime() - t0, a, b, c
end

--- Whether something accepts connections on 127.0.0.1:port now.
function M.listening(port)
  local s = assert(socket.tcp())
  s:settimeout(0.2)
  local connected = s:connect("127.0.0.1", port)
  s:close()
  return connected ~= nil
end

--- A port on 127.0.0.1 that refuses connections: bound by us a moment ago
-- (so it is free) and closed again.
function M.refused()
  local s = assert(socket.tcp())
  assert(s:bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

--- A listening port whose accept queue (backlog 0) is filled by a few
-- connections nobody accepts: Linux drops further SYNs, so a connect
-- neither succeeds nor fails until the client's connect timeout. Returns
-- the port and a function that closes everything.
function M.blackhole()
  local server = assert(socket.tcp())
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(0))
  local _, port = server:getsockname()
  local fillers = {}
  for i = 1, 4 do
    local c = assert(socket.tcp())
    c:settimeout(0)
    c:connect("127.0.0.1", port)
    fillers[i] = c
  end
  socket.sleep(0.05)
  return port, function()
    for _, c in ipairs(fillers) do c:close() end
    server:close()
  end
end

return M
