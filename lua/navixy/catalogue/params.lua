--- A call's params against what the docs say of an action's params: the
-- problems (required missing, JSON type, documented bounds), and the params
-- shaped for sending (an empty table where the docs type an array goes as
-- []). Params the docs do not name are never problems.
local json = require "navixy.json"
local upload = require "navixy.upload"

local M = {}

-- The JSON type a Lua value encodes as; "empty" for {} (either [] or {}).
local function json_type(v)
  local t = type(v)
  if t == "number" then return v % 1 == 0 and "integer" or "number" end
  if t ~= "table" then return t end
  if getmetatable(v) == json.array_mt then return "array" end
  if next(v) == nil then return "empty" end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return (n == #v) and "array" or "object"
end

local function fits(want, v)
  local got = json_type(v)
  if want == got then return true end
  if want == "number" then return got == "integer" end
  return got == "empty" and (want == "array" or want == "object")
end

-- UTF-8 characters, as the docs count a length.
local function length(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function in_enum(enum, v)
  for _, allowed in ipairs(enum) do
    if allowed == v then return true end
  end
  return false
end

-- The value at a dotted name ("target.tracker_ids"), or nil.
local function value_at(params, name)
  if not name:find(".", 1, true) then return params[name] end -- most names: one plain index
  local v = params
  for part in name:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local function bound(problems, name, what, v, lo, hi)
  if lo and v < lo then problems[#problems + 1] = ("%s: %s %s is below the minimum %s"):format(name, what, v, lo) end
  if hi and v > hi then problems[#problems + 1] = ("%s: %s %s is above the maximum %s"):format(name, what, v, hi) end
end

local function check_items(problems, p, list)
  local first = {} -- where each string or number was first seen, when the docs allow no duplicates
  for i, item in ipairs(list) do
    local where = ("%s[%d]"):format(p.name, i)
    if p.items and not fits(p.items, item) then
      problems[#problems + 1] = ("%s: expected %s, got %s"):format(where, p.items, json_type(item))
    elseif type(item) == "string" then
      bound(problems, where, "length", length(item), p.item_min_length, p.item_max_length)
    end
    if p.unique_items and (type(item) == "string" or type(item) == "number") then
      if first[item] then
        problems[#problems + 1] = ("%s: a duplicate of %s[%d]"):format(where, p.name, first[item])
      else
        first[item] = i
      end
    end
  end
end

local function check_value(problems, p, v)
  if p.type and not fits(p.type, v) then
    problems[#problems + 1] = ("%s: expected %s, got %s"):format(p.name, p.type, json_type(v))
    return
  end
  if p.enum and not in_enum(p.enum, v) then
    problems[#problems + 1] = ("%s: %s is not one of %s"):format(p.name, tostring(v), table.concat(p.enum, ", "))
  end
  if type(v) == "number" and (p.min or p.max) then bound(problems, p.name, "value", v, p.min, p.max) end
  if type(v) == "string" and (p.min_length or p.max_length) then -- counted only when bounded
    bound(problems, p.name, "length", length(v), p.min_length, p.max_length)
  end
  if type(v) == "table" and p.type == "array" then
    bound(problems, p.name, "item count", #v, p.min_items, p.max_items)
    check_items(problems, p, v)
  end
end

--- The problems of `params` for `entry`: nil, or an array of one-line
-- strings ("labels: item count 0 is below the minimum 1").
function M.check(entry, params)
  local problems -- made at the first param there is anything to say or check of: a call without
  -- params makes no table here
  for _, p in ipairs(entry.params) do
    local v = params ~= nil and value_at(params, p.name) or nil
    if v == nil then
      if p.required then
        problems = problems or {}
        problems[#problems + 1] = p.name .. ": required, missing"
      end
    elseif v ~= json.null and not upload.is_file(v) then -- a file is a file, whatever the docs' type
      problems = problems or {}
      check_value(problems, p, v)
    end
  end
  if not problems or #problems == 0 then return nil end
  return problems
end

--- `params`, or a copy of it in which each empty table that the docs type
-- as an array is navixy.array() (so it goes as [], not {}).
function M.shape(entry, params)
  if type(params) ~= "table" then return params end
  local out = params
  for _, p in ipairs(entry.params) do
    local v = params[p.name]
    if p.type == "array" and type(v) == "table" and next(v) == nil and getmetatable(v) == nil then
      if out == params then
        out = {}
        for k, x in pairs(params) do out[k] = x end
      end
      out[p.name] = json.array()
    end
  end
  return out
end

return M
