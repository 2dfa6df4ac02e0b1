#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#include "trim.h"

#include <lauxlib.h>

#include "compat.h"
#include "metatable.h"
#include "util/clock.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <dlfcn.h>
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif

#define CANARY_MT "navixy.core.trim"

/* Process-wide, like the heap they watch. A Lua state per thread may race
 * on them: the worst outcome is one trim too many or too few. */
static size_t cushion = NVX_HEAP_CUSHION;
static double idle = NVX_HEAP_IDLE;
static double last_answer = -1e300; /* nvx_now() when the last big decode started or ended */
static double last_look = -1e300;   /* nvx_now() when a cycle last asked glibc */
static int looked_busy;             /* that look found answers coming */
static int decoding; /* a big answer is being decoded (a raise leaves it set until the next one ends) */

void nvx_heap_answer(size_t n, int start) {
  if (n < NVX_HEAP_BIG) return;
  last_answer = nvx_now();
  decoding = start;
}

void nvx_heap_policy(const size_t *new_cushion, const double *new_idle, size_t *now_cushion,
                     double *now_idle) {
  if (new_cushion) cushion = *new_cushion;
  if (new_idle) idle = *new_idle;
  if (new_cushion || new_idle) last_look = -1e300; /* the next cycle applies them */
  *now_cushion = cushion;
  *now_idle = idle;
}

#ifdef HAVE_MALLINFO2
static void arm(lua_State *L);

/* A collection cycle ran: give back what glibc holds free past the cushion
 * while answers keep coming, or past NVX_TRIM_FREE once they stopped.
 * Asking glibc (mallinfo2 walks its free lists) cost about as much as
 * decoding a 5 KB answer's strings, and small answers run many short
 * cycles: so a cycle asks only when a big answer came since the last look,
 * answers stopped coming since, the policy changed, or NVX_TRIM_LOOK
 * seconds passed. */
static int canary_gc(lua_State *L) {
  double now = nvx_now();
  int busy = decoding || now - last_answer < idle;
  if (last_answer >= last_look || (looked_busy && !busy) || now - last_look >= NVX_TRIM_LOOK) {
    struct mallinfo2 mi = mallinfo2();
    size_t keep = busy && cushion > NVX_TRIM_FREE ? cushion : NVX_TRIM_FREE;
    last_look = now;
    looked_busy = busy;
    if (mi.fordblks > keep) malloc_trim(0);
  }
  arm(L); /* for the next cycle */
  return 0;
}

/* A canary: garbage at once, so the next cycle finalizes it. */
static void arm(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", canary_gc}, {NULL, NULL}};
  nvx_metatable(L, CANARY_MT, NULL, meta);
  compat_newuserdata(L, 1);
  compat_setmetatable(L, CANARY_MT);
  lua_pop(L, 1);
}

/* LuaJIT's lua_close finalizes in rounds and unloads C modules in the first:
   a canary armed during that round would call into unmapped code in the next.
   So the module stays mapped once loaded (it is loaded once per process). */
static void pin_module(void) {
  Dl_info info;
  if (dladdr((void *)canary_gc, &info) && info.dli_fname)
    (void)dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}
#endif

int nvx_heap_watched(void) {
#ifdef HAVE_MALLINFO2
  return mallinfo2().arena > 0; /* 0 where another allocator stands in (valgrind, ASan) */
#else
  return 0;
#endif
}

void nvx_trim_watch(lua_State *L) {
#ifdef HAVE_MALLINFO2
  pin_module();
  arm(L);
#else
  (void)L;
#endif
}
