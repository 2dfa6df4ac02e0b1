/* Unpredictable bytes from the kernel, for WebSocket keys and frame masks
 * (RFC 6455 10.3: a client's masking keys must not be predictable). */
#ifndef NAVIXY_RANDOM_H
#define NAVIXY_RANDOM_H

#include <stddef.h>

/* Fills buf with n random bytes; 0, or -1 when the kernel gave none. */
int nvx_random(void *buf, size_t n);

#endif
