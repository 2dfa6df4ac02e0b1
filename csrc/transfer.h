/* One HTTP exchange slot: a curl easy handle with the buffers it reads from
 * and writes to. A client owns one for sequential calls; a batch owns one
 * per request in flight. */
#ifndef NAVIXY_TRANSFER_H
#define NAVIXY_TRANSFER_H

#include <curl/curl.h>
#include <lua.h>
#include "buffer.h"
#include "reply.h"
#include "settings.h"

/* One request, as the Lua layer hands it over (see client.c read_request). */
typedef struct nvx_request {
  const char *action, *body;
  size_t alen, blen;
  long timeout_ms; /* 0: the client's */
  int fresh;       /* on a new connection, never a kept-alive one */
  int anonymous;   /* without the hash (a login) */
} nvx_request;

typedef struct nvx_transfer {
  CURL *easy;
  struct curl_slist *headers;      /* built from settings->headers */
  struct curl_slist *anon_headers; /* from settings->fixed_headers: no Authorization */
  unsigned generation;        /* settings generation the list was built from */
  nvx_buf url, body;
  nvx_reply reply;            /* what the callbacks received */
  int requests;               /* requests this transfer sent (see on_prereq) */
  int interrupted;            /* stopped by Ctrl-C (see interrupt.h) */
  char errbuf[CURL_ERROR_SIZE];
} nvx_transfer;

/* Creates the easy handle with the client-wide options; 0 or NVX_ENOMEM. */
int nvx_transfer_init(nvx_transfer *t, const nvx_settings *s);

/* Readies the next request: URL, body (hash placed unless anonymous),
 * headers, timeout, connection reuse. 0, NVX_ENOMEM or NVX_EBODY. */
int nvx_transfer_prepare(nvx_transfer *t, const nvx_settings *s, const nvx_request *r);

/* Pushes the outcome of a finished transfer as one table (the result of
 * the transport contract, lua/navixy/transport/init.lua):
 *   { status =, body =, retry_after = seconds|nil }   an answer arrived
 *   { kind =, message =, phase = }                    none did
 * kind is "timeout" or "transport"; phase says how far the request got:
 * "connect" (not sent), "tls" (certificate rejected), "send" (sent, outcome
 * unknown), "stale" (a kept-alive connection the server had closed: curl
 * was stopped from sending the request again by itself), "interrupted"
 * (Ctrl-C) or "limit" (the answer was over max_size). Returns 1. */
int nvx_transfer_push_result(lua_State *L, nvx_transfer *t, CURLcode rc);

void nvx_transfer_free(nvx_transfer *t);

#endif
