/* navixy.core: the thin C layer under the navixy module. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <time.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buffer.h"
#include "raise.h"
#include "client.h"
#include "compat.h"
#include "metatable.h"
#include "json_decode.h"
#include "json_lazy.h"
#include "http/engine.h"
#include "http/settings.h"
#include "waiter.h"
#include "inflate.h"
#include "head_lua.h"
#include "http/reply.h"
#include "util/clock.h"
#include "util/sha1.h"
#include "util/escape.h"
#include "util/interrupt.h"
#include "util/mask.h"
#include "scratch.h"
#include "http/transfer.h"
#include "trim.h"
#include "json_encode.h"
#include "ws_client.h"
#include "ws_lua.h"

/* Module state, shared by the functions below as upvalues (never a
 * global): 1 the decoder's string cache (its bytes, in a userdata), 2 a
 * table of the Lua values they share, at these indices. Each value is
 * stored there once: core.set_array_mt changes it for every function. */
#define STATE lua_upvalueindex(1)
#define SHARED lua_upvalueindex(2)
enum { ARRAY_MT = 1, NUMBER_MT, CACHE_TABLE, ENGINE };

#define NVX_ENGINE_MT "navixy.core.engine"

/* The engine (engine.h) is held by a userdata among the shared values;
 * clients hold it too, so whoever goes last frees it. */
static int engine_gc(lua_State *L) {
  nvx_engine **box = luaL_checkudata(L, 1, NVX_ENGINE_MT);
  if (*box) nvx_engine_release(*box);
  *box = NULL;
  return 0;
}

/* Pushes the engine's holder. */
static void new_engine(lua_State *L) {
  nvx_engine **box = compat_newuserdata(L, sizeof *box);
  static const luaL_Reg meta[] = {{"__gc", engine_gc}, {NULL, NULL}};
  *box = NULL;
  nvx_metatable(L, NVX_ENGINE_MT, NULL, meta);
  compat_setmetatable(L, NVX_ENGINE_MT);
  *box = nvx_engine_new();
  if (!*box) nvx_raise(L, "navixy: out of memory loading the module");
}

/* Pushes the shared values (array_mt, number_mt) and returns their indices. */
static nvx_marks push_marks(lua_State *L) {
  nvx_marks m;
  lua_rawgeti(L, SHARED, ARRAY_MT);
  m.array_mt = lua_gettop(L);
  lua_rawgeti(L, SHARED, NUMBER_MT);
  m.number_mt = lua_gettop(L);
  return m;
}

/* Pushes buf's bytes as the result and frees them now (the box's __gc
 * would later). */
static int push_result(lua_State *L, nvx_buf *buf) {
  lua_pushlstring(L, buf->data ? buf->data : "", buf->len);
  nvx_buf_free(buf);
  return 1;
}

static int nomem(lua_State *L) { return nvx_raise(L, "navixy: out of memory"); }

/* core.escape(s) -> s percent-encoded (RFC 3986 unreserved kept) */
static int m_escape(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  nvx_buf *out = nvx_scratch_push(L);
  if (nvx_url_escape(out, s, n) != 0) return nomem(L);
  return push_result(L, out);
}

/* The value at index 1, written by an encoder of json_encode.h. */
static int encode(lua_State *L, void (*encoder)(lua_State *, nvx_buf *, int, nvx_marks)) {
  nvx_marks marks;
  nvx_buf *out;
  lua_settop(L, 1);
  marks = push_marks(L);
  out = nvx_scratch_push(L);
  encoder(L, out, 1, marks);
  return push_result(L, out);
}

/* core.json(value) -> JSON text */
static int m_json(lua_State *L) {
  luaL_checkany(L, 1);
  return encode(L, nvx_json_value);
}

/* core.form(params) -> "a=1&b=%5B1%2C2%5D" */
static int m_form(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  return encode(L, nvx_form_body);
}

