/* The response side (reply.c): header lines and body chunks as a server or
 * a proxy may send them, driven by a script in the input:
 *   'H' len bytes  a header line      'B' len bytes  a body chunk
 *   'R' byte       a new request, max_size = byte * 37
 * checked against a model of what must hold: the body is exactly the
 * accepted chunks and never over max_size; a refused chunk sets too_large;
 * retry_after is the trimmed value of the last Retry-After line since the
 * last status line, when it is short and holds no NUL, else "". */
#include <stdint.h>
#include <strings.h>
#include "check.h"
#include "reply.h"

typedef struct model {
  char body[65536];
  size_t len, max_size;
  char retry_after[NVX_RETRY_AFTER_MAX + 1];
} model;

static int space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void model_header(model *m, const char *line, size_t n) {
  size_t i = 12, len;
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    m->retry_after[0] = '\0';
    return;
  }
  if (n < 12 || strncasecmp(line, "Retry-After:", 12) != 0) return;
  while (i < n && space(line[i])) i++;
  len = n - i;
  while (len > 0 && space(line[i + len - 1])) len--;
  if (len > NVX_RETRY_AFTER_MAX || memchr(line + i, '\0', len)) len = 0;
  memcpy(m->retry_after, line + i, len);
  m->retry_after[len] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nvx_reply r;
  static model m;
  size_t i = 0;
  memset(&r, 0, sizeof r);
  nvx_reply_reset(&r, 1000);
  m.len = 0;
  m.max_size = 1000;
  m.retry_after[0] = '\0';
  while (i < size) {
    char op = (char)data[i++];
    size_t len = i < size ? data[i++] : 0;
    const char *bytes = (const char *)data + i;
    if (op == 'R') {
      nvx_reply_reset(&r, len * 37);
      m.len = 0;
      m.max_size = len * 37;
      m.retry_after[0] = '\0';
      CHECK(!r.too_large && !r.nomem && r.body.len == 0);
      continue;
    }
    if (len > size - i) len = size - i;
    i += len;
    if (op == 'H') {
      nvx_reply_header(&r, bytes, len);
      model_header(&m, bytes, len);
    } else if (op == 'B') {
      int rc = nvx_reply_body(&r, bytes, len);
      if (m.len + len <= m.max_size) {
        CHECK(rc == 0);
        memcpy(m.body + m.len, bytes, len);
        m.len += len;
      } else {
        CHECK(rc == -1 && r.too_large);
      }
    }
    CHECK(r.body.len == m.len && r.body.len <= r.max_size);
    CHECK(m.len == 0 || memcmp(r.body.data, m.body, m.len) == 0);
    CHECK(strlen(r.retry_after) <= NVX_RETRY_AFTER_MAX);
    CHECK(strcmp(r.retry_after, m.retry_after) == 0);
    CHECK(r.retry_after[0] == '\0' ||
          (!space(r.retry_after[0]) && !space(r.retry_after[strlen(r.retry_after) - 1])));
    (void)nvx_retry_after_seconds(r.retry_after);
  }
  nvx_reply_free(&r);
  return 0;
}
