#include "client.h"

#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "encode.h"
#include "interrupt.h"

nvx_client *nvx_check_client(lua_State *L, int i) {
  nvx_client *c = luaL_checkudata(L, i, NVX_CLIENT_MT);
  if (c->closed) luaL_error(L, "navixy: client is closed");
  return c;
}

/* ---- reading settings ----
 * navixy.options (Lua) validates every option and computes every default;
 * here only what memory safety needs is checked (types, CR/LF/NUL, ranges
 * that C types must hold). Everything is checked before anything is
 * allocated, so a raised error cannot leak C memory. */

typedef struct raw_settings {
  const char *url, *hash, *ca_file, *proxy;
  size_t hash_len;
  nvx_auth_mode auth;
  nvx_encoding enc;
  long timeout_ms, connect_timeout_ms;
  size_t max_size;
  int ssl_verify;
  int headers_index; /* stack index of the header lines, 0 if none */
} raw_settings;

/* Raises "navixy: ..." without a position prefix: these are misuse of the
 * core by the Lua layer, reported as the Lua layer reports misuse. */
static int raise(lua_State *L, const char *fmt, const char *name) {
  lua_pushfstring(L, fmt, name);
  return lua_error(L);
}

/* A string field (NULL when absent); *len set. Its bytes stay valid while
 * the settings table (argument 1) holds the string. */
static const char *field_string(lua_State *L, const char *name, int required, size_t *len) {
  const char *v;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (required) raise(L, "navixy: setting '%s' is required", name);
    *len = 0;
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING) raise(L, "navixy: setting '%s' must be a string", name);
  v = lua_tolstring(L, -1, len);
  lua_pop(L, 1);
  if (nvx_has_ctl(v, *len)) raise(L, "navixy: setting '%s' must not hold CR, LF or NUL", name);
  return v;
}

/* A whole number in [1, max]. */
static double field_count(lua_State *L, const char *name, double max) {
  double v;
  lua_getfield(L, 1, name);
  if (lua_type(L, -1) != LUA_TNUMBER) raise(L, "navixy: setting '%s' must be a number", name);
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v >= 1 && v <= max) || v != (double)(long long)v)
    raise(L, "navixy: setting '%s' is out of range", name);
  return v;
}

static int field_choice(lua_State *L, const char *name, const char *const choices[]) {
  size_t n;
  const char *v = field_string(L, name, 1, &n);
  int i;
  for (i = 0; choices[i]; i++)
    if (strcmp(v, choices[i]) == 0) return i;
  return raise(L, "navixy: setting '%s' has an unknown value", name);
}

static void read_settings(lua_State *L, raw_settings *r) {
  static const char *const auths[] = {"header", "query", "body", NULL};
  static const char *const encs[] = {"json", "form", NULL};
  size_t n;
  if (lua_type(L, 1) != LUA_TTABLE) raise(L, "navixy: %s expects a table of settings", "core.new");
  r->url = field_string(L, "url", 1, &n);
  r->hash = field_string(L, "hash", 0, &r->hash_len);
  if (r->hash && r->hash_len == 0) raise(L, "navixy: setting '%s' must not be empty", "hash");
  r->ca_file = field_string(L, "ca_file", 0, &n);
  r->proxy = field_string(L, "proxy", 0, &n);
  r->auth = (nvx_auth_mode)field_choice(L, "auth", auths);
  r->enc = (nvx_encoding)field_choice(L, "encoding", encs);
  r->timeout_ms = (long)field_count(L, "timeout_ms", NVX_MAX_TIMEOUT_MS);
  r->connect_timeout_ms = (long)field_count(L, "connect_timeout_ms", NVX_MAX_TIMEOUT_MS);
  r->max_size = (size_t)field_count(L, "max_size", 9007199254740992.0);
  lua_getfield(L, 1, "ssl_verify");
  r->ssl_verify = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "headers"); /* left on the stack: its strings must live */
  r->headers_index = 0;
  if (!lua_isnil(L, -1)) {
    int i, len;
    if (!lua_istable(L, -1)) raise(L, "navixy: setting '%s' must be an array", "headers");
    r->headers_index = lua_gettop(L);
    len = (int)compat_rawlen(L, -1);
    for (i = 1; i <= len; i++) {
      const char *line;
      lua_rawgeti(L, r->headers_index, i);
      if (lua_type(L, -1) != LUA_TSTRING) raise(L, "navixy: setting '%s' holds a non-string", "headers");
      line = lua_tolstring(L, -1, &n);
      if (!memchr(line, ':', n) || nvx_has_ctl(line, n))
        raise(L, "navixy: setting '%s' holds a line that is not 'Name: value'", "headers");
      lua_pop(L, 1);
    }
  }
}

