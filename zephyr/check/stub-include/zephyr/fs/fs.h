/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr 4.4/4.5
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files
 * and the C sample on the host. Nothing built with this is run.
 */
/* include/zephyr/fs/fs.h (fs_file_t and fs_mode_t come from fs_interface.h upstream) */
#ifndef STUB_ZEPHYR_FS_FS_H
#define STUB_ZEPHYR_FS_FS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
typedef uint8_t fs_mode_t;
struct fs_file_t { void *filep; const void *mp; fs_mode_t flags; };
enum fs_dir_entry_type { FS_DIR_ENTRY_FILE = 0, FS_DIR_ENTRY_DIR };
struct fs_dirent { enum fs_dir_entry_type type; char name[256]; size_t size; };
#define FS_O_READ 0x01
static inline void fs_file_t_init(struct fs_file_t *zfp) { *zfp = (struct fs_file_t){ 0 }; }
int fs_open(struct fs_file_t *zfp, const char *file_name, fs_mode_t flags);
int fs_close(struct fs_file_t *zfp);
ssize_t fs_read(struct fs_file_t *zfp, void *ptr, size_t size);
int fs_stat(const char *path, struct fs_dirent *entry);
#endif
