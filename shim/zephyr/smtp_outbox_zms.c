/*
 * The outbox's storage on Zephyr (smtp_shim.h, "Outbox storage"): ZMS (Zephyr Memory Storage) on
 * the devicetree fixed partition labelled zsmtp_outbox_partition, as Zephyr's own storage users
 * name theirs (storage_partition for settings). Compiled with CONFIG_SMTP_CLIENT_OUTBOX_ZMS.
 *
 * A record is one ZMS entry, its id the outbox's 16-bit key (ZMS ids are 32-bit, or 64-bit with
 * CONFIG_ZMS_ID_64BIT; the outbox's keys start at 0x0100, so an application that shares the
 * partition keeps its own ids below that). ZMS writes an entry's data first and its allocation
 * table entry (with a CRC-8) last: the entry exists only once that ATE is whole, so a write or a
 * delete is atomic per id, which is what the outbox's recovery rests on.
 *
 * The largest entry ZMS takes is a sector less five ATEs (one for the data, and the sector's
 * close, empty, garbage-collection-done and reserved-delete ATEs), and at most 65535 bytes
 * (zms_write() refuses longer ones with -EINVAL): smtp_shim_outbox_record_size() reports it.
 *
 * The claim (smtp_shim_outbox_claim/release/owner: one outbox owns the storage) is kept under the
 * same lock as the records.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/device.h>
#include <zephyr/drivers/flash.h>
#include <zephyr/fs/zms.h>
#include <zephyr/kernel.h>
#include <zephyr/storage/flash_map.h>

#include "smtp_shim.h"

#define SMTP_OUTBOX_PARTITION zsmtp_outbox_partition

/* Zephyr 4.4 deprecated the FIXED_PARTITION_* macros for PARTITION_*, which also see
 * zephyr,mapped-partition nodes (4.4 migration guide, "Flash map"; PRs 104398, 105746): the new
 * names where they exist, so that no build warns (twister builds with warnings as errors). */
#if defined(PARTITION_EXISTS)
#define SMTP_OUTBOX_PARTITION_EXISTS(label) PARTITION_EXISTS(label)
#define SMTP_OUTBOX_PARTITION_DEVICE(label) PARTITION_DEVICE(label)
#define SMTP_OUTBOX_PARTITION_OFFSET(label) PARTITION_OFFSET(label)
#define SMTP_OUTBOX_PARTITION_SIZE(label)   PARTITION_SIZE(label)
#else
#define SMTP_OUTBOX_PARTITION_EXISTS(label) FIXED_PARTITION_EXISTS(label)
#define SMTP_OUTBOX_PARTITION_DEVICE(label) FIXED_PARTITION_DEVICE(label)
#define SMTP_OUTBOX_PARTITION_OFFSET(label) FIXED_PARTITION_OFFSET(label)
#define SMTP_OUTBOX_PARTITION_SIZE(label)   FIXED_PARTITION_SIZE(label)
#endif

BUILD_ASSERT(SMTP_OUTBOX_PARTITION_EXISTS(SMTP_OUTBOX_PARTITION),
	     "CONFIG_SMTP_CLIENT_OUTBOX_ZMS needs a fixed partition labelled zsmtp_outbox_partition "
	     "in the devicetree (README.md, section Outbox), or choose "
	     "CONFIG_SMTP_CLIENT_OUTBOX_RAM");

/* ZMS needs at least two sectors: one is always kept free for garbage collection. */
#define SMTP_OUTBOX_MIN_SECTORS 2U

static struct zms_fs smtp_outbox_fs;
static int smtp_outbox_record_max; /* 0 until mounted */
static void *smtp_outbox_owner;   /* the outbox that claimed the storage, NULL: none */
/* Every call holds it: ZMS's reads take no lock of their own and its no-double-write check runs
 * before ZMS locks, so a read during another thread's garbage collection could miss a live
 * record. */
K_MUTEX_DEFINE(smtp_outbox_lock);

static int smtp_outbox_mount(void)
{
	struct flash_pages_info page;
	int rc;

	smtp_outbox_fs.flash_device = SMTP_OUTBOX_PARTITION_DEVICE(SMTP_OUTBOX_PARTITION);
	if (!device_is_ready(smtp_outbox_fs.flash_device)) {
		return -ENODEV;
	}
	smtp_outbox_fs.offset = SMTP_OUTBOX_PARTITION_OFFSET(SMTP_OUTBOX_PARTITION);
	/* A ZMS sector is one flash page (erase unit), as in Zephyr's ZMS sample. */
	rc = flash_get_page_info_by_offs(smtp_outbox_fs.flash_device, smtp_outbox_fs.offset, &page);
	if (rc != 0) {
		return rc;
	}
	if (page.size == 0U || (uint64_t)page.size > UINT32_MAX) {
		return -EINVAL;
	}
	smtp_outbox_fs.sector_size = (uint32_t)page.size;
	smtp_outbox_fs.sector_count =
		(uint32_t)(SMTP_OUTBOX_PARTITION_SIZE(SMTP_OUTBOX_PARTITION) / page.size);
	if (smtp_outbox_fs.sector_count < SMTP_OUTBOX_MIN_SECTORS) {
		return -EINVAL;
	}
	rc = zms_mount(&smtp_outbox_fs);
	if (rc != 0) {
		return rc;
	}
	/* zms_mount() has set ate_size (an ATE rounded up to the flash's write block). */
	size_t entry_max = smtp_outbox_fs.sector_size - 5U * smtp_outbox_fs.ate_size;

	smtp_outbox_record_max = (int)MIN(entry_max, (size_t)UINT16_MAX);
	return 0;
}

