/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * on the host. The real struct device has more fields; nothing built with this is run.
 */
/* include/zephyr/device.h */
#ifndef STUB_ZEPHYR_DEVICE_H
#define STUB_ZEPHYR_DEVICE_H
#include <stdbool.h>

struct device {
	const char *name;
};

bool device_is_ready(const struct device *dev);

#endif
