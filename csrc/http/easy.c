#include "http/easy.h"

#include "http/curl_compat.h"

void nvx_easy_setup(CURL *e, int ssl_verify, const char *ca_file, const char *proxy) {
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a host process */
  compat_curl_http_only(e);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, ssl_verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, ssl_verify ? 2L : 0L);
  if (ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
  if (proxy) curl_easy_setopt(e, CURLOPT_PROXY, proxy);
}

void nvx_easy_timeouts(CURL *e, long total_ms, long connect_ms) {
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms < total_ms ? connect_ms : total_ms);
}
