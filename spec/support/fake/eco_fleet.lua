-- The Eco Fleet API under <host>/eco_fleet/ (api-docs/platform-api/user-api/eco-fleet-api/):
-- REST paths (trackers/{id}/... : navixy.lua puts the id in p.tracker_id), the session
-- hash or API key in "Authorization: NVX", errors as RFC 7807 problems (answers.problem).
local answers = require "fake.answers"
local data = require "fake.data"
local dates = require "fake.dates"
local documents = require "fake.documents"
local errors = require "fake.errors"
local params = require "fake.params"

local raise, invalid = errors.raise, errors.invalid

local H = {}

-- resources/trackers/resampling.md: POST trackers/{id}/resampling?interval=P7D/2020-12-31T00:00Z
-- (the interval in the query, the props in the JSON body), "Accept: text/csv": a CSV of
-- Time, the fuel sensor, SPEED, MOVEMENT, LNG, LAT every step_size minutes (at most 100 rows).
H["eco_fleet/trackers/{id}/resampling"] = { fn = function(p, ctx)
  if ctx.method ~= "POST" then raise(5, nil, 405) end
  local id = p.tracker_id
  if not data.tracker_exists(id) then raise(201, nil, 404) end
  local accept = ngx.req.get_headers(0)["accept"]
  if accept ~= "text/csv" then
    raise(5, { description = "Accept must be text/csv, got " .. (type(accept) == "table"
      and table.concat(accept, ", ") or tostring(accept)) }, 406)
  end
  local interval = ctx.query.interval
  local span, to_text = tostring(interval or ""):match("^(P[^/]+)/(.+)$")
  local to, seconds = dates.parse_iso(to_text and to_text:gsub("T(%d%d:%d%d)Z$", "T%1:00Z") or nil),
    dates.parse_duration(span)
  if not to or not seconds then invalid("interval", "must be an ISO 8601 interval such as P7D/2020-12-31T00:00Z") end
  local step = (params.int(p.step_size) or 1) * 60
  local rows = { { "Time", "Fuel level", "SPEED", "MOVEMENT", "LNG", "LAT" } }
  local t = to - seconds
  while t < to and #rows <= 100 do
    rows[#rows + 1] = { os.date("!%Y-%m-%dT%H:%M", t), 130 + (t / 60) % 7, 38.0, 1, 37.68325, 55.580612 }
    t = t + step
  end
  return answers.file("text/csv", documents.csv(rows))
end }

return { handlers = H }
