/* The WebSocket framing for Lua, pure (no I/O), so that a transport doing
 * its own I/O (ngx.socket.tcp inside nginx) runs the same C as the curl one:
 *
 * core.ws_handshake(host, target [, header_lines]) -> request text, key
 * core.ws_accept_ok(key, accept)  -> whether accept is right for key
 * core.ws_check_answer(head, key) -> true, or nil, why, status|nil
 *     (head: the server's answer up to its empty line; see ws/handshake.h)
 * core.ws_frame(kind, payload [, code]) -> a masked frame
 *     (kind "text", "binary", "ping", "pong" or "close"; for a close, payload
 *     is the reason and code the status code, none when nil)
 * core.ws_parser([max_message]) -> p
 *   p:feed(bytes) -> events, reply
 *     events, in order: { type = "text"|"binary", data = s } (a whole
 *     message), { type = "ping"|"pong", data = s }, { type = "close",
 *     code = n|nil, reason = s }, { type = "error", code = n, description = s }
 *     (1002 protocol error, 1007 invalid UTF-8, 1009 over max_message);
 *     after a close or an error, further bytes are ignored.
 *     reply: bytes to write to the server now ("" when none): the pongs, the
 *     echo of a close, our close after an error.
 *   p:frame(kind, payload [, code]) -> as core.ws_frame, and a close sent
 *     this way is remembered, so the server's answering close is not echoed.
 * Misuse (wrong types, a control payload over 125 bytes, an invalid close
 * code) raises. */
#include "ws_lua.h"

#include <lauxlib.h>
#include <string.h>
#include "compat.h"
#include "http/settings.h"
#include "util/escape.h"
#include "metatable.h"
#include "raise.h"
#include "scratch.h"
#include "util/random.h"
#include "ws/frame.h"
#include "ws/handshake.h"

#define NVX_WS_PARSER_MT "navixy.core.ws_parser"

/* ---- shared checks ---- */

void nvx_ws_header_lines(lua_State *L, int i, const char **lines, size_t *len) {
  luaL_Buffer b;
  int k, n;
  if (lua_isnoneornil(L, i)) {
    lua_pushliteral(L, "");
    *lines = lua_tolstring(L, -1, len);
    return;
  }
  luaL_checktype(L, i, LUA_TTABLE);
  n = (int)compat_rawlen(L, i);
  luaL_buffinit(L, &b);
  for (k = 1; k <= n; k++) {
    size_t m;
    const char *line;
    lua_rawgeti(L, i, k);
    line = lua_tolstring(L, -1, &m);
    if (lua_type(L, -1) != LUA_TSTRING || !memchr(line, ':', m) || nvx_has_ctl(line, m))
      nvx_raise(L, "navixy: header %d must be a string 'Name: value' without CR, LF or NUL", k);
    if (nvx_ws_reserved_header(line, m))
      nvx_raise(L, "navixy: header %d is one the WebSocket handshake sets itself", k);
    luaL_addvalue(&b);
    luaL_addchar(&b, '\n');
  }
  luaL_pushresult(&b);
  *lines = lua_tolstring(L, -1, len);
}

void nvx_ws_check_close_args(lua_State *L, int i, int *code, const char **reason, size_t *n) {
  lua_Integer c = luaL_optinteger(L, i, NVX_WS_NORMAL);
  *reason = luaL_optlstring(L, i + 1, "", n);
  if (c < 0 || c > 0xFFFF || !nvx_ws_valid_close_code((int)c))
    nvx_raise(L, "navixy: not a close code that may be sent");
  if (*n > NVX_WS_REASON_MAX || !nvx_ws_valid_utf8(*reason, *n))
    nvx_raise(L, "navixy: a close reason is UTF-8 of at most 123 bytes");
  *code = (int)c;
}

static int check_kind(lua_State *L, int i) {
  static const char *const KINDS[] = {"text", "binary", "ping", "pong", "close", NULL};
  static const int OPCODES[] = {NVX_WS_TEXT, NVX_WS_BINARY, NVX_WS_PING, NVX_WS_PONG,
                                NVX_WS_CLOSE};
  return OPCODES[luaL_checkoption(L, i, NULL, KINDS)];
}

static int push_buf(lua_State *L, const nvx_buf *b) {
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  return 1;
}

static void out_of_memory(lua_State *L) { nvx_raise(L, "navixy: out of memory"); }

/* ---- the handshake ---- */

