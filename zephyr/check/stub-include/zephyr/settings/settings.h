/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/settings/settings.h */
#ifndef STUB_ZEPHYR_SETTINGS_H
#define STUB_ZEPHYR_SETTINGS_H
#include <stddef.h>
#include <sys/types.h>
typedef ssize_t (*settings_read_cb)(void *cb_arg, void *data, size_t len);
typedef struct _snode { struct _snode *next; } sys_snode_t; /* include/zephyr/sys/slist.h */
struct settings_handler {
	const char *name;
	int cprio;
	int (*h_get)(const char *key, char *val, int val_len_max);
	int (*h_set)(const char *key, size_t len, settings_read_cb read_cb, void *cb_arg);
	int (*h_commit)(void);
	int (*h_export)(int (*export_func)(const char *name, const void *val, size_t val_len));
	sys_snode_t node;
};
int settings_subsys_init(void);
int settings_register(struct settings_handler *cf);
int settings_load_subtree(const char *subtree);
int settings_save_one(const char *name, const void *value, size_t val_len);
int settings_name_next(const char *name, const char **next);
#endif
