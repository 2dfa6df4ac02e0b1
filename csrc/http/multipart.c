#include "http/multipart.h"

#include <string.h>

static const char ALPHABET[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* xorshift64*: boundaries need to be unlikely in the data, not secret */
static unsigned long long next_random(unsigned long long *x) {
  *x ^= *x >> 12;
  *x ^= *x << 25;
  *x ^= *x >> 27;
  return *x * 2685821657736338717ULL;
}

static int occurs(const char *boundary, const nvx_part *parts, size_t n) {
  size_t i, blen = strlen(boundary);
  for (i = 0; i < n; i++) {
    const char *p = parts[i].data, *end = p + parts[i].len;
    while (p && (size_t)(end - p) >= blen) {
      const char *hit = memchr(p, boundary[0], (size_t)(end - p) - blen + 1);
      if (!hit) break;
      if (memcmp(hit, boundary, blen) == 0) return 1;
      p = hit + 1;
    }
  }
  return 0;
}

void nvx_multipart_boundary(char *out, const nvx_part *parts, size_t n, unsigned long seed) {
  unsigned long long x = 0x9E3779B97F4A7C15ULL ^ (unsigned long long)seed;
  do {
    int i;
    memcpy(out, "navixy-", 7);
    for (i = 7; i < NVX_BOUNDARY_LEN; i++) out[i] = ALPHABET[next_random(&x) % (sizeof ALPHABET - 1)];
    out[NVX_BOUNDARY_LEN] = '\0';
  } while (occurs(out, parts, n));
}

/* s in a quoted header parameter: '"', CR and LF percent-encoded */
static int add_quoted(nvx_buf *out, const char *s) {
  if (nvx_buf_addc(out, '"')) return -1;
  for (; *s; s++) {
    const char *esc = *s == '"' ? "%22" : *s == '\r' ? "%0D" : *s == '\n' ? "%0A" : NULL;
    if (esc ? nvx_buf_adds(out, esc) : nvx_buf_addc(out, *s)) return -1;
  }
  return nvx_buf_addc(out, '"');
}

int nvx_multipart_body(nvx_buf *out, const char *boundary, const nvx_part *parts, size_t n) {
  size_t i;
  nvx_buf_reset(out);
  for (i = 0; i < n; i++) {
    const nvx_part *p = &parts[i];
    if (nvx_buf_adds(out, "--") || nvx_buf_adds(out, boundary) ||
        nvx_buf_adds(out, "\r\nContent-Disposition: form-data; name=") || add_quoted(out, p->name))
      return -1;
    if (p->filename && (nvx_buf_adds(out, "; filename=") || add_quoted(out, p->filename))) return -1;
    if (p->type && (nvx_buf_adds(out, "\r\nContent-Type: ") || nvx_buf_adds(out, p->type))) return -1;
    if (nvx_buf_adds(out, "\r\n\r\n") || nvx_buf_add(out, p->data, p->len) || nvx_buf_adds(out, "\r\n"))
      return -1;
  }
  if (nvx_buf_adds(out, "--") || nvx_buf_adds(out, boundary) || nvx_buf_adds(out, "--\r\n")) return -1;
  return 0;
}
