--- client:batch(calls, opts): many calls side by side.
--
-- Every item goes through the same pipeline as client:call (session.run:
-- encoding, auth, rate limit, retries with backoff, the shared login and
-- re-login). `concurrency` workers take the items in order, each running
-- one call at a time, like that many callers sharing the client; the batch
-- scheduler (navixy.transport.scheduler) runs them side by side on the
-- client's transport, so at most `concurrency` requests are in flight and an
-- item waiting out a backoff delays no other.
local call = require "navixy.call"
local options = require "navixy.options"
local scheduler = require "navixy.transport.scheduler"
local session = require "navixy.session"

local M = {}

-- The job for item i; raises, naming the item, on anything client:call
-- would raise on.
local function item_job(st, i, item)
  if type(item) ~= "table" then
    error(("navixy: batch item %d must be a table {action, params, call_opts}, got %s"):format(i, type(item)), 0)
  end
  local ok, job = pcall(call.job, st, item[1], item[2], item[3])
  if not ok then
    error((tostring(job):gsub("^navixy: ", "navixy: batch item " .. i .. ": ")), 0)
  end
  return job
end

--- Runs the batch for a client's state `st`; see Client:batch.
function M.run(st, calls, opts)
  if type(calls) ~= "table" then
    error("navixy: client:batch expects an array of calls, got " .. type(calls), 0)
  end
  local concurrency = options.batch(opts)
  local n = #calls
  -- every item is checked and encoded before anything is sent
  local jobs = {}
  for i = 1, n do jobs[i] = item_job(st, i, calls[i]) end
  local results = {}
  if n == 0 then return results end
  -- items finish out of order: placeholders keep every slot in the array part
  for i = 1, n do results[i] = false end

  local taken = 0
  local function work(t)
    while taken < n do
      taken = taken + 1
      local i = taken
      local job = jobs[i]
      jobs[i] = nil -- done items keep only their result
      local res, err = session.run(st, job, t)
      results[i] = res and { result = res } or { err = err }
    end
  end

  scheduler.run(st.transport, math.min(concurrency, n), work)
  return results
end

return M
