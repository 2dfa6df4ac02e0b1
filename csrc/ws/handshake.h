/* The WebSocket opening handshake, client side (RFC 6455 section 4), as
 * pure C: the upgrade request and the check of the server's 101 answer. No
 * I/O here, so both transports (libcurl, nginx cosockets) share it and the
 * fuzzer reaches it. */
#ifndef NAVIXY_WS_HANDSHAKE_H
#define NAVIXY_WS_HANDSHAKE_H

#include <stddef.h>
#include "util/buffer.h"

#define NVX_WS_KEY_LEN 24     /* base64 of 16 random bytes */
#define NVX_WS_ACCEPT_LEN 28  /* base64 of a SHA-1 */
#define NVX_WS_HEAD_MAX 16384 /* the longest answer head accepted */

/* The Sec-WebSocket-Key for 16 random bytes. */
void nvx_ws_key(const unsigned char random16[16], char key[NVX_WS_KEY_LEN + 1]);

/* The Sec-WebSocket-Accept a server must answer to key[0..n); "" for a key
 * over 200 bytes (a real one has 24), which no answer matches. */
void nvx_ws_accept(const char *key, size_t n, char accept[NVX_WS_ACCEPT_LEN + 1]);

/* Appends the upgrade request to out: "GET target HTTP/1.1", Host, Upgrade,
 * Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, then the extra
 * header lines (each "Name: value\n" in lines[0..len)), CRLF-terminated.
 * The caller has checked that nothing holds CR or NUL. 0 or -1 (memory). */
int nvx_ws_request(nvx_buf *out, const char *host, const char *target, const char *lines,
                   size_t len, const char *key);

/* 1 when a header line names a field the handshake sets itself (Host,
 * Upgrade, Connection, Sec-WebSocket-*): such a line must not be added. */
int nvx_ws_reserved_header(const char *line, size_t n);

/* The length of the answer head in buf[0..n), up to and including the empty
 * line that ends it; 0 while that line has not arrived. */
size_t nvx_ws_head_end(const char *buf, size_t n);

/* Checks a server's answer head (status line and header lines) against our
 * key: status 101, "Upgrade: websocket", a Connection holding "upgrade",
 * the right Sec-WebSocket-Accept, and no extension or subprotocol (we asked
 * for none). 0 when it is a valid upgrade; else -1 with *why (static text).
 * *status is the HTTP status read, 0 when there was no status line. */
int nvx_ws_check_answer(const char *head, size_t n, const char *key, int *status,
                        const char **why);

#endif
