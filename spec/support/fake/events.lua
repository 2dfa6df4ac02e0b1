-- The messages of the fake WebSocket endpoint (fake/subscription.lua), shaped as the
-- examples in Navixy's docs (Navixy/navixy-public-docs, api-docs/platform-api/user-api/
-- backend-api/websocket/): events.md for the events, subscription.md for responses and
-- errors. Data is fixed per tracker, like the HTTP fake's (fake/navixy.lua).
local cjson = require "cjson.safe"
local dates = require "fake.dates"
local store = require "fake.store"
local api = require "fake.navixy"

local null = cjson.null
local M = {}

-- events.md: "user_time – current time in user's timezone" (the fixed users' zone).
local function user_time() return dates.write(ngx.time(), store.settings().time_zone) end

-- events.md, "State event": `data` is a source state as tracker/get_state answers it
-- (format "full"), with the fields the sample adds, or a "Compact source state".
function M.state(id, format)
  local s = api.state_json(id)
  if format == "compact" then
    return {
      source_id = s.source_id, gps = s.gps, connection_status = s.connection_status,
      movement_status = s.movement_status, movement_status_update = "2024-05-01 11:00:00",
      ignition = false, ignition_update = "2024-05-01 11:00:00", last_update = s.last_update,
    }
  end
  s.movement_status_update = "2024-05-01 11:00:00"
  s.ignition = false
  s.ignition_update = "2024-05-01 11:00:00"
  s.gsm = null
  s.battery_update = null
  s.inputs_update = "2024-05-01 12:00:00"
  s.outputs_update = "2024-05-01 12:00:00"
  s.actual_track_update = "2024-05-01 11:00:00"
  return s
end

-- resources/tracking/tracker/readings.md, "readings batch object": one tracker's part.
function M.readings(id)
  return {
    inputs = { {
      sensor_id = 37640 + id, label = "Tank 1", units = "", name = "lls_level_1", type = "fuel",
      min_value = 0.0, max_value = 480.0, value = 225.71, units_type = "litre",
      converted_units_type = null, converted_value = null, update_time = "2024-05-01 12:00:00",
    } },
    states = { { field = "input_status", value = 0, update_time = "2024-05-01 12:00:00" } },
    virtual_sensors = { {
      sensor_id = 37700 + id, label = "Virtual Ignition", value = "On", type = "virtual_ignition",
      update_time = "2024-05-01 12:00:00",
    } },
    counters = { { type = "odometer", value = 3232.99, update_time = "2024-05-01 12:00:00" } },
  }
end

-- events.md, "Data Stream Analyzer event": one item of data.iot_last_values. all_fields
-- keeps a gap (a null value) where nonnull_fields does not, as in the sample.
function M.iot_values(id)
  local t1, t2 = "2024-05-01T12:00:05Z", "2024-05-01T12:00:00Z"
  return {
    tracker_id = id,
    nonnull_fields = {
      satellites = { { msg_time = t1, srv_time = t1, value = 10 }, { msg_time = t2, srv_time = t2, value = 9 } },
      speed = { { msg_time = t2, srv_time = t2, value = 43 } },
    },
    all_fields = {
      satellites = { { msg_time = t1, srv_time = t1, value = 10 }, { msg_time = t2, srv_time = t2, value = 9 } },
      speed = { { msg_time = t1, srv_time = t1, value = null }, { msg_time = t2, srv_time = t2, value = 43 } },
    },
  }
end

-- An event message as JSON text. events.md: state, state_batch and readings_batch carry
-- user_time; the lifecycle, logout and iot_monitor samples do not.
function M.event(name, data)
  local msg = { type = "event", event = name, data = data }
  if name == "state" or name == "state_batch" or name == "readings_batch" then
    msg.user_time = user_time()
  end
  return store.encode(msg)
end

-- events.md, "Lifecycle event" and "Logout event".
function M.lifecycle(id, what)
  return M.event("lifecycle", { source_id = 10000 + id, lifecycle_event = what or "block" })
end

function M.logout() return M.event("logout", "session closed") end

-- subscription.md, "Response": the events subscribed and, per event, the status of each
-- tracker ({ ["15564"] = "normal", ... }).
function M.response(action, events, data)
  return store.encode{ type = "response", action = "subscription/" .. action, events = events, data = data }
end

-- subscription.md, "Error Response": action is "subscription/<action>", or "null" for
-- unexpected errors; the status is the API's error code and description.
function M.error(action, code, data)
  return store.encode{
    type = "error", action = action and "subscription/" .. action or "null",
    status = { code = code, description = api.DESCR[code] or "Error" }, data = data,
  }
end

return M