static const char *check_token(lua_State *L, int i, const char *what) {
  size_t n, k;
  const char *s = luaL_checklstring(L, i, &n);
  for (k = 0; k < n; k++)
    if ((unsigned char)s[k] <= ' ' || s[k] == 0x7f)
      nvx_raise(L, "navixy: the %s must not hold spaces or control characters", what);
  if (n == 0) nvx_raise(L, "navixy: the %s is empty", what);
  return s;
}

static int l_handshake(lua_State *L) {
  const char *host = check_token(L, 1, "host");
  const char *target = check_token(L, 2, "target");
  const char *lines;
  size_t len;
  unsigned char rnd[16];
  char key[NVX_WS_KEY_LEN + 1];
  nvx_buf *b;
  if (target[0] != '/') nvx_raise(L, "navixy: the target must start with '/'");
  lua_settop(L, 3); /* host, target, lines: what is pushed comes after them */
  nvx_ws_header_lines(L, 3, &lines, &len);
  b = nvx_scratch_push(L); /* this call's own (scratch.h): a finalizer may frame too */
  if (nvx_random(rnd, sizeof rnd) != 0) return nvx_raise(L, "navixy: no random bytes");
  nvx_ws_key(rnd, key);
  if (nvx_ws_request(b, host, target, lines, len, key) != 0) out_of_memory(L);
  push_buf(L, b);
  nvx_buf_free(b);
  lua_pushstring(L, key);
  return 2;
}

static int l_accept_ok(lua_State *L) {
  size_t kn, an;
  const char *key = luaL_checklstring(L, 1, &kn);
  const char *accept = luaL_checklstring(L, 2, &an);
  char expected[NVX_WS_ACCEPT_LEN + 1];
  nvx_ws_accept(key, kn, expected);
  lua_pushboolean(L, an == NVX_WS_ACCEPT_LEN && memcmp(accept, expected, an) == 0);
  return 1;
}

static int l_check_answer(lua_State *L) {
  size_t n;
  const char *head = luaL_checklstring(L, 1, &n);
  const char *key = luaL_checkstring(L, 2);
  const char *why = NULL;
  int status = 0;
  if (nvx_ws_check_answer(head, n, key, &status, &why) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, why);
  if (status)
    lua_pushinteger(L, status);
  else
    lua_pushnil(L);
  return 3;
}

/* ---- frames ---- */

/* Reads kind, payload [, code] from index i and appends the frame to out
 * through ws (which remembers a close) or, when ws is NULL, directly. */
static void frame_args(lua_State *L, int i, nvx_ws *ws, nvx_buf *out) {
  int opcode = check_kind(L, i), code = 0;
  size_t n;
  const char *payload = luaL_optlstring(L, i + 1, "", &n);
  unsigned char mask[4];
  int rc;
  if (opcode == NVX_WS_CLOSE) {
    if (!lua_isnoneornil(L, i + 2)) {
      lua_Integer c = luaL_checkinteger(L, i + 2);
      if (c < 0 || c > 0xFFFF || !nvx_ws_valid_close_code((int)c))
        nvx_raise(L, "navixy: not a close code that may be sent");
      code = (int)c;
    }
    if (code == 0 && n > 0) nvx_raise(L, "navixy: a close reason needs a code");
    if (n > NVX_WS_REASON_MAX || !nvx_ws_valid_utf8(payload, n))
      nvx_raise(L, "navixy: a close reason is UTF-8 of at most 123 bytes");
  } else if (opcode >= NVX_WS_CLOSE && n > NVX_WS_CONTROL_MAX) {
    nvx_raise(L, "navixy: a control frame carries at most 125 bytes");
  }
  if (ws) {
    rc = nvx_ws_send_frame(ws, out, opcode, payload, n, code);
  } else if (nvx_random(mask, sizeof mask) != 0) {
    rc = -1;
  } else {
    rc = opcode == NVX_WS_CLOSE ? nvx_ws_close_frame(out, code, payload, n, mask)
                                : nvx_ws_frame(out, opcode, payload, n, mask);
  }
  if (rc != 0) out_of_memory(L);
}

static int l_frame(lua_State *L) {
  nvx_buf *b;
  lua_settop(L, 3); /* kind, payload, code: the box comes after them */
  b = nvx_scratch_push(L); /* this call's own (scratch.h) */
  frame_args(L, 1, NULL, b);
  push_buf(L, b);
  nvx_buf_free(b);
  return 1;
}

