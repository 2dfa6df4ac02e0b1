/* The userdata client: settings, the transfer used by sequential calls, and
 * the multi handle with the slots used by batches. */
#ifndef NAVIXY_CLIENT_H
#define NAVIXY_CLIENT_H

#include <lua.h>
#include "settings.h"
#include "multi.h"
#include "transfer.h"

#define NVX_CLIENT_MT "navixy.core.client"

typedef struct nvx_client {
  nvx_settings s;
  nvx_transfer t;
  nvx_multi m;
  int closed;
} nvx_client;

/* The client at index i, raising if it is not one or is closed. */
nvx_client *nvx_check_client(lua_State *L, int i);

/* Registers the metatable; pushes nothing. */
void nvx_client_register(lua_State *L);

/* core.new(settings) */
int nvx_client_new(lua_State *L);

#endif
