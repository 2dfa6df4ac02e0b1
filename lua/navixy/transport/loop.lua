--- The transport for event loops (copas, cqueues, luv): libcurl as in
-- navixy.transport.curl, through an engine of the client's own that curl's
-- multi socket interface drives (navixy.core: client:fd()), so that a
-- coroutine waiting for an answer, a backoff or an event yields to its loop
-- instead of blocking the process. See navixy.transport for the contract.
--
-- Many coroutines may use one client at once: every request takes a slot of
-- its own from the client's (1..256), and whoever drives the engine keeps
-- the events of the others' slots for them. Each waiting coroutine waits on
-- a waiter of its own (core.waiter: one descriptor per waiter, which watches
-- the engine's or a WebSocket's and keeps the timeout), so the loop adapter
-- (navixy.loop) only has to wait until one descriptor is readable.
local core = require "navixy.core"
local pcall = require("navixy.compat").pcall -- PUC 5.1: a yield inside must get through
local errors = require "navixy.errors"
local in_coroutine = require("navixy.loop").coroutine
local sink = require "navixy.sink"

local Loop = {}
Loop.__index = Loop
function Loop.yields() return true end

local M = {}

local SLOTS = 256 -- the core's batch slots (csrc/client.h NVX_MAX_SLOTS)

