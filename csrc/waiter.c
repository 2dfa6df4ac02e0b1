/* core.waiter(): what a coroutine of an event loop waits on. One epoll
 * descriptor of its own holding a timerfd and, when given, one descriptor to
 * watch for reading (an engine's, engine.h, or a WebSocket's). The loop
 * adapters (lua/navixy/loop/) then have a single thing to do: wait until
 * that descriptor is readable, each in its loop's own way; the waiter tells
 * why it woke. A descriptor of its own per waiter is what lets many
 * coroutines wait on one engine at once (libuv allows one poll handle per
 * descriptor) and a loop without timers (copas 1.1) time out. Linux.
 *
 *   w = core.waiter()
 *   w:set(fd | nil, seconds | nil)  watch fd (nil: none), time out after
 *                                   seconds (nil: never)
 *   w:fd()                          the descriptor to wait on for reading
 *   w:ready() -> "ready" | "timeout" | nil
 *                                   why it is readable (nil: it is not yet)
 *   w:close()                       (also __gc) */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "compat.h"
#include "metatable.h"
#include "raise.h"
#include "waiter.h"

#define NVX_WAITER_MT "navixy.core.waiter"

typedef struct waiter {
  int epfd, timerfd, watched; /* -1 when none */
} waiter;

static waiter *check(lua_State *L) {
  waiter *w = luaL_checkudata(L, 1, NVX_WAITER_MT);
  if (w->epfd < 0) nvx_raise(L, "navixy: waiter is closed");
  return w;
}

static int w_close(lua_State *L) {
  waiter *w = luaL_checkudata(L, 1, NVX_WAITER_MT);
  if (w->timerfd >= 0) close(w->timerfd);
  if (w->epfd >= 0) close(w->epfd);
  w->epfd = w->timerfd = w->watched = -1;
  return 0;
}

static int add(int epfd, int fd) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int w_set(lua_State *L) {
  waiter *w = check(L);
  int fd = lua_isnoneornil(L, 2) ? -1 : (int)luaL_checkinteger(L, 2);
  double secs = luaL_optnumber(L, 3, -1);
  struct itimerspec its;
  if (fd != w->watched) {
    /* the old one may be closed already: epoll dropped it then */
    if (w->watched >= 0) epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->watched, NULL);
    w->watched = -1;
    if (fd >= 0) {
      if (add(w->epfd, fd) != 0 && errno != EEXIST)
        return nvx_raise(L, "navixy: cannot watch that descriptor");
      w->watched = fd;
    }
  }
  {
    unsigned long long expirations; /* a timeout that came before: forgotten */
    while (read(w->timerfd, &expirations, sizeof expirations) > 0) {
    }
  }
  memset(&its, 0, sizeof its);
  if (secs >= 0) { /* NaN and negatives: no timeout */
    if (secs > 1e6) secs = 1e6;
    its.it_value.tv_sec = (time_t)secs;
    its.it_value.tv_nsec = (long)((secs - (double)its.it_value.tv_sec) * 1e9);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1; /* 0 would disarm */
  }
  if (timerfd_settime(w->timerfd, 0, &its, NULL) != 0) return nvx_raise(L, "navixy: cannot set a timer");
  return 0;
}

static int w_fd(lua_State *L) {
  lua_pushinteger(L, check(L)->epfd);
  return 1;
}

static int w_ready(lua_State *L) {
  waiter *w = check(L);
  struct epoll_event evs[2];
  int n = epoll_wait(w->epfd, evs, 2, 0), i, timed_out = 0;
  for (i = 0; i < n; i++) {
    if (evs[i].data.fd == w->watched) {
      lua_pushliteral(L, "ready");
      return 1;
    }
    if (evs[i].data.fd == w->timerfd) timed_out = 1;
  }
  if (!timed_out) return 0;
  lua_pushliteral(L, "timeout");
  return 1;
}

static int w_tostring(lua_State *L) {
  waiter *w = luaL_checkudata(L, 1, NVX_WAITER_MT);
  lua_pushstring(L, w->epfd < 0 ? "navixy.core waiter (closed)" : "navixy.core waiter");
  return 1;
}

int nvx_waiter_new(lua_State *L) {
  waiter *w = compat_newuserdata(L, sizeof *w);
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  w->watched = -1;
  if (w->epfd < 0 || w->timerfd < 0 || add(w->epfd, w->timerfd) != 0) {
    if (w->epfd >= 0) close(w->epfd);
    if (w->timerfd >= 0) close(w->timerfd);
    return nvx_raise(L, "navixy: cannot make a waiter (out of descriptors)");
  }
  compat_setmetatable(L, NVX_WAITER_MT); /* only now can __gc see it */
  return 1;
}

static const luaL_Reg METHODS[] = {{"set", w_set}, {"fd", w_fd}, {"ready", w_ready},
                                   {"close", w_close}, {NULL, NULL}};

void nvx_waiter_register(lua_State *L) {
  static const luaL_Reg META[] = {
      {"__gc", w_close}, {"__close", w_close}, {"__tostring", w_tostring}, {NULL, NULL}};
  nvx_metatable(L, NVX_WAITER_MT, METHODS, META);
}
