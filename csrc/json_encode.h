/* Lua values to request text: JSON bodies and x-www-form-urlencoded forms.
 * These read the Lua stack and raise on values that have no JSON form, so
 * the buffer they write into must be owned by the caller's stack (see
 * scratch.h: nothing leaks, nothing is shared with a finalizer). */
#ifndef NAVIXY_JSON_ENCODE_H
#define NAVIXY_JSON_ENCODE_H

#include <lua.h>
#include "util/buffer.h"

/* Stack indices of the metatables that give a table a meaning of its own:
 * array_mt marks a JSON array, even an empty one (navixy.array; decoded
 * arrays carry it too); number_mt a number kept as its text, { "1.10" },
 * written verbatim (core.decode(text, true) makes them). 0: none. */
typedef struct nvx_marks {
  int array_mt;
  int number_mt;
} nvx_marks;

/* Appends the value at index i as JSON. Raises "navixy: cannot encode ..."
 * on what has no JSON form: functions, NaN, cycles, mixed tables, a
 * number_mt table whose text is not exactly one JSON number. */
void nvx_json_value(lua_State *L, nvx_buf *out, int i, nvx_marks marks);

/* Appends the table at index i as a form body: names sorted; strings as
 * they are, numbers in decimal, booleans as true/false, tables and null as
 * JSON text. */
void nvx_form_body(lua_State *L, nvx_buf *out, int i, nvx_marks marks);

#endif
