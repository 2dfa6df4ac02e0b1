#include "util/buffer.h"

#include <stdlib.h>
#include <string.h>

int nvx_buf_reserve(nvx_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (extra > (size_t)-1 - b->len - 1) return -1;
  need = b->len + extra + 1; /* room for a terminating NUL */
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  p = realloc(b->data, cap);
  if (!p) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int nvx_buf_add(nvx_buf *b, const char *s, size_t n) {
  if (nvx_buf_reserve(b, n) != 0) return -1;
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int nvx_buf_adds(nvx_buf *b, const char *s) { return nvx_buf_add(b, s, strlen(s)); }

int nvx_buf_addc(nvx_buf *b, char c) { return nvx_buf_add(b, &c, 1); }

void nvx_buf_reset(nvx_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void nvx_buf_free(nvx_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void nvx_buf_wipe(nvx_buf *b) {
  if (b->data) memset(b->data, 0, b->cap);
  nvx_buf_free(b);
}
