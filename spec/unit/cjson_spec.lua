-- Decoded arrays carry lua-cjson's array_mt where the lua-cjson in use has
-- one (OpenResty's build; Debian's 2.1.0 has none), so that cjson.encode
-- gives [] back for an empty array, as navixy.encode and navixy.pretty do.
-- Debian's build lacks it: a stand-in cjson module that has it (built on the
-- real one) is preloaded in a Lua process of its own.
local navixy = require "navixy"

local LUA = rawget(_G, "jit") and "luajit" or "lua5.4"

-- the script in a process of its own, with this checkout's modules
local function run(script) return require("local_files").lua_output(script, LUA) end

describe("decoded arrays", function()
  it("stay arrays through navixy.encode and navixy.pretty, empty ones too", function()
    local core = require "navixy.core"
    local v = assert(core.decode('{"a":[],"b":{},"c":[[]]}'))
    assert.equal('{"a":[],"b":{},"c":[[]]}', navixy.encode(v))
    assert.equal('{"a":[],"b":{},"c":[[]]}', navixy.pretty(v, true))
    assert.equal(getmetatable(navixy.array()), getmetatable(v.a))
    assert.is_nil(getmetatable(v.b))
  end)

  it("carry cjson.array_mt when the lua-cjson in use has one, so that cjson.encode keeps []", function()
    local out = run([=[
local real = require "cjson"
package.loaded.cjson = nil
-- OpenResty's lua-cjson: array_mt, and encode writing [] for a table that has it
local array_mt = {}
local standin = setmetatable({ array_mt = array_mt }, { __index = real })
function standin.encode(v)
  if type(v) == "table" and getmetatable(v) == array_mt and next(v) == nil then return "[]" end
  if type(v) == "table" then
    local parts, keys = {}, {}
    if getmetatable(v) == array_mt then
      for i = 1, #v do parts[i] = standin.encode(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    for i, k in ipairs(keys) do parts[i] = real.encode(k) .. ":" .. standin.encode(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return real.encode(v)
end
package.preload.cjson = function() return standin end
local navixy = require "navixy"
local v = assert(require("navixy.core").decode('{"a":[],"b":{},"c":[1,[]]}'))
print(getmetatable(v.a) == array_mt, getmetatable(navixy.array()) == array_mt)
print(standin.encode(v))
print(navixy.encode(v), navixy.encode(setmetatable({}, array_mt)))
]=])
    assert.equal('true\ttrue\n{"a":[],"b":{},"c":[1,[]]}\n{"a":[],"b":{},"c":[1,[]]}\t[]\n', out)
  end)

  it("carry navixy's own marker with Debian's lua-cjson, which has no array_mt", function()
    local out = run([[
local navixy = require "navixy"
local v = require("navixy.core").decode("[]")
print(require("cjson").array_mt == nil, getmetatable(v) == getmetatable(navixy.array()), navixy.encode(v))
]])
    assert.equal("true\ttrue\t[]\n", out)
  end)
end)
