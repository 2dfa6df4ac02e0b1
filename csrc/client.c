#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "raise.h"
#include "util/escape.h"
#include "util/interrupt.h"
#include "http/multipart.h"
#include "metatable.h"
#include "util/mask.h"
#include "options.h"
#include "transfer_lua.h"

/* The fields of a request table (see read_request), read at every request:
 * their names as Lua strings are upvalues of the client's methods, made
 * once, after the client metatable (upvalue 1, see nvx_check_client). */
static const char *const REQUEST_FIELDS[] = {"action", "body",      "url",  "headers", "query", "method",
                                             "timeout", "anonymous", "sink", "parts",   "fresh", NULL};
enum { F_ACTION = 2, F_BODY, F_URL, F_HEADERS, F_QUERY, F_METHOD, F_TIMEOUT, F_ANONYMOUS, F_SINK, F_PARTS, F_FRESH };
#define FIELD(f) lua_upvalueindex(f), REQUEST_FIELDS[(f) - F_ACTION] /* the key and name of nvx_opt_*_k */

/* Pushes field f of the table at index i (absolute): a request is a plain table. */
static void push_field(lua_State *L, int i, int f) {
  lua_pushvalue(L, lua_upvalueindex(f));
  lua_rawget(L, i);
}

/* The client at index i of a method call: its metatable compared with the
 * methods' upvalue 1 rather than looked up in the registry at every call
 * (luaL_checkudata, which raises with its own message for anything else). */
