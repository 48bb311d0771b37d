/*
 * zsmtp platform shim for Zephyr (shim/include/smtp_shim.h): sockets, time, entropy, context,
 * mutex and logging. Compiled into the image by the module's CMakeLists.txt when
 * CONFIG_SMTP_CLIENT=y. Its POSIX twin is shim/posix/smtp_shim_posix.c; keep the two in step.
 *
 * Zephyr declarations used, and where they were checked (Zephyr v4.3 headers):
 *   zsock_getaddrinfo, zsock_freeaddrinfo, struct zsock_addrinfo, AI_NUMERICSERV,
 *   zsock_socket, zsock_connect, zsock_poll, struct zsock_pollfd, ZSOCK_POLLIN/POLLOUT,
 *   zsock_getsockopt(SOL_SOCKET, SO_ERROR), zsock_setsockopt(IPPROTO_TCP, TCP_NODELAY),
 *   zsock_send/zsock_recv with ZSOCK_MSG_DONTWAIT, zsock_close, zsock_fcntl
 *                                                include/zephyr/net/socket.h
 *   ZVFS_F_GETFL, ZVFS_F_SETFL, ZVFS_O_NONBLOCK  include/zephyr/sys/fdtable.h (Zephyr's own
 *                                                subsys/net/lib/zperf and socket services use
 *                                                zsock_fcntl(sock, ZVFS_F_SETFL, ZVFS_O_NONBLOCK))
 *   AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP           include/zephyr/net/net_ip.h (the names, never
 *                                                the numbers: Zephyr's AF_INET is 1, not 2)
 *   DNS_EAI_*                                    include/zephyr/net/dns_resolve.h
 *   k_mutex_init/lock/unlock, K_FOREVER, k_is_in_isr, k_uptime_get   include/zephyr/kernel.h
 *   sys_rand32_get                               include/zephyr/random/random.h
 *   clock_gettime(CLOCK_REALTIME)                <time.h> with CONFIG_POSIX_TIMERS
 *                                                (lib/posix/options/Kconfig.timer)
 * The socket calls are __syscall static inlines (their link symbols are z_impl_zsock_*), which
 * is why the Rust side calls this C file instead of Zephyr directly.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/dns_resolve.h>
#include <zephyr/net/socket.h>
#include <zephyr/random/random.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/util.h>
#include <zephyr/sys/fdtable.h>

#if defined(CONFIG_SMTP_CLIENT_WALL_CLOCK)
#include <time.h>
#endif

#include "smtp_shim.h"

LOG_MODULE_REGISTER(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

#include "../common/smtp_shim_errors.h"

/* ---- Time, entropy, context ----------------------------------------------------------------- */

int64_t smtp_shim_uptime_ms(void)
{
	return k_uptime_get();
}

/* 2020-01-01T00:00:00Z: a wall clock reading earlier than this was never set. */
#define SMTP_SHIM_PLAUSIBLE_EPOCH 1577836800LL

