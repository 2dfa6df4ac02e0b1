--- Dates as the API writes them, for cutting a window of time into pieces:
-- the plain form "yyyy-MM-dd HH:mm:ss" (in the user's time zone, which the
-- client does not know) and ISO 8601 with an offset (with iso_datetime);
-- and ISO 8601 durations (the platform's report.max_time_span).
--
-- A date is read as seconds on a line: for the plain form, seconds of the
-- civil clock (as if it were UTC: only differences and sums are used, so the
-- zone cancels out, daylight saving time aside: see navixy.fleet); for ISO
-- 8601, the instant (UTC seconds). No os.time or os.date: they would bring
-- in the machine's time zone and its time_t range.
local floor, tonumber, type = math.floor, tonumber, type

local M = {}

-- Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
-- Hinnant's days_from_civil and civil_from_days).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

local PLAIN = "^(%d%d%d%d)%-(%d%d)%-(%d%d) (%d%d):(%d%d):(%d%d)$"
local ISO = "^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$"

-- Seconds of a wall-clock time, or nil when a field is out of range.
local function wall(y, mo, d, h, mi, s)
  y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 59 then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
end

-- "Z", "+05:30", "+0530" or "+05" as seconds east of UTC; nil for anything else.
local function offset_of(zone)
  if zone == "Z" or zone == "z" then return 0 end
  local sign, hh, mm = zone:match("^([+-])(%d%d):?(%d%d)$")
  if not sign then
    sign, hh = zone:match("^([+-])(%d%d)$")
    if not sign then return nil end
  end
  local off = tonumber(hh) * 3600 + (tonumber(mm) or 0) * 60
  return sign == "-" and -off or off
end

--- Reads an API date. Returns { t = seconds, iso = boolean, offset =
-- seconds east of UTC, zone = the offset as written, digits = digits of the
-- fraction of a second as written }, or nil when `s` is neither form.
function M.parse(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se = s:match(PLAIN)
  if y then
    local t = wall(y, mo, d, h, mi, se)
    return t and { t = t, iso = false, offset = 0, zone = "", digits = 0 }
  end
  local frac, zone
  y, mo, d, h, mi, se, frac, zone = s:match(ISO)
  if not y or frac == "." then return nil end
  local off = offset_of(zone)
  local t = wall(y, mo, d, h, mi, se)
  if not off or not t then return nil end
  local digits = frac == "" and 0 or #frac - 1
  return { t = t - off + (tonumber("0" .. frac) or 0), iso = true, offset = off, zone = zone, digits = digits }
end

local function two(n) return n < 10 and "0" .. n or tostring(n) end

--- The date `t` (seconds, as M.parse gives them) written as `like` (a parsed
-- date) is: plain, or ISO 8601 with like's offset, spelled as like spells it,
-- and as many digits of a second's fraction.
function M.format(t, like)
  local whole = floor(t)
  local local_t = whole + like.offset
  local days = floor(local_t / 86400)
  local secs = local_t - days * 86400
  local y, m, d = civil_from_days(days)
  local date = ("%04d-%s-%s"):format(y, two(m), two(d))
  local time = two(floor(secs / 3600)) .. ":" .. two(floor(secs % 3600 / 60)) .. ":" .. two(secs % 60)
  if not like.iso then return date .. " " .. time end
  local frac = ""
  if like.digits > 0 then
    local scale = 10 ^ like.digits
    local n = floor((t - whole) * scale + 0.5)
    if n >= scale then n = scale - 1 end -- never rounds up into the next second
    frac = "." .. ("%0" .. like.digits .. "d"):format(n)
  end
  return date .. "T" .. time .. frac .. like.zone
end

-- Units of a duration, each as its shortest length: a month of 28 days and a
-- year of 365, so that a span read here never exceeds the one the platform
-- means (it may count calendar months).
local DATE_UNITS = { Y = 365 * 86400, M = 28 * 86400, W = 7 * 86400, D = 86400 }
local TIME_UNITS = { H = 3600, M = 60, S = 1 }

local function sum(text, units, number)
  local total = 0
  local rest = text:gsub("(" .. number .. ")(%a)", function(n, unit)
    total = total + tonumber(n) * (units[unit] or 0 / 0)
    return ""
  end)
  if rest ~= "" or total ~= total then return nil end
  return total
end

--- An ISO 8601 duration ("P90D", "PT12H", "P1M", "P1DT2H30M") as seconds,
-- or nil when `s` is not one.
function M.duration(s)
  if type(s) ~= "string" then return nil end
  local date, time = s:match("^P(%w*)T([%w.]+)$")
  if not date then
    date, time = s:match("^P(%w+)$"), ""
    if not date then return nil end
  end
  local a, b = sum(date, DATE_UNITS, "%d+"), sum(time, TIME_UNITS, "%d+%.?%d*")
  if not a or not b then return nil end
  return a + b
end

return M
