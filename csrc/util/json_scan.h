/* Scanning JSON text, for the decoder (json_decode.c) and the lazy index
 * (json_lazy.c) alike: one grammar, one way of reading it. Pure C, no Lua;
 * inline, for they run for every member of an answer. */
#ifndef NAVIXY_UTIL_JSON_SCAN_H
#define NAVIXY_UTIL_JSON_SCAN_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* p past the JSON space (' ', \t, \n, \r) at p. */
const char *nvx_json_spaces(const char *p, const char *end);

/* The same, with one test inline for text without space (most answers). */
static inline const char *nvx_json_space(const char *p, const char *end) {
  if (p < end && (unsigned char)*p > ' ') return p;
  return nvx_json_spaces(p, end);
}

/* Whether the next character past any space at *p is c: then *p is past
 * it (else past the space). The test comes before the space is skipped:
 * answers mostly have none. */
static inline int nvx_json_take(const char **p, const char *end, char c) {
  const char *q = *p;
  if (q < end && *q == c) {
    *p = q + 1;
    return 1;
  }
  q = nvx_json_space(q, end);
  *p = q;
  if (q < end && *q == c) {
    *p = q + 1;
    return 1;
  }
  return 0;
}

/* The first '"' or backslash at or after p, or end: where a JSON string's
 * plain run stops. One pass,
 * sixteen bytes at a time with SSE2 (every x86-64 has it), then eight at a
 * time where the bytes' order is known (the lowest byte that matches sets
 * the lowest flag bit: x - 0x01..01 & ~x & 0x80..80 marks the bytes of x
 * that are zero, exactly up to the first one). Inline: it runs for every
 * string of an answer. */
static inline const char *nvx_json_quote_or_backslash(const char *p, const char *end) {
#if defined(__SSE2__) && defined(__GNUC__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    __m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
    unsigned hit = (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, backslash)));
    if (hit) return p + __builtin_ctz(hit);
    p += 16;
  }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w, q, b, hit;
    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    hit = ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
    if (hit) return p + (__builtin_ctzll(hit) >> 3);
    p += 8;
  }
#endif
  while (p < end && *p != '"' && *p != '\\') p++;
  return p;
}

#endif
