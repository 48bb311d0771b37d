/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/sys/util.h: MIN, MAX, ARRAY_SIZE, IS_ENABLED,
 * ARG_UNUSED (defined by the kernel.h stub, as Zephyr's kernel.h pulls util.h in).
 */
#ifndef STUB_ZEPHYR_SYS_UTIL_H
#define STUB_ZEPHYR_SYS_UTIL_H
#include <zephyr/kernel.h>
#endif
