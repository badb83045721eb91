/* Linked into a benchmark, prints its resource usage when it exits, as a report block on
 * stderr that the report command reads back as fields:
 *   [setup-report] begin rusage
 *   [setup-report] maxrss: 1234
 *   ...
 *   [setup-report] end rusage
 * The numbers are the process's own (getrusage(RUSAGE_SELF)), so they are right even when
 * the benchmark runs under a wrapper or a large parent. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>

static struct timeval rusage_counters_start;

__attribute__((constructor(101))) static void rusage_counters_begin(void) {
  gettimeofday(&rusage_counters_start, NULL);
}

static double seconds(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

__attribute__((destructor(101))) static void rusage_counters_end(void) {
  struct timeval now;
  struct rusage ru;
  gettimeofday(&now, NULL);
  if (getrusage(RUSAGE_SELF, &ru) != 0) return;
  fprintf(stderr,
          "[setup-report] begin rusage\n"
          "[setup-report] maxrss: %ld\n"
          "[setup-report] minflt: %ld\n"
          "[setup-report] majflt: %ld\n"
          "[setup-report] inblock: %ld\n"
          "[setup-report] oublock: %ld\n"
          "[setup-report] nvcsw: %ld\n"
          "[setup-report] nivcsw: %ld\n"
          "[setup-report] utime: %.6f\n"
          "[setup-report] stime: %.6f\n"
          "[setup-report] runtime: %.6f\n"
          "[setup-report] end rusage\n",
          ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt, ru.ru_inblock, ru.ru_oublock, ru.ru_nvcsw, ru.ru_nivcsw,
          seconds(ru.ru_utime), seconds(ru.ru_stime), seconds(now) - seconds(rusage_counters_start));
}
