/* Giving memory back to the system after big answers, without paying for it
 * in page faults while answers keep coming.
 *
 * A 10 MB answer decodes into tens of megabytes of small blocks; when the
 * collector frees them, glibc keeps the pages (they sit below live blocks,
 * so its heap cannot shrink), and the process stays that big: 16 such
 * answers left 440 MB resident after everything was collected and the
 * client closed. Giving every free page back after each collection cycle
 * (malloc_trim) fixed that but made a program decoding big answers one
 * after another fault every page in again: 105-125 ms a 10 MB decode on
 * Lua 5.4, where the same decode into pages already mapped takes 40.
 *
 * So the policy: at the end of a collection cycle (a userdata with __gc,
 * made again by its own finalizer: the collector's only way to tell C that
 * a cycle ran) after a big answer, or NVX_TRIM_LOOK seconds after the last
 * look, the core asks glibc how much is free in its heap. While
 * big answers keep coming (one decoding, or decoded in the last `idle`
 * seconds) up to `cushion` bytes stay free for the next; past that, or
 * once idle, whatever is free past NVX_TRIM_FREE goes back (malloc_trim:
 * the free pages return, wherever they are). navixy.memory{ cushion =,
 * idle = } sets both (defaults NVX_HEAP_CUSHION, NVX_HEAP_IDLE). A program
 * that allocates nothing runs no cycle: memory goes back at its next one
 * (collectgarbage() runs one).
 * Elsewhere than glibc this does nothing. */
#ifndef NAVIXY_TRIM_H
#define NAVIXY_TRIM_H

#include <stddef.h>
#include <lua.h>

/* Free heap below this is never worth a trim (the syscalls cost more). */
#define NVX_TRIM_FREE (16 * 1024 * 1024)
/* Free heap kept while answers keep coming: a few 10 MB answers' worth. */
#define NVX_HEAP_CUSHION ((size_t)256 * 1024 * 1024)
/* Seconds without a big answer after which the heap counts as idle. */
#define NVX_HEAP_IDLE 1.0
/* Seconds between two looks at the heap when no big answer came between. */
#define NVX_TRIM_LOOK 0.25

/* Starts the watch for this Lua state (once, at luaopen). */
void nvx_trim_watch(lua_State *L);

/* Answers smaller than this need no cushion: they fit in what is free anyway. */
#define NVX_HEAP_BIG (256 * 1024)

/* The decode of an answer of n bytes starts (start 1) or ended (0): past
 * NVX_HEAP_BIG, memory freed now is likely needed again soon. A cycle
 * that runs wholly inside a big decode counts as busy too. */
void nvx_heap_answer(size_t n, int start);

/* Whether the policy acts here: glibc's allocator in use, reporting its heap. */
int nvx_heap_watched(void);

/* The policy's settings: the cushion in bytes and the idle time in seconds
 * set from those given (not NULL); the ones in force stored. */
void nvx_heap_policy(const size_t *new_cushion, const double *new_idle, size_t *now_cushion,
                     double *now_idle);

#endif
