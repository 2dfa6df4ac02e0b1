/* One HTTP exchange slot: a curl easy handle with the buffers it reads from
 * and writes to, and where it stands in the engine (engine.h). A client owns
 * one for sequential calls and one per request in flight in a batch. */
#ifndef NAVIXY_TRANSFER_H
#define NAVIXY_TRANSFER_H

#include <curl/curl.h>
#include "util/buffer.h"
#include "http/reply.h"
#include "http/settings.h"

/* A streamed body is handed out in pieces of about this many bytes. */
#define NVX_CHUNK (256 * 1024)

typedef enum { NVX_POST, NVX_GET } nvx_method;

/* One request, as the Lua layer hands it over (see client.c read_request). */
typedef struct nvx_request {
  const char *action, *body; /* body: the encoded params (a query string for GET) */
  size_t alen, blen;
  const char *url;     /* NULL, or an absolute URL sent to instead of <base>/<action>, never with the hash */
  const char *headers; /* NULL, or the call's header lines ("Name: value\n"): they replace the
                        * defaults of their names */
  const char *query;   /* NULL, or a query string (form-encoded) added to the URL whatever the method */
  size_t hlen, qlen;
  nvx_method method;
  long timeout_ms;     /* 0: the client's */
  int fresh;           /* on a new connection, never a kept-alive one */
  int anonymous;       /* without the hash (a login) */
  int stream;          /* a 2xx answer that is not JSON goes out in chunks */
  curl_mime *mime;     /* multipart/form-data instead of body (owned by the transfer after prepare) */
} nvx_request;

enum { NVX_IDLE, NVX_RUNNING, NVX_DONE };

typedef struct nvx_transfer {
  CURL *easy;
  struct curl_slist *lists[2][2];  /* header lists [with the hash][with Content-Type] */
  unsigned generation;             /* settings generation the lists were built from */
  nvx_buf url, body;
  curl_mime *mime;                 /* the multipart body in use, or NULL */
  struct curl_slist *call_list;    /* the header list of a request with headers of its own, or NULL */
  nvx_reply reply;                 /* what the callbacks received */
  int want_stream;                 /* nvx_request.stream */
  int decided;                     /* the answer's first body byte came: streaming is known */
  double streamed;                 /* body bytes handed out as chunks */
  int state;                       /* NVX_IDLE, NVX_RUNNING, NVX_DONE (engine.c) */
  int chunk_ready;                 /* paused with a piece of the body to hand out */
  int paused;                      /* that piece was handed out; waits for nvx_engine_resume */
  CURLcode rc;                     /* curl's outcome, once done */
  int requests;                    /* requests this transfer sent (see on_prereq) */
  int interrupted;                 /* stopped by Ctrl-C (see interrupt.h) */
  char errbuf[CURL_ERROR_SIZE];
} nvx_transfer;

/* Creates the easy handle with the client-wide options; 0 or NVX_ENOMEM. */
int nvx_transfer_init(nvx_transfer *t, const nvx_settings *s);

/* Readies the next request: URL, body (hash placed unless anonymous) or the
 * multipart body, method, headers, timeout, connection reuse. 0,
 * NVX_ENOMEM or NVX_EBODY. Takes r->mime in every case. */
/* The URL of request r into out: r->url as it is (a GET's query appended), or
 * <base>/<action>[?query][&hash=] (auth.h, nvx_build_url). */
int nvx_request_url(nvx_buf *out, const char *base, const nvx_request *r, const char *hash);
int nvx_transfer_prepare(nvx_transfer *t, const nvx_settings *s, const nvx_request *r);

/* Why a finished transfer got no answer (t->rc is not CURLE_OK): kind is
 * "timeout" or "transport"; phase says how far the request got: "connect"
 * (not sent), "tls" (certificate rejected), "send" (sent, outcome unknown),
 * "stale" (a kept-alive connection the server had closed: curl was stopped
 * from sending the request again by itself), "interrupted" (Ctrl-C) or
 * "limit" (the answer was over max_size, or its headers over
 * NVX_MAX_HEADER_BYTES); message says it for people. */
typedef struct nvx_failure {
  const char *kind, *phase, *message; /* message may point into text or the transfer */
  char text[96];
} nvx_failure;

/* The status of the answer a finished transfer got (t->rc is CURLE_OK). */
long nvx_transfer_status(nvx_transfer *t);

/* Fills f for a transfer that failed. */
void nvx_transfer_failure(nvx_transfer *t, nvx_failure *f);

/* The body's bytes were handed out (a chunk, or the rest at the end):
 * they are counted as streamed when it is a chunk, and the buffer emptied
 * (given back when it grew large). */
void nvx_transfer_body_taken(nvx_transfer *t, int chunk);

/* The transfer is finished with: its multipart body and a large body
 * buffer go, so that no body-sized buffer is kept. */
void nvx_transfer_finish(nvx_transfer *t);

void nvx_transfer_free(nvx_transfer *t);

#endif
