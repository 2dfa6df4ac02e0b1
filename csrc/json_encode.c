#include "json_encode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "raise.h"
#include "json_decode.h"
#include "util/escape.h"

#define MAX_DEPTH 64

static void nomem(lua_State *L) { nvx_raise(L, "navixy: out of memory encoding the request"); }

/* An integer in decimal, digits by hand: snprintf was most of the cost of
 * encoding small params. */
static void add_integer(lua_State *L, nvx_buf *out, long long v) {
  char text[24];
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  char *p = text + sizeof text;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  if (nvx_buf_add(out, p, (size_t)(text + sizeof text - p))) nomem(L);
}

/* Integers exactly, without ".0"; other numbers so they read back the same. */
static void add_number(lua_State *L, nvx_buf *out, int i) {
  char text[64];
  lua_Number d = lua_tonumber(L, i);
  if (compat_isinteger(L, i)) {
    add_integer(L, out, (long long)lua_tointeger(L, i));
    return;
  }
  if (isnan(d) || isinf(d))
    nvx_raise(L, "navixy: cannot encode %s", isnan(d) ? "NaN" : "infinity");
  if (d == floor(d) && fabs(d) < 9007199254740992.0) { /* 2^53: exact as a double */
    add_integer(L, out, (long long)d);
    return;
  }
  snprintf(text, sizeof text, "%.17g", d);
  if (nvx_buf_adds(out, text)) nomem(L);
}

/* A key sorted for stable output. */
typedef struct key_ref {
  const char *s;
  size_t n;
} key_ref;

static int key_cmp(const void *a, const void *b) {
  const key_ref *x = a, *y = b;
  size_t n = x->n < y->n ? x->n : y->n;
  int c = memcmp(x->s, y->s, n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Counts the keys of table t; *max_index is the largest positive integer key
 * and *strings the count of string keys. Raises on any other kind of key. */
static size_t count_keys(lua_State *L, int t, lua_Number *max_index, size_t *strings) {
  size_t count = 0;
  *max_index = 0;
  *strings = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      (*strings)++;
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (k < 1 || k != floor(k)) nvx_raise(L, "navixy: cannot encode a table with key %f", k);
      if (k > *max_index) *max_index = k;
    } else {
      nvx_raise(L, "navixy: cannot encode a table with a %s key", luaL_typename(L, -1));
    }
    count++;
  }
  return count;
}

static void add_array(lua_State *L, nvx_buf *out, int t, size_t n, nvx_marks marks, int depth);
static void add_object(lua_State *L, nvx_buf *out, int t, size_t n, nvx_marks marks, int depth);

/* A number_mt table: its text, which must be exactly one JSON number (it
 * is by construction when the decoder made it; by hand it may be junk). */
static void add_number_text(lua_State *L, nvx_buf *out, int t) {
  size_t n = 0;
  const char *text = NULL;
  lua_rawgeti(L, t, 1);
  if (lua_type(L, -1) == LUA_TSTRING) text = lua_tolstring(L, -1, &n);
  if (!text || n == 0 || nvx_json_number_length(text, n) != n)
    nvx_raise(L, "navixy: cannot encode a number whose text is not a JSON number");
  if (nvx_buf_add(out, text, n)) nomem(L);
  lua_pop(L, 1);
}

static void add_value(lua_State *L, nvx_buf *out, int i, nvx_marks marks, int depth) {
  switch (lua_type(L, i)) {
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, i, &n);
    if (nvx_json_string(out, s, n)) nomem(L);
    return;
  }
  case LUA_TNUMBER:
    add_number(L, out, i);
    return;
  case LUA_TBOOLEAN:
    if (nvx_buf_adds(out, lua_toboolean(L, i) ? "true" : "false")) nomem(L);
    return;
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, i) == NULL) { /* navixy.null (cjson.null) */
      if (nvx_buf_adds(out, "null")) nomem(L);
      return;
    }
    break;
  case LUA_TTABLE: {
    lua_Number max_index;
    size_t strings, count;
    int marked;
    if (depth >= MAX_DEPTH)
      nvx_raise(L, "navixy: cannot encode tables nested over %d deep (a cycle?)", MAX_DEPTH);
    luaL_checkstack(L, 6, "navixy: nested too deep");
    marked = 0;
    if (lua_getmetatable(L, i)) {
      int number = marks.number_mt && lua_rawequal(L, -1, marks.number_mt);
      marked = marks.array_mt && lua_rawequal(L, -1, marks.array_mt);
      lua_pop(L, 1);
      if (number) {
        add_number_text(L, out, i);
        return;
      }
    }
    count = count_keys(L, i, &max_index, &strings);
    if (count == 0) {
      if (nvx_buf_adds(out, marked ? "[]" : "{}")) nomem(L);
    } else if (strings == 0 && max_index == (lua_Number)count) {
      add_array(L, out, i, count, marks, depth + 1);
    } else if (strings == count && !marked) {
      add_object(L, out, i, count, marks, depth + 1);
    } else {
      nvx_raise(L, "navixy: cannot encode a table that mixes array and object keys or has holes");
    }
    return;
  }
  default:
    break;
  }
  nvx_raise(L, "navixy: cannot encode a %s value", luaL_typename(L, i));
}

