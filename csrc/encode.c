#include "encode.h"

#include <string.h>

static const char HEX[] = "0123456789ABCDEF";

static int is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

int nvx_url_escape(nvx_buf *out, const char *s, size_t n) {
  size_t i;
  if (n > ((size_t)-1) / 3 || nvx_buf_reserve(out, n * 3) != 0) return -1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c)) {
      out->data[out->len++] = (char)c;
    } else {
      out->data[out->len++] = '%';
      out->data[out->len++] = HEX[c >> 4];
      out->data[out->len++] = HEX[c & 15];
    }
  }
  out->data[out->len] = '\0';
  return 0;
}

int nvx_json_string(nvx_buf *out, const char *s, size_t n) {
  size_t i;
  if (n > ((size_t)-1) / 6 - 2 || nvx_buf_reserve(out, n * 6 + 2) != 0) return -1;
  out->data[out->len++] = '"';
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      out->data[out->len++] = '\\';
      out->data[out->len++] = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      out->data[out->len++] = '\\';
      out->data[out->len++] = 'u';
      out->data[out->len++] = '0';
      out->data[out->len++] = '0';
      out->data[out->len++] = HEX[c >> 4];
      out->data[out->len++] = HEX[c & 15];
    } else {
      out->data[out->len++] = (char)c;
    }
  }
  out->data[out->len++] = '"';
  out->data[out->len] = '\0';
  return 0;
}

int nvx_has_ctl(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 1;
  return 0;
}
