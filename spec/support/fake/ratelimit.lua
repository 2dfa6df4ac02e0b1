-- The platform's rate limit (api-docs/platform-api/README.md, "API limits": "50 requests
-- per second per user ... applied based on user session hash and API keys";
-- commons/api-keys.md: "API keys have a separate counter"): above it, code 15 with HTTP
-- 429 (errors.md). Off after reset; POST /_fake/rate_limit {limit = N} turns it on.
--
-- Accounts: every session of one user (logins, two-factor interim hashes, sessions made
-- by panel/user/session/create) shares the counter "user:<id>" (the limit is per user);
-- each API key has its own, "key:fixed" for the fixed key and "key:<n>" for the n-th
-- key created; a dealer's panel sessions share "panel:<panel ID>". A login counts for
-- the account it names (user/auth by login, panel/account/auth by panel ID); requests
-- with an unknown hash or none count for no account. The per-IP limit is not modelled:
-- every client of the tests is on 127.0.0.1, so it would join all accounts into one.
--
-- The window slides: a request is refused when N requests of its account were let
-- through in the last second (at t - 1 < t' <= t). Refused requests take no place in
-- the window. While the limit is on, or only the log ({log = true}), every arrival is
-- logged (GET /_fake/rate_limit) so that specs can check what the server saw in any
-- one-second window.
-- Shared-dict keys: rl_lock:<a>, rl_win:<a> (list of admitted times), rl_n:<a>,
-- rl_t:<a>:<i> (arrival i, refused ones as negative times).
local store = require "fake.store"

local dict = store.dict
local M = {}

local function now()
  ngx.update_time()
  return ngx.now()
end

-- A lock per account: shared-dict add() is atomic across workers; held for a few
-- dictionary operations, and given up by itself after 0.1 s should a worker die holding it.
local function locked(account, fn)
  local key = "rl_lock:" .. account
  while not dict:add(key, true, 0.1) do ngx.sleep(0.001) end
  local ok, res = pcall(fn)
  dict:delete(key)
  if not ok then error(res, 0) end
  return res
end

-- Whether a request of `account` at this moment is over `limit` (in `window` seconds,
-- default 1). Logs the arrival.
function M.refuse(account, limit, window)
  window = window or 1
  if not account then return false end
  return locked(account, function()
    local t = now()
    local win = "rl_win:" .. account
    local refused = false
    if limit then
      while true do -- drop admitted times that left the window
        local oldest = dict:lpop(win)
        if not oldest then break end
        if oldest > t - window then dict:lpush(win, oldest); break end
      end
      refused = (dict:llen(win) or 0) >= limit
      if not refused then dict:rpush(win, t) end
    end
    local n = dict:incr("rl_n:" .. account, 1, 0)
    dict:set("rl_t:" .. account .. ":" .. n, refused and -t or t)
    return refused
  end)
end

-- The most arrivals in any window [t, t + window) of a sorted list of times.
local function busiest(times, window)
  local best, j = 0, 1
  for i = 1, #times do
    while times[i] - times[j] >= window do j = j + 1 end
    best = math.max(best, i - j + 1)
  end
  return best
end

-- Per account: requests, refused, max_in_window (arrivals in the busiest window: one
-- second, or `window`), max_admitted_in_window, per_second (arrivals per whole second of
-- the clock), and times (every arrival, seconds with milliseconds, in order).
function M.report(limit, log, window)
  window = window or 1
  local accounts = {}
  for _, k in ipairs(dict:get_keys(0)) do
    local account = k:match("^rl_n:(.+)$")
    if account then
      local times, admitted, per_second, refused = {}, {}, {}, 0
      for i = 1, dict:get(k) or 0 do
        local t = dict:get("rl_t:" .. account .. ":" .. i)
        if t then
          if t < 0 then refused, t = refused + 1, -t else admitted[#admitted + 1] = t end
          times[#times + 1] = t
          local sec = tostring(math.floor(t))
          per_second[sec] = (per_second[sec] or 0) + 1
        end
      end
      table.sort(times)
      table.sort(admitted)
      accounts[account] = { requests = #times, refused = refused, max_in_window = busiest(times, window),
        max_admitted_in_window = busiest(admitted, window), per_second = per_second, times = store.array(times) }
    end
  end
  return { enabled = limit and true or false, limit = limit or false, log = (limit or log) and true or false,
           window = window, accounts = accounts }
end

return M
