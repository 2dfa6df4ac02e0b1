-- A subscription and calls side by side in a cqueue, with a timer ticking.
--   NAVIXY_URL=... NAVIXY_HASH=... lua5.4 examples/loops/cqueues.lua
local cqueues = require "cqueues"
local navixy = require "navixy"

local client = navixy.new {
  url = os.getenv("NAVIXY_URL"), hash = os.getenv("NAVIXY_HASH"), loop = "cqueues",
}
local cq = cqueues.new()
local running, calls = 2, {}
cq:wrap(function() -- real-time events: sub:next yields to the cqueue while it waits
  local sub = client:subscribe { { type = "state_batch", target = { type = "all" }, rate_limit = "5s" } }
  local msg = assert(sub:next(10)) -- the answer to the subscription
  print("subscription:", msg.type)
  msg = assert(sub:next(10))       -- the first event: the trackers' states
  print("event:", msg.event)
  sub:close()
  running = running - 1
end)
cq:wrap(function() -- calls meanwhile
  for i = 1, 3 do calls[i] = #assert(client.tracker.list()).list end
  running = running - 1
end)
cq:wrap(function() -- a timer in the same loop keeps its pace
  while running > 0 do cqueues.sleep(0.1) end
end)
assert(cq:loop())
print("trackers, three times:", table.concat(calls, " "))
