/* Lua 5.1 (LuaJIT 2.1) / 5.4 differences, in one place.
 * LuaJIT 2.1 already provides luaL_setfuncs, luaL_testudata and
 * luaL_setmetatable while reporting LUA_VERSION_NUM 501, so only what it
 * lacks is shimmed, under names of our own. */
#ifndef NAVIXY_COMPAT_H
#define NAVIXY_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 502
#define compat_rawlen(L, i) lua_rawlen((L), (i))
#else
#define compat_rawlen(L, i) lua_objlen((L), (i))
#endif

#if LUA_VERSION_NUM >= 504
#define compat_newuserdata(L, size) lua_newuserdatauv((L), (size), 0)
#else
#define compat_newuserdata(L, size) lua_newuserdata((L), (size))
#endif

#endif
