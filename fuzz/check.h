/* Shared by the fuzz targets: a failed invariant aborts (libFuzzer saves
 * the input as a crash), and a strict JSON validator to check what the
 * encoders produce. Header-only: each target is one translation unit. */
#ifndef NAVIXY_FUZZ_CHECK_H
#define NAVIXY_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      abort();                                                                   \
    }                                                                            \
  } while (0)

/* ---- a strict RFC 8259 validator (bytes >= 0x80 are taken as they are) ---- */

typedef struct json_in {
  const char *s;
  size_t n, i;
  int depth;
} json_in;

#define JSON_MAX_DEPTH 200

static inline void json_ws(json_in *j) {
  while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
                         j->s[j->i] == '\r'))
    j->i++;
}

static inline int json_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int json_string_at(json_in *j) {
  if (j->i >= j->n || j->s[j->i] != '"') return 0;
  j->i++;
  while (j->i < j->n) {
    unsigned char c = (unsigned char)j->s[j->i++];
    if (c == '"') return 1;
    if (c < 0x20) return 0;
    if (c == '\\') {
      char e;
      if (j->i >= j->n) return 0;
      e = j->s[j->i++];
      if (e == 'u') {
        int k;
        for (k = 0; k < 4; k++)
          if (j->i >= j->n || !json_hex(j->s[j->i++])) return 0;
      } else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
        return 0;
      }
    }
  }
  return 0;
}

static inline int json_digits(json_in *j) {
  size_t start = j->i;
  while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') j->i++;
  return j->i > start;
}

static inline int json_number_at(json_in *j) {
  if (j->i < j->n && j->s[j->i] == '-') j->i++;
  if (j->i < j->n && j->s[j->i] == '0')
    j->i++;
  else if (!json_digits(j))
    return 0;
  if (j->i < j->n && j->s[j->i] == '.') {
    j->i++;
    if (!json_digits(j)) return 0;
  }
  if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
    j->i++;
    if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-')) j->i++;
    if (!json_digits(j)) return 0;
  }
  return 1;
}

static inline int json_literal_at(json_in *j, const char *word) {
  size_t k = strlen(word);
  if (j->n - j->i < k || memcmp(j->s + j->i, word, k) != 0) return 0;
  j->i += k;
  return 1;
}

static inline int json_value_at(json_in *j);

static inline int json_object_at(json_in *j) {
  if (++j->depth > JSON_MAX_DEPTH) return 0;
  j->i++; /* '{' */
  json_ws(j);
  if (j->i < j->n && j->s[j->i] == '}') {
    j->i++;
    j->depth--;
    return 1;
  }
  for (;;) {
    json_ws(j);
    if (!json_string_at(j)) return 0;
    json_ws(j);
    if (j->i >= j->n || j->s[j->i++] != ':') return 0;
    if (!json_value_at(j)) return 0;
    json_ws(j);
    if (j->i >= j->n) return 0;
    if (j->s[j->i] == ',') {
      j->i++;
      continue;
    }
    if (j->s[j->i++] != '}') return 0;
    j->depth--;
    return 1;
  }
}

static inline int json_array_at(json_in *j) {
  if (++j->depth > JSON_MAX_DEPTH) return 0;
  j->i++; /* '[' */
  json_ws(j);
  if (j->i < j->n && j->s[j->i] == ']') {
    j->i++;
    j->depth--;
    return 1;
  }
  for (;;) {
    if (!json_value_at(j)) return 0;
    json_ws(j);
    if (j->i >= j->n) return 0;
    if (j->s[j->i] == ',') {
      j->i++;
      continue;
    }
    if (j->s[j->i++] != ']') return 0;
    j->depth--;
    return 1;
  }
}

static inline int json_value_at(json_in *j) {
  json_ws(j);
  if (j->i >= j->n) return 0;
  switch (j->s[j->i]) {
  case '{': return json_object_at(j);
  case '[': return json_array_at(j);
  case '"': return json_string_at(j);
  case 't': return json_literal_at(j, "true");
  case 'f': return json_literal_at(j, "false");
  case 'n': return json_literal_at(j, "null");
  default: return json_number_at(j);
  }
}

/* 1 when s[0..n) is exactly one JSON object (whitespace around allowed). */
static inline int json_is_object(const char *s, size_t n) {
  json_in j = {s, n, 0, 0};
  json_ws(&j);
  if (j.i >= n || s[j.i] != '{' || !json_object_at(&j)) return 0;
  json_ws(&j);
  return j.i == n;
}

/* Decodes the JSON string literal s[0..n) (quotes included) into out (room
 * for n bytes); returns the decoded length, or -1 when it is not exactly
 * one valid string literal. Only \u00XX escapes are decoded to a byte (all
 * that nvx_json_string writes); other \u escapes fail. */
static inline long json_decode_string(const char *s, size_t n, char *out) {
  json_in j = {s, n, 0, 0};
  size_t i, k = 0;
  if (!json_string_at(&j) || j.i != n) return -1;
  for (i = 1; i < n - 1; i++) {
    if (s[i] != '\\') {
      out[k++] = s[i];
      continue;
    }
    switch (s[++i]) {
    case 'u': {
      char hex[3] = {s[i + 3], s[i + 4], 0};
      if (s[i + 1] != '0' || s[i + 2] != '0') return -1;
      out[k++] = (char)strtol(hex, NULL, 16);
      i += 4;
      break;
    }
    case 'b': out[k++] = '\b'; break;
    case 'f': out[k++] = '\f'; break;
    case 'n': out[k++] = '\n'; break;
    case 'r': out[k++] = '\r'; break;
    case 't': out[k++] = '\t'; break;
    default: out[k++] = s[i]; break; /* " \ / */
    }
  }
  return (long)k;
}

/* Percent-decodes s[0..n) into out (room for n bytes); -1 on a malformed
 * escape. */
static inline long url_decode(const char *s, size_t n, char *out) {
  size_t i, k = 0;
  for (i = 0; i < n; i++) {
    if (s[i] == '%') {
      char hex[3];
      if (i + 2 >= n) return -1;
      if (!json_hex(s[i + 1]) || !json_hex(s[i + 2])) return -1;
      hex[0] = s[i + 1];
      hex[1] = s[i + 2];
      hex[2] = 0;
      out[k++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      out[k++] = s[i];
    }
  }
  return (long)k;
}

#endif
