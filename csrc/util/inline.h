/* Inlining by hand, for the JSON readers' inner loops (json_decode.c,
 * json_lazy.c): their scalars are read inline in the loop of their
 * container, which alone recurses, a call a container instead of one or
 * two a member; the compiler would call them, for their callers are
 * several. Plain inline where the compiler is not GCC or Clang. */
#ifndef NAVIXY_UTIL_INLINE_H
#define NAVIXY_UTIL_INLINE_H

#if defined(__GNUC__)
#define NVX_ALWAYS_INLINE inline __attribute__((always_inline))
#define NVX_NOINLINE __attribute__((noinline))
#else
#define NVX_ALWAYS_INLINE inline
#define NVX_NOINLINE
#endif

#endif
