/* A growable byte buffer owned by C: request data is copied here rather than
 * pinned as Lua strings, so nothing curl points into can be collected. */
#ifndef NAVIXY_BUFFER_H
#define NAVIXY_BUFFER_H

#include <stddef.h>

typedef struct nvx_buf {
  char *data;
  size_t len;
  size_t cap;
} nvx_buf;

/* All return 0 on success, -1 when memory runs out (the buffer is unchanged). */
int nvx_buf_reserve(nvx_buf *b, size_t extra);
int nvx_buf_add(nvx_buf *b, const char *s, size_t n);
int nvx_buf_adds(nvx_buf *b, const char *s);
int nvx_buf_addc(nvx_buf *b, char c);
void nvx_buf_reset(nvx_buf *b);
void nvx_buf_free(nvx_buf *b);

/* Overwrites a buffer that held a secret, then frees it. */
void nvx_buf_wipe(nvx_buf *b);

#endif
