/* core.mask (csrc/util/mask.c): the promises of mask.h, checked on texts built
 * from the input. The input picks one or two secrets (any characters,
 * valid UTF-8), a kind of text (raw, a JSON string, a percent-encoded
 * value) and a sequence of filler and of secrets written in that kind of
 * text, each time in another way (raw or \uXXXX in either case or a short
 * escape, character by character; %XX in either case, raw, or '+' for a
 * space, byte by byte).
 *
 * Strict mode: the filler can form no occurrence (it has none of the
 * secrets' first bytes, no '%', '+' or backslash) and each written secret
 * stands between two separator bytes that no secret holds. Then the output
 * is exactly the text with each written secret replaced by its shown form:
 * nothing else changes, and a text without any written secret comes back
 * byte for byte.
 *
 * Free mode: any filler (escaped for the kind of text, as an encoder would;
 * raw text without backslashes, whose escapes are the one thing masking
 * never splits; JSON strings with '%' escaped, so that what the string
 * holds is read once). Then no whole occurrence is left in what the output
 * stands for: the output itself for raw text (a %XX next to an occurrence
 * read as its byte, as mask.h says); for a JSON string, the string our
 * decoder reads from the output, which must still be JSON (secrets there
 * hold no '"', which could match the closing quote); for a percent-encoded
 * value, its decoding (when a secret's raw form cut a %XX in two, the
 * output is checked as raw text instead). */
#include <stdint.h>
#include "lua_core.h"
#include "util/mask.h"

enum { RAW, JSON, PERCENT };

#define MAX_PLANTED 8

typedef struct plan {
  int kind, strict;
  size_t nsecrets;
  unsigned cps[2][12]; /* each secret's code points */
  size_t ncps[2];
  nvx_buf secret[2];
  char sep;
  const char *shown;
  nvx_buf text;
  size_t planted_start[MAX_PLANTED], planted_end[MAX_PLANTED], nplanted;
  int planted_secret[MAX_PLANTED];
} plan;

static void add_utf8(nvx_buf *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  CHECK(nvx_buf_add(b, u, n) == 0);
}

static void make_secret(plan *pl, input *in, size_t i) {
  size_t k, n = 1 + next_byte(in) % 10;
  for (k = 0; k < n; k++) {
    unsigned b = next_byte(in), cp = b;
    if (b >= 0x80) {
      cp = (((b & 0x3F) << 8) | next_byte(in)) + 0x80;
      if (cp >= 0xD800 && cp <= 0xDFFF) cp += 0x800;
      if (b & 0x40) cp += 0x10000;
    }
    if (pl->kind == JSON && !pl->strict && cp == '"') cp = '\'';
    pl->cps[i][k] = cp;
    add_utf8(&pl->secret[i], cp);
  }
  pl->ncps[i] = n;
}

static int in_secrets(const plan *pl, unsigned char c) {
  size_t i;
  for (i = 0; i < pl->nsecrets; i++)
    if (memchr(pl->secret[i].data, c, pl->secret[i].len)) return 1;
  return 0;
}

static int unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

static void add_hex_escape(nvx_buf *b, const char *prefix, unsigned v, int digits, int upper) {
  static const char lower_hex[] = "0123456789abcdef", upper_hex[] = "0123456789ABCDEF";
  const char *hex = upper ? upper_hex : lower_hex;
  CHECK(nvx_buf_adds(b, prefix) == 0);
  while (digits-- > 0) CHECK(nvx_buf_addc(b, hex[(v >> (4 * digits)) & 15]) == 0);
}

/* One character as a JSON string holds it, written one of several ways. */
static void add_json_char(nvx_buf *b, unsigned cp, unsigned how) {
  static const char shorts[] = "\"\\/\b\f\n\r\t", letters[] = "\"\\/bfnrt";
  const char *s = cp && cp < 0x80 ? strchr(shorts, (int)cp) : NULL;
  int raw_ok = cp >= 0x20 && cp != '"' && cp != '\\';
  if (how % 4 == 0 && raw_ok) {
    add_utf8(b, cp);
  } else if (how % 4 == 3 && s) {
    CHECK(nvx_buf_addc(b, '\\') == 0 && nvx_buf_addc(b, letters[s - shorts]) == 0);
  } else if (cp >= 0x10000) {
    unsigned v = cp - 0x10000;
    add_hex_escape(b, "\\u", 0xD800 + (v >> 10), 4, how & 4);
    add_hex_escape(b, "\\u", 0xDC00 + (v & 0x3FF), 4, how & 8);
  } else {
    add_hex_escape(b, "\\u", cp, 4, how & 4);
  }
}

