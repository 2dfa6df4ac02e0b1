/* What every curl easy handle of ours is given, the HTTP transfers' and the
 * WebSocket's alike, set in one place so that the two cannot drift: no
 * signals, http:// and https:// only, TCP keep-alive, the certificate check,
 * the CA file and the proxy; and the timeouts of an attempt. Pure C. */
#ifndef NAVIXY_HTTP_EASY_H
#define NAVIXY_HTTP_EASY_H

#include <curl/curl.h>

/* ca_file NULL: the system store; proxy NULL: curl's defaults (environment). */
void nvx_easy_setup(CURL *e, int ssl_verify, const char *ca_file, const char *proxy);

/* total_ms bounds the whole attempt; the connect gets its own cap, never
 * longer than the whole. */
void nvx_easy_timeouts(CURL *e, long total_ms, long connect_ms);

#endif
