/* For the fuzz targets that check through navixy.core as Lua code calls
 * it: a Lua 5.4 state with the module loaded (its C code linked in), the
 * decoder as the one JSON grammar texts are checked with, a deep equality,
 * and Lua values built from fuzz input. Header-only: each target is one
 * translation unit. */
#ifndef NAVIXY_FUZZ_LUA_CORE_H
#define NAVIXY_FUZZ_LUA_CORE_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdint.h>
#include "check.h"
#include "json_decode.h"

int luaopen_navixy_core(lua_State *L);

/* The state, made on first use; navixy.core is its global `core`. */
static inline lua_State *core_state(void) {
  static lua_State *L;
  if (!L) {
    L = luaL_newstate();
    CHECK(L != NULL);
    luaL_openlibs(L);
    luaL_requiref(L, "navixy.core", luaopen_navixy_core, 0);
    lua_setglobal(L, "core");
  }
  return L;
}

/* Pushes core[name]. */
static inline void push_core(lua_State *L, const char *name) {
  lua_getglobal(L, "core");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
}

/* core.decode(s[0..n), exact): 1 and the value pushed, or 0 and nothing
 * pushed when the text is not JSON. It never raises on any text. */
static inline int core_decode(lua_State *L, const char *s, size_t n, int exact) {
  push_core(L, "decode");
  lua_pushlstring(L, s, n);
  lua_pushboolean(L, exact);
  CHECK(lua_pcall(L, 2, 2, 0) == LUA_OK);
  if (lua_isnil(L, -2)) {
    CHECK(lua_type(L, -1) == LUA_TSTRING);
    lua_pop(L, 2);
    return 0;
  }
  lua_pop(L, 1);
  return 1;
}

/* core[fn](value at index i): 1 and the result pushed, or 0 and the error
 * message pushed. */
static inline int core_call(lua_State *L, const char *fn, int i) {
  i = lua_absindex(L, i);
  push_core(L, fn);
  lua_pushvalue(L, i);
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

/* Whether the table at i has the metatable core[name] (array_mt, number_mt). */
static inline int has_mark(lua_State *L, int i, const char *name) {
  int yes;
  if (!lua_istable(L, i) || !lua_getmetatable(L, i)) return 0;
  push_core(L, name);
  yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return yes;
}

/* How same_value compares numbers. */
enum {
  SAME_EXACT, /* the same subtype and value: our own round trips */
  SAME_VALUE, /* the same value (a built float that is integral may come back an integer) */
  SAME_FLOAT  /* as floats: ours (integer or float) against lua-cjson's (floats only) */
};

static inline size_t count_keys(lua_State *L, int t) {
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    n++;
  }
  return n;
}

/* Deep equality of the values at a and b: numbers as `numbers` says,
 * strings byte for byte, tables with the same keys and equal values (marks
 * are checked apart). On a's side a number_mt table stands for the number
 * its text decodes to. */
static inline int same_value(lua_State *L, int a, int b, int numbers) {
  int same;
  a = lua_absindex(L, a);
  b = lua_absindex(L, b);
  if (has_mark(L, a, "number_mt")) {
    size_t n;
    const char *text;
    lua_rawgeti(L, a, 1);
    text = lua_tolstring(L, -1, &n);
    CHECK(text && core_decode(L, text, n, 0));
    same = same_value(L, -1, b, SAME_VALUE);
    lua_pop(L, 2);
    return same;
  }
  if (lua_type(L, a) != lua_type(L, b)) return 0;
  switch (lua_type(L, a)) {
  case LUA_TNUMBER:
    if (numbers == SAME_FLOAT) return lua_tonumber(L, a) == lua_tonumber(L, b);
    if (numbers == SAME_EXACT && lua_isinteger(L, a) != lua_isinteger(L, b)) return 0;
    return lua_compare(L, a, b, LUA_OPEQ);
  case LUA_TTABLE:
    if (count_keys(L, a) != count_keys(L, b)) return 0;
    lua_pushnil(L);
    while (lua_next(L, a)) {
      lua_pushvalue(L, -2);
      lua_rawget(L, b);
      same = same_value(L, -2, -1, numbers);
      lua_pop(L, 2);
      if (!same) {
        lua_pop(L, 1);
        return 0;
      }
    }
    return 1;
  default: /* strings, booleans, the null light userdata */
    return lua_rawequal(L, a, b);
  }
}

/* Whether the decoded value at i marks arrays as the decoder promises: a
 * table with the array metatable has the keys 1..n, one without has string
 * keys only. */
