--- The documented actions of the Navixy API (lua/navixy/catalogue/data.lua,
-- generated from Navixy's docs by tools/catalogue/): lookup, did-you-mean,
-- param checks. The data loads on first use, never with `require "navixy"`.
--
-- An entry: { path, family, summary, method, answer ("json" or file types
-- such as "pdf,xlsx,xls"), multipart, no_auth, read_only, doc (the page in
-- the docs repository), url, params = { { name, type, items, required,
-- enum, min, max, min_length, max_length, min_items, max_items,
-- item_min_length, item_max_length, unique_items, file, in_path, doc_type },
-- ... } }.
--
-- `family` arguments: nil for what a user client's base URL reaches (the
-- user API, panel/..., iot/logic/...), else "user", "panel", "iot_logic",
-- "dwh" (base /dwh/v1), "eco_fleet" (base /eco_fleet) or "websocket" (the
-- subscription request types, as "event/subscription/<type>").
local errors = require "navixy.errors"

local M = {}

M.FAMILIES = { "user", "panel", "iot_logic", "dwh", "eco_fleet", "websocket" }
local BASE = { "user", "panel", "iot_logic" } -- reached through a user client's base URL

local loaded -- { docs_commit =, families = { name = { path = entry } } }

local function data()
  if not loaded then
    loaded = require "navixy.catalogue.data"
    for _, family in pairs(loaded.families) do
      for path, entry in pairs(family) do entry.path = path end
    end
  end
  return loaded
end

local function families(family)
  if family == nil then return BASE end
  if type(family) ~= "string" or not data().families[family] then
    errors.misuse("unknown catalogue family %s", tostring(family))
  end
  return { family }
end

local function each_entry(family, fn)
  for _, name in ipairs(families(family)) do
    for path, entry in pairs(data().families[name]) do fn(path, entry) end
  end
end

local function want_string(what, v)
  if type(v) ~= "string" then errors.misuse("%s must be a string, got %s", what, type(v)) end
end

--- The commit of Navixy/navixy-public-docs the data was generated from.
function M.docs_commit()
  return data().docs_commit
end

--- The number of actions per family: { user = n, ... }.
function M.counts()
  local out = {}
  for name, family in pairs(data().families) do
    local n = 0
    for _ in pairs(family) do n = n + 1 end
    out[name] = n
  end
  return out
end

--- The entry of a documented action, or nil.
function M.get(action, family)
  want_string("action", action)
  for _, name in ipairs(families(family)) do
    local entry = data().families[name][action]
    if entry then return entry end
  end
  return nil
end

