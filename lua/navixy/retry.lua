--- The retry rules: which failures are worth another attempt, and how long
-- to wait first. One place, used by single calls, batches, subscriptions and
-- every transport. (How long a refused login stays refused is a session's
-- matter: navixy.session.)
local M = {}

M.BASE_DELAY = 0.5   -- seconds before the first retry (before jitter)
M.MAX_DELAY = 8      -- cap on one backoff wait
M.MAX_RETRY_AFTER = 60 -- a longer Retry-After returns the error at once
M.MAX_STALE = 3       -- kept-alive connections found closed, per call

-- API codes that mean "not processed, try again": rate limit, queue and
-- database unavailable.
local ALWAYS_CODES = { [15] = true, [8] = true, [14] = true }
-- API codes that mean "failed on the server side, maybe after doing part of it".
local SAFE_ONLY_CODES = { [1] = true, [6] = true }

-- Answers of is_safe by action: asked once per request, and a program uses
-- few actions (the cache starts over if one uses very many).
local safe_actions, cached = {}, 0

--- True when an action can be repeated without effect: its last path
-- segment is list, read or count, or starts with get.
function M.is_safe(action)
  local safe = safe_actions[action]
  if safe ~= nil then return safe end
  local last = action:match("([^/]+)/*$") or action
  safe = last == "list" or last == "read" or last == "count" or last:sub(1, 3) == "get"
  if cached >= 1000 then safe_actions, cached = {}, 0 end
  safe_actions[action], cached = safe, cached + 1
  return safe
end

--- Whether a job may be sent twice: call_opts.idempotent when given, else
-- true for a GET (safe by HTTP's definition), else what the docs say
-- (job.read_only, from the catalogue), else judged by the action's name.
function M.safe(job)
  if job.idempotent ~= nil then return job.idempotent end
  if job.method == "GET" then return true end
  if job.read_only ~= nil then return job.read_only end
  return M.is_safe(job.action)
end

--- How transient a failure is:
--   "always"    the request was not processed: retry whatever the action;
--   "if_safe"   it may have been processed: retry only actions safe to repeat;
--   "stale"     a kept-alive connection the server had closed: send again at
--               once on a new one, if the action is safe to repeat (actions
--               that are not never go out on a kept-alive connection);
--   nil         retrying cannot help.
function M.classify(err)
  local kind, phase = err.kind, err.phase
  if kind == "transport" or kind == "timeout" then
    if phase == "connect" then return "always" end
    if phase == "send" then return "if_safe" end
    if phase == "stale" then return "stale" end
    return nil -- "tls" (certificate rejected), "limit" (answer too large), "request" (cannot be made)
  end
  if err.status == 429 then return "always" end
  if kind == "api" then
    if ALWAYS_CODES[err.code] then return "always" end
    if SAFE_ONLY_CODES[err.code] then return "if_safe" end
    if err.status and err.status >= 500 and err.code == nil then return "if_safe" end
    return nil
  end
  if kind == "http" and err.status and err.status >= 500 then return "if_safe" end
  return nil
end

--- Whether a subscription whose connection failed with `err` (a navixy
-- error) connects again: after a drop, a missed heartbeat, the server's
-- close, a refused or timed-out connect, a 5xx or a 429 on the upgrade. Not
-- after a rejected certificate, a message over max_message, Ctrl-C, or an
-- answer that a new connection would only get again (a 4xx, most API codes).
function M.reconnectable(err)
  if err.kind == "transport" or err.kind == "timeout" then
    return err.phase ~= "tls" and err.phase ~= "limit" and err.phase ~= "interrupted"
      and err.phase ~= "request"
  end
  return M.classify(err) ~= nil
end

--- Exponential backoff with full jitter: a random wait in [0, min(cap, base*2^(n-1))].
function M.backoff(retry_number, random)
  local ceiling = math.min(M.MAX_DELAY, M.BASE_DELAY * 2 ^ (retry_number - 1))
  return (random or math.random)() * ceiling
end

--- Decides what follows a failed attempt. `job` holds action, attempts
-- (requests sent so far), retried (retries used), retries (retries allowed)
-- and idempotent (nil: judge by the action's name). Sets err.retryable and
-- err.attempts; returns the seconds to wait before the next attempt (and
-- counts the retry), or nil when the error is final.
function M.next_delay(job, err, retry_after)
  local class = M.classify(err)
  err.retryable = class ~= nil
  err.attempts = job.attempts
  if not class then return nil end
  if job.delivered then return nil end -- part of the body went to a sink: no taking it back
  if class == "stale" then
    -- not a failure of the API: it does not use up `retries`, nor wait
    job.stale = (job.stale or 0) + 1
    if not M.safe(job) or job.stale > M.MAX_STALE then return nil end
    return 0
  end
  if class == "if_safe" and not M.safe(job) then return nil end
  if job.retried >= job.retries then return nil end
  if retry_after and retry_after > M.MAX_RETRY_AFTER then return nil end
  job.retried = job.retried + 1
  return retry_after or M.backoff(job.retried)
end

return M
