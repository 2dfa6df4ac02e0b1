#include "scratch.h"

#include <lauxlib.h>
#include <string.h>
#include "compat.h"
#include "metatable.h"

#define SCRATCH_MT "navixy.core.scratch"

static int scratch_gc(lua_State *L) {
  nvx_buf_free(lua_touserdata(L, 1));
  return 0;
}

void nvx_scratch_register(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", scratch_gc}, {NULL, NULL}};
  nvx_metatable(L, SCRATCH_MT, NULL, meta);
}

nvx_buf *nvx_scratch_push(lua_State *L) {
  nvx_buf *b = compat_newuserdata(L, sizeof *b);
  memset(b, 0, sizeof *b); /* empty before __gc can see it */
  compat_setmetatable(L, SCRATCH_MT);
  return b;
}
