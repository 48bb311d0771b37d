/*
 * The outbox's storage in RAM (smtp_shim.h, "Outbox storage"): records survive network outages,
 * not reboots. On Zephyr with CONFIG_SMTP_CLIENT_OUTBOX_RAM (boards without a flash partition for
 * ZMS); portable C, so that the host tests run the same code (tests/c/outbox_ram.c).
 *
 * One static arena of CONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE bytes holds the records back to back,
 * each a header (key, length) and its bytes; a record is at most
 * CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX bytes. A write checks for room first, then removes the
 * record it replaces and appends the new one, all under one lock: another thread sees the old
 * record or the new one, never a part, and a write that does not fit (-ENOSPC) changes nothing.
 * The arena is the module's, not a client's: like the flash partition it stands for, there is one
 * storage per image, owned by one outbox at a time (smtp_shim_outbox_claim).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_shim.h"

#ifndef CONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE
#define CONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE 16384
#endif
#ifndef CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX
#define CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX 512
#endif

/* A record's header in the arena: its key and its length (1 to record size), unaligned. */
#define SMTP_OUTBOX_RAM_HEADER 4U

_Static_assert(CONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE >= SMTP_OUTBOX_RAM_HEADER + 64,
	       "CONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE is too small for one record");

#if defined(__ZEPHYR__)
#include <zephyr/kernel.h>
K_MUTEX_DEFINE(smtp_outbox_ram_mutex);
static void smtp_outbox_ram_lock(void)
{
	k_mutex_lock(&smtp_outbox_ram_mutex, K_FOREVER);
}
static void smtp_outbox_ram_unlock(void)
{
	k_mutex_unlock(&smtp_outbox_ram_mutex);
}
#else
#include <pthread.h>
static pthread_mutex_t smtp_outbox_ram_mutex = PTHREAD_MUTEX_INITIALIZER;
static void smtp_outbox_ram_lock(void)
{
	(void)pthread_mutex_lock(&smtp_outbox_ram_mutex);
}
static void smtp_outbox_ram_unlock(void)
{
	(void)pthread_mutex_unlock(&smtp_outbox_ram_mutex);
}
#endif

static uint8_t smtp_outbox_ram[CONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE];
static size_t smtp_outbox_ram_used; /* bytes of the arena in use, from its start */
static bool smtp_outbox_ram_open;
static void *smtp_outbox_ram_owner;

/* The largest record: the Kconfig limit, within the arena and the 16-bit length. */
static size_t smtp_outbox_ram_record_max(void)
{
	size_t max = CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX;

	if (max > sizeof(smtp_outbox_ram) - SMTP_OUTBOX_RAM_HEADER) {
		max = sizeof(smtp_outbox_ram) - SMTP_OUTBOX_RAM_HEADER;
	}
	return max > UINT16_MAX ? UINT16_MAX : max;
}

static uint16_t smtp_outbox_ram_u16(size_t at)
{
	return (uint16_t)(smtp_outbox_ram[at] | (smtp_outbox_ram[at + 1U] << 8));
}

/* The offset of record `key`'s header, or -1 when there is none. Called with the lock held. */
static long smtp_outbox_ram_find(uint16_t key)
{
	size_t at = 0;

	while (at < smtp_outbox_ram_used) {
		if (smtp_outbox_ram_u16(at) == key) {
			return (long)at;
		}
		at += SMTP_OUTBOX_RAM_HEADER + smtp_outbox_ram_u16(at + 2U);
	}
	return -1;
}

/* Removes the record at `at` and closes the gap. Called with the lock held. */
static void smtp_outbox_ram_remove(size_t at)
{
	size_t size = SMTP_OUTBOX_RAM_HEADER + smtp_outbox_ram_u16(at + 2U);

	memmove(&smtp_outbox_ram[at], &smtp_outbox_ram[at + size], smtp_outbox_ram_used - at - size);
	smtp_outbox_ram_used -= size;
}

int smtp_shim_outbox_open(void)
{
	smtp_outbox_ram_lock();
	smtp_outbox_ram_open = true;
	smtp_outbox_ram_unlock();
	return 0;
}

