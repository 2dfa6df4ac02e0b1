/* nvx_retry_after_seconds: a Retry-After value straight from the network.
 * Invariants: -1 (not a value), or a finite number >= 0; all digits give
 * exactly their value capped at 1e9; digits followed by anything else are
 * refused (a partly read number would be a wrong wait). */
#include <math.h>
#include <stdint.h>
#include "check.h"
#include "http/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *v = malloc(size + 1);
  double got;
  size_t n;
  CHECK(v != NULL);
  memcpy(v, data, size);
  v[size] = '\0';
  n = strlen(v); /* a C string ends at the first NUL, as the header copy does */
  got = nvx_retry_after_seconds(v);
  CHECK(got == -1 || (got >= 0 && isfinite(got)));
  if (n > 0 && v[0] >= '0' && v[0] <= '9') {
    int digits = 1;
    double want = 0;
    size_t i;
    for (i = 0; i < n; i++) {
      if (v[i] < '0' || v[i] > '9') {
        digits = 0;
        break;
      }
      want = want * 10 + (v[i] - '0');
      if (want > 1e9) want = 1e9;
    }
    CHECK(digits ? got == want : got == -1);
  }
  if (n == 0) CHECK(got == -1);
  free(v);
  return 0;
}