/* Answers from this size on are decoded with a string cache of their own,
 * dropped with them: the shared one's strings, were they made in the middle
 * of a big answer and kept, would keep its freed pages (LuaJIT's allocator
 * gives back no page that holds a live object: after a 10 MB answer and a
 * full collection it held 12 MB more than before, with this 5 MB). */
#define OWN_CACHE_FROM (256 * 1024)

/* core.decode(text [, exact]) -> value, or nil and "invalid JSON at byte
 * N: why" (see json_decode.h). Arrays get the array metatable; with
 * exact, every number is { "<its text>" } with core.number_mt. */
static int m_decode(lua_State *L) {
  size_t n, at = 0;
  const char *text = luaL_checklstring(L, 1, &n);
  const char *why = NULL;
  int exact = lua_toboolean(L, 2), ok;
  nvx_decoding d;
  nvx_strcache own;
  lua_settop(L, 1);
  d.array_mt = push_marks(L).array_mt;
  d.number_mt = exact ? d.array_mt + 1 : 0;
  if (n >= OWN_CACHE_FROM) {
    memset(own.len, 0, sizeof own.len);
    memset(own.next, 0, sizeof own.next);
    memset(own.first, 0, sizeof own.first);
    memset(own.keyed, 0, sizeof own.keyed);
    lua_createtable(L, NVX_CACHE_SLOTS, 0);
    d.cache = &own;
  } else {
    lua_rawgeti(L, SHARED, CACHE_TABLE);
    d.cache = lua_touserdata(L, STATE);
  }
  d.cache_table = lua_gettop(L);
  nvx_heap_answer(n, 1); /* the heap policy keeps its cushion meanwhile: trim.h */
  ok = nvx_json_decode(L, text, n, &d, &why, &at);
  nvx_heap_answer(n, 0);
  if (ok) return 1;
  lua_pushnil(L);
  lua_pushfstring(L, "invalid JSON at byte %d: %s", (int)at, why);
  return 2;
}

/* core.set_array_mt(mt): from now on decoded arrays get mt, and the
 * encoders take tables with mt for arrays (the Lua layer passes
 * cjson.array_mt where the lua-cjson in use has one, once, at load).
 * core.array_mt is then mt too. */
static int m_set_array_mt(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  lua_rawseti(L, SHARED, ARRAY_MT);
  lua_setfield(L, lua_upvalueindex(3), "array_mt"); /* the module table */
  return 0;
}

/* core.mask(text, secret1, shown1 [, secret2, shown2 ...]) -> text with
 * every whole occurrence of each secret, raw, JSON-escaped or
 * percent-encoded, replaced by its shown form (see mask.h). Text without
 * one comes back as the same string. */
static int m_mask(lua_State *L) {
  int top = lua_gettop(L), i;
  size_t n, count = (size_t)(top - 1) / 2;
  const char *text;
  nvx_secret *secrets;
  nvx_buf *out;
  long masked;
  luaL_checktype(L, 1, LUA_TSTRING);
  if (top < 3 || top % 2 == 0)
    return nvx_raise(L, "navixy: core.mask takes a text and pairs of a secret and its shown form");
  for (i = 2; i <= top; i++) luaL_checktype(L, i, LUA_TSTRING);
  text = lua_tolstring(L, 1, &n);
  secrets = compat_newuserdata(L, count * sizeof *secrets); /* the collector frees it */
  for (i = 0; i < (int)count; i++) {
    secrets[i].text = lua_tolstring(L, 2 + 2 * i, &secrets[i].len);
    secrets[i].shown = lua_tolstring(L, 3 + 2 * i, &secrets[i].shown_len);
  }
  out = nvx_scratch_push(L);
  masked = nvx_mask(out, text, n, secrets, count);
  if (masked < 0) return nomem(L);
  if (masked > 0) return push_result(L, out);
  nvx_buf_free(out);
  lua_pushvalue(L, 1);
  return 1;
}

