#include "head_lua.h"

#include <lauxlib.h>

#include "http/head.h"

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static int failure(lua_State *L, const char *why) {
  lua_pushnil(L);
  lua_pushstring(L, why);
  return 2;
}

/* headers[lower(name)] = value, or the value before .. ", " .. value */
static void set_header(lua_State *L, const nvx_header *f) {
  char small[64];
  size_t i;
  if (f->name_len <= sizeof small) { /* every name there is: no buffer to build */
    for (i = 0; i < f->name_len; i++) small[i] = lower(f->name[i]);
    lua_pushlstring(L, small, f->name_len);
  } else {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (i = 0; i < f->name_len; i++) luaL_addchar(&b, lower(f->name[i]));
    luaL_pushresult(&b);
  }
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushlstring(L, f->value, f->value_len);
  } else {
    lua_pushliteral(L, ", ");
    lua_pushlstring(L, f->value, f->value_len);
    lua_concat(L, 3);
  }
  lua_rawset(L, -3);
}

int nvx_http_head(lua_State *L) {
  size_t n, pos;
  const char *buf = luaL_checklstring(L, 1, &n);
  lua_Integer from = luaL_checkinteger(L, 2);
  lua_Number budget = luaL_checknumber(L, 3);
  nvx_head h;
  nvx_header f;
  int rc;
  if (from < 1) from = 1;
  if ((size_t)from > n + 1) from = (lua_Integer)n + 1;
  buf += from - 1;
  n -= (size_t)(from - 1);
  rc = nvx_head_scan(buf, n, budget > 0 ? (size_t)budget : 0, &h);
  if (rc == NVX_HEAD_MORE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (rc == NVX_HEAD_MALFORMED) return failure(L, "malformed status line");
  if (rc == NVX_HEAD_STATUS_LIMIT) return failure(L, "status line over the limit");
  if (rc == NVX_HEAD_LIMIT) return failure(L, "header block over the limit");
  lua_pushinteger(L, from + (lua_Integer)h.length);
  lua_pushinteger(L, h.status);
  lua_createtable(L, 0, 8);
  pos = h.first_header;
  while (nvx_head_next(buf, &h, &pos, &f)) set_header(L, &f);
  lua_pushinteger(L, h.major);
  lua_pushinteger(L, h.minor);
  lua_pushnumber(L, (lua_Number)h.budget);
  return 6;
}
