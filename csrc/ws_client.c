/* core.ws_connect{ url =, headers = {...}, timeout =, connect_timeout =,
 *                  ssl_verify =, ca_file =, proxy =, max_message = }
 *   -> ws, or nil and err
 * ws:send_text(s [, seconds]), ws:send_binary(s [, seconds]), ws:ping([s])
 *                       -> true, or nil and err (within seconds, by default
 *                          the timeout; a send cut short ends the ws)
 * ws:recv([seconds])    -> { type = "text"|"binary", data = s }, or nil and err
 *                          (kind "timeout" or "interrupted": the ws stays usable)
 * ws:close([code [, reason [, wait]]]) -> true (the close handshake, waiting
 *                          at most `wait` seconds for the server's close: by
 *                          default the timeout, up to 1 s; 0 for a connection
 *                          given up as dead; idempotent)
 * ws:state()            -> "open", "ended" (the peer closed, or it failed)
 *                          or "closed" (ws:close() was called)
 * err = { kind =, description =, phase =, code =, reason =, status =, body = }
 * (see ws/conn.h). Misuse raises; failures return nil, err. No Lua runs
 * while libcurl does: options are read and copied before it is called. */
#include "ws_client.h"

#include <lauxlib.h>
#include <string.h>
#include "compat.h"
#include "http/settings.h"
#include "metatable.h"
#include "options.h"
#include "raise.h"
#include "ws/conn.h"
#include "ws/handshake.h"
#include "ws_lua.h"

#define CLOSE_WAIT_MS 1000 /* how long close() waits for the server's close */

typedef struct ws_ud {
  nvx_ws_conn c;
  int closed; /* ws:close() ran: every method but close raises */
} ws_ud;

static ws_ud *check_ws(lua_State *L) {
  ws_ud *w = luaL_checkudata(L, 1, NVX_WS_MT);
  if (w->closed) nvx_raise(L, "navixy: ws is closed");
  return w;
}

/* ---- options: all read and checked before anything is allocated ---- */

static const char *const OPTIONS[] = {"url", "headers", "timeout", "connect_timeout",
                                      "ssl_verify", "ca_file", "proxy", "max_message", NULL};

static void read_options(lua_State *L, nvx_ws_options *o) {
  luaL_checktype(L, 1, LUA_TTABLE);
  nvx_opt_known(L, 1, OPTIONS);
  memset(o, 0, sizeof *o);
  o->url = nvx_opt_string(L, 1, "url", NVX_OPT_LINE, NULL);
  if (!o->url || !nvx_ws_url_ok(o->url))
    nvx_raise(L, "navixy: option 'url' must be a ws://, wss://, http:// or https:// URL "
                  "with a host, without user info or fragment");
  o->ca_file = nvx_opt_string(L, 1, "ca_file", NVX_OPT_LINE, NULL);
  o->proxy = nvx_opt_string(L, 1, "proxy", NVX_OPT_LINE, NULL);
  o->timeout_ms = nvx_opt_ms(L, 1, "timeout", 30);
  o->connect_timeout_ms = nvx_opt_ms(L, 1, "connect_timeout", 10);
  o->max_message = nvx_opt_size(L, 1, "max_message", NVX_DEFAULT_MAX_SIZE);
  o->ssl_verify = nvx_opt_boolean(L, 1, "ssl_verify", 1);
  lua_getfield(L, 1, "headers");
  if (!lua_isnil(L, -1) && !lua_istable(L, -1))
    nvx_raise(L, "navixy: option 'headers' must be an array");
  /* the joined lines stay on the stack until the call returns */
  nvx_ws_header_lines(L, lua_gettop(L), &o->lines, &o->lines_len);
}

/* ---- results ---- */

static void set_string(lua_State *L, const char *name, const char *s, size_t n) {
  lua_pushlstring(L, s, n);
  lua_setfield(L, -2, name);
}

static void set_int(lua_State *L, const char *name, int v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, name);
}

static int push_error(lua_State *L, const nvx_ws_error *e) {
  lua_pushnil(L);
  lua_createtable(L, 0, 6);
  set_string(L, "kind", e->kind, strlen(e->kind));
  set_string(L, "description", e->description, strlen(e->description));
  set_string(L, "phase", e->phase, strlen(e->phase));
  if (e->code) set_int(L, "code", e->code);
  if (strcmp(e->kind, "closed") == 0) set_string(L, "reason", e->reason, strlen(e->reason));
  if (e->status) {
    set_int(L, "status", e->status);
    set_string(L, "body", e->body, e->body_len);
  }
  return 2;
}

static int ws_connect(lua_State *L) {
  nvx_ws_options o;
  nvx_ws_error err;
  ws_ud *w;
  read_options(L, &o);
  w = compat_newuserdata(L, sizeof *w);
  memset(w, 0, sizeof *w);
  w->closed = 1; /* until open; no metatable yet either */
  if (nvx_ws_open(&w->c, &o, &err) != 0) return push_error(L, &err);
  w->closed = 0;
  compat_setmetatable(L, NVX_WS_MT); /* only now can __gc see it */
  return 1;
}

/* ---- methods ---- */

/* Optional seconds at index i as milliseconds (-1 when none); raises when
 * out of range. */
