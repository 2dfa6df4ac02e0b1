#include "transfer_lua.h"

/* Pushes the body's bytes, which are then taken out of the transfer. */
static void push_body(lua_State *L, nvx_transfer *t, int chunk) {
  lua_pushlstring(L, t->reply.body.data ? t->reply.body.data : "", t->reply.body.len);
  nvx_transfer_body_taken(t, chunk);
}

static void set_string(lua_State *L, const char *name, const char *value) {
  if (!value || !*value) return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

int nvx_transfer_push_chunk(lua_State *L, nvx_transfer *t) {
  lua_createtable(L, 0, 1);
  push_body(L, t, 1);
  lua_setfield(L, -2, "chunk");
  return 1;
}

int nvx_transfer_push_result(lua_State *L, nvx_transfer *t) {
  nvx_failure f;
  if (t->rc == CURLE_OK) {
    double wait = nvx_retry_after_seconds(t->reply.retry_after);
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, (lua_Integer)nvx_transfer_status(t));
    lua_setfield(L, -2, "status");
    if (t->reply.streaming) {
      lua_pushinteger(L, (lua_Integer)(t->streamed + (double)t->reply.body.len));
      lua_setfield(L, -2, "streamed");
    }
    push_body(L, t, 0);
    lua_setfield(L, -2, "body");
    if (wait >= 0) {
      lua_pushnumber(L, wait);
      lua_setfield(L, -2, "retry_after");
    }
    set_string(L, "content_type", t->reply.content_type);
    set_string(L, "disposition", t->reply.disposition);
    nvx_transfer_finish(t);
    return 1;
  }
  nvx_transfer_finish(t);
  nvx_transfer_failure(t, &f);
  lua_createtable(L, 0, 3);
  set_string(L, "kind", f.kind);
  set_string(L, "message", f.message);
  set_string(L, "phase", f.phase);
  return 1;
}
