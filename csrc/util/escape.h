/* Byte escapes: written for request data (percent-encoding, JSON string
 * literals) and read back (a JSON escape). Pure C, no Lua: they handle
 * user-supplied bytes and are the fuzzing targets. */
#ifndef NAVIXY_UTIL_ESCAPE_H
#define NAVIXY_UTIL_ESCAPE_H

#include <stddef.h>
#include "util/buffer.h"

/* Percent-encodes everything but RFC 3986 unreserved characters, so the
 * result is safe in a query string and in an x-www-form-urlencoded body. */
int nvx_url_escape(nvx_buf *out, const char *s, size_t n);

/* Appends s as a JSON string literal, quotes included. Bytes >= 0x80 are
 * copied as they are (the caller's UTF-8 stays UTF-8). */
int nvx_json_string(nvx_buf *out, const char *s, size_t n);

/* 1 when s holds CR, LF or NUL: such bytes would split or cut an HTTP header. */
int nvx_has_ctl(const char *s, size_t n);

/* Reads the escape at p (a backslash) as JSON reads it, for the decoder
 * and the masking of secrets alike: returns its length (2; 6 for \uXXXX;
 * 12 for a surrogate pair) and writes the UTF-8 bytes it stands for at out
 * (at most 4), their count at *nout; 0 when it is not a valid escape, *why
 * then saying why. */
size_t nvx_json_escape(const char *p, const char *end, char *out, size_t *nout,
                       const char **why);

#endif
