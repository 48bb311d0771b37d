/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/sys/fdtable.h */
#ifndef STUB_ZEPHYR_FDTABLE_H
#define STUB_ZEPHYR_FDTABLE_H
#define ZVFS_F_GETFL 3
#define ZVFS_F_SETFL 4
#define ZVFS_O_NONBLOCK 0x4000
#endif
