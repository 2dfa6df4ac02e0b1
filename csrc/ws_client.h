/* The WebSocket userdata of the curl transport: core.ws_connect{...}
 * returns one (see ws_client.c for its methods). */
#ifndef NAVIXY_WS_CLIENT_H
#define NAVIXY_WS_CLIENT_H

#include <lua.h>

#define NVX_WS_MT "navixy.core.ws"

/* Registers the metatable and adds ws_connect(options) -> ws, or nil and
 * an error table, to the module table on top of the stack. */
void nvx_ws_client_register(lua_State *L);

#endif
