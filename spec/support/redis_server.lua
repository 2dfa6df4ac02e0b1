-- Spec helper for the tests' own Redis server (spec/support/redis-server).
--   local redis = require "redis_server"
--   redis.ensure()                 -- start it unless it answers
--   redis.stop(); redis.start()    -- a store that goes away and comes back
--   redis.raw():flushall()         -- redis-lua, for looking at what is stored
-- Makes redis-lua loadable on Lua 5.4 too: Debian's lua-redis installs it for
-- 5.1-5.3 only, and the same pure-Lua file works on 5.4 (as the README says).
local fake = require "fake"

if not pcall(require, "redis") then
  for _, dir in ipairs { "5.4", "5.3", "5.1" } do
    local file = "/usr/share/lua/" .. dir .. "/redis.lua"
    local f = io.open(file)
    if f then
      f:close()
      package.preload.redis = function() return dofile(file) end
      break
    end
  end
end

local M = {}

M.port = tonumber(os.getenv("NAVIXY_REDIS_PORT")) or fake.port + 20
M.script = fake.root .. "/spec/support/redis-server"

-- (never under the sanitizers' LD_PRELOAD of make check-memory: Redis is not under test)
local function run(what)
  local r = os.execute(("env -u LD_PRELOAD %q %s %d >/dev/null"):format(M.script, what, M.port))
  return r == true or r == 0
end

function M.start() assert(run("start"), "could not start redis-server on port " .. M.port) end
function M.stop() assert(run("stop"), "could not stop redis-server") end
function M.running() return run("status") end

function M.ensure()
  if not M.running() then M.start() end
end

--- A redis-lua client of the server (for checks and set-up).
function M.raw()
  return require("redis").connect { host = "127.0.0.1", port = M.port, timeout = 5 }
end

--- The server running and empty (before each test); returns a client of it.
function M.fresh()
  M.ensure()
  local r = M.raw()
  r:flushall()
  return r
end

--- Every key and value in the server, as one string (to look for secrets).
function M.dump()
  local r = M.raw()
  local out = {}
  for _, k in ipairs(r:keys("*")) do out[#out + 1] = k .. " = " .. tostring(r:get(k)) end
  r:quit()
  table.sort(out)
  return table.concat(out, "\n")
end

return M
