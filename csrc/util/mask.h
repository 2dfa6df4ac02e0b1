/* Masking secrets (a hash, a password) in text shown to people: error
 * messages, raw bodies, answers. Pure C, no Lua: core.mask calls it, the
 * fuzzer drives it.
 *
 * A secret is found wherever the text holds it
 *   - raw;
 *   - JSON-escaped, in any way: \" \\ \/ \b \f \n \r \t, and \uXXXX (upper
 *     or lower hex) for any character, non-ASCII and surrogate pairs
 *     included;
 *   - percent-encoded, in any way: %XX (upper or lower hex) for any byte,
 *     '+' for a space;
 * or any mix of these: the secret is matched against what the text stands
 * for, and the source span that stands for it is replaced, whole.
 *
 * A secret of NVX_MASK_ANYWHERE bytes or more is masked wherever it occurs,
 * whatever stands around it: a hash or a password that long, glued to other
 * text ("oops<hash>"), is still the secret, never a coincidence. A shorter
 * one counts only where it is whole: when it begins with an ASCII letter or
 * digit, the character before the occurrence must not be one; likewise for
 * its last character and the character after. So the hash "a" is masked in
 * {"hash":"a"} and hash=a&x=1, never inside "status" or false. That
 * character is read as the text stands for it: the one a JSON escape before
 * or after stands for, the byte of a %XX before or after (so in a JSON text,
 * a secret right before a literal "%41" is taken to be followed by an "A").
 * Below, "whole" means: an occurrence that counts, by these rules.
 *
 * Backslash escapes are read from the start of the text as JSON reads
 * them (a backslash escapes the next character, so \\ is one escape), and
 * an occurrence never begins or ends inside one: masking never leaves half
 * an escape behind, so JSON stays JSON. Consequences: a secret that would
 * end with the backslash of an escape (the raw "a\" in the text a\"), or
 * begin or end inside the UTF-8 bytes one \u escape stands for, is not
 * found there. The text's syntax is not known, though: a secret holding a
 * '"' is found raw across the quote that closes a string (x" in
 * {"k":"x"}), and a secret's raw form may cut a %XX in two; the secret goes
 * all the same, and the text is then no longer JSON or percent-encoding.
 *
 * Every other byte is left as it is. Occurrences of different secrets that
 * overlap are replaced together, by what the leftmost one is shown as. A
 * replacement changes the characters around what is left, and a text can
 * be read more than one way, so what was not whole may be whole after it:
 * the text is gone over again until no whole occurrence is left (at most 8
 * times; a shown form should hold no secret, so that this ends). Empty
 * secrets are ignored. Time: linear in the text for a given set of secrets
 * (a bounded amount of work per position). */
#ifndef NAVIXY_MASK_H
#define NAVIXY_MASK_H

#include <stddef.h>
#include "util/buffer.h"

/* Secrets this long are masked wherever they occur (see above). */
#define NVX_MASK_ANYWHERE 8

typedef struct nvx_secret {
  const char *text; /* the secret */
  size_t len;
  const char *shown; /* what an occurrence becomes, as it is (e.g. "****") */
  size_t shown_len;
} nvx_secret;

/* Appends text[0..n) to out with every whole occurrence of the secrets
 * replaced. Returns how many replacements were made (0: out holds text
 * unchanged), or -1 when memory ran out. */
long nvx_mask(nvx_buf *out, const char *text, size_t n, const nvx_secret *secrets, size_t count);

/* How a hash is shown to people, the one rule: its first 4 characters and
 * "..." when it is longer than 8, else "****". Writes it, NUL-terminated,
 * at out (NVX_SHOWN_SIZE bytes) and returns its length. */
#define NVX_SHOWN_SIZE 8
size_t nvx_mask_shown(const char *secret, size_t n, char *out);

#endif
