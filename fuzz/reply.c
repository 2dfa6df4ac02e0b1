/* The response side (reply.c): header lines and body chunks as a server or
 * a proxy may send them, driven by a script in the input:
 *   'H' len bytes  a header line      'B' len bytes  a body chunk
 *   'R' byte       a new request, max_size = byte * 37
 * Checked against what reply.h promises, not against a second copy of its
 * code:
 *   - the body is exactly the chunks nvx_reply_body accepted, in order, and
 *     never over max_size; a chunk is refused (too_large) exactly when it
 *     would take the body over max_size;
 *   - retry_after is "" or the value of the most recent Retry-After line
 *     (name in any case) since the last status line or request, trimmed of
 *     spaces, tabs, CR and LF; and it is that value whenever the value is
 *     short enough to keep (NVX_RETRY_AFTER_MAX) and holds no NUL;
 *   - whatever retry_after holds, nvx_retry_after_seconds reads it safely. */
#include <stdint.h>
#include <strings.h>
#include "check.h"
#include "reply.h"

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The value of the Retry-After line seen last: where it starts and ends
 * once trimmed (start == NULL: none since the last status line). */
typedef struct seen {
  const char *start, *end;
} seen;

static void saw_header(seen *last, const char *line, size_t n) {
  static const char name[] = "Retry-After:";
  const char *start = line + sizeof name - 1, *end = line + n;
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    last->start = last->end = NULL;
    return;
  }
  if (n < sizeof name - 1 || strncasecmp(line, name, sizeof name - 1) != 0) return;
  while (start < end && blank(*start)) start++;
  while (end > start && blank(end[-1])) end--;
  last->start = start;
  last->end = end;
}

static void check_retry_after(const nvx_reply *r, const seen *last) {
  size_t got = strlen(r->retry_after), want;
  double secs = nvx_retry_after_seconds(r->retry_after);
  CHECK(secs == -1 || secs >= 0);
  CHECK(got <= NVX_RETRY_AFTER_MAX);
  if (!last->start) {
    CHECK(got == 0);
    return;
  }
  want = (size_t)(last->end - last->start);
  CHECK(got == 0 || (got == want && memcmp(r->retry_after, last->start, want) == 0));
  if (want <= NVX_RETRY_AFTER_MAX && !memchr(last->start, '\0', want))
    CHECK(got == want && memcmp(r->retry_after, last->start, want) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char accepted[65536]; /* the accepted chunks, in order */
  nvx_reply r;
  seen last = {NULL, NULL};
  size_t i = 0, len_accepted = 0, max_size = 1000;
  int refused = 0; /* too_large: some chunk was refused since the request began */
  memset(&r, 0, sizeof r);
  nvx_reply_reset(&r, max_size);
  while (i < size) {
    char op = (char)data[i++];
    size_t len = i < size ? data[i++] : 0;
    const char *bytes = (const char *)data + i;
    if (op == 'R') {
      max_size = len * 37;
      nvx_reply_reset(&r, max_size);
      len_accepted = 0;
      refused = 0;
      last.start = last.end = NULL;
      CHECK(!r.too_large && !r.nomem && r.body.len == 0);
    } else {
      if (len > size - i) len = size - i;
      i += len;
      if (op == 'H') {
        nvx_reply_header(&r, bytes, len);
        saw_header(&last, bytes, len);
      } else if (op == 'B') {
        int over = len_accepted + len > max_size;
        int rc = nvx_reply_body(&r, bytes, len);
        refused |= over;
        CHECK(rc == (over ? -1 : 0) && r.too_large == refused && !r.nomem);
        if (rc == 0) {
          memcpy(accepted + len_accepted, bytes, len);
          len_accepted += len;
        }
      }
    }
    CHECK(r.body.len == len_accepted && r.body.len <= max_size && r.max_size == max_size);
    CHECK(len_accepted == 0 || memcmp(r.body.data, accepted, len_accepted) == 0);
    check_retry_after(&r, &last);
  }
  nvx_reply_free(&r);
  return 0;
}