nvx_client *nvx_check_client(lua_State *L, int i) {
  nvx_client *c = lua_touserdata(L, i);
  int ours = c != NULL && lua_getmetatable(L, i);
  if (ours) {
    ours = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!ours) c = luaL_checkudata(L, i, NVX_CLIENT_MT);
  if (c->closed) nvx_raise(L, "navixy: client is closed");
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

static void read_settings(lua_State *L, raw_settings *r) {
  static const char *const auths[] = {"header", "query", "body", NULL};
  static const char *const encs[] = {"json", "form", NULL};
  size_t n;
  if (lua_type(L, 1) != LUA_TTABLE) nvx_raise(L, "navixy: core.new expects a table of settings");
  r->url = nvx_opt_string(L, 1, "url", NVX_OPT_REQUIRED | NVX_OPT_LINE, NULL);
  r->hash = nvx_opt_string(L, 1, "hash", NVX_OPT_LINE, &r->hash_len);
  if (r->hash && r->hash_len == 0) nvx_raise(L, "navixy: option 'hash' must not be empty");
  r->ca_file = nvx_opt_string(L, 1, "ca_file", NVX_OPT_LINE, NULL);
  r->proxy = nvx_opt_string(L, 1, "proxy", NVX_OPT_LINE, NULL);
  r->auth = (nvx_auth_mode)nvx_opt_choice(L, 1, "auth", auths);
  r->enc = (nvx_encoding)nvx_opt_choice(L, 1, "encoding", encs);
  r->timeout_ms = nvx_opt_ms(L, 1, "timeout", -1);
  r->connect_timeout_ms = nvx_opt_ms(L, 1, "connect_timeout", -1);
  r->max_size = nvx_opt_size(L, 1, "max_size", 0);
  r->ssl_verify = nvx_opt_boolean(L, 1, "ssl_verify", 0);
  lua_getfield(L, 1, "headers"); /* left on the stack: its strings must live */
  r->headers_index = 0;
  if (!lua_isnil(L, -1)) {
    int i, len;
    if (!lua_istable(L, -1)) nvx_raise(L, "navixy: option 'headers' must be an array");
    r->headers_index = lua_gettop(L);
    len = (int)compat_rawlen(L, -1);
    for (i = 1; i <= len; i++) {
      const char *line;
      lua_rawgeti(L, r->headers_index, i);
      if (lua_type(L, -1) != LUA_TSTRING) nvx_raise(L, "navixy: option 'headers' holds a non-string");
      line = lua_tolstring(L, -1, &n);
      if (!memchr(line, ':', n) || nvx_has_ctl(line, n))
        nvx_raise(L, "navixy: option 'headers' holds a line that is not 'Name: value'");
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

int nvx_client_new(lua_State *L, nvx_engine *engine) {
  raw_settings r;
  nvx_client *c;
  memset(&r, 0, sizeof r);
  read_settings(L, &r);
  c = compat_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  c->closed = 1; /* until fully built; no metatable yet either */
  if (fill_settings(L, &c->s, &r) != 0) {
    nvx_settings_free(&c->s);
    return nvx_raise(L, "navixy: out of memory creating the client");
  }
  if (engine) {
    nvx_engine_hold(engine);
  } else if ((engine = nvx_engine_new_loop()) == NULL) { /* it holds the one reference */
    nvx_settings_free(&c->s);
    return nvx_raise(L, "navixy: cannot make an event loop engine (out of memory or descriptors)");
  }
  c->engine = engine;
  c->closed = 0;
  compat_setmetatable(L, NVX_CLIENT_MT); /* only now can __gc see it */
  return 1;
}

/* ---- methods ---- */

/* A request as the Lua layer hands it over (see lua/navixy/transport/init.lua):
 * a table with action, body, method ("GET" or POST when nil), timeout
 * (seconds; nil: the client's), fresh, anonymous, sink (one is waiting: the
 * body may stream), parts (multipart), url (absolute, instead of base and
 * action; never with the hash), headers (lines replacing the defaults of
 * their names), query. Everything it points to stays referenced by that
 * table. Its fields are read raw (a plain table of the Lua layer's), by the
 * names held as upvalues (REQUEST_FIELDS): i is an absolute index. */
static void read_request(lua_State *L, int i, nvx_request *r) {
  size_t k, n;
  const char *method;
  if (lua_type(L, i) != LUA_TTABLE) nvx_raise(L, "navixy: the core expects a request table");
  memset(r, 0, sizeof *r);
  r->action = nvx_opt_string_k(L, i, FIELD(F_ACTION), 0, &r->alen);
  r->body = nvx_opt_string_k(L, i, FIELD(F_BODY), 0, &r->blen);
  if (!r->action || !r->body) nvx_raise(L, "navixy: a request needs string options action and body");
  /* defence in depth: options.lua checks action names, but nothing that
   * could end the request line or split a header ever reaches curl */
  if (r->alen == 0) nvx_raise(L, "navixy: action is empty");
  for (k = 0; k < r->alen; k++) {
    unsigned char ch = (unsigned char)r->action[k];
    if (ch <= ' ' || ch == 0x7f || ch == '?' || ch == '#')
      nvx_raise(L, "navixy: action holds a space, control character, '?' or '#'");
  }
  /* an absolute http(s) URL for this one request (a presigned upload): checked
   * as an action is, so that nothing can end the request line */
  r->url = nvx_opt_string_k(L, i, FIELD(F_URL), 0, &n);
  if (r->url) {
    if (strncmp(r->url, "http://", 7) != 0 && strncmp(r->url, "https://", 8) != 0)
      nvx_raise(L, "navixy: request url must be an http:// or https:// URL");
    for (k = 0; k < n; k++) {
      unsigned char ch = (unsigned char)r->url[k];
      if (ch <= ' ' || ch == 0x7f || ch == '#')
        nvx_raise(L, "navixy: request url holds a space, control character or '#'");
    }
  }
  /* the call's own header lines and query (checked by navixy.options): no
   * CR or NUL in either, no space or '#' in the query */
  r->headers = nvx_opt_string_k(L, i, FIELD(F_HEADERS), 0, &r->hlen);
  for (k = 0; r->headers && k < r->hlen; k++)
    if (r->headers[k] == '\r' || r->headers[k] == '\0')
      nvx_raise(L, "navixy: request headers hold CR or NUL");
  r->query = nvx_opt_string_k(L, i, FIELD(F_QUERY), 0, &r->qlen);
  for (k = 0; r->query && k < r->qlen; k++) {
    unsigned char ch = (unsigned char)r->query[k];
    if (ch <= ' ' || ch == 0x7f || ch == '#')
      nvx_raise(L, "navixy: request query holds a space, control character or '#'");
  }
  method = nvx_opt_string_k(L, i, FIELD(F_METHOD), 0, NULL);
  if (method && strcmp(method, "GET") == 0)
    r->method = NVX_GET;
  else if (method && strcmp(method, "POST") != 0)
    nvx_raise(L, "navixy: method must be GET or POST");
  if (r->method == NVX_GET && nvx_has_ctl(r->body, r->blen))
    nvx_raise(L, "navixy: a query string must not hold CR, LF or NUL");
  r->timeout_ms = nvx_opt_ms_k(L, i, FIELD(F_TIMEOUT), 0);
  r->fresh = nvx_opt_boolean_k(L, i, FIELD(F_FRESH), 0);
  r->anonymous = nvx_opt_boolean_k(L, i, FIELD(F_ANONYMOUS), 0);
  push_field(L, i, F_SINK);
  r->stream = !lua_isnil(L, -1);
  lua_pop(L, 1);
}

/* Pushes field `name` of the table at index t and returns it when it is a
 * string (else NULL); the value stays on the stack, keeping it alive. */
static const char *part_field(lua_State *L, int t, const char *name, size_t *len) {
  lua_getfield(L, t, name);
  return lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, len) : NULL;
}

/* The multipart body of request table i, when it has parts: an array of
 * { name =, value = } fields and { name =, path = | data =, filename =,
 * content_type = } files. Files on disk are read by libcurl as it sends. */
static curl_mime *read_parts(lua_State *L, int i, CURL *easy) {
  curl_mime *mime;
  int k, n;
  push_field(L, i, F_PARTS);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  if (!lua_istable(L, -1)) nvx_raise(L, "navixy: option 'parts' must be a table");
  mime = curl_mime_init(easy);
  if (!mime) nvx_raise(L, "navixy: out of memory building the request");
  n = (int)compat_rawlen(L, -1);
  for (k = 1; k <= n; k++) {
    size_t len = 0, dlen = 0;
    int at;
    const char *name, *value, *path, *data, *filename, *type;
    curl_mimepart *part;
    CURLcode rc = CURLE_OK;
    lua_rawgeti(L, -1, k);
    if (!lua_istable(L, -1)) {
      curl_mime_free(mime);
      nvx_raise(L, "navixy: option 'parts' holds a part that is not a table");
    }
    /* read before anything is added: a raise must not leak the mime */
    at = lua_gettop(L);
    name = part_field(L, at, "name", NULL);
    value = part_field(L, at, "value", &len);
    path = part_field(L, at, "path", NULL);
    data = part_field(L, at, "data", &dlen);
    filename = part_field(L, at, "filename", NULL);
    type = part_field(L, at, "content_type", NULL);
    if (!name || (!value && !path && !data)) {
      curl_mime_free(mime);
      nvx_raise(L, "navixy: option 'parts' holds a part without a name or content");
    }
    part = curl_mime_addpart(mime);
    if (!part) rc = CURLE_OUT_OF_MEMORY;
    if (!rc) rc = curl_mime_name(part, name);
    if (!rc && value) rc = curl_mime_data(part, value, len);
    if (!rc && data) rc = curl_mime_data(part, data, dlen);
    if (!rc && path) rc = curl_mime_filedata(part, path); /* names the file by its base name */
    if (!rc && filename) rc = curl_mime_filename(part, filename);
    if (!rc && type) rc = curl_mime_type(part, type);
    lua_pop(L, 7);
    if (rc) {
      curl_mime_free(mime);
      if (rc == CURLE_READ_ERROR) nvx_raise(L, "navixy: cannot read the file %s", path ? path : "");
      nvx_raise(L, "navixy: out of memory building the request");
    }
  }
  lua_pop(L, 1);
  return mime;
}

static int prepare_error(lua_State *L, int rc) {
  if (rc == NVX_EBODY) return nvx_raise(L, "navixy: a JSON body must be an object");
  return nvx_raise(L, "navixy: out of memory building the request");
}

/* The transfer of slot id (0: sequential calls; 1..NVX_MAX_SLOTS: a batch),
 * made on first use. Raises when memory runs out. */
static nvx_transfer *slot_of(lua_State *L, nvx_client *c, int id) {
  nvx_transfer *t = c->slots[id];
  if (t) return t;
  t = calloc(1, sizeof *t);
  if (!t || nvx_transfer_init(t, &c->s) != NVX_OK) {
    if (t) nvx_transfer_free(t);
    free(t);
    nvx_raise(L, "navixy: out of memory creating a transfer");
  }
  c->slots[id] = t;
  if (id > c->top) c->top = id;
  return t;
}

/* Readies request table i in slot id and starts it. */
static void start(lua_State *L, nvx_client *c, int id, int i) {
  nvx_request r;
  nvx_transfer *t = slot_of(L, c, id);
  int rc;
  if (t->state != NVX_IDLE) nvx_raise(L, "navixy: slot is in flight");
  read_request(L, i, &r);
  r.mime = read_parts(L, i, t->easy);
  rc = nvx_transfer_prepare(t, &c->s, &r); /* takes r.mime */
  if (rc == NVX_OK) rc = nvx_engine_add(c->engine, t);
  if (rc != NVX_OK) prepare_error(L, rc);
}

/* Pushes the event of transfer t: a chunk of its body, or its result. */
static int push_event(lua_State *L, nvx_transfer *t) {
  if (t->state == NVX_RUNNING) return nvx_transfer_push_chunk(L, t);
  return nvx_transfer_push_result(L, t);
}

/* The next event among set[0..n), waiting at most `wait` seconds; NULL
 * when none came. Ctrl-C ends the wait (interrupt.h). */
static nvx_transfer *next_event(nvx_client *c, nvx_transfer **set, int n, double wait) {
  nvx_transfer *t;
  nvx_interrupt_begin();
  t = nvx_engine_next(c->engine, set, n, wait);
  nvx_interrupt_end();
  return t;
}

/* client:request(req) -> event: the request in slot 0, waited for; the
 * event is its result (see nvx_transfer_push_result) or, when its body
 * streams out, { chunk = } (then client:resume(0) and client:wait(s, 0)
 * give the rest). req.fresh: send on a new connection, never on a
 * kept-alive one (an action not safe to repeat must never be sent twice). */
static int c_request(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  nvx_transfer *t;
  start(L, c, 0, 2);
  t = next_event(c, &c->slots[0], 1, 1e9);
  if (!t) { /* Ctrl-C: the transfer goes; Lua raises "interrupted!" next */
    t = c->slots[0];
    nvx_engine_drop(c->engine, t);
    t->rc = CURLE_ABORTED_BY_CALLBACK;
    t->interrupted = 1;
  }
  return push_event(L, t);
}

/* Seconds an event may be waited for: 0 to 1e9 (NaN is refused). */
static double wait_arg(lua_State *L, double wait) {
  if (!(wait >= 0) || wait > 1e9) nvx_raise(L, "navixy: wait out of range");
  return wait;
}

static int slot_arg(lua_State *L, int i) {
  lua_Integer id = luaL_checkinteger(L, i);
  if (id < 0 || id > NVX_MAX_SLOTS) return nvx_raise(L, "navixy: slot out of range");
  return (int)id;
}

/* client:start(slot, req): starts a request in a slot without waiting for it;
 * raises on misuse. */
static int c_start(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  start(L, c, slot_arg(L, 2), 3);
  return 0;
}

/* client:wait(max_seconds [, slot]) -> slot, event: the next event of that
 * slot, or of any batch slot (1..); nothing when none came in time. */
static int c_wait(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  double wait = wait_arg(L, luaL_optnumber(L, 2, 0));
  nvx_transfer *t;
  int id;
  if (lua_isnoneornil(L, 3)) {
    t = next_event(c, &c->slots[1], c->top, wait);
  } else {
    id = slot_arg(L, 3);
    t = next_event(c, &c->slots[id], 1, wait);
  }
  if (!t) return 0;
  for (id = 0; c->slots[id] != t; id++) {
  }
  lua_pushinteger(L, id);
  return 1 + push_event(L, t);
}

/* client:events(max_seconds, out) -> n: waits at most max_seconds for an
 * event of the batch slots (1..), then takes it and every other event
 * already there (nothing more is waited for or driven), into the table out
 * as pairs: out[2k - 1] the slot, out[2k] its event, for k = 1..n. One call
 * a step of the batch scheduler, however many answers the engine's last
 * pass over the sockets brought (about four a pass at c = 8). */
static int c_events(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  double wait = wait_arg(L, luaL_checknumber(L, 2));
  nvx_transfer **set = &c->slots[1];
  nvx_transfer *t;
  int n = 0, from = 0;
  luaL_checktype(L, 3, LUA_TTABLE);
  t = next_event(c, set, c->top, wait);
  if (t)
    while (set[from++] != t) {
    }
  for (; t; t = nvx_engine_ready(set, c->top, &from)) {
    lua_pushinteger(L, from); /* set[from - 1] is slot `from` */
    lua_rawseti(L, 3, 2 * n + 1);
    push_event(L, t);
    lua_rawseti(L, 3, 2 * n + 2);
    n++;
  }
  lua_pushinteger(L, n);
  return 1;
}

/* client:resume(slot): the transfer paused on a chunk goes on. */
static int c_resume(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  int id = slot_arg(L, 2);
  if (c->slots[id]) nvx_engine_resume(c->engine, c->slots[id]);
  return 0;
}

/* client:fd() -> the descriptor an event loop watches for reading before it
 * calls client:wait(0) (a client made with settings.loop), or nil. */
static int c_fd(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  int fd = nvx_engine_fd(c->engine);
  if (fd < 0) return 0;
  lua_pushinteger(L, fd);
  return 1;
}

/* client:cancel([slot]): drops the request of that slot, or of every batch slot. */
static int c_cancel(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  int id, first = 1, last = c->top;
  if (!lua_isnoneornil(L, 2)) first = last = slot_arg(L, 2);
  for (id = first; id <= last; id++)
    if (c->slots[id]) nvx_engine_drop(c->engine, c->slots[id]);
  return 0;
}

/* client:busy() -> the count of batch slots in flight. */
static int c_busy(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  int id, n = 0;
  for (id = 1; id <= NVX_MAX_SLOTS; id++)
    if (c->slots[id] && c->slots[id]->state != NVX_IDLE) n++;
  lua_pushinteger(L, n);
  return 1;
}

/* The parts of request table i (each with value or data: a file's bytes are
 * read by the caller) into an array kept in a userdata at the top of the
 * stack, plus the hash as a field when it goes in the body; their strings
 * stay referenced by the request table. Returns the array and its length. */
static nvx_part *read_byte_parts(lua_State *L, int i, const char *hash, size_t *count) {
  nvx_part *parts;
  int k, n, list;
  lua_getfield(L, i, "parts");
  if (!lua_istable(L, -1)) nvx_raise(L, "navixy: option 'parts' must be a table");
  list = lua_gettop(L);
  n = (int)compat_rawlen(L, list);
  parts = compat_newuserdata(L, (size_t)(n + 1) * sizeof *parts);
  for (k = 0; k < n; k++) {
    nvx_part *p = &parts[k];
    size_t len;
    lua_rawgeti(L, list, k + 1);
    if (!lua_istable(L, -1)) nvx_raise(L, "navixy: option 'parts' holds a part that is not a table");
    p->name = nvx_opt_string(L, -1, "name", 0, NULL);
    p->data = nvx_opt_string(L, -1, "value", 0, &p->len);
    if (!p->data) p->data = nvx_opt_string(L, -1, "data", 0, &p->len);
    p->filename = nvx_opt_string(L, -1, "filename", 0, NULL);
    p->type = nvx_opt_string(L, -1, "content_type", 0, &len);
    if (!p->name || !p->data)
      nvx_raise(L, "navixy: option 'parts' holds a part without a name or bytes");
    if ((p->type && nvx_has_ctl(p->type, len)) || nvx_has_ctl(p->name, strlen(p->name)))
      nvx_raise(L, "navixy: option 'parts' holds CR, LF or NUL in a name or type");
    lua_pop(L, 1);
  }
  if (hash) { /* the hash as a form field (body mode) */
    parts[n].name = "hash";
    parts[n].data = hash;
    parts[n].len = strlen(hash);
    parts[n].filename = parts[n].type = NULL;
    n++;
  }
  lua_remove(L, list);
  *count = (size_t)n;
  return parts;
}

/* The request `req` (stack index 2) as the curl path would send it, into
 * url, body and lines (each line ending in '\n'), for transports that do
 * their own I/O; a request with parts gets its multipart/form-data body
 * (file parts need `data`: their bytes). NVX_OK or the error; the buffers
 * are the caller's to wipe either way. */
static int build_request(lua_State *L, nvx_client *c, nvx_request *r, nvx_buf *url, nvx_buf *body,
                         nvx_buf *lines) {
  const char *hash, *type = NULL;
  char ctype[64 + NVX_BOUNDARY_LEN];
  const nvx_part *parts = NULL;
  size_t count = 0;
  int rc, is_get, in_query;
  /* everything that can raise comes before any C memory is taken */
  read_request(L, 2, r);
  is_get = r->method == NVX_GET;
  hash = r->anonymous || r->url ? NULL : c->s.hash;
  in_query = nvx_hash_in_query(c->s.auth, is_get);
  push_field(L, 2, F_PARTS);
  if (!is_get && !lua_isnil(L, -1))
    parts = read_byte_parts(L, 2, hash && c->s.auth == NVX_AUTH_BODY ? hash : NULL, &count);
  rc = nvx_request_url(url, c->s.base, r, in_query ? hash : NULL);
  if (rc == NVX_OK && parts) {
    static unsigned long calls = 0;
    char boundary[NVX_BOUNDARY_LEN + 1];
    nvx_multipart_boundary(boundary, parts, count, ++calls ^ (unsigned long)(size_t)c);
    rc = nvx_multipart_body(body, boundary, parts, count) ? NVX_ENOMEM : NVX_OK;
    snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", boundary);
    type = ctype;
  } else if (rc == NVX_OK && !is_get) {
    rc = nvx_build_body(body, r->body, r->blen, c->s.enc, c->s.auth, in_query ? NULL : hash);
    type = nvx_settings_content_type(&c->s);
  }
  if (rc == NVX_OK) rc = nvx_settings_lines(&c->s, hash != NULL, type, lines);
  if (rc == NVX_OK && r->headers) {
    nvx_buf merged = {NULL, 0, 0};
    rc = nvx_lines_override(&merged, lines, r->headers, r->hlen);
    nvx_buf_wipe(lines);
    *lines = merged;
  }
  return rc;
}

/* The HTTP/1.1 request text: request line (the path what follows the
 * origin's `origin_len` bytes of the URL), Host, Accept-Encoding: gzip, the
 * header lines, Content-Length unless a GET, the empty line and the body. */
static int http1_text(nvx_buf *out, const nvx_request *r, const nvx_buf *url, size_t origin_len,
                      const char *host, size_t host_len, const nvx_buf *body, const nvx_buf *lines) {
  const char *path = url->data && origin_len < url->len ? url->data + origin_len : "";
  size_t path_len = url->data && origin_len < url->len ? url->len - origin_len : 0;
  const char *p = lines->data, *end = p + lines->len;
  if (nvx_buf_adds(out, r->method == NVX_GET ? "GET " : "POST ") ||
      (path_len == 0 || path[0] != '/' ? nvx_buf_addc(out, '/') : 0) || nvx_buf_add(out, path, path_len) ||
      nvx_buf_adds(out, " HTTP/1.1\r\nHost: ") || nvx_buf_add(out, host, host_len) ||
      nvx_buf_adds(out, "\r\nAccept-Encoding: gzip\r\n"))
    return NVX_ENOMEM;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) break; /* every line ends with '\n' */
    if (nvx_buf_add(out, p, (size_t)(nl - p)) || nvx_buf_add(out, "\r\n", 2)) return NVX_ENOMEM;
    p = nl + 1;
  }
  if (r->method != NVX_GET) {
    char length[48];
    snprintf(length, sizeof length, "Content-Length: %lu\r\n", (unsigned long)body->len);
    if (nvx_buf_adds(out, length)) return NVX_ENOMEM;
  }
  if (nvx_buf_add(out, "\r\n", 2) || (body->len && nvx_buf_add(out, body->data, body->len))) return NVX_ENOMEM;
  return NVX_OK;
}

/* client:http1_request(req, host, origin_len) -> the request as one
 * HTTP/1.1 message (see http1_text), for the ngx transport: one string to
 * send, no table of lines to join in Lua. `host` is the Host header's
 * value; origin_len how many bytes of the request's URL are its origin. */
static int c_http1_request(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  size_t host_len;
  const char *host = luaL_checklstring(L, 3, &host_len);
  lua_Integer origin_len = luaL_checkinteger(L, 4);
  nvx_buf url = {NULL, 0, 0}, body = {NULL, 0, 0}, lines = {NULL, 0, 0}, out = {NULL, 0, 0};
  nvx_request r;
  int rc;
  if (host_len == 0 || nvx_has_ctl(host, host_len) || origin_len < 0)
    return nvx_raise(L, "navixy: http1_request needs a host without CR, LF or NUL and an origin length");
  rc = build_request(L, c, &r, &url, &body, &lines);
  if (rc == NVX_OK) rc = http1_text(&out, &r, &url, (size_t)origin_len, host, host_len, &body, &lines);
  if (rc == NVX_OK) lua_pushlstring(L, out.data, out.len);
  nvx_buf_wipe(&url);
  nvx_buf_wipe(&body);
  nvx_buf_wipe(&lines);
  nvx_buf_wipe(&out);
  if (rc != NVX_OK) return prepare_error(L, rc);
  return 1;
}

static int c_set_hash(lua_State *L) {
  nvx_client *c = nvx_check_client(L, 1);
  size_t n = 0;
  const char *h = lua_isnoneornil(L, 2) ? NULL : luaL_checklstring(L, 2, &n);
  if (h && (n == 0 || nvx_has_ctl(h, n)))
    return nvx_raise(L, "navixy: hash must be non-empty, without CR, LF or NUL");
  if (nvx_settings_set_hash(&c->s, h, n) != NVX_OK)
    return nvx_raise(L, "navixy: out of memory setting the hash");
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
    int id;
    c->closed = 1;
    for (id = 0; id <= NVX_MAX_SLOTS; id++) {
      nvx_transfer *t = c->slots[id];
      if (!t) continue;
      nvx_engine_drop(c->engine, t); /* curl's order: out of the multi, then freed */
      nvx_transfer_free(t);
      free(t);
      c->slots[id] = NULL;
    }
    nvx_engine_release(c->engine);
    c->engine = NULL;
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
  char shown[NVX_SHOWN_SIZE] = "none";
  if (c->closed) {
    lua_pushstring(L, "navixy.core client (closed)");
    return 1;
  }
  if (c->s.hash) nvx_mask_shown(c->s.hash, strlen(c->s.hash), shown);
  lua_pushfstring(L, "navixy.core client (%s, auth %s, hash %s)", c->s.base,
                  AUTH_NAMES[c->s.auth], shown);
  return 1;
}

static const luaL_Reg METHODS[] = {
    {"request", c_request}, {"http1_request", c_http1_request},
    {"set_hash", c_set_hash}, {"get_hash", c_get_hash}, {"close", c_close}, {"is_closed", c_is_closed},
    {"start", c_start},     {"wait", c_wait},         {"events", c_events},     {"cancel", c_cancel},
    {"resume", c_resume},   {"busy", c_busy},         {"fd", c_fd},
    {NULL, NULL}};

void nvx_client_register(lua_State *L) {
  static const luaL_Reg META[] = {
      {"__gc", c_close}, {"__close", c_close}, {"__tostring", c_tostring}, {NULL, NULL}};
  int k;
  nvx_metatable(L, NVX_CLIENT_MT, NULL, META);
  luaL_getmetatable(L, NVX_CLIENT_MT);
  lua_newtable(L); /* the methods: __index */
  lua_pushvalue(L, -2);
  for (k = 0; REQUEST_FIELDS[k]; k++) lua_pushstring(L, REQUEST_FIELDS[k]);
  compat_setfuncs(L, METHODS, 1 + k); /* upvalues: the metatable, then the field names */
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
