/* The baselines of `make bench`: plain libcurl, no Lua, doing what a
 * navixy client does on the wire (POST, the same headers and options as
 * csrc/http/transfer.c, the answer collected in memory and its status read).
 *
 *   raw seq   URL N        one easy handle reused for N requests
 *   raw multi URL N C      C easy handles on one multi handle, N requests
 *
 * Prints "<requests per second> <failures>" for the timed part; a few
 * requests first open the connections (they are not timed): WARMUP, or
 * one per handle when there are more handles. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY "{\"tracker_id\":1}"
#define WARMUP 50

typedef struct sink {
  char *data;
  size_t len, cap;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  sink *s = ud;
  size_t n = size * nmemb;
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    char *p;
    while (cap < s->len + n + 1) cap *= 2;
    p = realloc(s->data, cap);
    if (!p) return 0;
    s->data = p;
    s->cap = cap;
  }
  memcpy(s->data + s->len, data, n);
  s->len += n;
  return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
  (void)data;
  (void)ud;
  return size * nmemb;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct curl_slist *headers(void) {
  struct curl_slist *h = NULL;
  h = curl_slist_append(h, "Expect:");
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Accept: application/json");
  h = curl_slist_append(h, "User-Agent: navixy-lua/bench");
  h = curl_slist_append(h, "Authorization: NVX a6aa75587e5c59c32d347da438505fc3");
  return h;
}

static CURL *easy(const char *url, struct curl_slist *h, sink *s) {
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, BODY);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(BODY));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  return e;
}

static int ok(CURL *e, CURLcode rc) {
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  return rc == CURLE_OK && status == 200;
}

static int run_seq(const char *url, long n) {
  struct curl_slist *h = headers();
  sink s = {NULL, 0, 0};
  CURL *e = easy(url, h, &s);
  long i, failed = 0;
  double t0 = 0;
  for (i = -WARMUP; i < n; i++) {
    if (i == 0) t0 = now();
    s.len = 0;
    if (!ok(e, curl_easy_perform(e))) failed++;
  }
  printf("%.1f %ld\n", (double)n / (now() - t0), failed);
  curl_easy_cleanup(e);
  curl_slist_free_all(h);
  free(s.data);
  return failed != 0;
}

static int run_multi(const char *url, long n, int c) {
  struct curl_slist *h = headers();
  CURLM *m = curl_multi_init();
  CURL **e = calloc((size_t)c, sizeof *e);
  sink *s = calloc((size_t)c, sizeof *s);
  long warmup = c > WARMUP ? c : WARMUP; /* every handle's connection opened */
  long started = 0, done = 0, failed = 0, total = n + warmup;
  double t0 = 0;
  int i, running;
  for (i = 0; i < c; i++) {
    e[i] = easy(url, h, &s[i]);
    curl_easy_setopt(e[i], CURLOPT_PRIVATE, (void *)&s[i]);
    if (started < total) {
      curl_multi_add_handle(m, e[i]);
      started++;
    }
  }
  while (done < total) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      CURL *x = msg->easy_handle;
      char *priv;
      if (msg->msg != CURLMSG_DONE) continue;
      if (!ok(x, msg->data.result)) failed++;
      curl_easy_getinfo(x, CURLINFO_PRIVATE, &priv);
      ((sink *)(void *)priv)->len = 0;
      curl_multi_remove_handle(m, x);
      if (++done == warmup) t0 = now();
      if (started < total) {
        curl_multi_add_handle(m, x);
        started++;
      }
    }
    if (done < total) curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  printf("%.1f %ld\n", (double)n / (now() - t0), failed);
  for (i = 0; i < c; i++) {
    curl_easy_cleanup(e[i]);
    free(s[i].data);
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(h);
  free(e);
  free(s);
  return failed != 0;
}

int main(int argc, char **argv) {
  int rc;
  if (argc < 4 || (strcmp(argv[1], "seq") != 0 && strcmp(argv[1], "multi") != 0) ||
      (strcmp(argv[1], "multi") == 0 && argc < 5)) {
    fprintf(stderr, "usage: raw seq URL N | raw multi URL N CONCURRENCY\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (strcmp(argv[1], "seq") == 0)
    rc = run_seq(argv[2], atol(argv[3]));
  else
    rc = run_multi(argv[2], atol(argv[3]), atoi(argv[4]));
  curl_global_cleanup();
  return rc;
}
