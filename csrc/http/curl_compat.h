#ifndef NAVIXY_HTTP_CURL_COMPAT_H
#define NAVIXY_HTTP_CURL_COMPAT_H

#include <curl/curl.h>

/* The libcurl versions the core builds against, in one place: the C files
 * call the compat_ names below, never an #if of their own.
 *
 * The minimum is libcurl 7.80.0 (November 2021), for CURLOPT_PREREQFUNCTION:
 * with it a transfer refuses the second request libcurl would otherwise send
 * by itself when a kept-alive connection turns out closed (http/transfer.c), a
 * request the retry policy, the attempt count and the rate limit would never
 * see. There is no fallback for that, so older versions stop the build here.
 * The minimum covers the other calls newer than the oldest libcurl around:
 * curl_multi_poll (7.66), curl_mime (7.56), CURLOPT_XFERINFOFUNCTION (7.32).
 * CURLOPT_PROTOCOLS_STR (7.85) falls back to the CURLOPT_PROTOCOLS bitmask,
 * which 7.85 deprecated (so it is not used from there on). */
#define COMPAT_CURL_AT_LEAST(major, minor, patch) \
  (LIBCURL_VERSION_NUM >= (((major) << 16) | ((minor) << 8) | (patch)))

#if !COMPAT_CURL_AT_LEAST(7, 80, 0)
#error "navixy needs libcurl 7.80.0 or newer (CURLOPT_PREREQFUNCTION); see csrc/http/curl_compat.h"
#endif

/* Only http:// and https:// URLs, redirects included. */
#if COMPAT_CURL_AT_LEAST(7, 85, 0)
#define compat_curl_http_only(easy) curl_easy_setopt((easy), CURLOPT_PROTOCOLS_STR, "http,https")
#else
#define compat_curl_http_only(easy) \
  curl_easy_setopt((easy), CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))
#endif

#endif
