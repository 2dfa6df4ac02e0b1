#include "http/transfer.h"

#include "http/easy.h"
#include "util/interrupt.h"
#include "http/phase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long nvx_transfer_status(nvx_transfer *t) {
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

/* The callbacks only hand bytes to the reply (reply.c), where the logic
 * lives as pure C that the fuzzer can reach. A body that streams out is
 * held back (the transfer paused) once a chunk is ready, until the Lua
 * side has taken it (engine.h). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  nvx_transfer *t = ud;
  size_t n = size * nmemb;
  if (!t->decided) { /* the status and headers of the final answer are in */
    long status = nvx_transfer_status(t);
    t->decided = 1;
    t->reply.streaming = t->want_stream && status >= 200 && status < 300 &&
                         !nvx_is_json_type(t->reply.content_type);
  }
  if (t->reply.streaming && t->reply.body.len >= NVX_CHUNK) {
    t->chunk_ready = 1;
    return CURL_WRITEFUNC_PAUSE; /* curl gives these bytes again after the pause */
  }
  return nvx_reply_body(&t->reply, data, n) == 0 ? n : 0; /* 0: CURLE_WRITE_ERROR */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
  nvx_transfer *t = ud;
  size_t n = size * nmemb;
  return nvx_reply_header(&t->reply, data, n) == 0 ? n : 0; /* 0: CURLE_WRITE_ERROR */
}

/* Called by libcurl before each request it sends. When a kept-alive
 * connection turns out closed before any answer, libcurl sends the request
 * again on a new one by itself: a request the retry policy would not see,
 * count or rate-limit. The second request of a transfer is therefore
 * stopped here, and the attempt reported as "stale" for the policy to
 * decide. */
static int on_prereq(void *ud, char *ip, char *local_ip, int port, int local_port) {
  nvx_transfer *t = ud;
  (void)ip;
  (void)local_ip;
  (void)port;
  (void)local_port;
  return ++t->requests > 1 ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

/* Called by libcurl while a transfer runs: stops it at once on Ctrl-C (see
 * interrupt.h). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  nvx_transfer *t = ud;
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  if (!nvx_interrupted()) return 0;
  t->interrupted = 1;
  return 1;
}

int nvx_transfer_init(nvx_transfer *t, const nvx_settings *s) {
  CURL *e = curl_easy_init();
  if (!e) return NVX_ENOMEM;
  t->easy = e;
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is an "http" error */
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
  /* HTTP/2 where TLS offers it (libcurl's default since 7.62, said here),
   * and a new transfer waits for a connection that may multiplex it rather
   * than opening its own: a batch over HTTP/2 goes on one connection */
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  nvx_easy_setup(e, s->ssl_verify, s->ca_file, s->proxy);
  return NVX_OK;
}

/* Header lines ('\n'-separated in a buffer) as the list curl wants, with
 * "Expect:" first: libcurl would send "Expect: 100-continue" for large
 * bodies and wait. NULL when memory ran out. */
static struct curl_slist *header_list(const nvx_buf *lines) {
  struct curl_slist *list = curl_slist_append(NULL, "Expect:"), *next;
  const char *p = lines->data, *end = p + lines->len;
  char line[8192];
  if (!list) return NULL;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n >= sizeof line) n = sizeof line - 1; /* navixy.options keeps lines far shorter */
    memcpy(line, p, n);
    line[n] = '\0';
    next = curl_slist_append(list, line);
    if (!next) break;
    list = next;
    p = nl ? nl + 1 : end;
  }
  memset(line, 0, sizeof line); /* it may have held the Authorization line */
  if (p && p < end) { /* out of memory */
    curl_slist_free_all(list);
    return NULL;
  }
  return list;
}

/* The header list for a request with (or without) the hash and with (or
 * without) the body's Content-Type, built once per settings generation. */
static struct curl_slist *headers_for(nvx_transfer *t, const nvx_settings *s, int with_hash,
                                      int with_type) {
  struct curl_slist **slot = &t->lists[with_hash][with_type];
  if (t->generation != s->generation) {
    int i, j;
    for (i = 0; i < 2; i++)
      for (j = 0; j < 2; j++) {
        curl_slist_free_all(t->lists[i][j]);
        t->lists[i][j] = NULL;
      }
    t->generation = s->generation;
  }
  if (!*slot) {
    nvx_buf lines = {NULL, 0, 0};
    if (nvx_settings_lines(s, with_hash, with_type ? nvx_settings_content_type(s) : NULL, &lines) ==
        NVX_OK)
      *slot = header_list(&lines);
    nvx_buf_wipe(&lines);
  }
  return *slot;
}

