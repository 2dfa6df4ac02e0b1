#include "json_decode.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "util/escape.h"
#include "util/inline.h"
#include "util/json_scan.h"

/* Parse functions return 1 after pushing one value, or 0 after setting
 * ps->why (ps->p then marks where). The caller of the first one resets the
 * stack on failure, so partial tables need no cleanup here. */
typedef struct parser {
  lua_State *L;
  const char *p, *end;
  const char *why;
  int depth;
  int room; /* the stack index up to which room is made (see enter) */
  int array_mt;  /* stack index of the arrays' metatable, or 0 */
  int number_mt; /* stack index of the number metatable: exact mode; or 0 */
  nvx_strcache *cache;
  int cache_index; /* stack index of the cache's table */
  unsigned key;    /* the cache slot of the string parse_string read last */
  unsigned sizes[NVX_PLACES]; /* see "Sizes" below */
} parser;

static int fail(parser *ps, const char *why) {
  ps->why = why;
  return 0;
}

static inline void skip_space(parser *ps) { ps->p = nvx_json_space(ps->p, ps->end); }

static inline int take(parser *ps, char c) { return nvx_json_take(&ps->p, ps->end, c); }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_container(parser *ps, unsigned place);

/* ---- numbers ---- */

/* A float, or the equal integer when it is integral and fits (Lua 5.3+). */
static void push_float(lua_State *L, lua_Number d) {
  lua_Integer i;
  if (compat_numbertointeger(d, &i) && (lua_Number)i == d) {
    lua_pushinteger(L, i);
    return;
  }
  lua_pushnumber(L, d);
}

/* The general case (fraction, exponent, 19 digits or more): Lua's own
 * numeral conversion, which does not depend on the C locale. */
static int push_numeral(parser *ps, const char *s, size_t n) {
  lua_State *L = ps->L;
#if LUA_VERSION_NUM >= 503
  char buf[64];
  if (n < sizeof buf) {
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (lua_stringtonumber(L, buf) == 0) return fail(ps, "invalid number");
    if (!lua_isinteger(L, -1)) {
      lua_Number d = lua_tonumber(L, -1);
      lua_pop(L, 1);
      push_float(L, d);
    }
    return 1;
  }
#endif
  {
    lua_Number d;
    lua_pushlstring(L, s, n);
    if (lua_isnumber(L, -1)) {
      d = lua_tonumber(L, -1);
    } else {
      /* LuaJIT gives up on exponents of many digits; strtod does not (the
       * text is a valid JSON number, so it ends where strtod stops) */
      d = (lua_Number)strtod(lua_tostring(L, -1), NULL);
    }
    lua_pop(L, 1);
    push_float(L, d);
    return 1;
  }
}

/* Exactly representable powers of ten: a decimal with at most 15
 * significant digits times or over one of these is one correctly rounded
 * IEEE operation on two exact values, the same double strtod gives. */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The number with its digits at [int_start, int_end) and [frac_start,
 * frac_end), times 10^exp: 1 and *out when the fast path applies. */
static int small_decimal(const char *int_start, const char *int_end, const char *frac_start,
                         const char *frac_end, long exp, double *out) {
  long long m = 0;
  int significant = 0;
  const char *q;
  for (q = int_start; q < frac_end; q++) {
    if (q == int_end) q = frac_start; /* past the '.' (when there is one) */
    if (q == frac_end) break;
    if (significant || *q != '0') significant++;
    if (significant > 15) return 0; /* m stays below 10^15 < 2^53 */
    m = m * 10 + (*q - '0');
  }
  exp -= (long)(frac_end - frac_start);
  if (exp < -22 || exp > 22) return 0;
  *out = exp < 0 ? (double)m / POW10[-exp] : (double)m * POW10[exp];
  return 1;
}

/* Where the parts of a number are, and its exponent (capped: exp_big). */
typedef struct number_parts {
  const char *digits, *int_end, *frac, *frac_end;
  long exp;
  int has_exp, exp_big;
} number_parts;

