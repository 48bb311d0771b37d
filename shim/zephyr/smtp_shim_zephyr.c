/*
 * zsmtp platform shim for Zephyr (shim/include/smtp_shim.h): sockets, time, context, mutex,
 * logging and TLS. Compiled into the image by the module's CMakeLists.txt when
 * CONFIG_SMTP_CLIENT=y. Its POSIX twin is shim/posix/smtp_shim_posix.c; the socket code of both
 * is shim/common/smtp_shim_sockets.h and the TLS client of both is
 * shim/common/smtp_shim_tls_mbedtls.h (Zephyr's names mapped in below), so the host tests run
 * this file's logic; what else the two files do is kept in step by hand.
 *
 * Written for Zephyr 4.4 and 4.5 with the namespaced socket API only (NET_*, ZSOCK_*, net_*;
 * no CONFIG_NET_NAMESPACE_COMPAT_MODE). Every Zephyr and mbedTLS name used here is listed, with
 * the upstream file and the version it was checked at, in docs/ZEPHYR-UPSTREAM.md
 * (scripts/check-zephyr fails on a name that is not). The socket calls are __syscall static
 * inlines (their link symbols are z_impl_zsock_*), which is why the Rust side calls this C file
 * instead of Zephyr directly.
 *
 * TLS (design: docs/ARCHITECTURE.md, "TLS"):
 *   with CONFIG_SMTP_CLIENT_TLS_MBEDTLS (the module's client over Zephyr's built-in mbedTLS):
 *     STARTTLS and implicit TLS are shim/common/smtp_shim_tls_mbedtls.h over the plain socket,
 *     with the CA chain read from the TLS credential store (tls_credential_get()), the clock of
 *     sys_clock_gettime() for the certificate-date policy, and, when mbedTLS has no locks of
 *     its own (no MBEDTLS_THREADING_C), one k_mutex for all clients;
 *   otherwise, with CONFIG_NET_SOCKETS_SOCKOPT_TLS (offloaded TLS, e.g. a modem's): implicit TLS
 *     through a TLS socket (NET_IPPROTO_TLS_1_2), whose connect() runs the handshake; no mbedTLS
 *     header is needed. STARTTLS is then unavailable (a TLS socket cannot be upgraded);
 *   the CA file of CONFIG_SMTP_CLIENT_TLS_CA_FILE, built in by CMakeLists.txt
 *     (generate_inc_file_for_target), is registered at boot with tls_credential_add() under
 *     CONFIG_SMTP_CLIENT_TLS_SEC_TAG.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <string.h>
#include <time.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/dns_resolve.h>
#include <zephyr/net/socket.h>
#include <zephyr/random/random.h>
#include <zephyr/sys/clock.h>
#include <zephyr/sys/fdtable.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/util.h>

#if defined(CONFIG_TLS_CREDENTIALS)
#include <zephyr/init.h>
#include <zephyr/net/tls_credentials.h>
#endif

#if defined(CONFIG_SMTP_CLIENT_TLS_MBEDTLS)
#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
/* No TLS without a cryptographically secure random source. Kconfig makes this option depend on
 * one; these also refuse the two test-only settings that would let TLS draw from a predictable
 * generator while a CSPRNG exists: PSA's external generator allowed to fall back to
 * sys_rand_get(), and sys_csrand_get() routed to the test generator (which PSA's external
 * generator used before Zephyr PR 106478). PSA's legacy generator is accepted: with an entropy
 * driver it is seeded from that driver. TEST_RANDOM_GENERATOR alone changes nothing here. */
#if !defined(CONFIG_SMTP_CLIENT_TLS_INSECURE_RNG)
#if !defined(CONFIG_CSPRNG_ENABLED)
#error "zsmtp's TLS needs a CSPRNG (an entropy driver: CONFIG_CSPRNG_ENABLED)"
#endif
#if defined(CONFIG_MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG_ALLOW_NON_CSPRNG)
#error "zsmtp's TLS refuses CONFIG_MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG_ALLOW_NON_CSPRNG (tests only)"
#endif
#if defined(CONFIG_TEST_CSPRNG_GENERATOR)
#error "zsmtp's TLS refuses CONFIG_TEST_CSPRNG_GENERATOR: its numbers are predictable"
#endif
#endif
#endif

#include "smtp_shim.h"

