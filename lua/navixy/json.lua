--- JSON in and out. Requests are encoded by the C core (exact integers,
-- navixy.array, stable key order); answers are decoded by the C core too
-- (integers as integers). JSON null is core.null, a NULL light userdata:
-- the same value as lua-cjson's cjson.null, so the two mix.
local core = require "navixy.core"

local M = {}

M.null = core.null
M.array_mt = core.array_mt
M.encode = core.json
M.form = core.form

--- Marks t (or a new table) as a JSON array, so that it encodes as [] even empty.
function M.array(t)
  if t ~= nil and type(t) ~= "table" then
    error("navixy: navixy.array expects a table, got " .. type(t), 2)
  end
  return setmetatable(t or {}, core.array_mt)
end

--- The decoded body when it is a JSON object, else nil. core.decode (see
-- csrc/decode.h) reads integral numbers as integers in one pass, where
-- lua-cjson reads floats that a second pass had to turn back into integers.
function M.decode_object(body)
  if type(body) ~= "string" then return nil end
  if body:byte(1) ~= 123 and not body:find("^%s*{") then return nil end -- 123: "{"
  local value = core.decode(body)
  if type(value) ~= "table" then return nil end
  return value
end

return M
