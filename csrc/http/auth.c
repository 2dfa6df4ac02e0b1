#include "http/auth.h"

#include <string.h>
#include "util/escape.h"

int nvx_build_url(nvx_buf *out, const char *base, const char *action, size_t alen,
                  const char *query, size_t qlen, const char *hash) {
  while (alen > 0 && *action == '/') {
    action++;
    alen--;
  }
  nvx_buf_reset(out);
  if (nvx_buf_adds(out, base) || nvx_buf_addc(out, '/') || nvx_buf_add(out, action, alen))
    return NVX_ENOMEM;
  if (qlen > 0 && (nvx_buf_addc(out, '?') || nvx_buf_add(out, query, qlen))) return NVX_ENOMEM;
  if (hash && (nvx_buf_adds(out, qlen > 0 ? "&hash=" : "?hash=") ||
               nvx_url_escape(out, hash, strlen(hash))))
    return NVX_ENOMEM;
  return NVX_OK;
}

int nvx_hash_in_query(nvx_auth_mode mode, int is_get) {
  return mode == NVX_AUTH_QUERY || (mode == NVX_AUTH_BODY && is_get);
}

static size_t skip_space(const char *s, size_t i, size_t n) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
  return i;
}

/* {"hash":"<hash>", ...rest of the object } */
static int json_with_hash(nvx_buf *out, const char *body, size_t n, const char *hash) {
  size_t open = skip_space(body, 0, n), next;
  if (open >= n || body[open] != '{') return NVX_EBODY;
  next = skip_space(body, open + 1, n);
  if (next >= n) return NVX_EBODY;
  if (nvx_buf_adds(out, "{\"hash\":") || nvx_json_string(out, hash, strlen(hash)))
    return NVX_ENOMEM;
  if (body[next] != '}' && nvx_buf_addc(out, ',')) return NVX_ENOMEM;
  if (nvx_buf_add(out, body + open + 1, n - open - 1)) return NVX_ENOMEM;
  return NVX_OK;
}

static int form_with_hash(nvx_buf *out, const char *body, size_t n, const char *hash) {
  if (nvx_buf_add(out, body, n)) return NVX_ENOMEM;
  if (n > 0 && nvx_buf_addc(out, '&')) return NVX_ENOMEM;
  if (nvx_buf_adds(out, "hash=") || nvx_url_escape(out, hash, strlen(hash))) return NVX_ENOMEM;
  return NVX_OK;
}

int nvx_build_body(nvx_buf *out, const char *body, size_t n, nvx_encoding enc,
                   nvx_auth_mode mode, const char *hash) {
  nvx_buf_reset(out);
  if (mode != NVX_AUTH_BODY || !hash) return nvx_buf_add(out, body, n) ? NVX_ENOMEM : NVX_OK;
  return enc == NVX_ENC_JSON ? json_with_hash(out, body, n, hash)
                             : form_with_hash(out, body, n, hash);
}
