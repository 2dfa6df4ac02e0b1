/* The WebSocket functions of navixy.core: the framing, pure, for transports
 * that do their own I/O (nginx cosockets), and the checks the curl
 * transport's ws_connect (ws_client.c) shares with them. */
#ifndef NAVIXY_WS_LUA_H
#define NAVIXY_WS_LUA_H

#include <lua.h>
#include <stddef.h>

/* Adds ws_handshake, ws_accept_ok, ws_check_answer, ws_frame
 * and ws_parser to the module table on top of the stack. */
void nvx_ws_register(lua_State *L);

/* The array of header lines at index i (nil: none), checked ("Name: value",
 * no CR, LF or NUL, no field the handshake sets itself) and joined as
 * "Name: value\n" lines into a string pushed on the stack. Raises on bad
 * lines. */
void nvx_ws_header_lines(lua_State *L, int i, const char **lines, size_t *len);

/* Reads an optional close code at index i (default 1000) and reason at i+1,
 * raising unless the code may be sent and the reason is UTF-8 of at most
 * 123 bytes. */
void nvx_ws_check_close_args(lua_State *L, int i, int *code, const char **reason, size_t *n);

#endif
