/* nvx_json_string: any bytes (every Lua string that goes into a JSON body,
 * and the hash placed in one). Invariants: the output is one valid JSON
 * string literal with no raw control character, and decodes back to the
 * input; what was in the buffer stays. */
#include <stdint.h>
#include "check.h"
#include "encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nvx_buf out = {NULL, 0, 0};
  const char *in = (const char *)data;
  char *decoded;
  size_t i;
  long n;
  CHECK(nvx_buf_adds(&out, "[1,") == 0);
  CHECK(nvx_json_string(&out, in, size) == 0);
  CHECK(memcmp(out.data, "[1,", 3) == 0);
  CHECK(out.data[out.len] == '\0');
  for (i = 3; i < out.len; i++) CHECK((unsigned char)out.data[i] >= 0x20 && out.data[i] != 0x7f);
  decoded = malloc(out.len);
  CHECK(decoded != NULL);
  n = json_decode_string(out.data + 3, out.len - 3, decoded);
  CHECK(n == (long)size);
  CHECK(size == 0 || memcmp(decoded, in, size) == 0);
  /* inside a document it keeps the document valid */
  CHECK(nvx_buf_adds(&out, "]") == 0);
  {
    nvx_buf obj = {NULL, 0, 0};
    CHECK(nvx_buf_adds(&obj, "{\"k\":") == 0 && nvx_json_string(&obj, in, size) == 0 &&
          nvx_buf_addc(&obj, '}') == 0);
    CHECK(json_is_object(obj.data, obj.len));
    nvx_buf_free(&obj);
  }
  free(decoded);
  nvx_buf_free(&out);
  return 0;
}
