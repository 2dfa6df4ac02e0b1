#include "http/engine.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "http/auth.h"
#include "util/clock.h"
#include "util/interrupt.h"

nvx_engine *nvx_engine_new(void) {
  nvx_engine *e = calloc(1, sizeof *e);
  if (e) {
    e->refs = 1;
    e->epfd = e->timerfd = -1;
  }
  return e;
}

void nvx_engine_hold(nvx_engine *e) { e->refs++; }

void nvx_engine_release(nvx_engine *e) {
  if (--e->refs > 0) return;
  if (e->multi) curl_multi_cleanup(e->multi);
  nvx_engine_loop_close(e);
  free(e);
}

int nvx_engine_add(nvx_engine *e, nvx_transfer *t) {
  if (!e->multi) {
    e->multi = curl_multi_init();
    if (!e->multi) return NVX_ENOMEM;
    /* libcurl sizes the connection cache by the transfers in it at the
     * moment: at the end of a batch that closes the batch's connections.
     * Kept: one per batch slot at most, shared by all clients. */
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)NVX_MAX_CONNECTIONS);
    if (e->epfd >= 0) nvx_engine_loop_attach(e);
  }
  /* the transfer, so that a finished handle leads back to it */
  curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
  if (curl_multi_add_handle(e->multi, t->easy) != CURLM_OK) return NVX_ENOMEM;
  e->added++;
  t->state = NVX_RUNNING;
  t->chunk_ready = t->paused = 0;
  return NVX_OK;
}

/* Out of the multi handle (the caller has set the state). */
static void take_out(nvx_engine *e, nvx_transfer *t) {
  curl_multi_remove_handle(e->multi, t->easy);
  e->added--;
}

void nvx_engine_drop(nvx_engine *e, nvx_transfer *t) {
  if (t->state == NVX_RUNNING) take_out(e, t);
  t->state = NVX_IDLE;
  t->chunk_ready = t->paused = 0;
}

void nvx_engine_resume(nvx_engine *e, nvx_transfer *t) {
  (void)e;
  if (t->state != NVX_RUNNING || !t->paused) return;
  t->paused = 0;
  /* may call the write callback at once with what was held back */
  curl_easy_pause(t->easy, CURLPAUSE_CONT);
}

/* Moves finished transfers to NVX_DONE, out of the multi handle. */
static void collect(nvx_engine *e) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
    char *priv = NULL;
    nvx_transfer *t;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    t = (nvx_transfer *)(void *)priv;
    t->rc = msg->data.result;
    /* msg is invalid from here; the handle keeps its getinfo data */
    take_out(e, t);
    t->state = NVX_DONE;
  }
}

/* Takes t's event when it has one (a done transfer is idle afterwards, a
 * chunk's transfer stays paused until nvx_engine_resume): 1, else 0 and
 * *busy set when t is in flight. */
static int take_event(nvx_transfer *t, int *busy) {
  if (!t) return 0;
  if (t->state == NVX_DONE) {
    t->state = NVX_IDLE;
    return 1;
  }
  if (t->state == NVX_RUNNING) {
    if (t->chunk_ready && !t->paused) {
      t->chunk_ready = 0;
      t->paused = 1; /* curl holds it paused until nvx_engine_resume */
      return 1;
    }
    *busy = 1;
  }
  return 0;
}

/* The first transfer of the set with an event to give, or NULL; *busy says
 * whether any is still in flight. */
static nvx_transfer *event_in(nvx_transfer **set, int n, int *busy) {
  int i;
  *busy = 0;
  for (i = 0; i < n; i++)
    if (take_event(set[i], busy)) return set[i];
  return NULL;
}

nvx_transfer *nvx_engine_ready(nvx_transfer **set, int n, int *from) {
  int busy;
  while (*from < n) {
    nvx_transfer *t = set[(*from)++];
    if (take_event(t, &busy)) return t;
  }
  return NULL;
}

/* The order is libcurl's own loop's: wait on the sockets (curl_multi_poll
 * returns at once when a transfer was just added or has data held), then one
 * pass over them. A pass polls every transfer's socket (a poll call each, in
 * libcurl 7.88): a pass before the wait as well, while transfers are in
 * flight, cost a batch of c = 8 three times raw libcurl's poll calls per
 * request, and at c = 256 a pass is 256 of them. A call that may not wait
 * (max_seconds 0, an event loop driving the engine) still gets its pass. */
nvx_transfer *nvx_engine_next(nvx_engine *e, nvx_transfer **set, int n, double max_seconds) {
  double deadline = nvx_now() + (max_seconds > 0 ? max_seconds : 0);
  int performed = 0, waited = max_seconds <= 0 || e->epfd >= 0;
  for (;;) {
    int busy, running;
    double left;
    nvx_transfer *t = event_in(set, n, &busy);
    if (t) return t;
    if (!busy || !e->multi) return NULL;
    if (!performed && waited) { /* a pass over the sockets, once they were waited on */
      if (e->epfd >= 0)
        nvx_engine_loop_drive(e, 0);
      else
        curl_multi_perform(e->multi, &running);
      collect(e);
      performed = 1;
      continue;
    }
    left = deadline - nvx_now();
    if (left <= 0 || nvx_interrupted()) return NULL; /* Ctrl-C: Lua raises next */
    /* curl shortens the wait to its own next timeout (connect, retries) */
    if (e->epfd >= 0)
      nvx_engine_loop_wait(e, (int)ceil(left < 1 ? left * 1000 : 1000));
    else
      curl_multi_poll(e->multi, NULL, 0, (int)ceil(left < 1 ? left * 1000 : 1000), NULL);
    performed = 0;
    waited = 1;
  }
}