int smtp_shim_outbox_open(void)
{
	int rc = 0;

	k_mutex_lock(&smtp_outbox_lock, K_FOREVER);
	if (smtp_outbox_record_max == 0) {
		rc = smtp_outbox_mount();
	}
	k_mutex_unlock(&smtp_outbox_lock);
	return rc;
}

int smtp_shim_outbox_record_size(void)
{
	return smtp_outbox_record_max > 0 ? smtp_outbox_record_max : -EACCES;
}

static int smtp_outbox_read_locked(uint16_t key, uint8_t *buf, size_t len)
{
	ssize_t stored;
	ssize_t rc;

	if (smtp_outbox_record_max == 0) {
		return -EACCES;
	}
	/* zms_read() returns what it copied, not the entry's length: ask for the length first. */
	stored = zms_get_data_length(&smtp_outbox_fs, key);
	if (stored == -ENOENT || stored == 0) {
		return 0; /* no such record (a zero-length entry is a deleted one in ZMS) */
	}
	if (stored < 0) {
		return (int)stored;
	}
	if (len > 0U) {
		rc = zms_read(&smtp_outbox_fs, key, buf, MIN(len, (size_t)stored));
		if (rc < 0) {
			return (int)rc;
		}
	}
	return (int)stored;
}

static int smtp_outbox_write_locked(uint16_t key, const uint8_t *data, size_t len)
{
	ssize_t rc;

	if (smtp_outbox_record_max == 0) {
		return -EACCES;
	}
	/* An empty write would be a delete in ZMS; a longer one ZMS refuses itself. */
	if (len == 0U || len > (size_t)smtp_outbox_record_max) {
		return -EINVAL;
	}
	rc = zms_write(&smtp_outbox_fs, key, data, len);
	/* len, or 0 when the same data was already stored (CONFIG_ZMS_NO_DOUBLE_WRITE). */
	return rc < 0 ? (int)rc : 0;
}

static int smtp_outbox_delete_locked(uint16_t key)
{
	if (smtp_outbox_record_max == 0) {
		return -EACCES;
	}
	return zms_delete(&smtp_outbox_fs, key);
}

int smtp_shim_outbox_read(uint16_t key, uint8_t *buf, size_t len)
{
	k_mutex_lock(&smtp_outbox_lock, K_FOREVER);
	int rc = smtp_outbox_read_locked(key, buf, len);

	k_mutex_unlock(&smtp_outbox_lock);
	return rc;
}

int smtp_shim_outbox_write(uint16_t key, const uint8_t *data, size_t len)
{
	k_mutex_lock(&smtp_outbox_lock, K_FOREVER);
	int rc = smtp_outbox_write_locked(key, data, len);

	k_mutex_unlock(&smtp_outbox_lock);
	return rc;
}

int smtp_shim_outbox_delete(uint16_t key)
{
	k_mutex_lock(&smtp_outbox_lock, K_FOREVER);
	int rc = smtp_outbox_delete_locked(key);

	k_mutex_unlock(&smtp_outbox_lock);
	return rc;
}

int smtp_shim_outbox_claim(void *owner)
{
	int rc = 0;

	if (owner == NULL) {
		return -EINVAL;
	}
	k_mutex_lock(&smtp_outbox_lock, K_FOREVER);
	if (smtp_outbox_owner == NULL) {
		smtp_outbox_owner = owner;
	} else if (smtp_outbox_owner != owner) {
		rc = -EBUSY;
	}
	k_mutex_unlock(&smtp_outbox_lock);
	return rc;
}

void smtp_shim_outbox_release(void *owner)
{
	k_mutex_lock(&smtp_outbox_lock, K_FOREVER);
	if (owner != NULL && smtp_outbox_owner == owner) {
		smtp_outbox_owner = NULL;
	}
	k_mutex_unlock(&smtp_outbox_lock);
}

void *smtp_shim_outbox_owner(void)
{
	k_mutex_lock(&smtp_outbox_lock, K_FOREVER);
	void *owner = smtp_outbox_owner;

	k_mutex_unlock(&smtp_outbox_lock);
	return owner;
}
