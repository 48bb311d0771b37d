/*
 * Implicit TLS through Zephyr's TLS sockets (CONFIG_SMTP_CLIENT_TLS_SOCKETS: offloaded TLS, such
 * as a modem's, without the module's own TLS client): smtp_shim_tls_connect() over a TLS socket
 * (NET_IPPROTO_TLS_1_2), whose connect() runs the handshake; no mbedTLS header is needed.
 * STARTTLS is then unavailable (a TLS socket cannot be upgraded: smtp_tls_none.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>
#include <zephyr/sys/util.h>

#include "smtp_ca.h"
#include "smtp_shim_port.h"

LOG_MODULE_DECLARE(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

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
	sec_tag_t tag = smtp_ca_sec_tag(sec_tag);
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
	if (ca_file != NULL || smtp_ca_size(tag, &ca_len) != 0) {
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
