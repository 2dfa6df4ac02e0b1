/* core.waiter(): a descriptor for a coroutine of an event loop to wait on
 * (waiter.c). */
#ifndef NAVIXY_WAITER_H
#define NAVIXY_WAITER_H

#include <lua.h>

/* Registers the metatable; pushes nothing. */
void nvx_waiter_register(lua_State *L);

/* core.waiter() -> a new waiter. */
int nvx_waiter_new(lua_State *L);

#endif