/* core.shown(secret) -> how a hash is shown to people (see mask.h) */
static int m_shown(lua_State *L) {
  size_t n;
  const char *secret = luaL_checklstring(L, 1, &n);
  char shown[NVX_SHOWN_SIZE];
  lua_pushlstring(L, shown, nvx_mask_shown(secret, n, shown));
  return 1;
}

/* The number metatable's __tostring: the number's text, as written. */
static int number_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_rawgeti(L, 1, 1);
  if (lua_type(L, -1) != LUA_TSTRING) return nvx_raise(L, "navixy: a number without its text");
  return 1;
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
  lua_pushnumber(L, (lua_Number)nvx_now());
  return 1;
}

/* core.hold_interrupts(on): Ctrl-C held (util/interrupt.h) or given back;
 * true when it took effect. core.interrupt_taken(): true once after a Ctrl-C
 * that came while held. */
static int m_hold_interrupts(lua_State *L) {
  lua_pushboolean(L, nvx_interrupt_hold(lua_toboolean(L, 1)));
  return 1;
}

static int m_interrupt_taken(lua_State *L) {
  lua_pushboolean(L, nvx_interrupt_take());
  return 1;
}

/* core.sleep(seconds): blocks the process; the OpenResty transport uses
 * ngx.sleep instead. NaN and negatives are no wait (NaN would be undefined
 * behaviour in the conversion below); waits over 1e6 s are cut to that. */
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
 * module state's engine, or with settings.loop in an engine of its own
 * that an event loop drives (engine.h; client:fd()) */
static int m_new(lua_State *L) {
  int loop;
  if (lua_istable(L, 1)) { /* else client.c raises, as for any bad settings */
    lua_getfield(L, 1, "loop");
    loop = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else {
    loop = 0;
  }
  if (!loop) {
    nvx_engine *engine;
    lua_rawgeti(L, SHARED, ENGINE);
    engine = *(nvx_engine **)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return nvx_client_new(L, engine);
  }
  return nvx_client_new(L, NULL);
}

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

/* core.realpath(path) -> the path with every symbolic link, "." and ".."
 * resolved, or nil, why (it does not exist, a link dangles). A path sink
 * replaces the file a link names, not the link (sink.lua). */
static int m_realpath(lua_State *L) {
  char real[PATH_MAX]; /* on the stack: nothing to free should pushing raise */
  if (!realpath(luaL_checkstring(L, 1), real)) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(errno));
    return 2;
  }
  lua_pushstring(L, real);
  return 1;
}

/* core.file_type(path) -> what the path names (links followed): "file",
 * "directory", "FIFO", "character device", "block device", "socket", or nil,
 * why. Uploads take regular files only: reading a FIFO or a device can block
 * for ever, whatever the call's timeout (upload.lua). */
static int m_file_type(lua_State *L) {
  struct stat st;
  const char *kind;
  if (stat(luaL_checkstring(L, 1), &st) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(errno));
    return 2;
  }
  kind = S_ISREG(st.st_mode)    ? "file"
         : S_ISDIR(st.st_mode)  ? "directory"
         : S_ISFIFO(st.st_mode) ? "FIFO"
         : S_ISCHR(st.st_mode)  ? "character device"
         : S_ISBLK(st.st_mode)  ? "block device"
         : S_ISSOCK(st.st_mode) ? "socket"
                                : "special file";
  lua_pushstring(L, kind);
  return 1;
}

/* core.heap_policy([cushion [, idle]]) -> cushion, idle, acting: the heap
 * policy's settings (trim.h), after setting those given (not nil; checked
 * by the Lua layer: navixy.memory), and whether it acts in this process. */