LOG_MODULE_REGISTER(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

/* Implicit TLS through Zephyr's TLS sockets: only without the module's own TLS client. */
#if !defined(CONFIG_SMTP_CLIENT_TLS_MBEDTLS) && defined(CONFIG_NET_SOCKETS_SOCKOPT_TLS) &&         \
	defined(CONFIG_TLS_CREDENTIALS)
#define SMTP_TLS_SOCKETS 1
#endif

#include "../common/smtp_shim_errors.h"

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

/* ---- Sockets -------------------------------------------------------------------------------- */

/* The names shim/common/smtp_shim_sockets.h expects: include/zephyr/net/socket.h (zsock_*,
 * ZSOCK_*), include/zephyr/net/net_ip.h (NET_*, net_socklen_t), include/zephyr/sys/fdtable.h
 * (ZVFS_*), include/zephyr/net/dns_resolve.h (DNS_EAI_*). */
#define SMTP_SOCK_SOCKET zsock_socket
#define SMTP_SOCK_CONNECT zsock_connect
#define SMTP_SOCK_GETSOCKOPT zsock_getsockopt
#define SMTP_SOCK_SETSOCKOPT zsock_setsockopt
#define SMTP_SOCK_SEND zsock_send
#define SMTP_SOCK_RECV zsock_recv
#define SMTP_SOCK_CLOSE zsock_close
#define SMTP_SOCK_POLL zsock_poll
#define SMTP_SOCK_FCNTL zsock_fcntl
#define SMTP_SOCK_GETADDRINFO zsock_getaddrinfo
#define SMTP_SOCK_FREEADDRINFO zsock_freeaddrinfo
#define SMTP_SOCK_POLLFD struct zsock_pollfd
#define SMTP_SOCK_ADDRINFO struct zsock_addrinfo
#define SMTP_SOCK_SOCKLEN net_socklen_t
#define SMTP_SOCK_POLLIN ZSOCK_POLLIN
#define SMTP_SOCK_POLLOUT ZSOCK_POLLOUT
#define SMTP_SOCK_SEND_FLAGS ZSOCK_MSG_DONTWAIT
#define SMTP_SOCK_RECV_FLAGS ZSOCK_MSG_DONTWAIT
#define SMTP_SOCK_F_GETFL ZVFS_F_GETFL
#define SMTP_SOCK_F_SETFL ZVFS_F_SETFL
#define SMTP_SOCK_O_NONBLOCK ZVFS_O_NONBLOCK
#define SMTP_SOCK_STREAM NET_SOCK_STREAM
#define SMTP_SOCK_IPPROTO_TCP NET_IPPROTO_TCP
#define SMTP_SOCK_SOL_SOCKET ZSOCK_SOL_SOCKET
#define SMTP_SOCK_SO_ERROR ZSOCK_SO_ERROR
#define SMTP_SOCK_TCP_NODELAY ZSOCK_TCP_NODELAY
#define SMTP_SOCK_AI_NUMERICSERV ZSOCK_AI_NUMERICSERV
#if defined(CONFIG_SMTP_CLIENT_ADDRESS_FAMILY_IPV4)
#define SMTP_SOCK_FAMILY NET_AF_INET
#elif defined(CONFIG_SMTP_CLIENT_ADDRESS_FAMILY_IPV6)
#define SMTP_SOCK_FAMILY NET_AF_INET6
#else
#define SMTP_SOCK_FAMILY NET_AF_UNSPEC
#endif
/*
 * zsock_getaddrinfo() (subsys/net/lib/sockets/getaddrinfo.c) reports a DNS server that did not
 * answer in time as DNS_EAI_AGAIN (its wait ran out) or DNS_EAI_CANCELED (the resolver's own
 * timeout cancelled the query); DNS_EAI_INPROGRESS is a query still under way.
 */
#define SMTP_SOCK_EAI_TIMED_OUT(rc)                                                                \
	((rc) == DNS_EAI_AGAIN || (rc) == DNS_EAI_CANCELED || (rc) == DNS_EAI_INPROGRESS)
#define SMTP_SOCK_EAI_MEMORY DNS_EAI_MEMORY
#define SMTP_SOCK_EAI_SYSTEM DNS_EAI_SYSTEM
#define SMTP_SOCK_UPTIME_MS() k_uptime_get()
#define SMTP_SOCK_SLEEP_MS(ms) ((void)k_msleep(ms))
#define SMTP_SOCK_FORMAT snprintk
#define SMTP_SOCK_DEBUG(...) LOG_DBG(__VA_ARGS__)
#define SMTP_SOCK_PREPARE(fd) ((void)(fd))
#include "../common/smtp_shim_sockets.h"

/* ---- TLS ------------------------------------------------------------------------------------ */

#if defined(CONFIG_SMTP_CLIENT_TLS_MBEDTLS) || defined(SMTP_TLS_SOCKETS)
/* The sec tag a negative argument stands for. */
static sec_tag_t smtp_tls_tag(int32_t sec_tag)
{
	return sec_tag < 0 ? (sec_tag_t)CONFIG_SMTP_CLIENT_TLS_SEC_TAG : (sec_tag_t)sec_tag;
}

/* Whether a CA certificate is registered under tag (its size, or -ENOENT). */
static int smtp_tls_ca_size(sec_tag_t tag, size_t *len)
{
	uint8_t probe;
	int rc;

	*len = 0;
	/* -EFBIG with the size needed in *len when a credential exists (tls_credentials.h). */
	rc = tls_credential_get(tag, TLS_CREDENTIAL_CA_CERTIFICATE, &probe, len);
	if (rc == -EFBIG || (rc == 0 && *len > 0U)) {
		return 0;
	}
	return rc == 0 ? -ENOENT : rc;
}
#endif

#if defined(CONFIG_SMTP_CLIENT_TLS_MBEDTLS)

#if !defined(MBEDTLS_THREADING_C)
/* mbedTLS without locks of its own: this module's clients take turns (smtp_shim_tls_mbedtls.h). */
K_MUTEX_DEFINE(smtp_tls_mutex);
#endif

/* The hooks shim/common/smtp_shim_tls_mbedtls.h expects. */

static int smtp_tls_load_ca(mbedtls_x509_crt *chain, int32_t sec_tag, const char *ca_file)
{
	sec_tag_t tag = smtp_tls_tag(sec_tag);
	uint8_t *buf;
	size_t len;
	int rc;

	if (ca_file != NULL) {
		LOG_ERR("TLS: CA files are not read on Zephyr; provision the CA with tls_credential_add()");
		return -EINVAL;
	}
	rc = smtp_tls_ca_size(tag, &len);
	if (rc != 0) {
		LOG_ERR("TLS: no CA certificate under sec tag %d (%d)", (int)tag, rc);
		return -ENOENT;
	}
	buf = mbedtls_calloc(1, len);
	if (buf == NULL) {
		return -ENOMEM;
	}
	rc = tls_credential_get(tag, TLS_CREDENTIAL_CA_CERTIFICATE, buf, &len);
	if (rc == 0) {
		/* PEM (with its terminating NUL, any number of certificates) or DER; parse copies. */
		rc = mbedtls_x509_crt_parse(chain, buf, len);
		if (rc < 0) {
			LOG_ERR("TLS: the CA certificate under sec tag %d does not parse (-0x%04x)%s",
				(int)tag, (unsigned int)-rc,
				len > 0U && buf[len - 1U] != 0U ? ": PEM needs its terminating NUL" : "");
			rc = -EINVAL;
		} else {
			rc = 0;
		}
	} else {
		rc = -ENOENT;
	}
	mbedtls_free(buf);
	return rc;
}

#define SMTP_TLS_FORMAT snprintk
#define SMTP_TLS_REQUIRE_CLOCK() IS_ENABLED(CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK)
#define SMTP_TLS_LOCK() ((void)k_mutex_lock(&smtp_tls_mutex, K_FOREVER))
#define SMTP_TLS_UNLOCK() ((void)k_mutex_unlock(&smtp_tls_mutex))
#include "../common/smtp_shim_tls_mbedtls.h"

int smtp_shim_tls_connect(const char *host, uint16_t port, const char *verify_name,
			  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
			  struct smtp_shim_tls **tls, int *tls_error)
{
#if defined(CONFIG_SMTP_CLIENT_TLS_INSECURE_RNG)
	LOG_ERR("TLS: CONFIG_SMTP_CLIENT_TLS_INSECURE_RNG: the TLS keys are predictable (tests only)");
#endif
	return smtp_tls_connect_then_handshake(host, port, verify_name, sec_tag, ca_file, timeout_ms,
					       tls, tls_error);
}

#else /* !CONFIG_SMTP_CLIENT_TLS_MBEDTLS */

int smtp_shim_tls_start(int fd, const char *host, int32_t sec_tag, const char *ca_file,
			uint32_t timeout_ms, struct smtp_shim_tls **tls, int *tls_error)
{
	ARG_UNUSED(fd);
	ARG_UNUSED(host);
	ARG_UNUSED(sec_tag);
	ARG_UNUSED(ca_file);
	ARG_UNUSED(timeout_ms);
	if (tls != NULL) {
		*tls = NULL;
	}
	if (tls_error != NULL) {
		*tls_error = SMTP_SHIM_TLS_UNSUPPORTED;
	}
	LOG_ERR("TLS: STARTTLS is not in this build (CONFIG_SMTP_CLIENT_TLS_MBEDTLS)");
	return -ENOTSUP;
}

/* Without the module's TLS client no TLS state is ever handed out: these are never reached. */
int smtp_shim_tls_send(struct smtp_shim_tls *tls, const uint8_t *buf, size_t len,
		       uint32_t timeout_ms)
{
	ARG_UNUSED(tls);
	ARG_UNUSED(buf);
	ARG_UNUSED(len);
	ARG_UNUSED(timeout_ms);
	return -ENOTSUP;
}

int smtp_shim_tls_recv(struct smtp_shim_tls *tls, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	ARG_UNUSED(tls);
	ARG_UNUSED(buf);
	ARG_UNUSED(len);
	ARG_UNUSED(timeout_ms);
	return -ENOTSUP;
}

void smtp_shim_tls_close(struct smtp_shim_tls *tls, uint32_t timeout_ms)
{
	ARG_UNUSED(tls);
	ARG_UNUSED(timeout_ms);
}

#if defined(SMTP_TLS_SOCKETS)

/*
 * One address: the connected TLS socket, or -errno with *tls_error set. Zephyr's TLS socket runs
 * the handshake inside zsock_connect() and reports any failure of it, certificate verification
 * included, as ECONNABORTED (subsys/net/lib/sockets/sockets_tls.c); its own timeouts bound it
 * (CONFIG_NET_SOCKETS_CONNECT_TIMEOUT for TCP, CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT for the
 * handshake).
 */
static int smtp_tls_socket_try(const struct zsock_addrinfo *ai, const char *verify_name,
			       sec_tag_t tag, int *tls_error)
{
	sec_tag_t tags[1] = {tag};
	int verify = ZSOCK_TLS_PEER_VERIFY_REQUIRED;
	int fd;
	int rc;

	fd = zsock_socket(ai->ai_family, NET_SOCK_STREAM, NET_IPPROTO_TLS_1_2);
	if (fd < 0) {
		rc = -errno;
		*tls_error = (rc == -EPROTONOSUPPORT || rc == -EAFNOSUPPORT)
				     ? SMTP_SHIM_TLS_UNSUPPORTED
				     : SMTP_SHIM_TLS_HANDSHAKE;
		return rc;
	}
	if (zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_SEC_TAG_LIST, tags, sizeof(tags)) < 0 ||
	    zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_HOSTNAME, verify_name,
			     strlen(verify_name) + 1U) < 0 ||
	    zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_PEER_VERIFY, &verify, sizeof(verify)) < 0) {
		rc = -errno;
		LOG_ERR("TLS: socket options refused: %d", rc);
		(void)zsock_close(fd);
		/* -ENOENT: the sec tag holds no credential; -EINVAL: it does not parse. */
		*tls_error = (rc == -ENOENT || rc == -EINVAL) ? SMTP_SHIM_TLS_NO_TRUST_ANCHORS
							      : SMTP_SHIM_TLS_HANDSHAKE;
		return rc;
	}
	if (zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = -errno;
		(void)zsock_close(fd);
		switch (rc) {
		case -ECONNREFUSED:
		case -EHOSTUNREACH:
		case -ENETUNREACH:
			/* The TCP connect itself: another address may answer. */
			*tls_error = SMTP_SHIM_TLS_CONNECT;
			break;
		case -ETIMEDOUT:
		case -EAGAIN:
			*tls_error = SMTP_SHIM_TLS_TIMEOUT;
			break;
		case -ENOENT:
			*tls_error = SMTP_SHIM_TLS_NO_TRUST_ANCHORS;
			break;
		default:
			*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
			break;
		}
		LOG_DBG("TLS socket connect failed: %d (class %d)", rc, *tls_error);
		return rc;
	}
	return fd;
}

