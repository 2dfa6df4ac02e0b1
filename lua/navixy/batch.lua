--- client:batch(calls, opts): many calls side by side.
--
-- Every item goes through the same pipeline as client:call (client.run:
-- encoding, auth, rate limit, retries with backoff, the shared login and
-- re-login). `concurrency` workers take the items in order, each running
-- one call at a time, like that many callers sharing the client; the
-- transport runs the workers side by side (curl: on its multi handle;
-- OpenResty: in light threads), so at most `concurrency` requests are in
-- flight and an item waiting out a backoff delays no other.
local client = require "navixy.client"

local M = {}

M.DEFAULT_CONCURRENCY = 8
M.MAX_CONCURRENCY = 256 -- the C core's slots per client

local function fail(fmt, ...)
  error("navixy: " .. string.format(fmt, ...), 0)
end

local function check_opts(opts)
  if opts == nil then return M.DEFAULT_CONCURRENCY end
  if type(opts) ~= "table" then fail("batch options must be a table, got %s", type(opts)) end
  for k in pairs(opts) do
    if k ~= "concurrency" then fail("unknown batch option '%s'", tostring(k)) end
  end
  local c = opts.concurrency
  if c == nil then return M.DEFAULT_CONCURRENCY end
  if type(c) ~= "number" or c ~= math.floor(c) or c < 1 or c > M.MAX_CONCURRENCY then
    fail("batch option 'concurrency' must be a whole number from 1 to %d, got %s",
      M.MAX_CONCURRENCY, tostring(c))
  end
  return c
end

-- The job for item i; raises, naming the item, on anything client:call
-- would raise on.
local function item_job(st, i, item)
  if type(item) ~= "table" then
    fail("batch item %d must be a table {action, params, call_opts}, got %s", i, type(item))
  end
  local ok, job = pcall(client.call_job, st, item[1], item[2], item[3])
  if not ok then
    error((tostring(job):gsub("^navixy: ", "navixy: batch item " .. i .. ": ")), 0)
  end
  return job
end

--- Runs the batch for a client's state `st`; see Client:batch.
function M.run(st, calls, opts)
  if type(calls) ~= "table" then fail("client:batch expects an array of calls, got %s", type(calls)) end
  local concurrency = check_opts(opts)
  local n = #calls
  -- every item is checked and encoded before anything is sent
  local jobs = {}
  for i = 1, n do jobs[i] = item_job(st, i, calls[i]) end
  local results = {}
  if n == 0 then return results end
  -- items finish out of order: placeholders keep every slot in the array part
  for i = 1, n do results[i] = false end
  local transport = st.transport
  if not transport.parallel then fail("this transport cannot run batches") end
  if st.batching then fail("client:batch is already running on this client") end

  local taken = 0
  local function work(t)
    while taken < n do
      taken = taken + 1
      local i = taken
      local job = jobs[i]
      jobs[i] = nil -- done items keep only their result
      job.transport = t
      local res, err = client.run(st, job)
      results[i] = res and { result = res } or { err = err }
    end
  end

  st.batching = true
  local ok, err = pcall(transport.parallel, transport, math.min(concurrency, n), work)
  st.batching = false
  if not ok then error(err, 0) end
  return results
end

return M
