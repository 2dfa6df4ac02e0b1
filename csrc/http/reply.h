/* What comes back for one request: the body (under a size cap, or streamed
 * out in pieces) and the header values the client acts on (Retry-After,
 * Content-Type, Content-Disposition). Pure C, no curl handle, no Lua: the
 * transfer's curl callbacks feed it, and the fuzzer drives it with arbitrary
 * bytes, since everything here comes from the network. */
#ifndef NAVIXY_REPLY_H
#define NAVIXY_REPLY_H

#include <stddef.h>
#include "util/buffer.h"

/* Longest Retry-After value kept; an HTTP date needs 29 characters. */
#define NVX_RETRY_AFTER_MAX 63
/* Longest Content-Type and Content-Disposition values kept. */
#define NVX_HEADER_VALUE_MAX 1023

/* Most header bytes (all lines of all responses of one request, 1xx
 * included) accepted; the ngx transport applies the same limit
 * (navixy.transport.http1). */
#define NVX_MAX_HEADER_BYTES (64 * 1024)

typedef struct nvx_reply {
  nvx_buf body;
  size_t max_size;       /* largest body held, in bytes (not for a streamed one) */
  int streaming;         /* the body goes out in pieces: max_size does not apply */
  int too_large;         /* nvx_reply_body refused bytes over max_size */
  int nomem;             /* nvx_reply_body ran out of memory */
  int headers_too_large; /* nvx_reply_header refused lines over NVX_MAX_HEADER_BYTES */
  size_t header_bytes;   /* header bytes seen so far */
  char retry_after[NVX_RETRY_AFTER_MAX + 1];    /* trimmed value, "" if none */
  char content_type[NVX_HEADER_VALUE_MAX + 1];  /* trimmed value, "" if none */
  char disposition[NVX_HEADER_VALUE_MAX + 1];   /* Content-Disposition, "" if none */
} nvx_reply;

/* Empties the reply for the next request (keeps the body's memory). */
void nvx_reply_reset(nvx_reply *r, size_t max_size);

/* One header line as curl hands it over (name: value, CRLF included, not
 * NUL-terminated). A status line ("HTTP/...") starts a new response (after
 * a 1xx or a proxy's CONNECT answer): what an earlier one said is dropped.
 * A value too long to keep whole, or holding a NUL, is kept as "".
 * 0, or -1 when the lines so far pass NVX_MAX_HEADER_BYTES (headers_too_large
 * set; that line and every later one are not looked at). */
int nvx_reply_header(nvx_reply *r, const char *line, size_t n);

/* Appends body bytes; 0, or -1 when they would take a held body over
 * max_size (too_large set) or memory ran out (nomem set). */
int nvx_reply_body(nvx_reply *r, const char *data, size_t n);

void nvx_reply_free(nvx_reply *r);

/* Seconds a Retry-After value asks for, from now: delay-seconds (digits
 * only; capped at 1e9) or an HTTP date (0 when it is past). -1 when it is
 * neither. */
double nvx_retry_after_seconds(const char *value);

/* 1 when a Content-Type value names JSON: application/json, text/json or a
 * +json type, whatever its parameters; also when there is none (""), since
 * the API's answers are JSON. The one test of "is this answer JSON". */
int nvx_is_json_type(const char *value);

#endif
