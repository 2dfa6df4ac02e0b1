/* SHA-1 (FIPS 180-4): for the WebSocket handshake (the server proves it read
 * our key by answering base64(SHA-1(key + GUID))) and for the names of shared
 * store keys (core.sha1hex: a login never shows in a key). Not for security. */
#ifndef NAVIXY_SHA1_H
#define NAVIXY_SHA1_H

#include <stddef.h>

#define NVX_SHA1_LEN 20

void nvx_sha1(const void *data, size_t n, unsigned char out[NVX_SHA1_LEN]);

#endif
