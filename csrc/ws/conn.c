#include "ws/conn.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "http/easy.h"
#include "util/interrupt.h"
#include "http/phase.h"
#include "util/random.h"
#include "ws/handshake.h"

#define CHUNK 16384 /* bytes asked of curl_easy_recv at a time (a TLS record) */
#define CLOSE_SEND_MS 1000 /* how long our answering close may take to go out */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void set_error(nvx_ws_error *err, const char *kind, const char *phase, const char *fmt,
                      ...) {
  va_list ap;
  err->kind = kind;
  err->phase = phase;
  err->code = 0;
  err->status = 0;
  err->reason[0] = '\0';
  err->body[0] = '\0';
  err->body_len = 0;
  va_start(ap, fmt);
  vsnprintf(err->description, sizeof err->description, fmt, ap);
  va_end(ap);
}

/* ---- the URL ---- */

typedef struct url_parts {
  int tls;
  const char *auth, *path; /* host[:port]; path and query ("" when none) */
  size_t auth_len;
} url_parts;

static int split_url(const char *url, url_parts *u) {
  static const struct {
    const char *prefix;
    int tls;
  } SCHEMES[] = {{"ws://", 0}, {"http://", 0}, {"wss://", 1}, {"https://", 1}};
  const char *p;
  size_t i;
  for (p = url; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '#') return -1;
  for (i = 0; i < sizeof SCHEMES / sizeof SCHEMES[0]; i++) {
    size_t k = strlen(SCHEMES[i].prefix);
    if (strncasecmp(url, SCHEMES[i].prefix, k) == 0) {
      u->tls = SCHEMES[i].tls;
      u->auth = url + k;
      u->auth_len = strcspn(u->auth, "/?");
      u->path = u->auth + u->auth_len;
      if (u->auth_len == 0 || memchr(u->auth, '@', u->auth_len)) return -1;
      return 0;
    }
  }
  return -1;
}

int nvx_ws_url_ok(const char *url) {
  url_parts u;
  return split_url(url, &u) == 0;
}

/* ---- waiting and moving bytes ---- */

#define INTERRUPTED (-2)

/* Waits until the socket is readable (or writable). 1 ready, 0 deadline
 * passed, -1 poll failed, INTERRUPTED when Ctrl-C came during a wait to
 * read (interrupt.h; a write is never left half done). */