/* Reads the number at s by the RFC 8259 grammar: its end, or NULL. */
static const char *scan_number(const char *s, const char *end, number_parts *np) {
  const char *p = s;
  np->exp = 0;
  np->has_exp = np->exp_big = 0;
  if (p < end && *p == '-') p++;
  np->digits = p;
  if (p < end && *p == '0') {
    p++;
  } else if (p < end && *p >= '1' && *p <= '9') {
    while (p < end && is_digit(*p)) p++;
  } else {
    return NULL;
  }
  np->int_end = np->frac = np->frac_end = p; /* no fraction: an empty one */
  if (p < end && *p == '.') {
    np->frac = ++p;
    if (p >= end || !is_digit(*p)) return NULL;
    while (p < end && is_digit(*p)) p++;
    np->frac_end = p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    int exp_neg = 0;
    np->has_exp = 1;
    p++;
    if (p < end && (*p == '+' || *p == '-')) exp_neg = *p++ == '-';
    if (p >= end || !is_digit(*p)) return NULL;
    for (; p < end && is_digit(*p); p++) {
      if (np->exp < 100000) np->exp = np->exp * 10 + (*p - '0');
      else np->exp_big = 1;
    }
    if (exp_neg) np->exp = -np->exp;
  }
  return p;
}

size_t nvx_json_number_length(const char *s, size_t n) {
  number_parts np;
  const char *end = scan_number(s, s + n, &np);
  return end ? (size_t)(end - s) : 0;
}

/* Exact mode: { "<text>" } with the number metatable. */
static int push_number_text(parser *ps, const char *s, size_t n) {
  lua_State *L = ps->L;
  lua_createtable(L, 1, 0);
  lua_pushlstring(L, s, n);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, ps->number_mt);
  lua_setmetatable(L, -2);
  return 1;
}

/* The value of the digits 0..9 in the eight bytes of x, the first byte
 * the highest digit (SWAR: pairs, then fours, then the eight). */
static inline uint64_t eight_digits(uint64_t x) {
  x = x * 10 + (x >> 8);
  return ((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)) +
          ((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32))) >> 32;
}

