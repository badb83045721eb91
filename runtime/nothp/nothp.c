/* nothp COMMAND [ARG...]: runs COMMAND with transparent huge pages disabled
 * (prctl(PR_SET_THP_DISABLE), inherited by all its children). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: nothp COMMAND [ARG...]\n");
    return 2;
  }
  if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "nothp: prctl(PR_SET_THP_DISABLE): %s\n", strerror(errno));
    return 126;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "nothp: cannot run %s: %s\n", argv[1], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
