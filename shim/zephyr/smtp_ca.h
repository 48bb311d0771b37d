/*
 * The CA certificates in Zephyr's TLS credential store (smtp_ca.c), for the two TLS
 * implementations: the module's client (smtp_tls_mbedtls.c) and TLS sockets (smtp_tls_socket.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef ZSMTP_SMTP_CA_H_
#define ZSMTP_SMTP_CA_H_

#include <stddef.h>
#include <stdint.h>

#include <zephyr/net/tls_credentials.h>

/* The sec tag a negative argument stands for: CONFIG_SMTP_CLIENT_TLS_SEC_TAG. */
sec_tag_t smtp_ca_sec_tag(int32_t sec_tag);

/* Whether a CA certificate is registered under tag: 0 with its size in *len, or -ENOENT (or the
 * store's error). */
int smtp_ca_size(sec_tag_t tag, size_t *len);

#endif /* ZSMTP_SMTP_CA_H_ */
