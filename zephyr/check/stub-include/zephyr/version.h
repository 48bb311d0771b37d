/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/version.h as a Zephyr build generates it
 * (version.h.in, cmake/modules/version.cmake): ZEPHYR_VERSION_CODE and ZEPHYR_VERSION(a,b,c),
 * here for 4.5.0 unless STUB_ZEPHYR_VERSION_CODE names another release (check-zephyr compiles
 * the outbox worker as 3.7 too: the net_mgmt stub then has the 32-bit events of before 4.2).
 */
#ifndef STUB_ZEPHYR_VERSION_H
#define STUB_ZEPHYR_VERSION_H
#define ZEPHYR_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))
#ifdef STUB_ZEPHYR_VERSION_CODE
#define ZEPHYR_VERSION_CODE STUB_ZEPHYR_VERSION_CODE
#else
#define ZEPHYR_VERSION_CODE ZEPHYR_VERSION(4, 5, 0)
#endif
#endif
