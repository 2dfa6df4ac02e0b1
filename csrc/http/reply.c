#include "http/reply.h"

#include <ctype.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void nvx_reply_reset(nvx_reply *r, size_t max_size) {
  nvx_buf_reset(&r->body);
  r->max_size = max_size;
  r->streaming = r->too_large = r->nomem = r->headers_too_large = 0;
  r->header_bytes = 0;
  r->retry_after[0] = r->content_type[0] = r->disposition[0] = '\0';
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* When line is "<name>: value" (name given lowercase with its colon),
 * copies the trimmed value into dst (at most cap - 1 bytes, else "") and
 * returns 1; else 0. */
static int keep_value(const char *line, size_t n, const char *name, char *dst, size_t cap) {
  size_t i = strlen(name), len;
  if (n < i || strncasecmp(line, name, i) != 0) return 0;
  while (i < n && is_space(line[i])) i++;
  len = n - i;
  while (len > 0 && is_space(line[i + len - 1])) len--;
  /* A cut value could change meaning (a huge number made small), and a NUL
   * would cut it the same way: such a value is dropped whole. */
  if (len > cap - 1 || memchr(line + i, '\0', len)) len = 0;
  memcpy(dst, line + i, len);
  dst[len] = '\0';
  return 1;
}

int nvx_reply_header(nvx_reply *r, const char *line, size_t n) {
  /* header_bytes <= the limit always; once over, every later line is refused */
  if (r->headers_too_large || n > NVX_MAX_HEADER_BYTES - r->header_bytes) {
    r->headers_too_large = 1;
    return -1;
  }
  r->header_bytes += n;
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    r->retry_after[0] = r->content_type[0] = r->disposition[0] = '\0';
    return 0;
  }
  /* told apart by the first letter first: most lines are none of the three */
  if (n == 0) return 0;
  switch (line[0] | 0x20) { /* ASCII lowercase for letters */
  case 'r':
    keep_value(line, n, "retry-after:", r->retry_after, sizeof r->retry_after);
    break;
  case 'c':
    if (!keep_value(line, n, "content-type:", r->content_type, sizeof r->content_type))
      keep_value(line, n, "content-disposition:", r->disposition, sizeof r->disposition);
    break;
  default:
    break;
  }
  return 0;
}

int nvx_reply_body(nvx_reply *r, const char *data, size_t n) {
  if (!r->streaming && n > r->max_size - r->body.len) { /* body.len <= max_size when held */
    r->too_large = 1;
    return -1;
  }
  if (nvx_buf_add(&r->body, data, n) != 0) {
    r->nomem = 1;
    return -1;
  }
  return 0;
}

void nvx_reply_free(nvx_reply *r) {
  nvx_buf_free(&r->body);
  memset(r, 0, sizeof *r);
}

double nvx_retry_after_seconds(const char *v) {
  const char *p = v;
  time_t when;
  if (!v || !*v) return -1;
  if (isdigit((unsigned char)*p)) {
    double secs = 0;
    for (; isdigit((unsigned char)*p); p++) {
      secs = secs * 10 + (*p - '0');
      if (secs > 1e9) secs = 1e9; /* "forever"; the policy refuses it anyway */
    }
    return *p == '\0' ? secs : -1;
  }
  when = curl_getdate(v, NULL);
  if (when == (time_t)-1) return -1;
  {
    double d = difftime(when, time(NULL));
    return d > 0 ? d : 0;
  }
}

int nvx_is_json_type(const char *v) {
  size_t len;
  while (*v == ' ' || *v == '\t') v++;
  len = strcspn(v, "; \t");
  if (len == 0) return 1;
  if ((len == 16 && strncasecmp(v, "application/json", 16) == 0) ||
      (len == 9 && strncasecmp(v, "text/json", 9) == 0))
    return 1;
  return len > 5 && strncasecmp(v + len - 5, "+json", 5) == 0 && memchr(v, '/', len) != NULL;
}
