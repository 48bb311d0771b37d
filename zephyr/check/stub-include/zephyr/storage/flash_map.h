/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the names of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * on the host. Upstream the PARTITION_* macros (4.4 and later; FIXED_PARTITION_* before, now
 * deprecated) read the devicetree (DT_NODELABEL, DT_REG_ADDR, DT_REG_SIZE, DEVICE_DT_GET); here
 * they stand for a partition that exists, so an undefined label is not caught here but by a real
 * build. Only the 4.4 names: a use of the deprecated ones does not compile here. Nothing built
 * with this is run.
 */
/* include/zephyr/storage/flash_map.h */
#ifndef STUB_ZEPHYR_STORAGE_FLASH_MAP_H
#define STUB_ZEPHYR_STORAGE_FLASH_MAP_H
#include <stddef.h>
#include <sys/types.h>
#include <zephyr/device.h>

const struct device *stub_fixed_partition_device(void);

#define PARTITION_EXISTS(label) 1
#define PARTITION_DEVICE(label) stub_fixed_partition_device()
#define PARTITION_OFFSET(label) ((off_t)0x00100000)
#define PARTITION_SIZE(label) ((size_t)0x8000)

#endif
