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

-- Item i checked and encoded: its body and parts; raises, naming the
-- item, on anything client:call would raise on.
local function encode_item(st, i, item)
  if type(item) ~= "table" then
    misuse("batch item %d must be a table {action, params, call_opts}, got %s", i, type(item))
  end
  local ok, body, parts = pcall(call.encode, st, item[1], item[2], item[3])
  if not ok then
    local message = tostring(body)
    if message:sub(1, 8) ~= "navixy: " then error(message, 0) end -- not a misuse: as it came
    misuse("batch item %d: %s", i, message:sub(9))
  end
  return body, parts
end

-- Every call checked and encoded before anything is sent, into arrays by
-- index: action, call_opts, body, and parts (uploads' files). A job is made
-- only when a worker takes its item, so that a waiting item holds its body
-- and three references, not a job; and the calls array may change once the
-- batch has begun.
local function encode_all(st, calls)
  if type(calls) ~= "table" then
    misuse("client:batch expects an array of calls, got %s", type(calls))
  end
  local actions, opts, bodies, parts = {}, {}, {}, {}
  for i = 1, #calls do
    local item = calls[i]
    bodies[i], parts[i] = encode_item(st, i, item)
    actions[i], opts[i] = item[1], item[3]
  end
  return actions, opts, bodies, parts
end

local Iter = {}
Iter.__index = Iter

-- The next result: i, res, err; nil when every call has been handed over.
function Iter:next()
  local ready = self.ready
  while ready.first > ready.last do
    if not self.run or not self.run:advance() then
      self.run = nil
      if ready.first > ready.last then return nil end
    end
  end
  local item = ready[ready.first]
  ready[ready.first] = nil
  ready.first = ready.first + 1
  return item[1], item[2], item[3]
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

--- The iterator of client:each(calls, opts): for i, res, err in it do ... end.
function M.each(st, calls, opts)
  local concurrency = options.batch(opts)
  local actions, opts_of, bodies, parts = encode_all(st, calls)
  local n = #bodies
  -- results wait here between the step that made them and the loop taking them
  local ready = { first = 1, last = 0 }
  local taken = 0
  local function work(t)
    while taken < n do
      taken = taken + 1
      local i = taken
      local job = call.prepared(st, actions[i], opts_of[i], bodies[i], parts[i])
      actions[i], opts_of[i], bodies[i], parts[i] = nil, nil, nil, nil -- done items keep nothing
      local res, err = call.run(st, job, t)
      ready.last = ready.last + 1
      ready[ready.last] = { i, res, err }
    end
  end
  local it = setmetatable({ ready = ready }, Iter)
  if n > 0 then it.run = scheduler.new(st.transport, math.min(concurrency, n), work) end
  -- the generic for calls it(state, control); the 4th value is closed when
  -- the loop ends early (Lua 5.4)
  return it, nil, nil, it
end

--- client:batch: the array of { result = res } | { err = err } in input order,
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
  local it = M.each(st, calls, opts)
  local results
  if not on_result then
    results = {}
    -- items finish out of order: placeholders keep every slot in the array part
    for i = 1, #calls do results[i] = false end
  end
  local ok, err = yielding_pcall(function()
    -- not a generic for: PUC Lua 5.1 cannot yield inside its iterator, and
    -- a step yields under an event loop
    while true do
      local i, res, e = it:next()
      if i == nil then break end
      if on_result then
        on_result(i, res, e)
      else
        results[i] = res and { result = res } or { err = e }
      end
    end
  end)
  if not ok then
    it:close()
    error(err, 0)
  end
  return results
end

return M
