/*
 * The TLS client of the shim over mbedTLS, shared by the Zephyr shim and its POSIX twin: the
 * STARTTLS handshake over an open socket, implicit TLS as a plain connect followed by the same
 * handshake, and TLS reads and writes after it (smtp_shim.h, "TLS"). The same C runs on the
 * device and in the host tests (`cargo test --features zsock` links the POSIX twin against a host
 * build of mbedTLS).
 *
 * The platform provides the trust anchors (smtp_port_tls_load_ca()), the clock policy
 * (smtp_port_tls_require_clock()) and, for an mbedTLS without locks of its own, one lock
 * (smtp_port_tls_lock()): smtp_shim_port.h. The waits, the back-off and the non-blocking socket
 * calls are those of smtp_shim_sockets.c. The platform's smtp_shim_tls_connect() calls
 * smtp_tls_connect_then_handshake() (implicit TLS without TLS sockets).
 *
 * mbedTLS versions: 4.x with TF-PSA-Crypto (Zephyr 4.4 and 4.5 ship 4.1.1 with TF-PSA-Crypto
 * 1.1.1) and the 3.6 LTS (the host tests build it from the crates.io package
 * embedded-mbedtls-sys 0.2.0: scripts/mbedtls-host). One code path: randomness is the PSA
 * random generator in both (mbedTLS 4 uses it by itself; 3.6 is handed mbedtls_psa_get_random),
 * so psa_crypto_init() is called before any other mbedTLS call. The one difference is under
 * MBEDTLS_VERSION_NUMBER.
 *
 * Threads: several clients may run TLS at once, in different threads, and share mbedTLS's global
 * state (the PSA random generator and key store; on Zephyr also the mbedTLS heap). mbedTLS built
 * with MBEDTLS_THREADING_C locks that state itself. Without it, every mbedTLS call of this file
 * runs under smtp_port_tls_lock(): the clients of this module are then safe with each other,
 * though not with other users of mbedTLS in other threads (Zephyr's TLS sockets, for example).
 * Waits on the socket happen outside the lock, so one slow server does not hold the other clients
 * up.
 *
 * Certificate dates are checked here, in the verify callback, against the shim's wall clock
 * (smtp_shim_unix_time(): Zephyr's SYS_CLOCK_REALTIME), for every certificate of the chain; a
 * verdict mbedTLS reached with its own clock (libc time(), with MBEDTLS_HAVE_TIME_DATE) is
 * replaced, so one clock decides and mbedTLS needs no time support. While that clock was never
 * set (-EAGAIN or -ENOTSUP: no SNTP or RTC yet) every certificate would look "not yet valid", so
 * the dates are then not held against the server (the chain and the name still are) and a
 * warning is logged; with smtp_port_tls_require_clock() the handshake is refused instead
 * (SMTP_SHIM_TLS_CLOCK_NOT_SET), before a byte is sent.
 *
 * Memory: one connection holds an mbedtls_ssl_context, an mbedtls_ssl_config and the parsed CA
 * chain in one mbedtls_calloc() block, plus the record buffers mbedtls_ssl_setup() allocates
 * (MBEDTLS_SSL_IN_CONTENT_LEN + MBEDTLS_SSL_OUT_CONTENT_LEN + overhead) and the handshake's
 * transient state; everything is freed by smtp_shim_tls_close() or by the failing call itself.
 * Nothing is static.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/build_info.h>
#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#if MBEDTLS_VERSION_NUMBER < 0x03060000
#error "zsmtp's TLS needs mbedTLS 3.6 or 4.x (Zephyr 4.4 and 4.5 ship 4.1.1)"
#endif
#if MBEDTLS_VERSION_NUMBER < 0x04000000
/* mbedtls_psa_get_random(): the PSA random generator as an f_rng for mbedtls_ssl_conf_rng(). */
#include <mbedtls/psa_util.h>
#if !defined(MBEDTLS_PSA_CRYPTO_CLIENT)
#error "zsmtp's TLS uses the PSA random generator: mbedTLS 3.6 needs MBEDTLS_PSA_CRYPTO_C"
#endif
#endif
#if !defined(MBEDTLS_SSL_CLI_C) || !defined(MBEDTLS_X509_CRT_PARSE_C)
#error "zsmtp's TLS needs MBEDTLS_SSL_CLI_C and MBEDTLS_X509_CRT_PARSE_C (Zephyr: CONFIG_MBEDTLS_SSL_PROTO_TLS1_2, which brings the client, and CONFIG_MBEDTLS_X509_CRT_PARSE_C)"
#endif
#if !defined(MBEDTLS_SSL_PROTO_TLS1_2) && !defined(MBEDTLS_SSL_PROTO_TLS1_3)
#error "zsmtp's TLS needs TLS 1.2 or 1.3 (Zephyr: CONFIG_MBEDTLS_SSL_PROTO_TLS1_2)"
#endif
#if !defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
#error "zsmtp's TLS sends the server name (SNI): MBEDTLS_SSL_SERVER_NAME_INDICATION is needed (Zephyr: CONFIG_MBEDTLS_SSL_SERVER_NAME_INDICATION)"
#endif
#if defined(MBEDTLS_THREADING_C)
#define SMTP_TLS_ENTER() ((void)0)
#define SMTP_TLS_LEAVE() ((void)0)
#else
#define SMTP_TLS_ENTER() smtp_port_tls_lock()
#define SMTP_TLS_LEAVE() smtp_port_tls_unlock()
#endif
/*
 * A server's Certificate message (a chain of 3-5 KB) arrives in records of up to 16 KB. With a
 * smaller input buffer the client asks for smaller records (Maximum Fragment Length, RFC 6066),
 * which servers may refuse: then the handshake fails with a record overflow.
 */
