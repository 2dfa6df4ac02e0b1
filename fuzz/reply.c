/* The response side (reply.c): header lines and body chunks as a server or
 * a proxy may send them, driven by a script in the input:
 *   'H' len bytes  a header line      'B' len bytes  a body chunk
 *   'L' byte       a filler header line of byte * 300 bytes (to reach the
 *                  header limit within a short input)
 *   'S'            the body streams from now on (max_size no longer applies)
 *   'R' byte       a new request, max_size = byte * 37
 * Checked against what reply.h promises, not against a second copy of its
 * code:
 *   - the body is exactly the chunks nvx_reply_body accepted, in order; a
 *     held body never goes over max_size, and a chunk is refused
 *     (too_large) exactly when it would take a held body over it;
 *   - header lines are taken while all of them together stay within
 *     NVX_MAX_HEADER_BYTES; the first one over it is refused
 *     (headers_too_large) and not looked at, nor is any after it;
 *   - retry_after, content_type and disposition are each "" or the value of
 *     the most recent line of their name (any case) since the last status
 *     line or request, trimmed of spaces, tabs, CR and LF; and that value
 *     whenever it is short enough to keep and holds no NUL;
 *   - nvx_retry_after_seconds reads retry_after safely; nvx_is_json_type
 *     does not care about case or parameters, and takes "" for JSON. */
#include <ctype.h>
#include <stdint.h>
#include <strings.h>
#include "check.h"
#include "http/reply.h"

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The value of the line of a name seen last: where it starts and ends once
 * trimmed (start == NULL: none since the last status line). */
typedef struct seen {
  const char *name;
  size_t cap; /* the longest value kept */
  const char *start, *end;
} seen;

enum { RETRY_AFTER, CONTENT_TYPE, DISPOSITION, NAMES };

static void saw_header(seen *last, const char *line, size_t n) {
  int k;
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    for (k = 0; k < NAMES; k++) last[k].start = last[k].end = NULL;
    return;
  }
  for (k = 0; k < NAMES; k++) {
    size_t nl = strlen(last[k].name);
    const char *start = line + nl, *end = line + n;
    if (n < nl || strncasecmp(line, last[k].name, nl) != 0) continue;
    while (start < end && blank(*start)) start++;
    while (end > start && blank(end[-1])) end--;
    last[k].start = start;
    last[k].end = end;
    return;
  }
}

static void check_value(const char *got_value, const seen *last) {
  size_t got = strlen(got_value), want;
  CHECK(got <= last->cap);
  if (!last->start) {
    CHECK(got == 0);
    return;
  }
  want = (size_t)(last->end - last->start);
  CHECK(got == 0 || (got == want && memcmp(got_value, last->start, want) == 0));
  if (want <= last->cap && !memchr(last->start, '\0', want))
    CHECK(got == want && memcmp(got_value, last->start, want) == 0);
}

/* nvx_is_json_type on value: the same whatever the case, and whatever
 * parameters follow the media type. */
static void check_json_type(const char *value) {
  char upper[NVX_HEADER_VALUE_MAX + 16];
  size_t n = strlen(value), i;
  int is = nvx_is_json_type(value);
  for (i = 0; i < n; i++) upper[i] = (char)toupper((unsigned char)value[i]);
  upper[n] = '\0';
  CHECK(nvx_is_json_type(upper) == is);
  if (n + 15 < sizeof upper && !strchr(value, ';')) {
    memcpy(upper, value, n);
    memcpy(upper + n, ";charset=utf-8", 15);
    CHECK(nvx_is_json_type(upper) == is);
  }
  if (n == 0) CHECK(is);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char accepted[65536 * 8]; /* the accepted chunks, in order */
  static char filler[255 * 300];
  nvx_reply r;
  seen last[NAMES] = {{"retry-after:", NVX_RETRY_AFTER_MAX, NULL, NULL},
                      {"content-type:", NVX_HEADER_VALUE_MAX, NULL, NULL},
                      {"content-disposition:", NVX_HEADER_VALUE_MAX, NULL, NULL}};
  size_t i = 0, len_accepted = 0, max_size = 1000, header_bytes = 0;
  int refused = 0, headers_refused = 0, streaming = 0, k;
  memset(&r, 0, sizeof r);
  if (filler[0] != 'x') memset(filler, 'x', sizeof filler);
  nvx_reply_reset(&r, max_size);
  while (i < size) {
    char op = (char)data[i++];
    size_t len = i < size && op != 'S' ? data[i++] : 0;
    const char *bytes = (const char *)data + i;
    if (op == 'R') {
      max_size = len * 37;
      nvx_reply_reset(&r, max_size);
      len_accepted = header_bytes = 0;
      refused = headers_refused = streaming = 0;
      for (k = 0; k < NAMES; k++) last[k].start = last[k].end = NULL;
      CHECK(!r.too_large && !r.nomem && !r.headers_too_large && r.body.len == 0 && !r.streaming);
    } else if (op == 'S') {
      r.streaming = streaming = 1;
    } else if (op == 'H' || op == 'L') {
      int over, rc;
      if (op == 'L') {
        bytes = filler;
        len *= 300;
      } else {
        if (len > size - i) len = size - i;
        i += len;
      }
      over = headers_refused || header_bytes + len > NVX_MAX_HEADER_BYTES;
      rc = nvx_reply_header(&r, bytes, len);
      CHECK(rc == (over ? -1 : 0));
      if (!over) {
        header_bytes += len;
        saw_header(last, bytes, len);
      }
      headers_refused |= over;
      CHECK(r.headers_too_large == headers_refused);
    } else if (op == 'B') {
      int over, rc;
      if (len > size - i) len = size - i;
      i += len;
      over = !streaming && len_accepted + len > max_size;
      rc = nvx_reply_body(&r, bytes, len);
      refused |= over;
      CHECK(rc == (over ? -1 : 0) && r.too_large == refused && !r.nomem);
      if (rc == 0 && len_accepted + len <= sizeof accepted) {
        memcpy(accepted + len_accepted, bytes, len);
        len_accepted += len;
      } else if (rc == 0) {
        nvx_reply_reset(&r, max_size); /* keep the model's copy in bounds */
        r.streaming = streaming;
        len_accepted = header_bytes = 0;
        refused = headers_refused = 0;
        for (k = 0; k < NAMES; k++) last[k].start = last[k].end = NULL;
      }
    }
    CHECK(r.body.len == len_accepted && r.max_size == max_size);
    CHECK(streaming || r.body.len <= max_size);
    CHECK(len_accepted == 0 || memcmp(r.body.data, accepted, len_accepted) == 0);
    CHECK(r.header_bytes == header_bytes && header_bytes <= NVX_MAX_HEADER_BYTES);
    check_value(r.retry_after, &last[RETRY_AFTER]);
    check_value(r.content_type, &last[CONTENT_TYPE]);
    check_value(r.disposition, &last[DISPOSITION]);
    check_json_type(r.content_type);
    {
      double secs = nvx_retry_after_seconds(r.retry_after);
      CHECK(secs == -1 || secs >= 0);
    }
  }
  nvx_reply_free(&r);
  return 0;
}