static char *dup_or_null(const char *s, int *failed) {
  char *d;
  if (!s) return NULL;
  d = malloc(strlen(s) + 1);
  if (!d) {
    *failed = 1;
    return NULL;
  }
  strcpy(d, s);
  return d;
}

/* No Lua call in here: on failure it frees what it made and returns -1. */
static int fill_settings(lua_State *L, nvx_settings *s, const raw_settings *r) {
  int failed = 0;
  size_t base_len;
  s->base = dup_or_null(r->url, &failed);
  s->ca_file = dup_or_null(r->ca_file, &failed);
  s->proxy = dup_or_null(r->proxy, &failed);
  if (failed) return -1;
  base_len = strlen(s->base);
  while (base_len > 0 && s->base[base_len - 1] == '/') s->base[--base_len] = '\0';
  s->auth = r->auth;
  s->enc = r->enc;
  s->timeout_ms = r->timeout_ms;
  s->connect_timeout_ms = r->connect_timeout_ms;
  s->max_size = r->max_size;
  s->ssl_verify = r->ssl_verify;
  if (r->headers_index) {
    int i, len = (int)compat_rawlen(L, r->headers_index);
    for (i = 1; i <= len; i++) {
      const char *line;
      /* rawgeti on an array of strings checked above: it cannot raise */
      lua_rawgeti(L, r->headers_index, i);
      line = lua_tostring(L, -1);
      lua_pop(L, 1);
      if (nvx_buf_adds(&s->fixed_headers, line) || nvx_buf_addc(&s->fixed_headers, '\n'))
        return -1;
    }
  }
  if (nvx_settings_set_hash(s, r->hash, r->hash_len) != NVX_OK) return -1;
  return 0;
}

int nvx_client_new(lua_State *L) {
  raw_settings r;
  nvx_client *c;
  memset(&r, 0, sizeof r);
  read_settings(L, &r);
  c = compat_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  c->closed = 1; /* until fully built; no metatable yet either */
  if (fill_settings(L, &c->s, &r) != 0 || nvx_transfer_init(&c->t, &c->s) != NVX_OK) {
    nvx_transfer_free(&c->t);
    nvx_settings_free(&c->s);
    return luaL_error(L, "navixy: out of memory creating the client");
  }
  c->closed = 0;
  luaL_setmetatable(L, NVX_CLIENT_MT); /* only now can __gc see it */
  return 1;
}

/* ---- methods ---- */

/* A request as the Lua layer hands it over (see lua/navixy/transport/init.lua):
 * a table with action, body, timeout_ms (nil: the client's), fresh and
 * anonymous. */
