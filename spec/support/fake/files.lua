-- Actions whose success is a file, not JSON (their errors stay JSON): track/download,
-- report/tracker/{generate,status,download}, checkin/list with `format`, and the data
-- warehouse's tracker/raw_data/{get_inputs,read}. Doc pages are named at each handler.
local answers = require "fake.answers"
local data = require "fake.data"
local dates = require "fake.dates"
local documents = require "fake.documents"
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"

local raise, invalid = errors.raise, errors.invalid
local int, bool, str = params.int, params.bool, params.str
local EMPTY = store.EMPTY_ARRAY

local H = {}

-- A tracker the user may read: 201 when it does not exist, 208 when it is blocked.
local function readable_tracker(p, name)
  local id = params.need_int(p, name or "tracker_id")
  if not data.tracker_exists(id) then raise(201) end
  if data.tracker_blocked(id) then raise(208) end
  return id
end

-- from/to in the request's date format; 7 when missing, malformed or not in order; 211
-- (with max_time_span) beyond the platform's report.max_time_span.
local function period(p, ctx)
  local from = dates.read(p.from, ctx.tz, ctx.iso) or invalid("from", "Wrong date format")
  local to = dates.read(p.to, ctx.tz, ctx.iso) or invalid("to", "Wrong date format")
  if to <= from then invalid("to", "Must be after from") end
  local max = ctx.settings.platform["report.max_time_span"]
  local max_secs = dates.parse_duration(max)
  if max_secs and to - from > max_secs then raise(211, { max_time_span = max }) end
  return from, to
end

---------------------------------------------------------------- track/download

-- A point every 5 minutes, strictly between from and to ("The file begins with the next
-- point after this time ... concludes with the last point before this time").
local POINT_EVERY = 300

local function track_points(from, to, limit, ctx)
  local points = {}
  local k = math.floor(from / POINT_EVERY) + 1
  while k * POINT_EVERY < to and #points < limit do
    local t = k * POINT_EVERY
    local when = dates.write(t, ctx.tz, true):gsub("([Z+-][%d:]*)$", ".000%1")
    points[#points + 1] = { when = when, description = dates.write(t, ctx.tz, false),
      lat = 52.52 + (k % 100) * 0.001, lng = 13.405 + (k % 100) * 0.001, speed = 20 + k % 60, heading = k % 360 }
    k = k + 1
  end
  return points
end

-- api-docs/platform-api/user-api/backend-api/resources/tracking/track/index.md, "download":
-- KML by default, KMZ with format "kmz"; beyond the tariff's storage period (the
-- store_period setting, off by default) the documented JSON {list: [], limit_exceeded: true}.
H["track/download"] = { fn = function(p, ctx)
  local id = readable_tracker(p)
  local from, to = period(p, ctx)
  local format = p.format == nil and "kml" or p.format
  if format ~= "kml" and format ~= "kmz" then invalid("format", "Must be kml or kmz") end
  local keep = dates.parse_duration(ctx.settings.store_period)
  if keep and from < ngx.time() - keep then return { list = EMPTY, limit_exceeded = true } end
  local limit = 3000
  if p.point_limit ~= nil then
    limit = int(p.point_limit) or invalid("point_limit", "Must be an integer")
    if limit < 2 or limit > 3000 then invalid("point_limit", "Must be from 2 to 3000") end
  end
  local kml = documents.kml_track("track-" .. data.tracker_label(id) .. " " .. dates.write(from, ctx.tz, false),
    track_points(from, to, limit, ctx))
  local name = ("track_%d_%s"):format(id, dates.write(from, ctx.tz, false):sub(1, 10))
  if format == "kmz" then return answers.file(documents.TYPES.kmz, documents.kmz(kml), name .. ".kmz") end
  return answers.file(documents.TYPES.kml, kml, name .. ".kml")
end }

---------------------------------------------------------------- reports

