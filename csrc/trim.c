#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#include "trim.h"

#include <lauxlib.h>

#include "compat.h"
#include "metatable.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <dlfcn.h>
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif

#define CANARY_MT "navixy.core.trim"

#ifdef HAVE_MALLINFO2
static void arm(lua_State *L);

/* A collection cycle ran: give back what glibc holds free, if it is much. */
static int canary_gc(lua_State *L) {
  struct mallinfo2 mi = mallinfo2();
  if (mi.fordblks > NVX_TRIM_FREE) malloc_trim(0);
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

void nvx_trim_watch(lua_State *L) {
#ifdef HAVE_MALLINFO2
  pin_module();
  arm(L);
#else
  (void)L;
#endif
}
