--- Reads Navixy's Markdown API pages: every action section ("### list" under
-- an "API path" / "API base path" line, "### /data/import/list", "#### read"
-- under "### API actions", ...), its summary, its params (a table or a
-- bullet list), the paths its examples call, and what its wording says about
-- uploads, file answers and authentication; and the WebSocket subscription
-- types.
local M = {}

local FILE_TYPES = { "pdf", "xlsx", "xls", "csv", "kmz", "kml", "docx", "parquet", "zip" }

local function unescape(s)
  return (s:gsub("\\([_*%[%]#<>|])", "%1"))
end

local function plain(s) -- Markdown inline text as plain text
  s = unescape(s)
  s = s:gsub("%[([^%]]*)%]%b()", "%1"):gsub("`", ""):gsub("%*%*", ""):gsub("<[^>]+>", " ")
  return (s:gsub("\\$", ""):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function cells(line)
  local out = {}
  line = line:gsub("^%s*|", ""):gsub("|%s*$", "")
  for cell in (line .. "|"):gmatch("(.-)|") do out[#out + 1] = plain(cell) end
  return out
end

-- The docs' words for JSON types. Anything else (a link to an object's
-- description, "interval", "location") is kept as the docs wrote it, unchecked.
local TYPES = {
  int = "integer", integer = "integer", long = "integer", ["int/long"] = "integer",
  string = "string", text = "string", ["date/time"] = "string", date = "string", enum = "string",
  ["local_time"] = "string", ["datetime"] = "string", email = "string",
  boolean = "boolean", bool = "boolean",
  float = "number", double = "number", decimal = "number", number = "number",
  object = "object", ["json object"] = "object",
}

--- The JSON type (and item type) for a type cell: "int array" -> "array", "integer".
function M.json_type(word)
  word = word:lower():gsub("^%s+", ""):gsub("%s+$", "")
  local item = word:match("^(.-)%s*array$") or word:match("^array of (.-)s?$")
  if item then return "array", TYPES[item] end
  if word:match("%[%]$") then return "array", TYPES[word:sub(1, -3)] end
  return TYPES[word] or TYPES[word:match("^(%S+) ") or ""] -- "string date/time"
end

local function column(header, ...)
  for i, h in ipairs(header) do
    for _, want in ipairs({ ... }) do
      if h:lower() == want then return i end
    end
  end
end

-- The words that make a param optional: an "Optional." mark, a default, or
-- prose saying it may be left out. The docs write every other param of a
-- table as required; where they name alternatives in prose (zone_id or
-- zone_ids), corrections.lua says so.
local OPTIONAL = { "optional", "default", "can be null", "leave it empty", "if not specified",
  "if not passed", "not required", "if specified", "if passed", "can be omitted", "may be omitted" }

local function optional(text)
  local d = text:lower()
  for _, words in ipairs(OPTIONAL) do
    if d:find(words, 1, true) then return true end
  end
  return false
end

-- Bounds written in prose: "Min=1, max=20." of a number, "1 to 40 printable
-- characters" of a string.
local function prose_bounds(p, text)
  local lo, hi = text:match("[Mm]in=(%-?%d+), max=(%-?%d+)")
  if lo and (p.type == "integer" or p.type == "number") then p.min, p.max = tonumber(lo), tonumber(hi) end
  lo, hi = text:match("(%d+) to (%d+) printable characters")
  if lo and p.type == "string" then p.min_length, p.max_length = tonumber(lo), tonumber(hi) end
end

local function table_params(rows, header)
  local name_i, type_i = column(header, "name", "parameter"), column(header, "type")
  local req_i = column(header, "required")
  if not (name_i and type_i) then return nil end
  local params = {}
  for _, row in ipairs(rows) do
    local name = (row[name_i] or ""):match("^([%w_%.]+)$")
    if name then
      local doc_type = row[type_i] or ""
      local jtype, items = M.json_type(doc_type)
      local words = {} -- every cell but the name and the type: description, restrictions, format
      for i, cell in ipairs(row) do
        if i ~= name_i and i ~= type_i then words[#words + 1] = cell end
      end
      words = table.concat(words, " | ")
      local required
      if req_i then required = (row[req_i] or ""):lower():find("^yes") ~= nil
      else required = not optional(words) end
      local p = { name = name, type = jtype, items = items, required = required,
        file = doc_type:lower():find("file") and true or nil,
        doc_type = jtype == nil and doc_type ~= "" and doc_type or nil }
      prose_bounds(p, words)
      params[#params + 1] = p
    end
  end
  return params
end

-- "* `name` – required, int array. Text" or "* `name` - string. Optional. Text":
-- a param from a bullet list; nil for any other line. Nested bullets (object
-- fields) are not params of the action.
local function bullet_param(line)
  local name, rest = line:match("^%* `([%w_]+)`%s*[\226\128\147%-]+%s*(.*)$")
  if not name then return nil end
  rest = plain(rest)
  local req, after = rest:match("^(%a+),%s*(.*)$")
  if req ~= "required" and req ~= "optional" then req, after = nil, rest end
  local doc_type = after:match("^([^.,]*)") or ""
  local jtype, items = M.json_type(doc_type)
  if doc_type:find("^target") then jtype = "object" end
  -- a list says "required" where it means it; unmarked items are often
  -- conditional (user/personal_info/update), so they are not required here
  local required = req == "required"
  return { name = name, type = jtype, items = items, required = required }
end

-- The params of a bullet list that starts at lines[from].
local function bullet_params(lines, from)
  local params, i = {}, from
  while lines[i] and not lines[i]:find("^#") do
    local p = bullet_param(lines[i])
    if p then params[#params + 1] = p end
    i = i + 1
  end
  return #params > 0 and params or nil
end

-- "* Labels array size: minimum 1, maximum 1024.", "* No duplicate items."
-- and "* Item length: minimum 1, maximum 60." under "Constraints for labels:".
local function constraints(lines, params)
  local target
  for _, line in ipairs(lines) do
    local name = line:match("^Constraints for ([%w_\\]+):")
    if name then target = unescape(name) end
    local lo, hi = line:match("size: minimum (%d+), maximum (%d+)")
    local ilo, ihi = line:match("Item length: minimum (%d+), maximum (%d+)")
    local unique = line:find("No duplicate items", 1, true)
    for _, p in ipairs(params) do
      if p.name == target then
        if unique then p.unique_items = true end
        if lo then p.min_items, p.max_items = tonumber(lo), tonumber(hi) end
        if ilo then p.item_min_length, p.item_max_length = tonumber(ilo), tonumber(ihi) end
      end
    end
  end
end

local function first_table(lines, from)
  local i = from
  while lines[i] and not lines[i]:find("^%s*|") do
    if lines[i]:find("^#") then return nil end
    i = i + 1
  end
  if not lines[i] then return nil end
  local header = cells(lines[i])
  local rows = {}
  i = i + 2 -- the |---| line
  while lines[i] and lines[i]:find("^%s*|") do
    rows[#rows + 1] = cells(lines[i])
    i = i + 1
  end
  return rows, header
end

-- GitBook's anchor of a heading: lower case, punctuation dropped, spaces as
-- hyphens ("value/get" -> "valueget", as the docs' own links have it).
local function anchor(heading)
  return (plain(heading):lower():gsub("[^%w_ %-]", ""):gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", "-"))
end

local function prose(line)
  local text = plain(line)
  return text ~= "" and not line:find("^%s*[|{`>!<#]") and not text:lower():find("^required sub%-user")
    and not line:find("^%s*[%*%-] ") and text
end

-- The first sentence of a section's first paragraph.
local function summary(lines)
  for i, line in ipairs(lines) do
    if line:find("^#") then break end
    if prose(line) then
      local words, j = {}, i
      while lines[j] and prose(lines[j]) do words[#words + 1], j = prose(lines[j]), j + 1 end
      local text = table.concat(words, " ")
      return text:match("^(.-%.)%s") or text
    end
  end
  return ""
end

-- The example's path: after /v2/, /dwh/v1/ or the Eco Fleet base placeholder.
local function example(line)
  for _, base in ipairs({ "/v2/", "/dwh/v1/", "eco_fleet_api_example_url }}/" }) do
    local at = line:find(base, 1, true)
    if at and (line:find("curl", 1, true) or line:find("^%s*'?https?://")) then
      local method = line:match("curl %-X '?(%u+)")
      return line:sub(at + #base):match("^([%w_/%.%-]+)"), method
    end
  end
end

local function file_types(text)
  local found = {}
  for _, ext in ipairs(FILE_TYPES) do
    if text:lower():find("%f[%w]" .. ext .. "%f[%W]") then found[#found + 1] = ext end
  end
  return found
end

--- The answer's kind: file types when the response subsection, before its
-- first example, speaks of a file or a content type; else "json".
local function answer(section_lines, text)
  local in_response, body = false, {}
  for _, line in ipairs(section_lines) do
    if line:find("^####") then in_response = line:lower():find("^#####?%s+responses?") ~= nil
    elseif in_response then body[#body + 1] = line end
  end
  -- the words before the first example: a JSON example may show only the error
  local lower = table.concat(body, "\n"):match("^(.-)```") or table.concat(body, "\n")
  lower = lower:lower()
  if lower:find("%f[%a]files?%f[%A]") or lower:find("content%-type") then
    local types = file_types(text)
    return #types > 0 and table.concat(types, ",") or "file"
  end
  return "json"
end

-- Headings that are parts of an action's section, never actions.
local PARTS = { errors = true, error = true, example = true, examples = true, parameters = true,
  response = true, responses = true }

--- What a heading names: a full path ("/data/import/list"), a sub-base
-- ("/subscription/avangate/"), or an action name ("read", "value/get",
-- "`count`", "last values").
local function heading_kind(heading)
  local text = unescape(heading):gsub("`", ""):gsub("^%s+", ""):gsub("%s+$", "")
  local full = text:match("^/([%l][%w_/]*)$")
  if full then
    if full:sub(-1) == "/" then return "base", full:sub(1, -2) end
    return "path", full
  end
  if text == "GET" or text == "POST" then return "method", text end -- "### GET" under a resource path
  if text:match("^[%l][%w_/ ]*$") and not PARTS[text] then return "name", (text:gsub(" ", "_")) end
end

local function base_of(line)
  local path = line:match("^%**API base path:?%**:? `/?([^`]*)`") or line:match("^%**API path:?%**:? `/?([^`]*)`")
    or line:match("^Resource path: `/?([^`]*)`")
  return path and (unescape(path):gsub("/$", ""):gsub("%$([%w_]+)", "{%1}"))
end

-- The sections of a page that may be actions: each "### name" (or "####
-- name" outside another action), with the base path in force there.
local function sections(lines)
  local base, out, current = nil, {}, nil
  for _, line in ipairs(lines) do
    base = base_of(line) or base
    local hashes, heading = line:match("^(##+)%s+(.+)$")
    local level = hashes and #hashes
    if level and (current == nil or level <= current.level) then
      current = nil
      local kind, value = heading_kind(heading)
      if kind == "base" then base = value
      elseif kind and (level == 3 or level == 4) then
        current = { level = level, kind = kind, value = value, base = base, lines = {}, heading = heading }
        out[#out + 1] = current
      end
    elseif current then
      current.lines[#current.lines + 1] = line
    end
  end
  if #out == 0 and base then -- a page that is one action ("## data_resampling", then its API path)
    out[1] = { level = 1, kind = "method", base = base, lines = lines, heading = "" }
  end
  return out
end

-- A section's path: a full path heading; the base and the name; or, on a
-- page with no base line, the path its example calls when that ends with
-- the name. nil: not an action.
local function section_path(s, example_path)
  if s.kind == "path" then return s.value end
  if s.kind == "method" then return s.base end
  local name = s.value
  if s.base then
    if s.base:match("[^/]+$") == name then return s.base end
    return s.base .. "/" .. name
  end
  if example_path and (example_path == name or example_path:sub(-#name - 1) == "/" .. name) then
    return example_path
  end
end

local function parameters_heading(line)
  local h = line:match("^###+%s+(.-)%s*:?$") or line:match("^%*%*(.-)%*%*:?%s*$")
  return h and h:lower():find("parameters$") ~= nil
end

--- The actions of one page: { path =, examples =, example =, example_method =, summary =,
-- params =, multipart =, answer =, unauthorized =, anchor = } each.
function M.page(text)
  text = text:gsub("^%-%-%-\n.-\n%-%-%-\n", "") -- the front matter
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end
  local actions = {}
  for _, s in ipairs(sections(lines)) do
    local body = table.concat(s.lines, "\n")
    local a = { anchor = anchor(s.heading),
      summary = summary(s.lines), multipart = body:find("multipart/form-data", 1, true) ~= nil,
      unauthorized = body:find("UNAUTHORIZED", 1, true) ~= nil
        or body:find("doesn't require authentication", 1, true) ~= nil, examples = {} }
    for j, line in ipairs(s.lines) do
      if parameters_heading(line) and not a.params then
        local rows, header = first_table(s.lines, j + 1)
        a.params = rows and table_params(rows, header) or bullet_params(s.lines, j + 1)
      end
      local path, method = example(line)
      if path then
        a.examples[#a.examples + 1] = path:gsub("/$", "")
        a.example_method = a.example_method or method or (s.lines[j - 1] or ""):match("curl %-X '?(%u+)")
      end
    end
    if not a.params then -- a parameter table right under the summary, with no heading
      local rows, header = first_table(s.lines, 1)
      a.params = rows and table_params(rows, header)
    end
    a.example = a.examples[1]
    a.path = section_path(s, a.example)
    if a.path then
      a.params = a.params or {}
      constraints(s.lines, a.params)
      a.answer = answer(s.lines, body)
      actions[#actions + 1] = a
    end
  end
  return actions
end

--- The WebSocket subscription types of the subscription page: { type =,
-- summary =, anchor =, params = } each, from the "* `name` – required, type."
-- lists under each "### The "type" event subscription" heading.
function M.subscriptions(text)
  local out, current = {}, nil
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    local heading = line:match("^### (.+)$")
    if heading or line:match("^##? ") then
      current = nil
      local kind = heading and unescape(heading):match('"([%w_]+)" event subscription')
      if kind then
        current = { type = kind, params = {}, lines = {},
          anchor = anchor(heading) }
        out[#out + 1] = current
      end
    elseif current then
      local p = bullet_param(line)
      if p and p.name ~= "type" then
        current.params[#current.params + 1] = p
      end
      current.lines[#current.lines + 1] = line
    end
  end
  for _, sub in ipairs(out) do sub.summary, sub.lines = summary(sub.lines), nil end
  return out
end

return M
