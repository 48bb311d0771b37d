/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/sys/clock.h (since 4.2): sys_clock_gettime() and
 * the clock ids, as upstream; struct timespec comes from <time.h>.
 */
#ifndef STUB_ZEPHYR_SYS_CLOCK_H
#define STUB_ZEPHYR_SYS_CLOCK_H
struct timespec;
#define SYS_CLOCK_REALTIME 1
#define SYS_CLOCK_MONOTONIC 4
int sys_clock_gettime(int clock_id, struct timespec *tp);
#endif