-- api-docs/platform-api/user-api/backend-api/resources/commons/report/report_tracker.md.
-- Reports 1 and 2 exist and are ready for every user (2 has a title beyond ASCII, so
-- its download names the file in the RFC 5987 form too). A generated report is 50%
-- ready at its first status call and ready from the second one on; with the setting
-- report_seconds = S it is ready S seconds after generate instead (status answers the
-- share of S gone by). Retrieving or downloading it earlier answers 229. A user may
-- have reports_at_once reports in generation at a time: generate answers 15 beyond
-- ("the number of reports created by one user in parallel limited").
local FIXED_REPORTS = {
  [1] = { id = 1, title = "Trip report", from = "2024-05-01 00:00:00", to = "2024-05-02 00:00:00",
          trackers = { 1 }, percent = 100 },
  [2] = { id = 2, title = "Fahrtenübersicht März", from = "2024-03-01 00:00:00", to = "2024-03-31 23:59:59",
          trackers = { 1, 2 }, percent = 100 },
}
-- The plugin IDs listed in commons/plugin/report_plugins.md.
local PLUGINS = {}
for _, n in ipairs{ 4, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 22, 23, 27, 42, 46, 47, 66, 70,
                    73, 77, 78, 80, 82, 84, 85, 89, 91, 95 } do PLUGINS[n] = true end

-- How far report r is, in percent: by status calls, or by time with report_seconds.
local function progress(r)
  if not r.seconds then return r.percent end
  ngx.update_time()
  return math.min(100, math.floor((ngx.now() - r.created) / r.seconds * 100))
end

local function report_of(p, ctx)
  local id = params.need_int(p, "report_id")
  local r = FIXED_REPORTS[id] or store.get_json("report:" .. id)
  if not r or (r.uid and r.uid ~= ctx.auth.uid) then raise(204) end
  return r
end

