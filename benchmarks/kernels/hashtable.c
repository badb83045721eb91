/* Open-addressing hash table (linear probing, tombstones): inserts, lookups, deletes, regrowth. */
#include "kernel.h"

typedef struct {
  uint64_t *keys;
  uint64_t *values;
  unsigned char *state; /* 0 empty, 1 full, 2 deleted */
  size_t cap, used, live;
} table;

static uint64_t hash64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

static void table_init(table *t, size_t cap) {
  t->cap = cap;
  t->used = t->live = 0;
  t->keys = xmalloc(cap * sizeof *t->keys);
  t->values = xmalloc(cap * sizeof *t->values);
  t->state = calloc(cap, 1);
  if (!t->state) exit(3);
}

static void table_free(table *t) {
  free(t->keys);
  free(t->values);
  free(t->state);
}

static void table_put(table *t, uint64_t key, uint64_t value);

static void table_grow(table *t) {
  table old = *t;
  table_init(t, old.cap * 2);
  for (size_t i = 0; i < old.cap; i++)
    if (old.state[i] == 1) table_put(t, old.keys[i], old.values[i]);
  table_free(&old);
}

static void table_put(table *t, uint64_t key, uint64_t value) {
  if ((t->used + 1) * 4 > t->cap * 3) table_grow(t);
  size_t mask = t->cap - 1, i = hash64(key) & mask, tomb = (size_t)-1;
  while (t->state[i] != 0) {
    if (t->state[i] == 1 && t->keys[i] == key) {
      t->values[i] = value;
      return;
    }
    if (t->state[i] == 2 && tomb == (size_t)-1) tomb = i;
    i = (i + 1) & mask;
  }
  if (tomb != (size_t)-1) i = tomb;
  else t->used++;
  t->state[i] = 1;
  t->keys[i] = key;
  t->values[i] = value;
  t->live++;
}

static int table_get(const table *t, uint64_t key, uint64_t *value) {
  size_t mask = t->cap - 1, i = hash64(key) & mask;
  while (t->state[i] != 0) {
    if (t->state[i] == 1 && t->keys[i] == key) {
      *value = t->values[i];
      return 1;
    }
    i = (i + 1) & mask;
  }
  return 0;
}

static int table_del(table *t, uint64_t key) {
  size_t mask = t->cap - 1, i = hash64(key) & mask;
  while (t->state[i] != 0) {
    if (t->state[i] == 1 && t->keys[i] == key) {
      t->state[i] = 2;
      t->live--;
      return 1;
    }
    i = (i + 1) & mask;
  }
  return 0;
}

int main(int argc, char **argv) {
  long n = parse_size(argc, argv, "N (thousands of operations)");
  long ops = n * 1000;
  uint64_t h = 0, v;
  table t;
  table_init(&t, 1024);
  rng_seed(2);
  for (long round = 0; round < 4; round++) {
    /* keys from a range about the table's size, so lookups hit and miss */
    uint64_t range = (uint64_t)ops / 2 + 1;
    for (long i = 0; i < ops; i++) {
      uint64_t r = rng_next(), key = r % range;
      switch ((r >> 60) & 3) {
      case 0:
      case 1: table_put(&t, key, r ^ (uint64_t)round); break;
      case 2: h = mix(h, table_get(&t, key, &v) ? v : 1); break;
      default: h = mix(h, (uint64_t)table_del(&t, key)); break;
      }
    }
    h = mix(h, t.live);
  }
  print_checksum("hashtable", n, h);
  table_free(&t);
  return 0;
}
