--- The client's request rate: `rate_limit = R` is at most R requests in any
-- one-second window (a sliding window), for every request (first attempts,
-- retries, logins) of every client sharing the window in the client's store
-- (navixy.store: its own, or one shared by workers and hosts). A sliding
-- window is what no server-side limiter can find fault with, whether it
-- counts by fixed seconds, by a window of its own or with a token bucket.
-- The slots are reserved in the store (navixy.store.rules.reserve): callers
-- queue in order and sleep on their own transport until their slot.
local errors = require "navixy.errors"
local store = require "navixy.store"

local M = {}

-- Seconds added to each one-second window. What the server sees is the
-- arrival of each request, which comes a varying time after it was sent
-- (scheduling, the network, the server's own queue): two requests sent one
-- window apart may arrive a little less than that apart. The margin absorbs
-- that jitter, at a cost of R × MARGIN requests per second.
M.MARGIN = 0.05

--- The window of a rate: at most `limit` requests in `seconds`. A rate
-- below one a second is one request per 1/R seconds; above, R is taken
-- whole (a request is whole).
function M.window(rate)
  if rate < 1 then return 1, 1 / rate + M.MARGIN end
  return math.floor(rate), 1 + M.MARGIN
end

--- Waits (on transport `t`) for the client's next slot; `login` for a
-- login request, which goes before the queue (see rules.reserve). A slot
-- more than `timeout` seconds away (the call's timeout) is not waited for:
-- returns nil, a timeout error at once (final: a retry would queue again).
-- Else returns true once the slot has come.
function M.wait(st, t, login, timeout, action)
  -- the member is named at each request: a client made before nginx forked
  -- its workers is a different member in each
  local member = store.process_id() .. st.serial
  local limit = st.rate_count
  -- a client that logs in keeps a place in each window for a login: when a
  -- session ends, every call waits for the new one, so the login must not
  -- wait behind them
  if st.login and not login and limit >= 2 then limit = limit - 1 end
  local wait = st.store:reserve(st.key, member, limit, st.rate_window, login, timeout)
  if wait > timeout then
    return nil, errors.new { kind = "timeout", phase = "ratelimit", action = action,
      description = ("the next slot of the rate limit is %.1f s away, longer than the timeout (%g s)")
        :format(wait, timeout) }
  end
  if wait > 0 then t:sleep(wait) end
  return true
end

return M
