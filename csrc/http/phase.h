/* Which step of a request a libcurl error code belongs to, for the "phase"
 * of transport errors (the retry policy reads it: "tls" and "limit" are
 * final). One table for HTTP transfers and WebSocket connections. */
#ifndef NAVIXY_PHASE_H
#define NAVIXY_PHASE_H

#include <curl/curl.h>

/* "connect", "tls" or "limit" where the code alone tells; NULL where it
 * depends on what the transfer had done (sent, been aborted, ...). */
const char *nvx_curl_phase(CURLcode rc);

#endif
