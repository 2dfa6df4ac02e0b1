#include "options.h"

#include <lauxlib.h>
#include <string.h>
#include "raise.h"
#include "util/escape.h"

long nvx_ms(double secs) { return (long)(secs * 1000 + 0.5); }

/* Pushes the field; 0 (and pops it) when it is absent. `key`: 0, or the
 * index of `name` as a Lua string, read raw (see nvx_opt_string_k). */
static int get(lua_State *L, int t, int key, const char *name) {
  if (key) {
    if (t < 0 && t > LUA_REGISTRYINDEX) t = lua_gettop(L) + t + 1;
    lua_pushvalue(L, key);
    lua_rawget(L, t);
  } else {
    lua_getfield(L, t, name);
  }
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  return 0;
}

static void wrong_type(lua_State *L, const char *name, const char *want) {
  nvx_raise(L, "navixy: option '%s' must be %s, got %s", name, want, luaL_typename(L, -1));
}

static void required(lua_State *L, const char *name) {
  nvx_raise(L, "navixy: option '%s' is required", name);
}

const char *nvx_opt_string(lua_State *L, int t, const char *name, int flags, size_t *len) {
  return nvx_opt_string_k(L, t, 0, name, flags, len);
}

const char *nvx_opt_string_k(lua_State *L, int t, int key, const char *name, int flags, size_t *len) {
  const char *v;
  size_t n;
  if (!get(L, t, key, name)) {
    if (flags & NVX_OPT_REQUIRED) required(L, name);
    if (len) *len = 0;
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING) wrong_type(L, name, "a string");
  v = lua_tolstring(L, -1, &n);
  lua_pop(L, 1); /* the table keeps it alive */
  if ((flags & NVX_OPT_LINE) && nvx_has_ctl(v, n))
    nvx_raise(L, "navixy: option '%s' must not hold CR, LF or NUL", name);
  if (len) *len = n;
  return v;
}

int nvx_opt_choice(lua_State *L, int t, const char *name, const char *const choices[]) {
  const char *v = nvx_opt_string(L, t, name, NVX_OPT_REQUIRED, NULL);
  int i;
  for (i = 0; choices[i]; i++)
    if (strcmp(v, choices[i]) == 0) return i;
  return nvx_raise(L, "navixy: option '%s' has an unknown value", name);
}

/* A number in (lo, hi], or def when absent (a raise when def < 0). */
static double number(lua_State *L, int t, int key, const char *name, double lo, double hi, double def) {
  double v;
  if (!get(L, t, key, name)) {
    if (def < 0) required(L, name);
    return def;
  }
  if (lua_type(L, -1) != LUA_TNUMBER) wrong_type(L, name, "a number");
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v > lo && v <= hi)) nvx_raise(L, "navixy: option '%s' is out of range", name);
  return v;
}

long nvx_opt_ms(lua_State *L, int t, const char *name, double def_seconds) {
  return nvx_opt_ms_k(L, t, 0, name, def_seconds);
}

long nvx_opt_ms_k(lua_State *L, int t, int key, const char *name, double def_seconds) {
  double v = number(L, t, key, name, 0, NVX_MAX_SECONDS, def_seconds);
  long ms = nvx_ms(v);
  return v > 0 && ms < 1 ? 1 : ms;
}

size_t nvx_opt_size(lua_State *L, int t, const char *name, size_t def) {
  double v = number(L, t, 0, name, 0, 9007199254740992.0, def ? (double)def : -1);
  if (v < 1 || v != (double)(long long)v) nvx_raise(L, "navixy: option '%s' is out of range", name);
  return (size_t)v;
}

int nvx_opt_boolean(lua_State *L, int t, const char *name, int def) {
  return nvx_opt_boolean_k(L, t, 0, name, def);
}

int nvx_opt_boolean_k(lua_State *L, int t, int key, const char *name, int def) {
  int v;
  if (!get(L, t, key, name)) return def;
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

void nvx_opt_known(lua_State *L, int t, const char *const names[]) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int known = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      int i;
      for (i = 0; names[i]; i++) known |= strcmp(lua_tostring(L, -1), names[i]) == 0;
    }
    if (!known)
      nvx_raise(L, "navixy: unknown option '%s'",
                lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
  }
}
