/*
 * The TLS calls of smtp_shim.h that this build cannot serve, refused with SMTP_SHIM_TLS_UNSUPPORTED:
 * compiled when the module's TLS client is not (CONFIG_SMTP_CLIENT_TLS_MBEDTLS=n). STARTTLS needs
 * that client (a TLS socket cannot be upgraded); implicit TLS is refused too unless Zephyr's TLS
 * sockets serve it (CONFIG_SMTP_CLIENT_TLS_SOCKETS: smtp_tls_socket.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/logging/log.h>
#include <zephyr/sys/util.h>

#include "smtp_shim.h"

LOG_MODULE_DECLARE(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

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

#if !defined(CONFIG_SMTP_CLIENT_TLS_SOCKETS)

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
	LOG_ERR("TLS: implicit TLS is not in this build (CONFIG_SMTP_CLIENT_TLS_MBEDTLS, or "
		"CONFIG_NET_SOCKETS_SOCKOPT_TLS with CONFIG_TLS_CREDENTIALS)");
	return -ENOTSUP;
}

#endif /* !CONFIG_SMTP_CLIENT_TLS_SOCKETS */
