-- history/tracker/list (api-docs/platform-api/user-api/backend-api/resources/commons/
-- history/history_tracker.md) under the platform's limits: `limit` defaults to and may
-- not pass history.max_limit (212), the window may not pass report.max_time_span (211
-- with max_time_span, as report_tracker.md shows it); both from dealer/get_ui_config's
-- `platform` (POST /_fake/settings {platform = {...}}).
--
-- Events: one "speedup" per tracker per whole hour, unless events were placed with
-- POST /_fake/events; then exactly those, for every tracker. The window holds an event
-- at from <= t < to, or from <= t <= to with the history_bounds setting "[]" (the page
-- says only "between"). from/to and the events' times are in the request's format:
-- plain in the user's time zone, or ISO 8601 with an offset with iso_datetime.
local data = require "fake.data"
local dates = require "fake.dates"
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"

local raise, invalid = errors.raise, errors.invalid
local int, bool = params.int, params.bool

local M = { handlers = {} }

---------------------------------------------------------------- placed events

-- Places `events` (array of { tracker_id, time = ISO 8601 with an offset, event?,
-- message?, id?, is_read? }), replacing any placed before; returns how many, or nil and
-- why. The list is kept sorted by time, then id.
function M.place(events)
  if type(events) ~= "table" then return nil, "events must be an array" end
  local list = {}
  for i, e in ipairs(events) do
    local t = type(e) == "table" and dates.parse_iso(e.time)
    if not t then return nil, ("events[%d].time must be ISO 8601 with an offset"):format(i) end
    local tracker = int(e.tracker_id)
    if not tracker then return nil, ("events[%d].tracker_id must be an integer"):format(i) end
    list[i] = { id = int(e.id) or i, tracker_id = tracker, t = t, event = e.event or "speedup",
                message = e.message or "Speed limit exceeded", is_read = e.is_read == true }
  end
  table.sort(list, function(a, b) if a.t ~= b.t then return a.t < b.t end return a.id < b.id end)
  store.set_json("events", list)
  return #list
end

---------------------------------------------------------------- the action

local function event_json(e, ctx)
  return {
    id = e.id, type = "tracker", event = e.event, is_read = e.is_read, message = e.message,
    time = dates.write(e.t, ctx.tz, ctx.iso), tracker_id = e.tracker_id, rule_id = 1,
    location = { lat = 52.52, lng = 13.405, precision = 50 }, address = "",
    extra = { tracker_label = data.tracker_label(e.tracker_id), emergency = false },
  }
end

-- The synthetic events in the window, in order, at most `limit` of them; and how many
-- there are (all unread).
local function hourly(ids, from, to, closed, ascending, limit)
  local first = math.ceil(from / 3600)
  local last = closed and math.floor(to / 3600) or math.ceil(to / 3600) - 1
  local hours = math.max(0, last - first + 1)
  local list = {}
  for i = 0, hours - 1 do
    local hour = ascending and first + i or last - i
    for _, id in ipairs(ids) do
      if #list >= limit then return list, hours * #ids, hours * #ids end
      list[#list + 1] = { id = hour * 10000000 + id, tracker_id = id, t = hour * 3600, event = "speedup",
                          message = "Speed limit exceeded", is_read = false }
    end
  end
  return list, hours * #ids, hours * #ids
end

-- The placed events in the window of the trackers (and types, when given), in order, at
-- most `limit` of them; how many there are; how many of them are unread.
local function placed(all, ids, types, from, to, closed, ascending, limit)
  local wanted = {}
  for _, id in ipairs(ids) do wanted[id] = true end
  local found, unread = {}, 0
  for _, e in ipairs(all) do
    if wanted[e.tracker_id] and (not types or types[e.event]) and e.t >= from
      and (e.t < to or (closed and e.t == to)) then
      found[#found + 1] = e
      if not e.is_read then unread = unread + 1 end
    end
  end
  local list = {}
  for i = 1, math.min(limit, #found) do list[i] = ascending and found[i] or found[#found + 1 - i] end
  return list, #found, unread
end

M.handlers["history/tracker/list"] = { fn = function(p, ctx)
  local ids = params.id_list(p, "trackers")
  local from = dates.read(p.from, ctx.tz, ctx.iso) or invalid("from", "Wrong date format")
  local to = dates.read(p.to, ctx.tz, ctx.iso) or invalid("to", "Wrong date format")
  if to < from then invalid("to", "Must be after from") end
  local platform = ctx.settings.platform
  local span = dates.parse_duration(platform["report.max_time_span"])
  if span and to - from > span then raise(211, { max_time_span = platform["report.max_time_span"] }) end
  local max_limit = int(platform["history.max_limit"]) or 1000
  local limit = p.limit == nil and max_limit or int(p.limit) or invalid("limit", "Must be an integer")
  if limit < 0 then invalid("limit", "Must not be negative") end
  if limit > max_limit then raise(212) end
  for _, id in ipairs(ids) do if not data.tracker_exists(id) then raise(217) end end

  local closed = ctx.settings.history_bounds == "[]"
  local ascending = p.ascending == nil or bool(p.ascending)
  local types -- the `events` filter
  if type(p.events) == "table" and next(p.events) then
    types = {}
    for _, t in ipairs(p.events) do types[t] = true end
  end
  local all = store.get_json("events")
  local list, total, unread
  if all then
    list, total, unread = placed(all, ids, types, from, to, closed, ascending, limit)
  elseif types and not types.speedup then
    list, total, unread = {}, 0, 0
  else
    list, total, unread = hourly(ids, from, to, closed, ascending, limit)
  end
  local out = {}
  for i, e in ipairs(list) do out[i] = event_json(e, ctx) end
  return { list = store.array(out), limit_exceeded = total > #list, total = total, total_unread = unread }
end }

return M
