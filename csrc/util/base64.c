#include "util/base64.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t nvx_base64_encode(const unsigned char *in, size_t n, char *out) {
  size_t i, k = 0;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
    out[k++] = ALPHABET[(v >> 18) & 63];
    out[k++] = ALPHABET[(v >> 12) & 63];
    out[k++] = ALPHABET[(v >> 6) & 63];
    out[k++] = ALPHABET[v & 63];
  }
  if (i < n) { /* one or two bytes left: padded with '=' */
    unsigned long v = (unsigned long)in[i] << 16 | (i + 1 < n ? (unsigned long)in[i + 1] << 8 : 0);
    out[k++] = ALPHABET[(v >> 18) & 63];
    out[k++] = ALPHABET[(v >> 12) & 63];
    out[k++] = i + 1 < n ? ALPHABET[(v >> 6) & 63] : '=';
    out[k++] = '=';
  }
  out[k] = '\0';
  return k;
}
