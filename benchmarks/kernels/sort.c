/* Sorts pseudo-random 32-bit keys with a hand-written introsort-like quicksort and a merge sort. */
#include <string.h>
#include "kernel.h"

static void insertion(uint32_t *a, long n) {
  for (long i = 1; i < n; i++) {
    uint32_t x = a[i];
    long j = i - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

static void quick(uint32_t *a, long n) {
  while (n > 24) {
    uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
    uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    long i = 0, j = n - 1;
    for (;;) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i >= j) break;
      uint32_t t = a[i];
      a[i] = a[j];
      a[j] = t;
      i++;
      j--;
    }
    /* recurse into the smaller half, loop on the larger one */
    if (j + 1 < n - j - 1) {
      quick(a, j + 1);
      a += j + 1;
      n -= j + 1;
    } else {
      quick(a + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  insertion(a, n);
}

static void merge_sort(uint32_t *a, uint32_t *tmp, long n) {
  for (long width = 1; width < n; width *= 2) {
    for (long lo = 0; lo < n; lo += 2 * width) {
      long mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      long i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    memcpy(a, tmp, (size_t)n * sizeof *a);
  }
}

static uint64_t digest(const uint32_t *a, long n) {
  uint64_t h = 0;
  for (long i = 0; i < n; i++) {
    if (i && a[i - 1] > a[i]) {
      fprintf(stderr, "not sorted at %ld\n", i);
      exit(1);
    }
    h = mix(h, a[i] ^ (uint64_t)i);
  }
  return h;
}

int main(int argc, char **argv) {
  long n = parse_size(argc, argv, "N (thousands of keys)") * 1000;
  uint32_t *a = xmalloc((size_t)n * sizeof *a), *b = xmalloc((size_t)n * sizeof *b), *tmp = xmalloc((size_t)n * sizeof *tmp);
  rng_seed(4);
  for (long i = 0; i < n; i++) a[i] = b[i] = (uint32_t)rng_next() % (uint32_t)(n * 4);
  quick(a, n);
  merge_sort(b, tmp, n);
  uint64_t h = mix(digest(a, n), digest(b, n));
  print_checksum("sort", n / 1000, h);
  free(a);
  free(b);
  free(tmp);
  return 0;
}
