/*
 * zsmtp platform shim for Zephyr (shim/include/smtp_shim.h): time, entropy, context, the mutex in
 * caller storage and the log, and what the shim's common code asks of the platform
 * (shim/common/smtp_shim_port.h). Always in the image when CONFIG_SMTP_CLIENT=y; the module's
 * CMakeLists.txt adds the rest, one job per file, the way Zephyr's MQTT library is built:
 *   shim/common/smtp_shim_sockets.c, smtp_shim_errors.c, smtp_config_store.c  (with the POSIX twin)
 *   smtp_config.c                    Kconfig defaults, the settings subsystem
 *   smtp_shell.c                     "smtp" shell command (CONFIG_SMTP_CLIENT_SHELL)
 *   smtp_tls_mbedtls.c + shim/common/smtp_shim_tls_mbedtls.c
 *                                    the module's TLS client (CONFIG_SMTP_CLIENT_TLS_MBEDTLS)
 *   smtp_tls_socket.c                implicit TLS through TLS sockets (CONFIG_SMTP_CLIENT_TLS_SOCKETS)
 *   smtp_tls_none.c                  the TLS calls this build cannot serve, refused
 *   smtp_ca.c                        CA certificates in the TLS credential store (CONFIG_TLS_CREDENTIALS)
 *   smtp_rust_glue.c                 for C applications (CONFIG_SMTP_CLIENT_NETX_API)
 * Its POSIX twin is shim/posix/smtp_shim_posix.c. Every Zephyr and mbedTLS name these files use
 * is listed, with the upstream file and the version it was checked at, in docs/ZEPHYR-UPSTREAM.md
 * (scripts/check-zephyr fails on a name that is not); which file uses what is described there too.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <string.h>
#include <time.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/random/random.h>
#include <zephyr/sys/clock.h>
#include <zephyr/sys/util.h>

#include "smtp_shim_port.h"

LOG_MODULE_REGISTER(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

/* ---- Time, entropy, context ----------------------------------------------------------------- */

int64_t smtp_shim_uptime_ms(void)
{
	return k_uptime_get();
}

/* 2020-01-01T00:00:00Z: a wall clock reading earlier than this was never set. */
#define SMTP_SHIM_PLAUSIBLE_EPOCH 1577836800LL

/* The wall clock: SYS_CLOCK_REALTIME (include/zephyr/sys/clock.h), which SNTP or an RTC driver
 * sets with sys_clock_settime(); it counts from 1970 + uptime until then. */
int smtp_shim_unix_time(int64_t *seconds)
{
	if (seconds == NULL) {
		return -EINVAL;
	}
#if defined(CONFIG_SMTP_CLIENT_WALL_CLOCK)
	struct timespec ts;

	if (sys_clock_gettime(SYS_CLOCK_REALTIME, &ts) != 0) {
		return -ENOTSUP;
	}
	if ((int64_t)ts.tv_sec < SMTP_SHIM_PLAUSIBLE_EPOCH) {
		return -EAGAIN;
	}
	*seconds = (int64_t)ts.tv_sec;
	return 0;
#else
	return -ENOTSUP;
#endif
}

uint32_t smtp_shim_random(void)
{
	return sys_rand32_get();
}

int smtp_shim_in_isr(void)
{
	return k_is_in_isr() ? 1 : 0;
}

/* ---- Mutex in caller storage ---------------------------------------------------------------- */

/* The C API client's lock words (CONFIG_SMTP_CLIENT_LOCK_WORDS ULONGs; smtp_shim.h's minimum
 * when the C API is not configured). */
#ifdef CONFIG_SMTP_CLIENT_LOCK_WORDS
#define SMTP_SHIM_LOCK_BYTES (CONFIG_SMTP_CLIENT_LOCK_WORDS * sizeof(unsigned long))
#else
#define SMTP_SHIM_LOCK_BYTES SMTP_SHIM_MUTEX_STORAGE_MIN
#endif
BUILD_ASSERT(sizeof(struct k_mutex) + __alignof__(struct k_mutex) - 1 <= SMTP_SHIM_LOCK_BYTES,
	     "struct k_mutex does not fit in the C API client's lock words: raise CONFIG_SMTP_CLIENT_LOCK_WORDS");

static struct k_mutex *smtp_shim_mutex_at(void *storage)
{
	uintptr_t p = (uintptr_t)storage;
	uintptr_t align = (uintptr_t)__alignof__(struct k_mutex);

	p = (p + align - 1U) & ~(align - 1U);
	return (struct k_mutex *)p;
}

int smtp_shim_mutex_init(void *storage, size_t size)
{
	struct k_mutex *m;

	if (storage == NULL) {
		return -EINVAL;
	}
	m = smtp_shim_mutex_at(storage);
	if ((uintptr_t)m - (uintptr_t)storage + sizeof(*m) > size) {
		return -ENOSPC;
	}
	return k_mutex_init(m);
}

void smtp_shim_mutex_lock(void *storage)
{
	(void)k_mutex_lock(smtp_shim_mutex_at(storage), K_FOREVER);
}

void smtp_shim_mutex_unlock(void *storage)
{
	(void)k_mutex_unlock(smtp_shim_mutex_at(storage));
}

void smtp_shim_mutex_destroy(void *storage)
{
#if defined(CONFIG_OBJ_CORE_MUTEX)
	/* k_mutex_init() linked it into the kernel's list of mutexes: the caller's storage is
	 * about to be freed or reused (include/zephyr/kernel/obj_core.h). */
	k_obj_core_unlink(K_OBJ_CORE(smtp_shim_mutex_at(storage)));
#else
	/* A k_mutex owns no resources: nothing to release. */
	ARG_UNUSED(storage);
#endif
}

/* ---- Logging -------------------------------------------------------------------------------- */

void smtp_shim_log(uint32_t level, const char *msg, size_t len)
{
	char line[161];

	if (msg == NULL) {
		return;
	}
	len = MIN(len, sizeof(line) - 1U);
	memcpy(line, msg, len);
	line[len] = '\0';
	/* The log macros copy RAM strings given with %s (deferred logging is safe). */
	switch (level) {
	case 1:
		LOG_ERR("%s", line);
		break;
	case 2:
		LOG_WRN("%s", line);
		break;
	case 3:
		LOG_INF("%s", line);
		break;
	default:
		LOG_DBG("%s", line);
		break;
	}
}

/* ---- What the common socket code asks of the platform (smtp_shim_port.h) -------------------- */

void smtp_port_sleep_ms(int ms)
{
	(void)k_msleep(ms);
}

/* Zephyr's sockets need nothing before connecting. */
void smtp_port_prepare_socket(int fd)
{
	ARG_UNUSED(fd);
}
