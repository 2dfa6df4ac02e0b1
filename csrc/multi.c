#include "multi.h"

#include "interrupt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The slot with this id, created (with its easy handle) on first use. */
static nvx_slot *slot_of(nvx_multi *m, const nvx_settings *s, int id) {
  nvx_slot *slot;
  if (id > m->nslots) {
    nvx_slot **grown = realloc(m->slots, (size_t)id * sizeof *grown);
    if (!grown) return NULL;
    memset(grown + m->nslots, 0, (size_t)(id - m->nslots) * sizeof *grown);
    m->slots = grown;
    m->nslots = id;
  }
  if (m->slots[id - 1]) return m->slots[id - 1];
  slot = calloc(1, sizeof *slot);
  if (!slot) return NULL;
  if (nvx_transfer_init(&slot->t, s) != NVX_OK) {
    free(slot);
    return NULL;
  }
  slot->id = id;
  /* the slot, not the transfer, so a finished handle leads back to its id */
  curl_easy_setopt(slot->t.easy, CURLOPT_PRIVATE, (void *)slot);
  m->slots[id - 1] = slot;
  return slot;
}

int nvx_multi_add(nvx_multi *m, const nvx_settings *s, int id, const nvx_request *r) {
  nvx_slot *slot;
  int rc;
  if (id < 1 || id > NVX_MAX_SLOTS) return NVX_ESLOT;
  if (id <= m->nslots && m->slots[id - 1] && m->slots[id - 1]->busy) return NVX_EBUSY;
  if (!m->multi) {
    m->multi = curl_multi_init();
    if (!m->multi) return NVX_ENOMEM;
  }
  slot = slot_of(m, s, id);
  if (!slot) return NVX_ENOMEM;
  rc = nvx_transfer_prepare(&slot->t, s, r);
  if (rc != NVX_OK) return rc;
  if (curl_multi_add_handle(m->multi, slot->t.easy) != CURLM_OK) return NVX_ENOMEM;
  slot->busy = 1;
  m->busy++;
  return NVX_OK;
}

/* A finished transfer, removed from the multi handle; NULL if none is queued. */
static nvx_slot *take_finished(nvx_multi *m, CURLcode *rc) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
    char *priv = NULL;
    nvx_slot *slot;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    slot = (nvx_slot *)(void *)priv;
    *rc = msg->data.result;
    /* msg is invalid from here; the handle keeps its getinfo data */
    curl_multi_remove_handle(m->multi, slot->t.easy);
    slot->busy = 0;
    m->busy--;
    return slot;
  }
  return NULL;
}

nvx_slot *nvx_multi_next(nvx_multi *m, double max_seconds, CURLcode *rc) {
  double deadline = now_seconds() + (max_seconds > 0 ? max_seconds : 0);
  int performed = 0;
  if (!m->multi) return NULL;
  for (;;) {
    int running;
    double left;
    nvx_slot *done = take_finished(m, rc);
    if (done) return done;
    if (m->busy == 0) return NULL;
    if (!performed) { /* at least one pass over the sockets, even with no time to wait */
      curl_multi_perform(m->multi, &running);
      performed = 1;
      continue;
    }
    left = deadline - now_seconds();
    if (left <= 0 || nvx_interrupted()) return NULL; /* Ctrl-C: Lua raises next */
    /* curl shortens the wait to its own next timeout (connect, retries) */
    curl_multi_poll(m->multi, NULL, 0, (int)ceil(left * 1000), NULL);
    performed = 0;
  }
}

void nvx_multi_cancel(nvx_multi *m) {
  int i;
  for (i = 0; i < m->nslots; i++) {
    nvx_slot *slot = m->slots[i];
    if (slot && slot->busy) {
      curl_multi_remove_handle(m->multi, slot->t.easy);
      slot->busy = 0;
    }
  }
  m->busy = 0;
}

void nvx_multi_free(nvx_multi *m) {
  int i;
  nvx_multi_cancel(m);
  /* curl's order: handles out of the multi (above), easy handles, the multi */
  for (i = 0; i < m->nslots; i++) {
    if (m->slots[i]) {
      nvx_transfer_free(&m->slots[i]->t);
      free(m->slots[i]);
    }
  }
  free(m->slots);
  if (m->multi) curl_multi_cleanup(m->multi);
  memset(m, 0, sizeof *m);
}
