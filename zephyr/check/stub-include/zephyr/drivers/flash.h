/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * on the host. Upstream, flash_get_page_info_by_offs() is a __syscall and exists only with
 * CONFIG_FLASH_PAGE_LAYOUT; nothing built with this is run.
 */
/* include/zephyr/drivers/flash.h */
#ifndef STUB_ZEPHYR_DRIVERS_FLASH_H
#define STUB_ZEPHYR_DRIVERS_FLASH_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zephyr/device.h>

struct flash_parameters;

#if defined(CONFIG_FLASH_PAGE_LAYOUT)
struct flash_pages_info {
	off_t start_offset; /* offset from the base of flash address */
	size_t size;
	uint32_t index;
};

int flash_get_page_info_by_offs(const struct device *dev, off_t offset, struct flash_pages_info *info);
#endif

#endif
