/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/sys/printk.h */
#ifndef STUB_ZEPHYR_PRINTK_H
#define STUB_ZEPHYR_PRINTK_H
#include <stddef.h>
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintk(char *str, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