H["report/tracker/generate"] = { fn = function(p, ctx)
  local from, to = period(p, ctx)
  local trackers = params.id_list(p, "trackers")
  for _, id in ipairs(trackers) do if not data.tracker_exists(id) then raise(217) end end
  local plugin = type(p.plugin) == "table" and p.plugin or invalid("plugin", "Required parameter")
  if not PLUGINS[int(plugin.plugin_id) or -1] then raise(222) end
  local running = {}
  for _, rid in ipairs(store.get_json("reports_running:" .. ctx.auth.uid) or {}) do
    local r = store.get_json("report:" .. rid)
    if r and progress(r) < 100 then running[#running + 1] = rid end
  end
  if #running >= (tonumber(ctx.settings.reports_at_once) or 3) then raise(15) end
  local id = store.dict:incr("report_seq", 1, 100)
  ngx.update_time()
  store.set_json("report:" .. id, { id = id, uid = ctx.auth.uid, title = str(p.title) or "Report",
    from = dates.write(from, ctx.tz, false), to = dates.write(to, ctx.tz, false), trackers = trackers,
    plugin_id = int(plugin.plugin_id), percent = 0, created = ngx.now(),
    seconds = tonumber(ctx.settings.report_seconds) })
  running[#running + 1] = id
  store.set_json("reports_running:" .. ctx.auth.uid, running)
  return { id = id }
end }

H["report/tracker/status"] = { fn = function(p, ctx)
  local r = report_of(p, ctx)
  if not r.seconds and r.percent < 100 then
    r.percent = r.percent + 50
    store.set_json("report:" .. r.id, r)
  end
  return { percent_ready = progress(r) }
end }

-- "retrieve": the report as JSON, in the page's shape (one sheet per tracker).
H["report/tracker/retrieve"] = { fn = function(p, ctx)
  local r = report_of(p, ctx)
  if progress(r) < 100 then raise(229) end
  local sheets = {}
  for i, id in ipairs(r.trackers) do
    sheets[i] = { header = data.tracker_label(id), entity_ids = { id }, additional_field = "",
      sections = { { type = "table", header = "Trips", data = { { rows = store.array({}) } } } } }
  end
  return { report = { id = r.id, title = r.title, created = r.from, from = r.from, to = r.to,
    time_filter = { from = "00:00:00", to = "23:59:59", weekdays = { 1, 2, 3, 4, 5, 6, 7 } },
    sheets = store.array(sheets) } }
end }

-- "delete": 204 for a report that is not there (or not the user's); the fixed ones stay.
H["report/tracker/delete"] = { fn = function(p, ctx)
  local r = report_of(p, ctx)
  if r.uid then store.dict:delete("report:" .. r.id) end
  return {}
end }

H["report/tracker/download"] = { fn = function(p, ctx)
  local r = report_of(p, ctx)
  local format = p.format
  if format ~= "pdf" and format ~= "xls" and format ~= "xlsx" then invalid("format", "Must be xls, xlsx or pdf") end
  if progress(r) < 100 then raise(229) end
  local rows = { { "Tracker", "From", "To" } }
  for _, id in ipairs(r.trackers) do rows[#rows + 1] = { data.tracker_label(id), r.from, r.to } end
  local body
  if format == "pdf" then
    local lines = {}
    if not bool(p.headless) then lines[1] = "Period: " .. r.from .. " - " .. r.to end
    for i = 2, #rows do lines[#lines + 1] = table.concat(rows[i], "  ") end
    body = documents.pdf(r.title, lines)
  elseif format == "xlsx" then
    body = documents.xlsx(rows)
  else
    body = documents.xls(r.title)
  end
  return answers.file(documents.TYPES[format], body, r.title .. "." .. format)
end }

---------------------------------------------------------------- check-ins

-- api-docs/platform-api/user-api/backend-api/resources/field-service/checkin.md, "list":
-- JSON without `format`, a file download with format "pdf" or "xlsx".
local CHECKINS = {
  { id = 1, marker_time = 1714557600, tracker_id = 1, employee_id = 333, comment = "Delivered",
    location = { lat = 53.787154, lng = 9.75798, address = "Moltkestrasse 32", precision = 150 } },
  { id = 2, marker_time = 1714644000, tracker_id = 2, comment = "Gate closed",
    location = { lat = 52.52, lng = 13.405, address = "Alexanderplatz 1", precision = 50 } },
}

H["checkin/list"] = { fn = function(p, ctx)
  local wanted
  if p.trackers ~= nil then
    wanted = {}
    for _, id in ipairs(params.id_list(p, "trackers")) do
      if not data.tracker_exists(id) or data.tracker_blocked(id) then raise(217) end
      wanted[id] = true
    end
  end
  local from = p.from ~= nil and (dates.read(p.from, ctx.tz, ctx.iso) or invalid("from", "Wrong date format"))
  local to = p.to ~= nil and (dates.read(p.to, ctx.tz, ctx.iso) or invalid("to", "Wrong date format"))
  local found = {}
  for _, c in ipairs(CHECKINS) do
    if (not wanted or wanted[c.tracker_id]) and (not from or c.marker_time >= from)
      and (not to or c.marker_time < to) then
      found[#found + 1] = c
    end
  end
  local offset = int(p.offset or 0) or invalid("offset", "Must be an integer")
  local limit = p.limit == nil and #found or int(p.limit) or invalid("limit", "Must be an integer")
  local list = {}
  for i = offset + 1, math.min(#found, offset + limit) do
    local c = found[i]
    list[#list + 1] = { id = c.id, marker_time = dates.write(c.marker_time, ctx.tz, ctx.iso), user_id = ctx.auth.uid,
      tracker_id = c.tracker_id, employee_id = c.employee_id, location = c.location, comment = c.comment,
      files = EMPTY }
  end
  local format = str(p.format)
  if not format then return { list = store.array(list), count = #found } end
  if format ~= "pdf" and format ~= "xlsx" then invalid("format", "Must be pdf or xlsx") end
  local rows = { { "ID", "Time", "Tracker", "Address", "Comment" } }
  for _, c in ipairs(list) do
    rows[#rows + 1] = { c.id, c.marker_time, data.tracker_label(c.tracker_id), c.location.address, c.comment }
  end
  if format == "xlsx" then return answers.file(documents.TYPES.xlsx, documents.xlsx(rows), "checkins.xlsx") end
  local lines = {}
  for i = 2, #rows do lines[#lines + 1] = table.concat(rows[i], "  ", 2) end
  return answers.file(documents.TYPES.pdf, documents.pdf("Check-ins", lines), "checkins.pdf")
end }

---------------------------------------------------------------- data warehouse

-- api-docs/platform-api/user-api/data-warehouse-api/resources/tracker/raw-data.md, under
-- <host>/dwh/v1/ (keys prefixed "dwh/v1/" here). The CSV has msg_time first, then the
-- requested columns; a message every 10 s in [from, to), at most 100 rows. No
-- Content-Disposition: the page names no file (it saves with curl --output).
local INPUTS = { "analog_1", "battery_voltage", "board_voltage", "hw_mileage", "lls_level_4" }

H["dwh/v1/tracker/raw_data/get_inputs"] = { fn = function(p)
  readable_tracker(p)
  return { discrete_inputs = 2, discrete_outputs = 1, inputs = INPUTS, states = { "hardware_key" } }
end }

-- "2024-10-10T13:13:14+0600": the page's examples write the offset without a colon.
local function dwh_time(t, tz) return (dates.write(t, tz, true):gsub("Z$", "+00:00"):gsub(":(%d%d)$", "%1")) end

local function dwh_value(col, k, t, tz)
  if col == "server_time" then return dwh_time(t + 2, tz) end
  if col == "lat" then return 54.22809 + k % 1000 * 0.00001 end
  if col == "lng" then return 69.5264283 + k % 1000 * 0.00001 end
  if col == "speed" then return 20 + k % 40 end
  if col == "gps_fix_type" then return "HAS_FIX" end
  if col == "inputs.board_voltage" then return 12.5 end
  if col == "inputs.hw_mileage" then return 24296 + k % 1000 * 0.1 end
  if col:match("^discrete_inputs%.%d+$") then return k % 2 end
  return false -- NULL: a column the device does not have
end

H["dwh/v1/tracker/raw_data/read"] = { fn = function(p, ctx)
  readable_tracker(p)
  local from, to
  if p.interval ~= nil then -- "2023-08-24T08:04:36.306Z/PT24H"
    local a, d = tostring(p.interval):match("^(.-)/(P.*)$")
    from, d = dates.parse_iso(a), dates.parse_duration(d)
    if not from or not d then invalid("interval", "Wrong interval format") end
    to = from + d
  else
    from = dates.parse_iso(p.from) or invalid("from", "Wrong date format")
    to = dates.parse_iso(p.to) or invalid("to", "Wrong date format")
    if to <= from then invalid("to", "Must be after from") end
  end
  if type(p.columns) ~= "table" or #p.columns == 0 then invalid("columns", "Required parameter") end
  local columns = {}
  for _, c in ipairs(p.columns) do
    if c == "discrete_inputs.*" then columns[#columns + 1] = "discrete_inputs.1"; c = "discrete_inputs.2" end
    columns[#columns + 1] = tostring(c)
  end
  local header = { "msg_time" }
  for _, c in ipairs(columns) do header[#header + 1] = c end
  local rows = { header }
  local t = math.ceil(from / 10) * 10
  while t < to and #rows <= 100 do
    local k = t / 10
    local row = { dwh_time(t, ctx.tz) }
    for i, c in ipairs(columns) do row[i + 1] = dwh_value(c, k, t, ctx.tz) end
    rows[#rows + 1] = row
    t = t + 10
  end
  -- the format by Accept ("text/csv", or "application/octet-stream" for Parquet) or by
  -- `format`; two Accept headers (a client that cannot replace its own) are refused
  local accept = ngx.req.get_headers(0)["accept"]
  if type(accept) == "table" then raise(5, { description = "Accept: one media type, got " .. #accept }, 406) end
  if p.format == "parquet" or accept == "application/octet-stream" then
    return answers.file(documents.TYPES.parquet, documents.parquet(documents.csv(rows)))
  end
  return answers.file(documents.TYPES.csv, documents.csv(rows))
end }

return { handlers = H }
