/* nvx_build_url and nvx_build_body: where the hash goes. The input is split
 * into a mode byte, a hash, an action and a body (the hash and action as
 * the callers allow them: no CR, LF or NUL in the hash, no action
 * characters the Lua and C checks refuse). Invariants:
 *   URL  = base "/" action (leading '/' dropped) [ "?hash=" escaped hash ]
 *   body = the body unchanged, unless auth = body with a hash:
 *     form: body ["&"] "hash=" escaped hash  (the hash decodes back)
 *     JSON: refused (NVX_EBODY) unless it starts with '{'; otherwise
 *           {"hash":<hash>, then the original members, byte for byte; and
 *           when the body decodes to an object (the decoder is the one JSON
 *           grammar), so does the result: the same members, plus "hash"
 *           unless the body had its own (the last of repeated keys wins). */
#include <stdint.h>
#include "http/auth.h"
#include "util/escape.h"
#include "lua_core.h"

static const char BASE[] = "https://api.example.com/v2";

/* 1 with the object pushed when s[0..n) decodes to a JSON object, else 0. */
static int decodes_to_object(lua_State *L, const char *s, size_t n) {
  if (!core_decode(L, s, n, 0)) return 0;
  if (lua_istable(L, -1) && !has_mark(L, -1, "array_mt")) return 1;
  lua_pop(L, 1);
  return 0;
}

/* The next field: bytes up to a 0xFF separator (or the end). */
static const char *field(const uint8_t **p, const uint8_t *end, size_t *len) {
  const uint8_t *start = *p, *sep = memchr(start, 0xFF, (size_t)(end - start));
  if (!sep) sep = end;
  *len = (size_t)(sep - start);
  *p = sep < end ? sep + 1 : end;
  return (const char *)start;
}

static int action_ok(const char *a, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)a[i];
    if (c <= ' ' || c == 0x7f || c == '?' || c == '#') return 0;
  }
  return n > 0;
}

static void check_url(nvx_auth_mode mode, int is_get, const char *hash, const char *action, size_t alen,
                      const char *query, size_t qlen) {
  nvx_buf url = {NULL, 0, 0}, expect = {NULL, 0, 0};
  size_t skip = 0;
  int in_query = nvx_hash_in_query(mode, is_get);
  CHECK(in_query == (mode == NVX_AUTH_QUERY || (mode == NVX_AUTH_BODY && is_get)));
  if (!is_get) qlen = 0;
  CHECK(nvx_build_url(&url, BASE, action, alen, query, qlen, in_query ? hash : NULL) == NVX_OK);
  while (skip < alen && action[skip] == '/') skip++;
  CHECK(nvx_buf_adds(&expect, BASE) == 0 && nvx_buf_addc(&expect, '/') == 0 &&
        nvx_buf_add(&expect, action + skip, alen - skip) == 0);
  if (qlen > 0) CHECK(nvx_buf_addc(&expect, '?') == 0 && nvx_buf_add(&expect, query, qlen) == 0);
  if (in_query && hash)
    CHECK(nvx_buf_adds(&expect, qlen > 0 ? "&hash=" : "?hash=") == 0 &&
          nvx_url_escape(&expect, hash, strlen(hash)) == 0);
  CHECK(url.len == expect.len && memcmp(url.data, expect.data, url.len) == 0);
  if (!memchr(query, '\r', qlen) && !memchr(query, '\n', qlen)) /* the C core refuses those in a query */
    CHECK(memchr(url.data, '\r', url.len) == NULL && memchr(url.data, '\n', url.len) == NULL);
  nvx_buf_free(&url);
  nvx_buf_free(&expect);
}

static void check_form(const nvx_buf *out, const char *body, size_t n, const char *hash) {
  size_t h = strlen(hash), prefix = n + (n > 0 ? 1 : 0);
  char *decoded = malloc(out->len + 1);
  CHECK(decoded != NULL);
  CHECK(out->len >= prefix + 5);
  CHECK(n == 0 || memcmp(out->data, body, n) == 0);
  CHECK(n == 0 || out->data[n] == '&');
  CHECK(memcmp(out->data + prefix, "hash=", 5) == 0);
  CHECK(url_decode(out->data + prefix + 5, out->len - prefix - 5, decoded) == (long)h);
  CHECK(h == 0 || memcmp(decoded, hash, h) == 0);
  free(decoded);
}

static void check_json(const nvx_buf *out, int rc, const char *body, size_t n, const char *hash) {
  lua_State *L = core_state();
  size_t open = 0, next;
  nvx_buf expect = {NULL, 0, 0};
  while (open < n && strchr(" \t\r\n", body[open]) && body[open]) open++;
  next = open + 1;
  while (next < n && strchr(" \t\r\n", body[next]) && body[next]) next++;
  if (open >= n || body[open] != '{' || next >= n) {
    CHECK(rc == NVX_EBODY);
    CHECK(!decodes_to_object(L, body, n));
    return;
  }
  CHECK(rc == NVX_OK);
  CHECK(nvx_buf_adds(&expect, "{\"hash\":") == 0 && nvx_json_string(&expect, hash, strlen(hash)) == 0);
  if (body[next] != '}') CHECK(nvx_buf_addc(&expect, ',') == 0);
  CHECK(nvx_buf_add(&expect, body + open + 1, n - open - 1) == 0);
  CHECK(out->len == expect.len && memcmp(out->data, expect.data, out->len) == 0);
  if (decodes_to_object(L, body, n)) {
    lua_getfield(L, -1, "hash");
    if (lua_isnil(L, -1)) {
      lua_pushstring(L, hash);
      lua_setfield(L, -3, "hash");
    }
    lua_pop(L, 1);
    CHECK(decodes_to_object(L, out->data, out->len));
    CHECK(same_value(L, -2, -1, SAME_EXACT));
    lua_pop(L, 2);
  }
  nvx_buf_free(&expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *p = data, *end = data + size;
  nvx_auth_mode mode;
  nvx_encoding enc;
  const char *hash_in, *action, *body;
  size_t hlen, alen, blen;
  char *hash = NULL;
  nvx_buf out = {NULL, 0, 0};
  int rc;
  if (size < 1) return 0;
  mode = (nvx_auth_mode)(data[0] % 3);
  enc = (data[0] / 3) % 2 ? NVX_ENC_FORM : NVX_ENC_JSON;
  p++;
  hash_in = field(&p, end, &hlen);
  action = field(&p, end, &alen);
  body = (const char *)p;
  blen = (size_t)(end - p);
  if (!action_ok(action, alen)) return 0;
  if (!(data[0] & 0x80)) { /* else: a client without a hash */
    if (hlen == 0 || nvx_has_ctl(hash_in, hlen)) return 0; /* refused by set_hash */
    hash = malloc(hlen + 1);
    CHECK(hash != NULL);
    memcpy(hash, hash_in, hlen);
    hash[hlen] = '\0';
  }
  check_url(mode, (data[0] & 0x40) != 0, hash, action, alen, body, blen);
  rc = nvx_build_body(&out, body, blen, enc, mode, hash);
  if (mode != NVX_AUTH_BODY || !hash) {
    CHECK(rc == NVX_OK && out.len == blen && (blen == 0 || memcmp(out.data, body, blen) == 0));
  } else if (enc == NVX_ENC_FORM) {
    CHECK(rc == NVX_OK);
    check_form(&out, body, blen, hash);
  } else {
    check_json(&out, rc, body, blen, hash);
  }
  nvx_buf_free(&out);
  free(hash);
  return 0;
}
