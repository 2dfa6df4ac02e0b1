/* Where the session hash or API key goes: the request URL, a header, or the
 * body. One implementation, used by the curl transfers and handed to the
 * OpenResty transport through client:prepare(). Pure C, no Lua. */
#ifndef NAVIXY_AUTH_H
#define NAVIXY_AUTH_H

#include <stddef.h>
#include "util/buffer.h"
#include "util/status.h"

typedef enum { NVX_AUTH_HEADER, NVX_AUTH_QUERY, NVX_AUTH_BODY } nvx_auth_mode;
typedef enum { NVX_ENC_JSON, NVX_ENC_FORM } nvx_encoding;

/* <base>/<action>[?<query>], plus hash=<hash> in the query when hash is not
 * NULL (the caller passes it when the hash goes there: query mode, or a GET
 * in body mode). base has no trailing '/' (the client strips it once);
 * leading '/' of action is skipped; query (qlen bytes, may be 0) is already
 * encoded. */
int nvx_build_url(nvx_buf *out, const char *base, const char *action, size_t alen,
                  const char *query, size_t qlen, const char *hash);

/* Where the hash goes for a request: in the query string? (query mode, or a
 * GET, which has no body, in body mode) */
int nvx_hash_in_query(nvx_auth_mode mode, int is_get);

/* The request body with the hash placed in it in body mode: a root "hash"
 * member for JSON (body must be a JSON object: NVX_EBODY otherwise), a hash
 * field for forms. Other modes copy the body unchanged. */
int nvx_build_body(nvx_buf *out, const char *body, size_t n, nvx_encoding enc,
                   nvx_auth_mode mode, const char *hash);

#endif
