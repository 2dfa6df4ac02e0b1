--- Fleet helpers: calls whose API limits would otherwise leave the paging to
-- the caller, made whole on top of client:batch.
--
--   client:get_states(ids, opts)      tracker/get_states for any number of ids
--   client:get_history(params, opts)  every history/tracker/list event in a
--                                     window of any length
--
-- Both return one answer shaped like the API's own, or nil and the first
-- error (in request order) when any of the calls failed after its retries.
local json = require "navixy.json"
local errors = require "navixy.errors"

local M = {}

M.MAX_STATES = 2000  -- trackers per tracker/get_states call (the API's cap)
M.MAX_EVENTS = 1000  -- events per history/tracker/list call (the API's cap on limit)
M.SPAN_DAYS = 30     -- days per history/tracker/list call (the API refuses over 31)

local function fail(fmt, ...)
  error("navixy: " .. string.format(fmt, ...), 0)
end

local CALL_OPTS = { timeout = true, retries = true }

-- Splits helper options into batch options and call options; raises on
-- unknown names. `own` lists the helper's own options.
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
  return type(v) == "number" and v == math.floor(v) and v > 0
end

--- client:get_states(ids, opts) -> { success, user_time, states, blocked?,
-- not_exist? } | nil, err. `ids` is an array of tracker ids of any length;
-- they are asked for M.MAX_STATES at a time, concurrently. opts:
-- list_blocked, allow_not_exist (sent with every call, as the API takes
-- them), concurrency (of the batch), timeout and retries (per call).
function M.get_states(client, ids, opts)
  if type(ids) ~= "table" then fail("get_states expects an array of tracker ids, got %s", type(ids)) end
  local batch_opts, call_opts, flags = split_opts("get_states", opts,
    { list_blocked = true, allow_not_exist = true })
  for name, v in pairs(flags) do
    if type(v) ~= "boolean" then fail("get_states option '%s' must be a boolean", name) end
  end
  local calls, chunk = {}, nil
  for i = 1, #ids do
    if not is_id(ids[i]) then fail("get_states: id %d is not a tracker id: %s", i, tostring(ids[i])) end
    if not chunk or #chunk == M.MAX_STATES then
      chunk = json.array {}
      calls[#calls + 1] = { "tracker/get_states", {
        trackers = chunk, list_blocked = flags.list_blocked, allow_not_exist = flags.allow_not_exist,
      }, call_opts }
    end
    chunk[#chunk + 1] = ids[i]
  end
  local merged = { success = true, states = {} }
  if flags.list_blocked then merged.blocked = json.array {} end
  if flags.allow_not_exist then merged.not_exist = json.array {} end
  if #calls == 0 then return merged end

  local results = client:batch(calls, batch_opts)
  local err = first_error(results)
  if err then return nil, err end
  for _, r in ipairs(results) do
    local res = r.result
    merged.user_time = merged.user_time or res.user_time
    if type(res.states) == "table" then
      for id, state in pairs(res.states) do merged.states[id] = state end
    end
    for _, field in ipairs { "blocked", "not_exist" } do
      if merged[field] and type(res[field]) == "table" then
        for _, id in ipairs(res[field]) do merged[field][#merged[field] + 1] = id end
      end
    end
  end
  return merged
end

-- "yyyy-MM-dd HH:mm:ss" (a 'T' instead of the space too) as seconds on a
-- plain civil clock: only differences and sums matter here, so the user's
-- time zone cancels out.
local function parse_time(s)
  local y, mo, d, h, mi, se = tostring(s):match("^(%d%d%d%d)-(%d%d)-(%d%d)[ T](%d%d):(%d%d):(%d%d)")
  if not y then return nil end
  y, mo = tonumber(y), tonumber(mo)
  if mo <= 2 then y = y - 1 end -- days_from_civil (H. Hinnant)
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + tonumber(d) - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return (era * 146097 + doe - 719468) * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
end

local function format_time(t)
  return os.date("!%Y-%m-%d %H:%M:%S", t)
end

-- [from, to] cut into windows of at most M.SPAN_DAYS days; the user's own
-- strings are kept where no cut is needed.
local function windows(from, to)
  local t0, t1 = parse_time(from), parse_time(to)
  if not t0 then fail("get_history: params.from must be \"yyyy-MM-dd HH:mm:ss\", got %s", tostring(from)) end
  if not t1 then fail("get_history: params.to must be \"yyyy-MM-dd HH:mm:ss\", got %s", tostring(to)) end
  local span = M.SPAN_DAYS * 86400
  local list = {}
  local start = t0
  repeat
    local stop = start + span
    list[#list + 1] = { from = start == t0 and from or format_time(start),
                        to = stop >= t1 and to or format_time(stop) }
    start = stop
  until start >= t1
  return list
end

local function stuck_error(w, limit)
  return errors.new {
    kind = "api", action = "history/tracker/list",
    description = ("more than %d events at %s: history/tracker/list has no offset to page past them "
      .. "(ask for fewer trackers at a time)"):format(limit, tostring(w.from)),
  }
end

--- client:get_history(params, opts) -> { success, list, total } | nil, err.
-- params are those of history/tracker/list (trackers, from, to, events, …):
-- the window may span any number of days, and `limit` (default and at most
-- M.MAX_EVENTS) is the page size. Windows over M.SPAN_DAYS days are cut;
-- each is walked by moving its `from` to the time of the last event received
-- while the API says limit_exceeded (it has no offset), skipping the events
-- already received; the windows are fetched concurrently. `list` holds every
-- event, oldest first (newest first with ascending = false). opts:
-- concurrency, timeout, retries.
function M.get_history(client, params, opts)
  if type(params) ~= "table" then fail("get_history expects the params of history/tracker/list") end
  local batch_opts, call_opts = split_opts("get_history", opts, {})
  local limit = params.limit or M.MAX_EVENTS
  if not is_id(limit) then fail("get_history: params.limit must be a positive whole number") end
  local pending = windows(params.from, params.to)
  local seen, events = {}, {}
  for _, w in ipairs(pending) do w.events = {} end
  local all = pending

  while #pending > 0 do
    local calls = {}
    for i, w in ipairs(pending) do
      local p = {}
      for k, v in pairs(params) do p[k] = v end
      p.from, p.to, p.limit, p.ascending = w.from, w.to, limit, true
      calls[i] = { "history/tracker/list", p, call_opts }
    end
    local results = client:batch(calls, batch_opts)
    local err = first_error(results)
    if err then return nil, err end
    local still = {}
    for i, w in ipairs(pending) do
      local res = results[i].result
      local list = type(res.list) == "table" and res.list or {}
      local added = 0
      for _, ev in ipairs(list) do
        local id = type(ev) == "table" and ev.id
        if id == nil or not seen[id] then
          if id ~= nil then seen[id] = true end
          w.events[#w.events + 1] = ev
          added = added + 1
        end
      end
      if res.limit_exceeded then
        local last = list[#list]
        if added == 0 or type(last) ~= "table" or type(last.time) ~= "string" then
          return nil, stuck_error(w, limit)
        end
        w.from = last.time -- inclusive: the events seen at that time are skipped
        still[#still + 1] = w
      end
    end
    pending = still
  end

  for _, w in ipairs(all) do
    for _, ev in ipairs(w.events) do events[#events + 1] = ev end
  end
  if params.ascending == false then
    local n = #events
    for i = 1, math.floor(n / 2) do events[i], events[n + 1 - i] = events[n + 1 - i], events[i] end
  end
  return { success = true, list = json.array(events), total = #events }
end

return M
