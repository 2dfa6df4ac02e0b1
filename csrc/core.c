/* navixy.core: the thin C layer under the navixy module. */
#include <curl/curl.h>
#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "client.h"
#include "compat.h"
#include "decode.h"
#include "engine.h"
#include "inflate.h"
#include "reply.h"
#include "sha1.h"
#include "encode.h"
#include "interrupt.h"
#include "transfer.h"
#include "values.h"
#include "ws_lua.h"

#define NVX_STATE_MT "navixy.core.state"

/* Module state (an upvalue, not a global): a scratch buffer reused by the
 * encoders, so that an error raised mid-way leaks nothing, and the decoder's
 * string cache (its strings are in a table in the registry, keyed by this
 * state's address). */
typedef struct nvx_state {
  nvx_buf scratch;
  nvx_strcache cache;
  nvx_engine *engine; /* drives the transfers of every client (engine.h) */
} nvx_state;

static int state_gc(lua_State *L) {
  nvx_state *st = luaL_checkudata(L, 1, NVX_STATE_MT);
  nvx_buf_free(&st->scratch);
  if (st->engine) nvx_engine_release(st->engine); /* clients may hold it longer */
  st->engine = NULL;
  lua_pushlightuserdata(L, st);
  lua_pushnil(L);
  lua_rawset(L, LUA_REGISTRYINDEX);
  return 0;
}

