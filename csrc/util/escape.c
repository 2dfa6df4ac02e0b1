#include "util/escape.h"

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

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

/* Writes cp as UTF-8 at u (1 to 4 bytes); returns the byte after it. */
static char *add_utf8(char *u, unsigned cp) {
  if (cp < 0x80) {
    *u++ = (char)cp;
  } else if (cp < 0x800) {
    *u++ = (char)(0xC0 | (cp >> 6));
    *u++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *u++ = (char)(0xE0 | (cp >> 12));
    *u++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *u++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *u++ = (char)(0xF0 | (cp >> 18));
    *u++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *u++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *u++ = (char)(0x80 | (cp & 0x3F));
  }
  return u;
}

size_t nvx_json_escape(const char *p, const char *end, char *out, size_t *nout,
                       const char **why) {
  static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
  unsigned cp, low;
  if (end - p < 2) {
    *why = "unterminated string";
    return 0;
  }
  if (p[1] != 'u') {
    const char *which;
    if (p[1] == '\0' || (which = strchr(plain, p[1])) == NULL) {
      *why = "invalid escape";
      return 0;
    }
    *out = meant[which - plain];
    *nout = 1;
    return 2;
  }
  if (end - p < 6 || !hex4(p + 2, &cp)) {
    *why = "invalid \\u escape";
    return 0;
  }
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    *why = "lone low surrogate";
    return 0;
  }
  if (cp < 0xD800 || cp > 0xDBFF) {
    *nout = (size_t)(add_utf8(out, cp) - out);
    return 6;
  }
  if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, &low) || low < 0xDC00 ||
      low > 0xDFFF) {
    *why = "lone high surrogate";
    return 0;
  }
  cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  *nout = (size_t)(add_utf8(out, cp) - out);
  return 12;
}
