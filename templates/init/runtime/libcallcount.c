/* Runtime library of the libcallcount pass: collects the counters each instrumented module
 * registers and prints them at exit, on stderr, as a report block the framework reads:
 *   [setup-report] begin libcallcount
 *   [setup-report] calls_puts: 3
 *   [setup-report] end libcallcount
 * NOINSTRUMENT (from the framework's runtime headers) marks our own functions, so passes
 * leave them alone even if the runtime were compiled with the plugin. */
#include <noinstrument.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counter {
  const char *name;
  uint64_t *count;
  struct counter *next;
};

static struct counter *counters;

void __libcallcount_register(const char *name, uint64_t *count) {
  struct counter *c = malloc(sizeof *c);
  if (!c) return;
  c->name = name;
  c->count = count;
  c->next = counters;
  counters = c;
}

static uint64_t NOINSTRUMENT(total)(const char *name) {
  uint64_t sum = 0;
  for (struct counter *c = counters; c; c = c->next)
    if (strcmp(c->name, name) == 0) sum += *c->count;
  return sum;
}

static int NOINSTRUMENT(first_of_name)(const struct counter *c) {
  for (const struct counter *o = counters; o != c; o = o->next)
    if (strcmp(o->name, c->name) == 0) return 0;
  return 1;
}

__attribute__((destructor)) static void NOINSTRUMENT(print_counts)(void) {
  fprintf(stderr, "[setup-report] begin libcallcount\n");
  for (struct counter *c = counters; c; c = c->next)
    if (NOINSTRUMENT(first_of_name)(c))
      fprintf(stderr, "[setup-report] calls_%s: %llu\n", c->name, (unsigned long long)NOINSTRUMENT(total)(c->name));
  fprintf(stderr, "[setup-report] end libcallcount\n");
}
