/* core.json and core.form (csrc/json_encode.c) on Lua values built from the
 * input (lua_core.h: strings of any bytes, integers, floats of any bits,
 * booleans, null, plain and marked arrays, objects, number_mt values with
 * any text). What they write is checked by reading it with the decoder,
 * the one JSON grammar:
 *   - core.json raises "navixy: cannot encode ..." exactly when the value
 *     holds something without a JSON form (NaN, an infinity, a number text
 *     that is not one JSON number); otherwise its text decodes to an equal
 *     value (numbers by value; a number_mt value as the number its text
 *     is), arrays and only arrays marked (a marked table, or a non-empty
 *     plain one), and encodes to the same text again;
 *   - core.form of an object: name=value pairs joined by '&', names in
 *     byte order, both percent-encoded with nothing but unreserved
 *     characters and %XX; a string value is itself, any other value JSON
 *     text that decodes to it. */
#include <stdint.h>
#include "lua_core.h"

/* Whether the value at i becomes a JSON array: marked, or a non-empty
 * sequence (the builder makes no other tables with integer keys). */
static int array_expected(lua_State *L, int i) {
  return has_mark(L, i, "array_mt") || (lua_istable(L, i) && lua_rawlen(L, i) > 0);
}

/* Marks of the decoded value d against the built value b. */
static int marks_match(lua_State *L, int b, int d) {
  int ok = 1;
  b = lua_absindex(L, b);
  d = lua_absindex(L, d);
  if (!lua_istable(L, d) || has_mark(L, b, "number_mt")) return 1;
  if (has_mark(L, d, "array_mt") != array_expected(L, b)) return 0;
  lua_pushnil(L);
  while (ok && lua_next(L, b)) {
    lua_pushvalue(L, -2);
    lua_rawget(L, d);
    ok = marks_match(L, -2, -1);
    lua_pop(L, 2);
  }
  if (!ok) lua_pop(L, 1);
  return ok;
}

/* Whether the value at i holds a number whose text changes on the way
 * back: a number_mt value (written as its text, "1.10", then as the
 * encoder writes the number it decodes to, "1.1"), or an integral float of
 * 2^53 or more that fits an integer (written "%.17g", decoded an integer). */
static int number_rewritten(lua_State *L, int i) {
  int found = 0;
  i = lua_absindex(L, i);
  if (lua_type(L, i) == LUA_TNUMBER && !lua_isinteger(L, i)) {
    lua_Number d = lua_tonumber(L, i);
    lua_Integer unused;
    return fabs(d) >= 9007199254740992.0 && lua_numbertointeger(d, &unused);
  }
  if (has_mark(L, i, "number_mt")) return 1;
  if (!lua_istable(L, i)) return 0;
  lua_pushnil(L);
  while (!found && lua_next(L, i)) {
    found = number_rewritten(L, -1);
    lua_pop(L, 1);
  }
  if (found) lua_pop(L, 1);
  return found;
}

static void check_json(lua_State *L, int value, int bad) {
  int top = lua_gettop(L);
  size_t n1, n2;
  const char *t1, *t2;
  if (!core_call(L, "json", value)) {
    CHECK(bad);
    CHECK(strncmp(lua_tostring(L, -1), "navixy: cannot encode ", 22) == 0);
    lua_settop(L, top);
    return;
  }
  CHECK(!bad);
  t1 = lua_tolstring(L, -1, &n1);
  CHECK(core_decode(L, t1, n1, 0));
  CHECK(same_value(L, value, -1, SAME_VALUE));
  CHECK(marks_ok(L, -1) && marks_match(L, value, -1));
  /* encoded again, the same text (unless a number's text changes) */
  if (!core_call(L, "json", -1)) { /* a number_mt "1e999" decodes to an infinity */
    CHECK(number_rewritten(L, value) && strstr(lua_tostring(L, -1), "cannot encode infinity"));
    lua_settop(L, top);
    return;
  }
  t2 = lua_tolstring(L, -1, &n2);
  CHECK((n1 == n2 && memcmp(t1, t2, n1) == 0) || number_rewritten(L, value));
  lua_settop(L, top);
}

static int unreserved_or_pct(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return 0;
      i += 2;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~')) {
      return 0;
    }
  }
  return 1;
}

/* One name=value field of a form body, against the object at obj; the
 * name is pushed for the caller to compare with the one before. */
static void check_field(lua_State *L, int obj, const char *f, size_t n) {
  const char *eq = memchr(f, '=', n);
  char *buf = malloc(n + 1);
  long k;
  CHECK(buf != NULL && eq != NULL);
  CHECK(unreserved_or_pct(f, (size_t)(eq - f)) && unreserved_or_pct(eq + 1, n - (size_t)(eq - f) - 1));
  k = url_decode(f, (size_t)(eq - f), buf);
  CHECK(k >= 0);
  lua_pushlstring(L, buf, (size_t)k);
  lua_pushvalue(L, -1);
  lua_rawget(L, obj);
  CHECK(!lua_isnil(L, -1));
  k = url_decode(eq + 1, n - (size_t)(eq - f) - 1, buf);
  CHECK(k >= 0);
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    CHECK(len == (size_t)k && memcmp(s, buf, len) == 0);
  } else {
    CHECK(core_decode(L, buf, (size_t)k, 0));
    CHECK(same_value(L, -2, -1, SAME_VALUE) && marks_match(L, -2, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1); /* the value; the name stays */
  free(buf);
}

static void check_form(lua_State *L, int obj, int bad) {
  int top = lua_gettop(L);
  size_t n, start = 0, i, fields = 0;
  const char *body;
  if (!core_call(L, "form", obj)) {
    CHECK(bad);
    CHECK(strncmp(lua_tostring(L, -1), "navixy: cannot encode ", 22) == 0);
    lua_settop(L, top);
    return;
  }
  CHECK(!bad);
  body = lua_tolstring(L, -1, &n);
  for (i = 0; n > 0 && i <= n; i++) {
    if (i < n && body[i] != '&') continue;
    check_field(L, obj, body + start, i - start);
    if (fields++ > 0) { /* names in byte order: the one before is smaller */
      size_t la, lb;
      const char *a = lua_tolstring(L, -2, &la), *b = lua_tolstring(L, -1, &lb);
      int c = memcmp(a, b, la < lb ? la : lb);
      CHECK(c < 0 || (c == 0 && la < lb));
      lua_remove(L, -2);
    }
    start = i + 1;
  }
  CHECK(fields == count_keys(L, obj));
  lua_settop(L, top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = core_state();
  input in = {data, data + size};
  int top = lua_gettop(L), bad;
  build_value(L, &in, 0);
  bad = no_json_form(L, -1);
  check_json(L, top + 1, bad);
  lua_settop(L, top);
  in.p = data;
  build_object(L, &in);
  bad = no_json_form(L, -1);
  check_json(L, top + 1, bad);
  check_form(L, top + 1, bad);
  lua_settop(L, top);
  return 0;
}
