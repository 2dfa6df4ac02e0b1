--- JSON in and out. Requests are encoded by the C core (exact integers,
-- navixy.array, stable key order); answers are decoded by the C core too
-- (integers as integers). JSON null is core.null, a NULL light userdata:
-- the same value as lua-cjson's cjson.null, so the two mix.
--
-- Decoded arrays carry the array metatable, so that they encode (and print)
-- as [] even when empty. Where the lua-cjson in use has cjson.array_mt
-- (OpenResty's build), that one is used, so that cjson.encode keeps [] too.
local core = require "navixy.core"
local errors = require "navixy.errors"

local has_cjson, cjson = pcall(require, "cjson")
if has_cjson and type(cjson) == "table" and type(cjson.array_mt) == "table" then
  core.set_array_mt(cjson.array_mt)
end

local M = {}

M.null = core.null
M.array_mt = core.array_mt
M.number_mt = core.number_mt
M.encode = core.json
M.form = core.form

--- Marks t (or a new table) as a JSON array, so that it encodes as [] even empty.
function M.array(t)
  if t ~= nil and type(t) ~= "table" then
    errors.misuse("navixy.array expects a table, got %s", type(t))
  end
  return setmetatable(t or {}, M.array_mt)
end

--- JSON text decoded with every number kept as it was written: a table
-- { "<text>" } with M.number_mt (for the command's output, where 1.10 and
-- 123456789012345678901 must print as the server spelled them). value, or
-- nil and why.
function M.decode_exact(text)
  return core.decode(text, true)
end

--- Any JSON text decoded (arrays marked): value, or nil and why.
function M.decode(text)
  return core.decode(text)
end

--- A lazy answer: the body when it is a JSON object, indexed and read on
-- access (csrc/json_lazy.h), else nil.
function M.lazy_object(body)
  if type(body) ~= "string" then return nil end
  if body:byte(1) ~= 123 and not body:find("^%s*{") then return nil end -- 123: "{"
  local view = core.lazy(body)
  if not M.is_lazy(view) then return nil end
  return view
end

--- Whether v is a lazy answer (or an object or array in one).
function M.is_lazy(v)
  return type(v) == "userdata" and getmetatable(v) == "navixy.lazy"
end

-- Whether the table t holds a lazy answer at any depth.
local function holds_lazy(t, seen)
  if seen[t] then return false end
  seen[t] = true
  for k, v in next, t do
    if M.is_lazy(k) or M.is_lazy(v) or (type(v) == "table" and holds_lazy(v, seen)) then return true end
  end
  return false
end

local function plain(v, seen)
  if M.is_lazy(v) then return core.decode(core.lazy_text(v)) end
  if type(v) ~= "table" or seen[v] then return v end
  seen[v] = true
  local copy = {}
  for k, x in next, v do copy[plain(k, seen)] = plain(x, seen) end
  return setmetatable(copy, getmetatable(v))
end

--- v as plain Lua values: a lazy answer decoded into tables, as core.decode
-- gives them; a table holding lazy answers copied with those decoded (its
-- metatable kept); anything else as it is.
function M.plain(v)
  if type(v) == "table" and not holds_lazy(v, {}) then return v end
  return plain(v, {})
end

--- pairs and ipairs that read lazy answers on every Lua (5.1 and LuaJIT
-- have no __pairs for userdata); plain tables as pairs and ipairs do.
function M.pairs(v)
  if M.is_lazy(v) then return core.lazy_pairs(v) end
  return pairs(v)
end

function M.ipairs(v)
  if M.is_lazy(v) then return core.lazy_ipairs(v) end
  return ipairs(v)
end

--- The decoded body when it is a JSON object, else nil. core.decode (see
-- csrc/json_decode.h) reads integral numbers as integers in one pass, where
-- lua-cjson reads floats that a second pass had to turn back into integers.
function M.decode_object(body)
  if type(body) ~= "string" then return nil end
  if body:byte(1) ~= 123 and not body:find("^%s*{") then return nil end -- 123: "{"
  local value = core.decode(body)
  if type(value) ~= "table" then return nil end
  return value
end

return M
