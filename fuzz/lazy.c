/* core.lazy (csrc/json_lazy.c): decode = "lazy" indexes API answers as the
 * server, a proxy or an attacker in between sent them. Differential against
 * the decoder, the one JSON grammar (core.decode):
 *   - core.lazy accepts exactly the texts core.decode accepts;
 *   - where both accept, the lazy value reads as the decoded one: scalars
 *     of the same type, subtype and value; for an object or array, every
 *     member core.lazy_pairs gives reads (v[k]) as the decoded table's,
 *     every key of the table reads from the view, # is the table's for an
 *     array (0 for an object), recursively; and core.lazy_text of the view
 *     decodes to the decoded value again.
 * Nothing raises on any text. */
#include <stdint.h>
#include "lua_core.h"

static const char CHECKER[] =
  "local core = core\n"
  "local function same_scalar(a, b)\n"
  "  return a == b and type(a) == type(b) and math.type(a) == math.type(b)\n"
  "end\n"
  "local same\n"
  "function same(v, p)\n"
  "  if getmetatable(v) ~= 'navixy.lazy' then return same_scalar(v, p) end\n"
  "  if type(p) ~= 'table' then return false end\n"
  "  local is_array = getmetatable(p) == core.array_mt\n"
  "  for k in core.lazy_pairs(v) do\n"
  "    if not same(v[k], p[k]) then return false end\n"
  "  end\n"
  "  for k, x in pairs(p) do\n"
  "    if not same(v[k], x) then return false end\n"
  "  end\n"
  "  return #v == (is_array and #p or 0)\n"
  "end\n"
  "return function(text)\n"
  "  local p, pwhy = core.decode(text)\n"
  "  local v, vwhy = core.lazy(text)\n"
  "  if (pwhy == nil) ~= (vwhy == nil) then return false end\n"
  "  if pwhy then return true end\n"
  "  if not same(v, p) then return false end\n"
  "  if getmetatable(v) == 'navixy.lazy' then return same(v, (core.decode(core.lazy_text(v)))) end\n"
  "  return true\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = core_state();
  static int checker = LUA_NOREF;
  if (checker == LUA_NOREF) {
    CHECK(luaL_loadstring(L, CHECKER) == LUA_OK);
    CHECK(lua_pcall(L, 0, 1, 0) == LUA_OK);
    checker = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, checker);
  lua_pushlstring(L, (const char *)data, size);
  CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK);
  CHECK(lua_toboolean(L, -1));
  lua_pop(L, 1);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