static long opt_ms(lua_State *L, int i, const char *what) {
  double secs;
  if (lua_isnoneornil(L, i)) return -1;
  secs = luaL_checknumber(L, i);
  if (!(secs >= 0) || secs > 1e9) nvx_raise(L, "navixy: %s out of range", what);
  return nvx_ms(secs);
}

static int send_opcode(lua_State *L, int opcode, int optional) {
  ws_ud *w = check_ws(L);
  nvx_ws_error err;
  size_t n = 0;
  const char *s = optional ? luaL_optlstring(L, 2, "", &n) : luaL_checklstring(L, 2, &n);
  long timeout_ms = optional ? -1 : opt_ms(L, 3, "timeout");
  if (opcode == NVX_WS_PING && n > NVX_WS_CONTROL_MAX)
    return nvx_raise(L, "navixy: a ping carries at most 125 bytes");
  if (nvx_ws_send(&w->c, opcode, s, n, timeout_ms, &err) != 0) return push_error(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int w_send_text(lua_State *L) { return send_opcode(L, NVX_WS_TEXT, 0); }
static int w_send_binary(lua_State *L) { return send_opcode(L, NVX_WS_BINARY, 0); }
static int w_ping(lua_State *L) { return send_opcode(L, NVX_WS_PING, 1); }

static int w_recv(lua_State *L) {
  ws_ud *w = check_ws(L);
  nvx_ws_event ev;
  nvx_ws_error err;
  long timeout_ms = opt_ms(L, 2, "timeout");
  if (nvx_ws_recv(&w->c, timeout_ms, &ev, &err) != 1) return push_error(L, &err);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, ev.type == NVX_WS_TEXT ? "text" : "binary");
  lua_setfield(L, -2, "type");
  set_string(L, "data", ev.data, ev.len);
  return 1;
}

/* The close handshake, waiting at most wait_ms for the server's close (< 0:
 * the usual wait, the timeout up to CLOSE_WAIT_MS). */
static void close_ws(ws_ud *w, int code, const char *reason, size_t n, long wait_ms) {
  long usual = w->c.timeout_ms < CLOSE_WAIT_MS ? w->c.timeout_ms : CLOSE_WAIT_MS;
  if (w->closed) return;
  w->closed = 1;
  if (wait_ms < 0 || wait_ms > usual) wait_ms = usual;
  nvx_ws_close(&w->c, code, reason, n, wait_ms);
}

static int w_close(lua_State *L) {
  ws_ud *w = luaL_checkudata(L, 1, NVX_WS_MT);
  int code;
  const char *reason;
  size_t n;
  long wait_ms;
  nvx_ws_check_close_args(L, 2, &code, &reason, &n);
  wait_ms = opt_ms(L, 4, "wait");
  close_ws(w, code, reason, n, wait_ms);
  lua_pushboolean(L, 1);
  return 1;
}

/* __close (Lua 5.4 <close>): as ws:close(); its second argument is the
 * error that ends the scope, not a close code. */
static int w_close_scope(lua_State *L) {
  close_ws(luaL_checkudata(L, 1, NVX_WS_MT), NVX_WS_NORMAL, NULL, 0, -1);
  return 0;
}

/* __gc: the close frame if it goes out at once, no waiting (a collector
 * must not block); "going away" says why. */
static int w_gc(lua_State *L) {
  ws_ud *w = luaL_checkudata(L, 1, NVX_WS_MT);
  if (!w->closed) {
    w->closed = 1;
    nvx_ws_close(&w->c, 1001, NULL, 0, 0);
  }
  return 0;
}

static int w_state(lua_State *L) {
  ws_ud *w = luaL_checkudata(L, 1, NVX_WS_MT);
  lua_pushstring(L, w->closed ? "closed" : w->c.state == NVX_CONN_OPEN ? "open" : "ended");
  return 1;
}

/* ws:fd() -> the connection's socket, for an event loop to watch before it
 * calls ws:recv(0); nil once closed. */
static int w_fd(lua_State *L) {
  ws_ud *w = luaL_checkudata(L, 1, NVX_WS_MT);
  if (w->closed || w->c.sock == CURL_SOCKET_BAD) return 0;
  lua_pushinteger(L, (lua_Integer)w->c.sock);
  return 1;
}

static int w_tostring(lua_State *L) {
  ws_ud *w = luaL_checkudata(L, 1, NVX_WS_MT);
  if (w->closed)
    lua_pushstring(L, "navixy.core ws (closed)");
  else if (w->c.state == NVX_CONN_OPEN)
    lua_pushfstring(L, "navixy.core ws (%s, open)", w->c.where);
  else
    lua_pushfstring(L, "navixy.core ws (%s, ended: %s)", w->c.where, w->c.last.kind);
  return 1;
}

static const luaL_Reg METHODS[] = {{"send_text", w_send_text}, {"send_binary", w_send_binary},
                                   {"ping", w_ping},           {"recv", w_recv},
                                   {"close", w_close},         {"state", w_state},
                                   {"fd", w_fd},               {NULL, NULL}};

void nvx_ws_client_register(lua_State *L) {
  static const luaL_Reg META[] = {
      {"__gc", w_gc}, {"__close", w_close_scope}, {"__tostring", w_tostring}, {NULL, NULL}};
  nvx_metatable(L, NVX_WS_MT, METHODS, META);
  lua_pushcfunction(L, ws_connect);
  lua_setfield(L, -2, "ws_connect");
}