/* One byte as a percent-encoded value holds it, written one of several ways. */
static void add_pct_byte(nvx_buf *b, unsigned char c, unsigned how) {
  if (c == ' ' && how % 3 == 0)
    CHECK(nvx_buf_addc(b, '+') == 0);
  else if (unreserved(c) && how % 3 != 2)
    CHECK(nvx_buf_addc(b, (char)c) == 0);
  else
    add_hex_escape(b, "%", c, 2, how & 4);
}

static void write_secret(plan *pl, input *in, size_t i) {
  size_t k;
  switch (pl->kind) {
  case RAW:
    CHECK(nvx_buf_add(&pl->text, pl->secret[i].data, pl->secret[i].len) == 0);
    break;
  case JSON:
    for (k = 0; k < pl->ncps[i]; k++) add_json_char(&pl->text, pl->cps[i][k], next_byte(in));
    break;
  default:
    for (k = 0; k < pl->secret[i].len; k++)
      add_pct_byte(&pl->text, (unsigned char)pl->secret[i].data[k], next_byte(in));
  }
}

/* A filler byte: in strict mode only bytes that start no occurrence; in
 * free mode any, escaped as the kind of text needs. */
static void write_filler(plan *pl, unsigned char c, unsigned how) {
  if (pl->strict) {
    size_t i;
    if (c == '%' || c == '+' || c == '\\' || (pl->kind == JSON && (c == '"' || c < 0x20))) return;
    for (i = 0; i < pl->nsecrets; i++)
      if (c == (unsigned char)pl->secret[i].data[0]) return;
    CHECK(nvx_buf_addc(&pl->text, (char)c) == 0);
    return;
  }
  switch (pl->kind) {
  case RAW:
    if (c != '\\') CHECK(nvx_buf_addc(&pl->text, (char)c) == 0);
    break;
  case JSON: /* a '%' only as \u0025: a raw %XX in a JSON string would
                be read twice (the string, then the %XX in it) */
    if (c == '%')
      add_json_char(&pl->text, c, 1);
    else if (c < 0x80)
      add_json_char(&pl->text, c, how);
    else
      CHECK(nvx_buf_addc(&pl->text, (char)c) == 0); /* any byte, as the encoder keeps it */
    break;
  default:
    add_pct_byte(&pl->text, c, how);
  }
}

static void separator(plan *pl) {
  if (pl->strict)
    CHECK(nvx_buf_addc(&pl->text, pl->sep) == 0);
  else
    CHECK(nvx_buf_addc(&pl->text, pl->kind == PERCENT ? '+' : ' ') == 0);
}

/* A separator no secret holds (strict mode), and a shown form with no byte
 * of a secret that JSON and percent-encoding both leave alone. */
static int choose_marks(plan *pl) {
  static const char seps[] = " ,;:!*#()[]<>|^~", shows[] = "*#!~^|_-.,;:@$()[]<>?'";
  static char shown[5];
  const char *p;
  pl->sep = 0;
  for (p = seps; *p && !pl->sep; p++)
    if (!in_secrets(pl, (unsigned char)*p)) pl->sep = *p;
  for (p = shows; *p; p++) {
    if (!in_secrets(pl, (unsigned char)*p)) {
      memset(shown, *p, 4);
      shown[4] = '\0';
      pl->shown = shown;
      return pl->sep != 0 || !pl->strict;
    }
  }
  return 0;
}

/* core.mask(text, secret, shown, ...) into out. */
static void run_mask(lua_State *L, const plan *pl, const char *text, size_t n, nvx_buf *out) {
  size_t i, len;
  const char *got;
  push_core(L, "mask");
  lua_pushlstring(L, text, n);
  for (i = 0; i < pl->nsecrets; i++) {
    lua_pushlstring(L, pl->secret[i].data, pl->secret[i].len);
    lua_pushstring(L, pl->shown);
  }
  CHECK(lua_pcall(L, 1 + 2 * (int)pl->nsecrets, 1, 0) == LUA_OK);
  got = lua_tolstring(L, -1, &len);
  CHECK(got != NULL && nvx_buf_add(out, got, len) == 0);
  lua_pop(L, 1);
}

