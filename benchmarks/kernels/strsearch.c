/* Counts occurrences of many patterns in a generated text: naive scan, KMP and Horspool. */
#include <string.h>
#include "kernel.h"

static long naive(const unsigned char *t, long n, const unsigned char *p, long m) {
  long count = 0;
  for (long i = 0; i + m <= n; i++) {
    long j = 0;
    while (j < m && t[i + j] == p[j]) j++;
    if (j == m) count++;
  }
  return count;
}

static long kmp(const unsigned char *t, long n, const unsigned char *p, long m, long *fail) {
  long count = 0, k = 0;
  fail[0] = 0;
  for (long i = 1; i < m; i++) {
    while (k > 0 && p[i] != p[k]) k = fail[k - 1];
    if (p[i] == p[k]) k++;
    fail[i] = k;
  }
  k = 0;
  for (long i = 0; i < n; i++) {
    while (k > 0 && t[i] != p[k]) k = fail[k - 1];
    if (t[i] == p[k]) k++;
    if (k == m) {
      count++;
      k = fail[k - 1];
    }
  }
  return count;
}

static long horspool(const unsigned char *t, long n, const unsigned char *p, long m) {
  long shift[256], count = 0;
  for (int c = 0; c < 256; c++) shift[c] = m;
  for (long i = 0; i < m - 1; i++) shift[p[i]] = m - 1 - i;
  for (long i = 0; i + m <= n; i += shift[t[i + m - 1]])
    if (memcmp(t + i, p, (size_t)m) == 0) count++;
  return count;
}

int main(int argc, char **argv) {
  long size = parse_size(argc, argv, "N (KiB of text)");
  long n = size * 1024;
  unsigned char *text = xmalloc((size_t)n);
  unsigned char pat[64];
  long fail[64];
  uint64_t h = 0;
  rng_seed(5);
  /* a skewed four-letter alphabet gives many partial matches */
  for (long i = 0; i < n; i++) {
    uint64_t r = rng_next() % 16;
    text[i] = (unsigned char)(r < 8 ? 'a' : r < 12 ? 'b' : r < 15 ? 'c' : 'd');
  }
  for (int round = 0; round < 24; round++) {
    long m = 3 + round % 14;
    /* half of the patterns are cut from the text, so they occur at least once */
    if (round % 2 == 0) {
      long at = (long)(rng_next() % (uint64_t)(n - m));
      memcpy(pat, text + at, (size_t)m);
    } else {
      for (long j = 0; j < m; j++) pat[j] = (unsigned char)('a' + rng_next() % 3);
    }
    long a = naive(text, n, pat, m), b = kmp(text, n, pat, m, fail), c = horspool(text, n, pat, m);
    if (a != b || b != c) {
      fprintf(stderr, "search algorithms disagree: %ld %ld %ld\n", a, b, c);
      return 1;
    }
    h = mix(h, (uint64_t)a);
  }
  print_checksum("strsearch", size, h);
  free(text);
  return 0;
}
