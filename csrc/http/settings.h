/* What a client was created with: everything a transfer needs to build and
 * send a request. Owned by the client; transfers read it. */
#ifndef NAVIXY_SETTINGS_H
#define NAVIXY_SETTINGS_H

#include <stddef.h>
#include "http/auth.h"
#include "util/buffer.h"

/* The largest answer (or WebSocket message) accepted unless the options
 * say otherwise: core.default_max_size for the Lua layer's defaults. */
#define NVX_DEFAULT_MAX_SIZE ((size_t)64 * 1024 * 1024)

typedef struct nvx_settings {
  char *base;           /* base URL without trailing '/' */
  char *hash;           /* NULL when the client has none */
  char *ca_file;        /* NULL: the system store */
  char *proxy;          /* NULL: curl's defaults (environment) */
  nvx_buf fixed_headers; /* "Name: value\n" lines from navixy.options */
  unsigned generation;  /* bumped when the hash changes, so transfers rebuild their headers */
  nvx_auth_mode auth;
  nvx_encoding enc;
  long timeout_ms;
  long connect_timeout_ms;
  size_t max_size;      /* largest answer accepted, in bytes */
  int ssl_verify;
} nvx_settings;

/* The Content-Type of a request body by the client's encoding. */
const char *nvx_settings_content_type(const nvx_settings *s);

/* The header lines of a request ("Name: value\n" each) into out: the fixed
 * ones, Content-Type when content_type is not NULL, and Authorization when
 * the hash goes in the header and with_hash is set. 0 or NVX_ENOMEM. The
 * caller wipes out (it may hold the hash). */
int nvx_settings_lines(const nvx_settings *s, int with_hash, const char *content_type, nvx_buf *out);
/* lines ("Name: value\n" each) into out without those a line of call[0..clen)
 * names (case-insensitively), then the call's lines: a call's header replaces
 * the default of its name. */
int nvx_lines_override(nvx_buf *out, const nvx_buf *lines, const char *call, size_t clen);

/* Replaces the hash (NULL: none); 0 or NVX_ENOMEM (the old hash stays). */
int nvx_settings_set_hash(nvx_settings *s, const char *hash, size_t n);

void nvx_settings_free(nvx_settings *s);

/* Overwrites the hash bytes before freeing them, so a freed session key
 * does not linger in the heap. */
void nvx_secret_free(char *secret);

#endif
