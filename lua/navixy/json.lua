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
