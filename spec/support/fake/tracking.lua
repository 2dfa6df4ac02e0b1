-- Trackers and their states (shapes from /work/shared/NAVIXY.md, "Common calls";
-- api-docs/platform-api/user-api/backend-api/resources/tracking/tracker/README.md).
local cjson = require "cjson.safe"
local data = require "fake.data"
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"

local null, EMPTY = cjson.null, store.EMPTY_ARRAY
local raise, invalid = errors.raise, errors.invalid
local int, bool = params.int, params.bool

local MAX_STATES = 2000 -- trackers per tracker/get_states call

local function tracker_json(t)
  return {
    id = t.id, label = t.label, clone = false, group_id = 0,
    source = {
      id = 10000 + t.id, device_id = "35000000000000" .. t.id, model = t.model,
      blocked = t.blocked, tariff_id = 5, creation_date = "2023-01-15 10:00:00",
      tariff_end_date = "2030-01-01", phone = t.phone,
    },
    -- tracker 1 has a tag; the others show an empty array
    tag_bindings = t.id == 1 and { { tag_id = 1, ordinal = 1 } } or EMPTY,
  }
end

-- inputs is an EMPTY array and battery_level a JSON null on purpose: the client specs
-- check that both survive decoding.
local function state_json(id)
  return {
    source_id = 10000 + id,
    gps = {
      updated = "2024-05-01 12:00:00", signal_level = 100,
      location = { lat = 52.52 + (id % 1000) / 10000, lng = 13.405 }, heading = 90, speed = 0, alt = 34,
    },
    connection_status = "active", movement_status = "parked",
    last_update = "2024-05-01 12:00:05", battery_level = null,
    inputs = EMPTY, outputs = { false, false }, additional = {},
  }
end

local H = {}

H["tracker/list"] = { fn = function(p)
  local labels = p.labels
  if type(labels) == "string" then labels = { labels } end
  local list = {}
  for _, t in ipairs(data.TRACKERS) do
    local keep = type(labels) ~= "table" or next(labels) == nil
    if not keep then
      for _, l in ipairs(labels) do
        if t.label:lower():find(tostring(l):lower(), 1, true) then keep = true end
      end
    end
    if keep then list[#list + 1] = tracker_json(t) end
  end
  return { list = store.array(list) }
end }

-- tracker_id (a required integer) and trackers (a required array of integers) are checked
-- before, by the catalogue's rules (fake/params.lua).
H["tracker/get_state"] = { fn = function(p)
  local id = int(p.tracker_id)
  if not data.tracker_exists(id) then raise(201) end
  if data.tracker_blocked(id) then raise(208) end
  return { user_time = "2024-05-01 14:00:00", state = state_json(id) }
end }

H["tracker/get_states"] = { fn = function(p)
  local ids = params.id_list(p, "trackers")
  if #ids > MAX_STATES then invalid("trackers", "Too many trackers (max " .. MAX_STATES .. ")") end
  local states, blocked, not_exist = {}, {}, {}
  for _, id in ipairs(ids) do
    if not data.tracker_exists(id) then not_exist[#not_exist + 1] = id
    elseif data.tracker_blocked(id) then blocked[#blocked + 1] = id
    else states[tostring(id)] = state_json(id) end
  end
  if #not_exist > 0 and not bool(p.allow_not_exist) then raise(217) end
  if #blocked > 0 and not bool(p.list_blocked) then raise(208) end
  local res = { user_time = "2024-05-01 14:00:00", states = states }
  if bool(p.list_blocked) then res.blocked = store.array(blocked) end
  if bool(p.allow_not_exist) then res.not_exist = store.array(not_exist) end
  return res
end }

-- state_json is shared with the WebSocket endpoint (fake/events.lua, subscription.lua)
return { handlers = H, state_json = state_json }
