/*
 * zsmtp platform shim for Zephyr (shim/include/smtp_shim.h): sockets, time, entropy, context,
 * mutex and logging. Compiled into the image by the module's CMakeLists.txt when
 * CONFIG_SMTP_CLIENT=y. Its POSIX twin is shim/posix/smtp_shim_posix.c; the socket code of both
 * is shim/common/smtp_shim_sockets.h (the zsock_* names mapped in below), the rest is kept in
 * step by hand.
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
 * TLS (smtp_shim.h, "TLS"; design in docs/ARCHITECTURE.md, "TLS"):
 *   STARTTLS (CONFIG_SMTP_CLIENT_TLS_MBEDTLS): shim/common/smtp_shim_tls_mbedtls.h, mbedTLS
 *     driven over the plain socket, the same C the host tests run; its CA chain is read from the
 *     credential store with tls_credential_get(), TLS_CREDENTIAL_CA_CERTIFICATE, sec_tag_t
 *                                                include/zephyr/net/tls_credentials.h
 *     randomness from sys_csrand_get() (CONFIG_CSPRNG_ENABLED), else sys_rand_get(), as Zephyr's
 *     own TLS sockets do (subsys/net/lib/sockets/sockets_tls.c, tls_ctr_drbg_random)
 *                                                include/zephyr/random/random.h
 *   implicit TLS (CONFIG_NET_SOCKETS_SOCKOPT_TLS): a TLS socket, zsock_socket(family,
 *     SOCK_STREAM, IPPROTO_TLS_1_2), zsock_setsockopt(SOL_TLS, TLS_SEC_TAG_LIST / TLS_HOSTNAME /
 *     TLS_PEER_VERIFY = TLS_PEER_VERIFY_REQUIRED / TLS_CERT_VERIFY_CALLBACK with struct
 *     tls_cert_verify_cb), whose zsock_connect() runs the handshake and fails with ECONNABORTED
 *     when it fails             include/zephyr/net/socket.h, subsys/net/lib/sockets/sockets_tls.c
 *                               (ztls_connect_ctx, tls_mbedtls_handshake, tls_opt_*),
 *                               IPPROTO_TLS_1_2 in include/zephyr/net/net_ip.h;
 *     without TLS sockets but with CONFIG_SMTP_CLIENT_TLS_MBEDTLS: a plain connect and the
 *     STARTTLS handshake;
 *   the CA file of CONFIG_SMTP_CLIENT_TLS_CA_FILE, built in by CMakeLists.txt
 *     (generate_inc_file_for_target), is registered at boot with tls_credential_add() under
 *     CONFIG_SMTP_CLIENT_TLS_SEC_TAG                SYS_INIT: include/zephyr/init.h
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

#if defined(CONFIG_TLS_CREDENTIALS)
#include <zephyr/init.h>
#include <zephyr/net/tls_credentials.h>
#endif
#if defined(CONFIG_SMTP_CLIENT_TLS_MBEDTLS) || defined(CONFIG_NET_SOCKETS_SOCKOPT_TLS)
#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
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

/* The names shim/common/smtp_shim_sockets.h expects (zsock_*: include/zephyr/net/socket.h). */
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
#define SMTP_SOCK_POLLIN ZSOCK_POLLIN
#define SMTP_SOCK_POLLOUT ZSOCK_POLLOUT
#define SMTP_SOCK_SEND_FLAGS ZSOCK_MSG_DONTWAIT
#define SMTP_SOCK_RECV_FLAGS ZSOCK_MSG_DONTWAIT
#define SMTP_SOCK_F_GETFL ZVFS_F_GETFL
#define SMTP_SOCK_F_SETFL ZVFS_F_SETFL
#define SMTP_SOCK_O_NONBLOCK ZVFS_O_NONBLOCK
/* zsock_getaddrinfo() returns DNS_EAI_* codes (include/zephyr/net/dns_resolve.h). */
#define SMTP_SOCK_EAI_AGAIN DNS_EAI_AGAIN
#define SMTP_SOCK_EAI_MEMORY DNS_EAI_MEMORY
#define SMTP_SOCK_EAI_SYSTEM DNS_EAI_SYSTEM
#define SMTP_SOCK_UPTIME_MS() k_uptime_get()
#define SMTP_SOCK_FORMAT snprintk
#define SMTP_SOCK_DEBUG(...) LOG_DBG(__VA_ARGS__)
#define SMTP_SOCK_PREPARE(fd) ((void)(fd))
#include "../common/smtp_shim_sockets.h"

