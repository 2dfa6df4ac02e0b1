-- A job that runs on several hosts at once (cron, workers): one Navixy session
-- and one rate limit for all of them, kept in Redis.
local navixy = require "navixy"

local client = navixy.new {
  url = os.getenv("NAVIXY_URL") or "https://api.eu.navixy.com/v2",
  login = os.getenv("NAVIXY_LOGIN"),
  password = os.getenv("NAVIXY_PASSWORD"),
  rate_limit = 50,                       -- for every host together
  store = navixy.store.redis {
    host = os.getenv("REDIS_HOST") or "127.0.0.1",
    port = tonumber(os.getenv("REDIS_PORT")) or 6379,
    password = os.getenv("REDIS_PASSWORD"),  -- nil: none
    prefix = "navixy:",
    timeout = 0.5,                       -- per store operation; then on its own
  },
  on_request = function(info)
    if info.store_error then io.stderr:write("store unavailable: ", info.store_error, "\n") end
  end,
}

local trackers = assert(client.tracker.list())
local calls = {}
for i, t in ipairs(trackers.list) do calls[i] = { "tracker/get_state", { tracker_id = t.id } } end
for i, r in ipairs(client:batch(calls, { concurrency = 16 })) do
  local state = r.result and r.result.state
  print(trackers.list[i].id, state and state.movement_status or tostring(r.err))
end
