/* The one monotonic clock of the core: backoff, rate limits, transfer
 * deadlines and the heap policy's idle time read it. */
#ifndef NAVIXY_UTIL_CLOCK_H
#define NAVIXY_UTIL_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (an arbitrary start: only differences mean anything). */
double nvx_now(void);

#endif