static const uint64_t POW10_INT[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

/* p past the decimal digits at p, their value added to *v (times ten a
 * digit: past 19 digits it wraps, and the caller refuses so many). Eight
 * bytes at a time where the bytes' order is known: ids and coordinates
 * are most numbers of an answer, of 2 to 9 digits. */
static inline const char *read_digits(const char *p, const char *end, unsigned long long *v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
  while (end - p >= 8) {
    uint64_t x, other;
    unsigned k;
    memcpy(&x, p, 8);
    x ^= 0x3030303030303030ULL; /* digits are the bytes 0..9 now */
    /* the high bit of each byte that is not 0..9 (no carry crosses bytes) */
    other = (((x & 0x7F7F7F7F7F7F7F7FULL) + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL;
    if (!other) {
      *v = *v * 100000000u + eight_digits(x);
      p += 8;
      continue;
    }
    k = (unsigned)__builtin_ctzll(other) >> 3; /* the digits before the first other byte */
    if (k) *v = *v * POW10_INT[k] + eight_digits(x << (64 - 8 * k));
    return p + k;
  }
#endif
  while (p < end && is_digit(*p)) *v = *v * 10 + (unsigned)(*p++ - '0');
  return p;
}

/* Most numbers of an answer are ids and coordinates: a plain integer of at
 * most 18 digits, or a decimal of at most 15 digits without exponent (the
 * fast path of small_decimal, to the same double), read here in one pass;
 * 0 (nothing pushed) for any other number, which the general path reads
 * (and rejects where it is not JSON). */
static NVX_ALWAYS_INLINE int plain_number(parser *ps) {
  const char *s = ps->p, *p = s, *end = ps->end, *digits, *frac;
  unsigned long long v = 0; /* wraps only past 19 digits, which are refused */
  if (p < end && *p == '-') p++;
  digits = p;
  if (p < end && *p == '0') {
    p++;
  } else {
    p = read_digits(p, end, &v);
    if (p == digits || p - digits > 18) return 0;
  }
  if (p < end && *p == '.') {
    double d;
    frac = ++p;
    p = read_digits(p, end, &v);
    if (p == frac || (frac - 1 - digits) + (p - frac) > 15) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) return 0;
    ps->p = p;
    d = (double)v / POW10[p - frac];
    push_float(ps->L, *s == '-' ? -d : d);
    return 1;
  }
  if (p < end && (*p == 'e' || *p == 'E' || is_digit(*p))) return 0;
  ps->p = p;
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(ps->L, *s == '-' ? -(lua_Integer)v : (lua_Integer)v);
#else
  lua_pushnumber(ps->L, (lua_Number)(*s == '-' ? -(long long)v : (long long)v)); /* rounded once, as strtod would */
#endif
  return 1;
}

/* Any other number (plain_number read none); or every one, in exact mode. */
static int parse_number(parser *ps) {
  number_parts np;
  const char *s, *p;
  s = ps->p;
  p = scan_number(s, ps->end, &np);
  if (!p) return fail(ps, "invalid number");
  ps->p = p;
  if (ps->number_mt) return push_number_text(ps, s, (size_t)(p - s));
  {
    double d;
    if (!np.exp_big && small_decimal(np.digits, np.int_end, np.frac, np.frac_end, np.exp, &d)) {
      push_float(ps->L, *s == '-' ? -d : d);
      return 1;
    }
  }
  return push_numeral(ps, s, (size_t)(p - s));
}

/* ---- strings ---- */

/* Strings with escapes up to this long are unescaped on the C stack. */
#define UNESCAPE_ON_STACK 256

/* The string with escapes, from `p` (the first backslash) on; `s` is its
 * start. Unescaped into memory of this call's own (a finalizer that runs
 * at the lua_pushlstring below, before the bytes are copied on LuaJIT, may
 * decode too): on the C stack, or in a userdata kept on the Lua stack until
 * the string is made. Not a luaL_Buffer: abandoning one on a syntax error
 * is unsafe in Lua 5.4.4 (its box is a to-be-closed slot, and lua_settop
 * over it can leave a stale stack top). */
static int parse_escaped(parser *ps, const char *s, const char *p) {
  const char *end = ps->end, *q, *why;
  char local[UNESCAPE_ON_STACK], *out, *o;
  size_t bound;
  ps->key = 0; /* keys with escapes share a place with "" */
  /* Unescaped, the string is no longer than it is written up to its
   * closing quote (the first one no backslash escapes). */
  for (q = p; q < end && *q != '"'; q++)
    if (*q == '\\') q++;
  bound = (size_t)((q < end ? q : end) - s);
  out = bound <= sizeof local ? local : compat_newuserdata(ps->L, bound);
  memcpy(out, s, (size_t)(p - s));
  o = out + (p - s);
  while (p < end) {
    const char *run = p;
    size_t len, wrote;
    while (p < end && *p != '"' && *p != '\\') p++;
    memcpy(o, run, (size_t)(p - run));
    o += p - run;
    if (p >= end) break;
    if (*p == '"') {
      lua_pushlstring(ps->L, out, (size_t)(o - out));
      if (out != local) lua_remove(ps->L, -2); /* the userdata */
      ps->p = p + 1;
      return 1;
    }
    if (p + 1 >= end) break;
    len = nvx_json_escape(p, end, o, &wrote, &why);
    if (!len) {
      ps->p = p + 1;
      return fail(ps, why);
    }
    p += len;
    o += wrote;
  }
  ps->p = end;
  return fail(ps, "unterminated string");
}

/* Whether cached text a (NVX_CACHE_LEN + 8 bytes) starts with s[0..n), of
 * which `avail` bytes (at least n) may be read: eight bytes at a time,
 * inline (these strings are short: a call to memcmp costs more than the
 * comparison); the last few bytes as the last eight (overlapping), or as
 * one masked word where the bytes' order is known. */
static inline int same_text(const char *a, const char *s, size_t n, size_t avail) {
  uint64_t x, y;
  if (n >= 8) {
    size_t i;
    for (i = 0; i + 8 <= n; i += 8) {
      memcpy(&x, a + i, 8);
      memcpy(&y, s + i, 8);
      if (x != y) return 0;
    }
    if (i == n) return 1;
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, s + n - 8, 8);
    return x == y;
  }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (avail >= 8) {
    memcpy(&x, a, 8);
    memcpy(&y, s, 8);
    return ((x ^ y) & ((1ULL << (8 * n)) - 1)) == 0; /* the low n bytes: s[0..n) */
  }
#endif
  (void)avail;
  for (; n > 0; n--)
    if (*a++ != *s++) return 0;
  return 1;
}

/* The cache slot of s[0..n) (n > 0), of which `avail` bytes may be read:
 * its first and last eight bytes (or all of it), multiplied apart. Keys
 * differ little ("checkin_id", "task_id"): a hash of a few of their bytes
 * put several of one answer's keys in one slot. */
static inline unsigned slot_of(const char *s, size_t n, size_t avail) {
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    memcpy(&a, s, 8);
    memcpy(&b, s + n - 8, 8);
  } else {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (avail >= 8) {
      memcpy(&a, s, 8);
      a &= (1ULL << (8 * n)) - 1;
    } else
#endif
    {
      size_t i;
      for (i = 0; i < n; i++) a = a << 8 | (unsigned char)s[i];
    }
  }
  (void)avail;
  a = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ n;
  return (unsigned)((a * 0x9E3779B97F4A7C15ULL) >> 56) % NVX_CACHE_SLOTS;
}

