/* A buffer owned by one call of an encoder (core.json, core.form,
 * core.escape, core.mask): a userdata on that call's Lua stack whose __gc
 * frees the memory. Nothing is shared between calls, so a finalizer that
 * runs in the middle of a call (at any allocation) and itself encodes gets
 * buffers of its own; and a call that raises leaves its buffer to the
 * collector instead of leaking it. */
#ifndef NAVIXY_SCRATCH_H
#define NAVIXY_SCRATCH_H

#include <lua.h>
#include "util/buffer.h"

/* Once, at luaopen: the metatable of the boxes. */
void nvx_scratch_register(lua_State *L);

/* Pushes a new, empty box and returns its buffer. The caller may free the
 * memory early with nvx_buf_free (the __gc then has nothing to do). */
nvx_buf *nvx_scratch_push(lua_State *L);

#endif