int smtp_shim_tls_connect(const char *host, uint16_t port, const char *verify_name,
			  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
			  struct smtp_shim_tls **tls, int *tls_error)
{
	struct zsock_addrinfo *res = NULL;
	const struct zsock_addrinfo *ai;
	int64_t deadline = k_uptime_get() + (int64_t)timeout_ms;
	sec_tag_t tag = smtp_tls_tag(sec_tag);
	int64_t now;
	size_t ca_len;
	int last = -SMTP_SHIM_EHOSTNOTFOUND;
	int rc;

	if (tls == NULL || tls_error == NULL) {
		return -EINVAL;
	}
	*tls = NULL;
	*tls_error = SMTP_SHIM_TLS_CONNECT;
	if (host == NULL || host[0] == '\0' || port == 0U) {
		return -EINVAL;
	}
	if (verify_name == NULL) {
		verify_name = host;
	}
	if (ca_file != NULL || smtp_tls_ca_size(tag, &ca_len) != 0) {
		LOG_ERR("TLS: no CA certificate under sec tag %d", (int)tag);
		*tls_error = SMTP_SHIM_TLS_NO_TRUST_ANCHORS;
		return -ENOENT;
	}
	/* The TLS socket checks certificate dates as its stack was built to; a set clock can only
	 * be required here, before connecting. */
	if (IS_ENABLED(CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK) && smtp_shim_unix_time(&now) != 0) {
		LOG_ERR("TLS: the wall clock is not set, and certificate dates must be checked");
		*tls_error = SMTP_SHIM_TLS_CLOCK_NOT_SET;
		return -EAGAIN;
	}
	rc = smtp_shim_resolve(host, port, &res);
	if (rc != 0) {
		return rc;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd;

		if (smtp_shim_left(deadline) == 0) {
			last = -ETIMEDOUT;
			*tls_error = SMTP_SHIM_TLS_CONNECT;
			break;
		}
		fd = smtp_tls_socket_try(ai, verify_name, tag, tls_error);
		if (fd >= 0) {
			smtp_shim_nodelay(fd);
			zsock_freeaddrinfo(res);
			*tls_error = SMTP_SHIM_TLS_OK;
			return fd;
		}
		last = fd;
		/* Another address may answer a refused or unreachable TCP connect; anything that
		 * happened after it (the handshake) would fail the same way again. */
		if (*tls_error != SMTP_SHIM_TLS_CONNECT) {
			break;
		}
	}
	zsock_freeaddrinfo(res);
	return last;
}

