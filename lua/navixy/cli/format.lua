--- --format json|jsonl|table|csv: a list answer's items as JSON lines, an
-- aligned table or CSV (RFC 4180). The list is the answer's `list` field,
-- else its one field that is an array; each item is a row, its fields the
-- columns (in the order pretty sorts keys, those first seen in later items
-- after), a field that is an object or an array shown as compact JSON.
local json = require "navixy.json"
local pretty = require "navixy.pretty"

local M = {}

local function is_array(v)
  return type(v) == "table" and (getmetatable(v) == json.array_mt or v[1] ~= nil)
end

--- The list of answer `res`: the array, or nil, why.
function M.list(res)
  if type(res) ~= "table" then return nil, "the answer is not a JSON object" end
  if is_array(res.list) then return res.list end
  local found, names = nil, {}
  for k, v in pairs(res) do
    if is_array(v) then
      found = found and true or k
      names[#names + 1] = k
    end
  end
  if type(found) == "string" then return res[found] end
  table.sort(names)
  if #names > 1 then
    return nil, "the answer has several lists (" .. table.concat(names, ", ") .. "), none named list"
  end
  return nil, "the answer holds no list"
end

-- A cell: strings as they are, null as nothing, anything else as compact JSON.
local function cell(v)
  if v == nil or v == json.null then return "" end
  if type(v) == "string" then return v end
  return pretty.value(v, true)
end

-- The columns of the items: the keys of each, in pretty's order within an
-- item, new ones after those seen before.
local function columns(items)
  local cols, seen = {}, {}
  for _, item in ipairs(items) do
    if type(item) == "table" and not is_array(item) then
      local keys = {}
      for k in pairs(item) do keys[#keys + 1] = tostring(k) end
      table.sort(keys, pretty.key_before)
      for _, k in ipairs(keys) do
        if not seen[k] then
          seen[k] = true
          cols[#cols + 1] = k
        end
      end
    end
  end
  return cols
end

local function rows(items, cols)
  local out = { cols }
  for _, item in ipairs(items) do
    local row = {}
    if #cols == 0 then
      row[1] = cell(item) -- a list of plain values: one column
    else
      local fields = type(item) == "table" and item or {}
      for i, k in ipairs(cols) do row[i] = cell(fields[k]) end
    end
    out[#out + 1] = row
  end
  if #cols == 0 then out[1] = { "value" } end
  return out
end

-- Width on a terminal: UTF-8 characters, not bytes.
local function width(s)
  local _, continuation = s:gsub("[\128-\191]", "")
  return #s - continuation
end

local function table_text(t)
  local widths = {}
  for _, row in ipairs(t) do
    for i, v in ipairs(row) do
      v = v:gsub("[\r\n\t]", " ")
      row[i] = v
      widths[i] = math.max(widths[i] or 0, width(v))
    end
  end
  local lines = {}
  for _, row in ipairs(t) do
    local parts = {}
    for i, v in ipairs(row) do
      parts[i] = i < #row and v .. (" "):rep(widths[i] - width(v)) or v
    end
    lines[#lines + 1] = table.concat(parts, "  ")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- RFC 4180: a field with a comma, a quote, CR or LF is quoted, quotes
-- doubled; records end with CRLF.
local function csv_text(t)
  local lines = {}
  for _, row in ipairs(t) do
    local parts = {}
    for i, v in ipairs(row) do
      parts[i] = v:find('[,"\r\n]') and '"' .. v:gsub('"', '""') .. '"' or v
    end
    lines[#lines + 1] = table.concat(parts, ",")
  end
  return table.concat(lines, "\r\n") .. "\r\n"
end

--- The text of answer `res` in `format` (jsonl, table or csv): text, or
-- nil, why.
function M.text(res, format)
  local items, why = M.list(res)
  if not items then return nil, ("--format %s is for list answers: %s"):format(format, why) end
  if format == "jsonl" then
    local lines = {}
    for i, item in ipairs(items) do lines[i] = pretty.value(item, true) .. "\n" end
    return table.concat(lines)
  end
  local t = rows(items, columns(items))
  if format == "csv" then return csv_text(t) end
  return table_text(t)
end

return M
