/* Lua values to request text: JSON bodies and x-www-form-urlencoded forms.
 * These read the Lua stack and raise on values that have no JSON form, so
 * they write into a buffer owned by the module state (nothing to leak). */
#ifndef NAVIXY_VALUES_H
#define NAVIXY_VALUES_H

#include <lua.h>
#include "buffer.h"

/* Appends the value at index i as JSON. array_mt is the stack index of the
 * metatable that marks a table as an array (navixy.array). */
void nvx_json_value(lua_State *L, nvx_buf *out, int i, int array_mt);

/* Appends the table at index i as a form body: names sorted; strings as
 * they are, numbers in decimal, booleans as true/false, tables and null as
 * JSON text. */
void nvx_form_body(lua_State *L, nvx_buf *out, int i, int array_mt);

#endif