/* ---- the parser ---- */

static nvx_ws *check_parser(lua_State *L) { return luaL_checkudata(L, 1, NVX_WS_PARSER_MT); }

static int l_parser(lua_State *L) {
  double max = luaL_optnumber(L, 1, (double)NVX_DEFAULT_MAX_SIZE);
  nvx_ws *ws;
  if (!(max > 0) || max > 1e12) return nvx_raise(L, "navixy: max_message out of range");
  ws = compat_newuserdata(L, sizeof *ws);
  nvx_ws_init(ws, (size_t)max); /* allocates nothing: the metatable can come at once */
  compat_setmetatable(L, NVX_WS_PARSER_MT);
  return 1;
}

static void set_lstring(lua_State *L, const char *name, const char *s, size_t n) {
  lua_pushlstring(L, s, n);
  lua_setfield(L, -2, name);
}

static void push_event(lua_State *L, const nvx_ws_event *ev) {
  static const char *const NAMES[] = {"continuation", "text", "binary", "", "", "", "",
                                      "",             "close", "ping", "pong"};
  lua_createtable(L, 0, 3);
  lua_pushstring(L, ev->type == NVX_WS_ERROR ? "error" : NAMES[ev->type]);
  lua_setfield(L, -2, "type");
  if (ev->type == NVX_WS_ERROR) {
    lua_pushinteger(L, ev->code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, ev->why);
    lua_setfield(L, -2, "description");
  } else if (ev->type == NVX_WS_CLOSE) {
    if (ev->code) {
      lua_pushinteger(L, ev->code);
      lua_setfield(L, -2, "code");
    }
    set_lstring(L, "reason", ev->data, ev->len);
  } else {
    set_lstring(L, "data", ev->data, ev->len);
  }
}

static int p_feed(lua_State *L) {
  nvx_ws *ws = check_parser(L);
  size_t n, at = 0;
  const char *bytes = luaL_checklstring(L, 2, &n);
  int count = 0;
  lua_settop(L, 2); /* the bytes stay referenced while they are parsed */
  lua_newtable(L);
  nvx_buf_reset(&ws->out);
  while (at < n) {
    nvx_ws_event ev;
    size_t used = 0;
    int rc = nvx_ws_next(ws, bytes + at, n - at, &used, &ev);
    at += used;
    if (rc < 0) out_of_memory(L);
    if (rc == 0) break;
    push_event(L, &ev);
    lua_rawseti(L, 3, ++count);
  }
  push_buf(L, &ws->out);
  nvx_buf_reset(&ws->out);
  return 2;
}

/* Frames into a buffer of this call's own, not the parser's out: a
 * finalizer that frames on this parser while p:feed collects its replies
 * there would otherwise lose them. */
static int p_frame(lua_State *L) {
  nvx_ws *ws = check_parser(L);
  nvx_buf *b;
  lua_settop(L, 4); /* p, kind, payload, code: the box comes after them */
  b = nvx_scratch_push(L);
  frame_args(L, 2, ws, b);
  push_buf(L, b);
  nvx_buf_free(b);
  return 1;
}

static int p_gc(lua_State *L) {
  nvx_ws_free(check_parser(L));
  return 0;
}

static int p_tostring(lua_State *L) {
  nvx_ws *ws = check_parser(L);
  lua_pushfstring(L, "navixy.core ws_parser (%s)",
                  ws->failed           ? "failed"
                  : ws->close_received ? "closed"
                  : ws->close_sent     ? "closing"
                                       : "open");
  return 1;
}

static const luaL_Reg PARSER_METHODS[] = {{"feed", p_feed}, {"frame", p_frame}, {NULL, NULL}};

static const luaL_Reg FUNCTIONS[] = {{"ws_handshake", l_handshake},
                                     {"ws_frame", l_frame},
                                     {"ws_accept_ok", l_accept_ok},
                                     {"ws_check_answer", l_check_answer},
                                     {"ws_parser", l_parser},
                                     {NULL, NULL}};

void nvx_ws_register(lua_State *L) {
  static const luaL_Reg PARSER_META[] = {{"__gc", p_gc}, {"__tostring", p_tostring}, {NULL, NULL}};
  nvx_metatable(L, NVX_WS_PARSER_MT, PARSER_METHODS, PARSER_META);
  compat_setfuncs(L, FUNCTIONS, 0);
}
