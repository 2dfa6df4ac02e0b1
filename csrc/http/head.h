/* The head of an HTTP/1.x answer (status line, header lines, empty line)
 * found and parsed in one pass over the bytes read so far: the ngx
 * transport's reader (navixy.transport.http1) reads the socket in Lua and
 * hands its buffer here. Pure C, no Lua: everything here comes from the
 * network, and the fuzzer drives it with arbitrary bytes.
 *
 * Lines end with LF, one CR before it dropped (a bare LF is tolerated as
 * HTTP parsers do). Every line counts against a budget of bytes (the
 * line and two for its end), as NVX_MAX_HEADER_BYTES bounds the curl
 * path's, so a hostile server cannot make the reader hold more. */
#ifndef NAVIXY_HEAD_H
#define NAVIXY_HEAD_H

#include <stddef.h>

enum {
  NVX_HEAD_MORE = 0,          /* no empty line yet: read more */
  NVX_HEAD_DONE = 1,          /* a whole head: see nvx_head */
  NVX_HEAD_MALFORMED = -1,    /* the status line is not "HTTP/d.d ddd..." */
  NVX_HEAD_STATUS_LIMIT = -2, /* the status line alone passes the budget */
  NVX_HEAD_LIMIT = -3         /* the header lines pass the budget */
};

typedef struct nvx_head {
  size_t length;       /* bytes of the head, its empty line included */
  size_t first_header; /* where the line after the status line starts */
  size_t budget;       /* what is left of the budget after the head */
  int status;          /* 0-999, as the three digits say */
  int major, minor;    /* the HTTP version */
} nvx_head;

/* Looks for a head at the start of buf (n bytes), its lines taking from
 * `budget`. A malformed status line is reported as soon as it is whole,
 * even before the rest of the head came. */
int nvx_head_scan(const char *buf, size_t n, size_t budget, nvx_head *h);

typedef struct nvx_header {
  const char *name, *value; /* not NUL-terminated; the name as sent */
  size_t name_len, value_len;
} nvx_header;

/* The next header line of a scanned head from *pos (start at
 * h->first_header) that has the form "name: value" (name without space
 * or ':', the value trimmed of white space; other lines are skipped):
 * 1 with *out set and *pos moved past it, or 0 at the empty line. */
int nvx_head_next(const char *buf, const nvx_head *h, size_t *pos, nvx_header *out);

#endif
