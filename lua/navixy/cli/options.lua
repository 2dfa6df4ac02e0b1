--- The navixy command's own options: their names, the checks of their
-- values, "did you mean" for a mistyped one, and the library's words for an
-- option put in the command's terms.
local options = require "navixy.options"

local M = {}

--- Options that take a value (--name VALUE or --name=VALUE).
M.VALUED = {
  url = true, region = true, hash = true, login = true, session = true, auth = true,
  timeout = true, ["ca-file"] = true, output = true, retries = true, format = true,
  profile = true, ["rate-limit"] = true, concurrency = true, resume = true,
}

--- Options that take none.
M.FLAGS = {
  form = true, compact = true, help = true, version = true, panel = true, get = true,
  verbose = true, ["dry-run"] = true, insecure = true, unordered = true, ["ignore-stdin"] = true,
}

M.FORMATS = { json = true, jsonl = true, table = true, csv = true }

local function whole(min, max)
  return function(v)
    local n = tonumber(v)
    return n and n == math.floor(n) and n >= min and n <= max
  end
end

local function positive(v)
  local n = tonumber(v)
  return n and n > 0 and n < math.huge
end

-- What each checked option's value must be, and how the message says it.
local CHECKS = {
  timeout = { positive, "a number of seconds (e.g. --timeout 5)" },
  retries = { whole(0, 100), "a whole number of retries from 0 to 100 (e.g. --retries 0)" },
  ["rate-limit"] = { positive, "a number of calls per second (e.g. --rate-limit 10)" },
  concurrency = { whole(1, options.MAX_CONCURRENCY),
    "a whole number of calls at once from 1 to " .. options.MAX_CONCURRENCY },
  format = { function(v) return M.FORMATS[v] end, "one of json, jsonl, table, csv" },
}

--- nil when `value` suits option `name`, else the usage message.
function M.check(name, value)
  local c = CHECKS[name]
  if c and not c[1](value) then
    return ("option --%s expects %s, got '%s'"):format(name, c[2], value)
  end
  return nil
end

--- The usage message for an unknown option --name.
function M.unknown(name)
  local known = {}
  for k in pairs(M.VALUED) do known[k] = true end
  for k in pairs(M.FLAGS) do known[k] = true end
  local best = options.closest(name, known)
  return ("unknown option --%s%s (see navixy --help)"):format(name,
    best and (" (did you mean --" .. best .. "?)") or "")
end

--- A message of the library put in the command's terms: the library names
-- its navixy.new options, which the command sets with options of its own.
function M.in_command_terms(msg)
  return (msg:gsub("set insecure = true", "add --insecure"))
end

return M
