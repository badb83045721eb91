/* Dense N x N matrix multiplication on 32-bit unsigned integers (wrapping arithmetic). */
#include "kernel.h"

int main(int argc, char **argv) {
  long n = parse_size(argc, argv, "N (matrix dimension)");
  size_t cells = (size_t)n * (size_t)n;
  uint32_t *a = xmalloc(cells * sizeof *a), *b = xmalloc(cells * sizeof *b), *c = xmalloc(cells * sizeof *c);
  uint64_t h = 0;
  rng_seed(1);
  for (size_t i = 0; i < cells; i++) {
    a[i] = (uint32_t)rng_next();
    b[i] = (uint32_t)rng_next();
    c[i] = 0;
  }
  /* i-k-j order: the inner loop walks rows of b and c contiguously */
  for (long i = 0; i < n; i++)
    for (long k = 0; k < n; k++) {
      uint32_t aik = a[i * n + k];
      uint32_t *crow = c + i * n;
      const uint32_t *brow = b + k * n;
      for (long j = 0; j < n; j++) crow[j] += aik * brow[j];
    }
  for (size_t i = 0; i < cells; i++) h = mix(h, c[i]);
  print_checksum("matmul", n, h);
  free(a);
  free(b);
  free(c);
  return 0;
}
