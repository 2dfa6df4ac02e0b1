#include "json_lazy.h"

#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "metatable.h"
#include "json_decode.h"
#include "raise.h"
#include "util/escape.h"
#include "util/inline.h"
#include "util/json_scan.h"

#define VIEW_MT "navixy.lazy"
#define DOC_MT "navixy.lazy.doc"

/* Every function below that makes or tells views has the views' metatable
 * as its first upvalue: found there at every read, instead of by its name
 * in the registry (a string made and looked up, twice a read). */
#define VIEW_META lua_upvalueindex(1)

/* ---- the index: pure C, no Lua ---- */

/* A member of an object or array, or an object's key, is one 32-bit entry:
 * an object or array the index of its node (with CONTAINER), anything else
 * the offset of its first byte in the text (with ESCAPED for a string that
 * has escapes): a scalar is read from there when it is accessed, so that
 * indexing writes 4 bytes for it and nothing else. */
#define CONTAINER 0x80000000u
#define ESCAPED 0x40000000u
#define WHERE 0x3fffffffu
#define MAX_TEXT WHERE /* 1 GiB: offsets fit beside the flags */

/* An object or array: where it is, and where its members' entries are
 * listed in doc.kids (an object's as key, value, key, ...). */
typedef struct node {
  uint32_t start, end; /* text[start..end) */
  uint32_t kids;       /* its first entry in doc.kids */
  uint32_t count;      /* members (an object's pairs) */
  int object;
} node;

typedef struct doc {
  node *nodes;
  uint32_t *kids;
  const char *text; /* held by the views' anchor table, with this doc */
  size_t len;
} doc;

typedef struct builder {
  const char *text, *p, *end, *why;
  int depth, oom;
  node *nodes;
  size_t n, cap;
  uint32_t *kids, *pend; /* entries listed; entries of open containers */
  size_t nk, capk, np, capp;
} builder;

static int fail(builder *b, const char *why) {
  b->why = why;
  return 0;
}

static int grow(void **a, size_t *cap, size_t need, size_t size) {
  size_t c = *cap ? *cap : 256;
  void *m;
  if (need <= *cap) return 1;
  while (c < need) c *= 2;
  m = realloc(*a, c * size);
  if (!m) return 0;
  *a = m;
  *cap = c;
  return 1;
}

/* Room for one more pending entry: grows b->pend when full. */
static int pending_room(builder *b) {
  if (b->np < b->capp) return 1;
  if (!grow((void **)&b->pend, &b->capp, b->np + 1, sizeof *b->pend)) {
    b->oom = 1;
    return fail(b, "out of memory");
  }
  return 1;
}

static inline void skip_space(builder *b) { b->p = nvx_json_space(b->p, b->end); }

/* The rest of a string from p, its first backslash or the text's end (the
 * slow path of index_string, out of its loop: a string with escapes is
 * rare): past the closing quote; NULL on an error, b->p and b->why then
 * saying where and why. */
static NVX_NOINLINE const char *index_escaped(builder *b, const char *p) {
  const char *end = b->end;
  for (;;) {
    char out[4];
    size_t wrote, len;
    const char *why;
    if (p < end && *p == '"') return p + 1;
    if (p + 1 >= end) {
      b->p = end;
      fail(b, "unterminated string");
      return NULL;
    }
    len = nvx_json_escape(p, end, out, &wrote, &why);
    if (!len) {
      b->p = p + 1;
      fail(b, why);
      return NULL;
    }
    p = nvx_json_quote_or_backslash(p + len, end);
  }
}

/* The end of the string whose opening quote is at p (past its closing
 * quote), escapes checked as the decoder reads them, ESCAPED or'ed into
 * *entry when it has any; NULL on an error. */
static NVX_ALWAYS_INLINE const char *index_string(builder *b, const char *p, const char *end,
                                                  uint32_t *entry) {
  p = nvx_json_quote_or_backslash(p + 1, end);
  if (p < end && *p == '"') return p + 1;
  p = index_escaped(b, p); /* p at a backslash: read, the string has escapes */
  *entry |= ESCAPED;
  return p;
}

/* The length of the number at s, 0 if there is none. Most are plain
 * integers or decimals (1-9 first, no exponent), skipped here; the rest by
 * the decoder's own scanner. */
