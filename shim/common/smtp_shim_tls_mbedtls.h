/*
 * The TLS client of the shim over mbedTLS, shared by the Zephyr shim and its POSIX twin: the
 * STARTTLS handshake over an open socket, and TLS reads and writes after it (smtp_shim.h,
 * "TLS"). The same C runs on the device and in the host tests (`cargo test --features zsock`
 * links the POSIX twin against the host's mbedTLS).
 *
 * Included once, by shim/zephyr/smtp_shim_zephyr.c or shim/posix/smtp_shim_posix.c, after
 * <mbedtls/...> may be included and after they defined these static functions:
 *   int smtp_tls_io_send(int fd, const uint8_t *buf, size_t len);
 *   int smtp_tls_io_recv(int fd, uint8_t *buf, size_t len);
 *         one non-blocking socket call: bytes moved (recv: 0 = peer closed), -EAGAIN when it
 *         would block, or another negative errno;
 *   int smtp_tls_io_wait(int fd, int for_write, int64_t deadline);
 *         1 ready, 0 deadline passed (uptime ms), or a negative errno;
 *   int smtp_tls_rng(void *unused, unsigned char *buf, size_t len);
 *         cryptographically secure random bytes: 0, or an mbedTLS error;
 *   int smtp_tls_load_ca(mbedtls_x509_crt *chain, int32_t sec_tag, const char *ca_file);
 *         the trust anchors (smtp_shim.h): 0, -ENOENT none configured, -EINVAL unreadable or
 *         unparsable, -ENOMEM;
 * and the macro SMTP_TLS_FORMAT (snprintf or snprintk) for log lines.
 * It defines smtp_shim_tls_start(), smtp_shim_tls_send(), smtp_shim_tls_recv(),
 * smtp_shim_tls_close(), the helper smtp_tls_handshake(), and smtp_tls_connect_then_handshake(),
 * implicit TLS without TLS sockets (it calls smtp_shim_connect() and smtp_shim_close() of
 * shim/common/smtp_shim_sockets.h, included before this file).
 *
 * Works with mbedTLS 2.28 (Debian's libmbedtls-dev) and 3.x (Zephyr v4.3 ships 3.6); the
 * differences are under MBEDTLS_VERSION_NUMBER.
 *
 * Memory: one connection holds an mbedtls_ssl_context, an mbedtls_ssl_config and the parsed CA
 * chain in one mbedtls_calloc() block, plus the record buffers mbedtls_ssl_setup() allocates
 * (MBEDTLS_SSL_IN_CONTENT_LEN + MBEDTLS_SSL_OUT_CONTENT_LEN + overhead); everything is freed by
 * smtp_shim_tls_close() or by the failing call itself. Nothing is static.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef ZSMTP_SMTP_SHIM_TLS_MBEDTLS_H_
#define ZSMTP_SMTP_SHIM_TLS_MBEDTLS_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/version.h>
#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && \
	(defined(MBEDTLS_USE_PSA_CRYPTO) || defined(MBEDTLS_SSL_PROTO_TLS1_3))
#include <psa/crypto.h>
#define SMTP_TLS_NEEDS_PSA_INIT 1
#endif

#if MBEDTLS_VERSION_NUMBER >= 0x04000000
#error "zsmtp's TLS shim supports mbedTLS 2.28 and 3.x (Zephyr v4.3 ships 3.6); 4.x is not supported yet"
#endif
#if !defined(MBEDTLS_SSL_CLI_C) || !defined(MBEDTLS_X509_CRT_PARSE_C)
#error "zsmtp's TLS needs MBEDTLS_SSL_CLI_C and MBEDTLS_X509_CRT_PARSE_C in the mbedTLS configuration"
#endif

#include "smtp_shim.h"

/* What a failing BIO callback returns to mbedTLS (the value of MBEDTLS_ERR_NET_SEND_FAILED; the
 * net module need not be built). The socket's errno is kept in the state for the caller. */
