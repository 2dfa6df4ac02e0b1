/* core.decode (csrc/json_decode.c): every API answer body goes through it, as
 * the server, a proxy or an attacker in between sent it. Differential:
 * the same bytes go to lua-cjson's decoder (Debian's cjson.so, loaded into
 * the same Lua 5.4 state), an implementation written apart from ours.
 *
 * Where ours accepts, cjson must accept and give an equal value:
 *   - numbers equal as floats: ours are integers where integral and in
 *     int64 range, cjson's always floats; both round the text to a double
 *     once (correctly), so an integer of ours turned into a float is
 *     exactly cjson's float, and a float of ours (read by our own fast
 *     path for short decimals) is exactly strtod's; ours is never NaN;
 *   - strings byte for byte, null the same light userdata, tables the
 *     same keys with equal values;
 *   - and ours marks arrays (cjson, without array_mt, does not): a table
 *     with the array metatable has the keys 1..n, one without string keys
 *     only.
 * Where only one accepts, it is one of these documented differences:
 *   - cjson reads numbers with strtod, so it also takes what the JSON
 *     grammar does not: a leading '+' or zeros, a '.' without digits on one
 *     side, hex (0x10, 0x1p3), inf, infinity and nan in any case. Ours then
 *     refuses the text at a run of number characters ([0-9A-Za-z+.-]) that
 *     strtod reads further than the JSON grammar does.
 *   - cjson takes a NUL byte for the end of the text (and refuses a text
 *     with one among its first two bytes, as UTF-16 or UTF-32); ours reads
 *     a NUL like any other byte. For a text with a NUL, cjson's answer is
 *     compared with ours for the text before the NUL.
 * Both cap nesting at 1000 levels.
 *
 * Round trips: what ours decodes, core.json writes as text that decodes
 * to the same value (numbers of the same subtype, marks included) and
 * encodes to the same text again; core.json refuses only what has no JSON
 * form (1e400 decodes to an infinity). Exact mode (core.decode(text,
 * true)) accepts the same texts, and core.json of its value is text that
 * decodes to the normal mode's value. */
#include <stdint.h>
#include <stdlib.h>
#include "lua_core.h"

/* cjson.decode(s[0..n)): 1 and the value pushed, or 0 and nothing pushed. */
static int cjson_decode(lua_State *L, const char *s, size_t n) {
  lua_getglobal(L, "cjson");
  lua_getfield(L, -1, "decode");
  lua_remove(L, -2);
  lua_pushlstring(L, s, n);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) return 1;
  lua_pop(L, 1);
  return 0;
}

static int number_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
         c == '-' || c == '.';
}

/* Whether ours refused s at byte `at` for a number strtod reads further
 * than the JSON grammar: the run of number characters at `at` (or just
 * before it). */
static int strtod_reads_further(const char *s, size_t n, size_t at) {
  size_t start = at < n ? at : n, end;
  char *copy, *stop;
  int further;
  if (start < n && !number_char(s[start]) && start > 0) start--;
  if (start >= n || !number_char(s[start])) return 0;
  while (start > 0 && number_char(s[start - 1])) start--;
  for (end = start; end < n && number_char(s[end]); end++) {
  }
  copy = malloc(end - start + 1);
  CHECK(copy != NULL);
  memcpy(copy, s + start, end - start);
  copy[end - start] = '\0';
  (void)strtod(copy, &stop);
  further = (size_t)(stop - copy) > nvx_json_number_length(copy, end - start);
  free(copy);
  return further;
}

/* Where the decoder said it stopped: "invalid JSON at byte N: ...". */
static size_t failure_at(lua_State *L, const char *s, size_t n) {
  const char *why;
  size_t at;
  push_core(L, "decode");
  lua_pushlstring(L, s, n);
  CHECK(lua_pcall(L, 1, 2, 0) == LUA_OK && lua_isnil(L, -2));
  why = lua_tostring(L, -1);
  CHECK(why && sscanf(why, "invalid JSON at byte %zu:", &at) == 1 && at <= n);
  lua_pop(L, 2);
  return at;
}

static void check_round_trip(lua_State *L, int value) {
  int top = lua_gettop(L);
  size_t n1, n2;
  const char *t1, *t2;
  if (!core_call(L, "json", value)) {
    /* only an infinity has no JSON form among decoded values */
    CHECK(strstr(lua_tostring(L, -1), "navixy: cannot encode infinity") != NULL);
    lua_settop(L, top);
    return;
  }
  t1 = lua_tolstring(L, -1, &n1);
  CHECK(core_decode(L, t1, n1, 0));
  CHECK(same_value(L, value, -1, SAME_EXACT) && marks_ok(L, -1));
  CHECK(core_call(L, "json", -1));
  t2 = lua_tolstring(L, -1, &n2);
  CHECK(n1 == n2 && memcmp(t1, t2, n1) == 0);
  lua_settop(L, top);
}

static void check_exact_mode(lua_State *L, const char *s, size_t n, int value) {
  int top = lua_gettop(L);
  size_t len;
  const char *text;
  CHECK(core_decode(L, s, n, 1));
  CHECK(core_call(L, "json", -1)); /* exact numbers are written as they were read */
  text = lua_tolstring(L, -1, &len);
  CHECK(core_decode(L, text, len, 0));
  CHECK(same_value(L, value, -1, SAME_EXACT));
  lua_settop(L, top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  lua_State *L = core_state();
  const char *s = (const char *)data;
  const char *nul = memchr(s, '\0', size);
  size_t before_nul = nul ? (size_t)(nul - s) : size;
  int top = lua_gettop(L), ours, theirs;
  if (!ready) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson");
    CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK);
    lua_setglobal(L, "cjson");
    ready = 1;
  }
  ours = core_decode(L, s, size, 0);
  if (ours) {
    CHECK(marks_ok(L, -1));
    if (lua_type(L, -1) == LUA_TNUMBER) CHECK(!isnan(lua_tonumber(L, -1)));
    check_round_trip(L, top + 1);
    check_exact_mode(L, s, size, top + 1);
  } else {
    CHECK(!core_decode(L, s, size, 1));
  }
  lua_settop(L, top);

  if (nul) { /* cjson reads the text before the NUL, and refuses what looks like UTF-16/32 */
    theirs = cjson_decode(L, s, size);
    CHECK(!(theirs && before_nul < 2));
    ours = before_nul >= 2 && core_decode(L, s, before_nul, 0);
    if (ours && theirs)
      CHECK(same_value(L, -1, -2, SAME_FLOAT));
    else if (theirs)
      CHECK(strtod_reads_further(s, before_nul, failure_at(L, s, before_nul)));
    else
      CHECK(!ours);
    lua_settop(L, top);
    return 0;
  }
  ours = core_decode(L, s, size, 0);
  theirs = cjson_decode(L, s, size);
  if (ours && theirs) {
    CHECK(same_value(L, -2, -1, SAME_FLOAT));
  } else if (theirs) {
    CHECK(strtod_reads_further(s, size, failure_at(L, s, size)));
  } else {
    CHECK(!ours); /* ours accepts nothing cjson refuses */
  }
  lua_settop(L, top);
  return 0;
}
