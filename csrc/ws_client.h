/* The WebSocket userdata of the curl transport: core.ws_connect{...}
 * returns one (see ws_client.c for its methods). */
#ifndef NAVIXY_WS_CLIENT_H
#define NAVIXY_WS_CLIENT_H

#include <lua.h>

#define NVX_WS_MT "navixy.core.ws"

/* Registers the metatable; pushes nothing. */
void nvx_ws_client_register(lua_State *L);

/* core.ws_connect(options) -> ws, or nil and an error table */
int nvx_ws_connect(lua_State *L);

#endif