#define SMTP_TLS_ERR_IO (-0x004E)

struct smtp_shim_tls {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	int fd;
	/* errno of the socket call that failed under mbedTLS (0: none). */
	int io_error;
};

static void smtp_tls_logf(uint32_t level, const char *what, int code)
{
	char line[96];
	int n = SMTP_TLS_FORMAT(line, sizeof(line), "tls: %s (-0x%04x)", what,
				(unsigned int)(code < 0 ? -code : code));

	if (n > 0) {
		smtp_shim_log(level, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1U);
	}
}

static int smtp_tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct smtp_shim_tls *tls = ctx;
	int n = smtp_tls_io_send(tls->fd, buf, len);

	if (n >= 0) {
		return n;
	}
	if (n == -EAGAIN) {
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	}
	tls->io_error = -n;
	return SMTP_TLS_ERR_IO;
}

static int smtp_tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct smtp_shim_tls *tls = ctx;
	int n = smtp_tls_io_recv(tls->fd, buf, len);

	if (n >= 0) {
		return n; /* 0: the peer closed (mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF) */
	}
	if (n == -EAGAIN) {
		return MBEDTLS_ERR_SSL_WANT_READ;
	}
	tls->io_error = -n;
	return SMTP_TLS_ERR_IO;
}

/*
 * The class of a failed certificate verification, from mbedTLS's verify flags (x509.h): a chain
 * that does not lead to a trust anchor first, then validity dates, then the name; any other
 * defect (key usage, weak hash or key, missing certificate) is an untrusted chain.
 */