/* ---- TLS ------------------------------------------------------------------------------------ */

#if defined(CONFIG_TLS_CREDENTIALS)
/* The sec tag a negative argument stands for. */
static sec_tag_t smtp_tls_tag(int32_t sec_tag)
{
#if defined(CONFIG_SMTP_CLIENT_TLS_SEC_TAG)
	return sec_tag < 0 ? (sec_tag_t)CONFIG_SMTP_CLIENT_TLS_SEC_TAG : (sec_tag_t)sec_tag;
#else
	return (sec_tag_t)sec_tag;
#endif
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
#endif /* CONFIG_TLS_CREDENTIALS */

#if defined(CONFIG_SMTP_CLIENT_TLS_MBEDTLS)

/* The hooks shim/common/smtp_shim_tls_mbedtls.h expects. */

static int smtp_tls_io_send(int fd, const uint8_t *buf, size_t len)
{
	return smtp_shim_nb_send(fd, buf, len);
}

static int smtp_tls_io_recv(int fd, uint8_t *buf, size_t len)
{
	return smtp_shim_nb_recv(fd, buf, len);
}

static int smtp_tls_io_wait(int fd, int for_write, int64_t deadline)
{
	return smtp_shim_wait(fd, for_write ? SMTP_SOCK_POLLOUT : SMTP_SOCK_POLLIN, deadline);
}

static int smtp_tls_rng(void *unused, unsigned char *buf, size_t len)
{
	ARG_UNUSED(unused);
#if defined(CONFIG_CSPRNG_ENABLED)
	return sys_csrand_get(buf, len) == 0 ? 0 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
#else
	/* As Zephyr's TLS sockets do without a CSPRNG (they warn at boot): not for production. */
	sys_rand_get(buf, len);
	return 0;
#endif
}

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
		/* PEM (NUL-terminated, any number of certificates) or DER; parse copies. */
		rc = mbedtls_x509_crt_parse(chain, buf, len) < 0 ? -EINVAL : 0;
	} else {
		rc = -ENOENT;
	}
	mbedtls_free(buf);
	return rc;
}

#define SMTP_TLS_FORMAT snprintk
#include "../common/smtp_shim_tls_mbedtls.h"

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

#endif /* CONFIG_SMTP_CLIENT_TLS_MBEDTLS */

#if defined(CONFIG_NET_SOCKETS_SOCKOPT_TLS) && defined(CONFIG_TLS_CREDENTIALS)

/* What the verification of one TLS socket's handshake found (TLS_CERT_VERIFY_CALLBACK). */
struct smtp_tls_verify_note {
	bool called;
	uint32_t flags;
};

#if defined(CONFIG_NET_SOCKETS_TLS_CERT_VERIFY_CALLBACK)
/*
 * mbedTLS's verify callback (mbedtls_x509_crt_verify()): called for every certificate of the
 * chain with its flags. Only records them: the flags are left as they are, so a failed
 * verification still ends the handshake (TLS_PEER_VERIFY_REQUIRED).
 */
static int smtp_tls_note_flags(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct smtp_tls_verify_note *note = ctx;

	ARG_UNUSED(crt);
	ARG_UNUSED(depth);
	note->called = true;
	note->flags |= *flags;
	return 0;
}
#endif

