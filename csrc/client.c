#include "client.h"

#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "encode.h"

nvx_client *nvx_check_client(lua_State *L, int i) {
  nvx_client *c = luaL_checkudata(L, i, NVX_CLIENT_MT);
  if (c->closed) luaL_error(L, "navixy: client is closed");
  return c;
}

/* ---- reading settings: everything is checked before anything is allocated,
 * so a raised error cannot leak C memory ---- */

typedef struct raw_settings {
  const char *url, *hash, *ca_file, *proxy, *user_agent;
  size_t hash_len;
  nvx_auth_mode auth;
  nvx_encoding enc;
  double timeout, connect_timeout, max_size;
  int ssl_verify;
  int headers_index; /* stack index of the extra header lines, 0 if none */
} raw_settings;

static const char *opt_string(lua_State *L, const char *name, const char *def, size_t *len) {
  const char *v;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (len) *len = def ? strlen(def) : 0;
    return def;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "navixy: option '%s' must be a string, got %s", name, luaL_typename(L, -1));
  v = lua_tolstring(L, -1, len);
  lua_pop(L, 1); /* still referenced by the settings table, so v stays valid */
  return v;
}

static double opt_number(lua_State *L, const char *name, double def, double min) {
  double v;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return def;
  }
  if (lua_type(L, -1) != LUA_TNUMBER)
    luaL_error(L, "navixy: option '%s' must be a number, got %s", name, luaL_typename(L, -1));
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v > min) || v > 1e12) luaL_error(L, "navixy: option '%s' is out of range", name);
  return v;
}

static int opt_choice(lua_State *L, const char *name, const char *const choices[]) {
  const char *v = opt_string(L, name, choices[0], NULL);
  int i;
  for (i = 0; choices[i]; i++)
    if (strcmp(v, choices[i]) == 0) return i;
  return luaL_error(L, "navixy: option '%s' must be one of %s, %s%s%s, got '%s'", name,
                    choices[0], choices[1], choices[2] ? ", " : "", choices[2] ? choices[2] : "",
                    v);
}

static void check_clean(lua_State *L, const char *what, const char *s, size_t n) {
  if (s && nvx_has_ctl(s, n)) luaL_error(L, "navixy: %s must not hold CR, LF or NUL", what);
}

