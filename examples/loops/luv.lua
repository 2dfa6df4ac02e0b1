-- A batch from a coroutine on libuv's loop (luv), with a timer ticking.
--   NAVIXY_URL=... NAVIXY_HASH=... lua5.4 examples/loops/luv.lua
local uv = require "luv"
local navixy = require "navixy"

local client = navixy.new {
  url = os.getenv("NAVIXY_URL"), hash = os.getenv("NAVIXY_HASH"), loop = "luv",
}
local timer = uv.new_timer()
timer:start(100, 100, function() end) -- goes on while the batch waits

coroutine.wrap(function()
  local results = client:batch {
    { "tracker/list" },
    { "tracker/get_state", { tracker_id = 1 } },
    { "user/get_info" },
  }
  for i, r in ipairs(results) do print(i, r.result and "ok" or tostring(r.err)) end
  timer:close()
end)()

uv.run()
