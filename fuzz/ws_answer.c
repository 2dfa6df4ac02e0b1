/* The check of a server's answer to the WebSocket upgrade (csrc/ws/handshake.c)
 * and the search for the end of its head, fed any bytes. Checked: no read
 * past the input; the head's end is within it and right after an empty
 * line; an answer is accepted only with status 101 and the one accept value
 * that fits our key (RFC 6455's example key here); a refusal says why, with
 * a status that is 0 or a 3-digit code. Also builds the request from parts
 * of the input and checks its shape. */
#include <stdint.h>
#include <strings.h>
#include "check.h"
#include "ws/handshake.h"

static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char ACCEPT[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static int contains(const char *s, size_t n, const char *word) {
  size_t k = strlen(word), i;
  for (i = 0; i + k <= n; i++)
    if (strncasecmp(s + i, word, k) == 0) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a copy of exactly size bytes: ASan sees any read past it */
  char *head = malloc(size ? size : 1);
  const char *why = NULL;
  size_t end;
  int status = -1, rc;
  nvx_buf req = {NULL, 0, 0};
  CHECK(head != NULL);
  if (size) memcpy(head, data, size);
  end = nvx_ws_head_end(head, size);
  CHECK(end <= size);
  if (end) { /* right after "\n\n" or "\n\r\n" */
    CHECK(head[end - 1] == '\n');
    CHECK(head[end - 2] == '\n' || (end >= 3 && head[end - 2] == '\r' && head[end - 3] == '\n'));
  }
  rc = nvx_ws_check_answer(head, end ? end : size, KEY, &status, &why);
  CHECK(status == 0 || (status >= 100 && status <= 599));
  if (rc == 0) {
    CHECK(status == 101);
    CHECK(contains(head, size, ACCEPT) && contains(head, size, "websocket"));
    CHECK(contains(head, size, "upgrade"));
  } else {
    CHECK(rc == -1 && why != NULL && strlen(why) > 0);
  }
  /* the request: host and target from the input, cut at the first byte that
   * the callers refuse (they check for spaces and controls) */
  {
    char host[64], target[64];
    size_t i, h = 0, t = 0;
    for (i = 0; i < size && h < sizeof host - 1 && (unsigned char)head[i] > ' '; i++)
      host[h++] = head[i];
    host[h] = '\0';
    for (i = h + 1; i < size && t < sizeof target - 1 && (unsigned char)head[i] > ' '; i++)
      target[t++] = head[i];
    target[t] = '\0';
    CHECK(nvx_ws_request(&req, host, target, "X-A: b\n", 7, KEY) == 0);
    CHECK(req.len >= 4 && memcmp(req.data, "GET ", 4) == 0);
    CHECK(memcmp(req.data + req.len - 4, "\r\n\r\n", 4) == 0);
    CHECK(contains(req.data, req.len, KEY) && contains(req.data, req.len, "X-A: b\r\n"));
    CHECK(nvx_ws_head_end(req.data, req.len) == req.len);
    nvx_buf_free(&req);
  }
  free(head);
  return 0;
}
