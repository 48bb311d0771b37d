/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/random/random.h */
#ifndef STUB_ZEPHYR_RANDOM_H
#define STUB_ZEPHYR_RANDOM_H
#include <stdint.h>
#include <stddef.h>
uint32_t sys_rand32_get(void);
void sys_rand_get(void *dst, size_t len);
int sys_csrand_get(void *dst, size_t len);
#endif
