#include "settings.h"

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

static void wipe_buf(nvx_buf *b) {
  if (b->data) memset(b->data, 0, b->cap);
  nvx_buf_free(b);
}

/* Built aside and swapped in, so a failure leaves the old lines intact. */
int nvx_settings_headers(nvx_settings *s) {
  nvx_buf next = {NULL, 0, 0};
  if (nvx_buf_add(&next, s->fixed_headers.data, s->fixed_headers.len)) goto nomem;
  if (s->auth == NVX_AUTH_HEADER && s->hash) {
    if (nvx_buf_adds(&next, "Authorization: NVX ") || nvx_buf_adds(&next, s->hash) ||
        nvx_buf_addc(&next, '\n'))
      goto nomem;
  }
  wipe_buf(&s->headers);
  s->headers = next;
  s->generation++;
  return NVX_OK;
nomem:
  wipe_buf(&next);
  return NVX_ENOMEM;
}

int nvx_settings_set_hash(nvx_settings *s, const char *hash, size_t n) {
  char *copy = NULL, *old = s->hash;
  if (hash) {
    copy = malloc(n + 1);
    if (!copy) return NVX_ENOMEM;
    memcpy(copy, hash, n);
    copy[n] = '\0';
  }
  s->hash = copy;
  if (nvx_settings_headers(s) != NVX_OK) {
    s->hash = old;
    nvx_secret_free(copy);
    return NVX_ENOMEM;
  }
  nvx_secret_free(old);
  return NVX_OK;
}

void nvx_settings_free(nvx_settings *s) {
  free(s->base);
  nvx_secret_free(s->hash);
  free(s->ca_file);
  free(s->proxy);
  nvx_buf_free(&s->fixed_headers);
  wipe_buf(&s->headers);
  memset(s, 0, sizeof *s);
}
