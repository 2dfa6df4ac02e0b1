/* Transfers side by side on one curl multi handle, for client:batch.
 *
 * The Lua side drives it step by step (client.c binds these as
 * handle:start/wait/cancel): add a request to a numbered
 * slot, then ask for the next finished one. Pure C: no Lua runs while curl
 * does, so no Lua error can unwind through libcurl. Slots are numbered from
 * 1, created on first use and kept with the client: the multi handle's
 * connection cache then carries connections from one batch to the next. */
#ifndef NAVIXY_MULTI_H
#define NAVIXY_MULTI_H

#include <curl/curl.h>
#include "transfer.h"

/* The most slots a client may use (the largest batch concurrency). */
#define NVX_MAX_SLOTS 256

typedef struct nvx_slot {
  nvx_transfer t;
  int id;
  int busy; /* added to the multi handle and not reported yet */
} nvx_slot;

typedef struct nvx_multi {
  CURLM *multi;     /* NULL until the first batch */
  nvx_slot **slots; /* slots[id - 1]; NULL where never used */
  int nslots;
  int busy;         /* slots in flight */
} nvx_multi;

enum { NVX_EBUSY = -3, NVX_ESLOT = -4 };

/* Readies request r in slot id (1..NVX_MAX_SLOTS, created on first use)
 * and adds it to the multi handle. 0, NVX_ENOMEM, NVX_EBODY (see
 * nvx_transfer_prepare), NVX_EBUSY (the slot is in flight) or NVX_ESLOT. */
int nvx_multi_add(nvx_multi *m, const nvx_settings *s, int id, const nvx_request *r);

/* Runs the transfers until one finishes or max_seconds pass. Returns the
 * finished slot, already removed from the multi handle, with its curl code
 * in *rc; NULL when none finished in time or none is in flight. */
nvx_slot *nvx_multi_next(nvx_multi *m, double max_seconds, CURLcode *rc);

/* Removes every request in flight (their connections are closed); the slots
 * stay for the next batch. */
void nvx_multi_cancel(nvx_multi *m);

/* Cancels, frees the slots and the multi handle; idempotent. */
void nvx_multi_free(nvx_multi *m);

#endif
