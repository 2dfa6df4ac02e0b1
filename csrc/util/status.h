/* What the pure C functions that can fail return: 0, or why not. */
#ifndef NAVIXY_UTIL_STATUS_H
#define NAVIXY_UTIL_STATUS_H

enum {
  NVX_OK = 0,
  NVX_ENOMEM = -1, /* memory ran out */
  NVX_EBODY = -2   /* a JSON request body that is not an object (http/auth.h) */
};

#endif
