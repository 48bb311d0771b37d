/*
 * The POSIX twin of shim/zephyr/: the same functions (shim/include/smtp_shim.h) over BSD sockets,
 * pthreads and clock_gettime, so that the Rust transport that runs on Zephyr also runs in the host
 * tests against real servers. Compiled by build.rs when the cargo feature `zsock` is on and the
 * target has an operating system.
 *
 * Sockets: shim/common/smtp_shim_sockets.h, the very code of the Zephyr shim (resolve,
 * non-blocking connect + poll, SO_ERROR, TCP_NODELAY, poll + MSG_DONTWAIT I/O) with the BSD names
 * mapped in; what else the two files do is kept in step by hand.
 *
 * TLS: the mbedTLS client of shim/common/smtp_shim_tls_mbedtls.h, the very code the Zephyr shim
 * runs, here over a host build of mbedTLS 3.6 or 4.x (build.rs links it; scripts/mbedtls-host
 * builds 3.6). Implicit TLS is a plain connect followed by the same handshake. The trust anchors
 * come from a CA file (the transport's, else $ZSMTP_CA_FILE, else $SSL_CERT_FILE). Built with
 * -DSMTP_SHIM_NO_TLS (build.rs: ZSMTP_SHIM_TLS=0), every TLS call answers "unsupported".
 *
 * Test knobs (environment, read at each call; the Zephyr shim has Kconfig options instead):
 *   ZSMTP_SHIM_CLOCK_UNSET=1    smtp_shim_unix_time() reports a clock that was never set, as a
 *                               device without SNTP or RTC would;
 *   ZSMTP_TLS_REQUIRE_CLOCK=1   as CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK=y;
 *   ZSMTP_SHIM_LOG=1            log lines on stderr.
 * SMTP_SOCK_SEND may be defined before compiling this file (tests/c/shim_enobufs.c does, to make
 * sends fail with ENOBUFS as Zephyr's do when its network buffers run out).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#define _DEFAULT_SOURCE 1
#define _DARWIN_C_SOURCE 1
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "smtp_shim.h"

/* ---- Configuration defaults of the host build ---------------------------------------------- */

#define SMTP_CFG_MAX_DOMAIN 255
#define SMTP_CFG_MAX_ADDRESS 256
#define SMTP_CFG_MAX_USERNAME 128
#define SMTP_CFG_MAX_PASSWORD 128
#define SMTP_CFG_DEF_SERVER "127.0.0.1"
#define SMTP_CFG_DEF_PORT 25
#define SMTP_CFG_DEF_DOMAIN "localhost"
#define SMTP_CFG_DEF_FROM ""
#define SMTP_CFG_DEF_USER ""
#define SMTP_CFG_DEF_PASSWORD ""
#define SMTP_CFG_DEF_AUTH "none"
#define SMTP_CFG_TIMEOUT_CONNECT 10000
#define SMTP_CFG_TIMEOUT_GREETING 30000
#define SMTP_CFG_TIMEOUT_REPLY 30000
#define SMTP_CFG_TIMEOUT_SEND 30000
#define SMTP_CFG_TIMEOUT_FINAL 60000
#define SMTP_CFG_TIMEOUT_TOTAL 300000
#define SMTP_CFG_PIPELINING 1

static pthread_mutex_t smtp_cfg_mutex = PTHREAD_MUTEX_INITIALIZER;

static void smtp_cfg_lock(void)
{
	(void)pthread_mutex_lock(&smtp_cfg_mutex);
}

static void smtp_cfg_unlock(void)
{
	(void)pthread_mutex_unlock(&smtp_cfg_mutex);
}

/* The host build keeps values in memory only. */
static int smtp_cfg_persist(const char *key, const char *value, size_t len)
{
	(void)key;
	(void)value;
	(void)len;
	return 0;
}

#include "../common/smtp_config_store.h"
#include "../common/smtp_shim_errors.h"

int smtp_shim_config_load(void)
{
	return 0;
}

/* ---- Time ------------------------------------------------------------------------------- */

int64_t smtp_shim_uptime_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		return 0;
	}
	return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

/* 2020-01-01T00:00:00Z: a wall clock reading earlier than this was never set. */
#define SMTP_SHIM_PLAUSIBLE_EPOCH 1577836800LL

int smtp_shim_unix_time(int64_t *seconds)
{
	struct timespec ts;

	if (seconds == NULL) {
		return -EINVAL;
	}
	if (getenv("ZSMTP_SHIM_CLOCK_UNSET") != NULL) {
		return -EAGAIN;
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		return -ENOTSUP;
	}
	if ((int64_t)ts.tv_sec < SMTP_SHIM_PLAUSIBLE_EPOCH) {
		return -EAGAIN;
	}
	*seconds = (int64_t)ts.tv_sec;
	return 0;
}

