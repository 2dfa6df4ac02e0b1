/* An engine under an event loop (engine.h): libcurl's multi socket
 * interface. curl tells which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when its timer runs out (CURLMOPT_TIMERFUNCTION); both go into one
 * epoll descriptor, the timer as a timerfd. The loop then has one
 * descriptor to watch for reading, whatever the number of transfers, and
 * needs no timers of its own (copas 1.1 has none): when it is readable,
 * nvx_engine_next drives curl by curl_multi_socket_action for what is
 * ready. Level-triggered: a descriptor still ready is reported again. */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

nvx_engine *nvx_engine_new_loop(void) {
  nvx_engine *e = nvx_engine_new();
  struct epoll_event ev;
  if (!e) return NULL;
  e->epfd = epoll_create1(EPOLL_CLOEXEC);
  e->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.fd = e->timerfd;
  if (e->epfd < 0 || e->timerfd < 0 || epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->timerfd, &ev) != 0) {
    nvx_engine_release(e);
    return NULL;
  }
  return e;
}

int nvx_engine_fd(const nvx_engine *e) { return e->epfd; }

void nvx_engine_loop_close(nvx_engine *e) {
  if (e->timerfd >= 0) close(e->timerfd);
  if (e->epfd >= 0) close(e->epfd);
  e->timerfd = e->epfd = -1;
}

/* curl's word on socket s: watch it for what, or no more. socketp is
 * non-NULL once s is in the epoll set (curl_multi_assign). */
/* cppcheck-suppress constParameter ; curl_socket_callback's type */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  nvx_engine *e = userp;
  struct epoll_event ev;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    /* curl may have closed it already (then epoll dropped it by itself) */
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL);
    curl_multi_assign(e->multi, s, NULL);
    return 0;
  }
  memset(&ev, 0, sizeof ev);
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
  ev.data.fd = s;
  if (socketp) {
    if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) == 0) return 0;
  }
  if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev) != 0 &&
      (errno != EEXIST || epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) != 0))
    return -1; /* curl fails the transfers on that socket */
  curl_multi_assign(e->multi, s, (void *)e);
  return 0;
}

/* curl's timer: due in timeout_ms (0: now), or none (-1). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  nvx_engine *e = userp;
  struct itimerspec its;
  (void)multi;
  memset(&its, 0, sizeof its);
  if (timeout_ms == 0) {
    its.it_value.tv_nsec = 1; /* a zero it_value would disarm it */
  } else if (timeout_ms > 0) {
    its.it_value.tv_sec = timeout_ms / 1000;
    its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L;
  }
  return timerfd_settime(e->timerfd, 0, &its, NULL) == 0 ? 0 : -1;
}

void nvx_engine_loop_attach(nvx_engine *e) {
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, (void *)e);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, (void *)e);
}

void nvx_engine_loop_wait(nvx_engine *e, int wait_ms) {
  struct epoll_event ev;
  (void)epoll_wait(e->epfd, &ev, 1, wait_ms); /* what is ready is taken by drive */
}

#define BATCH 64

void nvx_engine_loop_drive(nvx_engine *e, int wait_ms) {
  struct epoll_event evs[BATCH];
  int n, i, running;
  if (!e->multi) return;
  n = epoll_wait(e->epfd, evs, BATCH, wait_ms);
  for (i = 0; i < n; i++) {
    int fd = evs[i].data.fd, mask = 0;
    if (fd == e->timerfd) {
      unsigned long long expirations;
      while (read(e->timerfd, &expirations, sizeof expirations) > 0) {
      }
      curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
      continue;
    }
    if (evs[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
    if (evs[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (evs[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
    curl_multi_socket_action(e->multi, fd, mask, &running);
  }
}
