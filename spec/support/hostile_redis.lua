-- Spec helper for the hostile Redis server (spec/support/hostile-redis): a
-- server that answers every EVAL in one wrong way (garbage, too slowly, or
-- by closing), for the specs of the Redis store on both transports.
--
--   local hostile_redis = require "hostile_redis"
--   hostile_redis.with("integer", function(port) ... end)  -- inside a busted test
--
-- The server runs on port $NAVIXY_HOSTILE_REDIS_PORT (default the fake
-- server's port + 22) while fn runs, and is stopped after, whatever fn did.
local fake = require "fake"
local socket = require "socket"
local sockets = require "sockets"
local read = require("local_files").read

local M = {}

M.port = tonumber(os.getenv("NAVIXY_HOSTILE_REDIS_PORT")) or fake.port + 22

local function answers() return sockets.listening(M.port) end

--- Runs fn(port) with the server answering in `mode` (see the server's header).
function M.with(mode, fn)
  assert(not answers(), "port " .. M.port .. " is taken")
  local pidfile = os.tmpname()
  os.execute(("%q %d %s >/dev/null 2>&1 </dev/null & echo $! >%q"):format(
    fake.root .. "/spec/support/hostile-redis", M.port, mode, pidfile))
  local pid = read(pidfile):match("%d+")
  os.remove(pidfile)
  local deadline = sockets.now() + 5
  while not answers() and sockets.now() < deadline do socket.sleep(0.05) end
  local ok, err = pcall(function()
    assert(answers(), "hostile-redis did not start on port " .. M.port)
    fn(M.port)
  end)
  os.execute("kill " .. pid .. " 2>/dev/null")
  deadline = sockets.now() + 5
  while answers() and sockets.now() < deadline do socket.sleep(0.05) end
  if not ok then error(err, 0) end -- a failed assertion, as it was
end

return M
