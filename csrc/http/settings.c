#include "http/settings.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void nvx_secret_free(char *secret) {
  if (!secret) return;
  {
    volatile char *p = secret;
    while (*p) *p++ = 0;
  }
  free(secret);
}

const char *nvx_settings_content_type(const nvx_settings *s) {
  return s->enc == NVX_ENC_JSON ? "application/json" : "application/x-www-form-urlencoded";
}

int nvx_settings_lines(const nvx_settings *s, int with_hash, const char *content_type, nvx_buf *out) {
  nvx_buf_reset(out);
  if (nvx_buf_add(out, s->fixed_headers.data, s->fixed_headers.len)) return NVX_ENOMEM;
  if (content_type && (nvx_buf_adds(out, "Content-Type: ") || nvx_buf_adds(out, content_type) ||
                       nvx_buf_addc(out, '\n')))
    return NVX_ENOMEM;
  if (with_hash && s->auth == NVX_AUTH_HEADER && s->hash &&
      (nvx_buf_adds(out, "Authorization: NVX ") || nvx_buf_adds(out, s->hash) ||
       nvx_buf_addc(out, '\n')))
    return NVX_ENOMEM;
  return NVX_OK;
}

/* Whether the header line at p (up to its ':') names a header that one of
 * the '\n'-separated lines in call[0..clen) names too (case-insensitively). */
static int named_in(const char *p, size_t n, const char *call, size_t clen) {
  const char *colon = memchr(p, ':', n), *q = call, *end = call + clen;
  size_t name = colon ? (size_t)(colon - p) : n;
  while (q < end) {
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    size_t len = nl ? (size_t)(nl - q) : (size_t)(end - q);
    const char *c = memchr(q, ':', len);
    if (c && (size_t)(c - q) == name && strncasecmp(q, p, name) == 0) return 1;
    q = nl ? nl + 1 : end;
  }
  return 0;
}

int nvx_lines_override(nvx_buf *out, const nvx_buf *lines, const char *call, size_t clen) {
  const char *p = lines->data, *end = p ? p + lines->len : NULL;
  nvx_buf_reset(out);
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (!named_in(p, n, call, clen) && (nvx_buf_add(out, p, n) || nvx_buf_addc(out, '\n'))) return NVX_ENOMEM;
    p = nl ? nl + 1 : end;
  }
  if (clen > 0 && nvx_buf_add(out, call, clen)) return NVX_ENOMEM;
  return NVX_OK;
}

int nvx_settings_set_hash(nvx_settings *s, const char *hash, size_t n) {
  char *copy = NULL;
  if (hash) {
    copy = malloc(n + 1);
    if (!copy) return NVX_ENOMEM;
    memcpy(copy, hash, n);
    copy[n] = '\0';
  }
  nvx_secret_free(s->hash);
  s->hash = copy;
  s->generation++;
  return NVX_OK;
}

void nvx_settings_free(nvx_settings *s) {
  free(s->base);
  nvx_secret_free(s->hash);
  free(s->ca_file);
  free(s->proxy);
  nvx_buf_free(&s->fixed_headers);
  memset(s, 0, sizeof *s);
}
