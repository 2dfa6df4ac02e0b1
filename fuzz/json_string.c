/* nvx_json_string: any bytes (every Lua string that goes into a JSON body,
 * and the hash placed in one). Invariants: the output has no raw control
 * character, what was in the buffer stays, and the decoder (the one JSON
 * grammar) reads it back as the input, alone and inside a document. */
#include <stdint.h>
#include "util/escape.h"
#include "lua_core.h"

/* Whether the decoder reads text[0..n) as exactly the string in[0..size). */
static int reads_back(lua_State *L, const char *text, size_t n, const char *in, size_t size) {
  size_t len;
  const char *got;
  int same;
  if (!core_decode(L, text, n, 0)) return 0;
  got = lua_tolstring(L, -1, &len);
  same = lua_type(L, -1) == LUA_TSTRING && len == size && memcmp(got, in, size) == 0;
  lua_pop(L, 1);
  return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = core_state();
  nvx_buf out = {NULL, 0, 0}, doc = {NULL, 0, 0};
  const char *in = (const char *)data;
  size_t i;
  CHECK(nvx_buf_adds(&out, "[1,") == 0);
  CHECK(nvx_json_string(&out, in, size) == 0);
  CHECK(memcmp(out.data, "[1,", 3) == 0);
  CHECK(out.data[out.len] == '\0');
  for (i = 3; i < out.len; i++) CHECK((unsigned char)out.data[i] >= 0x20 && out.data[i] != 0x7f);
  CHECK(reads_back(L, out.data + 3, out.len - 3, in, size));
  /* inside a document: {"k":<string>} decodes to an object holding it */
  CHECK(nvx_buf_adds(&doc, "{\"k\":") == 0 && nvx_json_string(&doc, in, size) == 0 &&
        nvx_buf_addc(&doc, '}') == 0);
  CHECK(core_decode(L, doc.data, doc.len, 0));
  CHECK(lua_istable(L, -1) && !has_mark(L, -1, "array_mt"));
  lua_getfield(L, -1, "k");
  {
    size_t len;
    const char *got = lua_tolstring(L, -1, &len);
    CHECK(got && len == size && memcmp(got, in, size) == 0);
  }
  lua_pop(L, 2);
  nvx_buf_free(&doc);
  nvx_buf_free(&out);
  return 0;
}
