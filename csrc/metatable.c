#include "metatable.h"

#include "compat.h"

void nvx_metatable(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta) {
  if (luaL_newmetatable(L, name)) {
    if (methods) {
      lua_newtable(L);
      compat_setfuncs(L, methods, 0);
      lua_setfield(L, -2, "__index");
    }
    compat_setfuncs(L, meta, 0);
  }
  lua_pop(L, 1);
}
