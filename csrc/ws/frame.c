#include "ws/frame.h"

#include <stdlib.h>
#include <string.h>
#include "util/random.h"

/* A message buffer over this size is released once its message was taken,
 * so one large message does not pin its memory for the connection's life. */
#define KEEP_BUFFER (64 * 1024)

int nvx_ws_valid_close_code(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/* ---- UTF-8 ---- */

static void utf8_reset(nvx_utf8 *u) {
  u->need = 0;
  u->lo = 0x80;
  u->hi = 0xBF;
}

/* Checks the next bytes of a text; 0, or -1 at the first invalid byte. The
 * ranges of the byte after a lead byte rule out overlongs (E0, F0),
 * surrogates (ED) and code points over U+10FFFF (F4). */
static int utf8_feed(nvx_utf8 *u, const unsigned char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = s[i];
    if (u->need) {
      if (c < u->lo || c > u->hi) return -1;
      u->need--;
      u->lo = 0x80;
      u->hi = 0xBF;
    } else if (c < 0x80) {
      continue;
    } else if (c < 0xC2) {
      return -1; /* a continuation byte, or an overlong 2-byte lead */
    } else if (c < 0xE0) {
      u->need = 1;
    } else if (c < 0xF0) {
      u->need = 2;
      u->lo = c == 0xE0 ? 0xA0 : 0x80;
      u->hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c < 0xF5) {
      u->need = 3;
      u->lo = c == 0xF0 ? 0x90 : 0x80;
      u->hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return -1;
    }
  }
  return 0;
}

int nvx_ws_valid_utf8(const char *s, size_t n) {
  nvx_utf8 u;
  utf8_reset(&u);
  return utf8_feed(&u, (const unsigned char *)s, n) == 0 && u.need == 0;
}

/* ---- frames we send ---- */

int nvx_ws_frame(nvx_buf *out, int opcode, const char *payload, size_t n,
                 const unsigned char mask[4]) {
  unsigned char head[14];
  size_t h = 0, i;
  char *dst;
  head[h++] = (unsigned char)(0x80 | opcode); /* FIN: we never fragment */
  if (n < 126) {
    head[h++] = (unsigned char)(0x80 | n);
  } else if (n <= 0xFFFF) {
    head[h++] = 0x80 | 126;
    head[h++] = (unsigned char)(n >> 8);
    head[h++] = (unsigned char)n;
  } else {
    head[h++] = 0x80 | 127;
    for (i = 8; i-- > 0;) head[h++] = (unsigned char)((uint64_t)n >> (8 * i));
  }
  memcpy(head + h, mask, 4);
  h += 4;
  if (n > (size_t)-1 - h || nvx_buf_reserve(out, h + n) != 0) return -1;
  dst = out->data + out->len;
  memcpy(dst, head, h);
  for (i = 0; i < n; i++) dst[h + i] = (char)(payload[i] ^ mask[i & 3]);
  out->len += h + n;
  out->data[out->len] = '\0';
  return 0;
}

int nvx_ws_close_frame(nvx_buf *out, int code, const char *reason, size_t n,
                       const unsigned char mask[4]) {
  char payload[NVX_WS_CONTROL_MAX];
  size_t len = 0;
  if (code) {
    if (n > NVX_WS_REASON_MAX) n = NVX_WS_REASON_MAX; /* callers check; never overflow */
    payload[0] = (char)((code >> 8) & 0xFF);
    payload[1] = (char)(code & 0xFF);
    if (n) memcpy(payload + 2, reason, n);
    len = 2 + n;
  }
  return nvx_ws_frame(out, NVX_WS_CLOSE, payload, len, mask);
}

/* ---- the parser ---- */

void nvx_ws_parser_init(nvx_ws_parser *p, size_t max_message) {
  memset(p, 0, sizeof *p);
  p->max_message = max_message;
  p->head_need = 2;
  utf8_reset(&p->utf8);
}

void nvx_ws_parser_free(nvx_ws_parser *p) {
  free(p->msg);
  p->msg = NULL;
  p->msg_len = p->msg_cap = 0;
}

static int fail(nvx_ws_parser *p, nvx_ws_event *ev, int code, const char *why) {
  p->done = 1;
  ev->type = NVX_WS_ERROR;
  ev->data = "";
  ev->len = 0;
  ev->code = code;
  ev->why = why;
  return 1;
}

/* The first two header bytes say what can be refused before any length is
 * read. NULL when they are acceptable; *ext is the extended length's size. */
