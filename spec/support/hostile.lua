-- Spec helper for the hostile HTTP server (spec/support/hostile): a server
-- that trickles, lies about lengths, sends huge headers or never answers.
--
--   local hostile = require "hostile"
--   local url = hostile.url("trickle_body", { every = 0.5 })  -- a base URL for navixy.new
--
-- The server is started on first use (port $NAVIXY_HOSTILE_PORT, default the
-- fake server's port + 7) and left running for later specs; run-tests stops it.
local fake = require "fake"
local socket = require "socket"

local M = {}

M.port = tonumber(os.getenv("NAVIXY_HOSTILE_PORT")) or fake.port + 7
M.pidfile = fake.rundir .. "/hostile.pid"

local function answers()
  local s = socket.tcp()
  s:settimeout(1)
  local ok = s:connect("127.0.0.1", M.port)
  s:close()
  return ok ~= nil
end

function M.ensure()
  if answers() then return end
  os.execute(("mkdir -p %q && setsid %q %d >%q 2>&1 </dev/null & echo $! >%q"):format(
    fake.rundir, fake.root .. "/spec/support/hostile", M.port, fake.rundir .. "/hostile.log", M.pidfile))
  for _ = 1, 100 do
    if answers() then return end
    socket.sleep(0.05)
  end
  error("hostile: the server did not start on 127.0.0.1:" .. M.port)
end

--- The base URL that makes every call meet `mode` with `params` (see the
-- server's header for the modes).
function M.url(mode, params)
  M.ensure()
  local parts = { ("http://127.0.0.1:%d/%s"):format(M.port, mode) }
  local names = {}
  for k in pairs(params or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. tostring(params[k]) end
  parts[#parts + 1] = "v2"
  return table.concat(parts, "/")
end

return M