#if MBEDTLS_SSL_IN_CONTENT_LEN < 16384
#if !defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) || MBEDTLS_SSL_IN_CONTENT_LEN < 512
#error "zsmtp's TLS: MBEDTLS_SSL_IN_CONTENT_LEN below 16384 needs MBEDTLS_SSL_MAX_FRAGMENT_LENGTH (Zephyr: CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=16384; Zephyr defines the fragment-length extension only without TLS 1.3)"
#endif
#define SMTP_TLS_MFL                                                                               \
	(MBEDTLS_SSL_IN_CONTENT_LEN >= 4096   ? MBEDTLS_SSL_MAX_FRAG_LEN_4096                      \
	 : MBEDTLS_SSL_IN_CONTENT_LEN >= 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048                      \
	 : MBEDTLS_SSL_IN_CONTENT_LEN >= 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024                      \
					      : MBEDTLS_SSL_MAX_FRAG_LEN_512)
#endif

#include "smtp_shim_port.h"

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
	/* The last send found no network buffer (ENOBUFS): wait by backing off, not by poll. */
	int send_starved;
	/* The wall clock is not set: certificate dates are not held against the server. */
	int ignore_dates;
	/* Else the time they are checked against (seconds since 1970, UTC). */
	int64_t now;
};

static void smtp_tls_logf(uint32_t level, const char *what, int code)
{
	char line[112];
	int n = SMTP_SHIM_FORMAT(line, sizeof(line), "tls: %s (-0x%04x)", what,
				(unsigned int)(code < 0 ? -code : code));

	if (n > 0) {
		smtp_shim_log(level, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1U);
	}
}

static int smtp_tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct smtp_shim_tls *tls = ctx;
	int n = smtp_shim_nb_send(tls->fd, buf, len);

	tls->send_starved = n == -ENOBUFS;
	if (n >= 0) {
		return n;
	}
	if (n == -EAGAIN || n == -ENOBUFS) {
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	}
	tls->io_error = -n;
	return SMTP_TLS_ERR_IO;
}

