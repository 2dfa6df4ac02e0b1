/* core.inflater (csrc/inflate.c), as the nginx transport feeds it: pieces
 * of a compressed body, each with what is left of the limit.
 *
 * The input's first byte picks the format (gzip, zlib, raw deflate under
 * Content-Encoding: deflate, or the rest of the input itself as the body),
 * a damage (none, a flipped byte, a cut, bytes after the end) and the
 * limit; the second byte seeds where the body is cut into pieces; the rest
 * is the plain data, compressed here with zlib.
 *
 * Always: feed never raises, hands back at most what the limit allows, and
 * after the stream's end takes no more bytes ("trailing"). An undamaged
 * gzip or zlib body, however cut, inflates to exactly the plain data and
 * is finished. Whatever the body: the inflater never says it finished with
 * data other than the plain data, unless the body was given as it is or
 * was damaged (then it may be data, never more than the limit). */
#include <stdint.h>
#include <zlib.h>
#include "lua_core.h"

enum { GZIP, ZLIB, RAW, AS_IS };
enum { INTACT, FLIP, CUT, TRAILING };

static size_t compress_as(int format, const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  z_stream z;
  int bits = format == GZIP ? 31 : format == ZLIB ? 15 : -15;
  memset(&z, 0, sizeof z);
  CHECK(deflateInit2(&z, 6, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  z.next_in = (Bytef *)(size_t)in;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
  n = z.total_out;
  deflateEnd(&z);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t body[3 * 4096 + 64];
  lua_State *L = core_state();
  int top = lua_gettop(L), format, damage, finished, failed = 0, same = 1, exact;
  size_t n, plain_n, pos = 0, out_n = 0;
  double limit;
  uint32_t seed;
  const uint8_t *plain;
  if (size < 2) return 0;
  format = data[0] & 3;
  damage = (data[0] >> 2) & 3;
  limit = (data[0] & 0x80) ? 64 : 1e9;
  seed = data[1];
  plain = data + 2;
  plain_n = size - 2;
  if (format == AS_IS) {
    memcpy(body, plain, plain_n);
    n = plain_n;
  } else {
    n = compress_as(format, plain, plain_n, body, sizeof body - 16);
  }
  if (damage == FLIP && n > 0) body[seed % n] ^= (uint8_t)(1 + (seed >> 3));
  if (damage == CUT && n > 0) n = seed % n;
  if (damage == TRAILING) {
    memcpy(body + n, "\x1f\x8b trailing", 10);
    n += 10;
  }

  push_core(L, "inflater");
  lua_pushboolean(L, format == RAW || (seed & 1));
  CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK);
  while (pos < n && !failed) {
    size_t piece = 1 + (seed = seed * 1103515245u + 12345u) % 700;
    if (piece > n - pos) piece = n - pos;
    lua_getfield(L, top + 1, "feed");
    lua_pushvalue(L, top + 1);
    lua_pushlstring(L, (const char *)body + pos, piece);
    lua_pushnumber(L, limit - (double)out_n);
    CHECK(lua_pcall(L, 3, 2, 0) == LUA_OK); /* never raises */
    if (lua_isnil(L, -2)) {
      const char *why = lua_tostring(L, -1);
      CHECK(why && (!strcmp(why, "corrupt") || !strcmp(why, "limit") || !strcmp(why, "trailing")));
      failed = 1;
    } else {
      size_t k;
      const char *s = lua_tolstring(L, -2, &k);
      CHECK(s != NULL && (double)(out_n + k) <= limit);
      /* compared as it comes: what came out so far is a prefix of the plain data */
      if (same && (out_n + k > plain_n || memcmp(s, plain + out_n, k) != 0)) same = 0;
      out_n += k;
    }
    lua_pop(L, 2);
    pos += piece;
  }
  lua_getfield(L, top + 1, "finished");
  lua_pushvalue(L, top + 1);
  CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK);
  finished = lua_toboolean(L, -1);
  exact = same && out_n == plain_n;
  if ((format == GZIP || format == ZLIB) && damage == INTACT && limit > 1e6) CHECK(!failed && finished && exact);
  if (finished && !failed && format != AS_IS && damage == INTACT && limit > 1e6) CHECK(exact);
  if (finished && damage == TRAILING && format != AS_IS) CHECK(failed); /* the bytes after: refused */
  lua_settop(L, top);
  return 0;
}
