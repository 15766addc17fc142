/* Monotonic wall-clock time in seconds, for durations. */
#ifndef CLT_RUNTIME_CLOCK_H
#define CLT_RUNTIME_CLOCK_H

#include <time.h>

static inline double clt_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
