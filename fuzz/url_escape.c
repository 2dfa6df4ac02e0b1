/* nvx_url_escape: any bytes (hashes in ?hash=, form names and values).
 * Invariants: only unreserved characters and %XX (upper-case hex) come
 * out, decoding gives the input back, what was in the buffer stays. */
#include <stdint.h>
#include "check.h"
#include "util/escape.h"

static int unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nvx_buf out = {NULL, 0, 0};
  const char *in = (const char *)data;
  char *decoded;
  size_t i, expect = 3;
  long n;
  CHECK(nvx_buf_adds(&out, "pre") == 0);
  CHECK(nvx_url_escape(&out, in, size) == 0);
  for (i = 0; i < size; i++) expect += unreserved(data[i]) ? 1 : 3;
  CHECK(out.len == expect);
  CHECK(memcmp(out.data, "pre", 3) == 0);
  CHECK(out.data[out.len] == '\0');
  for (i = 3; i < out.len; i++) {
    unsigned char c = (unsigned char)out.data[i];
    if (c == '%') {
      CHECK(i + 2 < out.len);
      CHECK(strchr("0123456789ABCDEF", out.data[i + 1]) && out.data[i + 1]);
      CHECK(strchr("0123456789ABCDEF", out.data[i + 2]) && out.data[i + 2]);
      i += 2;
    } else {
      CHECK(unreserved(c));
    }
  }
  decoded = malloc(out.len + 1);
  CHECK(decoded != NULL);
  n = url_decode(out.data + 3, out.len - 3, decoded);
  CHECK(n == (long)size);
  CHECK(size == 0 || memcmp(decoded, in, size) == 0);
  free(decoded);
  nvx_buf_free(&out);
  return 0;
}
