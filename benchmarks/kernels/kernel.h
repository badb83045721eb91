/*
 * Shared helpers of the bundled kernels: a seeded PRNG, size parsing and the checksum line.
 * Everything is unsigned integer arithmetic, so every compiler and optimisation level (and
 * every sanitizer) computes the same checksum.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* xorshift64*: small, fast and identical everywhere. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static inline void rng_seed(uint64_t seed) { rng_state = seed ? seed : 0x9E3779B97F4A7C15ull; }

static inline uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Mixes a value into a running checksum (order-sensitive). */
static inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h;
}

static long parse_size(int argc, char **argv, const char *usage) {
  char *end;
  long n;
  if (argc != 2) {
    fprintf(stderr, "usage: %s %s\n", argv[0], usage);
    exit(2);
  }
  n = strtol(argv[1], &end, 10);
  if (*end != '\0' || n <= 0) {
    fprintf(stderr, "%s: size must be a positive integer, got '%s'\n", argv[0], argv[1]);
    exit(2);
  }
  return n;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) {
    fprintf(stderr, "out of memory (%zu bytes)\n", n);
    exit(3);
  }
  return p;
}

static void print_checksum(const char *kernel, long size, uint64_t h) {
  printf("%s size=%ld checksum=%016llx\n", kernel, size, (unsigned long long)h);
}

#endif
