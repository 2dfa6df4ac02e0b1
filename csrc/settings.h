/* What a client was created with: everything a transfer needs to build and
 * send a request. Owned by the client; transfers read it. */
#ifndef NAVIXY_SETTINGS_H
#define NAVIXY_SETTINGS_H

#include <stddef.h>
#include "auth.h"
#include "buffer.h"

/* The longest timeout accepted, in milliseconds (navixy.options allows at
 * most 1e6 seconds); it fits a 32-bit long, as curl's options need. */
#define NVX_MAX_TIMEOUT_MS 1e9

typedef struct nvx_settings {
  char *base;           /* base URL without trailing '/' */
  char *hash;           /* NULL when the client has none */
  char *ca_file;        /* NULL: the system store */
  char *proxy;          /* NULL: curl's defaults (environment) */
  nvx_buf fixed_headers; /* "Name: value\n" lines from navixy.options */
  nvx_buf headers;      /* fixed_headers plus Authorization: one line each */
  unsigned generation;  /* bumped when headers change, so transfers rebuild */
  nvx_auth_mode auth;
  nvx_encoding enc;
  long timeout_ms;
  long connect_timeout_ms;
  size_t max_size;      /* largest answer accepted, in bytes */
  int ssl_verify;
} nvx_settings;

/* Rebuilds headers from fixed_headers and the hash; 0 or NVX_ENOMEM. */
int nvx_settings_headers(nvx_settings *s);

/* Replaces the hash (NULL: none); 0 or NVX_ENOMEM (the old hash stays). */
int nvx_settings_set_hash(nvx_settings *s, const char *hash, size_t n);

void nvx_settings_free(nvx_settings *s);

/* Overwrites the hash bytes before freeing them, so a freed session key
 * does not linger in the heap. */
void nvx_secret_free(char *secret);

#endif
