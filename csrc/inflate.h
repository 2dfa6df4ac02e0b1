/* gzip (and zlib) answers inflated for the nginx transport, whose bytes
 * come through Lua: libcurl inflates its own. The inflated size is bounded
 * as it grows, so a small compressed body that inflates to gigabytes (a
 * gzip bomb) is an error, never an allocation of that size. */
#ifndef NAVIXY_INFLATE_H
#define NAVIXY_INFLATE_H

#include <lua.h>

/* core.inflater([deflate]) -> an object for one gzip or zlib stream (with
 * `deflate` true, Content-Encoding: deflate, also a raw deflate one), with
 *   :feed(bytes, max) -> inflated bytes, or nil and "limit" (more than max
 *                        bytes would come out of this piece), "corrupt", or
 *                        "trailing" (bytes after the end of the stream:
 *                        garbage, or a second gzip member)
 *   :finished()       -> true once the compressed stream has ended
 *   :reset([deflate]) -> the inflater, for a new stream as
 *                        core.inflater(deflate) would be (zlib's state and
 *                        window kept: no allocation)
 * and __gc. Registers the metatable; pushes nothing. */
void nvx_inflate_register(lua_State *L);

/* core.inflater */
int nvx_inflater_new(lua_State *L);

#endif
