/* The metatables of the core's userdata, registered one way. */
#ifndef NAVIXY_METATABLE_H
#define NAVIXY_METATABLE_H

#include <lauxlib.h>

/* Registers the metatable `name` in the registry, once per Lua state: its
 * __index the table of methods (none when methods is NULL) and the
 * metamethods of meta (__gc, __close, __tostring, ...). Pushes nothing;
 * compat_setmetatable(L, name) then gives it to a value. */
void nvx_metatable(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta);

#endif
