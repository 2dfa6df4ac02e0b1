-- 50 calls side by side from copas coroutines, while the loop goes on.
--   NAVIXY_URL=... NAVIXY_HASH=... luajit examples/loops/copas.lua
-- (Debian 12's copas, 1.1, is for Lua 5.1, 5.2 and LuaJIT.)
local copas = require "copas" -- first: copas 1.1 refuses to load after LuaSocket's socket.http
local navixy = require "navixy"

local client = navixy.new {
  url = os.getenv("NAVIXY_URL"), hash = os.getenv("NAVIXY_HASH"), loop = "copas",
}
local done, failed = 0, 0
for _ = 1, 50 do
  copas.addthread(function()
    local res, err = client.tracker.list() -- yields to copas until the answer is there
    if not res then failed = failed + 1; io.stderr:write(tostring(err), "\n") end
    done = done + 1
  end)
end
-- copas 1.1 has no timers: a loop of steps, each waiting at most 50 ms, is one
local steps = 0
while done < 50 do
  copas.step(0.05)
  steps = steps + 1
end
print(("%d calls done, %d failed"):format(done, failed))
