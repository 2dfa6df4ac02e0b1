#include "ws/handshake.h"

#include <string.h>
#include <strings.h>
#include "util/base64.h"
#include "util/sha1.h"

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void nvx_ws_key(const unsigned char random16[16], char key[NVX_WS_KEY_LEN + 1]) {
  nvx_base64_encode(random16, 16, key);
}

void nvx_ws_accept(const char *key, size_t n, char accept[NVX_WS_ACCEPT_LEN + 1]) {
  unsigned char digest[NVX_SHA1_LEN];
  char joined[256];
  size_t glen = sizeof GUID - 1;
  if (n > sizeof joined - glen) { /* a real key is 24 bytes: no answer can match this one */
    accept[0] = '\0';
    return;
  }
  memcpy(joined, key, n);
  memcpy(joined + n, GUID, glen);
  nvx_sha1(joined, n + glen, digest);
  nvx_base64_encode(digest, NVX_SHA1_LEN, accept);
}

static int add_header(nvx_buf *out, const char *name, const char *value) {
  return nvx_buf_adds(out, name) || nvx_buf_adds(out, ": ") || nvx_buf_adds(out, value) ||
         nvx_buf_add(out, "\r\n", 2);
}

int nvx_ws_request(nvx_buf *out, const char *host, const char *target, const char *lines,
                   size_t len, const char *key) {
  const char *p = lines, *end = lines ? lines + len : NULL;
  if (nvx_buf_adds(out, "GET ") || nvx_buf_adds(out, target) ||
      nvx_buf_adds(out, " HTTP/1.1\r\n") || add_header(out, "Host", host) ||
      add_header(out, "Upgrade", "websocket") || add_header(out, "Connection", "Upgrade") ||
      add_header(out, "Sec-WebSocket-Key", key) || add_header(out, "Sec-WebSocket-Version", "13"))
    return -1;
  while (p && p < end) { /* an empty line would end the head early: skipped */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    if (stop > p && (nvx_buf_add(out, p, (size_t)(stop - p)) || nvx_buf_add(out, "\r\n", 2)))
      return -1;
    p = stop + 1;
  }
  return nvx_buf_add(out, "\r\n", 2);
}

static int name_is(const char *line, size_t n, const char *name) {
  size_t k = strlen(name);
  return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

int nvx_ws_reserved_header(const char *line, size_t n) {
  return name_is(line, n, "Host") || name_is(line, n, "Upgrade") ||
         name_is(line, n, "Connection") ||
         (n >= 14 && strncasecmp(line, "Sec-WebSocket-", 14) == 0);
}

size_t nvx_ws_head_end(const char *buf, size_t n) {
  size_t i;
  /* lines end with CRLF; a bare LF is tolerated as HTTP parsers do */
  for (i = 0; i < n; i++) {
    if (buf[i] != '\n') continue;
    if (i + 1 < n && buf[i + 1] == '\n') return i + 2;
    if (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
  }
  return 0;
}

/* ---- the answer ---- */

typedef struct span {
  const char *p;
  size_t n;
} span;

static int is_ows(char c) { return c == ' ' || c == '\t'; }

static span trim(const char *p, size_t n) {
  span s;
  while (n > 0 && is_ows(*p)) p++, n--;
  while (n > 0 && (is_ows(p[n - 1]) || p[n - 1] == '\r')) n--;
  s.p = p;
  s.n = n;
  return s;
}

static int span_is(span s, const char *word) {
  size_t k = strlen(word);
  return s.n == k && strncasecmp(s.p, word, k) == 0;
}

/* 1 when the comma-separated list v holds the token word (any case). */
static int has_token(span v, const char *word) {
  const char *p = v.p, *end = v.p + v.n;
  while (p <= end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
    if (span_is(trim(p, n), word)) return 1;
    if (!comma) break;
    p = comma + 1;
  }
  return 0;
}

/* "HTTP/1.x NNN ..." -> NNN, or 0 */
static int status_of(span line) {
  const char *p = line.p;
  if (line.n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') return 0;
  if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
    return 0;
  if (line.n > 12 && p[12] != ' ') return 0;
  return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

int nvx_ws_check_answer(const char *head, size_t n, const char *key, int *status,
                        const char **why) {
  char expected[NVX_WS_ACCEPT_LEN + 1];
  const char *p = head, *end = head + n;
  int upgrade = 0, connection = 0, accept = 0, first = 1;
  *status = 0;
  if (n > NVX_WS_HEAD_MAX) return *why = "the answer head is too long", -1;
  nvx_ws_accept(key, strlen(key), expected);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    span line = trim(p, len), name, value;
    const char *colon;
    p += len + 1;
    if (first) {
      first = 0;
      *status = status_of(line);
      if (*status == 0) return *why = "the answer is not HTTP", -1;
      if (*status != 101) return *why = "the server did not switch to WebSocket", -1;
      continue;
    }
    if (line.n == 0) break; /* the end of the head */
    if (is_ows(line.p[0]) || memchr(line.p, '\0', line.n))
      return *why = "a malformed header line in the answer", -1;
    colon = memchr(line.p, ':', line.n);
    if (!colon) return *why = "a malformed header line in the answer", -1;
    name = trim(line.p, (size_t)(colon - line.p));
    value = trim(colon + 1, (size_t)(line.p + line.n - colon - 1));
    if (span_is(name, "Upgrade")) {
      if (!span_is(value, "websocket")) return *why = "the answer upgrades to something else", -1;
      upgrade = 1;
    } else if (span_is(name, "Connection")) {
      connection |= has_token(value, "upgrade");
    } else if (span_is(name, "Sec-WebSocket-Accept")) {
      if (value.n != NVX_WS_ACCEPT_LEN || memcmp(value.p, expected, NVX_WS_ACCEPT_LEN) != 0)
        return *why = "wrong Sec-WebSocket-Accept in the answer", -1;
      accept = 1;
    } else if (span_is(name, "Sec-WebSocket-Extensions")) {
      return *why = "the server chose an extension we did not offer", -1;
    } else if (span_is(name, "Sec-WebSocket-Protocol")) {
      return *why = "the server chose a subprotocol we did not offer", -1;
    }
  }
  if (first) return *why = "the answer is not HTTP", -1;
  if (!upgrade) return *why = "no 'Upgrade: websocket' in the answer", -1;
  if (!connection) return *why = "no 'Connection: upgrade' in the answer", -1;
  if (!accept) return *why = "no Sec-WebSocket-Accept in the answer", -1;
  return 0;
}
