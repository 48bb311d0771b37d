/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/shell/shell.h (command entries reduced to what the checks need) */
#ifndef STUB_ZEPHYR_SHELL_H
#define STUB_ZEPHYR_SHELL_H
#include <stddef.h>
struct shell { int unused; };
typedef int (*shell_cmd_handler)(const struct shell *sh, size_t argc, char **argv);
struct shell_static_entry {
	const char *syntax;
	const char *help;
	const void *subcmd;
	shell_cmd_handler handler;
	unsigned char mandatory;
	unsigned char optional;
};
void shell_fprintf_normal(const struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void shell_fprintf_error(const struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As upstream: macros that paste "\n" to the format, so it must be a string literal. */
#define shell_print(_sh, _ft, ...) shell_fprintf_normal(_sh, _ft "\n", ##__VA_ARGS__)
#define shell_error(_sh, _ft, ...) shell_fprintf_error(_sh, _ft "\n", ##__VA_ARGS__)
#define SHELL_CMD_ARG(_syntax, _subcmd, _help, _handler, _mand, _opt) \
	{ #_syntax, _help, _subcmd, _handler, _mand, _opt }
#define SHELL_CMD(_syntax, _subcmd, _help, _handler) SHELL_CMD_ARG(_syntax, _subcmd, _help, _handler, 0, 0)
#define SHELL_SUBCMD_SET_END { NULL, NULL, NULL, NULL, 0, 0 }
#define SHELL_STATIC_SUBCMD_SET_CREATE(name, ...) \
	static const struct shell_static_entry name[] = { __VA_ARGS__ }
#define SHELL_CMD_REGISTER(syntax, subcmd, help, handler) \
	const void *const stub_shell_root_##syntax = (subcmd)
/* include/zephyr/shell/shell_string_conv.h (included by shell.h) */
unsigned long shell_strtoul(const char *str, int base, int *err);
#endif