local function under(path, prefix)
  return prefix == "" or path == prefix or path:sub(1, #prefix + 1) == prefix .. "/"
end

local function trimmed(prefix)
  if prefix == nil then return "" end
  want_string("prefix", prefix)
  return (prefix:gsub("^/+", ""):gsub("/+$", ""))
end

--- The documented actions at or under `prefix` (whole segments: "tracker"
-- holds "tracker/list", not "tracker_x/list"), sorted.
function M.actions(prefix, family)
  prefix = trimmed(prefix)
  local out = {}
  each_entry(family, function(path)
    if under(path, prefix) then out[#out + 1] = path end
  end)
  table.sort(out)
  return out
end

--- The next path segments under `prefix` ("" for the top level), sorted:
-- children("tracker") -> { "alarm_mode", ..., "list", ... }.
function M.children(prefix, family)
  prefix = trimmed(prefix)
  local seen, out = {}, {}
  local skip = prefix == "" and 0 or #prefix + 1
  each_entry(family, function(path)
    if path ~= prefix and under(path, prefix) then
      local segment = path:sub(skip + 1):match("^[^/]+")
      if not seen[segment] then seen[segment], out[#out + 1] = true, segment end
    end
  end)
  table.sort(out)
  return out
end

--- The documented actions whose path contains `word`, sorted.
function M.search(word, family)
  want_string("word", word)
  local out = {}
  each_entry(family, function(path)
    if path:find(word, 1, true) then out[#out + 1] = path end
  end)
  table.sort(out)
  return out
end

local names = require "navixy.closest"
local distance = names.distance
M.distance = distance
M.closest = names.closest

-- How far a name may be from an action to be called near it: a slip of a
-- finger or two in a long path, one in a short one; "foo/bar" is near
-- nothing.
local function near_limit(name)
  if #name < 6 then return 1 end
  if #name < 12 then return 2 end
  return 3
end

-- A typo: one slip in a short name, two in a long one.
local function typo_limit(name)
  return #name >= 10 and 2 or 1
end

-- The documented actions within `limit` of `name`, best first: nearest;
-- at the same distance one that is longer than `name` (a letter left out is
-- a more common slip than one typed in: "trackr/list" is "tracker/list"
-- more likely than "track/list"); then by name.
local function ranked(name, limit, family)
  local found = {}
  each_entry(family, function(path)
    if math.abs(#path - #name) <= limit then
      local d = distance(name, path, limit)
      if d <= limit then found[#found + 1] = { path = path, d = d, shorter = #path <= #name } end
    end
  end)
  table.sort(found, function(x, y)
    if x.d ~= y.d then return x.d < y.d end
    if x.shorter ~= y.shorter then return y.shorter end
    return x.path < y.path
  end)
  return found
end

--- The documented actions closest to `name` (at most `n`, default 3), nearest
-- first, within a distance that grows with the name's length.
function M.nearest(name, n, family)
  want_string("name", name)
  local found, out = ranked(name, near_limit(name), family), {}
  for i = 1, math.min(n or 3, #found) do out[i] = found[i].path end
  return out
end

--- The one documented action `name` was meant to be, when `name` is not
-- documented and is a near-typo of one action that ranks before every other;
-- else nil. A spelling the docs use too (vehicle/service_task/batch/create in
-- an example, where the heading says batch_create) is never a typo.
function M.is_typo(name, family)
  want_string("name", name)
  if M.get(name, family) or data().aliases[name] then return nil end
  local found = ranked(name, typo_limit(name), family)
  local best, second = found[1], found[2]
  if best and not (second and second.d == best.d and second.shorter == best.shorter) then
    return best.path
  end
  return nil
end

--- nil when `params` fit what the docs say of `action` (or when the action
-- is not documented), else an array of problems, one line each: a required
-- param missing, a JSON type wrong, a documented bound crossed.
function M.check(action, params, family)
  if params ~= nil and type(params) ~= "table" then
    errors.misuse("params must be a table, got %s", type(params))
  end
  local entry = M.get(action, family)
  return entry and require("navixy.catalogue.params").check(entry, params) or nil
end

-- What calls learn of their actions, by the name a client calls (with its
-- base: "panel/" for a panel client): asked on every call, and a program
-- uses few names (the cache starts over past MAX_KNOWN).
-- Kept per base, then per name ("panel/" "usr/list" is not "" "panel/usr/list":
-- typos differ): two lookups, no key string made per call.
local known, known_count = {}, 0
local MAX_KNOWN = 1000

--- What the catalogue says of `action` called by a client whose actions are
-- relative to `base` ("" or "panel/"), kept per name: { entry = the entry
-- or false, typo = the action (as that client names it) `action` is a
-- near-typo of, or false }. Loads the catalogue on first use.
function M.lookup(action, base)
  local of_base = known[base]
  local found = of_base and of_base[action]
  if found then return found end
  local path = base .. trimmed(action)
  local entry = M.get(path)
  local typo = not entry and M.is_typo(path)
  if typo then -- named as the client names it; none when out of its reach
    typo = under(typo, trimmed(base)) and typo:sub(#base + 1)
  end
  found = { entry = entry or false, typo = typo or false, path = path }
  if known_count >= MAX_KNOWN then known, known_count = {}, 0 end
  of_base = known[base] or {}
  known[base], of_base[action], known_count = of_base, found, known_count + 1
  return found
end

--- `params` with each empty table that the docs type as an array replaced
-- by navixy.array() (in a copy; `params` itself is left as it is).
function M.shape(action, params, family)
  local entry = M.get(action, family)
  if not entry then return params end
  return require("navixy.catalogue.params").shape(entry, params)
end

return M