/* The header list of a request with header lines of its own: the defaults
 * without those it names, then its own (settings.h, nvx_lines_override).
 * Kept in the transfer until its next request. NULL when memory ran out. */
static struct curl_slist *call_headers(nvx_transfer *t, const nvx_settings *s, int with_hash,
                                       int with_type, const nvx_request *r) {
  nvx_buf lines = {NULL, 0, 0}, merged = {NULL, 0, 0};
  curl_slist_free_all(t->call_list);
  t->call_list = NULL;
  if (nvx_settings_lines(s, with_hash, with_type ? nvx_settings_content_type(s) : NULL, &lines) == NVX_OK &&
      nvx_lines_override(&merged, &lines, r->headers, r->hlen) == NVX_OK)
    t->call_list = header_list(&merged);
  nvx_buf_wipe(&lines);
  nvx_buf_wipe(&merged);
  return t->call_list;
}

static void drop_mime(nvx_transfer *t) {
  if (!t->mime) return;
  curl_easy_setopt(t->easy, CURLOPT_MIMEPOST, NULL);
  curl_mime_free(t->mime);
  t->mime = NULL;
}

/* The multipart body: the hash as a form field in body mode. */
static int add_hash_part(curl_mime *mime, const char *hash) {
  curl_mimepart *part = curl_mime_addpart(mime);
  return part && curl_mime_name(part, "hash") == CURLE_OK &&
                 curl_mime_data(part, hash, CURL_ZERO_TERMINATED) == CURLE_OK
             ? NVX_OK
             : NVX_ENOMEM;
}

int nvx_request_url(nvx_buf *out, const char *base, const nvx_request *r, const char *hash) {
  int is_get = r->method == NVX_GET, rc = NVX_OK;
  nvx_buf query = {NULL, 0, 0}; /* a GET's params, then the call's query */
  if (is_get && r->blen > 0 && nvx_buf_add(&query, r->body, r->blen)) rc = NVX_ENOMEM;
  if (!rc && r->qlen > 0 &&
      ((query.len > 0 && nvx_buf_addc(&query, '&')) || nvx_buf_add(&query, r->query, r->qlen)))
    rc = NVX_ENOMEM;
  if (!rc && !r->url) {
    rc = nvx_build_url(out, base, r->action, r->alen, query.data, query.len, hash);
  } else if (!rc) {
    nvx_buf_reset(out);
    if (nvx_buf_adds(out, r->url) ||
        (query.len > 0 && (nvx_buf_addc(out, strchr(r->url, '?') ? '&' : '?') ||
                           nvx_buf_add(out, query.data, query.len))))
      rc = NVX_ENOMEM;
  }
  nvx_buf_free(&query);
  return rc;
}

int nvx_transfer_prepare(nvx_transfer *t, const nvx_settings *s, const nvx_request *r) {
  int rc, is_get = r->method == NVX_GET;
  long total = r->timeout_ms > 0 ? r->timeout_ms : s->timeout_ms;
  const char *hash = r->anonymous || r->url ? NULL : s->hash; /* another URL never gets the hash */
  int in_query = nvx_hash_in_query(s->auth, is_get);
  struct curl_slist *headers;
  drop_mime(t);
  t->mime = r->mime;
  headers = headers_for(t, s, hash != NULL, !is_get && !t->mime);
  if (headers && r->headers) headers = call_headers(t, s, hash != NULL, !is_get && !t->mime, r);
  if (!headers) return NVX_ENOMEM;
  if (nvx_request_url(&t->url, s->base, r, in_query ? hash : NULL) != NVX_OK) return NVX_ENOMEM;
  if (is_get) {
    curl_easy_setopt(t->easy, CURLOPT_HTTPGET, 1L);
  } else if (t->mime) {
    if (hash && s->auth == NVX_AUTH_BODY && add_hash_part(t->mime, hash) != NVX_OK)
      return NVX_ENOMEM;
    curl_easy_setopt(t->easy, CURLOPT_MIMEPOST, t->mime);
  } else {
    rc = nvx_build_body(&t->body, r->body, r->blen, s->enc, s->auth, in_query ? NULL : hash);
    if (rc != NVX_OK) return rc;
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body.data);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body.len);
  }
  nvx_reply_reset(&t->reply, s->max_size);
  t->want_stream = r->stream;
  t->decided = 0;
  t->streamed = 0;
  t->errbuf[0] = '\0';
  t->requests = 0;
  t->interrupted = 0;
  curl_easy_setopt(t->easy, CURLOPT_URL, t->url.data);
  curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(t->easy, CURLOPT_FRESH_CONNECT, r->fresh ? 1L : 0L);
  /* an answer that announces its length over the cap is refused at once,
   * unless it may stream out (a file of any size) */
  curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, r->stream ? (curl_off_t)0 : (curl_off_t)s->max_size);
  /* timeout bounds the whole attempt; the connect gets its own, smaller cap */
  nvx_easy_timeouts(t->easy, total, s->connect_timeout_ms);
  return NVX_OK;
}