static void read_request(lua_State *L, int i, nvx_request *r) {
  size_t k;
  if (lua_type(L, i) != LUA_TTABLE) raise(L, "navixy: %s expects a request table", "the core");
  lua_getfield(L, i, "action");
  lua_getfield(L, i, "body");
  lua_getfield(L, i, "timeout_ms");
  lua_getfield(L, i, "fresh");
  lua_getfield(L, i, "anonymous");
  /* the strings stay referenced by the request table while they are used */
  if (lua_type(L, -5) != LUA_TSTRING || lua_type(L, -4) != LUA_TSTRING)
    raise(L, "navixy: %s needs string fields action and body", "a request");
  r->action = lua_tolstring(L, -5, &r->alen);
  r->body = lua_tolstring(L, -4, &r->blen);
  /* defence in depth: options.lua checks action names, but nothing that
   * could end the request line or split a header ever reaches curl */
  if (r->alen == 0) raise(L, "navixy: %s", "action is empty");
  for (k = 0; k < r->alen; k++) {
    unsigned char ch = (unsigned char)r->action[k];
    if (ch <= ' ' || ch == 0x7f || ch == '?' || ch == '#')
      raise(L, "navixy: %s", "action holds a space, control character, '?' or '#'");
  }
  r->timeout_ms = 0;
  if (!lua_isnil(L, -3)) {
    double ms = lua_tonumber(L, -3);
    if (lua_type(L, -3) != LUA_TNUMBER || !(ms >= 1 && ms <= NVX_MAX_TIMEOUT_MS))
      raise(L, "navixy: %s", "timeout_ms is out of range");
    r->timeout_ms = (long)ms;
  }
  r->fresh = lua_toboolean(L, -2);
  r->anonymous = lua_toboolean(L, -1);
  lua_pop(L, 5);
}

static int prepare_error(lua_State *L, int rc) {
  if (rc == NVX_EBODY) return raise(L, "navixy: %s", "a JSON body must be an object");
  return luaL_error(L, "navixy: out of memory building the request");
}

/* client:request(req) -> result (see nvx_transfer_push_result). req.fresh:
 * send on a new connection, never on a kept-alive one, because libcurl
 * silently sends a request again when a reused connection closes before any
 * answer, and that must not happen to an action that is not safe to repeat
 * (the server may have acted on it). */
static int c_request(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  nvx_request r;
  CURLcode done;
  int rc;
  read_request(L, 2, &r);
  rc = nvx_transfer_prepare(&c->t, &c->s, &r);
  if (rc != NVX_OK) return prepare_error(L, rc);
  /* no Lua call runs while curl does: nothing can longjmp through it */
  nvx_interrupt_begin();
  done = curl_easy_perform(c->t.easy);
  nvx_interrupt_end();
  return nvx_transfer_push_result(L, &c->t, done);
}

/* client:start(slot, req): starts a request in a slot of the multi handle
 * (see multi.h) without waiting for it; raises on misuse. */
static int c_start(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  lua_Integer id = luaL_checkinteger(L, 2);
  nvx_request r;
  int rc;
  read_request(L, 3, &r);
  if (id < 1 || id > NVX_MAX_SLOTS) return raise(L, "navixy: %s", "slot out of range");
  rc = nvx_multi_add(&c->m, &c->s, (int)id, &r);
  if (rc == NVX_EBUSY) return raise(L, "navixy: %s", "slot is in flight");
  if (rc != NVX_OK) return prepare_error(L, rc);
  return 0;
}

/* client:wait([max_seconds]) -> slot, result; nothing when no started
 * request finished in time. */
static int c_wait(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  double wait = luaL_optnumber(L, 2, 0);
  CURLcode rc = CURLE_OK;
  nvx_slot *done;
  if (!(wait >= 0) || wait > 1e6) return raise(L, "navixy: %s", "wait out of range");
  nvx_interrupt_begin();
  done = nvx_multi_next(&c->m, wait, &rc);
  nvx_interrupt_end();
  if (!done) return 0;
  lua_pushinteger(L, done->id);
  return 1 + nvx_transfer_push_result(L, &done->t, rc);
}

/* client:cancel(): drops every started request. */
static int c_cancel(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  nvx_multi_cancel(&c->m);
  return 0;
}

/* client:busy() -> the count of started requests not reported yet. */
static int c_busy(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  lua_pushinteger(L, c->m.busy);
  return 1;
}

