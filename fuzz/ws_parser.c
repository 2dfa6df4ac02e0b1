/* The WebSocket frame parser and its protocol answers (csrc/ws/frame.c), fed what
 * a server, or anything posing as one, may send. Input: byte 0 sets
 * max_message ((b + 1) * 16), byte 1 how the rest is cut into pieces; the
 * rest is the byte stream. Checked:
 *   - the events are the same whether the stream comes whole or in pieces,
 *     and so are the answers (pongs, closes) written for them;
 *   - they are those of a plain reference reader below, which walks the
 *     whole stream frame by frame: each message is exactly the concatenation
 *     of its fragments' payloads, control frames come where they are, and the
 *     first frame RFC 6455 forbids ends the stream with the code it gives
 *     (1002, 1007 for UTF-8, 1009 over max_message);
 *   - the message buffer never holds more than max_message, whatever a
 *     header announces, and no message is longer. */
#include <stdint.h>
#include "check.h"
#include "ws/frame.h"

#define MAX_EVENTS 4096

typedef struct ev {
  int type, code;
  size_t len;
  const unsigned char *data; /* into a copy that lives for the run */
} ev;

typedef struct run {
  ev evs[MAX_EVENTS];
  size_t n;
  unsigned char *store; /* the events' bytes */
  size_t used, cap;
  nvx_buf out;          /* the answers */
} run;

static void keep(run *r, const nvx_ws_event *e) {
  ev *x;
  CHECK(r->n < MAX_EVENTS);
  CHECK(r->used + e->len <= r->cap);
  x = &r->evs[r->n++];
  x->type = e->type;
  x->code = e->code;
  x->len = e->len;
  memcpy(r->store + r->used, e->data, e->len);
  x->data = r->store + r->used;
  r->used += e->len;
}

/* Feeds data in pieces of the sizes cut gives (0: whole). */
static void feed(run *r, size_t max, const unsigned char *data, size_t n, unsigned cut) {
  nvx_ws ws;
  size_t at = 0;
  nvx_ws_init(&ws, max);
  while (at < n) {
    size_t piece = cut ? 1 + (cut * (at + 7)) % 13 : n - at, off = 0;
    if (piece > n - at) piece = n - at;
    while (off < piece) {
      nvx_ws_event e;
      size_t used = 0;
      int rc = nvx_ws_next(&ws, (const char *)data + at + off, piece - off, &used, &e);
      CHECK(rc >= 0); /* memory and randomness do not run out here */
      CHECK(used <= piece - off);
      CHECK(ws.parser.msg_cap <= max);
      off += used;
      if (rc == 0) {
        CHECK(off == piece);
        break;
      }
      if (e.type == NVX_WS_TEXT || e.type == NVX_WS_BINARY) CHECK(e.len <= max);
      keep(r, &e);
    }
    at += piece;
  }
  CHECK(nvx_buf_add(&r->out, ws.out.data ? ws.out.data : "", ws.out.len) == 0);
  nvx_ws_free(&ws);
}

/* ---- the reference: the whole stream at once ---- */

static int utf8_prefix_ok(const unsigned char *s, size_t n, int *complete) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t need, k;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) { i++; continue; }
    if (c < 0xC2) return 0;
    if (c < 0xE0) need = 1;
    else if (c < 0xF0) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c < 0xF5) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    for (k = 1; k <= need; k++) {
      if (i + k >= n) { *complete = 0; return 1; } /* cut short: may go on */
      if (s[i + k] < lo || s[i + k] > hi) return 0;
      lo = 0x80;
      hi = 0xBF;
    }
    i += need + 1;
  }
  *complete = 1;
  return 1;
}

