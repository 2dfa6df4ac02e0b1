/* Lazy answers (call option decode = "lazy"): the JSON text indexed in one
 * pass (where each value starts and ends, the members of each object and
 * array) and read on access, so that a big answer read sparsely costs the
 * index and the values read, not a table and a string for every value.
 *
 * An object or array is a read-only view, a userdata: v[k] reads a member
 * (an object's by string key, an array's by 1..n), #v is an array's length
 * (0 for an object), __pairs gives the members in the text's order (arrays
 * 1..n), __eq holds for two views of the same value, and writes raise.
 * Scalars come out as core.decode gives them: numbers and strings read by
 * the decoder itself (json_decode.h) from their text, null as navixy.null.
 * The views hold the text and the index; answers up to 1 GiB. */
#ifndef NAVIXY_JSON_LAZY_H
#define NAVIXY_JSON_LAZY_H

#include <lua.h>

/* Registers the views' metatable and the core functions lazy (text -> a
 * view of the value, or the scalar; or nil and "invalid JSON at byte N:
 * why" as core.decode says it), lazy_text (v -> the JSON text of a view,
 * or nil for anything else: what navixy.plain decodes), lazy_pairs and
 * lazy_ipairs (the iterators of navixy.pairs and navixy.ipairs) into the
 * table on top of the stack. */
void nvx_lazy_register(lua_State *L);

#endif