/* Without the callback only "the handshake failed" is known. */
static int smtp_tls_socket_class(const struct smtp_tls_verify_note *note)
{
	if (!note->called || note->flags == 0U) {
		return SMTP_SHIM_TLS_HANDSHAKE;
	}
	if ((note->flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0U) {
		return SMTP_SHIM_TLS_UNTRUSTED;
	}
	if ((note->flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) != 0U) {
		return SMTP_SHIM_TLS_EXPIRED;
	}
	if ((note->flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0U) {
		return SMTP_SHIM_TLS_NAME_MISMATCH;
	}
	return SMTP_SHIM_TLS_UNTRUSTED;
}

/* One address: the connected TLS socket, or -errno with *tls_error set. */
static int smtp_tls_socket_try(const struct zsock_addrinfo *ai, const char *verify_name,
			       sec_tag_t tag, int *tls_error)
{
	sec_tag_t tags[1] = {tag};
	int verify = TLS_PEER_VERIFY_REQUIRED;
	struct smtp_tls_verify_note note = {.called = false, .flags = 0U};
	int fd;
	int rc;

	fd = zsock_socket(ai->ai_family, SOCK_STREAM, IPPROTO_TLS_1_2);
	if (fd < 0) {
		rc = -errno;
		*tls_error = (rc == -EPROTONOSUPPORT || rc == -EAFNOSUPPORT)
				     ? SMTP_SHIM_TLS_UNSUPPORTED
				     : SMTP_SHIM_TLS_CONNECT;
		return rc;
	}
	if (zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, sizeof(tags)) < 0 ||
	    zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, verify_name, strlen(verify_name) + 1U) < 0 ||
	    zsock_setsockopt(fd, SOL_TLS, TLS_PEER_VERIFY, &verify, sizeof(verify)) < 0) {
		rc = -errno;
		LOG_ERR("TLS: socket options refused: %d", rc);
		(void)zsock_close(fd);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		return rc;
	}
#if defined(CONFIG_NET_SOCKETS_TLS_CERT_VERIFY_CALLBACK)
	{
		struct tls_cert_verify_cb cb = {.cb = smtp_tls_note_flags, .ctx = &note};

		if (zsock_setsockopt(fd, SOL_TLS, TLS_CERT_VERIFY_CALLBACK, &cb, sizeof(cb)) < 0) {
			LOG_DBG("TLS: no verify callback (%d): failures are not classified", errno);
		}
	}
#endif
	/* TCP connect and handshake, bounded by Zephyr (smtp_shim.h). */
	if (zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = -errno;
		(void)zsock_close(fd);
		if (rc == -ECONNABORTED) {
			*tls_error = smtp_tls_socket_class(&note);
		} else if (rc == -ENOENT) {
			/* tls_mbedtls_set_credentials(): a sec tag without credentials. */
			*tls_error = SMTP_SHIM_TLS_NO_TRUST_ANCHORS;
		} else if (rc == -ENOMEM) {
			*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		} else if ((rc == -ETIMEDOUT || rc == -EAGAIN) && note.called) {
			*tls_error = SMTP_SHIM_TLS_TIMEOUT;
		} else {
			*tls_error = SMTP_SHIM_TLS_CONNECT;
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
		/* Another address may answer a refused connect; a failed handshake is final. */
		if (*tls_error != SMTP_SHIM_TLS_CONNECT) {
			break;
		}
	}
	zsock_freeaddrinfo(res);
	return last;
}

#elif defined(CONFIG_SMTP_CLIENT_TLS_MBEDTLS)

/* No TLS sockets: a plain connect, then the STARTTLS handshake (as the POSIX twin does). */
int smtp_shim_tls_connect(const char *host, uint16_t port, const char *verify_name,
			  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
			  struct smtp_shim_tls **tls, int *tls_error)
{
	return smtp_tls_connect_then_handshake(host, port, verify_name, sec_tag, ca_file, timeout_ms, tls,
					       tls_error);
}

#else

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
	LOG_ERR("TLS: implicit TLS is not in this build (CONFIG_NET_SOCKETS_SOCKOPT_TLS or "
		"CONFIG_SMTP_CLIENT_TLS_MBEDTLS)");
	return -ENOTSUP;
}

#endif /* implicit TLS */

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
