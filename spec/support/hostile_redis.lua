-- Spec helper for the hostile Redis server (spec/support/hostile-redis): a
-- server that answers every EVAL in one wrong way (garbage, too slowly, or
-- by closing), for the specs of the Redis store on both transports.
--
--   local hostile_redis = require "hostile_redis"
--   hostile_redis.with("integer", function(port) ... end)  -- inside a busted test
--
-- The server runs on port $NAVIXY_HOSTILE_REDIS_PORT (default the fake
-- server's port + 22) while fn runs, and is stopped after, whatever fn did.
local background = require "background"
local fake = require "fake"

local M = {}

M.port = tonumber(os.getenv("NAVIXY_HOSTILE_REDIS_PORT")) or fake.port + 22

--- Runs fn(port) with the server answering in `mode` (see the server's header).
function M.with(mode, fn)
  background.with(M.port, { "spec/support/hostile-redis", M.port, mode }, function() fn(M.port) end)
end

return M
