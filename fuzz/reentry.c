/* The encoders and the decoder called again from finalizers that run in
 * the middle of a call (issue 10 item 5: a shared scratch buffer once let
 * a finalizer's output end up in the caller's). A value and an object are
 * built from the input (lua_core.h) and encoded with the collector
 * stopped: the reference. Then, with the collector in a hurry (a minor
 * collection, and the finalizers after it, every 1% of the heap) and
 * objects with finalizers made before every call, core.json, core.form,
 * core.escape and core.decode run again. Invariants: every call gives the
 * reference (the same text, or the same error); every finalizer, which
 * encodes and decodes the same values itself, gets the reference too. */
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