static const char *check_start(nvx_ws_parser *p, size_t *ext) {
  unsigned char b0 = p->head[0], b1 = p->head[1];
  int opcode = b0 & 0x0F;
  unsigned len7 = b1 & 0x7F;
  p->fin = b0 >> 7;
  p->opcode = opcode;
  if (b0 & 0x70) return "a frame with reserved bits set (no extension was agreed)";
  if ((opcode > NVX_WS_BINARY && opcode < NVX_WS_CLOSE) || opcode > NVX_WS_PONG)
    return "a frame with an unknown opcode";
  if (b1 & 0x80) return "a masked frame from the server";
  if (opcode >= NVX_WS_CLOSE) {
    if (!p->fin) return "a fragmented control frame";
    if (len7 > NVX_WS_CONTROL_MAX) return "a control frame over 125 bytes";
  } else if (opcode == NVX_WS_CONT) {
    if (!p->msg_opcode) return "a continuation frame with no message to continue";
  } else if (p->msg_opcode) {
    return "a new message before the last one ended";
  }
  *ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  return NULL;
}

/* Room for n more message bytes, as they arrive (never for a length a
 * header only announced): growing geometrically but never past max_message
 * (the caller checked that msg_len + n is within it). */
static int reserve_message(nvx_ws_parser *p, size_t n) {
  size_t want = p->msg_len + n, cap;
  char *grown;
  if (want <= p->msg_cap) return 0;
  cap = p->msg_cap ? p->msg_cap : 256;
  while (cap < want) cap = cap > p->max_message / 2 ? p->max_message : cap * 2;
  if (cap > p->max_message) cap = p->max_message;
  if (cap < want) cap = want;
  grown = realloc(p->msg, cap);
  if (!grown) return -1;
  p->msg = grown;
  p->msg_cap = cap;
  return 0;
}

/* The whole header is in: reads the length and readies the payload. */
static int start_payload(nvx_ws_parser *p, nvx_ws_event *ev) {
  const unsigned char *h = p->head;
  unsigned len7 = h[1] & 0x7F;
  uint64_t len = len7;
  size_t i;
  if (len7 == 126) {
    len = (uint64_t)h[2] << 8 | h[3];
  } else if (len7 == 127) {
    for (len = 0, i = 2; i < 10; i++) len = len << 8 | h[i];
    if (len >> 63) return fail(p, ev, NVX_WS_PROTOCOL_ERROR, "a frame length with the top bit set");
  }
  p->left = len;
  p->in_payload = 1;
  if (p->opcode >= NVX_WS_CLOSE) {
    p->ctl_len = 0;
    return 0;
  }
  if (p->opcode != NVX_WS_CONT) { /* a new message */
    p->msg_opcode = p->opcode;
    p->msg_len = 0;
    utf8_reset(&p->utf8);
    if (p->msg_cap > KEEP_BUFFER) nvx_ws_parser_free(p);
  }
  /* the announced length is only a claim: refused when over, never allocated */
  if (len > p->max_message - p->msg_len)
    return fail(p, ev, NVX_WS_TOO_BIG, "a message over the maximum size");
  return 0;
}

/* The frame's payload is complete: 1 with *ev when that makes an event. */
static int finish_frame(nvx_ws_parser *p, nvx_ws_event *ev) {
  p->in_payload = 0;
  p->head_len = 0;
  p->head_need = 2;
  ev->code = 0;
  ev->why = NULL;
  if (p->opcode == NVX_WS_CLOSE) {
    const char *reason = p->ctl + 2;
    size_t rlen = p->ctl_len >= 2 ? p->ctl_len - 2 : 0;
    int code = p->ctl_len >= 2 ? (unsigned char)p->ctl[0] << 8 | (unsigned char)p->ctl[1] : 0;
    if (p->ctl_len == 1) return fail(p, ev, NVX_WS_PROTOCOL_ERROR, "a close frame of 1 byte");
    if (p->ctl_len >= 2 && !nvx_ws_valid_close_code(code))
      return fail(p, ev, NVX_WS_PROTOCOL_ERROR, "a close frame with an invalid code");
    if (!nvx_ws_valid_utf8(reason, rlen))
      return fail(p, ev, NVX_WS_INVALID_DATA, "a close reason that is not UTF-8");
    p->done = 1;
    ev->type = NVX_WS_CLOSE;
    ev->code = code;
    ev->data = reason;
    ev->len = rlen;
    return 1;
  }
  if (p->opcode >= NVX_WS_CLOSE) { /* ping, pong */
    ev->type = p->opcode;
    ev->data = p->ctl;
    ev->len = p->ctl_len;
    return 1;
  }
  if (!p->fin) return 0; /* more fragments to come */
  if (p->msg_opcode == NVX_WS_TEXT && p->utf8.need)
    return fail(p, ev, NVX_WS_INVALID_DATA, "a text message that is not UTF-8");
  ev->type = p->msg_opcode;
  ev->data = p->msg ? p->msg : "";
  ev->len = p->msg_len;
  p->msg_opcode = 0;
  return 1;
}