/* Whether cache slot `slot` holds s[0..n). */
static inline int cached(parser *ps, unsigned slot, const char *s, size_t n) {
  return ps->cache->len[slot] == n &&
         same_text(ps->cache->text[slot], s, n, (size_t)(ps->end - s));
}

/* Pushes s[0..n), from the cache when it is there (see json_decode.h).
 * A string has two slots, a pair (i and i ^ 1): the keys of an object
 * that share one still both stay. A key takes a slot no key holds, or the
 * first if both do; a value only a slot no key holds: the values of an
 * answer (times, labels) are mostly each new, and would otherwise push
 * out the keys every object repeats. */
static void push_short(parser *ps, const char *s, size_t n, int is_key) {
  lua_State *L = ps->L;
  nvx_strcache *c = ps->cache;
  unsigned slot;
  int hit;
  if (n == 0) {
    ps->key = 0;
    lua_pushlstring(L, s, n);
    return;
  }
  slot = slot_of(s, n, (size_t)(ps->end - s));
  ps->key = slot;
  if (!c || n > NVX_CACHE_LEN) {
    lua_pushlstring(L, s, n);
    return;
  }
  hit = cached(ps, slot, s, n);
  if (!hit && cached(ps, slot ^ 1, s, n)) {
    slot ^= 1;
    hit = 1;
  }
  if (hit) {
    ps->key = slot;
    lua_rawgeti(L, ps->cache_index, (int)slot + 1);
    return;
  }
  if (c->keyed[slot]) slot ^= 1;
  if (c->keyed[slot]) {
    slot ^= 1;
    if (!is_key) {
      lua_pushlstring(L, s, n);
      return;
    }
  }
  ps->key = slot;
  c->len[slot] = 0; /* empty while lua_pushlstring may run a finalizer that decodes */
  lua_pushlstring(L, s, n);
  lua_pushvalue(L, -1);
  lua_rawseti(L, ps->cache_index, (int)slot + 1);
  memcpy(c->text[slot], s, n);
  c->text[slot][n] = '"'; /* for parse_key, which compares up to the quote */
  c->len[slot] = (unsigned char)n;
  c->keyed[slot] = (unsigned char)is_key;
}

