/* The userdata client: settings, and its transfers in the module's engine:
 * slot 0 for sequential calls, slots 1..NVX_MAX_SLOTS for a batch. */
#ifndef NAVIXY_CLIENT_H
#define NAVIXY_CLIENT_H

#include <lua.h>
#include "http/engine.h"
#include "http/settings.h"
#include "http/transfer.h"

/* The most slots a client may use (the largest batch concurrency). */
#define NVX_MAX_SLOTS 256

#define NVX_CLIENT_MT "navixy.core.client"

typedef struct nvx_client {
  nvx_settings s;
  nvx_engine *engine;                       /* the module's, held while open */
  nvx_transfer *slots[NVX_MAX_SLOTS + 1];   /* made on first use */
  int top;                                  /* the highest slot made: none above it */
  int closed;
} nvx_client;

/* The client at index i, raising if it is not one or is closed. */
nvx_client *nvx_check_client(lua_State *L, int i);

/* Registers the metatable; pushes nothing. */
void nvx_client_register(lua_State *L);

/* core.new(settings): the settings at index 1; its transfers run in `engine`,
 * or, when it is NULL, in an engine of its own for an event loop. */
int nvx_client_new(lua_State *L, nvx_engine *engine);

#endif
