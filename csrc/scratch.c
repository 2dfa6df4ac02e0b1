#include "scratch.h"

#include <lauxlib.h>
#include <string.h>
#include "compat.h"

#define SCRATCH_MT "navixy.core.scratch"

static int scratch_gc(lua_State *L) {
  nvx_buf_free(lua_touserdata(L, 1));
  return 0;
}

void nvx_scratch_register(lua_State *L) {
  luaL_newmetatable(L, SCRATCH_MT);
  lua_pushcfunction(L, scratch_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}

nvx_buf *nvx_scratch_push(lua_State *L) {
  nvx_buf *b = compat_newuserdata(L, sizeof *b);
  memset(b, 0, sizeof *b); /* empty before __gc can see it */
  luaL_setmetatable(L, SCRATCH_MT);
  return b;
}