static int request_was_sent(nvx_transfer *t) {
  long sent = 0;
  return curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0;
}

static const char *phase_of(nvx_transfer *t, CURLcode rc) {
  const char *phase = nvx_curl_phase(rc);
  if (phase) return phase;
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    if (t->interrupted) return "interrupted";
    if (t->requests > 1) return "stale";
    return "send";
  }
  if (t->reply.too_large || t->reply.headers_too_large) return "limit";
  return request_was_sent(t) ? "send" : "connect";
}

/* Buffers over this size are given back once their answer is out. */
#define KEEP_BUFFER (64 * 1024)

void nvx_transfer_body_taken(nvx_transfer *t, int chunk) {
  if (chunk) t->streamed += (double)t->reply.body.len;
  if (t->reply.body.cap > KEEP_BUFFER)
    nvx_buf_free(&t->reply.body);
  else
    nvx_buf_reset(&t->reply.body);
}

void nvx_transfer_finish(nvx_transfer *t) {
  drop_mime(t);
  if (t->reply.body.cap > KEEP_BUFFER) nvx_buf_free(&t->reply.body);
}

void nvx_transfer_failure(nvx_transfer *t, nvx_failure *f) {
  CURLcode rc = t->rc;
  f->kind = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport";
  f->phase = phase_of(t, rc);
  f->message = f->text;
  if (t->reply.too_large || rc == CURLE_FILESIZE_EXCEEDED)
    snprintf(f->text, sizeof f->text, "answer larger than max_size (%zu bytes)", t->reply.max_size);
  else if (t->reply.headers_too_large || (rc == CURLE_OUT_OF_MEMORY && !t->errbuf[0]))
    snprintf(f->text, sizeof f->text, "answer headers larger than %d bytes", NVX_MAX_HEADER_BYTES);
  else if (t->reply.nomem)
    f->message = "out of memory while receiving the answer";
  else if (rc == CURLE_URL_MALFORMAT)
    f->message = "the request URL is malformed or too long for libcurl (a GET's params go in it: "
                 "send large ones by POST)";
  else if (rc == CURLE_ABORTED_BY_CALLBACK && t->interrupted)
    f->message = "interrupted";
  else if (rc == CURLE_ABORTED_BY_CALLBACK && t->requests > 1)
    f->message = "the kept-alive connection was closed by the server before any answer";
  else if (t->errbuf[0])
    f->message = t->errbuf;
  else if (rc == CURLE_WRITE_ERROR) /* not our write callback (its refusals are flagged above): */
    f->message = "data after the end of the compressed body"; /* libcurl's decoder, said as http1.lua does */
  else
    f->message = curl_easy_strerror(rc);
}

void nvx_transfer_free(nvx_transfer *t) {
  int i, j;
  drop_mime(t);
  if (t->easy) curl_easy_cleanup(t->easy);
  for (i = 0; i < 2; i++)
    for (j = 0; j < 2; j++) curl_slist_free_all(t->lists[i][j]);
  curl_slist_free_all(t->call_list);
  nvx_buf_free(&t->url);
  nvx_buf_wipe(&t->body); /* it may hold the hash */
  nvx_reply_free(&t->reply);
  memset(t, 0, sizeof *t);
}
