--- The one batch scheduler: many calls side by side on any transport.
--
-- Each worker is a coroutine that runs the ordinary call pipeline with a
-- transport of its own (a Worker) whose send and sleep yield to the loop
-- below instead of blocking: send starts the request in the worker's slot
-- (slot = worker number) with the transport's runner, sleep asks to be
-- woken later. The loop resumes each worker when its answer arrives (the
-- runner's wait) or its sleep ends. Requests in flight therefore never
-- outnumber the workers, and a worker waiting out a backoff or the rate
-- limit holds up nobody else.
--
-- The loop is driven one step at a time, so a caller can take results as
-- they come (client:each) or all at the end (client:batch).
-- a step may yield to an event loop (navixy.transport.loop): PUC 5.1 needs this pcall for it
local yielding_pcall = require("navixy.compat").pcall
local core = require "navixy.core"
local errors = require "navixy.errors"
local sink = require "navixy.sink"

local misuse = errors.misuse

local M = {}

-- What a worker yields: the tag, and for SEND the request, for SLEEP the
-- seconds; MORE asks for the next event of its request (after a chunk),
-- DROP drops its request.
local SEND, SLEEP, MORE, DROP = {}, {}, {}, {}
-- What a worker is resumed with when the run is given up.
local ABORT = {}

local Worker = {}
Worker.__index = Worker
function Worker.yields() return true end -- its send and sleep let the other workers run
Worker.now = core.now

local function event(tag, arg)
  local e = coroutine.yield(tag, arg)
  if e == ABORT then misuse("batch aborted") end
  return e
end

-- The rest of a file answer's transfer after its first event, into req.sink.
-- (Apart from Worker.send: LuaJIT closes upvalues at every return of a
-- function that makes closures, and does not compile that.)
local function streamed(req, e)
  return sink.stream(req, e, function() return event(MORE) end, function() event(DROP) end)
end

function Worker.send(_, req)
  local e = coroutine.yield(SEND, req) -- event(SEND, req), a call fewer a request
  if e == ABORT then misuse("batch aborted") end
  if not req.sink then return e end
  return streamed(req, e)
end

function Worker.sleep(_, seconds)
  if coroutine.yield(SLEEP, seconds) == ABORT then misuse("batch aborted") end
end

function Worker:name() return self.base:name() end
function Worker.close() end

local Run = {}
Run.__index = Run

--- A run of `n` workers, each calling work(worker_transport, i), over
-- `transport`. Nothing starts before the first step.
function M.new(transport, n, work)
  return setmetatable({
    transport = transport, n = n, work = work, workers = {}, wake = {}, events = {}, taken = 1,
    live = 0, sleeping = 0, sending = 0, started = false, runner = nil,
  }, Run)
end

-- Resumes worker `id` with the given values and notes what it waits for:
-- its answer (counted in `sending`) or the end of a sleep (in `wake`).
-- (Two values, a and b, fixed: a vararg function costs PUC Lua a copy of
-- its arguments per call, and a worker is resumed once a request.)
function Run:resume(id, a, b)
  local co = self.workers[id]
  local ok, tag, arg = coroutine.resume(co, a, b)
  if not ok then error(tag, 0) end
  if tag == SEND then
    self.runner:start(id, arg)
    self.sending = self.sending + 1
  elseif tag == MORE then
    self.runner:resume(id)
    self.sending = self.sending + 1
  elseif tag == DROP then
    self.runner:drop(id)
    return self:resume(id)
  elseif tag == SLEEP then
    self.wake[id] = core.now() + arg
    self.sleeping = self.sleeping + 1
  elseif coroutine.status(co) == "dead" then
    self.workers[id] = nil
    self.live = self.live - 1
  else
    misuse("something yielded inside a batch worker (an on_request hook?)")
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

function Run:start()
  self.started = true
  self.runner = self.transport:runner(self)
  for id = 1, self.n do
    self.workers[id] = coroutine.create(self.work)
    self.live = self.live + 1
    self:resume(id, setmetatable({ base = self.transport }, Worker), id)
  end
end

-- One step: resumes the worker of an answer taken already (below), else
-- wakes the sleepers that are due, else waits for answers (at most until
-- the next sleeper is due) and resumes the worker of the first. The runner
-- gives every answer there is in one call (at c = 8, about four a pass of
-- the engine over its sockets); the rest wait in `events` (slot, event
-- pairs from `taken` on) for the steps after, so that a step resumes one
-- worker and client:each hands each result over before a worker takes its
-- next item. With `all` (nobody takes results between steps) a step
-- resumes the workers of every answer taken.
function Run:step(all)
  -- Ctrl-C held by the program (core.hold_interrupts: the command's batch) is
  -- raised here, between steps, as the interpreter would raise it anywhere
  if core.interrupt_taken() then error("interrupted!", 0) end
  local events = self.events
  if events[self.taken] == nil then
    self.taken = 1
    local wait = 60
    if self.sleeping > 0 then
      local ahead = self:wake_due()
      if ahead then wait = math.max(0, ahead - core.now()) end
    end
    if self.sending > 0 then
      self.sending = self.sending - self.runner:wait(wait, events)
      if events[1] == nil then return end
    elseif self.sleeping > 0 then
      return self.transport:sleep(wait) -- everybody sleeps: nothing to drive meanwhile
    elseif self.live > 0 then
      misuse("batch workers neither sending nor sleeping") -- cannot happen
    else
      return
    end
  end
  repeat
    local at = self.taken
    local id, result = events[at], events[at + 1]
    events[at], events[at + 1] = nil, nil -- an answer is kept by its worker only
    self.taken = at + 2
    self:resume(id, result)
  until not all or events[self.taken] == nil
end

-- The first step starts the workers; every later one is Run:step.
local function first_or_next_step(self, all)
  if not self.started then self:start() else self:step(all) end
end

--- Runs one step (starting the workers first); returns true while workers
-- remain. An error in a worker aborts the run and is raised here, with
-- nothing left in flight. `all`: the caller takes no result between steps
-- (Run:step).
function Run:advance(all)
  if self.superseded then
    misuse("this batch was given up: another batch started on the client while it waited")
  end
  self.stepping = true
  local ok, err = yielding_pcall(first_or_next_step, self, all) -- no closure per step
  self.stepping = false
  if not ok then
    self:abort()
    error(err, 0)
  end
  if self.live > 0 then return true end
  self:close()
  return false
end

--- Whether the run is inside a step now (its caller is not: a new run on
-- the same client then comes from inside this one).
function Run:busy()
  return self.stepping
end

--- Another run took the transport while this one waited between steps (an
-- iteration given up without closing it): it is aborted, and raises if
-- stepped again.
function Run:supersede()
  self.superseded = true
  self:abort()
end

-- Releases the runner once; nothing is in flight by then.
function Run:close()
  local runner = self.runner
  self.runner = nil
  if runner then runner:finish() end
end

--- Gives the run up: requests in flight are dropped, and every suspended
-- worker is unwound (resumed with ABORT, so its send or sleep raises) so that
-- what it holds, such as a login in progress, is released as it would be by
-- any error. Idempotent.
function Run:abort()
  local runner = self.runner
  if runner then runner:cancel() end
  for _, co in pairs(self.workers) do
    if coroutine.status(co) == "suspended" then coroutine.resume(co, ABORT) end
  end
  self.workers, self.wake, self.events, self.live, self.sending, self.sleeping = {}, {}, {}, 0, 0, 0
  self:close()
end

--- Calls work(transport, i) for i = 1..n in n workers side by side over
-- `transport`; returns when all have returned. An error in any worker stops
-- the others and is raised here, with the transport ready for more.
function M.run(transport, n, work)
  local run = M.new(transport, n, work)
  while run:advance(true) do end
end

return M