/* Pushes the table of st's string cache, made on first use. */
static void push_cache(lua_State *L, nvx_state *st) {
  lua_pushlightuserdata(L, st);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (!lua_isnil(L, -1)) return;
  lua_pop(L, 1);
  lua_createtable(L, NVX_CACHE_SLOTS, 0);
  lua_pushlightuserdata(L, st);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

static nvx_state *state_of(lua_State *L) {
  return (nvx_state *)lua_touserdata(L, lua_upvalueindex(1));
}

/* core.escape(s) -> s percent-encoded (RFC 3986 unreserved kept) */
static int m_escape(lua_State *L) {
  nvx_state *st = state_of(L);
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  nvx_buf_reset(&st->scratch);
  if (nvx_url_escape(&st->scratch, s, n) != 0) return luaL_error(L, "navixy: out of memory");
  lua_pushlstring(L, st->scratch.data, st->scratch.len);
  return 1;
}

/* The metatable that navixy.array() sets: upvalue 2 of the encoders. */
#define ARRAY_MT lua_upvalueindex(2)

/* core.json(value) -> JSON text */
static int m_json(lua_State *L) {
  nvx_state *st = state_of(L);
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  lua_pushvalue(L, ARRAY_MT);
  nvx_buf_reset(&st->scratch);
  nvx_json_value(L, &st->scratch, 1, 2);
  lua_pushlstring(L, st->scratch.data, st->scratch.len);
  return 1;
}

/* core.form(params) -> "a=1&b=%5B1%2C2%5D" */
static int m_form(lua_State *L) {
  nvx_state *st = state_of(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushvalue(L, ARRAY_MT);
  nvx_buf_reset(&st->scratch);
  nvx_form_body(L, &st->scratch, 1, 2);
  lua_pushlstring(L, st->scratch.data ? st->scratch.data : "", st->scratch.len);
  return 1;
}

/* core.decode(text) -> value, or nil and "invalid JSON at byte N: why"
 * (see decode.h) */
static int m_decode(lua_State *L) {
  nvx_state *st = state_of(L);
  size_t n, at = 0;
  const char *text = luaL_checklstring(L, 1, &n);
  const char *why = NULL;
  lua_settop(L, 1);
  push_cache(L, st);
  if (nvx_json_decode(L, text, n, &st->scratch, &st->cache, &why, &at)) return 1;
  lua_pushnil(L);
  lua_pushfstring(L, "invalid JSON at byte %d: %s", (int)at, why);
  return 2;
}

/* core.retry_after("120" | "<HTTP date>") -> seconds from now, or nil */
static int m_retry_after(lua_State *L) {
  double secs = nvx_retry_after_seconds(luaL_checkstring(L, 1));
  if (secs < 0)
    lua_pushnil(L);
  else
    lua_pushnumber(L, secs);
  return 1;
}

/* core.now() -> seconds on a monotonic clock (for backoff and rate limits) */
static int m_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* core.sleep(seconds): blocks the process; the OpenResty transport uses
 * ngx.sleep instead. */
static int m_sleep(lua_State *L) {
  double secs = luaL_checknumber(L, 1);
  struct timespec ts;
  if (!(secs > 0)) return 0; /* NaN and negatives: no wait */
  if (secs > 1e6) secs = 1e6;
  ts.tv_sec = (time_t)secs;
  ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
  nvx_interrupt_begin(); /* Ctrl-C ends the wait at once (interrupt.h) */
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !nvx_interrupted()) {
  }
  nvx_interrupt_end();
  return 0;
}

/* core.new(settings) -> a client (client.c) whose transfers run in this
 * module state's engine */
static int m_new(lua_State *L) { return nvx_client_new(L, state_of(L)->engine); }

/* core.sha1hex(s) -> SHA-1 of s in lowercase hex (key names of shared stores) */
static int m_sha1hex(lua_State *L) {
  static const char HEXDIGITS[] = "0123456789abcdef";
  unsigned char digest[NVX_SHA1_LEN];
  char hex[2 * NVX_SHA1_LEN];
  size_t n, i;
  const char *s = luaL_checklstring(L, 1, &n);
  nvx_sha1(s, n, digest);
  for (i = 0; i < NVX_SHA1_LEN; i++) {
    hex[2 * i] = HEXDIGITS[digest[i] >> 4];
    hex[2 * i + 1] = HEXDIGITS[digest[i] & 15];
  }
  lua_pushlstring(L, hex, sizeof hex);
  return 1;
}

/* core.is_json_type(content_type) -> whether an answer with it is JSON */
static int m_is_json_type(lua_State *L) {
  lua_pushboolean(L, nvx_is_json_type(luaL_optstring(L, 1, "")));
  return 1;
}

static const luaL_Reg FUNCS[] = {{"new", m_new}, {"is_json_type", m_is_json_type}, {"sha1hex", m_sha1hex},
                                 {"inflater", nvx_inflater_new}, {"escape", m_escape},
                                 {"form", m_form},        {"json", m_json},
                                 {"decode", m_decode},
                                 {"retry_after", m_retry_after},
                                 {"now", m_now},          {"sleep", m_sleep},
                                 {NULL, NULL}};

int luaopen_navixy_core(lua_State *L) {
  nvx_state *st;
  /* Once per process, however many Lua states load the module. (A process
   * that loads it from several threads at once must call curl_global_init
   * itself first, as libcurl asks of every library user.) */
  static int curl_ready = 0;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return luaL_error(L, "navixy: curl_global_init failed");
    curl_ready = 1;
  }
  nvx_client_register(L);
  nvx_inflate_register(L);
  lua_newtable(L);
  st = compat_newuserdata(L, sizeof *st);
  memset(st, 0, sizeof *st);
  st->engine = nvx_engine_new();
  if (!st->engine) return luaL_error(L, "navixy: out of memory loading the module");
  luaL_newmetatable(L, NVX_STATE_MT);
  lua_pushcfunction(L, state_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_newtable(L); /* the array marker */
  lua_pushvalue(L, -1);
  lua_setfield(L, -4, "array_mt");
  luaL_setfuncs(L, FUNCS, 2);
  nvx_ws_register(L); /* the WebSocket functions: ws_lua.c */
  lua_pushstring(L, curl_version());
  lua_setfield(L, -2, "curl_version");
  /* JSON null: a NULL light userdata, the same value as lua-cjson's null */
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