static int smtp_tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct smtp_shim_tls *tls = ctx;
	int n = smtp_shim_nb_recv(tls->fd, buf, len);

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
 * Waits until mbedTLS can go on after `want` (MBEDTLS_ERR_SSL_WANT_READ or _WANT_WRITE), or until
 * deadline: 1 go on, 0 deadline passed, or a negative errno. A send that found no network buffer
 * is retried after a back-off: poll() reports the socket writable while the stack has no buffer.
 */
static int smtp_tls_wait(struct smtp_shim_tls *tls, int want, int64_t deadline, int *backoff_ms)
{
	if (want == MBEDTLS_ERR_SSL_WANT_WRITE && tls->send_starved) {
		return smtp_shim_back_off(backoff_ms, deadline);
	}
	*backoff_ms = 0;
	return smtp_shim_wait(tls->fd, want == MBEDTLS_ERR_SSL_WANT_WRITE ? SMTP_SOCK_POLLOUT : SMTP_SOCK_POLLIN,
			      deadline);
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

/* Seconds since 1970 of an X.509 time (UTC; the proleptic Gregorian calendar). */
static int64_t smtp_tls_x509_seconds(const mbedtls_x509_time *t)
{
	int64_t y = (int64_t)t->year - (t->mon <= 2 ? 1 : 0);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t year_of_era = y - era * 400;
	int64_t day_of_year = (153 * ((t->mon + 9) % 12) + 2) / 5 + t->day - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	int64_t days = era * 146097 + day_of_era - 719468;

	return days * 86400 + (int64_t)t->hour * 3600 + (int64_t)t->min * 60 + t->sec;
}

/*
 * mbedTLS's verify callback, called for every certificate of the chain: the dates are judged
 * here, against the shim's clock, or not at all while it is not set (the policy at the top of
 * this file). Every other flag is left, so verification still fails on it
 * (MBEDTLS_SSL_VERIFY_REQUIRED).
 */
static int smtp_tls_verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct smtp_shim_tls *tls = ctx;

	(void)depth;
	*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
	if (!tls->ignore_dates) {
		if (tls->now < smtp_tls_x509_seconds(&crt->valid_from)) {
			*flags |= MBEDTLS_X509_BADCERT_FUTURE;
		}
		if (tls->now > smtp_tls_x509_seconds(&crt->valid_to)) {
			*flags |= MBEDTLS_X509_BADCERT_EXPIRED;
		}
	}
	return 0;
}

/* Under SMTP_TLS_ENTER(). */
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

/*
 * The date policy for one handshake: 0 to go on (*ignore_dates set while the clock is not set,
 * else *now the time to check against), or -EAGAIN when the clock is not set and a set clock is
 * required.
 */
static int smtp_tls_date_policy(int *ignore_dates, int64_t *now)
{
	*now = 0;
	*ignore_dates = smtp_shim_unix_time(now) != 0;
	if (!*ignore_dates) {
		return 0;
	}
	if (smtp_port_tls_require_clock()) {
		smtp_tls_logf(1, "the wall clock is not set, and certificate dates must be checked", 0);
		return -EAGAIN;
	}
	smtp_tls_logf(2, "the wall clock is not set: certificate dates are not checked", 0);
	return 0;
}

/* Allocates and configures the state for a client handshake on fd, under SMTP_TLS_ENTER(). NULL
 * on failure, with *tls_error set. */
