-- Dates as the API reads and writes them, in the user's time zone
-- (api-docs/platform-api/user-api/backend-api/README.md, "Date/Time Formats"):
--   plain  "yyyy-MM-dd HH:mm:ss" in the user's time zone (the default);
--   ISO    "yyyy-MM-dd'T'HH:mm:ssZZ" with an offset, when `iso_datetime` is true (as a
--          parameter, in the query or the header NVX-ISO-DateTime); "Z" for UTC, as the
--          page's "Response Example with UTC Date/Time" shows.
-- Instants are UTC seconds (numbers, fractions allowed). No os.time: it would use the
-- time zone of the machine.
local M = {}

---------------------------------------------------------------- the civil calendar

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function year_of(t) return tonumber(os.date("!%Y", math.floor(t))) end

-- The UTC midnight of the n-th (1-based; -1 = last) Sunday of month m in year y.
local function sunday(y, m, n)
  if n > 0 then
    local first = days_from_civil(y, m, 1)
    local to_sunday = (7 - (first + 4) % 7) % 7 -- 1970-01-01 was a Thursday
    return (first + to_sunday + 7 * (n - 1)) * 86400
  end
  local last = days_from_civil(y, m + 1, 1) - 1 -- m < 12 here
  return (last - (last + 4) % 7) * 86400
end

---------------------------------------------------------------- time zones

-- The zones the fake knows: standard offset, and daylight saving time by the EU or US
-- rule. Half- and quarter-hour zones are here for window cuts that are not on the hour.
local DST = {
  -- EU: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC
  eu = function(y) return sunday(y, 3, -1) + 3600, sunday(y, 10, -1) + 3600 end,
  -- US: second Sunday of March 02:00 standard time to first Sunday of November 02:00 DST
  us = function(y, std) return sunday(y, 3, 2) + 7200 - std, sunday(y, 11, 1) + 7200 - (std + 3600) end,
}

M.ZONES = {
  ["UTC"] = { std = 0 },
  ["Europe/Berlin"] = { std = 3600, rule = "eu" },
  ["Europe/London"] = { std = 0, rule = "eu" },
  ["America/New_York"] = { std = -5 * 3600, rule = "us" },
  ["Asia/Dubai"] = { std = 4 * 3600 },
  ["Asia/Kolkata"] = { std = 5 * 3600 + 1800 },
  ["Asia/Kathmandu"] = { std = 5 * 3600 + 2700 },
}

-- The offset from UTC (seconds) of zone `tz` at instant t.
function M.offset(tz, t)
  local z = M.ZONES[tz] or M.ZONES.UTC
  if not z.rule then return z.std end
  local from, to = DST[z.rule](year_of(t), z.std)
  if t >= from and t < to then return z.std + 3600 end
  return z.std
end

-- The instant of a wall-clock time (seconds as if UTC) in zone tz. As java.time does:
-- a time that occurs twice (autumn) takes the earlier instant; a time in the spring gap
-- is read with the offset before the gap.
function M.local_to_utc(tz, wall)
  local z = M.ZONES[tz] or M.ZONES.UTC
  local std, dst = z.std, z.std + (z.rule and 3600 or 0)
  local dst_fits = z.rule and M.offset(tz, wall - dst) == dst
  if dst_fits then return wall - dst end
  return wall - std
end

---------------------------------------------------------------- reading and writing

local PLAIN = "^(%d%d%d%d)-(%d%d)-(%d%d) (%d%d):(%d%d):(%d%d)$"
local ISO = "^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$"

local function wall_seconds(y, mo, d, h, mi, s)
  return days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

-- "Z", "+05:00", "+0500" or "+05" as seconds; nil for anything else (no offset included).
local function zone_offset(z)
  if z == "Z" then return 0 end
  local sign, hh, mm = z:match("^([+-])(%d%d):?(%d?%d?)$")
  if not sign or (#mm ~= 0 and #mm ~= 2) then return nil end
  local off = tonumber(hh) * 3600 + (tonumber(mm) or 0) * 60
  return sign == "-" and -off or off
end

-- ISO 8601 with an offset -> the instant, or nil.
function M.parse_iso(s)
  local y, mo, d, h, mi, se, frac, z = tostring(s or ""):match(ISO)
  if not y then return nil end
  local off = zone_offset(z)
  if not off or (frac ~= "" and #frac < 2) then return nil end
  return wall_seconds(y, mo, d, h, mi, se) + (tonumber("0" .. frac) or 0) - off
end

-- A plain date in zone tz -> the instant, or nil.
function M.parse_plain(s, tz)
  local y, mo, d, h, mi, se = tostring(s or ""):match(PLAIN)
  if not y then return nil end
  return M.local_to_utc(tz, wall_seconds(y, mo, d, h, mi, se))
end

-- A date parameter in the request's format (iso or not) -> the instant, or nil.
function M.read(s, tz, iso)
  if iso then return M.parse_iso(s) end
  return M.parse_plain(s, tz)
end

local function offset_text(off)
  if off == 0 then return "Z" end
  local a = math.abs(off)
  return ("%s%02d:%02d"):format(off < 0 and "-" or "+", math.floor(a / 3600), math.floor(a % 3600 / 60))
end

-- The instant t as the API writes it for a user in zone tz.
function M.write(t, tz, iso)
  t = math.floor(t)
  local off = M.offset(tz, t)
  if iso then return os.date("!%Y-%m-%dT%H:%M:%S", t + off) .. offset_text(off) end
  return os.date("!%Y-%m-%d %H:%M:%S", t + off)
end

---------------------------------------------------------------- durations

-- An ISO 8601 duration ("P30D", "PT12H", "P1DT30M", "P1W") as seconds, or nil. Months
-- and years count 30 and 365 days: the fake never needs calendar months.
function M.parse_duration(s)
  s = tostring(s or "")
  local date, time = s:match("^P([%dYMWD]*)T?([%d%.HMS]*)$")
  if not date or (date == "" and time == "") or (s:find("T", 1, true) and time == "") then return nil end
  local UNITS = { Y = 365 * 86400, M = 30 * 86400, W = 7 * 86400, D = 86400 }
  local total = 0
  for n, u in date:gmatch("(%d+)([YMWD])") do total = total + tonumber(n) * UNITS[u] end
  for n, u in time:gmatch("([%d%.]+)([HMS])") do
    total = total + tonumber(n) * ({ H = 3600, M = 60, S = 1 })[u]
  end
  return total
end

-- Seconds as an ISO 8601 duration with minutes and seconds, as the 264 answer shows it
-- ("PT4M31.575S"; user/index.md, resend_activation).
function M.format_duration(secs)
  local m = math.floor(secs / 60)
  local s = secs - m * 60
  local stext = ("%.3f"):format(s):gsub("0+$", ""):gsub("%.$", "")
  local out = "PT"
  if m > 0 then out = out .. m .. "M" end
  if s > 0 or m == 0 then out = out .. stext .. "S" end
  return out
end

return M