static int wait_socket(nvx_ws_conn *c, int for_write, long long deadline) {
  for (;;) {
    struct pollfd pfd;
    long long left = deadline - now_ms();
    int rc;
    if (!for_write && nvx_interrupted()) return INTERRUPTED;
    if (left < 0) left = 0;
    pfd.fd = c->sock;
    pfd.events = for_write ? POLLOUT : POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (rc > 0) return 1; /* errors and hang-ups too: the next call reports them */
    if (rc == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

static int send_all(nvx_ws_conn *c, const char *data, size_t n, long long deadline,
                    nvx_ws_error *err) {
  size_t off = 0;
  while (off < n) {
    size_t sent = 0;
    CURLcode rc = curl_easy_send(c->easy, data + off, n - off, &sent);
    if (rc == CURLE_OK && sent > 0) {
      off += sent;
      continue;
    }
    if (rc == CURLE_OK || rc == CURLE_AGAIN) {
      int ready = wait_socket(c, 1, deadline);
      if (ready > 0) continue;
      if (ready == 0) {
        set_error(err, "timeout", "send", "sending took longer than the timeout");
        return -1;
      }
      set_error(err, "transport", "send", "poll failed: %s", strerror(errno));
      return -1;
    }
    set_error(err, "transport", "send", "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    return -1;
  }
  return 0;
}

/* Sends what the protocol queued (pongs, a close), then forgets it. */
static int flush(nvx_ws_conn *c, long long deadline, nvx_ws_error *err) {
  int rc = 0;
  if (c->ws.out.len) rc = send_all(c, c->ws.out.data, c->ws.out.len, deadline, err);
  nvx_buf_reset(&c->ws.out);
  return rc;
}

/* Appends what has arrived to c->in, waiting until the deadline. 1 when
 * bytes came, 0 when the deadline passed, -1 on end of stream or failure,
 * INTERRUPTED (with *err) on Ctrl-C: the stream is intact. */
static int recv_more(nvx_ws_conn *c, long long deadline, nvx_ws_error *err) {
  for (;;) {
    size_t got = 0;
    CURLcode rc;
    if (nvx_buf_reserve(&c->in, CHUNK) != 0) {
      set_error(err, "transport", "recv", "out of memory");
      return -1;
    }
    rc = curl_easy_recv(c->easy, c->in.data + c->in.len, CHUNK, &got);
    if (rc == CURLE_OK && got > 0) {
      c->in.len += got;
      c->in.data[c->in.len] = '\0';
      return 1;
    }
    if (rc == CURLE_OK) {
      set_error(err, "transport", "recv", "the server closed the connection");
      err->code = 1006; /* RFC 6455 7.1.5: closed without a close frame */
      return -1;
    }
    if (rc == CURLE_AGAIN) {
      int ready = wait_socket(c, 0, deadline);
      if (ready > 0) continue;
      if (ready == 0) return 0;
      if (ready == INTERRUPTED) {
        set_error(err, "interrupted", "recv", "interrupted");
        return INTERRUPTED;
      }
      set_error(err, "transport", "recv", "poll failed: %s", strerror(errno));
      return -1;
    }
    set_error(err, "transport", "recv", "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    err->code = 1006; /* a reset: closed without a close frame too */
    return -1;
  }
}

/* ---- opening ---- */

static void free_conn(nvx_ws_conn *c) {
  if (c->easy) curl_easy_cleanup(c->easy);
  nvx_ws_free(&c->ws);
  nvx_buf_free(&c->in);
  free(c->where);
  c->easy = NULL;
  c->where = NULL;
}

/* The phase of a failed connection: nothing was sent yet. */
static const char *phase_of(CURLcode rc) {
  const char *phase = nvx_curl_phase(rc);
  return phase ? phase : "connect";
}

/* Called by libcurl while it connects: stops at once on Ctrl-C. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  (void)ud;
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  return nvx_interrupted();
}

static int connect_socket(nvx_ws_conn *c, const nvx_ws_options *o, const url_parts *u,
                          nvx_ws_error *err) {
  CURL *e = c->easy;
  nvx_buf url = {NULL, 0, 0};
  CURLcode rc;
  /* curl only connects: the URL's scheme picks TLS, its path is not used */
  if (nvx_buf_adds(&url, u->tls ? "https://" : "http://") ||
      nvx_buf_add(&url, u->auth, u->auth_len) || nvx_buf_addc(&url, '/')) {
    nvx_buf_free(&url);
    set_error(err, "transport", "connect", "out of memory");
    return -1;
  }
  curl_easy_setopt(e, CURLOPT_URL, url.data);
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  /* the upgrade is HTTP/1.1's: a TLS server offering h2 must not be taken up
   * on it (libcurl's own bytes on an h2 connection would follow ours) */
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  nvx_easy_setup(e, o->ssl_verify, o->ca_file, o->proxy);
  /* through an HTTP proxy, a tunnel (CONNECT): the proxy must not see frames */
  curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
  nvx_easy_timeouts(e, o->timeout_ms, o->connect_timeout_ms);
  rc = curl_easy_perform(e);
  nvx_buf_free(&url);
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    set_error(err, "interrupted", "connect", "interrupted");
    return -1;
  }
  if (rc != CURLE_OK) {
    set_error(err, rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport", phase_of(rc), "%s",
              c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    return -1;
  }
  if (curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &c->sock) != CURLE_OK ||
      c->sock == CURL_SOCKET_BAD) {
    set_error(err, "transport", "connect", "libcurl gave no socket");
    return -1;
  }
  return 0;
}

/* The value of Content-Length in an answer head, or -1. */
static long content_length(const char *head, size_t n) {
  const char *p = head, *end = head + n;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (len > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
      char *stop;
      long v = strtol(p + 15, &stop, 10);
      return v >= 0 ? v : -1;
    }
    p += len + 1;
  }
  return -1;
}

/* A refused upgrade: kind "http" with the status and the start of the
 * body (what a Content-Length announces, as far as it arrives in time). */
static void refused(nvx_ws_conn *c, size_t head_len, int status, long long deadline,
                    nvx_ws_error *err) {
  long want = content_length(c->in.data, head_len);
  size_t have;
  nvx_ws_error ignored;
  if (want > (long)sizeof err->body - 1) want = (long)sizeof err->body - 1;
  while (want > 0 && c->in.len - head_len < (size_t)want &&
         recv_more(c, deadline, &ignored) > 0) {
  }
  have = c->in.len - head_len;
  if (want >= 0 && have > (size_t)want) have = (size_t)want;
  if (have > sizeof err->body - 1) have = sizeof err->body - 1;
  set_error(err, "http", "handshake", "the server answered the upgrade with HTTP %d", status);
  err->status = status;
  memcpy(err->body, c->in.data + head_len, have);
  err->body[have] = '\0';
  err->body_len = have;
}

static int handshake(nvx_ws_conn *c, const nvx_ws_options *o, const url_parts *u,
                     long long deadline, nvx_ws_error *err) {
  unsigned char rnd[16];
  char key[NVX_WS_KEY_LEN + 1];
  nvx_buf req = {NULL, 0, 0}, host = {NULL, 0, 0}, target = {NULL, 0, 0};
  const char *why = NULL;
  size_t head_len = 0;
  int status = 0, rc;
  /* "h", "h?q" and "h/p?q" all ask for a path: "/", "/?q", "/p?q" */
  rc = nvx_random(rnd, sizeof rnd) || nvx_buf_add(&host, u->auth, u->auth_len) ||
       (u->path[0] != '/' && nvx_buf_addc(&target, '/')) || nvx_buf_adds(&target, u->path);
  if (rc == 0) {
    nvx_ws_key(rnd, key);
    rc = nvx_ws_request(&req, host.data, target.data, o->lines, o->lines_len, key);
  }
  nvx_buf_free(&host);
  nvx_buf_free(&target);
  if (rc != 0) {
    nvx_buf_free(&req);
    set_error(err, "transport", "handshake", "no memory or random bytes for the request");
    return -1;
  }
  /* the request carries Authorization when the caller added it */
  rc = send_all(c, req.data, req.len, deadline, err);
  memset(req.data, 0, req.len);
  nvx_buf_free(&req);
  if (rc != 0) return -1;
  while ((head_len = nvx_ws_head_end(c->in.data, c->in.len)) == 0) {
    if (c->in.len > NVX_WS_HEAD_MAX) {
      set_error(err, "protocol", "handshake", "the answer head is too long");
      return -1;
    }
    rc = recv_more(c, deadline, err);
    if (rc == 0) {
      set_error(err, "timeout", "handshake", "no answer to the upgrade in time");
      return -1;
    }
    if (rc < 0) {
      err->phase = "handshake"; /* an interrupted one too: the connection goes */
      return -1;
    }
  }
  if (nvx_ws_check_answer(c->in.data, head_len, key, &status, &why) != 0) {
    if (status && status != 101)
      refused(c, head_len, status, deadline, err);
    else
      set_error(err, "protocol", "handshake", "%s", why);
    return -1;
  }
  c->in_pos = head_len; /* frames may follow the head in the same read */
  return 0;
}

int nvx_ws_open(nvx_ws_conn *c, const nvx_ws_options *o, nvx_ws_error *err) {
  url_parts u;
  long long deadline = now_ms() + o->timeout_ms;
  size_t path_len;
  int rc;
  memset(c, 0, sizeof *c);
  nvx_ws_init(&c->ws, o->max_message);
  c->timeout_ms = o->timeout_ms;
  if (split_url(o->url, &u) != 0) {
    set_error(err, "transport", "connect", "not a WebSocket URL");
    return -1;
  }
  path_len = strcspn(u.path, "?");
  c->where = malloc(u.auth_len + path_len + 1);
  c->easy = curl_easy_init();
  if (!c->where || !c->easy) {
    free_conn(c);
    set_error(err, "transport", "connect", "out of memory");
    return -1;
  }
  memcpy(c->where, u.auth, u.auth_len);
  memcpy(c->where + u.auth_len, u.path, path_len); /* never the query: it may hold a hash */
  c->where[u.auth_len + path_len] = '\0';
  nvx_interrupt_begin(); /* Ctrl-C ends the connect or the wait for the answer */
  rc = connect_socket(c, o, &u, err) != 0 || handshake(c, o, &u, deadline, err) != 0;
  nvx_interrupt_end();
  if (rc) {
    free_conn(c);
    return -1;
  }
  c->state = NVX_CONN_OPEN;
  return 0;
}

/* ---- exchanging ---- */

static int ended(nvx_ws_conn *c, const nvx_ws_error *err) {
  c->state = NVX_CONN_ENDED;
  if (&c->last != err) c->last = *err;
  return -1;
}

int nvx_ws_send(nvx_ws_conn *c, int opcode, const char *data, size_t n, long timeout_ms,
                nvx_ws_error *err) {
  if (c->state == NVX_CONN_ENDED) {
    *err = c->last;
    return -1;
  }
  if (nvx_ws_send_frame(&c->ws, &c->ws.out, opcode, data, n, 0) != 0) {
    nvx_buf_reset(&c->ws.out);
    set_error(err, "transport", "send", "out of memory");
    return -1;
  }
  /* a frame cut short leaves the stream unusable */
  if (flush(c, now_ms() + (timeout_ms < 0 ? c->timeout_ms : timeout_ms), err) != 0) return ended(c, err);
  return 0;
}

/* An event that ends the stream, as the error the caller gets. */
static void final_error(const nvx_ws_event *ev, nvx_ws_error *err) {
  if (ev->type == NVX_WS_CLOSE) {
    size_t n = ev->len < NVX_WS_REASON_MAX ? ev->len : NVX_WS_REASON_MAX;
    if (ev->code)
      set_error(err, "closed", "recv", "the server closed the WebSocket (code %d)", ev->code);
    else
      set_error(err, "closed", "recv", "the server closed the WebSocket");
    err->code = ev->code;
    memcpy(err->reason, ev->data, n);
    err->reason[n] = '\0';
  } else {
    set_error(err, "protocol", "recv", "%s", ev->why);
    err->code = ev->code;
  }
}

/* nvx_ws_recv's work, between nvx_interrupt_begin and _end. Everything in
 * it is bounded by the caller's deadline (issue 19 items 1 and 4): the
 * wait, however many pings or pongs keep coming, and the answers to them. */
static int next_message(nvx_ws_conn *c, long long deadline, nvx_ws_event *ev, nvx_ws_error *err) {
  int reads = 0;
  for (;;) {
    int rc;
    while (c->in_pos < c->in.len) {
      size_t used = 0;
      rc = nvx_ws_next(&c->ws, c->in.data + c->in_pos, c->in.len - c->in_pos, &used, ev);
      c->in_pos += used;
      if (rc < 0) {
        set_error(err, "transport", "recv", "out of memory");
        return ended(c, err);
      }
      if (rc == 1 && (ev->type == NVX_WS_CLOSE || ev->type == NVX_WS_ERROR)) {
        /* our close, best effort: the server may be gone already, and the
         * caller learns why the stream ended either way */
        nvx_ws_error ignored;
        long long by = now_ms() + (c->timeout_ms < CLOSE_SEND_MS ? c->timeout_ms : CLOSE_SEND_MS);
        flush(c, by < deadline ? by : deadline, &ignored);
        final_error(ev, err);
        return ended(c, err);
      }
      /* pongs: due now, within the caller's time; one cut short leaves the
       * stream unusable, so a server that takes none in time has lost it */
      if (flush(c, deadline, err) != 0) {
        if (strcmp(err->kind, "timeout") == 0)
          set_error(err, "transport", "send", "the server took no answer to its pings in time");
        return ended(c, err);
      }
      if (rc == 0) break;
      if (ev->type == NVX_WS_TEXT || ev->type == NVX_WS_BINARY) return 1;
    }
    c->in_pos = 0;
    nvx_buf_reset(&c->in);
    /* the first read is made even at a deadline passed (timeout 0: what is
     * here already); after it, bytes that keep coming do not extend it */
    if (reads++ > 0 && now_ms() >= deadline) {
      set_error(err, "timeout", "recv", "no message in time");
      return -1; /* a partial frame stays with the parser for the next call */
    }
    rc = recv_more(c, deadline, err);
    if (rc == 0) {
      set_error(err, "timeout", "recv", "no message in time");
      return -1; /* here too */
    }
    if (rc == INTERRUPTED) return -1; /* so does it here */
    if (rc < 0) return ended(c, err);
  }
}

int nvx_ws_recv(nvx_ws_conn *c, long timeout_ms, nvx_ws_event *ev, nvx_ws_error *err) {
  int rc;
  if (c->state == NVX_CONN_ENDED) {
    *err = c->last;
    return -1;
  }
  nvx_interrupt_begin(); /* Ctrl-C ends the wait at once */
  rc = next_message(c, now_ms() + (timeout_ms < 0 ? c->timeout_ms : timeout_ms), ev, err);
  nvx_interrupt_end();
  return rc;
}

void nvx_ws_close(nvx_ws_conn *c, int code, const char *reason, size_t n, long wait_ms) {
  nvx_ws_error err;
  nvx_ws_event ev;
  if (!c->easy) return;
  if (c->state == NVX_CONN_OPEN && !c->ws.close_sent &&
      nvx_ws_send_frame(&c->ws, &c->ws.out, NVX_WS_CLOSE, reason, n, code) == 0) {
    long long deadline = now_ms() + wait_ms;
    /* then the peer's close (data still in flight is dropped), or its end */
    if (flush(c, deadline, &err) == 0 && wait_ms > 0) {
      while (!c->ws.close_received && !c->ws.failed) {
        size_t used = 0;
        if (c->in_pos < c->in.len) {
          int rc = nvx_ws_next(&c->ws, c->in.data + c->in_pos, c->in.len - c->in_pos, &used, &ev);
          c->in_pos += used;
          if (rc < 0) break;
          continue;
        }
        c->in_pos = 0;
        nvx_buf_reset(&c->in);
        /* a server that keeps sending (pings, a flood) must not hold it past wait_ms */
        if (now_ms() >= deadline || recv_more(c, deadline, &err) <= 0) break;
      }
    }
  }
  free_conn(c);
  c->state = NVX_CONN_ENDED;
}
