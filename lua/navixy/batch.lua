--- client:batch(calls, opts) and client:each(calls, opts): many calls side
-- by side.
--
-- Every item goes through the same pipeline as client:call (navixy.call:
-- encoding, auth, rate limit, retries with backoff, the shared login and
-- re-login). `concurrency` workers take the items in order, each running
-- one call at a time, like that many callers sharing the client; the batch
-- scheduler (navixy.batch.scheduler) runs them side by side on the
-- client's transport, so at most `concurrency` requests are in flight and an
-- item waiting out a backoff delays no other.
--
-- Results are handed over as they complete (client:each, or on_result);
-- client:batch without on_result gathers them into an array in input order.
-- Nothing else keeps a result, so memory grows with the concurrency, not
-- with the number of calls.
-- a step may yield to an event loop (navixy.transport.loop): PUC 5.1 needs this pcall for it
local yielding_pcall = require("navixy.compat").pcall
local call = require "navixy.call"
local errors = require "navixy.errors"
local options = require "navixy.options"
local scheduler = require "navixy.batch.scheduler"

local misuse = errors.misuse

local M = {}

-- Raises what encoding item i raised, naming the item when it is a misuse.
local function item_failed(i, message)
  message = tostring(message)
  if message:sub(1, 8) ~= "navixy: " then error(message, 0) end -- not a misuse: as it came
  misuse("batch item %d: %s", i, message:sub(9))
end

-- Item i checked and encoded: its body and parts; raises, naming the
-- item, on anything client:call would raise on.
local function encode_item(st, i, item)
  if type(item) ~= "table" then
    misuse("batch item %d must be a table {action, params, call_opts}, got %s", i, type(item))
  end
  local ok, body, parts = pcall(call.encode, st, item[1], item[2], item[3])
  if not ok then item_failed(i, body) end
  return body, parts
end

-- The n items of array `calls` encoded as encode_item does, into items,
-- bodies and parts, in one pcall (one an item cost a batch call of Lua 5.4
-- about 700 instructions).
local function encode_array(st, calls, n, items, bodies, parts)
  local at = 0
  local ok, err = pcall(function()
    for i = 1, n do
      local item = calls[i]
      at = i
      if type(item) ~= "table" then return end -- encode_item raises for it, below
      bodies[i], parts[i] = call.encode(st, item[1], item[2], item[3])
      items[i] = item
    end
  end)
  if not ok then item_failed(at, err) end
  if at > 0 and items[at] == nil then encode_item(st, at, calls[at]) end
end

-- The calls as a source: take() gives the next item's index, action,
-- call_opts, body and parts, or nil when none is left; and the number of
-- items when known up front (an array).
--
-- An array is read once, up front: every item checked and encoded, so that
-- a malformed one raises before anything is sent (encoding is the check:
-- doing it twice would cost a call a tenth more instructions), into two
-- arrays, the items and their bodies (parts, for uploads, apart), so that
-- the caller's array may change once the batch has begun. An iterator (a
-- function returning the next item or nil) is called as items are taken,
-- each encoded then; a malformed item raises when taken, ending the batch:
-- a streamed batch of a million calls holds what `concurrency` calls hold.
-- Either way a waiting item has no job: it is made when a worker takes it.
local function source(st, calls)
  local kind = type(calls)
  if kind ~= "table" and kind ~= "function" then
    misuse("client:batch expects an array or an iterator of calls, got %s", kind)
  end
  local taken = 0
  if kind == "function" then
    local ended = false
    return function()
      if ended then return nil end
      local item = calls()
      if item == nil then
        ended = true
        return nil
      end
      taken = taken + 1
      local body, parts = encode_item(st, taken, item)
      return taken, item[1], item[3], body, parts
    end
  end
  local n, items, bodies, parts = #calls, {}, {}, {}
  encode_array(st, calls, n, items, bodies, parts)
  return function()
    if taken >= n then return nil end
    taken = taken + 1
    local i, item, body, part = taken, items[taken], bodies[taken], parts[taken]
    items[i], bodies[i], parts[i] = nil, nil, nil -- done items keep nothing
    return i, item[1], item[3], body, part
  end, n
