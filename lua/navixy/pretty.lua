--- JSON text for people to read: keys sorted, two-space indentation (or one
-- line), UTF-8 as is, controls escaped. Shared by navixy.pretty (the REPL) and the navixy
-- command.
--
-- Two inputs, one layout:
--   M.value(v)   a decoded Lua value. [] and {} decode to the same empty
--                table, so an empty table prints as {} unless it was made
--                with navixy.array.
--   M.text(s)    the raw JSON text of an answer, decoded by the C core with
--                every number kept as the server spelled it (no 1e+15, no
--                lost digits); arrays, empty ones too, stay arrays.
-- Keys sort by byte value, except that keys made only of digits (the tracker
-- ids of tracker/get_states) sort by number: "2" before "10".
local controls = require "navixy.controls"
local errors = require "navixy.errors"
local json = require "navixy.json"

local M = {}

---------------------------------------------------------------- leaves

-- What JSON requires ('"', '\\' and C0 controls) and what must not reach a
-- terminal (DEL, C1 controls, stray bytes: navixy.controls) is escaped; every
-- other character (UTF-8 included) is kept.
local function quote(s)
  return '"' .. controls.json((s:gsub('["\\]', "\\%0"))) .. '"'
end

M.quote = quote

local MAX_EXACT = 2 ^ 53

-- Integers without ".0" (also Lua 5.1 numbers and 5.4 floats that hold one),
-- other numbers in the fewest digits that read back to the same value.
local function number(n)
  if math.type and math.type(n) == "integer" then return tostring(n) end
  if n ~= n or n == math.huge or n == -math.huge then
    return tostring(n) -- JSON has no spelling for these; decoded answers never hold them
  end
  if n == math.floor(n) and n > -MAX_EXACT and n < MAX_EXACT then
    return string.format("%.0f", n)
  end
  for digits = 14, 17 do
    local s = string.format("%." .. digits .. "g", n)
    if tonumber(s) == n then return s end
  end
end

---------------------------------------------------------------- the tree
-- A node is either a string (a rendered leaf) or a container:
-- { open = "[" or "{", items = {...}, keys = {...} (objects only) }.

local function is_digits(s) return s:find("^%d+$") ~= nil end

local function key_before(a, b)
  if is_digits(a) and is_digits(b) and #a ~= #b then return #a < #b end
  return a < b
end

--- Whether key a comes before key b in the printed JSON (tracker IDs by
-- number): for anything else that lists an object's keys (table columns).
M.key_before = key_before

-- Object members in key order; equal keys keep their order.
local function sorted_order(keys)
  local order = {}
  for i = 1, #keys do order[i] = i end
  table.sort(order, function(i, j)
    local a, b = keys[i], keys[j]
    if a == b then return i < j end
    return key_before(a, b)
  end)
  return order
end

local function layout(node, compact, indent, out)
  if type(node) == "string" then
    out[#out + 1] = node
    return
  end
  local close = node.open == "[" and "]" or "}"
  local items = node.items
  if #items == 0 then
    out[#out + 1] = node.open .. close
    return
  end
  local inner = indent .. "  "
  local sep = compact and "," or ",\n" .. inner
  local colon = compact and ":" or ": "
  out[#out + 1] = compact and node.open or node.open .. "\n" .. inner
  local order = node.keys and sorted_order(node.keys)
  for n = 1, #items do
    if n > 1 then out[#out + 1] = sep end
    local i = order and order[n] or n
    if order then out[#out + 1] = quote(node.keys[i]) .. colon end
    layout(items[i], compact, inner, out)
  end
  out[#out + 1] = compact and close or "\n" .. indent .. close
end

local function render(node, compact)
  local out = {}
  layout(node, compact, "", out)
  return table.concat(out)
end

---------------------------------------------------------------- Lua values

local MAX_DEPTH = 1000 -- as deep as the decoder goes

-- A table that shows something other than its fields (a client, a namespace):
-- it prints as its tostring. Errors are data and print their fields.
local function opaque(t)
  local mt = getmetatable(t)
  return type(mt) == "table" and mt.__tostring ~= nil and not errors.is_error(t)
end

-- 1..n with n > 0, nothing else: an array.
local function is_sequence(t)
  local n = 0
  for k in pairs(t) do
    if math.type and math.type(k) ~= "integer" then return false end
    if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then return false end
    n = n + 1
  end
  return n > 0 and n == #t
end

local function tree_of(v, depth, seen)
  local t = type(v)
  if v == json.null then return "null" end
  if t == "string" then return quote(v) end
  if t == "number" then return number(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" and getmetatable(v) == json.number_mt then return v[1] end -- as spelled
  if t ~= "table" or opaque(v) then return quote(tostring(v)) end
  if seen[v] or depth >= MAX_DEPTH then return quote("<cycle or too deep>") end
  seen[v] = true
  local node = { items = {} }
  if getmetatable(v) == json.array_mt or is_sequence(v) then
    node.open = "["
    for i = 1, #v do node.items[i] = tree_of(v[i], depth + 1, seen) end
  else
    node.open, node.keys = "{", {}
    for k, item in pairs(v) do
      node.keys[#node.keys + 1] = type(k) == "number" and number(k) or tostring(k)
      node.items[#node.keys] = tree_of(item, depth + 1, seen)
    end
  end
  seen[v] = nil
  return node
end

--- Readable JSON text for a decoded value. `compact`: on one line.
function M.value(v, compact)
  return render(tree_of(v, 0, {}), compact)
end

---------------------------------------------------------------- raw JSON text

--- Readable JSON text for raw JSON text, or nil, message when it is not JSON.
function M.text(s, compact)
  local value, err = json.decode_exact(s)
  if value == nil then return nil, "not JSON: " .. err end
  return M.value(value, compact)
end

return M
