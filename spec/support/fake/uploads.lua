-- The user API's upload actions: multipart/form-data with the file in the part named
-- "file", other parameters as form fields (or in the query), the hash in a field, the
-- query or the header. What arrived is in the request record (fake.last_request().parts:
-- name, filename, content_type, size, md5, sha1, and the bytes as base64 up to 64 KiB).
-- Common errors: 233 without the file part, 271 (HTTP 413) over the platform's
-- file_storage.hard_max_file_size (dealer.md; 16 MB, "File size is larger than the
-- maximum allowed (by default 16 MB)" in field-service/checkin.md).
local answers = require "fake.answers"
local cjson = require "cjson.safe"
local data = require "fake.data"
local errors = require "fake.errors"
local params = require "fake.params"
local store = require "fake.store"

local raise = errors.raise
local str = params.str

local M = { handlers = {} }
local H = M.handlers

-- The file part `name` (default "file"), within the size limit; 233 or 271 otherwise.
function M.need_file(ctx, name)
  local f = ctx.files and ctx.files[name or "file"]
  if not f then raise(233) end
  local max = tonumber(ctx.settings.platform["file_storage.hard_max_file_size"])
  if max and #f.data > max then raise(271) end
  return f
end

-- The answer, or the redirect to redirect_target carrying it.
function M.result(p, res)
  local target = str(p.redirect_target)
  if target then return answers.redirect(target, res) end
  return res
end

local function own_tracker(p)
  local id = params.need_int(p, "tracker_id")
  if not data.tracker_exists(id) then raise(201) end
  return id
end

-- The image types tracking/tracker/avatar.md lists ("ImageFormats.IMAGE_FORMATS").
M.IMAGE_TYPES = { ["image/jpeg"] = "jpg", ["image/pjpeg"] = "jpg", ["image/png"] = "png", ["image/gif"] = "gif",
                  ["image/webp"] = "webp" }

local function content_type(part) return (part.content_type or ""):match("^%s*([^;%s]+)") or "" end

-- api-docs/platform-api/user-api/backend-api/resources/tracking/tracker/avatar.md:
-- {value: "<file name>"}; 201, 208, 233, 234 (a type not listed).
H["tracker/avatar/upload"] = { fn = function(p, ctx)
  local id = own_tracker(p)
  if data.tracker_blocked(id) then raise(208) end
  local f = M.need_file(ctx)
  local ext = M.IMAGE_TYPES[content_type(f):lower()] or raise(234)
  return M.result(p, { value = ngx.md5(f.data) .. "." .. ext })
end }

-- tracking/tracker/sensor/calibration_data.md, "upload_omnicomm": an Omnicomm LLS
-- monitor XML file; 234 when the file is not XML.
H["tracker/sensor/calibration_data/upload_omnicomm"] = { fn = function(p, ctx)
  own_tracker(p)
  params.need_int(p, "sensor_id")
  local f = M.need_file(ctx)
  local text = f.data:gsub("^\239\187\191", "") -- a UTF-8 byte order mark may lead
  if not text:match("^%s*<") then raise(234) end
  return {}
end }

---------------------------------------------------------------- zone/upload

local function points_of(coords)
  local points = {}
  for tuple in (coords or ""):gmatch("%S+") do
    local lng, lat = tuple:match("^([^,]+),([^,]+)")
    lng, lat = tonumber(lng), tonumber(lat)
    if lat and lng then points[#points + 1] = { lat = lat, lng = lng } end
  end
  return points
end

local function radius_in(text) return tonumber((text or ""):match('<Data name="radius">%s*<value>%s*([%d%.]+)')) end

-- The geofences of a KML document, as zone/upload describes the mapping: Point ->
-- circle, LineString -> sausage (route), Polygon -> polygon (outer boundary only).
local function zones_of(kml, default_radius)
  local doc_radius = radius_in(kml:match("^(.-)<Placemark")) or default_radius
  local zones = {}
  for pm in kml:gmatch("<Placemark[^>]*>(.-)</Placemark>") do
    local zone = { id = cjson.null, label = pm:match("<name>(.-)</name>") or "", address = "", color = "27A9E3" }
    local radius = radius_in(pm) or doc_radius
    if pm:find("<Polygon", 1, true) then
      zone.type, zone.points = "polygon", points_of(pm:match("<outerBoundaryIs>.-<coordinates>(.-)</coordinates>"))
      if #zone.points < 3 then raise(284) end
    elseif pm:find("<LineString", 1, true) then
      zone.type, zone.radius = "sausage", radius
      zone.points = points_of(pm:match("<LineString>.-<coordinates>(.-)</coordinates>"))
      if #zone.points < 2 then raise(284) end
    elseif pm:find("<Point", 1, true) then
      local c = points_of(pm:match("<Point>.-<coordinates>(.-)</coordinates>"))[1] or raise(234)
      zone.type, zone.center, zone.radius = "circle", c, radius
    end
    if zone.type then zones[#zones + 1] = zone end
  end
  return zones
end

-- tracking/zone/README.md, "upload": dry_run (default true) lists the geofences found,
-- dry_run=false answers their new IDs; 233, 234 (not KML), 284 (too few points).
H["zone/upload"] = { fn = function(p, ctx)
  local f = M.need_file(ctx)
  if not f.data:find("<kml", 1, true) then raise(234) end
  local radius = p.default_radius == nil and 150 or params.int(p.default_radius)
  if not radius or radius < 20 then errors.invalid("default_radius", "Must be 20 or more") end
  local zones = zones_of(f.data, radius)
  if p.dry_run == nil or params.bool(p.dry_run) then return M.result(p, { list = store.array(zones) }) end
  local ids = {}
  for i = 1, #zones do ids[i] = store.dict:incr("zone_seq", 1, 0) end
  return M.result(p, { list = store.array(ids) })
end }

return M