static int is_word(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The byte %XX at s[i..) stands for, or -1. */
static int pct_at(const char *s, size_t n, size_t i) {
  char hex[3] = {0, 0, 0};
  if (i + 3 > n || s[i] != '%' || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return -1;
  memcpy(hex, s + i + 1, 2);
  return (int)strtol(hex, NULL, 16);
}

/* Whether s[0..n) holds a whole occurrence of a secret, raw. With
 * pct_neighbours, a %XX before or after it is read as its byte, as mask.h
 * says (for texts not percent-decoded already). */
static int occurrence_left(const plan *pl, const char *s, size_t n, int pct_neighbours) {
  size_t i, k;
  for (k = 0; k < pl->nsecrets; k++) {
    const char *x = pl->secret[k].data;
    size_t m = pl->secret[k].len;
    for (i = 0; i + m <= n; i++) {
      int before = i > 0 ? (unsigned char)s[i - 1] : -1, after = i + m < n ? (unsigned char)s[i + m] : -1;
      if (memcmp(s + i, x, m) != 0) continue;
      if (pct_neighbours && i >= 3 && pct_at(s, n, i - 3) >= 0) before = pct_at(s, n, i - 3);
      if (pct_neighbours && pct_at(s, n, i + m) >= 0) after = pct_at(s, n, i + m);
      if (m >= NVX_MASK_ANYWHERE) return 1; /* long secrets count wherever they are */
      if (is_word((unsigned char)x[0]) && before >= 0 && is_word((unsigned char)before)) continue;
      if (is_word((unsigned char)x[m - 1]) && after >= 0 && is_word((unsigned char)after)) continue;
      return 1;
    }
  }
  return 0;
}

static void check_strict(const plan *pl, const nvx_buf *out) {
  nvx_buf want = {NULL, 0, 0};
  size_t i, from = 0;
  for (i = 0; i < pl->nplanted; i++) {
    CHECK(nvx_buf_add(&want, pl->text.data + from, pl->planted_start[i] - from) == 0);
    CHECK(nvx_buf_adds(&want, pl->shown) == 0);
    from = pl->planted_end[i];
  }
  CHECK(nvx_buf_add(&want, pl->text.data + from, pl->text.len - from) == 0);
  CHECK(out->len == want.len && (want.len == 0 || memcmp(out->data, want.data, want.len) == 0));
  nvx_buf_free(&want);
}

static void check_free(lua_State *L, const plan *pl, const nvx_buf *out) {
  char *decoded;
  long n;
  switch (pl->kind) {
  case RAW:
    CHECK(!occurrence_left(pl, out->data, out->len, 1));
    break;
  case JSON: {
    size_t len;
    const char *s;
    CHECK(core_decode(L, out->data, out->len, 0)); /* still JSON */
    s = lua_tolstring(L, -1, &len);
    CHECK(lua_type(L, -1) == LUA_TSTRING && !occurrence_left(pl, s, len, 0));
    lua_pop(L, 1);
    break;
  }
  default:
    decoded = malloc(out->len + 1);
    CHECK(decoded != NULL);
    n = url_decode_form(out->data, out->len, decoded, 1);
    if (n >= 0)
      CHECK(!occurrence_left(pl, decoded, (size_t)n, 0));
    else
      CHECK(!occurrence_left(pl, out->data, out->len, 1));
    free(decoded);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = core_state();
  input in = {data, data + size};
  plan pl;
  nvx_buf out = {NULL, 0, 0};
  unsigned mode = next_byte(&in);
  size_t i;
  memset(&pl, 0, sizeof pl);
  pl.kind = (int)(mode % 3);
  pl.strict = (mode >> 2) & 1;
  pl.nsecrets = 1 + ((mode >> 3) & 1);
  for (i = 0; i < pl.nsecrets; i++) make_secret(&pl, &in, i);
  if (choose_marks(&pl)) {
    /* free mode: a whole JSON string; strict mode: what is inside one (a
     * secret '"' would match its quotes) */
    if (pl.kind == JSON && !pl.strict) CHECK(nvx_buf_addc(&pl.text, '"') == 0);
    if (pl.strict) separator(&pl);
    while (in.p < in.end) {
      unsigned t = next_byte(&in);
      if (t % 3 == 0 && pl.nplanted < MAX_PLANTED) {
        size_t which = (t / 3) % pl.nsecrets;
        separator(&pl);
        pl.planted_start[pl.nplanted] = pl.text.len;
        write_secret(&pl, &in, which);
        pl.planted_end[pl.nplanted] = pl.text.len;
        pl.planted_secret[pl.nplanted++] = (int)which;
        separator(&pl);
      } else {
        size_t k, n = t % 8;
        for (k = 0; k < n; k++) write_filler(&pl, (unsigned char)next_byte(&in), t);
      }
    }
    if (pl.strict) separator(&pl);
    if (pl.kind == JSON && !pl.strict) CHECK(nvx_buf_addc(&pl.text, '"') == 0);
    run_mask(L, &pl, pl.text.data ? pl.text.data : "", pl.text.len, &out);
    if (pl.strict)
      check_strict(&pl, &out);
    else
      check_free(L, &pl, &out);
  }
  for (i = 0; i < 2; i++) nvx_buf_free(&pl.secret[i]);
  nvx_buf_free(&pl.text);
  nvx_buf_free(&out);
  return 0;
}
