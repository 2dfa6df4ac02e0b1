/* core.http_head: the head of an HTTP/1.x answer parsed in one pass, for the
 * ngx transport's reader (navixy.transport.http1); the parsing is
 * http/head.c's. */
#ifndef NAVIXY_HEAD_LUA_H
#define NAVIXY_HEAD_LUA_H

#include <lua.h>

/* core.http_head(buf, pos, budget) -> the head starting at buf's byte pos
 * (1-based), its lines taking from budget bytes:
 *   after, status, headers, major, minor, budget_left   a whole head: after
 *       is the position of the byte after it; headers a table of the
 *       lowercased names, repeated ones joined with ", "
 *   false                   no empty line yet: read more
 *   nil, why                "malformed status line", "status line over the
 *                           limit" or "header block over the limit" */
int nvx_http_head(lua_State *L);

#endif
