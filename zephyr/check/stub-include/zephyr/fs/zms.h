/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * on the host. struct zms_fs has the public fields of upstream (the lookup cache left out);
 * nothing built with this is run.
 */
/* include/zephyr/fs/zms.h */
#ifndef STUB_ZEPHYR_FS_ZMS_H
#define STUB_ZEPHYR_FS_ZMS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zephyr/device.h>
#include <zephyr/drivers/flash.h>
#include <zephyr/kernel.h>

struct zms_fs {
	off_t offset;
	uint64_t ate_wra;
	uint64_t data_wra;
	uint32_t sector_size;
	uint32_t sector_count;
	uint8_t sector_cycle;
	bool ready;
	struct k_mutex zms_lock;
	const struct device *flash_device;
	const struct flash_parameters *flash_parameters;
	size_t ate_size;
};

#if defined(CONFIG_ZMS_ID_64BIT)
typedef uint64_t zms_id_t;
#else
typedef uint32_t zms_id_t;
#endif

int zms_mount(struct zms_fs *fs);
int zms_clear(struct zms_fs *fs);
ssize_t zms_write(struct zms_fs *fs, zms_id_t id, const void *data, size_t len);
int zms_delete(struct zms_fs *fs, zms_id_t id);
ssize_t zms_read(struct zms_fs *fs, zms_id_t id, void *data, size_t len);
ssize_t zms_get_data_length(struct zms_fs *fs, zms_id_t id);

#endif
