--- make catalogue DOCS=<a checkout of Navixy/navixy-public-docs>
-- Reads Navixy's docs (files only: the OpenAPI documents exactly, the
-- Markdown pages by their headings, "API path" lines, parameter tables and
-- cURL examples), applies corrections.lua, writes lua/navixy/catalogue/data.lua
-- and prints the count of actions per family. Runs on Lua 5.4 with lua-cjson.
package.path = "tools/catalogue/?.lua;" .. package.path
local cjson = require "cjson"
local markdown = require "markdown"
local openapi = require "openapi"
local corrections = require "corrections"
local write = require "write"

local DOCS, OUT = arg[1], arg[2] or "lua/navixy/catalogue/data.lua"
assert(DOCS, "usage: lua5.4 tools/catalogue/generate.lua DOCS [OUT]")
local API = DOCS .. "/api-docs/"
local SITE = "https://www.navixy.com/docs/"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function lines_of(command)
  local out, p = {}, assert(io.popen(command))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local function docs_commit()
  local commit = os.getenv("DOCS_COMMIT")
  if commit and commit ~= "" then return commit end
  commit = lines_of("git -C '" .. DOCS .. "' rev-parse HEAD 2>/dev/null")[1]
  return assert(commit, "DOCS is not a git checkout: set DOCS_COMMIT to the commit it holds")
end

local COMMIT = docs_commit()
local catalogue = { user = {}, panel = {}, iot_logic = {}, dwh = {}, eco_fleet = {}, websocket = {} }
local problems = {}
local aliases = {} -- the other spelling of an unsure correction -> the path kept

-- "Safe to repeat": actions that only read, by the name's last word (a
-- "batch_" prefix aside); corrections.actions[path].read_only decides the rest.
local READ_WORDS = { "list", "read", "count", "get", "status", "retrieve", "download", "export", "search" }
local function reads_only(path)
  local last = path:match("([^/]+)$"):gsub("^batch_", "")
  for _, word in ipairs(READ_WORDS) do
    if last == word or last:find("^" .. word .. "_") then return true end
  end
  return false
end

local function markdown_url(file, anchor)
  local page = file:gsub("^platform%-api/", "navixy-api/"):gsub("%.md$", ""):gsub("/README$", "")
  return SITE .. page .. ((anchor or "") ~= "" and "#" .. anchor or "")
end