/* client:prepare(req) -> url, body, header lines: the request as the curl
 * path would send it, for transports that do their own I/O. */
static int c_prepare(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  const char *p, *end, *hash;
  const nvx_buf *lines;
  nvx_request r;
  int rc, n = 0;
  read_request(L, 2, &r);
  hash = r.anonymous ? NULL : c->s.hash;
  lines = r.anonymous ? &c->s.fixed_headers : &c->s.headers;
  rc = nvx_build_url(&c->t.url, c->s.base, r.action, r.alen, c->s.auth, hash);
  if (rc == NVX_OK) rc = nvx_build_body(&c->t.body, r.body, r.blen, c->s.enc, c->s.auth, hash);
  if (rc != NVX_OK) return prepare_error(L, rc);
  lua_pushlstring(L, c->t.url.data, c->t.url.len);
  lua_pushlstring(L, c->t.body.data, c->t.body.len);
  lua_newtable(L);
  p = lines->data;
  end = p + lines->len;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) break; /* every line ends with '\n' */
    lua_pushlstring(L, p, (size_t)(nl - p));
    lua_rawseti(L, -2, ++n);
    p = nl + 1;
  }
  return 3;
}

static int c_set_hash(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  size_t n = 0;
  const char *h = lua_isnoneornil(L, 2) ? NULL : luaL_checklstring(L, 2, &n);
  if (h && (n == 0 || nvx_has_ctl(h, n)))
    return raise(L, "navixy: %s", "hash must be non-empty, without CR, LF or NUL");
  if (nvx_settings_set_hash(&c->s, h, n) != NVX_OK)
    return luaL_error(L, "navixy: out of memory setting the hash");
  return 0;
}

static int c_get_hash(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  if (c->s.hash)
    lua_pushstring(L, c->s.hash);
  else
    lua_pushnil(L);
  return 1;
}

/* close, __gc and __close: one idempotent cleanup */
static int c_close(lua_State *L) {
  nvx_client *c = luaL_checkudata(L, 1, NVX_CLIENT_MT);
  if (!c->closed) {
    c->closed = 1;
    nvx_multi_free(&c->m);
    nvx_transfer_free(&c->t);
    nvx_settings_free(&c->s);
  }
  return 0;
}

static int c_is_closed(lua_State *L) {
  nvx_client *c = luaL_checkudata(L, 1, NVX_CLIENT_MT);
  lua_pushboolean(L, c->closed);
  return 1;
}

static const char *const AUTH_NAMES[] = {"header", "query", "body"};

static int c_tostring(lua_State *L) {
  nvx_client *c = luaL_checkudata(L, 1, NVX_CLIENT_MT);
  char shown[8] = "****"; /* a hash is shown by its first 4 characters at most */
  if (c->closed) {
    lua_pushstring(L, "navixy.core client (closed)");
    return 1;
  }
  if (!c->s.hash) {
    strcpy(shown, "none");
  } else if (strlen(c->s.hash) > 8) {
    memcpy(shown, c->s.hash, 4);
    strcpy(shown + 4, "...");
  }
  lua_pushfstring(L, "navixy.core client (%s, auth %s, hash %s)", c->s.base,
                  AUTH_NAMES[c->s.auth], shown);
  return 1;
}

static const luaL_Reg METHODS[] = {
    {"request", c_request}, {"prepare", c_prepare}, {"set_hash", c_set_hash},
    {"get_hash", c_get_hash}, {"close", c_close},     {"is_closed", c_is_closed},
    {"start", c_start},     {"wait", c_wait},         {"cancel", c_cancel},
    {"busy", c_busy},       {NULL, NULL}};

void nvx_client_register(lua_State *L) {
  luaL_newmetatable(L, NVX_CLIENT_MT);
  lua_newtable(L);
  luaL_setfuncs(L, METHODS, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, c_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, c_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, c_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}
