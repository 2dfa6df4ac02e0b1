/* Reading the option tables the Lua layer hands to the core: core.new's
 * settings, core.ws_connect's options, a request. One reader, one wording
 * ("navixy: option 'name' ..."), one unit: times are seconds, as the public
 * API speaks, turned into milliseconds here and nowhere else. Each reads
 * field `name` of the table at index t and raises on misuse; a string's
 * bytes stay valid while the table holds it. */
#ifndef NAVIXY_OPTIONS_H
#define NAVIXY_OPTIONS_H

#include <lua.h>
#include <stddef.h>

/* The longest time accepted, in seconds (navixy.options allows no more):
 * its milliseconds fit a 32-bit long, as curl's options need. */
#define NVX_MAX_SECONDS 1e6

/* flags of nvx_opt_string */
enum { NVX_OPT_REQUIRED = 1, /* absent: raises */
       NVX_OPT_LINE = 2 };   /* no CR, LF or NUL (it goes into a header or a URL) */

/* A string (NULL when absent), its length at *len when len is not NULL. */
const char *nvx_opt_string(lua_State *L, int t, const char *name, int flags, size_t *len);

/* The index of the string in choices (NULL-terminated); required. */
int nvx_opt_choice(lua_State *L, int t, const char *name, const char *const choices[]);

/* A time in seconds, > 0 and at most NVX_MAX_SECONDS, as milliseconds (at
 * least 1); absent: def_seconds, or a raise when def_seconds < 0. */
long nvx_opt_ms(lua_State *L, int t, const char *name, double def_seconds);

/* A whole number of bytes, from 1 to 2^53; absent: def, or a raise when def is 0. */
size_t nvx_opt_size(lua_State *L, int t, const char *name, size_t def);

/* A boolean: absent is def, anything else counts as Lua counts it. */
int nvx_opt_boolean(lua_State *L, int t, const char *name, int def);

/* The same three with the field's name given as well as a Lua string at
 * index `key` (an upvalue of the reader: no string to find per read) and
 * read raw, for tables the Lua layer makes with no metatable (a request);
 * key 0 is the plain reader's lookup. */
const char *nvx_opt_string_k(lua_State *L, int t, int key, const char *name, int flags, size_t *len);
long nvx_opt_ms_k(lua_State *L, int t, int key, const char *name, double def_seconds);
int nvx_opt_boolean_k(lua_State *L, int t, int key, const char *name, int def);

/* Raises on a field of the table at index t (absolute) whose name is not
 * in names. */
void nvx_opt_known(lua_State *L, int t, const char *const names[]);

/* Seconds as whole milliseconds, rounded (secs >= 0 and at most 1e9). */
long nvx_ms(double secs);

#endif