static struct smtp_shim_tls *smtp_tls_new_locked(int fd, const char *host, int32_t sec_tag,
						 const char *ca_file, int ignore_dates, int64_t now,
						 int *tls_error)
{
	struct smtp_shim_tls *tls;
	int ret;

	/* Before any other mbedTLS call (mbedTLS 4 migration guide); idempotent. */
	if (psa_crypto_init() != PSA_SUCCESS) {
		smtp_tls_logf(1, "psa_crypto_init failed (no entropy source?)", 0);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		return NULL;
	}
	tls = mbedtls_calloc(1, sizeof(*tls));
	if (tls == NULL) {
		smtp_tls_logf(1, "no memory for the TLS state", 0);
		*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
		return NULL;
	}
	tls->fd = fd;
	tls->ignore_dates = ignore_dates;
	tls->now = now;
	mbedtls_ssl_init(&tls->ssl);
	mbedtls_ssl_config_init(&tls->conf);
	mbedtls_x509_crt_init(&tls->ca);

	ret = smtp_port_tls_load_ca(&tls->ca, sec_tag, ca_file);
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
	mbedtls_ssl_conf_min_tls_version(&tls->conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_authmode(&tls->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&tls->conf, &tls->ca, NULL);
	mbedtls_ssl_conf_verify(&tls->conf, smtp_tls_verify, tls);
#if MBEDTLS_VERSION_NUMBER < 0x04000000
	/* 4.x uses the PSA generator by itself and has no mbedtls_ssl_conf_rng(). */
	mbedtls_ssl_conf_rng(&tls->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
#endif
#if defined(SMTP_TLS_MFL)
	(void)mbedtls_ssl_conf_max_frag_len(&tls->conf, SMTP_TLS_MFL);
#endif

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

/* smtp_tls_new_locked() after the date policy (smtp_tls_date_policy()). */
static struct smtp_shim_tls *smtp_tls_new(int fd, const char *host, int32_t sec_tag,
					  const char *ca_file, int *tls_error)
{
	struct smtp_shim_tls *tls;
	int ignore_dates;
	int64_t now;

	if (smtp_tls_date_policy(&ignore_dates, &now) != 0) {
		*tls_error = SMTP_SHIM_TLS_CLOCK_NOT_SET;
		return NULL;
	}
	SMTP_TLS_ENTER();
	tls = smtp_tls_new_locked(fd, host, sec_tag, ca_file, ignore_dates, now, tls_error);
	SMTP_TLS_LEAVE();
	return tls;
}

/*
 * Runs a client handshake on the connected socket fd until deadline (uptime ms). 0 with *out set,
 * or a negative errno with *tls_error set and nothing left allocated.
 */
static int smtp_tls_handshake(int fd, const char *host, int32_t sec_tag, const char *ca_file,
			      int64_t deadline, struct smtp_shim_tls **out, int *tls_error)
{
	struct smtp_shim_tls *tls = smtp_tls_new(fd, host, sec_tag, ca_file, tls_error);
	int backoff_ms = 0;
	int ret;

	if (tls == NULL) {
		switch (*tls_error) {
		case SMTP_SHIM_TLS_NO_TRUST_ANCHORS:
			return -ENOENT;
		case SMTP_SHIM_TLS_CLOCK_NOT_SET:
			return -EAGAIN;
		default:
			return -ENOMEM;
		}
	}
	for (;;) {
		uint32_t flags = 0U;
		int w;

		SMTP_TLS_ENTER();
		ret = mbedtls_ssl_handshake(&tls->ssl);
		if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
			flags = mbedtls_ssl_get_verify_result(&tls->ssl);
		}
		SMTP_TLS_LEAVE();
		if (ret == 0) {
			break;
		}
		if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
				smtp_tls_logf(2, "server certificate rejected, verify flags", (int)flags);
				*tls_error = smtp_tls_classify_flags(flags);
				ret = -EACCES;
			} else {
				smtp_tls_logf(2, "handshake failed", ret);
				*tls_error = SMTP_SHIM_TLS_HANDSHAKE;
				ret = tls->io_error != 0 ? -tls->io_error : -ECONNABORTED;
			}
			break;
		}
		w = smtp_tls_wait(tls, ret, deadline, &backoff_ms);
		if (w <= 0) {
			smtp_tls_logf(2, w == 0 ? "handshake timed out" : "waiting in the handshake failed",
				      w);
			*tls_error = w == 0 ? SMTP_SHIM_TLS_TIMEOUT : SMTP_SHIM_TLS_HANDSHAKE;
			ret = w == 0 ? -ETIMEDOUT : w;
			break;
		}
	}
	if (ret != 0) {
		SMTP_TLS_ENTER();
		smtp_tls_free(tls);
		SMTP_TLS_LEAVE();
		return ret;
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

/*
 * One mbedtls_ssl_write() of `out` or mbedtls_ssl_read() into `in`, waiting for the socket until
 * the deadline while mbedTLS wants it: bytes moved (read: 0 = closed), or a negative errno.
 * A write that timed out must not be retried with other data (mbedTLS keeps the record it
 * started): the caller ends the session, as the Rust link does after any write error.
 */
static int smtp_tls_io(struct smtp_shim_tls *tls, const uint8_t *out, uint8_t *in, size_t len,
		       uint32_t timeout_ms)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;
	int backoff_ms = 0;

	if (len == 0U) {
		return 0;
	}
	if (tls == NULL || (out == NULL && in == NULL)) {
		return -EINVAL;
	}
	if (len > INT32_MAX) {
		len = INT32_MAX;
	}
	for (;;) {
		int ret;
		int w;

		SMTP_TLS_ENTER();
		ret = out != NULL ? mbedtls_ssl_write(&tls->ssl, out, len) : mbedtls_ssl_read(&tls->ssl, in, len);
		SMTP_TLS_LEAVE();

		if (ret > 0) {
			return ret;
		}
		if (out == NULL && (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
				    ret == MBEDTLS_ERR_SSL_CONN_EOF)) {
			return 0;
		}
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
		if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			continue; /* TLS 1.3: a ticket, no data */
		}
#endif
		if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
			smtp_tls_logf(2, out != NULL ? "write failed" : "read failed", ret);
			return tls->io_error != 0 ? -tls->io_error : -ECONNABORTED;
		}
		w = smtp_tls_wait(tls, ret, deadline, &backoff_ms);
		if (w == 0) {
			return tls->send_starved ? -ENOBUFS : -ETIMEDOUT;
		}
		if (w < 0) {
			return w;
		}
	}
}