static inline size_t number_length(const char *s, const char *end) {
  const char *p = s;
  if (*p >= '1' && *p <= '9') {
    do p++;
    while (p < end && *p >= '0' && *p <= '9');
    if (p < end && *p == '.' && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
      p += 2; /* a fraction: its digits too */
      while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p >= end || (*p != '.' && *p != 'e' && *p != 'E')) return (size_t)(p - s);
  }
  return nvx_json_number_length(s, (size_t)(end - s));
}

static int index_object(builder *b);
static int index_array(builder *b);

/* The end of the scalar at p (a string, literal or number: the grammar is
 * the decoder's), its entry at *entry; NULL on an error (b->p, b->why). */
static NVX_ALWAYS_INLINE const char *index_scalar(builder *b, const char *p, const char *end,
                                                  uint32_t *entry) {
  size_t len;
  switch (*p) {
  case '"': return index_string(b, p, end, entry);
  case 't': len = (size_t)(end - p) >= 4 && memcmp(p, "true", 4) == 0 ? 4 : 0; break;
  case 'f': len = (size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0 ? 5 : 0; break;
  case 'n': len = (size_t)(end - p) >= 4 && memcmp(p, "null", 4) == 0 ? 4 : 0; break;
  default: len = number_length(p, end); break;
  }
  if (!len) {
    b->p = p;
    fail(b, "invalid value");
    return NULL;
  }
  return p + len;
}

/* b->p at the first character of a value: its entry pended. */
static int index_value(builder *b) {
  uint32_t entry = (uint32_t)(b->p - b->text);
  const char *q;
  if (b->p >= b->end) return fail(b, "expected a value");
  if (*b->p == '{') return index_object(b);
  if (*b->p == '[') return index_array(b);
  if (!(q = index_scalar(b, b->p, b->end, &entry)) || !pending_room(b)) return 0;
  b->p = q;
  b->pend[b->np++] = entry;
  return 1;
}

/* b->p at the '{' or '['. The loop keeps the text's position and the
 * pending entries in locals (the builder's fields are reloaded only around
 * a nested container or a growing): it runs for every member of an answer.
 * Inlined twice, into index_object and index_array: each loop then tests
 * nothing for the kind of its container. */
static NVX_ALWAYS_INLINE int index_container(builder *b, const int object) {
  size_t self = b->n, mark, count;
  char close = object ? '}' : ']';
  const char *p, *end = b->end, *text = b->text;
  uint32_t *top, *lim; /* where the next pending entry goes; the end of b->pend */
  if (!grow((void **)&b->nodes, &b->cap, b->n + 1, sizeof *b->nodes) || !pending_room(b)) {
    b->oom = 1;
    return fail(b, "out of memory");
  }
  b->pend[b->np++] = CONTAINER | (uint32_t)self;
  b->n++;
  b->nodes[self].start = (uint32_t)(b->p - text);
  b->nodes[self].object = object;
  mark = b->np;
  if (++b->depth > NVX_DECODE_MAX_DEPTH) return fail(b, "nested too deep");
  p = nvx_json_space(b->p + 1, end);
  top = b->pend + b->np;
  lim = b->pend + b->capp;
  if (p < end && *p == close) {
    p++;
  } else {
    for (;;) {
      uint32_t entry;
      if (lim - top < 2) { /* room for a key and its value */
        b->np = (size_t)(top - b->pend);
        if (!grow((void **)&b->pend, &b->capp, b->np + 2, sizeof *b->pend)) {
          b->oom = 1;
          return fail(b, "out of memory");
        }
        top = b->pend + b->np;
        lim = b->pend + b->capp;
      }
      if (object) {
        if (p >= end || *p != '"') {
          b->p = p;
          return fail(b, "expected a string key");
        }
        entry = (uint32_t)(p - text);
        if (!(p = index_string(b, p, end, &entry))) return 0;
        *top++ = entry;
        if (!nvx_json_take(&p, end, ':')) {
          b->p = p;
          return fail(b, "expected ':'");
        }
        p = nvx_json_space(p, end);
      }
      if (p >= end) {
        b->p = p;
        return fail(b, "expected a value");
      }
      if (*p == '{' || *p == '[') {
        b->p = p;
        b->np = (size_t)(top - b->pend);
        if (!(*p == '{' ? index_object(b) : index_array(b))) return 0;
        p = b->p;
        top = b->pend + b->np;
        lim = b->pend + b->capp;
      } else {
        entry = (uint32_t)(p - text);
        if (!(p = index_scalar(b, p, end, &entry))) return 0;
        *top++ = entry;
      }
      if (!nvx_json_take(&p, end, ',')) {
        b->p = p;
        if (p >= end) return fail(b, object ? "unterminated object" : "unterminated array");
        if (*p == close) break;
        return fail(b, object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
      p = nvx_json_space(p, end);
    }
    p++;
  }
  b->p = p;
  count = (size_t)(top - b->pend) - mark;
  if (!grow((void **)&b->kids, &b->capk, b->nk + count, sizeof *b->kids)) {
    b->oom = 1;
    return fail(b, "out of memory");
  }
  if (count) memcpy(b->kids + b->nk, b->pend + mark, count * sizeof *b->kids);
  b->nodes[self].kids = (uint32_t)b->nk;
  b->nodes[self].count = (uint32_t)(object ? count / 2 : count);
  b->nodes[self].end = (uint32_t)(p - text);
  b->nk += count;
  b->np = mark;
  b->depth--;
  return 1;
}

static NVX_NOINLINE int index_object(builder *b) { return index_container(b, 1); }

static NVX_NOINLINE int index_array(builder *b) { return index_container(b, 0); }

/* ---- the views ---- */

typedef struct view {
  doc *d;
  uint32_t node;
} view;

static int doc_gc(lua_State *L) {
  doc *d = luaL_checkudata(L, 1, DOC_MT);
  free(d->nodes);
  free(d->kids);
  d->nodes = NULL;
  d->kids = NULL;
  return 0;
}

/* The view at i, or NULL when i holds anything else. */
static view *to_view(lua_State *L, int i) {
  view *v = lua_touserdata(L, i);
  if (!v || !lua_getmetatable(L, i)) return NULL;
  if (!lua_rawequal(L, -1, VIEW_META)) v = NULL;
  lua_pop(L, 1);
  return v;
}

static view *check_view(lua_State *L, int i) {
  view *v = to_view(L, i);
  if (!v) luaL_argerror(L, i, "a lazy answer expected");
  return v;
}

/* Pushes a view of node n, anchored (text and doc held) by the table at
 * stack index anchor, or when owner is not 0 by the anchor of the view at
 * owner: taken from its uservalue straight into the new view's. */
static void push_view(lua_State *L, doc *d, uint32_t n, int anchor, int owner) {
  view *v = compat_newuserdata_uv(L, sizeof *v);
  v->d = d;
  v->node = n;
  if (owner)
    compat_getuservalue(L, owner);
  else
    lua_pushvalue(L, anchor);
  compat_setuservalue(L, -2);
  lua_pushvalue(L, VIEW_META);
  lua_setmetatable(L, -2);
}

/* The end of the string whose opening quote is at s (the index checked it). */
static const char *string_end(const char *s, const char *end) {
  const char *p = s + 1;
  while (p < end && *p != '"') p += *p == '\\' ? 2 : 1;
  return p + 1;
}

/* Pushes the value of an entry as core.decode gives it; an object or array
 * as a view, with the anchor of view `owner` (a stack index). Numbers and
 * strings with escapes are read by the decoder itself. */
static void push_entry(lua_State *L, doc *d, uint32_t entry, int owner) {
  const char *s = d->text + (entry & WHERE), *end = d->text + d->len;
  if (entry & CONTAINER) {
    push_view(L, d, entry & WHERE, 0, owner);
    return;
  }
  switch (*s) {
  case 't': lua_pushboolean(L, 1); return;
  case 'f': lua_pushboolean(L, 0); return;
  case 'n': lua_pushlightuserdata(L, NULL); return;
  case '"':
    if (!(entry & ESCAPED)) {
      const char *q = memchr(s + 1, '"', (size_t)(end - s - 1));
      lua_pushlstring(L, s + 1, (size_t)(q - s - 1));
    } else {
      nvx_decoding plain = {0, 0, NULL, 0};
      const char *why;
      size_t at;
      if (!nvx_json_decode(L, s, (size_t)(string_end(s, end) - s), &plain, &why, &at))
        lua_pushnil(L); /* cannot happen: indexed */
    }
    return;
  default: /* a number: the index saw one there */
    if (!nvx_json_push_number(L, s, (size_t)(end - s))) lua_pushnil(L);
    return;
  }
}

/* Whether the key entry spells k[0..len). */
static int key_is(lua_State *L, doc *d, uint32_t entry, const char *k, size_t len) {
  const char *s = d->text + (entry & WHERE) + 1;
  size_t got;
  const char *key;
  int same;
  if (!(entry & ESCAPED))
    return (size_t)(d->len - (entry & WHERE) - 1) > len && s[len] == '"' && memcmp(s, k, len) == 0;
  push_entry(L, d, entry, 0);
  key = lua_tolstring(L, -1, &got);
  same = key && got == len && memcmp(key, k, len) == 0;
  lua_pop(L, 1);
  return same;
}

/* __index: an object's member by key (the last of repeated keys, as the
 * decoder keeps), an array's by 1..n; nil for anything else. */
static int view_index(lua_State *L) {
  view *v = check_view(L, 1);
  doc *d = v->d;
  const node *nd = &d->nodes[v->node];
  const uint32_t *kids = nd->count ? d->kids + nd->kids : NULL; /* no member: kids may be NULL */
  if (nd->object) {
    size_t len;
    const char *k;
    uint32_t i;
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    k = lua_tolstring(L, 2, &len);
    for (i = nd->count; i > 0; i--) {
      if (key_is(L, d, kids[2 * (i - 1)], k, len)) {
        push_entry(L, d, kids[2 * (i - 1) + 1], 1);
        return 1;
      }
    }
    return 0;
  }
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Number x = lua_tonumber(L, 2);
    if (x >= 1 && x <= (lua_Number)nd->count && x == floor(x)) {
      push_entry(L, d, kids[(uint32_t)x - 1], 1);
      return 1;
    }
  }
  return 0;
}

static int view_newindex(lua_State *L) {
  return nvx_raise(L, "navixy: a lazy answer is read-only (navixy.plain(v) gives tables to change)");
}

/* __len: an array's length; 0 for an object, as # of a table with no array part. */
static int view_len(lua_State *L) {
  view *v = check_view(L, 1);
  const node *nd = &v->d->nodes[v->node];
  lua_pushinteger(L, nd->object ? 0 : (lua_Integer)nd->count);
  return 1;
}

static int view_eq(lua_State *L) {
  view *a = to_view(L, 1), *b = to_view(L, 2);
  lua_pushboolean(L, a && b && a->d == b->d && a->node == b->node);
  return 1;
}

static int view_tostring(lua_State *L) {
  view *v = check_view(L, 1);
  const node *nd = &v->d->nodes[v->node];
  lua_pushfstring(L, "navixy.lazy %s (%d %s): %p", nd->object ? "object" : "array", (int)nd->count,
                  nd->object ? "keys" : "items", (void *)v);
  return 1;
}

/* The step of an iteration: upvalue 2 the position, 3 whether only an
 * array's items count (ipairs). Gives key, value; nothing at the end. */
static int view_step(lua_State *L) {
  view *v = check_view(L, 1);
  doc *d = v->d;
  const node *nd = &d->nodes[v->node];
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(2));
  if ((nd->object && lua_toboolean(L, lua_upvalueindex(3))) || pos >= (lua_Integer)nd->count) return 0;
  lua_pushinteger(L, pos + 1);
  lua_replace(L, lua_upvalueindex(2));
  if (nd->object) {
    const uint32_t *pair = d->kids + nd->kids + 2 * (uint32_t)pos;
    push_entry(L, d, pair[0], 1);
    push_entry(L, d, pair[1], 1);
  } else {
    lua_pushinteger(L, pos + 1);
    push_entry(L, d, d->kids[nd->kids + (uint32_t)pos], 1);
  }
  return 2;
}

/* iterate(v, only_items) -> step, v, nil */
static int iterate(lua_State *L, int only_items) {
  check_view(L, 1);
  lua_pushvalue(L, VIEW_META);
  lua_pushinteger(L, 0);
  lua_pushboolean(L, only_items);
  lua_pushcclosure(L, view_step, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* __pairs, core.lazy_pairs: members in the text's order (an array's 1..n). */
static int view_pairs(lua_State *L) { return iterate(L, 0); }

/* __ipairs (Lua 5.2), core.lazy_ipairs: an array's items; none of an object. */
static int view_ipairs(lua_State *L) { return iterate(L, 1); }

/* core.lazy_text(v) -> the JSON text of a view, nil for anything else */
static int m_lazy_text(lua_State *L) {
  view *v = to_view(L, 1);
  const node *nd;
  if (!v) return 0;
  nd = &v->d->nodes[v->node];
  lua_pushlstring(L, v->d->text + nd->start, nd->end - nd->start);
  return 1;
}

/* core.lazy(text) -> a view of the value (or the scalar), or nil and
 * "invalid JSON at byte N: why" as core.decode says it. */
static int m_lazy(lua_State *L) {
  size_t n;
  const char *text = luaL_checklstring(L, 1, &n);
  builder b;
  int ok;
  doc *d;
  uint32_t root;
  memset(&b, 0, sizeof b);
  lua_settop(L, 1);
  if (n > MAX_TEXT) {
    lua_pushnil(L);
    lua_pushliteral(L, "invalid JSON at byte 0: too big for a lazy answer (1 GiB)");
    return 2;
  }
  b.text = b.p = text;
  b.end = text + n;
  /* A first guess from the length, for the entries to be listed without
   * growing: API answers run about ten bytes an entry (a key or a value)
   * and a hundred and fifty a container. */
  b.capk = n / 8 + 16;
  b.cap = n / 128 + 16;
  b.kids = malloc(b.capk * sizeof *b.kids);
  b.nodes = malloc(b.cap * sizeof *b.nodes);
  if (!b.kids || !b.nodes) {
    free(b.kids);
    free(b.nodes);
    return nvx_raise(L, "navixy: out of memory");
  }
  skip_space(&b);
  ok = index_value(&b);
  if (ok) {
    skip_space(&b);
    if (b.p != b.end) ok = fail(&b, "text after the value");
  }
  root = ok ? b.pend[0] : 0;
  free(b.pend);
  if (!ok) {
    free(b.nodes);
    free(b.kids);
    if (b.oom) return nvx_raise(L, "navixy: out of memory");
    lua_pushnil(L);
    lua_pushfstring(L, "invalid JSON at byte %d: %s", (int)(b.p - text), b.why);
    return 2;
  }
  lua_createtable(L, 2, 0); /* 2: the anchor, text and doc, held by every view */
  lua_pushvalue(L, 1);
  lua_rawseti(L, 2, 1);
  d = compat_newuserdata(L, sizeof *d);
  d->nodes = b.nodes; /* owned by the doc from here: its __gc frees them */
  d->kids = b.kids;
  d->text = text;
  d->len = n;
  compat_setmetatable(L, DOC_MT);
  lua_rawseti(L, 2, 2);
  if (root & CONTAINER)
    push_view(L, d, root & WHERE, 2, 0);
  else
    push_entry(L, d, root, 0);
  return 1;
}

void nvx_lazy_register(lua_State *L) {
  static const luaL_Reg view_meta[] = {{"__index", view_index},       {"__newindex", view_newindex},
                                       {"__len", view_len},           {"__eq", view_eq},
                                       {"__tostring", view_tostring}, {"__pairs", view_pairs},
                                       {"__ipairs", view_ipairs},     {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"lazy", m_lazy},
                                   {"lazy_text", m_lazy_text},
                                   {"lazy_pairs", view_pairs},
                                   {"lazy_ipairs", view_ipairs},
                                   {NULL, NULL}};
  static const luaL_Reg doc_meta[] = {{"__gc", doc_gc}, {NULL, NULL}};
  if (luaL_newmetatable(L, VIEW_MT)) {
    lua_pushvalue(L, -1); /* its functions' upvalue: VIEW_META */
    compat_setfuncs(L, view_meta, 1);
    lua_pushliteral(L, VIEW_MT); /* getmetatable(v) == "navixy.lazy": how Lua tells a view */
    lua_setfield(L, -2, "__metatable");
  }
  compat_setfuncs(L, funcs, 1); /* into the module, below; pops the metatable */
  nvx_metatable(L, DOC_MT, NULL, doc_meta);
}
