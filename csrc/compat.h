/* The Lua versions the bindings build against, in one place: PUC 5.1, 5.2,
 * 5.3, 5.4 and LuaJIT 2.1 (libcurl's versions: http/curl_compat.h). The C
 * files call the compat_ names below, never an #if of their own.
 *
 * Names are our own (as lua-cjson's compat_luaL_setfuncs): LuaJIT 2.1
 * declares luaL_setfuncs and luaL_setmetatable while reporting
 * LUA_VERSION_NUM 501, and PUC 5.1 has neither. On 501 the shims below are
 * used for both, so a core built against either's headers calls only the
 * 5.1 API and loads in both interpreters. */
#ifndef NAVIXY_COMPAT_H
#define NAVIXY_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

/* ---- Lua ---- */

#if LUA_VERSION_NUM >= 502
#define compat_rawlen(L, i) lua_rawlen((L), (i))
#define compat_setfuncs(L, l, nup) luaL_setfuncs((L), (l), (nup))
#define compat_setmetatable(L, name) luaL_setmetatable((L), (name))
#else
#define compat_rawlen(L, i) lua_objlen((L), (i))

/* Sets the functions of l into the table below its nup upvalues, each
 * closure sharing those upvalues; pops the upvalues (5.2's luaL_setfuncs). */
static inline void compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  int i;
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

/* Gives the value on top the metatable registered as name. */
static inline void compat_setmetatable(lua_State *L, const char *name) {
  luaL_getmetatable(L, name);
  lua_setmetatable(L, -2);
}
#endif

/* Userdata with no user values (5.4 counts them; earlier ones had one). */
#if LUA_VERSION_NUM >= 504
#define compat_newuserdata(L, size) lua_newuserdatauv((L), (size), 0)
#else
#define compat_newuserdata(L, size) lua_newuserdata((L), (size))
#endif

/* Userdata with one user value, a table (5.1's environment, which must be
 * a table; 5.2's user value, likewise): set from the top of the stack,
 * pushed back on get. */
#if LUA_VERSION_NUM >= 504
#define compat_newuserdata_uv(L, size) lua_newuserdatauv((L), (size), 1)
#define compat_setuservalue(L, i) ((void)lua_setiuservalue((L), (i), 1))
#define compat_getuservalue(L, i) ((void)lua_getiuservalue((L), (i), 1))
#elif LUA_VERSION_NUM >= 502
#define compat_newuserdata_uv(L, size) lua_newuserdata((L), (size))
#define compat_setuservalue(L, i) lua_setuservalue((L), (i))
#define compat_getuservalue(L, i) ((void)lua_getuservalue((L), (i)))
#else
#define compat_newuserdata_uv(L, size) lua_newuserdata((L), (size))
#define compat_setuservalue(L, i) ((void)lua_setfenv((L), (i)))
#define compat_getuservalue(L, i) lua_getfenv((L), (i))
#endif

/* Whether stack room made by lua_checkstack stays while the C function
 * runs: PUC Lua keeps the frame's top through collections; LuaJIT, which
 * a 5.1 build may be loaded into, shrinks a running thread's stack to
 * twice what is in use. */
#if LUA_VERSION_NUM >= 502
#define COMPAT_ROOM_STAYS 1
#else
#define COMPAT_ROOM_STAYS 0
#endif

/* Integers as their own subtype exist from 5.3 on; before, every number is
 * a lua_Number, so nothing "is an integer" and no float converts to one. */
#if LUA_VERSION_NUM >= 503
#define compat_isinteger(L, i) lua_isinteger((L), (i))
#define compat_numbertointeger(n, p) lua_numbertointeger((n), (p))
#else
#define compat_isinteger(L, i) ((void)(L), (void)(i), 0)
#define compat_numbertointeger(n, p) ((void)(n), (void)(p), 0)
#endif

#endif
