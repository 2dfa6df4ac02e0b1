/* Test driver for the WebSocket handshake's hash and encoding (csrc/util/sha1.c,
 * csrc/util/base64.c), which Lua cannot reach directly: each input line is
 * "sha1 HEX" or "base64 HEX" (HEX: the input bytes, possibly empty; or
 * "sha1 million-a" for the FIPS 180 one-million-'a' vector), and each output
 * line the SHA-1 in hex or the base64 text. Built and run by
 * spec/unit/ws_framing_spec.lua. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/base64.h"
#include "util/sha1.h"

static size_t unhex(const char *s, unsigned char *out) {
  size_t n = 0;
  unsigned v;
  while (s[0] && s[1] && sscanf(s, "%2x", &v) == 1) {
    out[n++] = (unsigned char)v;
    s += 2;
  }
  return n;
}

int main(void) {
  static char line[8192];
  static unsigned char in[1000000];
  while (fgets(line, sizeof line, stdin)) {
    char *arg = strchr(line, ' ');
    size_t n;
    line[strcspn(line, "\n")] = '\0';
    arg = arg ? arg + 1 : line + strlen(line);
    if (strcmp(arg, "million-a") == 0) {
      memset(in, 'a', sizeof in);
      n = sizeof in;
    } else {
      n = unhex(arg, in);
    }
    if (strncmp(line, "sha1", 4) == 0) {
      unsigned char d[NVX_SHA1_LEN];
      int i;
      nvx_sha1(in, n, d);
      for (i = 0; i < NVX_SHA1_LEN; i++) printf("%02x", d[i]);
      printf("\n");
    } else {
      char *text = malloc(NVX_BASE64_SIZE(n));
      if (!text) return 1;
      nvx_base64_encode(in, n, text);
      printf("%s\n", text);
      free(text);
    }
  }
  return 0;
}
