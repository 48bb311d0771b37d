/*
 * The POSIX twin of shim/zephyr/smtp_outbox_zms.c (smtp_shim.h, "Outbox storage"): one file per
 * record, KKKK.rec (the key in hexadecimal), in the directory $ZSMTP_OUTBOX_DIR, read when the
 * storage is opened. A write is atomic as a ZMS entry is: the record goes to KKKK.tmp, which is
 * synced and renamed over KKKK.rec, and the directory is synced; a delete unlinks KKKK.rec and
 * syncs the directory. Temporary files left by a cut write are removed at open.
 *
 * The record size is a 4 KiB ZMS sector's (4096 less five 16-byte ATEs: 4016 bytes), or
 * $ZSMTP_OUTBOX_RECORD_SIZE (1 to 65535), so host tests see the limits of a flash partition.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smtp_shim.h"

#define SMTP_OUTBOX_DEFAULT_RECORD (4096 - 5 * 16)
#define SMTP_OUTBOX_MIN_RECORD 1
#define SMTP_OUTBOX_MAX_RECORD 65535

static char smtp_outbox_dir[PATH_MAX];
static pthread_mutex_t smtp_outbox_owner_lock = PTHREAD_MUTEX_INITIALIZER;
static void *smtp_outbox_owner_ptr;
static int smtp_outbox_record_max; /* 0 until opened */

/* dir/KKKK.ext into path (PATH_MAX bytes); -EACCES before a successful open. */
static int smtp_outbox_path(char *path, uint16_t key, const char *ext)
{
	int n;

	if (smtp_outbox_record_max == 0) {
		return -EACCES;
	}
	n = snprintf(path, PATH_MAX, "%s/%04x.%s", smtp_outbox_dir, (unsigned int)key, ext);

	return (n < 0 || n >= PATH_MAX) ? -ENAMETOOLONG : 0;
}

static int smtp_outbox_sync_dir(void)
{
	int fd = open(smtp_outbox_dir, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		return -errno;
	}
	rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/* Removes the temporary files of writes that were cut short: they are not records. */
static int smtp_outbox_remove_temporaries(void)
{
	DIR *dir = opendir(smtp_outbox_dir);
	struct dirent *entry;
	char path[PATH_MAX];

	if (dir == NULL) {
		return -errno;
	}
	while ((entry = readdir(dir)) != NULL) {
		size_t n = strlen(entry->d_name);

		if (n > 4 && strcmp(entry->d_name + n - 4, ".tmp") == 0 &&
		    snprintf(path, sizeof(path), "%s/%s", smtp_outbox_dir, entry->d_name) < PATH_MAX) {
			(void)unlink(path);
		}
	}
	closedir(dir);
	return 0;
}

int smtp_shim_outbox_open(void)
{
	const char *dir = getenv("ZSMTP_OUTBOX_DIR");
	const char *size = getenv("ZSMTP_OUTBOX_RECORD_SIZE");
	long record = SMTP_OUTBOX_DEFAULT_RECORD;
	int rc;

	if (dir == NULL || dir[0] == '\0') {
		return -ENODEV;
	}
	if (strlen(dir) >= sizeof(smtp_outbox_dir) - 16) {
		return -ENAMETOOLONG;
	}
	if (size != NULL && size[0] != '\0') {
		char *end;

		record = strtol(size, &end, 10);
		if (*end != '\0' || record < SMTP_OUTBOX_MIN_RECORD || record > SMTP_OUTBOX_MAX_RECORD) {
			return -EINVAL;
		}
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		return -errno;
	}
	strcpy(smtp_outbox_dir, dir);
	rc = smtp_outbox_remove_temporaries();
	if (rc != 0) {
		return rc;
	}
	smtp_outbox_record_max = (int)record;
	return 0;
}

int smtp_shim_outbox_record_size(void)
{
	return smtp_outbox_record_max > 0 ? smtp_outbox_record_max : -EACCES;
}

int smtp_shim_outbox_read(uint16_t key, uint8_t *buf, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	size_t filled = 0;
	int fd;
	int rc;

	rc = smtp_outbox_path(path, key, "rec");
	if (rc != 0) {
		return rc;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? 0 : -errno; /* 0: no such record */
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_size > INT_MAX) {
		close(fd);
		return -EFBIG;
	}
	while (filled < len && filled < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + filled, len - filled);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO; /* shorter than its size: changed under us */
			close(fd);
			return rc;
		}
		filled += (size_t)n;
	}
	close(fd);
	return (int)st.st_size;
}

int smtp_shim_outbox_write(uint16_t key, const uint8_t *data, size_t len)
{
	char temporary[PATH_MAX];
	char record[PATH_MAX];
	size_t written = 0;
	int fd;
	int rc;

	rc = smtp_outbox_path(temporary, key, "tmp");
	if (rc == 0) {
		rc = smtp_outbox_path(record, key, "rec");
	}
	if (rc != 0) {
		return rc;
	}
	if (len == 0U || len > (size_t)smtp_outbox_record_max) {
		return -EINVAL;
	}
	fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	while (written < len) {
		ssize_t n = write(fd, data + written, len - written);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		written += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0) {
		rc = -errno;
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	if (rc == 0 && rename(temporary, record) != 0) {
		rc = -errno;
	}
	if (rc != 0) {
		(void)unlink(temporary); /* the record stays as it was */
		return rc;
	}
	return smtp_outbox_sync_dir();
}

int smtp_shim_outbox_delete(uint16_t key)
{
	char path[PATH_MAX];
	int rc;

	rc = smtp_outbox_path(path, key, "rec");
	if (rc != 0) {
		return rc;
	}
	if (unlink(path) != 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	return smtp_outbox_sync_dir();
}

int smtp_shim_outbox_claim(void *owner)
{
	int rc = 0;

	if (owner == NULL) {
		return -EINVAL;
	}
	pthread_mutex_lock(&smtp_outbox_owner_lock);
	if (smtp_outbox_owner_ptr != NULL && smtp_outbox_owner_ptr != owner) {
		rc = -EBUSY;
	} else {
		smtp_outbox_owner_ptr = owner;
	}
	pthread_mutex_unlock(&smtp_outbox_owner_lock);
	return rc;
}

void smtp_shim_outbox_release(void *owner)
{
	pthread_mutex_lock(&smtp_outbox_owner_lock);
	if (smtp_outbox_owner_ptr == owner) {
		smtp_outbox_owner_ptr = NULL;
	}
	pthread_mutex_unlock(&smtp_outbox_owner_lock);
}

void *smtp_shim_outbox_owner(void)
{
	void *owner;

	pthread_mutex_lock(&smtp_outbox_owner_lock);
	owner = smtp_outbox_owner_ptr;
	pthread_mutex_unlock(&smtp_outbox_owner_lock);
	return owner;
}
