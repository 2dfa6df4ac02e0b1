--- Fleet helpers: calls whose API limits would otherwise leave the paging to
-- the caller, made whole on top of client:batch.
--
--   client:get_states(ids, opts)      tracker/get_states for any number of ids
--   client:get_history(params, opts)  every history/tracker/list event in a
--                                     window of any length
--
-- Both return one answer shaped like the API's own, or nil and the first
-- error (in request order) when any of the calls failed after its retries.
-- Both can stream instead (opts.on_states, opts.on_events): the answer then
-- holds totals only, and memory grows with the concurrency, not with the
-- number of calls.
local dates = require "navixy.dates"
local errors = require "navixy.errors"
local json = require "navixy.json"
local options = require "navixy.options"
local history_limits = require "navixy.history_limits"

local floor, min, type = math.floor, math.min, type
local unpack = table.unpack or unpack

local M = {}

M.MAX_STATES = 2000  -- trackers per tracker/get_states call (the API's cap)
-- Taken off the platform's longest span for each window: a window cut on the
-- civil clock (plain dates) that holds a change of daylight saving time is
-- that much longer in real time (2 hours: the largest change in use).
M.DST_MARGIN = 2 * 3600

local fail = errors.misuse

local CALL_OPTS = { timeout = true, retries = true }

-- A table, or an object or array of a lazy answer (get_history's decode = "lazy").
local function is_object(v)
  return type(v) == "table" or json.is_lazy(v)
end

-- Splits helper options into batch options, call options and the helper's
-- own (`own` maps their names to the type they must have); raises on
-- unknown names and on own options of the wrong type.
local function split_opts(name, opts, own)
  if opts == nil then return nil, nil, {} end
  if type(opts) ~= "table" then fail("%s options must be a table, got %s", name, type(opts)) end
  local batch_opts, call_opts, rest = nil, nil, {}
  for k, v in pairs(opts) do
    if k == "concurrency" then
      batch_opts = { concurrency = v }
    elseif CALL_OPTS[k] then
      call_opts = call_opts or {}
      call_opts[k] = v
    elseif own[k] then
      if type(v) ~= own[k] then fail("%s option '%s' must be a %s, got %s", name, k, own[k], type(v)) end
      rest[k] = v
    else
      fail("unknown %s option '%s'", name, tostring(k))
    end
  end
  return batch_opts, call_opts, rest
end

local function first_error(results)
  for _, r in ipairs(results) do
    if r.err then return r.err end
  end
end

local function is_id(v)
  return type(v) == "number" and v == floor(v) and v > 0
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

---------------------------------------------------------------- get_states

-- Folds one tracker/get_states answer into `merged`.
local function merge_states(merged, res)
  merged.user_time = merged.user_time or res.user_time
  local states = type(res.states) == "table" and res.states or {}
  if merged.states then
    for id, state in pairs(states) do merged.states[id] = state end
  end
  for _, field in ipairs { "blocked", "not_exist" } do
    if merged[field] and type(res[field]) == "table" then
      for _, id in ipairs(res[field]) do merged[field][#merged[field] + 1] = id end
    end
  end
  return states
end

--- client:get_states(ids, opts) -> { success, user_time, states, blocked?,
-- not_exist? } | nil, err. `ids` is an array of tracker ids of any length;
-- they are asked for M.MAX_STATES at a time, concurrently. opts:
-- list_blocked, allow_not_exist (sent with every call, as the API takes
-- them), concurrency (of the batch), timeout and retries (per call), and
-- on_states(states, answer): called with each call's states (a map of id
-- to state) in request order, `concurrency` calls at a time; the answer
-- then holds `total` (states received) instead of `states`. After an
-- error, on_states may have had the states of earlier calls.
function M.get_states(client, ids, opts)
  if type(ids) ~= "table" then fail("get_states expects an array of tracker ids, got %s", type(ids)) end
  local batch_opts, call_opts, own = split_opts("get_states", opts,
    { list_blocked = "boolean", allow_not_exist = "boolean", on_states = "function" })
  local concurrency = options.batch(batch_opts)
  local calls, chunk = {}, nil
  for i = 1, #ids do
    if not is_id(ids[i]) then fail("get_states: id %d is not a tracker id: %s", i, tostring(ids[i])) end
    if not chunk or #chunk == M.MAX_STATES then
      chunk = json.array {}
      calls[#calls + 1] = { "tracker/get_states", {
        trackers = chunk, list_blocked = own.list_blocked, allow_not_exist = own.allow_not_exist,
      }, call_opts }
    end
    chunk[#chunk + 1] = ids[i]
  end
  local on_states = own.on_states
  local merged = { success = true }
  if on_states then merged.total = 0 else merged.states = {} end
  if own.list_blocked then merged.blocked = json.array {} end
  if own.allow_not_exist then merged.not_exist = json.array {} end
  if #calls == 0 then return merged end

  -- all at once when merging; `concurrency` at a time when streaming, so
  -- that only that many answers are held
  local step = on_states and concurrency or #calls
  for first = 1, #calls, step do
    local round = { unpack(calls, first, min(#calls, first + step - 1)) }
    local results = client:batch(round, batch_opts)
    local err = first_error(results)
    if err then return nil, err end
    for _, r in ipairs(results) do
      local states = merge_states(merged, r.result)
      if on_states then
        merged.total = merged.total + count(states)
        on_states(states, r.result)
      end
    end
  end
  return merged
end

---------------------------------------------------------------- get_history

-- A date param of history/tracker/list, read; raises when it is not in the
-- form the server will read it in (ISO 8601 with an offset with
-- iso_datetime, the plain form without).
local function read_date(name, value, iso)
  local d = dates.parse(value)
  if not d then
    fail("get_history: params.%s must be \"yyyy-MM-dd HH:mm:ss\" or, with iso_datetime, ISO 8601 "
      .. "with an offset (\"2024-05-01T00:00:00+02:00\"), got %s", name, tostring(value))
  end
  if d.iso ~= iso then
    fail(iso and "get_history: params.%s must be ISO 8601 with an offset: iso_datetime is on, got %s"
      or "get_history: params.%s is ISO 8601: set iso_datetime = true (client option or param) "
        .. "for the server to read it so, got %s", name, value)
  end
  return d
end

-- The longest window the client cuts for a platform span: the span less the
-- daylight saving margin (or half the span when that is shorter), in whole
-- seconds.
local function window_length(span)
  return math.max(1, floor(span - min(M.DST_MARGIN, span / 2)))
end

-- [t0, t1] cut into windows of at most `length` seconds, in time order.
-- Windows adjoin: each one's `to` is the next one's `from`, the same text.
-- The first `from` and the last `to` are the given texts (the caller's own,
-- or those of the window being cut); the others are written as `like`.
-- `last` marks the window whose `to` is the caller's.
local function cut(t0, t1, length, from, to, last, like)
  local list, start = {}, t0
  repeat
    local stop = start + length
    local final = stop >= t1
    list[#list + 1] = {
      t0 = start, t1 = final and t1 or stop, last = final and last,
      from = start == t0 and from or dates.format(start, like),
      to = final and to or dates.format(stop, like),
      events = {}, seen = {}, pages = 0,
    }
    start = stop
  until final
  return list
end

local function reverse(list)
  local n = #list
  for i = 1, floor(n / 2) do list[i], list[n + 1 - i] = list[n + 1 - i], list[i] end
  return list
end

-- Replaces `queue[i]` with `pieces` (kept in the queue's order).
local function replace(queue, i, pieces)
  table.remove(queue, i)
  for k = #pieces, 1, -1 do table.insert(queue, i, pieces[k]) end
end

local function stuck_error(w, limit)
  return errors.new {
    kind = "api", action = "history/tracker/list",
    description = ("more than %d events at %s: history/tracker/list has no offset to page past them "
      .. "(ask for fewer trackers at a time)"):format(limit, tostring(w.cursor or w.from)),
  }
end

local History = {}
History.__index = History

-- The params of the next page of window `w`: the caller's, with the window,
-- the page size, and oldest first (the paging moves `from` forward).
function History:page_params(w)
  local p = options.into({}, self.params)
  p.from, p.to, p.limit, p.ascending = w.cursor or w.from, w.to, self.page, true
  return p
end

-- Whether event `ev` is at or after the end of window `w` (the end of a
-- window is in it when the server reads windows as [from, to]: such an
-- event is kept by the next window, which starts there).
function History:at_end(ev, w)
  local d = type(ev) == "table" and dates.parse(ev.time)
  return d and d.iso == self.like.iso and d.t >= w.t1
end

-- Takes one page of window `w`. Returns nil, err when the window cannot be
-- paged further (more events at one time than a page holds).
function History:take(w, res)
  local list = is_object(res.list) and res.list or {}
  local added = 0
  w.pages = w.pages + 1
  for _, ev in json.ipairs(list) do
    local id = is_object(ev) and ev.id or nil
    if id == nil or not w.seen[id] then
      if id ~= nil then w.seen[id] = true end
      added = added + 1
      if w.last or not self:at_end(ev, w) then
        w.events[#w.events + 1] = ev
        self.received = self.received + 1
      end
    end
  end
  if not res.limit_exceeded then
    w.done = true
    return true
  end
  -- the next page starts at the last event's time, that time included (there
  -- may be more events at it): the ones already taken are skipped by id
  local last = list[#list]
  local d = is_object(last) and dates.parse(last.time)
  if added == 0 or not d or d.iso ~= self.like.iso then return nil, stuck_error(w, self.page) end
  w.cursor = self.like.iso and dates.format(d.t, self.like) or last.time
  return true
end

-- After a 211 for window `w` (queue[i]): the windows not yet asked for are
-- cut to the span the answer gives, or `w` is halved when it gives none
-- shorter. Returns false when `w` cannot be cut further.
function History:narrow_span(i, w, err)
  if w.pages > 0 then return false end -- the span does not change while paging
  local span = history_limits.span_of(err)
  local length = span and window_length(span)
  if length and length < w.t1 - w.t0 then
    self.limits.span = min(self.limits.span, span)
    for k = #self.queue, 1, -1 do
      local q = self.queue[k]
      if q.pages == 0 and q.t1 - q.t0 > length then self:recut(k, q, length) end
    end
    return true
  end
  length = floor((w.t1 - w.t0) / 2)
  if length < 1 then return false end
  self:recut(i, w, length)
  return true
end

function History:recut(i, w, length)
  local pieces = cut(w.t0, w.t1, length, w.from, w.to, w.last, self.like)
  if self.descending then reverse(pieces) end
  replace(self.queue, i, pieces)
  self.windows_total = self.windows_total + #pieces - 1
end

-- After a 212: half the page size, for this and every later request.
-- Returns false when the page holds one event already.
function History:narrow_page()
  if self.page <= 1 then return false end
  self.page = floor(self.page / 2)
  self.limits.limit = self.page
  return true
end

-- After `err` for window `w`: whether narrowing the page (212, once a
-- round) or the window (211) lets the window be asked for again.
function History:narrow(w, err)
  if err.kind ~= "api" then return false end
  if err.code == 212 then
    if self.page_narrowed then return true end
    self.page_narrowed = true
    return self:narrow_page()
  end
  if err.code ~= 211 then return false end
  for i = 1, #self.queue do
    if self.queue[i] == w then return self:narrow_span(i, w, err) end
  end
  return true -- cut already by the narrowing of an earlier 211 of this round
end

-- One page for each of the first `concurrency` windows still paging.
-- Returns nil, err on a failure that narrowing cannot help.
function History:round()
  local asked, calls = {}, {}
  for i = 1, min(self.concurrency, #self.queue) do
    local w = self.queue[i]
    if not w.done then
      asked[#asked + 1] = w
      calls[#calls + 1] = { "history/tracker/list", self:page_params(w), self.call_opts }
    end
  end
  if #calls == 0 then return true end
  local results = self.client:batch(calls, self.batch_opts)
  self.requests = self.requests + #calls
  -- the pages first: a window that has one is never cut again below
  for k, w in ipairs(asked) do
    if results[k].result then
      local ok, err = self:take(w, results[k].result)
      if not ok then return nil, err end
    end
  end
  self.page_narrowed = false
  for k, w in ipairs(asked) do
    local err = results[k].err
    if err and not self:narrow(w, err) then return nil, err end
  end
  return true
end

-- Hands the finished windows at the head of the queue on, in order.
function History:deliver()
  local queue = self.queue
  while queue[1] and queue[1].done do
    local w = table.remove(queue, 1)
    local events = w.events
    if self.descending then reverse(events) end
    self.total = self.total + #events
    self.windows_done = self.windows_done + 1
    if self.on_events then
      self.on_events(json.array(events), { from = w.from, to = w.to })
    else
      for _, ev in ipairs(events) do self.list[#self.list + 1] = ev end
    end
  end
end

function History:progress()
  if not self.on_progress then return end
  self.on_progress {
    windows_done = self.windows_done, windows_total = self.windows_total,
    events = self.received, requests = self.requests,
  }
end

--- client:get_history(params, opts, memo) -> { success, list, total } |
-- nil, err. params are those of history/tracker/list (trackers, from, to,
-- events, …): the window may be of any length. The platform's limits come
-- from navixy.history_limits (kept in `memo`, the client's): the page size is
-- params.limit, at most the platform's history.max_limit; the window is cut
-- into windows shorter than its report.max_time_span. Dates keep the
-- caller's form: plain ones stay plain, ISO 8601 ones keep the offset of
-- params.from in every cut. Windows adjoin (one's `to` is the next one's
-- `from`); an event exactly on a cut belongs to the later window whether
-- the server reads windows as [from, to) or [from, to]. Each window is
-- paged by moving its `from` to the time of the last event received while
-- the API says limit_exceeded (it has no offset), skipping the events
-- already received by id. `concurrency` windows are fetched side by side.
-- A 212 halves the page size, a 211 cuts the windows to the span it gives.
-- `list` holds every event, oldest first (newest first with ascending =
-- false). opts: concurrency, timeout, retries, on_progress(info) (after
-- each round of requests: windows_done, windows_total, events received,
-- requests), on_events(events, window) (each window's events, in the
-- order of the list, with window = { from, to } as sent; the answer then
-- holds `total` and no `list`).
function M.get_history(client, params, opts, memo)
  if type(params) ~= "table" then fail("get_history expects the params of history/tracker/list") end
  local batch_opts, call_opts, own = split_opts("get_history", opts,
    { on_events = "function", on_progress = "function", decode = "string" })
  local concurrency = options.batch(batch_opts)
  local page_opts = call_opts
  if own.decode ~= nil then
    if own.decode ~= "lazy" then fail("get_history option 'decode' must be \"lazy\", got %q", own.decode) end
    -- the pages come as lazy answers, and their events stay lazy objects (json_lazy.h)
    page_opts = options.into({ decode = "lazy" }, call_opts)
  end
  if params.limit ~= nil and not is_id(params.limit) then
    fail("get_history: params.limit must be a positive whole number")
  end
  local iso = params.iso_datetime == true or memo.iso_datetime
  local from, to = read_date("from", params.from, iso), read_date("to", params.to, iso)
  local limits = history_limits.limits(client, memo, call_opts)

  local self = setmetatable({
    client = client, params = params, call_opts = page_opts, batch_opts = batch_opts,
    concurrency = concurrency, limits = limits, like = from,
    page = min(params.limit or limits.limit, limits.limit),
    descending = params.ascending == false,
    on_events = own.on_events, on_progress = own.on_progress,
    list = not own.on_events and {} or nil,
    total = 0, received = 0, requests = 0, windows_done = 0,
  }, History)
  self.queue = cut(from.t, to.t, window_length(limits.span), params.from, params.to, true, from)
  if self.descending then reverse(self.queue) end
  self.windows_total = #self.queue

  while #self.queue > 0 do
    local ok, err = self:round()
    if not ok then return nil, err end
    self:deliver()
    self:progress()
  end
  if self.on_events then return { success = true, total = self.total } end
  return { success = true, list = json.array(self.list), total = self.total }
end

return M