/* ps->p is at the opening quote. Strings without escapes, nearly all of
 * them, are pushed straight from the text. */
static int parse_string(parser *ps, int is_key) {
  const char *s = ps->p + 1;
  const char *stop = nvx_json_quote_or_backslash(s, ps->end);
  if (stop >= ps->end) {
    ps->p = ps->end;
    return fail(ps, "unterminated string");
  }
  if (*stop == '\\') return parse_escaped(ps, s, stop);
  push_short(ps, s, (size_t)(stop - s), is_key);
  ps->p = stop + 1;
  return 1;
}

/* ---- containers ---- */

/* A container takes up to LEVEL stack slots above `base`, the stack's
 * top where it starts (its table, a key and a value; gathering makes room
 * of its own). Where the room made stays (compat.h), it is made for
 * several levels at once: lua_checkstack costs about as much as reading a
 * small object. */
#define LEVEL 4
#define ROOM (COMPAT_ROOM_STAYS ? 8 * LEVEL : LEVEL)

static int enter(parser *ps, int base) {
  if (++ps->depth > NVX_DECODE_MAX_DEPTH) return fail(ps, "nested too deep");
  if (base + LEVEL > ps->room) {
    luaL_checkstack(ps->L, ROOM, "navixy: JSON nested too deep");
    if (COMPAT_ROOM_STAYS) ps->room = base + ROOM;
  }
  ps->p++; /* the bracket */
  skip_space(ps);
  return 1;
}

/* Sizes: answers are lists of objects alike, so a container is made at
 * the member count of the one parsed last in the same place, in one
 * allocation: filled one member at a time, a table is rehashed at every
 * power of two, most of the cost of decoding. A place is a hash of its path
 * (the keys and array levels above it) into ps->sizes, 0 where nothing
 * was parsed yet; a collision or a list of unlike objects only costs a
 * resize or spare slots, no more than the container before took. */
#define PLACE(parent, key) (((parent) * 31u + (key) + 1u) & (NVX_PLACES - 1))
#define ELEMENT (NVX_CACHE_SLOTS + 1) /* the "key" of an array's elements */
#define MAX_SIZE (1u << 20)           /* sizes kept: beyond, a table grows */

/* Where a place has no size yet, the first GATHER members of a container
 * wait on the stack, so that its table is made at their count. Only near
 * the top (depth <= GATHER_DEPTH), so that deep nesting cannot pile up more
 * than GATHER * GATHER_DEPTH * 2 slots. */
#define GATHER 32
#define GATHER_DEPTH 64

/* Pushes the table of a container at `place`: 1 if its members are to be
 * gathered on the stack first (nothing pushed then). */
static int open_table(parser *ps, unsigned place, int pairs) {
  unsigned size = ps->sizes[place];
  if (size) {
    lua_createtable(ps->L, pairs ? 0 : (int)size, pairs ? (int)size : 0);
    return 0;
  }
  if (ps->depth <= GATHER_DEPTH) {
    luaL_checkstack(ps->L, 2 * GATHER + 4, "navixy: JSON nested too deep");
    return 1;
  }
  lua_newtable(ps->L);
  return 0;
}

/* A container of n members at `place` is complete. */
static void close_table(parser *ps, unsigned place, unsigned n) {
  ps->sizes[place] = n <= MAX_SIZE ? n : 0;
  ps->p++;
  ps->depth--;
}

/* Makes the table for the n members gathered above `base` (values, or key
 * and value pairs), with room for `more`; leaves it alone above base. */
static void make_table(lua_State *L, int base, int n, int pairs, int more) {
  int i;
  if (pairs) {
    lua_createtable(L, 0, n + more);
    for (i = 0; i < n; i++) {
      lua_pushvalue(L, base + 2 * i + 1);
      lua_pushvalue(L, base + 2 * i + 2);
      lua_rawset(L, -3); /* in order: of repeated keys the last one wins */
    }
  } else {
    lua_createtable(L, n + more, 0);
    for (i = 0; i < n; i++) {
      lua_pushvalue(L, base + i + 1);
      lua_rawseti(L, -2, i + 1);
    }
  }
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
}