-- The pages' params with the corrections' merged in by name.
local function corrected_params(params, fixes)
  for _, p in ipairs(fixes) do
    local found
    for _, q in ipairs(params) do
      if q.name == p.name then found = q end
    end
    if not found then found = { name = p.name } params[#params + 1] = found end
    for k, v in pairs(p) do found[k] = v end
  end
  return params
end

-- A `hash` in a params table is the caller's authentication, which the
-- client places, except in an action that needs none (dealer/get_ui_config:
-- there it names a session to read the dealer from).
local function without_auth_hash(params)
  local out = {}
  for _, p in ipairs(params) do
    if p.name ~= "hash" then out[#out + 1] = p end
  end
  return out
end

local function add(family, path, entry)
  if catalogue[family][path] then
    return -- the same action on a second page (an index.md beside a README.md)
  end
  local fixes = corrections.actions[path] or {}
  entry.family = family
  entry.read_only = entry.method == "GET" or reads_only(path) -- a GET changes nothing
  for field, value in pairs(fixes) do
    if field ~= "reason" and field ~= "params" then entry[field] = value end
  end
  entry.params = corrected_params(entry.params, fixes.params or {})
  if not entry.no_auth then entry.params = without_auth_hash(entry.params) end
  catalogue[family][path] = entry
end

local function markdown_family(family, dir)
  for _, file in ipairs(lines_of("cd '" .. API .. "' && find '" .. dir .. "' -name '*.md' | LC_ALL=C sort")) do
    for _, a in ipairs(markdown.page(read(API .. file))) do
      local named, path = a.path, a.path
      for _, called in ipairs(named:find("{", 1, true) and {} or a.examples) do
        local decided = corrections.paths[named .. " | " .. called]
        if decided then
          path = decided.path
          if decided.unsure then aliases[decided.path == named and called or named] = decided.path end
        elseif called ~= named then
          problems[#problems + 1] = ("%s: heading says %s, example calls %s"):format(file, named, called)
        end
      end
      for _, p in ipairs(a.params) do
        -- Eco Fleet's trackers/{tracker_id}/...: the value goes in the path
        if path:find("{" .. p.name .. "}", 1, true) then p.in_path = true end
      end
      add(family, path, { summary = a.summary, doc = "api-docs/" .. file, url = markdown_url(file, a.anchor),
        params = a.params, method = family == "eco_fleet" and a.example_method or "POST", answer = a.answer,
        multipart = a.multipart, no_auth = a.unauthorized })
    end
  end
end

local function openapi_family(family, file, url_of)
  local doc = cjson.decode(read(API .. file))
  for _, op in ipairs(openapi.operations(doc)) do
    add(family, op.path, { summary = op.summary, doc = "api-docs/" .. file, url = url_of(op),
      params = op.params, method = op.method, answer = op.answer, multipart = op.multipart, no_auth = op.no_auth })
  end
end

local function websocket()
  local file = "platform-api/user-api/backend-api/websocket/subscription.md"
  for _, s in ipairs(markdown.subscriptions(read(API .. file))) do
    add("websocket", "event/subscription/" .. s.type, { summary = s.summary, doc = "api-docs/" .. file,
      url = markdown_url(file, s.anchor), params = s.params, method = "WebSocket", answer = "json",
      multipart = false, no_auth = false })
  end
end

-- The page that shows each OpenAPI operation ({% openapi-operation ... %}),
-- by "<method> <path>"; GitBook anchors the operation as "post-panel-user-list".
local function operation_pages(dir)
  local pages = {}
  for _, file in ipairs(lines_of("cd '" .. API .. "' && find '" .. dir .. "' -name '*.md' | LC_ALL=C sort")) do
    for path, method in read(API .. file):gmatch('{%% openapi%-operation [^%%]-path="([^"]+)" method="(%a+)"') do
      local key = method:upper() .. " " .. path:gsub("^/", "")
      local seen = pages[key]
      -- the resource page, rather than a guide that shows the operation too
      if not seen or (not seen:find("/resources/") and file:find("/resources/")) then pages[key] = file end
    end
  end
  return pages
end

local function operation_anchor(op)
  return op.method:lower() .. "-" .. op.path:gsub("[/_]", "-")
end

markdown_family("user", "platform-api/user-api/backend-api/resources")
local panel_pages = operation_pages("platform-api/panel-api")
openapi_family("panel", "platform-api/panel-api/reference/Admin_Panel.json", function(op)
  local page = panel_pages[op.method .. " " .. op.path]
  if page then return markdown_url(page, operation_anchor(op)) end
  return "https://github.com/Navixy/navixy-public-docs/blob/" .. COMMIT
    .. "/api-docs/platform-api/panel-api/reference/Admin_Panel.json"
end)
openapi_family("iot_logic", "iot-logic-api/resources/api-reference/IoT_Logic.json", function(op)
  return SITE .. "iot-logic-api/resources/api-reference/" .. op.tag:lower() .. "#" .. operation_anchor(op)
end)
markdown_family("dwh", "platform-api/user-api/data-warehouse-api/resources")
markdown_family("eco_fleet", "platform-api/user-api/eco-fleet-api/resources")
websocket()

for path in pairs(corrections.actions) do
  local seen = false
  for _, family in pairs(catalogue) do seen = seen or family[path] ~= nil end
  if not seen then problems[#problems + 1] = "corrections.lua names " .. path .. ", which no page documents" end
end
if #problems > 0 then
  table.sort(problems)
  io.stderr:write("catalogue: the docs disagree with themselves; decide each in corrections.lua:\n  ",
    table.concat(problems, "\n  "), "\n")
  os.exit(1)
end

write.module(OUT, catalogue, aliases, COMMIT)
for _, family in ipairs(write.FAMILIES) do
  local n = 0
  for _ in pairs(catalogue[family]) do n = n + 1 end
  print(("%-10s %d"):format(family, n))
end
