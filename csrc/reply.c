#include "reply.h"

#include <ctype.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void nvx_reply_reset(nvx_reply *r, size_t max_size) {
  nvx_buf_reset(&r->body);
  r->max_size = max_size;
  r->too_large = r->nomem = r->headers_too_large = 0;
  r->header_bytes = 0;
  r->retry_after[0] = '\0';
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int nvx_reply_header(nvx_reply *r, const char *line, size_t n) {
  static const char name[] = "retry-after:";
  const size_t name_len = sizeof name - 1;
  size_t i, len;
  if (n > NVX_MAX_HEADER_BYTES - r->header_bytes) { /* header_bytes <= the limit always */
    r->headers_too_large = 1;
    return -1;
  }
  r->header_bytes += n;
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    r->retry_after[0] = '\0';
    return 0;
  }
  if (n < name_len || strncasecmp(line, name, name_len) != 0) return 0;
  i = name_len;
  while (i < n && is_space(line[i])) i++;
  len = n - i;
  while (len > 0 && is_space(line[i + len - 1])) len--;
  /* Nothing valid is this long: keeping a cut value could turn a huge
   * number into a small one. A NUL inside would cut it the same way. */
  if (len > NVX_RETRY_AFTER_MAX || memchr(line + i, '\0', len)) len = 0;
  memcpy(r->retry_after, line + i, len);
  r->retry_after[len] = '\0';
  return 0;
}

int nvx_reply_body(nvx_reply *r, const char *data, size_t n) {
  if (n > r->max_size - r->body.len) { /* body.len <= max_size always holds */
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
