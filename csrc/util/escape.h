/* Byte escapes: written for request data (percent-encoding, JSON string
 * literals) and read back (a JSON escape). Pure C, no Lua: they handle
 * user-supplied bytes and are the fuzzing targets. */
#ifndef NAVIXY_UTIL_ESCAPE_H
#define NAVIXY_UTIL_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "util/buffer.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Percent-encodes everything but RFC 3986 unreserved characters, so the
 * result is safe in a query string and in an x-www-form-urlencoded body. */
int nvx_url_escape(nvx_buf *out, const char *s, size_t n);

/* Appends s as a JSON string literal, quotes included. Bytes >= 0x80 are
 * copied as they are (the caller's UTF-8 stays UTF-8). */
int nvx_json_string(nvx_buf *out, const char *s, size_t n);

/* 1 when s holds CR, LF or NUL: such bytes would split or cut an HTTP header. */
int nvx_has_ctl(const char *s, size_t n);

/* Reads the escape at p (a backslash) as JSON reads it, for the decoder
 * and the masking of secrets alike: returns its length (2; 6 for \uXXXX;
 * 12 for a surrogate pair) and writes the UTF-8 bytes it stands for at out
 * (at most 4), their count at *nout; 0 when it is not a valid escape, *why
 * then saying why. */
size_t nvx_json_escape(const char *p, const char *end, char *out, size_t *nout,
                       const char **why);

/* The first '"' or backslash at or after p, or end: where a JSON string's
 * plain run stops, for the decoder and the lazy index alike. One pass,
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
