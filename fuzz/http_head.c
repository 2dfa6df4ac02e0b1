/* nvx_head_scan / nvx_head_next: the head of an HTTP/1.x answer, as the ngx
 * transport reads it off the network. The first byte is the budget's scale,
 * the rest the bytes read so far. Invariants: a whole head lies within the
 * bytes and ends with LF; its status is three digits' worth; the same head
 * is found when more bytes follow it; fewer bytes never make a head, only
 * MORE or the same error; every header line given back lies within the
 * head, its name holds no ':' or white space, its value no white space at
 * either end; a lesser budget never turns an error into a head. */
#include <stdint.h>
#include "check.h"
#include "http/head.h"

static int space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data + 1;
  size_t n, budget, pos;
  nvx_head h, again;
  nvx_header f;
  int rc;
  if (size < 1) return 0;
  budget = (size_t)data[0] * 16;
  n = size - 1;
  rc = nvx_head_scan(buf, n, budget, &h);
  CHECK(rc >= NVX_HEAD_LIMIT && rc <= NVX_HEAD_DONE);
  if (rc != NVX_HEAD_DONE) {
    CHECK(nvx_head_scan(buf, n, budget / 2, &again) != NVX_HEAD_DONE);
    if (n > 0) {
      int less = nvx_head_scan(buf, n - 1, budget, &again);
      CHECK(less == NVX_HEAD_MORE || less == rc);
    }
    return 0;
  }
  CHECK(h.length >= 2 && h.length <= n && buf[h.length - 1] == '\n');
  CHECK(h.first_header <= h.length && h.budget <= budget);
  CHECK(h.status >= 0 && h.status <= 999 && h.major <= 9 && h.minor <= 9);
  CHECK(nvx_head_scan(buf, h.length, budget, &again) == NVX_HEAD_DONE && again.length == h.length);
  CHECK(nvx_head_scan(buf, h.length - 1, budget, &again) == NVX_HEAD_MORE);
  pos = h.first_header;
  while (nvx_head_next(buf, &h, &pos, &f)) {
    size_t i;
    CHECK(f.name >= buf && f.name + f.name_len <= buf + h.length && f.name_len > 0);
    CHECK(f.value >= f.name + f.name_len && f.value + f.value_len <= buf + h.length);
    for (i = 0; i < f.name_len; i++) CHECK(f.name[i] != ':' && !space(f.name[i]));
    CHECK(f.value_len == 0 || (!space(f.value[0]) && !space(f.value[f.value_len - 1])));
    CHECK(pos <= h.length);
  }
  CHECK(pos <= h.length);
  return 0;
}
