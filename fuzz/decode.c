/* nvx_json_decode (decode.c): every API answer body goes through it, as
 * the server, a proxy or an attacker in between sent it. Runs in a Lua 5.4
 * state. Invariants: it pushes exactly one value on success and nothing on
 * failure, with the failure offset inside the text; what it decodes the
 * encoder (values.c) writes as valid JSON that decodes to the same text
 * again (decode and encode agree on strings, numbers, nesting); and every
 * document the strict validator of check.h accepts, without \u escapes
 * (lone surrogates are refused on purpose) and nested at most 200 deep,
 * decodes. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include "check.h"
#include "decode.h"
#include "values.h"

static lua_State *L;
static nvx_buf text1, text2, scratch;
static nvx_strcache cache; /* its table: the registry's cache_table */
static int cache_table = LUA_NOREF;

typedef struct job {
  const char *s;
  size_t n, at;
  const char *why;
  int ok;
} job;

static int run_decode(lua_State *l) {
  job *j = lua_touserdata(l, 1);
  int top;
  lua_rawgeti(l, LUA_REGISTRYINDEX, cache_table);
  top = lua_gettop(l);
  j->ok = nvx_json_decode(l, j->s, j->n, &scratch, &cache, &j->why, &j->at);
  CHECK(lua_gettop(l) == top + (j->ok ? 1 : 0));
  return j->ok;
}

/* encode(stack top) into out; 0 when the value has no JSON form (inf) */
static int run_encode(lua_State *l) {
  nvx_buf *out = lua_touserdata(l, 1);
  lua_newtable(l); /* an array marker nobody uses: decoded arrays are plain */
  nvx_json_value(l, out, 2, 3);
  return 0;
}

static int encode(int index, nvx_buf *out) {
  nvx_buf_reset(out);
  lua_pushcfunction(L, run_encode);
  lua_pushlightuserdata(L, out);
  lua_pushvalue(L, index);
  return lua_pcall(L, 2, 0, 0) == LUA_OK;
}

static int decode_keep(job *j) { /* leaves the value on the stack */
  int base = lua_gettop(L);
  lua_pushcfunction(L, run_decode);
  lua_pushlightuserdata(L, j);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_settop(L, base);
    return 0;
  }
  if (!j->ok) lua_settop(L, base);
  return j->ok;
}

static int simple(const char *s, size_t n) {
  int depth = 0, max = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'u') return 0;
    if (s[i] == '[' || s[i] == '{') max = ++depth > max ? depth : max;
    if (s[i] == ']' || s[i] == '}') depth--;
  }
  return max <= 200;
}

static int valid_document(const char *s, size_t n) {
  json_in j = {s, n, 0, 0};
  if (!json_value_at(&j)) return 0;
  json_ws(&j);
  return j.i == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  job j = {(const char *)data, size, 0, NULL, 0};
  int top;
  if (!L) {
    L = luaL_newstate();
    CHECK(L != NULL);
    lua_createtable(L, NVX_CACHE_SLOTS, 0);
    cache_table = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  top = lua_gettop(L);
  if (!decode_keep(&j)) {
    CHECK(j.at <= size);
    CHECK(!(valid_document(j.s, size) && simple(j.s, size)));
    CHECK(lua_gettop(L) == top);
    return 0;
  }
  if (encode(-1, &text1)) {
    job again = {text1.data, text1.len, 0, NULL, 0};
    CHECK(valid_document(text1.data, text1.len));
    CHECK(decode_keep(&again));
    CHECK(encode(-1, &text2));
    CHECK(text1.len == text2.len && memcmp(text1.data, text2.data, text1.len) == 0);
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  return 0;
}
