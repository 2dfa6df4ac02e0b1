/* Base64 (RFC 4648, standard alphabet, with padding): the WebSocket key and
 * accept values are base64 text. */
#ifndef NAVIXY_BASE64_H
#define NAVIXY_BASE64_H

#include <stddef.h>

/* Room base64 text of n bytes needs, its terminating NUL included. */
#define NVX_BASE64_SIZE(n) (((n) + 2) / 3 * 4 + 1)

/* Writes the base64 text of in[0..n) and a NUL to out (NVX_BASE64_SIZE(n)
 * bytes); returns the text's length. */
size_t nvx_base64_encode(const unsigned char *in, size_t n, char *out);

#endif
