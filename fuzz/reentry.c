/* The encoders and the decoder called again from finalizers that run in
 * the middle of a call (issue 10 item 5: a shared scratch buffer once let
 * a finalizer's output end up in the caller's). A value and an object are
 * built from the input (lua_core.h) and encoded with the collector
 * stopped: the reference. Then, with the collector in a hurry (a minor
 * collection, and the finalizers after it, every 1% of the heap) and
 * objects with finalizers made before every call, core.json, core.form,
 * core.escape and core.decode run again. Invariants: every call gives the
 * reference (the same text, or the same error); every finalizer, which
 * encodes and decodes the same values itself, gets the reference too.
 * The WebSocket framer likewise (issue 19 item 13: it once shared one
 * buffer): core.ws_frame of the input carries the input, and one parser,
 * which the finalizers frame on too, answers each ping fed to it with its
 * pong (frames are masked with a new key each time: compared unmasked). */
#include <stdint.h>
#include "lua_core.h"

#define REF(name) "navixy.fuzz." name
#define LONG_NAMES 8

/* Pushes core[fn](registry[arg]) as "ok:<text>" or "error:<message>". */
static void outcome(lua_State *L, const char *fn, const char *arg) {
  int ok;
  lua_getfield(L, LUA_REGISTRYINDEX, arg);
  ok = core_call(L, fn, -1);
  lua_pushstring(L, ok ? "ok:" : "error:");
  lua_insert(L, -2);
  lua_concat(L, 2);
  lua_remove(L, -2);
}

/* core.json(core.decode(registry[arg])), or "" when it is not JSON. */
static void decoded_again(lua_State *L, const char *arg) {
  size_t n;
  const char *text;
  lua_getfield(L, LUA_REGISTRYINDEX, arg);
  text = lua_tolstring(L, -1, &n);
  if (text && core_decode(L, text, n, 0)) {
    lua_gc(L, LUA_GCSTOP, 0); /* decoded under fire, compared in peace */
    CHECK(core_call(L, "json", -1));
    lua_gc(L, LUA_GCRESTART, 0);
    lua_remove(L, -2);
  } else {
    lua_pushliteral(L, "");
  }
  lua_remove(L, -2);
}

/* Adds names long enough that Lua does not intern them to the table at
 * the top: the encoders make a new string for each, so every call
 * allocates, and the collector (with the finalizers) runs inside calls. */
static void add_long_names(lua_State *L) {
  int i;
  for (i = 0; i < LONG_NAMES; i++) {
    lua_pushfstring(L, "a name long enough not to be interned by Lua, number %d", i);
    lua_pushinteger(L, i);
    lua_rawset(L, -3);
  }
}

/* Leaves n objects whose finalizer is `finalizer` for the collector. */
static void arm(lua_State *L, int n) {
  while (n-- > 0) {
    lua_newtable(L);
    luaL_setmetatable(L, REF("finalizer"));
    lua_pop(L, 1);
  }
}

/* The payload of the one client frame (masked, FIN set, opcode `opcode`)
 * at index i, unmasked, pushed; a frame of any other shape fails. */
static void push_unmasked(lua_State *L, int i, int opcode) {
  size_t n, len, head = 2, k;
  const unsigned char *f = (const unsigned char *)lua_tolstring(L, i, &n);
  luaL_Buffer b;
  CHECK(f && n >= 6 && f[0] == (0x80 | opcode) && (f[1] & 0x80));
  len = f[1] & 0x7f;
  if (len == 126) {
    CHECK(n >= 8);
    len = (size_t)f[2] << 8 | f[3];
    head = 4;
  } else if (len == 127) {
    CHECK(n >= 14);
    for (len = 0, k = 2; k < 10; k++) len = len << 8 | f[k];
    head = 10;
  }
  CHECK(n == head + 4 + len); /* one frame: nothing glued to it */
  luaL_buffinit(L, &b);
  for (k = 0; k < len; k++) luaL_addchar(&b, (char)(f[head + 4 + k] ^ f[head + k % 4]));
  luaL_pushresult(&b);
}

/* core.ws_frame("binary", text) carries text; p:frame on the shared
 * parser carries text's first bytes; in the main loop (armed > 0) the
 * parser fed a server's ping of them answers with their pong (a finalizer
 * feeding the parser mid-feed would interleave two streams: not a use). */