end

local Iter = {}
Iter.__index = Iter

-- The next result: i, res, err; nil when every call has been handed over.
-- (ready holds each result as three slots, i, res, err: no table per result.)
function Iter:next()
  local ready = self.ready
  while ready.first > ready.last do
    if not self.run or not self.run:advance() then
      self.run = nil
      if ready.first > ready.last then return nil end
    end
  end
  local at = ready.first
  local i, res, err = ready[at], ready[at + 1], ready[at + 2]
  ready[at], ready[at + 1], ready[at + 2] = nil, nil, nil
  ready.first = at + 3
  return i, res, err
end

--- Gives the calls up (those in flight are dropped). Idempotent; also run
-- when a Lua 5.4 for loop is left early (a to-be-closed value).
function Iter:close()
  local run = self.run
  self.run = nil
  if run then run:abort() end
end

Iter.__close = Iter.close
Iter.__call = Iter.next

-- The scheduler run of `calls` (navixy.batch.scheduler), each result handed
-- to deliver(i, res, err) by the worker that made it, as it completes; nil
-- when there are no calls.
local function run_of(st, calls, concurrency, deliver)
  local take, n = source(st, calls)
  if n == 0 then return nil end
  local function work(t)
    local job -- the worker's last job, filled in again for its next item: no call holds it by then
    while true do
      local i, action, call_opts, body, parts = take()
      if not i then return end
      job = call.prepared(st, action, call_opts, body, parts, job)
      deliver(i, call.run(st, job, t))
    end
  end
  return scheduler.new(st.transport, math.min(concurrency, n or concurrency), work)
end

--- The iterator of client:each(calls, opts): for i, res, err in it do ... end.
-- `calls`: an array, or an iterator giving the next item or nil (source above).
function M.each(st, calls, opts)
  local concurrency = options.batch(opts)
  -- results wait here between the step that made them and the loop taking them: i, res, err
  -- in three slots from `first` to `last`
  local ready = { first = 1, last = 0 }
  local it = setmetatable({ ready = ready }, Iter)
  it.run = run_of(st, calls, concurrency, function(i, res, err)
    local last = ready.last
    ready[last + 1], ready[last + 2], ready[last + 3] = i, res, err
    ready.last = last + 3
  end)
  -- the generic for calls it(state, control); the 4th value is closed when
  -- the loop ends early (Lua 5.4)
  return it, nil, nil, it
end

--- client:batch: the array of { result = res } | { err = err } in input order
-- (for an iterator, the order it gave the items in),
-- or, with opts.on_result, on_result(i, res, err) as each completes.
function M.run(st, calls, opts)
  local on_result
  if opts ~= nil and type(opts) == "table" and opts.on_result ~= nil then
    on_result = opts.on_result
    if type(on_result) ~= "function" then
      misuse("batch option 'on_result' must be a function, got %s", type(on_result))
    end
    opts = { concurrency = opts.concurrency }
  end
  if on_result then -- called here, never inside a worker: through client:each's iterator
    local it = M.each(st, calls, opts)
    local ok, err = yielding_pcall(function()
      -- not a generic for: PUC Lua 5.1 cannot yield inside its iterator, and
      -- a step yields under an event loop
      while true do
        local i, res, e = it:next()
        if i == nil then break end
        on_result(i, res, e)
      end
    end)
    if not ok then
      it:close()
      error(err, 0)
    end
    return nil
  end
  -- the array filled in by the workers as results come (an error in a step
  -- aborts the run there and is raised)
  local results = {}
  -- items finish out of order: placeholders keep every slot in the array part
  if type(calls) == "table" then
    for i = 1, #calls do results[i] = false end
  end
  local run = run_of(st, calls, options.batch(opts), function(i, res, err)
    results[i] = res and { result = res } or { err = err }
  end)
  if run then
    while run:advance(true) do end
  end
  return results
end

return M
