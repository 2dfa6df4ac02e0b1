#include "transfer.h"

#include "interrupt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The callbacks only hand bytes to the reply (reply.c), where the logic
 * lives as pure C that the fuzzer can reach. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  nvx_transfer *t = ud;
  size_t n = size * nmemb;
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
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a host process */
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
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is an "http" error */
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->ssl_verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->ssl_verify ? 2L : 0L);
  if (s->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
  if (s->proxy) curl_easy_setopt(e, CURLOPT_PROXY, s->proxy);
  return NVX_OK;
}

/* Header lines ('\n'-separated in a buffer) as the list curl wants, with
 * "Expect:" first: libcurl would send "Expect: 100-continue" for large
 * bodies and wait. NULL when memory ran out. */
static struct curl_slist *header_list(const nvx_buf *lines) {
  struct curl_slist *list, *next;
  char *copy, *line, *nl;
  size_t n = lines->len;
  list = curl_slist_append(NULL, "Expect:");
  copy = malloc(n + 1);
  if (!list || !copy) goto nomem;
  if (n) memcpy(copy, lines->data, n);
  copy[n] = '\0';
  for (line = copy; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    if (!nl) break; /* every line ends with '\n' */
    *nl = '\0';
    next = curl_slist_append(list, line);
    if (!next) goto nomem;
    list = next;
  }
  memset(copy, 0, n); /* it may have held the Authorization line */
  free(copy);
  return list;
nomem:
  if (copy) memset(copy, 0, n);
  free(copy);
  curl_slist_free_all(list);
  return NULL;
}

/* The lists for requests with the hash and without it (a login). */
static int build_headers(nvx_transfer *t, const nvx_settings *s) {
  struct curl_slist *with = header_list(&s->headers), *without = header_list(&s->fixed_headers);
  if (!with || !without) {
    curl_slist_free_all(with);
    curl_slist_free_all(without);
    return NVX_ENOMEM;
  }
  curl_slist_free_all(t->headers);
  curl_slist_free_all(t->anon_headers);
  t->headers = with;
  t->anon_headers = without;
  t->generation = s->generation;
  return NVX_OK;
}

int nvx_transfer_prepare(nvx_transfer *t, const nvx_settings *s, const nvx_request *r) {
  int rc;
  long total = r->timeout_ms > 0 ? r->timeout_ms : s->timeout_ms;
  const char *hash = r->anonymous ? NULL : s->hash;
  if (!t->headers || t->generation != s->generation) {
    if (build_headers(t, s) != NVX_OK) return NVX_ENOMEM;
  }
  if (nvx_build_url(&t->url, s->base, r->action, r->alen, s->auth, hash) != NVX_OK)
    return NVX_ENOMEM;
  rc = nvx_build_body(&t->body, r->body, r->blen, s->enc, s->auth, hash);
  if (rc != NVX_OK) return rc;
  nvx_reply_reset(&t->reply, s->max_size);
  t->errbuf[0] = '\0';
  t->requests = 0;
  t->interrupted = 0;
  curl_easy_setopt(t->easy, CURLOPT_URL, t->url.data);
  curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body.data);
  curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body.len);
  curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, r->anonymous ? t->anon_headers : t->headers);
  curl_easy_setopt(t->easy, CURLOPT_FRESH_CONNECT, r->fresh ? 1L : 0L);
  /* an answer that announces its length over the cap is refused at once */
  curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_size);
  /* timeout bounds the whole attempt; the connect gets its own, smaller cap */
  curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, total);
  curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
                   s->connect_timeout_ms < total ? s->connect_timeout_ms : total);
  return NVX_OK;
}

static int request_was_sent(nvx_transfer *t) {
  long sent = 0;
  return curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0;
}

static const char *phase_of(nvx_transfer *t, CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    return "connect";
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return "tls";
  case CURLE_FILESIZE_EXCEEDED:
  case CURLE_OUT_OF_MEMORY: /* also libcurl's answer to a header line over its own cap */
    return "limit";
  case CURLE_ABORTED_BY_CALLBACK:
    if (t->interrupted) return "interrupted";
    if (t->requests > 1) return "stale";
    return "send";
  default:
    if (t->reply.too_large || t->reply.headers_too_large) return "limit";
    return request_was_sent(t) ? "send" : "connect";
  }
}

/* t[name] = value, the value being at the top of the stack. */
static void set_field(lua_State *L, const char *name) { lua_setfield(L, -2, name); }

int nvx_transfer_push_result(lua_State *L, nvx_transfer *t, CURLcode rc) {
  if (rc == CURLE_OK) {
    long status = 0;
    double wait = nvx_retry_after_seconds(t->reply.retry_after);
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)status);
    set_field(L, "status");
    lua_pushlstring(L, t->reply.body.data ? t->reply.body.data : "", t->reply.body.len);
    set_field(L, "body");
    if (wait >= 0) {
      lua_pushnumber(L, wait);
      set_field(L, "retry_after");
    }
    return 1;
  }
  lua_createtable(L, 0, 3);
  lua_pushstring(L, rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport");
  set_field(L, "kind");
  if (t->reply.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    char msg[96];
    snprintf(msg, sizeof msg, "answer larger than max_size (%zu bytes)", t->reply.max_size);
    lua_pushstring(L, msg);
  } else if (t->reply.headers_too_large || (rc == CURLE_OUT_OF_MEMORY && !t->errbuf[0])) {
    char msg[96];
    snprintf(msg, sizeof msg, "answer headers larger than %d bytes", NVX_MAX_HEADER_BYTES);
    lua_pushstring(L, msg);
  } else if (t->reply.nomem)
    lua_pushstring(L, "out of memory while receiving the answer");
  else if (rc == CURLE_ABORTED_BY_CALLBACK && t->interrupted)
    lua_pushstring(L, "interrupted");
  else if (rc == CURLE_ABORTED_BY_CALLBACK && t->requests > 1)
    lua_pushstring(L, "the kept-alive connection was closed by the server before any answer");
  else if (t->errbuf[0])
    lua_pushstring(L, t->errbuf);
  else
    lua_pushstring(L, curl_easy_strerror(rc));
  set_field(L, "message");
  lua_pushstring(L, phase_of(t, rc));
  set_field(L, "phase");
  return 1;
}

void nvx_transfer_free(nvx_transfer *t) {
  if (t->easy) curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->headers);
  curl_slist_free_all(t->anon_headers);
  nvx_buf_free(&t->url);
  nvx_buf_free(&t->body);
  nvx_reply_free(&t->reply);
  memset(t, 0, sizeof *t);
}