int nvx_ws_parse(nvx_ws_parser *p, const char *data, size_t n, size_t *used, nvx_ws_event *ev) {
  size_t i = 0, take;
  if (p->done) {
    *used = n;
    return 0;
  }
  while (i < n) {
    if (!p->in_payload) {
      size_t ext = 0;
      take = p->head_need - p->head_len;
      if (take > n - i) take = n - i;
      memcpy(p->head + p->head_len, data + i, take);
      p->head_len += take;
      i += take;
      if (p->head_len < p->head_need) break;
      if (p->head_need == 2) {
        const char *why = check_start(p, &ext);
        if (why) {
          *used = i;
          return fail(p, ev, NVX_WS_PROTOCOL_ERROR, why);
        }
        if (ext) {
          p->head_need = 2 + ext;
          continue;
        }
      }
      if (start_payload(p, ev)) {
        *used = i;
        return 1;
      }
    }
    take = p->left < (uint64_t)(n - i) ? (size_t)p->left : n - i;
    if (p->opcode >= NVX_WS_CLOSE) {
      memcpy(p->ctl + p->ctl_len, data + i, take);
      p->ctl_len += take;
    } else if (take > 0) {
      if (p->msg_opcode == NVX_WS_TEXT &&
          utf8_feed(&p->utf8, (const unsigned char *)data + i, take) != 0) {
        *used = i + take;
        return fail(p, ev, NVX_WS_INVALID_DATA, "a text message that is not UTF-8");
      }
      if (reserve_message(p, take) != 0) {
        *used = i;
        return fail(p, ev, NVX_WS_INTERNAL_ERROR, "out of memory for a message");
      }
      memcpy(p->msg + p->msg_len, data + i, take);
      p->msg_len += take;
    }
    i += take;
    p->left -= take;
    if (p->left > 0) break;
    if (finish_frame(p, ev)) {
      *used = i;
      return 1;
    }
  }
  *used = i;
  return 0;
}

/* ---- the connection's protocol state ---- */

void nvx_ws_init(nvx_ws *ws, size_t max_message) {
  memset(ws, 0, sizeof *ws);
  nvx_ws_parser_init(&ws->parser, max_message);
}

void nvx_ws_free(nvx_ws *ws) {
  nvx_ws_parser_free(&ws->parser);
  nvx_buf_free(&ws->out);
}

int nvx_ws_send_frame(nvx_ws *ws, nvx_buf *out, int opcode, const char *payload, size_t n,
                      int code) {
  unsigned char mask[4];
  if (opcode == NVX_WS_CLOSE && ws->close_sent) return 0; /* one close per connection */
  if (nvx_random(mask, sizeof mask) != 0) return -1;
  if (opcode == NVX_WS_CLOSE) {
    if (nvx_ws_close_frame(out, code, payload, n, mask) != 0) return -1;
    ws->close_sent = 1;
    return 0;
  }
  return nvx_ws_frame(out, opcode, payload, n, mask);
}

int nvx_ws_next(nvx_ws *ws, const char *data, size_t n, size_t *used, nvx_ws_event *ev) {
  int rc = nvx_ws_parse(&ws->parser, data, n, used, ev);
  if (rc != 1) return rc;
  switch (ev->type) {
  case NVX_WS_PING:
    /* after our close only the peer's close is of interest */
    if (!ws->close_sent &&
        nvx_ws_send_frame(ws, &ws->out, NVX_WS_PONG, ev->data, ev->len, 0) != 0)
      return -1;
    break;
  case NVX_WS_CLOSE:
    ws->close_received = 1;
    if (nvx_ws_send_frame(ws, &ws->out, NVX_WS_CLOSE, NULL, 0, ev->code) != 0) return -1;
    break;
  case NVX_WS_ERROR:
    ws->failed = 1;
    if (nvx_ws_send_frame(ws, &ws->out, NVX_WS_CLOSE, NULL, 0, ev->code) != 0) return -1;
    break;
  default:
    break;
  }
  return 1;
}