static int m_heap_policy(lua_State *L) {
  size_t cushion, bytes = 0;
  double idle, secs = 0;
  if (!lua_isnoneornil(L, 1)) {
    lua_Number b = luaL_checknumber(L, 1);
    luaL_argcheck(L, b >= 0 && b <= (lua_Number)(SIZE_MAX / 2), 1, "out of range");
    bytes = (size_t)b;
  }
  if (!lua_isnoneornil(L, 2)) {
    secs = luaL_checknumber(L, 2);
    luaL_argcheck(L, secs >= 0 && secs <= 1e9, 2, "out of range");
  }
  nvx_heap_policy(lua_isnoneornil(L, 1) ? NULL : &bytes, lua_isnoneornil(L, 2) ? NULL : &secs, &cushion,
                  &idle);
  lua_pushinteger(L, (lua_Integer)cushion);
  lua_pushnumber(L, (lua_Number)idle);
  lua_pushboolean(L, nvx_heap_watched());
  return 3;
}

/* core.is_json_type(content_type) -> whether an answer with it is JSON */
static int m_is_json_type(lua_State *L) {
  lua_pushboolean(L, nvx_is_json_type(luaL_optstring(L, 1, "")));
  return 1;
}

static const luaL_Reg FUNCS[] = {{"new", m_new}, {"is_json_type", m_is_json_type}, {"sha1hex", m_sha1hex},
                                 {"inflater", nvx_inflater_new}, {"http_head", nvx_http_head}, {"escape", m_escape},
                                 {"form", m_form},        {"json", m_json},
                                 {"decode", m_decode},    {"mask", m_mask}, {"shown", m_shown},
                                 {"retry_after", m_retry_after},
                                 {"now", m_now},          {"sleep", m_sleep},
                                 {"hold_interrupts", m_hold_interrupts}, {"interrupt_taken", m_interrupt_taken},
                                 {"realpath", m_realpath}, {"file_type", m_file_type},
                                 {"waiter", nvx_waiter_new},
                                 {"heap_policy", m_heap_policy},
                                 {NULL, NULL}};

int luaopen_navixy_core(lua_State *L) {
  /* Once per process, however many Lua states load the module. (A process
   * that loads it from several threads at once must call curl_global_init
   * itself first, as libcurl asks of every library user.) */
  static int curl_ready = 0;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return nvx_raise(L, "navixy: curl_global_init failed");
    curl_ready = 1;
  }
  nvx_client_register(L);
  nvx_inflate_register(L);
  nvx_scratch_register(L);
  nvx_waiter_register(L);
  lua_newtable(L); /* the module */
  memset(compat_newuserdata(L, sizeof(nvx_strcache)), 0, sizeof(nvx_strcache));
  lua_createtable(L, 4, 0); /* the shared values */
  new_engine(L);
  lua_rawseti(L, -2, ENGINE);
  lua_newtable(L);          /* the array marker (until set_array_mt) */
  lua_pushvalue(L, -1);
  lua_setfield(L, -5, "array_mt");
  lua_rawseti(L, -2, ARRAY_MT);
  lua_createtable(L, 0, 2); /* the number metatable */
  lua_pushcfunction(L, number_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "navixy.number");
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_setfield(L, -5, "number_mt");
  lua_rawseti(L, -2, NUMBER_MT);
  lua_createtable(L, NVX_CACHE_SLOTS, 0);
  lua_rawseti(L, -2, CACHE_TABLE);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -5);
  lua_pushcclosure(L, m_set_array_mt, 3);
  lua_setfield(L, -4, "set_array_mt");
  compat_setfuncs(L, FUNCS, 2);
  nvx_lazy_register(L);      /* lazy answers: json_lazy.c */
  nvx_ws_register(L);        /* the WebSocket framing: ws_lua.c */
  nvx_ws_client_register(L); /* and its curl transport: ws_client.c */
  nvx_trim_watch(L);  /* memory of big answers goes back to the system: trim.h */
  lua_pushinteger(L, (lua_Integer)NVX_DEFAULT_MAX_SIZE);
  lua_setfield(L, -2, "default_max_size");
  lua_pushstring(L, curl_version());
  lua_setfield(L, -2, "curl_version");
  /* JSON null: a NULL light userdata, the same value as lua-cjson's null */
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
