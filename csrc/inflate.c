#include "inflate.h"

#include <lauxlib.h>
#include <string.h>
#include <zlib.h>

#include "util/buffer.h"
#include "raise.h"
#include "compat.h"
#include "metatable.h"

#define INFLATER_MT "navixy.core.inflater"

typedef struct inflater {
  z_stream z;
  int ready;    /* inflateInit2 succeeded: inflateEnd is owed */
  int finished; /* Z_STREAM_END seen */
  int raw_ok;   /* "deflate": a stream without zlib's header may still be raw deflate */
  nvx_buf out;  /* what one feed inflates; kept for the next */
} inflater;

int nvx_inflater_new(lua_State *L) {
  int deflate = lua_toboolean(L, 1);
  inflater *f = compat_newuserdata(L, sizeof *f);
  memset(f, 0, sizeof *f);
  f->raw_ok = deflate;
  /* 15 + 32: the largest window, gzip or zlib header detected */
  if (inflateInit2(&f->z, 15 + 32) != Z_OK) return nvx_raise(L, "navixy: out of memory (inflate)");
  f->ready = 1;
  compat_setmetatable(L, INFLATER_MT); /* only now can __gc see it */
  return 1;
}

static int push_failure(lua_State *L, const char *why) {
  lua_pushnil(L);
  lua_pushstring(L, why);
  return 2;
}

static int feed(lua_State *L) {
  inflater *f = luaL_checkudata(L, 1, INFLATER_MT);
  size_t n;
  const char *in = luaL_checklstring(L, 2, &n);
  double max = luaL_checknumber(L, 3);
  int first;
  if (!f->ready) return nvx_raise(L, "navixy: the inflater is closed");
  /* one stream, one member: bytes after its end are not ours to drop (libcurl refuses them too) */
  if (f->finished && n > 0) return push_failure(L, "trailing");
  first = f->z.total_in == 0; /* all zlib read so far is in this piece */
  nvx_buf_reset(&f->out);
  f->z.next_in = (Bytef *)(size_t)in; /* zlib reads it, never writes */
  f->z.avail_in = (uInt)n;
  while (!f->finished) {
    size_t room;
    int rc;
    if (nvx_buf_reserve(&f->out, 64 * 1024)) return nvx_raise(L, "navixy: out of memory (inflate)");
    room = f->out.cap - 1 - f->out.len;
    f->z.next_out = (Bytef *)f->out.data + f->out.len;
    f->z.avail_out = (uInt)room;
    rc = inflate(&f->z, Z_NO_FLUSH);
    f->out.len += room - f->z.avail_out;
    if (rc == Z_DATA_ERROR && f->raw_ok && first && f->z.total_out == 0) {
      /* Content-Encoding: deflate sent as raw deflate (RFC 1951, no zlib header), as some
       * servers do and libcurl accepts: this piece again from its start, read as that */
      f->raw_ok = 0;
      if (inflateReset2(&f->z, -15) != Z_OK) return push_failure(L, "corrupt");
      f->z.next_in = (Bytef *)(size_t)in;
      f->z.avail_in = (uInt)n;
      continue;
    }
    if (rc == Z_STREAM_END) {
      f->finished = 1;
      if (f->z.avail_in > 0) return push_failure(L, "trailing");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return push_failure(L, "corrupt");
    }
    if ((double)f->out.len > max) return push_failure(L, "limit");
    /* input used up and room left over: the next piece is needed */
    if (rc == Z_BUF_ERROR || (f->z.avail_in == 0 && f->z.avail_out > 0)) break;
  }
  lua_pushlstring(L, f->out.data ? f->out.data : "", f->out.len);
  if (f->out.cap > 256 * 1024) nvx_buf_free(&f->out);
  return 1;
}

/* :reset([deflate]) -> the inflater, ready for a new stream as
 * core.inflater(deflate) makes one, zlib's state and window kept */
static int reset(lua_State *L) {
  inflater *f = luaL_checkudata(L, 1, INFLATER_MT);
  if (!f->ready) return nvx_raise(L, "navixy: the inflater is closed");
  if (inflateReset2(&f->z, 15 + 32) != Z_OK) return nvx_raise(L, "navixy: inflater reset failed");
  f->finished = 0;
  f->raw_ok = lua_toboolean(L, 2);
  lua_settop(L, 1);
  return 1;
}

static int finished(lua_State *L) {
  inflater *f = luaL_checkudata(L, 1, INFLATER_MT);
  lua_pushboolean(L, f->finished);
  return 1;
}

static int gc(lua_State *L) {
  inflater *f = luaL_checkudata(L, 1, INFLATER_MT);
  if (f->ready) inflateEnd(&f->z);
  f->ready = 0;
  nvx_buf_free(&f->out);
  return 0;
}

void nvx_inflate_register(lua_State *L) {
  static const luaL_Reg methods[] = {{"feed", feed}, {"finished", finished}, {"reset", reset}, {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__gc", gc}, {NULL, NULL}};
  nvx_metatable(L, INFLATER_MT, methods, meta);
}
