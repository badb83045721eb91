/*
 * Allocation-heavy linked structure: a doubly linked list of variably sized nodes that is
 * grown, walked, spliced and trimmed at random positions (many short-lived mallocs and frees).
 */
#include <string.h>
#include "kernel.h"

typedef struct item {
  struct item *prev, *next;
  uint32_t len;
  unsigned char payload[];
} item;

static item *make_item(uint32_t len, uint64_t seed) {
  item *it = xmalloc(sizeof *it + len);
  it->len = len;
  for (uint32_t i = 0; i < len; i++) it->payload[i] = (unsigned char)(seed >> (i % 8 * 8));
  return it;
}

int main(int argc, char **argv) {
  long n = parse_size(argc, argv, "N (thousands of operations)");
  long ops = n * 1000, count = 0;
  item head = {&head, &head, 0};
  item *cursor = &head;
  uint64_t h = 0;
  rng_seed(6);
  for (long op = 0; op < ops; op++) {
    uint64_t r = rng_next();
    long steps = (long)(r >> 56) % 8; /* move the cursor a little, so work stays local */
    for (long s = 0; s < steps; s++) cursor = (r & 1) ? cursor->next : cursor->prev;
    if (count < 64 || (r >> 8) % 3 != 0) {
      /* insert after the cursor: sizes from 8 to ~1 KiB, mostly small */
      uint32_t len = 8u + (uint32_t)((r >> 16) % ((r >> 40) % 4 == 0 ? 1024 : 64));
      item *it = make_item(len, r);
      it->prev = cursor;
      it->next = cursor->next;
      cursor->next->prev = it;
      cursor->next = it;
      count++;
    } else if (cursor != &head) {
      item *dead = cursor;
      h = mix(h, dead->len ^ dead->payload[dead->len / 2]);
      dead->prev->next = dead->next;
      dead->next->prev = dead->prev;
      cursor = dead->next;
      free(dead);
      count--;
    }
    if (op % 65536 == 65535) {
      /* occasionally walk the whole list, then trim it by half */
      uint64_t sum = 0;
      for (item *it = head.next; it != &head; it = it->next) sum += it->payload[0] + it->len;
      h = mix(h, sum);
      for (long k = count / 2; k > 0; k--) {
        item *dead = head.next;
        head.next = dead->next;
        dead->next->prev = &head;
        free(dead);
        count--;
      }
      cursor = &head;
    }
  }
  h = mix(h, (uint64_t)count);
  while (head.next != &head) {
    item *dead = head.next;
    head.next = dead->next;
    free(dead);
  }
  print_checksum("alloclist", n, h);
  return 0;
}