static inline int marks_ok(lua_State *L, int i) {
  int array, ok = 1;
  size_t n = 0;
  i = lua_absindex(L, i);
  if (!lua_istable(L, i)) return 1;
  array = has_mark(L, i, "array_mt");
  if (lua_getmetatable(L, i)) {
    lua_pop(L, 1);
    if (!array) return 0;
  }
  lua_pushnil(L);
  while (ok && lua_next(L, i)) {
    n++;
    ok = array ? lua_isinteger(L, -2) : lua_type(L, -2) == LUA_TSTRING;
    if (ok) ok = marks_ok(L, -1);
    lua_pop(L, 1);
  }
  if (!ok) {
    lua_pop(L, 1);
    return 0;
  }
  if (array) {
    size_t k;
    for (k = 1; k <= n; k++) {
      int present = lua_rawgeti(L, i, (lua_Integer)k) != LUA_TNIL;
      lua_pop(L, 1);
      if (!present) return 0;
    }
  }
  return 1;
}

/* ---- Lua values from fuzz input ---- */

typedef struct input {
  const uint8_t *p, *end;
} input;

static inline unsigned next_byte(input *in) { return in->p < in->end ? *in->p++ : 0; }

/* Pushes up to n bytes of the input as a string. */
static inline void push_bytes(lua_State *L, input *in, size_t n) {
  if (n > (size_t)(in->end - in->p)) n = (size_t)(in->end - in->p);
  lua_pushlstring(L, (const char *)in->p, n);
  in->p += n;
}

/* Pushes a value read from the input: strings, integers, floats of any
 * bits (NaN and infinities included), booleans, null, arrays (plain, or
 * marked with core.array_mt, empty ones too), objects, and number_mt
 * values with any text. */
static inline void build_value(lua_State *L, input *in, int depth) {
  unsigned op = next_byte(in) % 11, n, k;
  if (depth > 6 && (op == 6 || op == 7 || op == 8)) op = 0;
  luaL_checkstack(L, 8, "fuzz");
  switch (op) {
  case 0:
    push_bytes(L, in, next_byte(in) % 40);
    return;
  case 1: {
    lua_Integer v = 0;
    for (k = 0; k < 8; k++) v = (lua_Integer)(((lua_Unsigned)v << 8) | next_byte(in));
    lua_pushinteger(L, v);
    return;
  }
  case 2: {
    uint64_t bits = 0;
    double d;
    for (k = 0; k < 8; k++) bits = (bits << 8) | next_byte(in);
    memcpy(&d, &bits, sizeof d);
    lua_pushnumber(L, d);
    return;
  }
  case 3:
    lua_pushinteger(L, (lua_Integer)next_byte(in) - 128);
    return;
  case 4:
    lua_pushnumber(L, ((double)next_byte(in) - 100.0) / (double)(1 + next_byte(in) % 1000));
    return;
  case 5:
    lua_pushboolean(L, next_byte(in) & 1);
    return;
  case 6:
  case 8: /* arrays; 8 marked */
    n = next_byte(in) % 6;
    lua_createtable(L, (int)n, 0);
    for (k = 1; k <= n; k++) {
      build_value(L, in, depth + 1);
      lua_rawseti(L, -2, (lua_Integer)k);
    }
    if (op == 8) {
      push_core(L, "array_mt");
      lua_setmetatable(L, -2);
    }
    return;
  case 7:
    n = next_byte(in) % 6;
    lua_createtable(L, 0, (int)n);
    for (k = 0; k < n; k++) {
      push_bytes(L, in, next_byte(in) % 12);
      build_value(L, in, depth + 1);
      lua_rawset(L, -3);
    }
    return;
  case 9:
    lua_createtable(L, 1, 0);
    push_bytes(L, in, next_byte(in) % 24);
    lua_rawseti(L, -2, 1);
    push_core(L, "number_mt");
    lua_setmetatable(L, -2);
    return;
  default:
    lua_pushlightuserdata(L, NULL); /* null */
    return;
  }
}

/* An object of built values (string keys), for the form encoder. */
static inline void build_object(lua_State *L, input *in) {
  unsigned n = next_byte(in) % 8, k;
  lua_createtable(L, 0, (int)n);
  for (k = 0; k < n; k++) {
    push_bytes(L, in, next_byte(in) % 12);
    build_value(L, in, 1);
    lua_rawset(L, -3);
  }
}

/* Whether the built value at i holds something with no JSON form: NaN, an
 * infinity, a number_mt value whose text is not one JSON number. The
 * encoders must refuse exactly those. */
static inline int no_json_form(lua_State *L, int i) {
  int bad = 0;
  i = lua_absindex(L, i);
  if (lua_type(L, i) == LUA_TNUMBER) {
    lua_Number d = lua_tonumber(L, i);
    return isnan(d) || isinf(d);
  }
  if (has_mark(L, i, "number_mt")) {
    size_t len = 0;
    const char *text;
    lua_rawgeti(L, i, 1);
    text = lua_tolstring(L, -1, &len);
    bad = !text || len == 0 || nvx_json_number_length(text, len) != len;
    lua_pop(L, 1);
    return bad;
  }
  if (!lua_istable(L, i)) return 0;
  lua_pushnil(L);
  while (!bad && lua_next(L, i)) {
    bad = no_json_form(L, -1);
    lua_pop(L, 1);
  }
  if (bad) lua_pop(L, 1);
  return bad;
}

#endif