--- `handle` is the client's navixy.core client, made with loop = true;
-- `adapter` the loop's (navixy.loop).
function M.new(handle, adapter)
  local free = {}
  for i = SLOTS, 1, -1 do free[#free + 1] = i end
  return setmetatable({ handle = handle, adapter = adapter, free = free, events = {}, waiting = {},
                        waiters = {}, got = {} }, Loop)
end

-- Waits until descriptor fd is readable or `seconds` pass (nil: no
-- timeout): "ready" or "timeout". `slots`: the slots whose events, kept by
-- another coroutine that drove the engine meanwhile, end the wait at once.
function Loop:wait_fd(fd, seconds, slots)
  local w = table.remove(self.waiters) or core.waiter()
  local entry = { w = w, fd = fd }
  for _, slot in ipairs(slots or {}) do self.waiting[slot] = entry end
  w:set(fd, seconds)
  local why = w:ready()
  while not why do
    self.adapter.wait(w:fd())
    why = w:ready()
  end
  for _, slot in ipairs(slots or {}) do self.waiting[slot] = nil end
  w:set(nil, nil)
  self.waiters[#self.waiters + 1] = w
  return why
end

-- Keeps the event of another coroutine's slot, and wakes that coroutine:
-- the engine's descriptor may not be readable again for it.
function Loop:keep(slot, event)
  self.events[slot] = event
  local waiting = self.waiting[slot]
  if waiting then waiting.w:set(waiting.fd, 0) end
end

-- Drives the engine once, keeping every event it brings.
function Loop:drive()
  local got = self.got
  for k = 1, 2 * self.handle:events(0, got), 2 do
    self:keep(got[k], got[k + 1])
    got[k], got[k + 1] = nil, nil
  end
end

local function take_slot(self)
  local slot = table.remove(self.free)
  if not slot then errors.misuse("more than " .. SLOTS .. " requests in flight on one client") end
  return slot
end

local function give_slot(self, slot)
  self.events[slot], self.waiting[slot] = nil, nil
  self.free[#self.free + 1] = slot
end

-- The next event of `slot`, driving the engine (and keeping what it brings
-- for other slots) and waiting on its descriptor; nil when `deadline`
-- (core.now() seconds, or nil) passed first.
function Loop:event(slot, deadline)
  local events, handle = self.events, self.handle
  while true do
    local e = events[slot]
    if e then
      events[slot] = nil
      return e
    end
    self:drive()
    if not events[slot] then
      local left = deadline and deadline - core.now()
      if left and left <= 0 then return nil end
      self:wait_fd(handle:fd(), left, { slot })
    end
  end
end

--- One attempt in a slot of its own; a file answer with req.sink streams
-- there chunk by chunk.
function Loop:send(req)
  in_coroutine(self.adapter.name)
  local slot = take_slot(self)
  local ok, result = pcall(function()
    self.handle:start(slot, req)
    local event = self:event(slot)
    if not req.sink then return event end
    return sink.stream(req, event, function()
      self.handle:resume(slot)
      return self:event(slot)
    end, function() self.handle:cancel(slot) end)
  end)
  if not ok then self.handle:cancel(slot) end
  give_slot(self, slot)
  if not ok then error(result, 0) end
  return result
end

local Runner = {}
Runner.__index = Runner

-- A run's slots (1..n) are slots of the client's: taken as they start.
function Runner:start(i, req)
  local slot = self.slots[i]
  if not slot then
    slot = take_slot(self.t)
    self.slots[i], self.of[slot] = slot, i
  end
  return self.t.handle:start(slot, req)
end

-- Moves the events kept for the run's slots into out as Runner:wait gives
-- them; returns their count.
local function take_events(self, out)
  local events, n = self.t.events, 0
  for i, slot in pairs(self.slots) do
    local e = events[slot]
    if e then
      events[slot] = nil
      out[2 * n + 1], out[2 * n + 2] = i, e
      n = n + 1
    end
  end
  return n
end

function Runner:wait(seconds, out)
  local t = self.t
  local deadline = core.now() + seconds
  while true do
    local n = take_events(self, out)
    if n > 0 then return n end
    t:drive()
    n = take_events(self, out)
    if n > 0 then return n end
    local left = deadline - core.now()
    if left <= 0 then return 0 end
    local mine = {}
    for _, slot in pairs(self.slots) do mine[#mine + 1] = slot end
    t:wait_fd(t.handle:fd(), left, mine)
  end
end

function Runner:resume(i) return self.t.handle:resume(self.slots[i]) end

function Runner:drop(i)
  local slot = self.slots[i]
  if not slot then return end
  self.t.handle:cancel(slot)
  self.slots[i], self.of[slot] = nil, nil
  give_slot(self.t, slot)
end

function Runner:cancel()
  for i in pairs(self.slots) do self:drop(i) end
end

function Runner:finish() self:cancel() end

--- Runs side by side with any other on this client: each takes slots of its own.
function Loop:runner()
  in_coroutine(self.adapter.name)
  return setmetatable({ t = self, slots = {}, of = {} }, Runner)
end

-- A WebSocket as the curl transport makes it (core.ws_connect: the connect
-- and handshake block, at most `timeout`), read without blocking: recv
-- waits on the socket in the loop.
local Ws = {}
Ws.__index = Ws

function Loop:websocket(s)
  in_coroutine(self.adapter.name)
  local ws, err = core.ws_connect {
    url = s.url, headers = s.header_lines, timeout = s.timeout, connect_timeout = s.connect_timeout,
    ssl_verify = s.ssl_verify, ca_file = s.ca_file, proxy = s.proxy, max_message = s.max_message,
  }
  if not ws then return nil, err end
  return setmetatable({ ws = ws, t = self }, Ws)
end

function Ws:send(text) return self.ws:send_text(text) end

function Ws:recv(seconds)
  local deadline = core.now() + seconds
  while true do
    local msg, err = self.ws:recv(0)
    if msg then return msg.data end
    if err.kind ~= "timeout" then return nil, err end
    local left = deadline - core.now()
    local fd = self.ws:fd()
    if left <= 0 or not fd or self.t:wait_fd(fd, left) == "timeout" then
      msg, err = self.ws:recv(0) -- what came with the deadline, or the timeout error
      if msg then return msg.data end
      return nil, err
    end
  end
end

function Ws:close(wait) self.ws:close(1000, nil, wait) end

function Loop:sleep(seconds)
  in_coroutine(self.adapter.name)
  if seconds > 0 then self:wait_fd(nil, seconds) end
end

function Loop:name() return "curl+" .. self.adapter.name end
Loop.now = core.now

function Loop:close()
  for _, w in ipairs(self.waiters) do w:close() end
  self.waiters = {}
end

return M