#else /* neither the module's TLS client nor TLS sockets */

int smtp_shim_tls_connect(const char *host, uint16_t port, const char *verify_name,
			  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
			  struct smtp_shim_tls **tls, int *tls_error)
{
	ARG_UNUSED(host);
	ARG_UNUSED(port);
	ARG_UNUSED(verify_name);
	ARG_UNUSED(sec_tag);
	ARG_UNUSED(ca_file);
	ARG_UNUSED(timeout_ms);
	if (tls != NULL) {
		*tls = NULL;
	}
	if (tls_error != NULL) {
		*tls_error = SMTP_SHIM_TLS_UNSUPPORTED;
	}
	LOG_ERR("TLS: implicit TLS is not in this build (CONFIG_SMTP_CLIENT_TLS_MBEDTLS or "
		"CONFIG_NET_SOCKETS_SOCKOPT_TLS)");
	return -ENOTSUP;
}

#endif /* SMTP_TLS_SOCKETS */
#endif /* CONFIG_SMTP_CLIENT_TLS_MBEDTLS */

#if defined(SMTP_CLIENT_TLS_CA_INC)
/*
 * CONFIG_SMTP_CLIENT_TLS_CA_FILE, converted by CMakeLists.txt (generate_inc_file_for_target);
 * a PEM file gets the terminating NUL mbedTLS needs to recognise PEM.
 */
static const unsigned char smtp_client_ca[] = {
#include SMTP_CLIENT_TLS_CA_INC
#if SMTP_CLIENT_TLS_CA_PEM
	0x00
#endif
};

static int smtp_client_ca_register(void)
{
	int rc = tls_credential_add((sec_tag_t)CONFIG_SMTP_CLIENT_TLS_SEC_TAG,
				    TLS_CREDENTIAL_CA_CERTIFICATE, smtp_client_ca,
				    sizeof(smtp_client_ca));

	if (rc == -EEXIST) {
		LOG_WRN("TLS: sec tag %d already holds a CA certificate; CONFIG_SMTP_CLIENT_TLS_CA_FILE "
			"not registered", CONFIG_SMTP_CLIENT_TLS_SEC_TAG);
	} else if (rc != 0) {
		LOG_ERR("TLS: registering the CA certificate failed: %d", rc);
	}
	return 0;
}

SYS_INIT(smtp_client_ca_register, APPLICATION, CONFIG_APPLICATION_INIT_PRIORITY);
#endif /* SMTP_CLIENT_TLS_CA_INC */
