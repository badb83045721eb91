/* Allocates and walks many complete binary trees (malloc/free heavy, pointer chasing). */
#include "kernel.h"

typedef struct node {
  struct node *left, *right;
  uint32_t value;
} node;

static node *build(int depth, uint32_t *counter) {
  node *n = xmalloc(sizeof *n);
  n->value = (*counter)++;
  if (depth > 0) {
    n->left = build(depth - 1, counter);
    n->right = build(depth - 1, counter);
  } else {
    n->left = n->right = NULL;
  }
  return n;
}

static uint64_t walk(const node *n) {
  if (!n->left) return n->value;
  return mix(walk(n->left), walk(n->right)) + n->value;
}

static void release(node *n) {
  if (n->left) {
    release(n->left);
    release(n->right);
  }
  free(n);
}

int main(int argc, char **argv) {
  long max_depth = parse_size(argc, argv, "DEPTH (of the largest tree)");
  uint64_t h = 0;
  uint32_t counter = 0;
  node *long_lived = build((int)max_depth, &counter);
  for (long depth = 4; depth <= max_depth; depth += 2) {
    long iterations = 1L << (max_depth - depth + 4);
    for (long i = 0; i < iterations; i++) {
      node *t = build((int)depth, &counter);
      h = mix(h, walk(t));
      release(t);
    }
  }
  h = mix(h, walk(long_lived));
  release(long_lived);
  print_checksum("binarytrees", max_depth, h);
  return 0;
}
