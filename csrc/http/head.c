#include "http/head.h"

#include <string.h>

/* Lua's %s in the C locale, which the transport's patterns used */
static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* "HTTP/d.d ddd", what may follow it aside */
static int status_line(const char *p, size_t n, nvx_head *h) {
  if (n < 12 || memcmp(p, "HTTP/", 5) != 0 || !is_digit(p[5]) || p[6] != '.' || !is_digit(p[7]) ||
      p[8] != ' ' || !is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]))
    return 0;
  h->major = p[5] - '0';
  h->minor = p[7] - '0';
  h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  return 1;
}

int nvx_head_scan(const char *buf, size_t n, size_t budget, nvx_head *h) {
  size_t pos = 0;
  int first = 1;
  for (;;) {
    const char *nl = memchr(buf + pos, '\n', n - pos);
    size_t raw, len;
    if (!nl) {
      if (n - pos > budget) return first ? NVX_HEAD_STATUS_LIMIT : NVX_HEAD_LIMIT;
      return NVX_HEAD_MORE;
    }
    raw = (size_t)(nl - (buf + pos)); /* the line, its CR included */
    len = raw > 0 && buf[pos + raw - 1] == '\r' ? raw - 1 : raw;
    if (raw > budget || len + 2 > budget) return first ? NVX_HEAD_STATUS_LIMIT : NVX_HEAD_LIMIT;
    budget -= len + 2;
    if (first) {
      if (!status_line(buf + pos, len, h)) return NVX_HEAD_MALFORMED;
      first = 0;
      h->first_header = pos + raw + 1;
    } else if (len == 0) {
      h->length = pos + raw + 1;
      h->budget = budget;
      return NVX_HEAD_DONE;
    }
    pos += raw + 1;
  }
}

int nvx_head_next(const char *buf, const nvx_head *h, size_t *pos, nvx_header *out) {
  while (*pos < h->length) {
    const char *p = buf + *pos;
    const char *nl = memchr(p, '\n', h->length - *pos);
    size_t len = (size_t)(nl - p), i = 0, end;
    *pos += len + 1;
    if (len > 0 && p[len - 1] == '\r') len--;
    if (len == 0) return 0;
    while (i < len && p[i] != ':' && !is_space(p[i])) i++;
    if (i == 0) continue;
    out->name = p;
    out->name_len = i;
    while (i < len && is_space(p[i])) i++;
    if (i == len || p[i] != ':') continue;
    i++;
    while (i < len && is_space(p[i])) i++;
    end = len;
    while (end > i && is_space(p[end - 1])) end--;
    out->value = p + i;
    out->value_len = end - i;
    return 1;
  }
  return 0;
}
