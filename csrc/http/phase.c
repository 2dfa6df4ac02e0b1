#include "http/phase.h"

const char *nvx_curl_phase(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    return "connect";
  /* the certificate or its check: no later attempt can do better */
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return "tls";
  /* the request cannot be made here (a GET's query over libcurl's 8 MB URL cap): final */
  case CURLE_URL_MALFORMAT:
    return "request";
  case CURLE_FILESIZE_EXCEEDED:
  case CURLE_OUT_OF_MEMORY: /* also libcurl's answer to a header line over its own cap */
    return "limit";
  default:
    return NULL;
  }
}