static int smtp_tls_classify_flags(uint32_t flags)
{
	if ((flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0U) {
		return SMTP_SHIM_TLS_UNTRUSTED;
	}
	if ((flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) != 0U) {
		return SMTP_SHIM_TLS_EXPIRED;
	}
	if ((flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0U) {
		return SMTP_SHIM_TLS_NAME_MISMATCH;
	}
	return SMTP_SHIM_TLS_UNTRUSTED;
}

static void smtp_tls_free(struct smtp_shim_tls *tls)
{
	if (tls == NULL) {
		return;
	}
	mbedtls_ssl_free(&tls->ssl);
	mbedtls_ssl_config_free(&tls->conf);
	mbedtls_x509_crt_free(&tls->ca);
	mbedtls_free(tls);
}

/* Allocates and configures the state for a client handshake on fd. NULL on failure, with
 * *tls_error set. */
static struct smtp_shim_tls *smtp_tls_new(int fd, const char *host, int32_t sec_tag,
					  const char *ca_file, int *tls_error)
{
	struct smtp_shim_tls *tls;
	int ret;

#if defined(SMTP_TLS_NEEDS_PSA_INIT)
	/* TLS 1.3 and MBEDTLS_USE_PSA_CRYPTO run on PSA; initialising twice is harmless. */
	if (psa_crypto_init() != PSA_SUCCESS) {
		smtp_tls_logf(1, "psa_crypto_init failed", 0);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		return NULL;
	}
#endif
	tls = mbedtls_calloc(1, sizeof(*tls));
	if (tls == NULL) {
		smtp_tls_logf(1, "no memory for the TLS state", 0);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		return NULL;
	}
	tls->fd = fd;
	mbedtls_ssl_init(&tls->ssl);
	mbedtls_ssl_config_init(&tls->conf);
	mbedtls_x509_crt_init(&tls->ca);

	ret = smtp_tls_load_ca(&tls->ca, sec_tag, ca_file);
	if (ret != 0) {
		smtp_tls_logf(1, ret == -ENOENT ? "no CA certificate configured"
						: "the CA certificate cannot be loaded",
			      ret);
		*tls_error = ret == -ENOMEM ? SMTP_SHIM_TLS_HANDSHAKE : SMTP_SHIM_TLS_NO_TRUST_ANCHORS;
		goto fail;
	}
	ret = mbedtls_ssl_config_defaults(&tls->conf, MBEDTLS_SSL_IS_CLIENT,
					  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		smtp_tls_logf(1, "mbedtls_ssl_config_defaults failed", ret);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		goto fail;
	}
	/* TLS 1.2 at least (3.x has nothing older; 2.28 may still offer 1.0 and 1.1). */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	mbedtls_ssl_conf_min_tls_version(&tls->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
	mbedtls_ssl_conf_min_version(&tls->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
#endif
	mbedtls_ssl_conf_authmode(&tls->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&tls->conf, &tls->ca, NULL);
	mbedtls_ssl_conf_rng(&tls->conf, smtp_tls_rng, NULL);

	ret = mbedtls_ssl_setup(&tls->ssl, &tls->conf);
	if (ret != 0) {
		smtp_tls_logf(1, "mbedtls_ssl_setup failed (memory?)", ret);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		goto fail;
	}
	/* The name the certificate must carry; also sent as SNI. */
	ret = mbedtls_ssl_set_hostname(&tls->ssl, host);
	if (ret != 0) {
		smtp_tls_logf(1, "mbedtls_ssl_set_hostname failed", ret);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		goto fail;
	}
	mbedtls_ssl_set_bio(&tls->ssl, tls, smtp_tls_bio_send, smtp_tls_bio_recv, NULL);
	return tls;

fail:
	smtp_tls_free(tls);
	return NULL;
}

/*
 * Runs a client handshake on the connected socket fd until deadline (uptime ms). 0 with *out set,
 * or a negative errno with *tls_error set and nothing left allocated.
 */
static int smtp_tls_handshake(int fd, const char *host, int32_t sec_tag, const char *ca_file,
			      int64_t deadline, struct smtp_shim_tls **out, int *tls_error)
{
	struct smtp_shim_tls *tls = smtp_tls_new(fd, host, sec_tag, ca_file, tls_error);
	int ret;

	if (tls == NULL) {
		return *tls_error == SMTP_SHIM_TLS_NO_TRUST_ANCHORS ? -ENOENT : -ENOMEM;
	}
	for (;;) {
		int w;

		ret = mbedtls_ssl_handshake(&tls->ssl);
		if (ret == 0) {
			break;
		}
		if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
				uint32_t flags = mbedtls_ssl_get_verify_result(&tls->ssl);

				smtp_tls_logf(2, "server certificate rejected, verify flags", (int)flags);
				*tls_error = smtp_tls_classify_flags(flags);
				ret = -EACCES;
			} else {
				smtp_tls_logf(2, "handshake failed", ret);
				*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
				ret = tls->io_error != 0 ? -tls->io_error : -ECONNABORTED;
			}
			smtp_tls_free(tls);
			return ret;
		}
		w = smtp_tls_io_wait(fd, ret == MBEDTLS_ERR_SSL_WANT_WRITE, deadline);
		if (w <= 0) {
			smtp_tls_logf(2, w == 0 ? "handshake timed out" : "waiting in the handshake failed",
				      w);
			*tls_error = w == 0 ? SMTP_SHIM_TLS_TIMEOUT : SMTP_SHIM_TLS_HANDSHAKE;
			smtp_tls_free(tls);
			return w == 0 ? -ETIMEDOUT : w;
		}
	}
	*out = tls;
	*tls_error = SMTP_SHIM_TLS_OK;
	return 0;
}

int smtp_shim_tls_start(int fd, const char *host, int32_t sec_tag, const char *ca_file,
			uint32_t timeout_ms, struct smtp_shim_tls **tls, int *tls_error)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;

	if (tls == NULL || tls_error == NULL) {
		return -EINVAL;
	}
	*tls = NULL;
	*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
	if (fd < 0 || host == NULL || host[0] == '\0') {
		return -EINVAL;
	}
	return smtp_tls_handshake(fd, host, sec_tag, ca_file, deadline, tls, tls_error);
}

/* After an mbedTLS read or write error: the socket's errno, or -ECONNABORTED. */
static int smtp_tls_io_failure(struct smtp_shim_tls *tls, int ret, const char *what)
{
	smtp_tls_logf(2, what, ret);
	return tls->io_error != 0 ? -tls->io_error : -ECONNABORTED;
}

int smtp_shim_tls_send(struct smtp_shim_tls *tls, const uint8_t *buf, size_t len,
		       uint32_t timeout_ms)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;

	if (len == 0U) {
		return 0;
	}
	if (tls == NULL || buf == NULL) {
		return -EINVAL;
	}
	if (len > INT32_MAX) {
		len = INT32_MAX;
	}
	for (;;) {
		int ret = mbedtls_ssl_write(&tls->ssl, buf, len);
		int w;

		if (ret > 0) {
			return ret;
		}
		if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
			return smtp_tls_io_failure(tls, ret, "write failed");
		}
		w = smtp_tls_io_wait(tls->fd, ret == MBEDTLS_ERR_SSL_WANT_WRITE, deadline);
		if (w == 0) {
			return -ETIMEDOUT;
		}
		if (w < 0) {
			return w;
		}
	}
}

