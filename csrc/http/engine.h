/* The engine: one curl multi handle that drives every transfer of every
 * client made by one load of the module (one Lua state), sequential calls
 * and batches alike. One multi handle means one connection cache, one DNS
 * cache and one TLS session cache for them all, and no descriptors per client
 * beyond its connections (libcurl's easy interface makes a multi handle, with
 * a socket pair, for each easy handle it performs).
 *
 * Transfers are added, then the caller asks for the next event among the
 * transfers it waits for (a set): "done" (curl's code in t->rc) or "chunk"
 * (a streamed body paused with a piece ready, see transfer.h). Driving the
 * multi handle for one set also moves every other transfer on: their events
 * wait in their transfers until their own caller asks. Pure C: no Lua runs
 * while curl does. */
#ifndef NAVIXY_ENGINE_H
#define NAVIXY_ENGINE_H

#include <curl/curl.h>
#include "http/transfer.h"

/* Idle connections kept for reuse, over all clients (a batch's width). */
#define NVX_MAX_CONNECTIONS 256

typedef struct nvx_engine {
  CURLM *multi; /* NULL until the first transfer */
  int refs;     /* the module state and each client hold one */
  int added;    /* transfers in the multi handle */
  int epfd;     /* -1, or (an engine under an event loop) the epoll descriptor
                 * holding curl's sockets and timerfd: readable when curl has
                 * work to do (engine_loop.c) */
  int timerfd;  /* curl's timer as a descriptor, in epfd; -1 without a loop */
} nvx_engine;

/* A new engine with one reference, or NULL when memory ran out. */
nvx_engine *nvx_engine_new(void);

/* A new engine for an event loop (copas, cqueues, luv): libcurl's multi
 * socket interface instead of its own waits. curl says which sockets to
 * watch and when its timer runs out; the engine keeps both in one epoll
 * descriptor (nvx_engine_fd), which the loop watches for reading and then
 * calls nvx_engine_next with no wait. NULL when memory or descriptors ran
 * out. Linux (epoll, timerfd). */
nvx_engine *nvx_engine_new_loop(void);

/* The descriptor an event loop watches for reading, or -1 (no loop). */
int nvx_engine_fd(const nvx_engine *e);
void nvx_engine_hold(nvx_engine *e);
/* Drops a reference; the last one frees the engine (no transfer may be in it). */
void nvx_engine_release(nvx_engine *e);

/* Starts a prepared transfer: 0 or NVX_ENOMEM. */
int nvx_engine_add(nvx_engine *e, nvx_transfer *t);

/* Takes a transfer out, wherever it is (its connection is closed when it was
 * in flight); it is idle afterwards. */
void nvx_engine_drop(nvx_engine *e, nvx_transfer *t);

/* Lets a transfer paused with a chunk go on. */
void nvx_engine_resume(nvx_engine *e, nvx_transfer *t);

/* Drives the transfers until one of set[0..n) has an event or max_seconds
 * pass, and returns it (its event is then taken: a done transfer is idle,
 * a chunk waits for nvx_engine_resume). NULL when none had one in time,
 * none of the set is in flight, or Ctrl-C arrived (interrupt.h). */
nvx_transfer *nvx_engine_next(nvx_engine *e, nvx_transfer **set, int n, double max_seconds);

/* The next transfer of set[*from..n) whose event is already there (what
 * the last drive brought: nothing is driven or waited for), its event taken
 * as nvx_engine_next takes it, and *from just past it; NULL when none is. */
nvx_transfer *nvx_engine_ready(nvx_transfer **set, int n, int *from);

/* engine_loop.c, for engine.c: the callbacks on the new multi handle; one
 * pass over the ready descriptors (waiting at most wait_ms for one); the
 * descriptors closed. */
void nvx_engine_loop_attach(nvx_engine *e);
void nvx_engine_loop_drive(nvx_engine *e, int wait_ms);
void nvx_engine_loop_wait(nvx_engine *e, int wait_ms);
void nvx_engine_loop_close(nvx_engine *e);

#endif
