/* multipart/form-data bodies, byte by byte, for transports that send their
 * own bytes (the nginx one: libcurl builds the same with its mime API).
 * Pure C, no Lua. */
#ifndef NAVIXY_MULTIPART_H
#define NAVIXY_MULTIPART_H

#include <stddef.h>
#include "util/buffer.h"

typedef struct nvx_part {
  const char *name;
  const char *data;     /* the field's value or the file's bytes */
  size_t len;
  const char *filename; /* NULL for a plain field */
  const char *type;     /* the file's Content-Type, or NULL */
} nvx_part;

#define NVX_BOUNDARY_LEN 40

/* A boundary (NVX_BOUNDARY_LEN characters and a NUL) that occurs in none of
 * the parts' bytes; seed makes it differ from call to call. */
void nvx_multipart_boundary(char *out, const nvx_part *parts, size_t n, unsigned long seed);

/* The body for parts[0..n) with that boundary; 0 or -1 when memory ran out.
 * Quotes, CR and LF in names and file names are percent-encoded, as
 * browsers and libcurl do. */
int nvx_multipart_body(nvx_buf *out, const char *boundary, const nvx_part *parts, size_t n);

#endif
