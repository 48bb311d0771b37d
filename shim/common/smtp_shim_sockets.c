/*
 * The socket half of the shim (smtp_shim.h, "Sockets"), shared by the Zephyr shim and its POSIX
 * twin: resolve and connect within one deadline, non-blocking send and recv that wait with
 * poll() until the caller's deadline, close. The same C runs on the device (zsock_* calls) and
 * in the host tests (BSD sockets), so `cargo test --features zsock` exercises the device's code.
 * The platform's names come from its smtp_shim_os.h (smtp_shim_port.h); the helpers the TLS code
 * uses too are declared there.
 *
 * A send that finds no network buffer (ENOBUFS: Zephyr's non-blocking send when its TX buffers or
 * packets run out, which happens with a body larger than a few buffers) is not a broken link:
 * it is retried after a back-off of 10 ms doubling to 100 ms until the caller's deadline, and
 * fails with -ENOBUFS only then. poll() cannot wait for it: POLLOUT reports the TCP window, not
 * the buffer pool.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "smtp_shim_port.h"

/* A debug line through the shim's log: what failed, and its code. */
static void smtp_sock_debug(const char *what, int code)
{
	char line[96];
	int n = SMTP_SHIM_FORMAT(line, sizeof(line), "%s: %d", what, code);

	if (n > 0) {
		smtp_shim_log(4, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1U);
	}
}