static void read_settings(lua_State *L, raw_settings *r) {
  static const char *const auths[] = {"header", "query", "body", NULL};
  static const char *const encs[] = {"json", "form", NULL};
  size_t n;
  luaL_checktype(L, 1, LUA_TTABLE);
  r->url = opt_string(L, "url", NULL, &n);
  if (!r->url || n == 0) luaL_error(L, "navixy: option 'url' is required");
  check_clean(L, "url", r->url, n);
  r->hash = opt_string(L, "hash", NULL, &r->hash_len);
  check_clean(L, "hash", r->hash, r->hash_len);
  r->ca_file = opt_string(L, "ca_file", NULL, &n);
  check_clean(L, "ca_file", r->ca_file, n);
  r->proxy = opt_string(L, "proxy", NULL, &n);
  check_clean(L, "proxy", r->proxy, n);
  r->user_agent = opt_string(L, "user_agent", "navixy-lua", &n);
  check_clean(L, "user_agent", r->user_agent, n);
  r->auth = (nvx_auth_mode)opt_choice(L, "auth", auths);
  r->enc = (nvx_encoding)opt_choice(L, "encoding", encs);
  r->timeout = opt_number(L, "timeout", 30, 0);
  r->connect_timeout = opt_number(L, "connect_timeout", 10, 0);
  r->max_size = opt_number(L, "max_size", 64.0 * 1024 * 1024, 0);
  lua_getfield(L, 1, "ssl_verify");
  r->ssl_verify = lua_isnil(L, -1) || lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "headers"); /* left on the stack: its strings must live */
  r->headers_index = 0;
  if (!lua_isnil(L, -1)) {
    int i, len;
    luaL_argcheck(L, lua_istable(L, -1), 1, "navixy: option 'headers' must be an array");
    r->headers_index = lua_gettop(L);
    len = (int)compat_rawlen(L, -1);
    for (i = 1; i <= len; i++) {
      const char *line;
      lua_rawgeti(L, r->headers_index, i);
      line = lua_tolstring(L, -1, &n);
      if (lua_type(L, -1) != LUA_TSTRING || !strchr(line, ':'))
        luaL_error(L, "navixy: header %d must be a string 'Name: value'", i);
      check_clean(L, "a header", line, n);
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

static int add_line(nvx_buf *b, const char *name, const char *value) {
  return nvx_buf_adds(b, name) || nvx_buf_adds(b, ": ") || nvx_buf_adds(b, value) ||
         nvx_buf_addc(b, '\n');
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
  s->timeout_ms = (long)(r->timeout * 1000 + 0.5);
  s->connect_timeout_ms = (long)(r->connect_timeout * 1000 + 0.5);
  if (s->timeout_ms < 1) s->timeout_ms = 1;
  if (s->connect_timeout_ms < 1) s->connect_timeout_ms = 1;
  s->max_size = (size_t)r->max_size;
  s->ssl_verify = r->ssl_verify;
  if (add_line(&s->fixed_headers, "Content-Type",
               r->enc == NVX_ENC_JSON ? "application/json"
                                      : "application/x-www-form-urlencoded") ||
      add_line(&s->fixed_headers, "Accept", "application/json") ||
      add_line(&s->fixed_headers, "User-Agent", r->user_agent))
    return -1;
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

static void check_action(lua_State *L, int i, const char **action, size_t *len) {
  size_t k;
  *action = luaL_checklstring(L, i, len);
  if (*len == 0) luaL_argerror(L, i, "navixy: action is empty");
  for (k = 0; k < *len; k++) {
    unsigned char ch = (unsigned char)(*action)[k];
    if (ch <= ' ' || ch == 0x7f || ch == '?' || ch == '#')
      luaL_argerror(L, i, "navixy: action holds a space, control character, '?' or '#'");
  }
}

static long timeout_arg(lua_State *L, int i) {
  double secs = luaL_optnumber(L, i, 0);
  if (secs < 0 || secs > 1e9) luaL_argerror(L, i, "navixy: timeout out of range");
  return secs > 0 ? (long)(secs * 1000 + 0.5) : 0;
}

static int prepare_error(lua_State *L, int rc) {
  if (rc == NVX_EBODY) return luaL_error(L, "navixy: a JSON body must be an object");
  return luaL_error(L, "navixy: out of memory building the request");
}

/* The arguments of request and multi_add from index i on: action, body
 * [, timeout [, fresh]]. */
typedef struct request_args {
  const char *action, *body;
  size_t alen, blen;
  long timeout_ms;
  int fresh;
} request_args;

static void read_request(lua_State *L, int i, request_args *r) {
  check_action(L, i, &r->action, &r->alen);
  r->body = luaL_checklstring(L, i + 1, &r->blen);
  r->timeout_ms = timeout_arg(L, i + 2);
  r->fresh = lua_toboolean(L, i + 3);
}

/* client:request(action, body [, timeout [, fresh]]) -> see
 * nvx_transfer_push_result. fresh: send on a new connection, never on a
 * kept-alive one, because libcurl silently sends a request again when a
 * reused connection closes before any answer, and that must not happen to
 * an action that is not safe to repeat (the server may have acted on it). */
static int c_request(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  request_args r;
  int rc;
  read_request(L, 2, &r);
  rc = nvx_transfer_prepare(&c->t, &c->s, r.action, r.alen, r.body, r.blen, r.timeout_ms);
  if (rc != NVX_OK) return prepare_error(L, rc);
  curl_easy_setopt(c->t.easy, CURLOPT_FRESH_CONNECT, r.fresh ? 1L : 0L);
  /* no Lua call runs while curl does: nothing can longjmp through it */
  return nvx_transfer_push_result(L, &c->t, curl_easy_perform(c->t.easy));
}

/* client:multi_add(slot, action, body [, timeout [, fresh]]): starts a batch
 * request in a slot (see multi.h; fresh as for request); raises on misuse. */
static int c_multi_add(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  lua_Integer id = luaL_checkinteger(L, 2);
  request_args r;
  int rc;
  read_request(L, 3, &r);
  if (id < 1 || id > NVX_MAX_SLOTS) return luaL_argerror(L, 2, "navixy: slot out of range");
  rc = nvx_multi_add(&c->m, &c->s, (int)id, r.action, r.alen, r.body, r.blen, r.timeout_ms,
                     r.fresh);
  if (rc == NVX_EBUSY) return luaL_argerror(L, 2, "navixy: slot is in flight");
  if (rc != NVX_OK) return prepare_error(L, rc);
  return 0;
}

/* client:multi_next([max_seconds]) -> slot, <push_result>; nothing when no
 * request finished in time. */
static int c_multi_next(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  double wait = luaL_optnumber(L, 2, 0);
  CURLcode rc = CURLE_OK;
  nvx_slot *done;
  if (!(wait >= 0) || wait > 1e6) return luaL_argerror(L, 2, "navixy: wait out of range");
  done = nvx_multi_next(&c->m, wait, &rc);
  if (!done) return 0;
  lua_pushinteger(L, done->id);
  return 1 + nvx_transfer_push_result(L, &done->t, rc);
}

static int c_multi_cancel(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  nvx_multi_cancel(&c->m);
  return 0;
}

static int c_multi_busy(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  lua_pushinteger(L, c->m.busy);
  return 1;
}

/* client:prepare(action, body) -> url, body, header lines: the request as
 * the curl path would send it, for transports that do their own I/O. */
static int c_prepare(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  const char *action, *body, *p, *end;
  size_t alen, blen;
  int rc, n = 0;
  check_action(L, 2, &action, &alen);
  body = luaL_checklstring(L, 3, &blen);
  rc = nvx_build_url(&c->t.url, c->s.base, action, alen, c->s.auth, c->s.hash);
  if (rc == NVX_OK) rc = nvx_build_body(&c->t.body, body, blen, c->s.enc, c->s.auth, c->s.hash);
  if (rc != NVX_OK) return prepare_error(L, rc);
  lua_pushlstring(L, c->t.url.data, c->t.url.len);
  lua_pushlstring(L, c->t.body.data, c->t.body.len);
  lua_newtable(L);
  p = c->s.headers.data;
  end = p + c->s.headers.len;
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
    return luaL_argerror(L, 2, "navixy: hash must be non-empty, without CR, LF or NUL");
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
    {"get_hash", c_get_hash}, {"close", c_close}, {"is_closed", c_is_closed},
    {"multi_add", c_multi_add}, {"multi_next", c_multi_next},
    {"multi_cancel", c_multi_cancel}, {"multi_busy", c_multi_busy},
    {NULL, NULL}};

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
