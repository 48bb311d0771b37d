/*
 * The POSIX twin of shim/zephyr/: the platform of the same shim (shim/include/smtp_shim.h) over
 * BSD sockets, pthreads and clock_gettime, so that the Rust transport that runs on Zephyr also
 * runs in the host tests against real servers. build.rs compiles it, with the common files of
 * shim/common/ (sockets, TLS client, configuration store, error classes: the very code of the
 * Zephyr shim), when the cargo feature `zsock` is on and the target has an operating system.
 * This file holds what the POSIX platform provides (shim/common/smtp_shim_port.h): time,
 * entropy, the mutex, the log, the configuration store's lock, and the TLS client's CA file.
 *
 * TLS: the mbedTLS client of shim/common/smtp_shim_tls_mbedtls.c over a host build of mbedTLS
 * 3.6 or 4.x (build.rs links it; scripts/mbedtls-host builds 3.6). Implicit TLS is a plain
 * connect followed by the same handshake. The trust anchors come from a CA file (the
 * transport's, else $ZSMTP_CA_FILE, else $SSL_CERT_FILE). Built with -DSMTP_SHIM_NO_TLS
 * (build.rs: ZSMTP_SHIM_TLS=0; the TLS client is then not compiled), every TLS call answers
 * "unsupported".
 *
 * Test knobs (environment, read at each call; the Zephyr shim has Kconfig options instead):
 *   ZSMTP_SHIM_CLOCK_UNSET=1    smtp_shim_unix_time() reports a clock that was never set, as a
 *                               device without SNTP or RTC would;
 *   ZSMTP_TLS_REQUIRE_CLOCK=1   as CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK=y;
 *   ZSMTP_SHIM_LOG=1            log lines on stderr.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#ifndef _DARWIN_C_SOURCE
#define _DARWIN_C_SOURCE 1
#endif
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

#include "smtp_shim_port.h"

/* ---- Configuration store (shim/common/smtp_config_store.c) --------------------------------- */

static pthread_mutex_t smtp_cfg_mutex = PTHREAD_MUTEX_INITIALIZER;

void smtp_port_cfg_lock(void)
{
	(void)pthread_mutex_lock(&smtp_cfg_mutex);
}

void smtp_port_cfg_unlock(void)
{
	(void)pthread_mutex_unlock(&smtp_cfg_mutex);
}

/* The host build keeps values in memory only. */
int smtp_port_cfg_persist(const char *key, const char *value, size_t len)
{
	(void)key;
	(void)value;
	(void)len;
	return 0;
}

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

/* ---- Sockets (shim/common/smtp_shim_sockets.c) ---------------------------------------------- */

void smtp_port_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Not inherited by child processes of a host program; no SIGPIPE where MSG_NOSIGNAL is missing. */
void smtp_port_prepare_socket(int fd)
{
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
	{
		int one = 1;

		(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
	}
#endif
}

/* ---- TLS ------------------------------------------------------------------------------------ */

#if !defined(SMTP_SHIM_NO_TLS)

#include <mbedtls/build_info.h>
#include <mbedtls/x509_crt.h>

int smtp_port_tls_load_ca(mbedtls_x509_crt *chain, int32_t sec_tag, const char *ca_file)
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

int smtp_port_tls_require_clock(void)
{
	return getenv("ZSMTP_TLS_REQUIRE_CLOCK") != NULL;
}

#if !defined(MBEDTLS_THREADING_C)
/* mbedTLS without locks of its own: the shim's clients take turns (smtp_shim_tls_mbedtls.c). */
static pthread_mutex_t smtp_tls_mutex = PTHREAD_MUTEX_INITIALIZER;

void smtp_port_tls_lock(void)
{
	(void)pthread_mutex_lock(&smtp_tls_mutex);
}

void smtp_port_tls_unlock(void)
{
	(void)pthread_mutex_unlock(&smtp_tls_mutex);
}
#endif

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
