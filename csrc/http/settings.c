#include "http/settings.h"

#include <stdlib.h>
#include <string.h>

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