/* The array at the top of the stack gets the arrays' metatable. */
static int mark_array(parser *ps) {
  if (ps->array_mt) {
    lua_pushvalue(ps->L, ps->array_mt);
    lua_setmetatable(ps->L, -2);
  }
  return 1;
}

static int literal(parser *ps, const char *word, size_t n) {
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return fail(ps, "invalid value");
  ps->p += n;
  return 1;
}

/* ps->p is at the first character of a value (no space before it). */
static NVX_ALWAYS_INLINE int parse_value(parser *ps, unsigned place) {
  lua_State *L = ps->L;
  if (ps->p >= ps->end) return fail(ps, "expected a value");
  switch (*ps->p) {
  case '{':
  case '[': return parse_container(ps, place);
  case '"': return parse_string(ps, 0);
  case 't':
    if (!literal(ps, "true", 4)) return 0;
    lua_pushboolean(L, 1);
    return 1;
  case 'f':
    if (!literal(ps, "false", 5)) return 0;
    lua_pushboolean(L, 0);
    return 1;
  case 'n':
    if (!literal(ps, "null", 4)) return 0;
    lua_pushlightuserdata(L, NULL);
    return 1;
  default:
    if (*ps->p == '-' || is_digit(*ps->p))
      return (!ps->number_mt && plain_number(ps)) || parse_number(ps);
    return fail(ps, "invalid value");
  }
}

static int parse_array(parser *ps, unsigned place) {
  lua_State *L = ps->L;
  int base = lua_gettop(L), n = 0, gathering;
  unsigned element = PLACE(place, ELEMENT);
  if (!enter(ps, base)) return 0;
  gathering = open_table(ps, place, 0);
  if (ps->p < ps->end && *ps->p == ']') {
    if (gathering) lua_newtable(L);
    close_table(ps, place, 0);
    return mark_array(ps);
  }
  for (;;) {
    if (!parse_value(ps, element)) return 0;
    n++;
    if (!gathering) {
      lua_rawseti(L, -2, n);
    } else if (n == GATHER) {
      make_table(L, base, n, 0, n);
      gathering = 0;
    }
    if (!take(ps, ',')) {
      if (ps->p >= ps->end) return fail(ps, "unterminated array");
      if (*ps->p == ']') break;
      return fail(ps, "expected ',' or ']'");
    }
    skip_space(ps);
  }
  if (gathering) make_table(L, base, n, 0, 0);
  close_table(ps, place, (unsigned)n);
  return mark_array(ps);
}

/* Whether the key at s (past its opening quote), of which `avail` bytes
 * may be read, is the cached text a (its string and a quote, m bytes in
 * all): keys are short, so up to 16 bytes are compared as two words at
 * most (a masked one up to 8, or the first and last eight). */
static inline int same_key(const char *a, const char *s, size_t m, size_t avail) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (m <= 16 && avail >= 16) {
    uint64_t x, y, z, w;
    memcpy(&x, a, 8);
    memcpy(&y, s, 8);
    if (m <= 8) return ((x ^ y) & (~0ULL >> (64 - 8 * m))) == 0; /* the low m bytes */
    memcpy(&z, a + m - 8, 8);
    memcpy(&w, s + m - 8, 8);
    return ((x ^ y) | (z ^ w)) == 0;
  }
#endif
  return m <= avail && same_text(a, s, m, avail);
}

/* The keys of an object are nearly always those of the object before, in
 * the same order: after the key in cache slot k, the one in slot next[k]
 * is tried first, one
 * comparison instead of finding the closing quote and hashing; the first
 * key is tried from first[place]. The cached
 * text has neither quote nor backslash, so equal bytes followed by a quote
 * are that string. A guess, kept from one decode to the next, is only
 * ever compared with. */
