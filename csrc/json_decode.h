/* JSON text to Lua values, for API answers: one pass, no copy of the text.
 *
 * Why not lua-cjson alone: it reads every number as a float, so on Lua 5.3+
 * ids came out as 7.0 until a second pass over the whole answer made them
 * integers again; here integral numbers are integers as they are read, and
 * integers skip strtod. Objects become tables with string keys (and no
 * metatable), arrays tables 1..n with the array metatable (see
 * nvx_decoding: so that an empty one encodes as [] again), null the light
 * userdata NULL (navixy.null, which is cjson.null), numbers in int64 range
 * without fraction integers (Lua 5.3+), others floats; or, in exact mode,
 * every number a table { "<its text as written>" } with the number
 * metatable.
 *
 * Strict RFC 8259: no NaN, Infinity, hex, leading zeros or trailing commas
 * (lua-cjson accepts those); raw control characters inside strings are
 * kept, as lua-cjson keeps them. Nesting is capped at NVX_DECODE_MAX_DEPTH. */
#ifndef NAVIXY_JSON_DECODE_H
#define NAVIXY_JSON_DECODE_H

#include <stddef.h>
#include <lua.h>

#define NVX_DECODE_MAX_DEPTH 1000

/* Short strings decoded lately (keys and short values: answers repeat them
 * all the time), so that they are pushed from a table instead of being
 * hashed, looked up and allocated again. The strings live in a Lua table,
 * slot i at index i + 1; these are their bytes, to compare with. One cache
 * serves every decode, a decode run by a finalizer in the middle of
 * another included: a slot is marked empty before anything that may run
 * the collector, and filled (table, then bytes) only after it. */
#define NVX_CACHE_SLOTS 256
#define NVX_CACHE_LEN 32

#define NVX_PLACES 512 /* places in an answer told apart: a power of two */

typedef struct nvx_strcache {
  unsigned char len[NVX_CACHE_SLOTS]; /* 0: an empty slot */
  char text[NVX_CACHE_SLOTS][NVX_CACHE_LEN + 8]; /* the string, then '"' */
  /* the keys of objects seen last: the slot of the key after the one in
   * slot i, and of the first key of the object at place j (a hash of its
   * path in the answer) */
  unsigned char next[NVX_CACHE_SLOTS];
  unsigned char first[NVX_PLACES];
  unsigned char keyed[NVX_CACHE_SLOTS]; /* 1: slot i holds a key */
} nvx_strcache;

/* What a decode uses besides the text: stack indices (0: none) of the
 * metatable given to arrays, of the number metatable (not 0: exact mode),
 * and of the table holding the cache's strings (with `cache`, or NULL). */
typedef struct nvx_decoding {
  int array_mt;
  int number_mt;
  nvx_strcache *cache;
  int cache_table;
} nvx_decoding;

/* Decodes text[0..n) (the whole of it: trailing non-space is an error).
 * On success pushes the value and returns 1. On invalid JSON pushes nothing,
 * sets *why (a static message) and *at (byte offset), and returns 0. Raises
 * only when memory or the Lua stack runs out; it holds no memory of its own
 * then (strings with escapes are unescaped on the C stack or in a userdata). */
int nvx_json_decode(lua_State *L, const char *text, size_t n, const nvx_decoding *d,
                    const char **why, size_t *at);

/* Pushes the JSON number at the start of s[0..n) as nvx_json_decode
 * pushes one (not in exact mode) and returns 1; 0, nothing pushed, if
 * there is none. For lazy answers, which read their numbers one by one. */
int nvx_json_push_number(lua_State *L, const char *s, size_t n);

/* The length of the JSON number at the start of s[0..n), 0 if there is
 * none: the grammar the decoder reads numbers with, for the encoder to
 * check number texts against. */
size_t nvx_json_number_length(const char *s, size_t n);

#endif
