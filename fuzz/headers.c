/* nvx_settings_set_hash / nvx_settings_lines: the header lines a client
 * sends, from fixed lines (user_agent, headers option), the Content-Type and
 * the hash. The input is split into lines and a hash, keeping only what the
 * option checks let through (no CR, LF or NUL). Invariants: the lines are
 * the fixed ones, then Content-Type when asked for, then, in header mode and
 * when asked for, exactly "Authorization: NVX <hash>"; every change bumps
 * the generation; clearing the hash removes the line; no line holds CR or
 * NUL, so no header can be split or injected. */
#include <stdint.h>
#include "check.h"
#include "util/escape.h"
#include "http/settings.h"

/* The lines for each way a transfer asks for them. */
static void check_lines(const nvx_settings *s, const char *hash) {
  int with_hash, typed;
  for (with_hash = 0; with_hash < 2; with_hash++) {
    for (typed = 0; typed < 2; typed++) {
      const char *ctype = typed ? nvx_settings_content_type(s) : NULL;
      nvx_buf got = {NULL, 0, 0}, expect = {NULL, 0, 0};
      CHECK(nvx_settings_lines(s, with_hash, ctype, &got) == NVX_OK);
      CHECK(nvx_buf_add(&expect, s->fixed_headers.data, s->fixed_headers.len) == 0);
      if (ctype)
        CHECK(nvx_buf_adds(&expect, "Content-Type: ") == 0 && nvx_buf_adds(&expect, ctype) == 0 &&
              nvx_buf_addc(&expect, '\n') == 0);
      if (with_hash && s->auth == NVX_AUTH_HEADER && hash)
        CHECK(nvx_buf_adds(&expect, "Authorization: NVX ") == 0 && nvx_buf_adds(&expect, hash) == 0 &&
              nvx_buf_addc(&expect, '\n') == 0);
      CHECK(got.len == expect.len);
      CHECK(expect.len == 0 || memcmp(got.data, expect.data, expect.len) == 0);
      CHECK(got.len == 0 || got.data[got.len - 1] == '\n');
      CHECK(got.len == 0 || memchr(got.data, '\r', got.len) == NULL);
      CHECK(got.len == 0 || memchr(got.data, '\0', got.len) == NULL);
      nvx_buf_wipe(&got);
      nvx_buf_free(&expect);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nvx_settings s;
  const char *in = (const char *)data;
  const uint8_t *sep;
  size_t fixed_len, hlen, i, start;
  if (size < 1) return 0;
  memset(&s, 0, sizeof s);
  s.auth = (nvx_auth_mode)(data[0] % 3);
  in++;
  size--;
  sep = memchr(in, 0xFF, size); /* fixed lines 0xFF hash */
  fixed_len = sep ? (size_t)((const char *)sep - in) : size;
  hlen = sep ? size - fixed_len - 1 : 0;
  /* the fixed lines as client.c builds them: each checked, each ends in \n */
  for (start = 0, i = 0; i <= fixed_len; i++) {
    if (i == fixed_len || in[i] == '\n') {
      if (i > start && !nvx_has_ctl(in + start, i - start)) {
        CHECK(nvx_buf_add(&s.fixed_headers, in + start, i - start) == 0);
        CHECK(nvx_buf_addc(&s.fixed_headers, '\n') == 0);
      }
      start = i + 1;
    }
  }
  s.enc = (nvx_encoding)(data[0] / 3 % 2);
  check_lines(&s, NULL);
  if (sep && hlen > 0 && !nvx_has_ctl((const char *)sep + 1, hlen)) {
    const char *hash = (const char *)sep + 1;
    char *copy = malloc(hlen + 1);
    unsigned gen;
    CHECK(copy != NULL);
    memcpy(copy, hash, hlen);
    copy[hlen] = '\0';
    gen = s.generation;
    CHECK(nvx_settings_set_hash(&s, hash, hlen) == NVX_OK);
    CHECK(s.generation == gen + 1);
    CHECK(strcmp(s.hash, copy) == 0);
    check_lines(&s, copy);
    gen = s.generation;
    CHECK(nvx_settings_set_hash(&s, NULL, 0) == NVX_OK);
    CHECK(s.generation == gen + 1 && s.hash == NULL);
    check_lines(&s, NULL);
    free(copy);
  }
  nvx_settings_free(&s);
  return 0;
}
