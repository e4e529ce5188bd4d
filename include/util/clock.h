#ifndef VB_UTIL_CLOCK_H
#define VB_UTIL_CLOCK_H

/*
 * Milliseconds of CLOCK_MONOTONIC: for deadlines, timeouts and leases,
 * never for wall-clock time. Thread-safe; no allocation.
 */
long long clock_mono_ms(void);

#endif