int smtp_shim_tls_send(struct smtp_shim_tls *tls, const uint8_t *buf, size_t len,
		       uint32_t timeout_ms)
{
	return smtp_tls_io(tls, buf, NULL, len, timeout_ms);
}

int smtp_shim_tls_recv(struct smtp_shim_tls *tls, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	return smtp_tls_io(tls, NULL, buf, len, timeout_ms);
}

void smtp_shim_tls_close(struct smtp_shim_tls *tls, uint32_t timeout_ms)
{
	int64_t deadline = smtp_shim_uptime_ms() + (int64_t)timeout_ms;
	int backoff_ms = 0;

	if (tls == NULL) {
		return;
	}
	/* Best effort: a peer that is gone or slow does not hold the close up. */
	for (;;) {
		int ret;

		SMTP_TLS_ENTER();
		ret = mbedtls_ssl_close_notify(&tls->ssl);
		SMTP_TLS_LEAVE();
		if (ret != MBEDTLS_ERR_SSL_WANT_WRITE && ret != MBEDTLS_ERR_SSL_WANT_READ) {
			break;
		}
		if (smtp_tls_wait(tls, ret, deadline, &backoff_ms) <= 0) {
			break;
		}
	}
	SMTP_TLS_ENTER();
	smtp_tls_free(tls);
	SMTP_TLS_LEAVE();
}

/*
 * Implicit TLS without TLS sockets: a plain connect, then the handshake at once, both within
 * timeout_ms. Returns the socket, or a negative errno with *tls_error saying which part failed.
 */
int smtp_tls_connect_then_handshake(const char *host, uint16_t port, const char *verify_name,
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
