#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1;
  for (int i = 0; i < n; i++)
    puts("hello, world");
  char *text = malloc(32);
  snprintf(text, 32, "%d greetings", n);
  printf("%s\n", text);
  free(text);
  return 0;
}
