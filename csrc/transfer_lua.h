/* A transfer's events (http/transfer.h) as the Lua tables of the transport
 * contract (lua/navixy/transport/init.lua). */
#ifndef NAVIXY_TRANSFER_LUA_H
#define NAVIXY_TRANSFER_LUA_H

#include <lua.h>
#include "http/transfer.h"

/* Pushes the outcome of a finished transfer as one table:
 *   { status =, body =, retry_after = seconds|nil, content_type =,
 *     disposition =, streamed = bytes|nil }          an answer arrived
 *   { kind =, message =, phase = }                   none did (nvx_failure)
 * body is the whole body, or for a streamed one what is left after the
 * chunks. Afterwards no body-sized buffer is kept. Returns 1. */
int nvx_transfer_push_result(lua_State *L, nvx_transfer *t);

/* Pushes { chunk = <the piece of the body ready> } and empties the buffer. */
int nvx_transfer_push_chunk(lua_State *L, nvx_transfer *t);

#endif
