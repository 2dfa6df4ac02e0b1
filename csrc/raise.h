/* Raising an error from C the way the Lua layer raises misuse: a message
 * that starts with "navixy:", without the "file:line:" prefix luaL_error
 * puts in front (that prefix names the Lua line that called into C, and a
 * caller matching on "^navixy:" would miss the message). */
#ifndef NAVIXY_RAISE_H
#define NAVIXY_RAISE_H

#include <lua.h>

/* Like luaL_error, without the position; never returns. */
int nvx_raise(lua_State *L, const char *fmt, ...);

#endif
