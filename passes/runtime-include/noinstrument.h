/* Helpers for runtime libraries that are linked into instrumented programs.
 *
 * NOINSTRUMENT(name) gives a function a name that built-in and well-behaved custom passes
 * skip (prefix __noinstrument_), so a runtime's own code is not instrumented.
 * NOINSTRUMENT_INLINE(name) marks a small helper that the custominline pass inlines into
 * instrumented code (prefix __noinstrument__inline_).
 */
#ifndef INFRA_NOINSTRUMENT_H
#define INFRA_NOINSTRUMENT_H

#define NOINSTRUMENT_PREFIX __noinstrument_
#define NOINSTRUMENT_CONCAT_(a, b) a##b
#define NOINSTRUMENT_CONCAT(a, b) NOINSTRUMENT_CONCAT_(a, b)
#define NOINSTRUMENT(name) NOINSTRUMENT_CONCAT(NOINSTRUMENT_PREFIX, name)
#define NOINSTRUMENT_INLINE(name) NOINSTRUMENT_CONCAT(__noinstrument__inline_, name)

#endif
