/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr v4.3
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files and
 * the C sample on the host. Values are placeholders; nothing built with this is run.
 */
/* include/zephyr/kernel.h, include/zephyr/sys/util.h, include/zephyr/toolchain.h */
#ifndef STUB_ZEPHYR_KERNEL_H
#define STUB_ZEPHYR_KERNEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARG_UNUSED(x) (void)(x)
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BUILD_ASSERT(cond, msg) _Static_assert(cond, msg)
#define STUB_IS_ENABLED_1 1
#define STUB_IS_ENABLED_ 0
#define STUB_IS_ENABLED_CAT(x) STUB_IS_ENABLED_##x
#define STUB_IS_ENABLED(x) STUB_IS_ENABLED_CAT(x)
#define IS_ENABLED(config) STUB_IS_ENABLED(config)

typedef struct { int64_t ticks; } k_timeout_t;
#define K_FOREVER ((k_timeout_t){ .ticks = -1 })

struct k_mutex { void *wait_q[2]; void *owner; uint32_t lock_count; int owner_orig_prio; };
#define K_MUTEX_DEFINE(name) struct k_mutex name = { { 0, 0 }, 0, 0, 0 }
int k_mutex_init(struct k_mutex *mutex);
int k_mutex_lock(struct k_mutex *mutex, k_timeout_t timeout);
int k_mutex_unlock(struct k_mutex *mutex);
bool k_is_in_isr(void);
int64_t k_uptime_get(void);
void k_panic_stub(void) __attribute__((noreturn));
#define k_panic() k_panic_stub()
int snprintk(char *str, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4))); /* include/zephyr/sys/printk.h */
#endif
