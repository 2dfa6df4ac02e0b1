#include "util/mask.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/escape.h"

/* A match moves ahead by at most 12 bytes in one step (a surrogate pair
 * \uXXXX\uXXXX): the ring of positions ahead holds one more. */
#define RING 13

static int is_word(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The byte a %XX at t[p] stands for, or -1. */
static int percent_at(const char *t, size_t n, size_t p) {
  int hi, lo;
  if (t[p] != '%' || n - p < 3) return -1;
  hi = hex_digit(t[p + 1]);
  lo = hex_digit(t[p + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* A backslash escape read as JSON reads it (util/escape.c). */
typedef struct escape {
  size_t len;    /* of the escape in the text */
  char bytes[4]; /* what it stands for */
  size_t nbytes;
} escape;

static int escape_at(const char *t, size_t n, size_t p, escape *e) {
  const char *why;
  if (t[p] != '\\') return 0;
  e->len = nvx_json_escape(t + p, t + n, e->bytes, &e->nbytes, &why);
  return e->len != 0;
}

/* Texts are read in tokens: an escape, or one byte (a backslash that
 * escapes nothing included). Occurrences begin and end between tokens. */
static size_t token_len(const char *t, size_t n, size_t p) {
  escape e;
  return escape_at(t, n, p, &e) ? e.len : 1;
}

/* The character before position p as the text stands for it; prev is
 * where the token before p starts. */
static unsigned char char_before(const char *t, size_t n, size_t p, size_t prev) {
  escape e;
  int pct;
  if (escape_at(t, n, prev, &e)) return (unsigned char)e.bytes[e.nbytes - 1];
  if (p >= 3 && (pct = percent_at(t, n, p - 3)) >= 0) return (unsigned char)pct;
  return (unsigned char)t[p - 1];
}

/* The character at p as the text stands for it. */
static unsigned char char_at(const char *t, size_t n, size_t p) {
  escape e;
  int pct;
  if (escape_at(t, n, p, &e)) return (unsigned char)e.bytes[0];
  if ((pct = percent_at(t, n, p)) >= 0) return (unsigned char)pct;
  return (unsigned char)t[p];
}

/* One secret being looked for. The partial matches alive at a position
 * are a set of secret offsets (bits), one set per position ahead. */
typedef struct matcher {
  const char *s;
  size_t m;
  const char *shown;
  size_t shown_len;
  size_t words;   /* 64-bit words per set: offsets 0..m-1 */
  uint64_t *ring; /* RING sets */
  unsigned char live[RING];
} matcher;

/* One way to read the text at a position: the bytes it stands for, and
 * how far it moves in the text. */
typedef struct reading {
  const char *bytes;
  size_t nbytes, advance;
} reading;

/* The ways to read the text at q: an escape as what it stands for or as
 * written; a byte as itself, and %XX and '+' as what they stand for too. */
static int readings_at(const char *t, size_t n, size_t q, escape *e, char *decoded, reading r[2]) {
  int pct;
  if (escape_at(t, n, q, e)) {
    r[0].bytes = e->bytes;
    r[0].nbytes = e->nbytes;
    r[1].bytes = t + q;
    r[1].nbytes = r[0].advance = r[1].advance = e->len;
    return 2;
  }
  r[0].bytes = t + q;
  r[0].nbytes = r[0].advance = 1;
  if ((pct = percent_at(t, n, q)) >= 0) {
    *decoded = (char)pct;
    r[1].bytes = decoded;
    r[1].nbytes = 1;
    r[1].advance = 3;
    return 2;
  }
  if (t[q] == '+') {
    r[1].bytes = " ";
    r[1].nbytes = r[1].advance = 1;
    return 2;
  }
  return 1;
}

/* The end of the longest whole occurrence of the secret that begins at p
 * (a token start; prev: where the token before it starts), or 0. Work is
 * bounded by the secret's length squared, whatever the text. */
static size_t match_at(matcher *mt, const char *t, size_t n, size_t p, size_t prev) {
  const unsigned char first = (unsigned char)mt->s[0], last = (unsigned char)mt->s[mt->m - 1];
  size_t q, best = 0, pending = 1;
  int whole = mt->m < NVX_MASK_ANYWHERE; /* a short secret counts only where whole */
  if (whole && is_word(first) && p > 0 && is_word(char_before(t, n, p, prev))) return 0;
  mt->ring[(p % RING) * mt->words] = 1; /* offset 0 */
  mt->live[p % RING] = 1;
  for (q = p; pending; q++) {
    uint64_t *set = mt->ring + (q % RING) * mt->words;
    reading r[2];
    escape e;
    char decoded;
    size_t w, nr;
    if (!mt->live[q % RING]) continue;
    mt->live[q % RING] = 0;
    pending--;
    nr = q < n ? (size_t)readings_at(t, n, q, &e, &decoded, r) : 0;
    for (w = 0; w < mt->words; w++) {
      uint64_t bits = set[w];
      set[w] = 0;
      for (; bits; bits &= bits - 1) {
        size_t k = w * 64, i, b = 0;
        while (!((bits >> b) & 1)) b++;
        k += b;
        for (i = 0; i < nr; i++) {
          size_t k2 = k + r[i].nbytes, q2 = q + r[i].advance;
          if (k2 > mt->m || memcmp(mt->s + k, r[i].bytes, r[i].nbytes) != 0) continue;
          if (k2 < mt->m) {
            mt->ring[(q2 % RING) * mt->words + k2 / 64] |= (uint64_t)1 << (k2 % 64);
            if (!mt->live[q2 % RING]) {
              mt->live[q2 % RING] = 1;
              pending++;
            }
          } else if (q2 > best && !(whole && is_word(last) && q2 < n && is_word(char_at(t, n, q2)))) {
            best = q2;
          }
        }
      }
    }
  }
  return best;
}

/* The secrets being looked for, with the bytes an occurrence can begin
 * with (any other is passed over at once). */
typedef struct masker {
  matcher *mts;
  size_t used;
  unsigned char starts[256];
} masker;

/* One pass over t[0..n): appends it to out with every whole occurrence
 * replaced; the count of replacements, or -1 when memory ran out. */
static long mask_once(masker *mk, nvx_buf *out, const char *t, size_t n) {
  size_t i, p = 0, prev = 0, copied = 0;
  long masked = 0;
  while (p < n) {
    size_t len, end = 0, which = 0;
    if (!mk->starts[(unsigned char)t[p]]) {
      prev = p++;
      continue;
    }
    len = token_len(t, n, p);
    for (i = 0; i < mk->used; i++) {
      size_t e = match_at(&mk->mts[i], t, n, p, prev);
      if (e > end) {
        end = e;
        which = i;
      }
    }
    if (!end) {
      prev = p;
      p += len;
      continue;
    }
    {
      /* occurrences that begin inside this one and end past it go with it,
       * so that no piece of them is left */
      size_t q = p + len, qprev = p;
      while (q < end) {
        for (i = 0; i < mk->used; i++) {
          size_t e = match_at(&mk->mts[i], t, n, q, qprev);
          if (e > end) end = e;
        }
        qprev = q;
        q += token_len(t, n, q);
      }
      if (nvx_buf_add(out, t + copied, p - copied) ||
          nvx_buf_add(out, mk->mts[which].shown, mk->mts[which].shown_len))
        return -1;
      copied = p = end;
      prev = qprev;
      masked++;
    }
  }
  return nvx_buf_add(out, t + copied, n - copied) ? -1 : masked;
}

/* Passes after the first: a replacement changes the characters around
 * what is left, and the text may be read more than one way ("%FF" is "FF"
 * raw, one byte decoded), so an occurrence that was not whole may be whole
 * now: "%FFF%BA" with the secrets "F" and "FF" loses its last "F" (a byte
 * of value FF before it, one of BA after it), and then "FF" stands before
 * the shown form. Passes run until one finds nothing (each removes
 * secrets; a shown form must hold none, or this is a bound, not a fixed
 * point). */
#define MAX_PASSES 8

long nvx_mask(nvx_buf *out, const char *t, size_t n, const nvx_secret *secrets, size_t count) {
  masker mk;
  nvx_buf again = {NULL, 0, 0};
  size_t i, base = out->len;
  long masked = -1, more;
  int pass;
  mk.mts = calloc(count ? count : 1, sizeof *mk.mts);
  mk.used = 0;
  if (!mk.mts) return -1;
  memset(mk.starts, 0, sizeof mk.starts);
  mk.starts['\\'] = mk.starts['%'] = 1;
  for (i = 0; i < count; i++) {
    matcher *mt = &mk.mts[mk.used];
    if (secrets[i].len == 0) continue;
    mt->s = secrets[i].text;
    mt->m = secrets[i].len;
    mt->shown = secrets[i].shown;
    mt->shown_len = secrets[i].shown_len;
    mt->words = (mt->m + 63) / 64;
    mt->ring = calloc(RING * mt->words, sizeof *mt->ring);
    if (!mt->ring) goto done;
    mk.starts[(unsigned char)mt->s[0]] = 1;
    if (mt->s[0] == ' ') mk.starts['+'] = 1;
    mk.used++;
  }
  masked = mask_once(&mk, out, t, n);
  for (pass = 1, more = masked; more > 0 && pass < MAX_PASSES; pass++) {
    nvx_buf_reset(&again);
    more = mask_once(&mk, &again, out->data + base, out->len - base);
    if (more < 0) {
      masked = -1;
    } else if (more > 0) {
      out->len = base;
      if (nvx_buf_add(out, again.data, again.len)) more = masked = -1;
      else masked += more;
    }
  }
done:
  nvx_buf_free(&again);
  for (i = 0; i < mk.used; i++) free(mk.mts[i].ring);
  free(mk.mts);
  return masked;
}

size_t nvx_mask_shown(const char *secret, size_t n, char *out) {
  if (n <= 8) {
    memcpy(out, "****", 5);
    return 4;
  }
  memcpy(out, secret, 4);
  memcpy(out + 4, "...", 4);
  return 7;
}
