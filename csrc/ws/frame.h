/* WebSocket frames, client side (RFC 6455 section 5), as pure C: masked
 * frames to send, an incremental parser of what the server sends, and the
 * answers the protocol requires (pong, close echo, close on failure). No I/O
 * here: the libcurl transport (ws/conn.c) and the nginx one (Lua over
 * core.ws_parser) feed it bytes, and the fuzzer does too. */
#ifndef NAVIXY_WS_FRAME_H
#define NAVIXY_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "util/buffer.h"

/* opcodes, and NVX_WS_ERROR for the parser's failure event */
#define NVX_WS_CONT 0x0
#define NVX_WS_TEXT 0x1
#define NVX_WS_BINARY 0x2
#define NVX_WS_CLOSE 0x8
#define NVX_WS_PING 0x9
#define NVX_WS_PONG 0xA
#define NVX_WS_ERROR (-1)

/* close codes (RFC 6455 7.4.1) */
#define NVX_WS_NORMAL 1000
#define NVX_WS_PROTOCOL_ERROR 1002
#define NVX_WS_INVALID_DATA 1007
#define NVX_WS_TOO_BIG 1009
#define NVX_WS_INTERNAL_ERROR 1011

#define NVX_WS_CONTROL_MAX 125 /* payload of a ping, pong or close */
#define NVX_WS_REASON_MAX 123  /* a close reason: the control payload less the code */

/* 1 when code may travel in a close frame (1000-1003, 1007-1014, 3000-4999). */
int nvx_ws_valid_close_code(int code);

/* 1 when s[0..n) is valid UTF-8 (RFC 3629: no overlongs, no surrogates). */
int nvx_ws_valid_utf8(const char *s, size_t n);

/* Appends one final, masked frame to out. 0, or -1 when memory ran out. */
int nvx_ws_frame(nvx_buf *out, int opcode, const char *payload, size_t n,
                 const unsigned char mask[4]);

/* Appends a masked close frame: the code (none when 0) and the reason. */
int nvx_ws_close_frame(nvx_buf *out, int code, const char *reason, size_t n,
                       const unsigned char mask[4]);

/* What the parser found. data/len: a message (fragments joined), a control
 * payload, or a close reason; valid until the next call on the parser. */
typedef struct nvx_ws_event {
  int type;         /* NVX_WS_TEXT, BINARY, PING, PONG, CLOSE or ERROR */
  const char *data;
  size_t len;
  int code;         /* CLOSE: the peer's code (0: it sent none); ERROR: the close code due */
  const char *why;  /* ERROR: what was wrong (static text) */
} nvx_ws_event;

/* UTF-8 checked byte by byte as a text message arrives, across fragments. */
typedef struct nvx_utf8 {
  unsigned char need, lo, hi; /* continuation bytes due; range of the next one */
} nvx_utf8;

typedef struct nvx_ws_parser {
  size_t max_message;      /* the largest message accepted, fragments joined */
  unsigned char head[10];  /* the frame header being read (a server sends no mask) */
  size_t head_len, head_need;
  int fin, opcode;         /* of the frame being read */
  uint64_t left;           /* its payload bytes still to come */
  int in_payload;          /* 0 while reading a header */
  int msg_opcode;          /* TEXT or BINARY while a message is open, else 0 */
  char *msg;               /* the message being joined: msg_cap <= max_message */
  size_t msg_len, msg_cap;
  nvx_utf8 utf8;
  char ctl[NVX_WS_CONTROL_MAX];
  size_t ctl_len;
  int done;                /* a close or an error ended the stream: input is ignored */
} nvx_ws_parser;

void nvx_ws_parser_init(nvx_ws_parser *p, size_t max_message);

/* Parses data[0..n). Returns 1 with *ev when an event completed after the
 * first *used bytes (call again with the rest), 0 when every byte was used
 * and no event completed. An ERROR or CLOSE event ends the stream: later
 * input is ignored. Memory follows the bytes that arrived, never the length
 * a header announces; a message over max_message is an ERROR with 1009. */
int nvx_ws_parse(nvx_ws_parser *p, const char *data, size_t n, size_t *used, nvx_ws_event *ev);

void nvx_ws_parser_free(nvx_ws_parser *p);

/* The protocol state of one connection: the parser, and the frames the
 * protocol makes us send, waiting in out for the transport to write. */
typedef struct nvx_ws {
  nvx_ws_parser parser;
  nvx_buf out;
  int close_sent;     /* our close frame is in out or sent: never send another */
  int close_received; /* the peer's close arrived */
  int failed;         /* the stream broke the protocol */
} nvx_ws;

void nvx_ws_init(nvx_ws *ws, size_t max_message);

/* nvx_ws_parse, plus the answers, appended to ws->out: a pong for a ping, an
 * echo of the peer's close (its code) unless ours went first, a close with
 * the code of an ERROR. Returns 1 or 0 as nvx_ws_parse; -1 when memory or
 * randomness for an answer ran out (the event is lost). */
int nvx_ws_next(nvx_ws *ws, const char *data, size_t n, size_t *used, nvx_ws_event *ev);

/* Appends a frame of ours to out, masked with a fresh random key; a CLOSE
 * frame (code 0: none; payload: the reason) marks close_sent. 0 or -1. */
int nvx_ws_send_frame(nvx_ws *ws, nvx_buf *out, int opcode, const char *payload, size_t n,
                      int code);

void nvx_ws_free(nvx_ws *ws);

#endif
