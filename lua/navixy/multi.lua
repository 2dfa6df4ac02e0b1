--- Batch workers side by side on the curl multi handle of a client.
--
-- Each worker is a coroutine that runs the ordinary call pipeline with a
-- transport of its own whose send and sleep yield instead of blocking: send
-- starts the request in the worker's slot of the multi handle (slot = worker
-- number), sleep asks to be woken later. The loop below resumes each worker
-- when its answer arrives or its sleep ends. Requests in flight therefore
-- never outnumber the workers, and a worker waiting out a backoff or the
-- rate limit holds up nobody else.
local core = require "navixy.core"

local M = {}

-- What a worker yields: the tag, and for SLEEP the seconds.
local SEND, SLEEP = {}, {}
-- What a worker is resumed with when the batch is given up.
local ABORT = {}

local Worker = {}
Worker.__index = Worker

function Worker:send(action, body, timeout, fresh)
  self.handle:multi_add(self.id, action, body, timeout, fresh)
  local status, a, b, c = coroutine.yield(SEND)
  if status == ABORT then error("navixy: batch aborted", 0) end
  return status, a, b, c
end

function Worker.sleep(_, seconds)
  if coroutine.yield(SLEEP, seconds) == ABORT then error("navixy: batch aborted", 0) end
end

Worker.now = function() return core.now() end
Worker.name = function() return "curl" end

function Worker.close() end

local Run = {}
Run.__index = Run

-- Resumes worker `id` with the given values and notes what it waits for:
-- its answer (counted in `sending`) or the end of a sleep (in `wake`).
function Run:resume(id, ...)
  local co = self.workers[id]
  local ok, tag, seconds = coroutine.resume(co, ...)
  if not ok then error(tag, 0) end
  if tag == SEND then
    self.sending = self.sending + 1
  elseif tag == SLEEP then
    self.wake[id] = core.now() + seconds
    self.sleeping = self.sleeping + 1
  elseif coroutine.status(co) == "dead" then
    self.workers[id] = nil
    self.live = self.live - 1
  else
    error("navixy: something yielded inside a batch worker (an on_request hook?)", 0)
  end
end

-- Resumes the workers whose sleep is over; returns the earliest wake time
-- still ahead, or nil.
function Run:wake_due()
  local now, due, ahead = core.now(), nil, nil
  for id, at in pairs(self.wake) do
    if at <= now then
      due = due or {}
      due[#due + 1] = id
    elseif not ahead or at < ahead then
      ahead = at
    end
  end
  if due then
    table.sort(due) -- a stable order, whatever pairs gives
    for _, id in ipairs(due) do
      self.wake[id] = nil
      self.sleeping = self.sleeping - 1
      self:resume(id)
    end
    return self:wake_due()
  end
  return ahead
end

-- Until every worker has returned: wake the sleepers that are due, else
-- wait for the next answer (at most until the next sleeper is due).
function Run:loop()
  local handle = self.handle
  while self.live > 0 do
    local wait = 60
    if self.sleeping > 0 then
      local ahead = self:wake_due()
      if ahead then wait = math.max(0, ahead - core.now()) end
    end
    if self.sending > 0 then
      local id, status, a, b, c = handle:multi_next(wait)
      if id then
        self.sending = self.sending - 1
        self:resume(id, status, a, b, c)
      end
    elseif self.sleeping > 0 then
      core.sleep(wait) -- everybody sleeps: nothing to drive meanwhile
    elseif self.live > 0 then
      error("navixy: batch workers neither sending nor sleeping", 0) -- cannot happen
    end
  end
end

-- Gives the batch up after an error: requests in flight are removed, and
-- every suspended worker is unwound (resumed with ABORT, so its send or
-- sleep raises) so that what it holds, such as a login in progress, is
-- released as it would be by any error.
function Run:abort()
  self.handle:multi_cancel()
  for _, co in pairs(self.workers) do
    if coroutine.status(co) == "suspended" then coroutine.resume(co, ABORT) end
  end
  self.handle:multi_cancel() -- in case a worker caught the error and sent again
  self.workers, self.live, self.sending, self.sleeping = {}, 0, 0, 0
end

--- Calls work(transport, i) for i = 1..n in n workers side by side on
-- `handle` (a navixy.core client); returns when all have returned. An error
-- in any worker stops the others and is raised here, with the client left
-- ready for the next call or batch.
function M.run(handle, n, work)
  local run = setmetatable({ handle = handle, workers = {}, wake = {}, live = 0, sleeping = 0,
    sending = 0 }, Run)
  local ok, err = pcall(function()
    for id = 1, n do
      run.workers[id] = coroutine.create(work)
      run.live = run.live + 1
      run:resume(id, setmetatable({ handle = handle, id = id }, Worker), id)
    end
    run:loop()
  end)
  if not ok then
    run:abort()
    error(err, 0)
  end
end

return M
