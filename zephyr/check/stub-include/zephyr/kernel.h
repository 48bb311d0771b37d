/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (headers named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Layouts are simplified (the real struct k_mutex has a wait queue
 * and tracing fields: its size is checked by the BUILD_ASSERT of a real build); nothing built with
 * this is run.
 */
/* include/zephyr/kernel.h, include/zephyr/kernel/obj_core.h, include/zephyr/sys/util.h,
 * include/zephyr/toolchain.h */
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
/* As include/zephyr/sys/util_macro.h: 1 for a macro defined as 1, 0 for one not defined. */
#define _XXXX1 _YYYY,
#define Z_IS_ENABLED3(ignore_this, val, ...) val
#define Z_IS_ENABLED2(one_or_two_args) Z_IS_ENABLED3(one_or_two_args 1, 0)
#define Z_IS_ENABLED1(config_macro) Z_IS_ENABLED2(_XXXX##config_macro)
#define IS_ENABLED(config_macro) Z_IS_ENABLED1(config_macro)

/* k_ticks_t is 32-bit unless CONFIG_TIMEOUT_64BIT. */
typedef struct { int32_t ticks; } k_timeout_t;
#define K_FOREVER ((k_timeout_t){ .ticks = -1 })

struct k_obj_core { void *node; void *type; };
#define K_OBJ_CORE(kobj) (&((kobj)->obj_core))
void k_obj_core_unlink(struct k_obj_core *obj_core);

struct k_mutex {
	void *wait_q[2];
	void *owner;
	uint32_t lock_count;
	int owner_orig_prio;
#if defined(CONFIG_OBJ_CORE_MUTEX)
	struct k_obj_core obj_core;
#endif
};
/* Upstream an iterable-section object; here a plain zero-initialised one. */
#define K_MUTEX_DEFINE(name) struct k_mutex name = { 0 }
int k_mutex_init(struct k_mutex *mutex);
int k_mutex_lock(struct k_mutex *mutex, k_timeout_t timeout);
int k_mutex_unlock(struct k_mutex *mutex);
bool k_is_in_isr(void);
int64_t k_uptime_get(void);
int32_t k_msleep(int32_t ms);
void k_panic_stub(void) __attribute__((noreturn));
#define k_panic() k_panic_stub()
/* include/zephyr/sys/util.h: CONTAINER_OF (upstream also checks the pointer's type in C). */
#define CONTAINER_OF(ptr, type, field) ((type *)(((char *)(ptr)) - offsetof(type, field)))

/* Timeouts (include/zephyr/sys_clock.h, reached through kernel.h). */
#define K_NO_WAIT ((k_timeout_t){ .ticks = 0 })
#define K_MSEC(ms) ((k_timeout_t){ .ticks = (int32_t)(ms) })

/* Thread stacks (include/zephyr/kernel/thread_stack.h): upstream aligned and sized per arch. */
typedef struct { char data; } k_thread_stack_t;
#define K_THREAD_STACK_DEFINE(sym, size) k_thread_stack_t sym[size]
#define K_THREAD_STACK_SIZEOF(sym) sizeof(sym)
#define K_KERNEL_STACK_DEFINE(sym, size) k_thread_stack_t sym[size]
#define K_KERNEL_STACK_SIZEOF(sym) sizeof(sym)

/* Work queues (include/zephyr/kernel.h, "Work Queue APIs"; layouts simplified: the real
 * k_work_delayable holds a struct _timeout with 64-bit ticks under CONFIG_TIMEOUT_64BIT). */
struct k_work;
typedef void (*k_work_handler_t)(struct k_work *work);
struct k_work {
	void *node;
	k_work_handler_t handler;
	struct k_work_q *queue;
	uint32_t flags;
};
struct k_work_delayable {
	struct k_work work;
	struct { void *node[2]; void *fn; int64_t dticks; } timeout;
	struct k_work_q *queue;
};
struct k_work_sync { void *opaque[8]; };
struct k_work_queue_config {
	const char *name;
	bool no_yield;
	bool essential;
	uint32_t work_timeout_ms;
};
struct k_work_q { void *opaque[16]; };
void k_work_queue_init(struct k_work_q *queue);
void k_work_queue_start(struct k_work_q *queue, k_thread_stack_t *stack, size_t stack_size, int prio,
			const struct k_work_queue_config *cfg);
void k_work_init_delayable(struct k_work_delayable *dwork, k_work_handler_t handler);
static inline struct k_work_delayable *k_work_delayable_from_work(struct k_work *work)
{
	return CONTAINER_OF(work, struct k_work_delayable, work);
}
int k_work_schedule_for_queue(struct k_work_q *queue, struct k_work_delayable *dwork, k_timeout_t delay);
int k_work_reschedule_for_queue(struct k_work_q *queue, struct k_work_delayable *dwork, k_timeout_t delay);
int k_work_cancel_delayable(struct k_work_delayable *dwork);
bool k_work_cancel_delayable_sync(struct k_work_delayable *dwork, struct k_work_sync *sync);

/* Semaphores (include/zephyr/kernel.h). */
struct k_sem { unsigned int count; unsigned int limit; };
#define K_SEM_DEFINE(name, initial_count, count_limit) \
	struct k_sem name = { .count = (initial_count), .limit = (count_limit) }
int k_sem_take(struct k_sem *sem, k_timeout_t timeout);
void k_sem_give(struct k_sem *sem);

int snprintk(char *str, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4))); /* include/zephyr/sys/printk.h */
#endif