uint32_t smtp_shim_random(void)
{
	uint32_t value = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, &value, sizeof(value));

		(void)close(fd);
		if (n == (ssize_t)sizeof(value)) {
			return value;
		}
	}
	/* No entropy device: mix the clocks and the process id (uniqueness, not secrecy). */
	{
		struct timespec ts;

		(void)clock_gettime(CLOCK_REALTIME, &ts);
		value = (uint32_t)ts.tv_nsec ^ ((uint32_t)ts.tv_sec << 7) ^ ((uint32_t)getpid() << 16);
		value ^= (uint32_t)smtp_shim_uptime_ms() * 2654435761U;
	}
	return value;
}

int smtp_shim_in_isr(void)
{
	return 0;
}

/* ---- Mutex in caller storage --------------------------------------------------------------- */

_Static_assert(sizeof(pthread_mutex_t) + _Alignof(pthread_mutex_t) - 1 <=
		       SMTP_SHIM_MUTEX_STORAGE_MIN,
	       "pthread_mutex_t does not fit in the C API client's lock words");

static pthread_mutex_t *smtp_shim_mutex_at(void *storage)
{
	uintptr_t p = (uintptr_t)storage;
	uintptr_t align = (uintptr_t)_Alignof(pthread_mutex_t);

	p = (p + align - 1U) & ~(align - 1U);
	return (pthread_mutex_t *)p;
}

int smtp_shim_mutex_init(void *storage, size_t size)
{
	pthread_mutex_t *m;

	if (storage == NULL) {
		return -EINVAL;
	}
	m = smtp_shim_mutex_at(storage);
	if ((uintptr_t)m - (uintptr_t)storage + sizeof(*m) > size) {
		return -ENOSPC;
	}
	return -pthread_mutex_init(m, NULL);
}

void smtp_shim_mutex_lock(void *storage)
{
	(void)pthread_mutex_lock(smtp_shim_mutex_at(storage));
}

void smtp_shim_mutex_unlock(void *storage)
{
	(void)pthread_mutex_unlock(smtp_shim_mutex_at(storage));
}

void smtp_shim_mutex_destroy(void *storage)
{
	(void)pthread_mutex_destroy(smtp_shim_mutex_at(storage));
}

/* ---- Logging -------------------------------------------------------------------------------- */

void smtp_shim_log(uint32_t level, const char *msg, size_t len)
{
	static const char *const names[] = {"?", "error", "warning", "info", "debug"};

	/* Silent unless asked for, so that test output stays readable. */
	if (getenv("ZSMTP_SHIM_LOG") == NULL || msg == NULL) {
		return;
	}
	fprintf(stderr, "[zsmtp %s] %.*s\n", names[level <= 4U ? level : 0U], (int)len, msg);
}

/* ---- Sockets -------------------------------------------------------------------------------- */

