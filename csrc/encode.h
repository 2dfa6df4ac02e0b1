/* Byte-level encoders for request data. Pure C, no Lua: they handle
 * user-supplied bytes and are the fuzzing targets. */
#ifndef NAVIXY_ENCODE_H
#define NAVIXY_ENCODE_H

#include <stddef.h>
#include "buffer.h"

/* Percent-encodes everything but RFC 3986 unreserved characters, so the
 * result is safe in a query string and in an x-www-form-urlencoded body. */
int nvx_url_escape(nvx_buf *out, const char *s, size_t n);

/* Appends s as a JSON string literal, quotes included. Bytes >= 0x80 are
 * copied as they are (the caller's UTF-8 stays UTF-8). */
int nvx_json_string(nvx_buf *out, const char *s, size_t n);

/* 1 when s holds CR, LF or NUL: such bytes would split or cut an HTTP header. */
int nvx_has_ctl(const char *s, size_t n);

#endif