static void add_array(lua_State *L, nvx_buf *out, int t, size_t n, nvx_marks marks, int depth) {
  size_t k;
  if (nvx_buf_addc(out, '[')) nomem(L);
  for (k = 1; k <= n; k++) {
    if (k > 1 && nvx_buf_addc(out, ',')) nomem(L);
    lua_rawgeti(L, t, (int)k);
    add_value(L, out, lua_gettop(L), marks, depth);
    lua_pop(L, 1);
  }
  if (nvx_buf_addc(out, ']')) nomem(L);
}

/* Tables with up to this many keys sort them on the C stack: most request
 * params are that small, and a userdata per object would be most of the
 * cost of encoding them. */
#define SMALL_KEYS 16

/* Collects the string keys of t, sorted, into `small` when they fit, else
 * into a userdata (collected even if an error is raised later). Leaves one
 * value on the stack either way (the userdata, or nil) for the caller to pop. */
static key_ref *sorted_keys(lua_State *L, int t, size_t n, key_ref *small) {
  key_ref *keys;
  size_t k = 0;
  if (n <= SMALL_KEYS) {
    keys = small;
    lua_pushnil(L);
  } else {
    keys = compat_newuserdata(L, n * sizeof *keys);
  }
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    keys[k].s = lua_tolstring(L, -1, &keys[k].n); /* a string: no conversion */
    k++;
  }
  qsort(keys, n, sizeof *keys, key_cmp);
  return keys;
}

static void add_object(lua_State *L, nvx_buf *out, int t, size_t n, nvx_marks marks, int depth) {
  key_ref small[SMALL_KEYS];
  key_ref *keys = sorted_keys(L, t, n, small);
  size_t k;
  if (nvx_buf_addc(out, '{')) nomem(L);
  for (k = 0; k < n; k++) {
    if (k > 0 && nvx_buf_addc(out, ',')) nomem(L);
    if (nvx_json_string(out, keys[k].s, keys[k].n) || nvx_buf_addc(out, ':')) nomem(L);
    lua_pushlstring(L, keys[k].s, keys[k].n);
    lua_rawget(L, t);
    add_value(L, out, lua_gettop(L), marks, depth);
    lua_pop(L, 1);
  }
  if (nvx_buf_addc(out, '}')) nomem(L);
  lua_pop(L, 1); /* the keys (or nil) */
}

void nvx_json_value(lua_State *L, nvx_buf *out, int i, nvx_marks marks) {
  add_value(L, out, i, marks, 0);
}

void nvx_form_body(lua_State *L, nvx_buf *out, int t, nvx_marks marks) {
  lua_Number max_index;
  size_t strings, n = count_keys(L, t, &max_index, &strings), k;
  key_ref small[SMALL_KEYS], *keys;
  if (strings != n) nvx_raise(L, "navixy: form fields need string names");
  keys = sorted_keys(L, t, n, small);
  for (k = 0; k < n; k++) {
    const char *text;
    size_t len;
    lua_pushlstring(L, keys[k].s, keys[k].n);
    lua_rawget(L, t);
    if ((k > 0 && nvx_buf_addc(out, '&')) || nvx_url_escape(out, keys[k].s, keys[k].n) ||
        nvx_buf_addc(out, '='))
      nomem(L);
    if (lua_type(L, -1) == LUA_TSTRING) {
      text = lua_tolstring(L, -1, &len);
      if (nvx_url_escape(out, text, len)) nomem(L);
    } else {
      /* the value as JSON text (a number, true/false, null, an array or
       * object), written in place, then copied out and escaped over it */
      size_t mark = out->len;
      add_value(L, out, lua_gettop(L), marks, 0);
      lua_pushlstring(L, out->data + mark, out->len - mark);
      out->len = mark;
      text = lua_tolstring(L, -1, &len);
      if (nvx_url_escape(out, text, len)) nomem(L);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1); /* the keys (or nil) */
}
