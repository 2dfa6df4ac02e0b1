/* Giving memory back to the system after big answers.
 *
 * A 10 MB answer decodes into tens of megabytes of small blocks; when the
 * collector frees them, glibc keeps the pages (they sit below live blocks,
 * so its heap cannot shrink), and the process stays that big: 16 such
 * answers left 440 MB resident after everything was collected and the
 * client closed. So once per collection cycle (a userdata with __gc,
 * made again by its own finalizer: the collector's only way to tell C that
 * a cycle ran) the core asks glibc how much is free in its heap, and past
 * NVX_TRIM_FREE bytes gives it back (malloc_trim: the free pages return,
 * wherever they are). Elsewhere than glibc this does nothing. */
#ifndef NAVIXY_TRIM_H
#define NAVIXY_TRIM_H

#include <lua.h>

#define NVX_TRIM_FREE (16 * 1024 * 1024)

/* Starts the watch for this Lua state (once, at luaopen). */
void nvx_trim_watch(lua_State *L);

#endif
