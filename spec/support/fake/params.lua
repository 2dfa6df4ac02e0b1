-- Tolerant reading of request parameters: JSON bodies give typed values, form bodies and
-- query strings give strings (arrays and objects as JSON text, as the API takes them:
-- api-docs/platform-api/user-api/backend-api/README.md, "API Calls Format").
local cjson = require "cjson.safe"
local errors = require "fake.errors"

local M = {}

-- Form and query values that hold JSON arrays or objects, decoded in place.
function M.decode_values(args)
  for k, v in pairs(args) do
    if type(v) == "string" and v:match("^%s*[%[{]") then
      local d = cjson.decode(v)
      if d ~= nil then args[k] = d end
    end
  end
  return args
end

function M.int(v) -- 7, "7", 7.0 -> 7; anything else -> nil
  local n = tonumber(v)
  if n and n == math.floor(n) then return n end
end

function M.bool(v) return v == true or v == "true" or v == 1 or v == "1" end

function M.str(v) return type(v) == "string" and v ~= "" and v or nil end

-- A required integer parameter, or code 7 naming it.
function M.need_int(p, name)
  if p[name] == nil then errors.invalid(name, "Required parameter") end
  return M.int(p[name]) or errors.invalid(name, "Must be an integer")
end

function M.id_list(p, name)
  local v = p[name]
  if type(v) ~= "table" then errors.invalid(name, "Must be an array of ids") end
  local ids = {}
  for i, x in ipairs(v) do
    ids[i] = M.int(x) or errors.invalid(name, "Must be an array of ids")
  end
  return ids
end

return M