static void framing(lua_State *L, int armed) {
  size_t n;
  const char *text;
  int top = lua_gettop(L);
  arm(L, armed);
  push_core(L, "ws_frame");
  lua_pushliteral(L, "binary");
  lua_getfield(L, LUA_REGISTRYINDEX, REF("text"));
  CHECK(lua_pcall(L, 2, 1, 0) == LUA_OK);
  push_unmasked(L, -1, 0x2);
  lua_getfield(L, LUA_REGISTRYINDEX, REF("text"));
  CHECK(lua_rawequal(L, -1, -2));
  text = lua_tolstring(L, -1, &n);
  if (n > 125) n = 125; /* a control frame's most */
  if (armed) {
    arm(L, armed);
    lua_getfield(L, LUA_REGISTRYINDEX, REF("parser"));
    lua_getfield(L, -1, "feed");
    lua_insert(L, -2);
    lua_pushfstring(L, "%c%c", 0x89, (int)n); /* a server's ping: unmasked */
    lua_pushlstring(L, text, n);
    lua_concat(L, 2);
    CHECK(lua_pcall(L, 2, 2, 0) == LUA_OK);
    CHECK(lua_istable(L, -2) && luaL_len(L, -2) == 1);
    push_unmasked(L, -1, 0xA);
    lua_pushlstring(L, text, n);
    CHECK(lua_rawequal(L, -1, -2));
  }
  arm(L, armed);
  /* and a frame of its own on that parser, as the finalizers do */
  lua_getfield(L, LUA_REGISTRYINDEX, REF("parser"));
  lua_getfield(L, -1, "frame");
  lua_insert(L, -2);
  lua_pushliteral(L, "ping");
  lua_pushlstring(L, text, n);
  CHECK(lua_pcall(L, 3, 1, 0) == LUA_OK);
  push_unmasked(L, -1, 0x9);
  lua_pushlstring(L, text, n);
  CHECK(lua_rawequal(L, -1, -2));
  lua_settop(L, top);
}

/* The work both the main loop and the finalizers do, each result compared
 * with the reference computed with the collector stopped. The main loop
 * arms finalizers before each call (they run at the first collection, so
 * each call gets its own). */
static void work_and_check(lua_State *L, int armed) {
  static const struct {
    const char *fn, *arg, *ref;
  } calls[] = {{"json", REF("value"), REF("value_json")},
               {"json", REF("object"), REF("object_json")},
               {"form", REF("object"), REF("object_form")},
               {"escape", REF("text"), REF("text_escaped")}};
  size_t i;
  int top = lua_gettop(L);
  for (i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    arm(L, armed);
    outcome(L, calls[i].fn, calls[i].arg);
    lua_getfield(L, LUA_REGISTRYINDEX, calls[i].ref);
    CHECK(lua_rawequal(L, -1, -2));
    lua_settop(L, top);
  }
  arm(L, armed);
  decoded_again(L, REF("json_text"));
  lua_getfield(L, LUA_REGISTRYINDEX, REF("json_text_again"));
  CHECK(lua_rawequal(L, -1, -2));
  lua_settop(L, top);
  framing(L, armed);
}

static int finalizer(lua_State *L) {
  work_and_check(L, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  lua_State *L = core_state();
  input in = {data, data + size};
  int round, top = lua_gettop(L);
  const char *refs[][2] = {{REF("value"), REF("value_json")},
                           {REF("object"), REF("object_json")}};
  size_t i;
  if (!ready) {
    luaL_newmetatable(L, REF("finalizer"));
    lua_pushcfunction(L, finalizer);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_gc(L, LUA_GCGEN, 1, 100);
    push_core(L, "ws_parser");
    CHECK(lua_pcall(L, 0, 1, 0) == LUA_OK);
    lua_setfield(L, LUA_REGISTRYINDEX, REF("parser"));
    ready = 1;
  }
  /* No finalizer runs while the references are made (a finalizer left from
   * the last input checks against these once they are). */
  lua_gc(L, LUA_GCSTOP, 0);
  lua_createtable(L, 0, LONG_NAMES + 1);
  add_long_names(L);
  build_value(L, &in, 0);
  lua_setfield(L, -2, "value");
  lua_setfield(L, LUA_REGISTRYINDEX, REF("value"));
  build_object(L, &in);
  add_long_names(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REF("object"));
  push_bytes(L, &in, (size_t)(in.end - in.p));
  lua_setfield(L, LUA_REGISTRYINDEX, REF("text"));
  for (i = 0; i < 2; i++) {
    outcome(L, "json", refs[i][0]);
    lua_setfield(L, LUA_REGISTRYINDEX, refs[i][1]);
  }
  outcome(L, "form", REF("object"));
  lua_setfield(L, LUA_REGISTRYINDEX, REF("object_form"));
  outcome(L, "escape", REF("text"));
  lua_setfield(L, LUA_REGISTRYINDEX, REF("text_escaped"));
  /* a text to decode: the value's JSON (escapes, nesting), else the input */
  lua_getfield(L, LUA_REGISTRYINDEX, REF("value"));
  if (!core_call(L, "json", -1)) {
    lua_pop(L, 1);
    lua_pushlstring(L, (const char *)data, size);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, REF("json_text"));
  lua_pop(L, 1);
  decoded_again(L, REF("json_text"));
  lua_setfield(L, LUA_REGISTRYINDEX, REF("json_text_again"));

  lua_gc(L, LUA_GCRESTART, 0);
  for (round = 0; round < 2; round++) work_and_check(L, 2);
  lua_settop(L, top);
  /* the garbage of this input freed in this input: else libFuzzer suspects
   * a leak after every one and runs LeakSanitizer each time */
  lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