int smtp_shim_outbox_record_size(void)
{
	smtp_outbox_ram_lock();
	bool open = smtp_outbox_ram_open;

	smtp_outbox_ram_unlock();
	return open ? (int)smtp_outbox_ram_record_max() : -EACCES;
}

int smtp_shim_outbox_read(uint16_t key, uint8_t *buf, size_t len)
{
	int rc = 0;
	long at;

	smtp_outbox_ram_lock();
	if (!smtp_outbox_ram_open) {
		rc = -EACCES;
	} else if ((at = smtp_outbox_ram_find(key)) >= 0) {
		size_t stored = smtp_outbox_ram_u16((size_t)at + 2U);

		if (len > 0U) {
			memcpy(buf, &smtp_outbox_ram[(size_t)at + SMTP_OUTBOX_RAM_HEADER],
			       stored < len ? stored : len);
		}
		rc = (int)stored;
	}
	smtp_outbox_ram_unlock();
	return rc;
}

int smtp_shim_outbox_write(uint16_t key, const uint8_t *data, size_t len)
{
	int rc = 0;
	long at;
	size_t free_after;

	if (len == 0U || len > smtp_outbox_ram_record_max() || data == NULL) {
		return -EINVAL;
	}
	smtp_outbox_ram_lock();
	if (!smtp_outbox_ram_open) {
		rc = -EACCES;
		goto out;
	}
	at = smtp_outbox_ram_find(key);
	/* Room once the record it replaces is gone; nothing changes when it does not fit. */
	free_after = sizeof(smtp_outbox_ram) - smtp_outbox_ram_used;
	if (at >= 0) {
		free_after += SMTP_OUTBOX_RAM_HEADER + smtp_outbox_ram_u16((size_t)at + 2U);
	}
	if (SMTP_OUTBOX_RAM_HEADER + len > free_after) {
		rc = -ENOSPC;
		goto out;
	}
	if (at >= 0) {
		smtp_outbox_ram_remove((size_t)at);
	}
	smtp_outbox_ram[smtp_outbox_ram_used] = (uint8_t)key;
	smtp_outbox_ram[smtp_outbox_ram_used + 1U] = (uint8_t)(key >> 8);
	smtp_outbox_ram[smtp_outbox_ram_used + 2U] = (uint8_t)len;
	smtp_outbox_ram[smtp_outbox_ram_used + 3U] = (uint8_t)(len >> 8);
	memcpy(&smtp_outbox_ram[smtp_outbox_ram_used + SMTP_OUTBOX_RAM_HEADER], data, len);
	smtp_outbox_ram_used += SMTP_OUTBOX_RAM_HEADER + len;
out:
	smtp_outbox_ram_unlock();
	return rc;
}

int smtp_shim_outbox_delete(uint16_t key)
{
	int rc = 0;
	long at;

	smtp_outbox_ram_lock();
	if (!smtp_outbox_ram_open) {
		rc = -EACCES;
	} else if ((at = smtp_outbox_ram_find(key)) >= 0) {
		smtp_outbox_ram_remove((size_t)at);
	}
	smtp_outbox_ram_unlock();
	return rc;
}

int smtp_shim_outbox_claim(void *owner)
{
	int rc = 0;

	if (owner == NULL) {
		return -EINVAL;
	}
	smtp_outbox_ram_lock();
	if (smtp_outbox_ram_owner == NULL) {
		smtp_outbox_ram_owner = owner;
	} else if (smtp_outbox_ram_owner != owner) {
		rc = -EBUSY;
	}
	smtp_outbox_ram_unlock();
	return rc;
}

void smtp_shim_outbox_release(void *owner)
{
	smtp_outbox_ram_lock();
	if (owner != NULL && smtp_outbox_ram_owner == owner) {
		smtp_outbox_ram_owner = NULL;
	}
	smtp_outbox_ram_unlock();
}

void *smtp_shim_outbox_owner(void)
{
	smtp_outbox_ram_lock();
	void *owner = smtp_outbox_ram_owner;

	smtp_outbox_ram_unlock();
	return owner;
}