static int close_code_ok(int c) {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

/* The error event that ends the reference's stream. */
static void ref_fail(run *r, int code) {
  nvx_ws_event e;
  memset(&e, 0, sizeof e);
  e.type = NVX_WS_ERROR;
  e.code = code;
  e.data = "";
  keep(r, &e);
}

/* Appends the reference's events to r; stops at the first error or close. */
static void reference(run *r, size_t max, const unsigned char *d, size_t n) {
  static unsigned char msg[4096 + 1];
  size_t at = 0, mlen = 0;
  int mop = 0;
  nvx_ws_event e;
  while (n - at >= 2) {
    int fin = d[at] >> 7, rsv = d[at] & 0x70, op = d[at] & 0x0F, masked = d[at + 1] >> 7;
    uint64_t len = d[at + 1] & 0x7F;
    size_t h = 2, have, k;
    memset(&e, 0, sizeof e);
    if (rsv || (op > 2 && op < 8) || op > 10 || masked || (op >= 8 && (!fin || len > 125)) ||
        (op == 0 && !mop) || ((op == 1 || op == 2) && mop)) {
      ref_fail(r, NVX_WS_PROTOCOL_ERROR);
      return;
    }
    if (len == 126) {
      if (n - at < 4) return;
      len = (uint64_t)d[at + 2] << 8 | d[at + 3];
      h = 4;
    } else if (len == 127) {
      if (n - at < 10) return;
      for (len = 0, k = 2; k < 10; k++) len = len << 8 | d[at + k];
      h = 10;
      if (len >> 63) {
        ref_fail(r, NVX_WS_PROTOCOL_ERROR);
        return;
      }
    }
    if (op < 8) {
      if (op) { mop = op; mlen = 0; }
      if (len > max - mlen) {
        ref_fail(r, NVX_WS_TOO_BIG);
        return;
      }
    }
    have = n - at - h < len ? n - at - h : (size_t)len;
    if (op < 8) {
      int complete = 1;
      memcpy(msg + mlen, d + at + h, have);
      mlen += have;
      if (mop == 1 && !utf8_prefix_ok(msg, mlen, &complete)) {
        ref_fail(r, NVX_WS_INVALID_DATA);
        return;
      }
      if (have < len) return; /* the stream ends inside this frame */
      if (fin) {
        if (mop == 1 && !complete) {
          ref_fail(r, NVX_WS_INVALID_DATA);
          return;
        }
        e.type = mop;
        e.code = 0;
        e.data = (const char *)msg;
        e.len = mlen;
        keep(r, &e);
        mop = 0;
      }
    } else {
      const unsigned char *p = d + at + h;
      if (have < len) return;
      e.type = op;
      e.code = 0;
      e.data = (const char *)p;
      e.len = (size_t)len;
      if (op == NVX_WS_CLOSE) {
        int complete = 1;
        if (len == 1) {
          ref_fail(r, NVX_WS_PROTOCOL_ERROR);
          return;
        }
        if (len >= 2) {
          e.code = p[0] << 8 | p[1];
          if (!close_code_ok(e.code)) {
            ref_fail(r, NVX_WS_PROTOCOL_ERROR);
            return;
          }
          if (!utf8_prefix_ok(p + 2, (size_t)len - 2, &complete) || !complete) {
            ref_fail(r, NVX_WS_INVALID_DATA);
            return;
          }
          e.data = (const char *)p + 2;
          e.len = (size_t)len - 2;
        }
        keep(r, &e);
        return;
      }
      keep(r, &e);
    }
    at += h + (size_t)len;
  }
}

/* The answers in out, as (opcode, payload) read back from masked frames. */
static size_t answers(const nvx_buf *out, int *ops, unsigned char (*payloads)[126], size_t *lens,
                      size_t max) {
  size_t at = 0, k = 0;
  const unsigned char *d = (const unsigned char *)out->data;
  while (at < out->len) {
    size_t len, i;
    CHECK(out->len - at >= 6);
    CHECK(d[at] >> 7 == 1 && (d[at + 1] >> 7) == 1); /* final, masked */
    len = d[at + 1] & 0x7F;
    CHECK(len <= 125 && out->len - at >= 6 + len && k < max);
    ops[k] = d[at] & 0x0F;
    for (i = 0; i < len; i++) payloads[k][i] = d[at + 6 + i] ^ d[at + 2 + (i & 3)];
    lens[k++] = len;
    at += 6 + len;
  }
  return k;
}

static run whole, pieces, ref;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ops[2][MAX_EVENTS];
  static unsigned char payloads[2][MAX_EVENTS][126];
  static size_t lens[2][MAX_EVENTS];
  static unsigned char store[3][3 * 4096 + 65536];
  size_t max, i, na, nb, pongs = 0;
  unsigned cut;
  if (size < 2) return 0;
  max = ((size_t)data[0] + 1) * 16;
  cut = data[1] | 1;
  data += 2;
  size -= 2;
  memset(&whole, 0, sizeof whole);
  memset(&pieces, 0, sizeof pieces);
  memset(&ref, 0, sizeof ref);
  whole.store = store[0];
  pieces.store = store[1];
  ref.store = store[2];
  whole.cap = pieces.cap = ref.cap = sizeof store[0];
  feed(&whole, max, data, size, 0);
  feed(&pieces, max, data, size, cut);
  reference(&ref, max, data, size);
  CHECK(whole.n == pieces.n && whole.n == ref.n);
  for (i = 0; i < whole.n; i++) {
    const ev *a = &whole.evs[i], *b = &pieces.evs[i], *c = &ref.evs[i];
    CHECK(a->type == b->type && a->type == c->type);
    CHECK(a->code == b->code && a->code == c->code);
    if (a->type == NVX_WS_ERROR) continue;
    CHECK(a->len == b->len && a->len == c->len);
    CHECK(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
    CHECK(a->len == 0 || memcmp(a->data, c->data, a->len) == 0);
    if (a->type == NVX_WS_PING) pongs++;
  }
  /* the answers: a pong per ping (until a close ends the stream), then our
   * close when a close or an error ended it, the same in both runs */
  na = answers(&whole.out, ops[0], payloads[0], lens[0], MAX_EVENTS);
  nb = answers(&pieces.out, ops[1], payloads[1], lens[1], MAX_EVENTS);
  CHECK(na == nb);
  for (i = 0; i < na; i++)
    CHECK(ops[0][i] == ops[1][i] && lens[0][i] == lens[1][i] &&
          memcmp(payloads[0][i], payloads[1][i], lens[0][i]) == 0);
  {
    int ended = whole.n > 0 && (whole.evs[whole.n - 1].type == NVX_WS_CLOSE ||
                                whole.evs[whole.n - 1].type == NVX_WS_ERROR);
    CHECK(na == pongs + (size_t)ended);
    if (ended) {
      const ev *last = &whole.evs[whole.n - 1];
      size_t k = na - 1;
      CHECK(ops[0][k] == NVX_WS_CLOSE);
      if (last->code) {
        CHECK(lens[0][k] == 2 && (payloads[0][k][0] << 8 | payloads[0][k][1]) == last->code);
      } else {
        CHECK(lens[0][k] == 0);
      }
    }
  }
  nvx_buf_free(&whole.out);
  nvx_buf_free(&pieces.out);
  return 0;
}
