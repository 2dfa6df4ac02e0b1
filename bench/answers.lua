--- The answers the bench nginx serves, shaped as Navixy documents them, written
-- once per `make bench` as static files under DIR (bench/run gzips copies for
-- the gzip_static location):
--
--   DIR/v2/tracker/get_state            the tiny answer (about 400 bytes)
--   DIR/v2/tracker/list                 a tracker/list of about 5 KB
--   DIR/v2/history/tracker/list         a history/tracker/list of about 1 MB
--   DIR/mid/v2/history/tracker/list     the same shape, about 100 KB (nginx pass-through)
--   DIR/big/v2/history/tracker/list     the same shape, about 10 MB
--
--   lua5.4 bench/answers.lua DIR
-- Prints each file with its size. The values vary from item to item (ids,
-- times, places, addresses), as a real answer's do, so that no decoder wins
-- by caching one repeated string.
local cjson = require "cjson"

local dir = arg[1]
if not dir then
  io.stderr:write("usage: lua5.4 bench/answers.lua DIR\n")
  os.exit(2)
end

local function state(i)
  return {
    source_id = 10000 + i,
    gps = {
      updated = "2024-05-01 12:00:00", signal_level = 100,
      location = { lat = 52.5201 + i / 1e4, lng = 13.405 - i / 1e4 }, heading = 90, speed = 0, alt = 34,
    },
    connection_status = "active", movement_status = "parked", last_update = "2024-05-01 12:00:05",
    battery_level = cjson.null, inputs = {}, outputs = { false, false },
    additional = {},
  }
end

local function tracker(i)
  return {
    id = 100000 + i, label = "Truck " .. i, clone = false, group_id = i % 17,
    source = {
      id = 200000 + i, device_id = tostring(350000001000000 + i * 7919), model = "telfmb920",
      blocked = i % 50 == 0, tariff_id = 5, creation_date = "2023-01-15 10:00:00",
      tariff_end_date = "2030-01-01", phone = "+49170" .. (1000000 + i * 37),
    },
    tag_bindings = { { tag_id = i % 5 + 1, ordinal = 1 } },
  }
end

local EVENTS = { "speedup", "inzone", "outzone", "offline", "online", "idle_start", "idle_end", "fuel_drain" }
local MESSAGES = {
  speedup = "Speed limit exceeded", inzone = "Entered the zone", outzone = "Left the zone",
  offline = "Connection lost", online = "Connection restored", idle_start = "Idling started",
  idle_end = "Idling ended", fuel_drain = "Fuel drain detected",
}
local STREETS = { "Unter den Linden", "Friedrichstrasse", "Karl-Marx-Allee", "Torstrasse", "Invalidenstrasse",
  "Kurfuerstendamm", "Oranienstrasse", "Sonnenallee", "Prenzlauer Allee", "Schoenhauser Allee" }

-- Deterministic pseudo-random integers in [0, n) (a 31-bit LCG): values that
-- vary as a real fleet's do, the same in every run.
local seed = 20240501
local function random(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end

-- A history entry (history/tracker/list), the documented fields.
local time, id = 1714564800, 4000000
local function event(i)
  local kind = EVENTS[random(#EVENTS) + 1]
  local tracker_id = 100000 + random(500)
  time, id = time + random(120), id + 1 + random(40)
  return {
    id = id, type = "tracker", is_read = random(3) == 0, message = MESSAGES[kind],
    time = os.date("!%Y-%m-%d %H:%M:%S", time), event = kind, tracker_id = tracker_id,
    rule_id = 300 + random(40), track_id = 9000000 + math.floor(i / 10) * 7 + random(7),
    location = { lat = 52.3 + random(300000) / 1e6, lng = 13.1 + random(500000) / 1e6, precision = 5 + random(95) },
    address = ("%s %d, %05d Berlin, Germany"):format(STREETS[random(#STREETS) + 1], random(250) + 1,
      10115 + random(300)),
    extra = {
      task_id = cjson.null, parent_task_id = cjson.null, counter_id = cjson.null, service_task_id = cjson.null,
      checkin_id = cjson.null, place_ids = cjson.null, last_known_location = random(10) == 0,
      tracker_label = "Truck " .. (tracker_id - 100000), emergency = false, employee_id = 4000 + random(900),
    },
  }
end

-- The fewest items make(1), make(2), ... whose JSON text is `bytes` long.
local function items(make, bytes)
  local list, size = {}, 0
  while size < bytes do
    list[#list + 1] = make(#list + 1)
    size = size + #cjson.encode(list[#list]) + 1
  end
  return list
end

local function history(bytes)
  local list = items(event, bytes)
  return cjson.encode { success = true, list = list, limit_exceeded = false, total = #list,
                        total_unread = #list - math.floor(#list / 3) }, #list
end

local function write(path, text, count)
  os.execute(("mkdir -p '%s'"):format(path:match("^(.*)/")))
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
  print(("%s %d bytes%s"):format(path, #text, count and (", " .. count .. " items") or ""))
end

cjson.encode_number_precision(10)
-- this lua-cjson writes an empty table as {}: inputs is an (empty) array
write(dir .. "/v2/tracker/get_state",
  (cjson.encode { success = true, user_time = "2024-05-01 14:00:00", state = state(1) }
    :gsub('"inputs":{}', '"inputs":[]')))
local trackers = items(tracker, 5 * 1024)
write(dir .. "/v2/tracker/list", cjson.encode { success = true, list = trackers }, #trackers)
write(dir .. "/v2/history/tracker/list", history(1024 * 1024))
write(dir .. "/mid/v2/history/tracker/list", history(100 * 1024))
write(dir .. "/big/v2/history/tracker/list", history(10 * 1024 * 1024))
