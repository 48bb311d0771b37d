/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/sys/atomic.h: atomic_t and the bit operations
 * the outbox worker uses (real signatures; upstream they are atomic, here plain declarations).
 */
#ifndef STUB_ZEPHYR_SYS_ATOMIC_H
#define STUB_ZEPHYR_SYS_ATOMIC_H
#include <stdbool.h>
typedef long atomic_t;
bool atomic_test_bit(const atomic_t *target, int bit);
bool atomic_test_and_clear_bit(atomic_t *target, int bit);
void atomic_set_bit(atomic_t *target, int bit);
void atomic_clear_bit(atomic_t *target, int bit);
#endif