int smtp_shim_tls_recv(struct smtp_shim_tls *tls, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;

	if (len == 0U) {
		return 0;
	}
	if (tls == NULL || buf == NULL) {
		return -EINVAL;
	}
	if (len > INT32_MAX) {
		len = INT32_MAX;
	}
	for (;;) {
		int ret = mbedtls_ssl_read(&tls->ssl, buf, len);
		int w;

		if (ret > 0) {
			return ret;
		}
		if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    ret == MBEDTLS_ERR_SSL_CONN_EOF) {
			return 0;
		}
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
		if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			continue; /* TLS 1.3: a ticket, no data */
		}
#endif
		if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
			return smtp_tls_io_failure(tls, ret, "read failed");
		}
		w = smtp_tls_io_wait(tls->fd, ret == MBEDTLS_ERR_SSL_WANT_WRITE, deadline);
		if (w == 0) {
			return -ETIMEDOUT;
		}
		if (w < 0) {
			return w;
		}
	}
}

void smtp_shim_tls_close(struct smtp_shim_tls *tls, uint32_t timeout_ms)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;

	if (tls == NULL) {
		return;
	}
	/* Best effort: a peer that is gone or slow does not hold the close up. */
	for (;;) {
		int ret = mbedtls_ssl_close_notify(&tls->ssl);

		if (ret != MBEDTLS_ERR_SSL_WANT_WRITE && ret != MBEDTLS_ERR_SSL_WANT_READ) {
			break;
		}
		if (smtp_tls_io_wait(tls->fd, ret == MBEDTLS_ERR_SSL_WANT_WRITE, deadline) <= 0) {
			break;
		}
	}
	smtp_tls_free(tls);
}

/*
 * Implicit TLS without TLS sockets: a plain connect, then the handshake at once, both within
 * timeout_ms. Returns the socket, or a negative errno with *tls_error saying which part failed.
 * (static inline: a shim with TLS sockets does not use it.)
 */
static inline int smtp_tls_connect_then_handshake(const char *host, uint16_t port, const char *verify_name,
						  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
						  struct smtp_shim_tls **tls, int *tls_error)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;
	int fd;
	int rc;

	if (tls == NULL || tls_error == NULL) {
		return -EINVAL;
	}
	*tls = NULL;
	*tls_error = SMTP_SHIM_TLS_CONNECT;
	fd = smtp_shim_connect(host, port, timeout_ms);
	if (fd < 0) {
		return fd;
	}
	rc = smtp_tls_handshake(fd, verify_name != NULL ? verify_name : host, sec_tag, ca_file,
				deadline, tls, tls_error);
	if (rc < 0) {
		smtp_shim_close(fd);
		return rc;
	}
	return fd;
}

#endif /* ZSMTP_SMTP_SHIM_TLS_MBEDTLS_H_ */
