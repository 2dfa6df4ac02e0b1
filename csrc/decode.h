/* JSON text to Lua values, for API answers: one pass, no copy of the text.
 *
 * Why not lua-cjson alone: it reads every number as a float, so on Lua 5.3+
 * ids came out as 7.0 until a second pass over the whole answer made them
 * integers again; here integral numbers are integers as they are read, and
 * integers skip strtod. Objects become tables with string keys, arrays
 * tables 1..n (an empty one an empty table, as lua-cjson makes it), null
 * the light userdata NULL (navixy.null, which is cjson.null), numbers in
 * int64 range without fraction integers (Lua 5.3+), others floats.
 *
 * Strict RFC 8259: no NaN, Infinity, hex, leading zeros or trailing commas
 * (lua-cjson accepts those); raw control characters inside strings are
 * kept, as lua-cjson keeps them. Nesting is capped at NVX_DECODE_MAX_DEPTH. */
#ifndef NAVIXY_DECODE_H
#define NAVIXY_DECODE_H

#include <stddef.h>
#include <lua.h>
#include "buffer.h"

#define NVX_DECODE_MAX_DEPTH 1000

/* Short strings decoded lately (keys and short values: answers repeat them
 * all the time), so that they are pushed from a table instead of being
 * hashed, looked up and allocated again. The strings live in a Lua table,
 * slot i at index i + 1; these are their bytes, to compare with. */
#define NVX_CACHE_SLOTS 256
#define NVX_CACHE_LEN 32

typedef struct nvx_strcache {
  unsigned char len[NVX_CACHE_SLOTS]; /* 0: an empty slot */
  char text[NVX_CACHE_SLOTS][NVX_CACHE_LEN];
} nvx_strcache;

/* Decodes text[0..n) (the whole of it: trailing non-space is an error).
 * On success pushes the value and returns 1. On invalid JSON pushes nothing,
 * sets *why (a static message) and *at (byte offset), and returns 0. Raises
 * only when memory or the Lua stack runs out. `scratch` is a buffer the
 * caller keeps (so nothing leaks when that happens), used for strings with
 * escapes. `cache` may be NULL; if not, the table holding its strings must
 * be at the top of the stack (and stays there). */
int nvx_json_decode(lua_State *L, const char *text, size_t n, nvx_buf *scratch,
                    nvx_strcache *cache, const char **why, size_t *at);

#endif
