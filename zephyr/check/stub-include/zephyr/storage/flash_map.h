/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the names of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * on the host. Upstream the FIXED_PARTITION_* macros read the devicetree (DT_NODELABEL,
 * DT_REG_ADDR, DT_REG_SIZE, DEVICE_DT_GET); here they stand for a partition that exists, so an
 * undefined label is not caught here but by a real build. Nothing built with this is run.
 */
/* include/zephyr/storage/flash_map.h */
#ifndef STUB_ZEPHYR_STORAGE_FLASH_MAP_H
#define STUB_ZEPHYR_STORAGE_FLASH_MAP_H
#include <stddef.h>
#include <sys/types.h>
#include <zephyr/device.h>

const struct device *stub_fixed_partition_device(void);

#define FIXED_PARTITION_EXISTS(label) 1
#define FIXED_PARTITION_DEVICE(label) stub_fixed_partition_device()
#define FIXED_PARTITION_OFFSET(label) ((off_t)0x000f8000)
#define FIXED_PARTITION_SIZE(label) ((size_t)0x8000)

#endif