/* The names shim/common/smtp_shim_sockets.h expects: BSD sockets. */
#ifdef MSG_NOSIGNAL
#define SMTP_SOCK_SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL)
#else
#define SMTP_SOCK_SEND_FLAGS MSG_DONTWAIT
#endif
#define SMTP_SOCK_SOCKET socket
#define SMTP_SOCK_CONNECT connect
#define SMTP_SOCK_GETSOCKOPT getsockopt
#define SMTP_SOCK_SETSOCKOPT setsockopt
#ifndef SMTP_SOCK_SEND
#define SMTP_SOCK_SEND send
#endif
#define SMTP_SOCK_RECV recv
#define SMTP_SOCK_CLOSE close
#define SMTP_SOCK_POLL poll
#define SMTP_SOCK_FCNTL fcntl
#define SMTP_SOCK_GETADDRINFO getaddrinfo
#define SMTP_SOCK_FREEADDRINFO freeaddrinfo
#define SMTP_SOCK_POLLFD struct pollfd
#define SMTP_SOCK_ADDRINFO struct addrinfo
#define SMTP_SOCK_SOCKLEN socklen_t
#define SMTP_SOCK_POLLIN POLLIN
#define SMTP_SOCK_POLLOUT POLLOUT
#define SMTP_SOCK_RECV_FLAGS MSG_DONTWAIT
#define SMTP_SOCK_F_GETFL F_GETFL
#define SMTP_SOCK_F_SETFL F_SETFL
#define SMTP_SOCK_O_NONBLOCK O_NONBLOCK
#define SMTP_SOCK_STREAM SOCK_STREAM
#define SMTP_SOCK_IPPROTO_TCP IPPROTO_TCP
#define SMTP_SOCK_SOL_SOCKET SOL_SOCKET
#define SMTP_SOCK_SO_ERROR SO_ERROR
#define SMTP_SOCK_TCP_NODELAY TCP_NODELAY
#define SMTP_SOCK_AI_NUMERICSERV AI_NUMERICSERV
#define SMTP_SOCK_FAMILY AF_UNSPEC
#define SMTP_SOCK_EAI_TIMED_OUT(rc) ((rc) == EAI_AGAIN)
#define SMTP_SOCK_EAI_MEMORY EAI_MEMORY
#define SMTP_SOCK_EAI_SYSTEM EAI_SYSTEM
#define SMTP_SOCK_UPTIME_MS() smtp_shim_uptime_ms()
#define SMTP_SOCK_SLEEP_MS(ms) smtp_shim_sleep_ms(ms)
#define SMTP_SOCK_FORMAT snprintf
#define SMTP_SOCK_DEBUG(...) ((void)0)
static void smtp_shim_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}
/* Not inherited by child processes of a host program; no SIGPIPE where MSG_NOSIGNAL is missing. */
static void smtp_shim_prepare(int fd)
{
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
	{
		int one = 1;

		(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
	}
#endif
}
#define SMTP_SOCK_PREPARE(fd) smtp_shim_prepare(fd)
#include "../common/smtp_shim_sockets.h"

/* ---- TLS ------------------------------------------------------------------------------------ */

#if !defined(SMTP_SHIM_NO_TLS)

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

static int smtp_tls_load_ca(mbedtls_x509_crt *chain, int32_t sec_tag, const char *ca_file)
{
	int ret;

	(void)sec_tag;
	if (ca_file == NULL) {
		ca_file = getenv("ZSMTP_CA_FILE");
	}
	if (ca_file == NULL) {
		ca_file = getenv("SSL_CERT_FILE");
	}
	if (ca_file == NULL || ca_file[0] == '\0') {
		return -ENOENT;
	}
	if (access(ca_file, R_OK) != 0) {
		return -ENOENT;
	}
	/* PEM (any number of certificates) or DER; > 0: some certificates were skipped. */
	ret = mbedtls_x509_crt_parse_file(chain, ca_file);
	if (ret < 0) {
		return -EINVAL;
	}
	/* Nothing usable parsed: an empty or foreign file. */
	return chain->raw.len == 0U ? -EINVAL : 0;
}

#if !defined(MBEDTLS_THREADING_C)
/* mbedTLS without locks of its own: the shim's clients take turns (smtp_shim_tls_mbedtls.h). */
static pthread_mutex_t smtp_tls_mutex = PTHREAD_MUTEX_INITIALIZER;
#endif

#define SMTP_TLS_FORMAT snprintf
#define SMTP_TLS_REQUIRE_CLOCK() (getenv("ZSMTP_TLS_REQUIRE_CLOCK") != NULL)
#define SMTP_TLS_LOCK() ((void)pthread_mutex_lock(&smtp_tls_mutex))
#define SMTP_TLS_UNLOCK() ((void)pthread_mutex_unlock(&smtp_tls_mutex))
#include "../common/smtp_shim_tls_mbedtls.h"

int smtp_shim_tls_connect(const char *host, uint16_t port, const char *verify_name,
			  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
			  struct smtp_shim_tls **tls, int *tls_error)
{
	return smtp_tls_connect_then_handshake(host, port, verify_name, sec_tag, ca_file, timeout_ms, tls,
					       tls_error);
}

#else /* SMTP_SHIM_NO_TLS */

int smtp_shim_tls_start(int fd, const char *host, int32_t sec_tag, const char *ca_file,
			uint32_t timeout_ms, struct smtp_shim_tls **tls, int *tls_error)
{
	(void)fd;
	(void)host;
	(void)sec_tag;
	(void)ca_file;
	(void)timeout_ms;
	if (tls != NULL) {
		*tls = NULL;
	}
	if (tls_error != NULL) {
		*tls_error = SMTP_SHIM_TLS_UNSUPPORTED;
	}
	return -ENOTSUP;
}

int smtp_shim_tls_connect(const char *host, uint16_t port, const char *verify_name,
			  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
			  struct smtp_shim_tls **tls, int *tls_error)
{
	(void)port;
	(void)verify_name;
	return smtp_shim_tls_start(-1, host, sec_tag, ca_file, timeout_ms, tls, tls_error);
}

int smtp_shim_tls_send(struct smtp_shim_tls *tls, const uint8_t *buf, size_t len,
		       uint32_t timeout_ms)
{
	(void)tls;
	(void)buf;
	(void)len;
	(void)timeout_ms;
	return -ENOTSUP;
}

int smtp_shim_tls_recv(struct smtp_shim_tls *tls, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	(void)tls;
	(void)buf;
	(void)len;
	(void)timeout_ms;
	return -ENOTSUP;
}

void smtp_shim_tls_close(struct smtp_shim_tls *tls, uint32_t timeout_ms)
{
	(void)tls;
	(void)timeout_ms;
}

#endif /* SMTP_SHIM_NO_TLS */
