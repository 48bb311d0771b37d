/*
 * The module's TLS client on Zephyr (CONFIG_SMTP_CLIENT_TLS_MBEDTLS): the client itself is
 * shim/common/smtp_shim_tls_mbedtls.c, over Zephyr's built-in mbedTLS and the plain socket, for
 * STARTTLS and implicit TLS; this file gives it what the platform provides (smtp_shim_port.h):
 * the CA chain from the TLS credential store (tls_credential_get()), the clock policy, and, when
 * mbedTLS has no locks of its own (no MBEDTLS_THREADING_C), one k_mutex for all clients.
 * Design: docs/ARCHITECTURE.md, "TLS".
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdint.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/tls_credentials.h>
#include <zephyr/sys/util.h>

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

#include "smtp_ca.h"
#include "smtp_shim_port.h"

LOG_MODULE_DECLARE(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

#if !defined(MBEDTLS_THREADING_C)
/* mbedTLS without locks of its own: this module's clients take turns (smtp_shim_tls_mbedtls.c). */
K_MUTEX_DEFINE(smtp_tls_mutex);

void smtp_port_tls_lock(void)
{
	(void)k_mutex_lock(&smtp_tls_mutex, K_FOREVER);
}

void smtp_port_tls_unlock(void)
{
	(void)k_mutex_unlock(&smtp_tls_mutex);
}
#endif

int smtp_port_tls_require_clock(void)
{
	return IS_ENABLED(CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK);
}

int smtp_port_tls_load_ca(mbedtls_x509_crt *chain, int32_t sec_tag, const char *ca_file)
{
	sec_tag_t tag = smtp_ca_sec_tag(sec_tag);
	uint8_t *buf;
	size_t len;
	int rc;

	if (ca_file != NULL) {
		LOG_ERR("TLS: CA files are not read on Zephyr; provision the CA with tls_credential_add()");
		return -EINVAL;
	}
	rc = smtp_ca_size(tag, &len);
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
