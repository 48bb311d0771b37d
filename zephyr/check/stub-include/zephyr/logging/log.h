/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/logging/log.h, include/zephyr/logging/log_core.h */
#ifndef STUB_ZEPHYR_LOG_H
#define STUB_ZEPHYR_LOG_H
#include <stdint.h>
#define LOG_LEVEL_NONE 0U
#define LOG_LEVEL_ERR 1U
#define LOG_LEVEL_WRN 2U
#define LOG_LEVEL_INF 3U
#define LOG_LEVEL_DBG 4U
void stub_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_MODULE_REGISTER(name, level) extern int stub_log_module_##name
#define LOG_MODULE_DECLARE(name, level) extern int stub_log_module_##name
#define LOG_ERR(...) stub_log(1, __VA_ARGS__)
#define LOG_WRN(...) stub_log(2, __VA_ARGS__)
#define LOG_INF(...) stub_log(3, __VA_ARGS__)
#define LOG_DBG(...) stub_log(4, __VA_ARGS__)
#endif