int smtp_shim_unix_time(int64_t *seconds)
{
	if (seconds == NULL) {
		return -EINVAL;
	}
#if defined(CONFIG_SMTP_CLIENT_WALL_CLOCK)
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
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
	/* A k_mutex owns no resources: nothing to release. */
	ARG_UNUSED(storage);
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

/* ---- Sockets -------------------------------------------------------------------------------- */

static int smtp_shim_left(int64_t deadline)
{
	int64_t left = deadline - k_uptime_get();

	if (left <= 0) {
		return 0;
	}
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Waits for `events` on fd until deadline: 1 ready, 0 timed out, -errno. */
static int smtp_shim_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct zsock_pollfd pfd = {.fd = fd, .events = events, .revents = 0};
		int rc = zsock_poll(&pfd, 1, smtp_shim_left(deadline));

		if (rc > 0) {
			return 1;
		}
		if (rc == 0) {
			return 0;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}

/* zsock_getaddrinfo() returns DNS_EAI_* codes (include/zephyr/net/dns_resolve.h). */
static int smtp_shim_map_gai(int rc)
{
	switch (rc) {
	case DNS_EAI_AGAIN:
		return -EAGAIN;
	case DNS_EAI_MEMORY:
		return -ENOMEM;
	case DNS_EAI_SYSTEM:
		return errno != 0 ? -errno : -EIO;
	default:
		/* DNS_EAI_NONAME, DNS_EAI_NODATA, DNS_EAI_FAIL, DNS_EAI_ADDRFAMILY, ... */
		return -SMTP_SHIM_EHOSTNOTFOUND;
	}
}

static int smtp_shim_try(int fd, const struct zsock_addrinfo *ai, int64_t deadline)
{
	int flags = zsock_fcntl(fd, ZVFS_F_GETFL, 0);
	int so_error = 0;
	socklen_t so_len = sizeof(so_error);
	int rc;

	if (flags < 0 || zsock_fcntl(fd, ZVFS_F_SETFL, flags | ZVFS_O_NONBLOCK) < 0) {
		/*
		 * Some socket back ends refuse this flag: NSOS on native_sim checks it against
		 * the C library Zephyr was built with, and an external libc's O_NONBLOCK is
		 * not ZVFS_O_NONBLOCK. Connect in blocking mode then, bounded by the stack's
		 * own connect timeout (CONFIG_NET_SOCKETS_CONNECT_TIMEOUT); send and recv do
		 * not depend on the mode (ZSOCK_MSG_DONTWAIT + poll).
		 */
		LOG_DBG("non-blocking connect unavailable (%d): blocking connect", errno);
		return zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : -errno;
	}
	if (zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		return 0;
	}
	if (errno != EINPROGRESS && errno != EINTR) {
		return -errno;
	}
	rc = smtp_shim_wait(fd, ZSOCK_POLLOUT, deadline);
	if (rc == 0) {
		return -ETIMEDOUT;
	}
	if (rc < 0) {
		return rc;
	}
	if (zsock_getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) < 0) {
		return -errno;
	}
	return so_error == 0 ? 0 : -so_error;
}

int smtp_shim_connect(const char *host, uint16_t port, uint32_t timeout_ms)
{
	struct zsock_addrinfo hints;
	struct zsock_addrinfo *res = NULL;
	const struct zsock_addrinfo *ai;
	char service[6];
	int64_t deadline = k_uptime_get() + (int64_t)timeout_ms;
	int last = -SMTP_SHIM_EHOSTNOTFOUND;
	int rc;

	if (host == NULL || host[0] == '\0' || port == 0U) {
		return -EINVAL;
	}
	(void)snprintk(service, sizeof(service), "%u", (unsigned int)port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;

	errno = 0;
	rc = zsock_getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		LOG_DBG("resolving failed: %d", rc);
		return smtp_shim_map_gai(rc);
	}

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd;

		if (smtp_shim_left(deadline) == 0) {
			last = -ETIMEDOUT;
			break;
		}
		fd = zsock_socket(ai->ai_family, SOCK_STREAM, IPPROTO_TCP);
		if (fd < 0) {
			last = -errno;
			continue;
		}
		rc = smtp_shim_try(fd, ai, deadline);
		if (rc == 0) {
			int one = 1;

			/* Commands are small and each waits for its reply: never delay them. Not
			 * every stack implements the option; failure to set it is harmless. */
			if (zsock_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
				LOG_DBG("TCP_NODELAY not set: %d", errno);
			}
			zsock_freeaddrinfo(res);
			return fd;
		}
		(void)zsock_close(fd);
		last = rc;
		if (rc == -ETIMEDOUT) {
			break;
		}
	}
	zsock_freeaddrinfo(res);
	return last;
}

int smtp_shim_send(int fd, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	int64_t deadline = k_uptime_get() + (int64_t)timeout_ms;

	if (len == 0U) {
		return 0;
	}
	if (buf == NULL || fd < 0) {
		return -EINVAL;
	}
	len = MIN(len, (size_t)INT32_MAX);
	for (;;) {
		ssize_t n = zsock_send(fd, buf, len, ZSOCK_MSG_DONTWAIT);
		int rc;

		if (n >= 0) {
			return (int)n;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return -errno;
		}
		rc = smtp_shim_wait(fd, ZSOCK_POLLOUT, deadline);
		if (rc == 0) {
			return -ETIMEDOUT;
		}
		if (rc < 0) {
			return rc;
		}
	}
}

int smtp_shim_recv(int fd, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	int64_t deadline = k_uptime_get() + (int64_t)timeout_ms;

	if (len == 0U) {
		return 0;
	}
	if (buf == NULL || fd < 0) {
		return -EINVAL;
	}
	len = MIN(len, (size_t)INT32_MAX);
	for (;;) {
		ssize_t n = zsock_recv(fd, buf, len, ZSOCK_MSG_DONTWAIT);
		int rc;

		if (n >= 0) {
			return (int)n;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return -errno;
		}
		rc = smtp_shim_wait(fd, ZSOCK_POLLIN, deadline);
		if (rc == 0) {
			return -ETIMEDOUT;
		}
		if (rc < 0) {
			return rc;
		}
	}
}

void smtp_shim_close(int fd)
{
	if (fd >= 0) {
		(void)zsock_close(fd);
	}
}
