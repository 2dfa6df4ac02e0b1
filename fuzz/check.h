/* Shared by the fuzz targets: a failed invariant aborts (libFuzzer saves
 * the input as a crash). Header-only: each target is one translation unit.
 * JSON is checked with the one grammar there is, the decoder's (see
 * lua_core.h), never with a validator of the fuzzers' own. */
#ifndef NAVIXY_FUZZ_CHECK_H
#define NAVIXY_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      abort();                                                                   \
    }                                                                            \
  } while (0)

static inline int is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Percent-decodes s[0..n) into out (room for n bytes); -1 on a malformed
 * escape. With plus, '+' stands for a space (form bodies). */
static inline long url_decode_form(const char *s, size_t n, char *out, int plus) {
  size_t i, k = 0;
  for (i = 0; i < n; i++) {
    if (plus && s[i] == '+') {
      out[k++] = ' ';
    } else if (s[i] == '%') {
      char hex[3];
      if (i + 2 >= n) return -1;
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return -1;
      hex[0] = s[i + 1];
      hex[1] = s[i + 2];
      hex[2] = 0;
      out[k++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      out[k++] = s[i];
    }
  }
  return (long)k;
}

static inline long url_decode(const char *s, size_t n, char *out) { return url_decode_form(s, n, out, 0); }

#endif
