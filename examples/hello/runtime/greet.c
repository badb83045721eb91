/* A tiny runtime library: the kind of support code an instrumentation links into programs. */
#include <stdio.h>
#include "greet.h"

static unsigned long greetings;

void greet(const char *who) {
    greetings++;
    printf("hello, %s\n", who);
}

unsigned long greet_count(void) { return greetings; }
