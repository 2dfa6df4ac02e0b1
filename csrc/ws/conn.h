/* A WebSocket connection over libcurl: curl connects (proxy, TLS and its
 * verification, connect timeout: all libcurl's, with the options the HTTP
 * client uses) and stops there (CURLOPT_CONNECT_ONLY); the handshake and the
 * frames (ws/handshake.c, ws/frame.c) then go through curl_easy_send and
 * curl_easy_recv, waiting with poll() on CURLINFO_ACTIVESOCKET. No Lua here. */
#ifndef NAVIXY_WS_CONN_H
#define NAVIXY_WS_CONN_H

#include <curl/curl.h>
#include "util/buffer.h"
#include "ws/frame.h"

typedef struct nvx_ws_options {
  const char *url;        /* ws://, wss://, http:// or https:// */
  const char *lines;      /* extra header lines, "Name: value\n" each */
  size_t lines_len;
  const char *ca_file;    /* NULL: the system store */
  const char *proxy;      /* NULL: curl's defaults (environment) */
  long timeout_ms;        /* bounds the handshake, and each send */
  long connect_timeout_ms;
  size_t max_message;
  int ssl_verify;
} nvx_ws_options;

/* Why a connection or an exchange failed. */
typedef struct nvx_ws_error {
  const char *kind;   /* "timeout", "transport", "http", "protocol", "closed" or
                         "interrupted" (Ctrl-C: see interrupt.h) */
  const char *phase;  /* "connect", "tls", "handshake", "send" or "recv" */
  int code;           /* the close code (closed, protocol; 1006 for a drop), else 0 */
  int status;         /* http: the HTTP status of the refused upgrade */
  char description[CURL_ERROR_SIZE + 64];
  char reason[NVX_WS_REASON_MAX + 1]; /* closed: the peer's reason */
  char body[4096 + 1]; /* http: the start of the answer's body */
  size_t body_len;
} nvx_ws_error;

typedef enum { NVX_CONN_OPEN, NVX_CONN_ENDED } nvx_conn_state;

typedef struct nvx_ws_conn {
  CURL *easy;
  curl_socket_t sock;
  nvx_ws ws;
  nvx_buf in;          /* received bytes; those from in_pos on are not parsed yet */
  size_t in_pos;
  char *where;         /* "host/path" (no query) for messages */
  long timeout_ms;
  nvx_conn_state state;
  nvx_ws_error last;   /* ENDED: why; returned again by later calls */
  char errbuf[CURL_ERROR_SIZE];
} nvx_ws_conn;

/* 1 when url is a ws/wss/http/https URL with a host and no fragment or
 * user info (checked before anything is allocated). */
int nvx_ws_url_ok(const char *url);

/* Connects and upgrades. 0 with c ready, or -1 with *err filled and c
 * freed. Ctrl-C ends it ("interrupted"). */
int nvx_ws_open(nvx_ws_conn *c, const nvx_ws_options *o, nvx_ws_error *err);

/* Sends one text or binary message, or a ping, within timeout_ms (< 0: the
 * connection's timeout). 0, or -1 with *err (the connection has ENDED: a
 * frame cut short leaves the stream unusable). */
int nvx_ws_send(nvx_ws_conn *c, int opcode, const char *data, size_t n, long timeout_ms,
                nvx_ws_error *err);

/* The next message within timeout_ms (0: only what is already here; < 0:
 * the connection's timeout), answering pings and a close on the way. 1 with
 * *ev (TEXT or BINARY; data valid until the next call), or -1 with *err.
 * The timeout bounds the whole call: the answers to pings too, and however
 * many control frames keep arriving. Errors:
 * "timeout" (nothing complete in time; the connection stays usable),
 * "interrupted" (Ctrl-C during the wait, interrupt.h; usable too), or a
 * final "closed", "protocol" or "transport" (the connection has ENDED). */
int nvx_ws_recv(nvx_ws_conn *c, long timeout_ms, nvx_ws_event *ev, nvx_ws_error *err);

/* The close handshake: our close (code 0: none), then the peer's, waited for
 * at most wait_ms (0: just send ours, without blocking), then the
 * connection is freed. Safe on a freed or ENDED connection. */
void nvx_ws_close(nvx_ws_conn *c, int code, const char *reason, size_t n, long wait_ms);

#endif