static int parse_key(parser *ps, unsigned place, int n_before, unsigned *after) {
  nvx_strcache *c = ps->cache;
  const char *s = ps->p + 1;
  unsigned char *guess = NULL;
  if (c) {
    unsigned slot;
    size_t n;
    guess = n_before ? &c->next[*after] : &c->first[place];
    slot = *guess;
    n = c->len[slot];
    if (n && same_key(c->text[slot], s, n + 1, (size_t)(ps->end - s))) {
      lua_rawgeti(ps->L, ps->cache_index, (int)slot + 1);
      ps->p = s + n + 1;
      ps->key = *after = slot;
      return 1;
    }
  }
  if (!parse_string(ps, 1)) return 0;
  if (guess) *guess = (unsigned char)ps->key;
  *after = ps->key;
  return 1;
}

static int parse_object(parser *ps, unsigned place) {
  lua_State *L = ps->L;
  int base = lua_gettop(L), n = 0, gathering;
  unsigned after = 0;
  if (!enter(ps, base)) return 0;
  gathering = open_table(ps, place, 1);
  if (ps->p < ps->end && *ps->p == '}') {
    if (gathering) lua_newtable(L);
    close_table(ps, place, 0);
    return 1;
  }
  if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a string key");
  for (;;) {
    if (!parse_key(ps, place, n, &after)) return 0;
    if (!take(ps, ':')) return fail(ps, "expected ':'");
    skip_space(ps);
    if (!parse_value(ps, PLACE(place, ps->key))) return 0;
    n++;
    if (!gathering) {
      lua_rawset(L, -3); /* a repeated key: the last one wins */
    } else if (n == GATHER) {
      make_table(L, base, n, 1, n);
      gathering = 0;
    }
    if (ps->end - ps->p > 1 && ps->p[0] == ',' && ps->p[1] == '"') {
      ps->p++; /* most members: the next key right after the comma */
      continue;
    }
    if (!take(ps, ',')) {
      if (ps->p >= ps->end) return fail(ps, "unterminated object");
      if (*ps->p == '}') break;
      return fail(ps, "expected ',' or '}'");
    }
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a string key");
  }
  if (gathering) make_table(L, base, n, 1, 0);
  close_table(ps, place, (unsigned)n);
  return 1;
}

/* Out of line: the recursion, a call a container. */
static NVX_NOINLINE int parse_container(parser *ps, unsigned place) {
  return *ps->p == '{' ? parse_object(ps, place) : parse_array(ps, place);
}

/* A parser at the start of text[0..n), its sizes unset (see "Sizes"). */
static void start(parser *ps, lua_State *L, const char *text, size_t n, const nvx_decoding *d) {
  ps->L = L;
  ps->p = text;
  ps->end = text + n;
  ps->why = NULL;
  ps->depth = 0;
  ps->room = 0;
  ps->array_mt = d->array_mt;
  ps->number_mt = d->number_mt;
  ps->cache = d->cache;
  ps->cache_index = d->cache_table;
  ps->key = 0;
}

int nvx_json_push_number(lua_State *L, const char *s, size_t n) {
  static const nvx_decoding plain = {0, 0, NULL, 0};
  parser ps;
  start(&ps, L, s, n, &plain); /* no container is read: no sizes */
  return plain_number(&ps) || parse_number(&ps);
}

int nvx_json_decode(lua_State *L, const char *text, size_t n, const nvx_decoding *d,
                    const char **why, size_t *at) {
  parser ps;
  int top = lua_gettop(L);
  start(&ps, L, text, n, d);
  skip_space(&ps);
  /* (a scalar, as a lazy answer reads one, needs no sizes) */
  if (ps.p < ps.end && (*ps.p == '{' || *ps.p == '[')) memset(ps.sizes, 0, sizeof ps.sizes);
  if (parse_value(&ps, 0)) {
    skip_space(&ps);
    if (ps.p == ps.end) return 1;
    ps.why = "text after the value";
  }
  lua_settop(L, top);
  *why = ps.why;
  *at = (size_t)(ps.p - text);
  return 0;
}
