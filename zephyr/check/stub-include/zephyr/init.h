/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/init.h: SYS_INIT(init_fn, level, prio) with int init_fn(void) */
#ifndef STUB_ZEPHYR_INIT_H
#define STUB_ZEPHYR_INIT_H
#define SYS_INIT(fn, level, prio) int (*const stub_sys_init_##fn)(void) = fn
#endif
