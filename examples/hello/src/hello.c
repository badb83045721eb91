/* The example program: greets N times and prints how many greetings the runtime counted. */
#include <stdio.h>
#include <stdlib.h>
#include "greet.h"

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3;
    for (int i = 0; i < n; i++) greet("world");
    printf("[setup-report] begin hello\n[setup-report] greetings: %lu\n[setup-report] end hello\n", greet_count());
    return 0;
}
