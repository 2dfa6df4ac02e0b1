-- Tolerant reading of request parameters: JSON bodies give typed values, form bodies and
-- query strings give strings (arrays and objects as JSON text, as the API takes them:
-- api-docs/platform-api/user-api/backend-api/README.md, "API Calls Format").
local cjson = require "cjson.safe"
local errors = require "fake.errors"
local rules = require "navixy.catalogue.params"

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

-- A text value (form, query, multipart field) read as the docs' JSON type `want`, as
-- Navixy reads such values: "7" an integer, "true" a boolean. Anything else as it is.
local function typed(want, v)
  if type(v) ~= "string" then return v end
  if want == "integer" or want == "number" then return tonumber(v) or v end
  if want == "boolean" and (v == "true" or v == "false") then return v == "true" end
  return v
end

-- Raises code 7 unless `p` fits what the docs say of the action: `entry` is its entry
-- in navixy.catalogue, and the rules are navixy.catalogue.params' (required params,
-- JSON types, documented bounds), the same the client checks with. `textual`: the names
-- whose values came as text; `files`: multipart file parts by name (their bytes are
-- the value of a file param).
-- errors[] has one {parameter, error} per problem, as errors.md shows code 7.
function M.check(entry, p, textual, files)
  local seen = {}
  for k, v in pairs(p) do seen[k] = v end
  for _, d in ipairs(entry.params) do
    if textual[d.name] then seen[d.name] = typed(d.type, seen[d.name]) end
    if files and files[d.name] then
      seen[d.name] = files[d.name].data
    elseif entry.multipart and seen[d.name] == nil then
      -- a part an upload lacks is its page's error, which the handler answers: 233 "No data
      -- file" without the file, 234 without panel/dealer/settings/image/upload's `type` part
      seen[d.name] = cjson.null
    end
  end
  local problems = rules.check(entry, seen)
  if not problems then return end
  local list = {}
  for i, problem in ipairs(problems) do
    -- "labels[2]: length 61 is above the maximum 60": the param, then what is wrong
    local where, what = problem:match("^(.-): (.*)$")
    list[i] = { parameter = where:match("^[^%[]+"), error = what }
  end
  errors.raise(7, { errors = list })
end

return M