/* Milliseconds left until `deadline` (uptime), clamped to poll()'s int. */
int smtp_shim_left(int64_t deadline)
{
	int64_t left = deadline - smtp_shim_uptime_ms();

	if (left <= 0) {
		return 0;
	}
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Waits for `events` on fd until deadline: 1 ready, 0 timed out, -errno. */
int smtp_shim_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		SMTP_SOCK_POLLFD pfd = {.fd = fd, .events = events, .revents = 0};
		int rc = SMTP_SOCK_POLL(&pfd, 1, smtp_shim_left(deadline));

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

/*
 * Sleeps before retrying a send that found no network buffer: 10 ms, doubling up to 100 ms
 * (*backoff_ms holds the last one; 0 to start), never past the deadline. 1 to retry, 0 when the
 * deadline has passed.
 */
int smtp_shim_back_off(int *backoff_ms, int64_t deadline)
{
	int left = smtp_shim_left(deadline);
	int ms = *backoff_ms == 0 ? 10 : (*backoff_ms >= 50 ? 100 : *backoff_ms * 2);

	if (left == 0) {
		return 0;
	}
	*backoff_ms = ms;
	smtp_port_sleep_ms(ms < left ? ms : left);
	return 1;
}

/*
 * A resolver error as -errno: -ETIMEDOUT when the DNS server did not answer in time (a temporary
 * failure, worth a retry), -SMTP_SHIM_EHOSTNOTFOUND when the name does not resolve.
 */
int smtp_shim_map_gai(int rc, int err)
{
	if (SMTP_SOCK_EAI_TIMED_OUT(rc)) {
		return -ETIMEDOUT;
	}
	switch (rc) {
	case SMTP_SOCK_EAI_MEMORY:
		return -ENOMEM;
	case SMTP_SOCK_EAI_SYSTEM:
		return err != 0 ? -err : -EIO;
	default:
		/* EAI_NONAME, EAI_NODATA, EAI_FAIL, EAI_FAMILY, EAI_SERVICE, ... */
		return -SMTP_SHIM_EHOSTNOTFOUND;
	}
}

/* One address: 0 connected, or -errno (-ETIMEDOUT when the deadline passed). */
static int smtp_shim_try(int fd, const SMTP_SOCK_ADDRINFO *ai, int64_t deadline)
{
	int flags = SMTP_SOCK_FCNTL(fd, SMTP_SOCK_F_GETFL, 0);
	int so_error = 0;
	SMTP_SOCK_SOCKLEN so_len = sizeof(so_error);
	int rc;

	if (flags < 0 || SMTP_SOCK_FCNTL(fd, SMTP_SOCK_F_SETFL, flags | SMTP_SOCK_O_NONBLOCK) < 0) {
		/*
		 * Some socket back ends refuse this flag: NSOS on native_sim checks it against
		 * the C library Zephyr was built with, and an external libc's O_NONBLOCK is
		 * not ZVFS_O_NONBLOCK. Connect in blocking mode then, bounded by the stack's
		 * own connect timeout (CONFIG_NET_SOCKETS_CONNECT_TIMEOUT); send and recv do
		 * not depend on the mode (non-blocking flags + poll).
		 */
		smtp_sock_debug("non-blocking connect unavailable, connecting in blocking mode", errno);
		return SMTP_SOCK_CONNECT(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : -errno;
	}
	if (SMTP_SOCK_CONNECT(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		return 0;
	}
	if (errno != EINPROGRESS && errno != EINTR) {
		return -errno;
	}
	rc = smtp_shim_wait(fd, SMTP_SOCK_POLLOUT, deadline);
	if (rc == 0) {
		return -ETIMEDOUT;
	}
	if (rc < 0) {
		return rc;
	}
	if (SMTP_SOCK_GETSOCKOPT(fd, SMTP_SOCK_SOL_SOCKET, SMTP_SOCK_SO_ERROR, &so_error, &so_len) < 0) {
		return -errno;
	}
	return so_error == 0 ? 0 : -so_error;
}

/* The TCP addresses of host:port into *res (free with SMTP_SOCK_FREEADDRINFO): 0 or -errno. */
int smtp_shim_resolve(const char *host, uint16_t port, SMTP_SOCK_ADDRINFO **res)
{
	SMTP_SOCK_ADDRINFO hints;
	char service[6];
	int rc;

	*res = NULL;
	if (host == NULL || host[0] == '\0' || port == 0U) {
		return -EINVAL;
	}
	(void)SMTP_SHIM_FORMAT(service, sizeof(service), "%u", (unsigned int)port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = SMTP_SOCK_FAMILY;
	hints.ai_socktype = SMTP_SOCK_STREAM;
	hints.ai_protocol = SMTP_SOCK_IPPROTO_TCP;
	hints.ai_flags = SMTP_SOCK_AI_NUMERICSERV;

	errno = 0;
	rc = SMTP_SOCK_GETADDRINFO(host, service, &hints, res);
	if (rc != 0) {
		/* errno first: the log call below may change it. */
		int err = errno;

		smtp_sock_debug("resolving failed", rc);
		*res = NULL;
		return smtp_shim_map_gai(rc, err);
	}
	return 0;
}

/* Commands are small and each waits for its reply: never delay them. Not every stack
 * implements the option; failure to set it is harmless. */
void smtp_shim_nodelay(int fd)
{
	int one = 1;

	if (SMTP_SOCK_SETSOCKOPT(fd, SMTP_SOCK_IPPROTO_TCP, SMTP_SOCK_TCP_NODELAY, &one, sizeof(one)) < 0) {
		smtp_sock_debug("TCP_NODELAY not set", errno);
	}
}

int smtp_shim_connect(const char *host, uint16_t port, uint32_t timeout_ms)
{
	SMTP_SOCK_ADDRINFO *res = NULL;
	const SMTP_SOCK_ADDRINFO *ai;
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;
	int last = -SMTP_SHIM_EHOSTNOTFOUND;
	int rc = smtp_shim_resolve(host, port, &res);

	if (rc != 0) {
		return rc;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd;

		if (smtp_shim_left(deadline) == 0) {
			last = -ETIMEDOUT;
			break;
		}
		fd = SMTP_SOCK_SOCKET(ai->ai_family, SMTP_SOCK_STREAM, SMTP_SOCK_IPPROTO_TCP);
		if (fd < 0) {
			last = -errno;
			continue;
		}
		smtp_port_prepare_socket(fd);
		rc = smtp_shim_try(fd, ai, deadline);
		if (rc == 0) {
			smtp_shim_nodelay(fd);
			SMTP_SOCK_FREEADDRINFO(res);
			return fd;
		}
		(void)SMTP_SOCK_CLOSE(fd);
		last = rc;
		if (rc == -ETIMEDOUT) {
			break;
		}
	}
	SMTP_SOCK_FREEADDRINFO(res);
	return last;
}

/* One non-blocking send: bytes sent, -EAGAIN when it would block, -ENOBUFS when the stack had no
 * buffer for it, or another -errno. */
int smtp_shim_nb_send(int fd, const uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n = SMTP_SOCK_SEND(fd, buf, len, SMTP_SOCK_SEND_FLAGS);

		if (n >= 0) {
			return (int)n;
		}
		if (errno != EINTR) {
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
		}
	}
}

/* One non-blocking recv: bytes read (0 = peer closed), -EAGAIN when it would block, -errno. */
int smtp_shim_nb_recv(int fd, uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n = SMTP_SOCK_RECV(fd, buf, len, SMTP_SOCK_RECV_FLAGS);

		if (n >= 0) {
			return (int)n;
		}
		if (errno != EINTR) {
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
		}
	}
}

/*
 * One send (from `out`) or one recv (into `in`), waiting for the socket until the deadline
 * while it would block, and backing off while a send finds no network buffer. Returns bytes
 * moved (recv: 0 = peer closed) or -errno (-ETIMEDOUT, or -ENOBUFS when the stack had no buffer
 * until the deadline).
 */
static int smtp_shim_io(int fd, const uint8_t *out, uint8_t *in, size_t len, uint32_t timeout_ms)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;
	int backoff_ms = 0;

	if (len == 0U) {
		return 0;
	}
	if ((out == NULL && in == NULL) || fd < 0) {
		return -EINVAL;
	}
	if (len > (size_t)INT32_MAX) {
		len = (size_t)INT32_MAX;
	}
	for (;;) {
		int n = out != NULL ? smtp_shim_nb_send(fd, out, len) : smtp_shim_nb_recv(fd, in, len);
		int rc;

		if (n == -ENOBUFS) {
			if (smtp_shim_back_off(&backoff_ms, deadline) == 0) {
				return -ENOBUFS;
			}
			continue;
		}
		if (n != -EAGAIN) {
			return n;
		}
		backoff_ms = 0;
		rc = smtp_shim_wait(fd, out != NULL ? SMTP_SOCK_POLLOUT : SMTP_SOCK_POLLIN, deadline);
		if (rc == 0) {
			return -ETIMEDOUT;
		}
		if (rc < 0) {
			return rc;
		}
	}
}

int smtp_shim_send(int fd, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	return smtp_shim_io(fd, buf, NULL, len, timeout_ms);
}

int smtp_shim_recv(int fd, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	return smtp_shim_io(fd, NULL, buf, len, timeout_ms);
}

void smtp_shim_close(int fd)
{
	if (fd >= 0) {
		(void)SMTP_SOCK_CLOSE(fd);
	}
}
