/*
 * The CA certificate(s) the TLS modes trust, in Zephyr's TLS credential store
 * (CONFIG_TLS_CREDENTIALS): looked up under a sec tag (smtp_ca.h), and, when
 * CONFIG_SMTP_CLIENT_TLS_CA_FILE names a file, that file built into the image by CMakeLists.txt
 * (generate_inc_file_for_target) and registered at boot under CONFIG_SMTP_CLIENT_TLS_SEC_TAG.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/init.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/tls_credentials.h>

#include "smtp_ca.h"

LOG_MODULE_DECLARE(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

sec_tag_t smtp_ca_sec_tag(int32_t sec_tag)
{
	return sec_tag < 0 ? (sec_tag_t)CONFIG_SMTP_CLIENT_TLS_SEC_TAG : (sec_tag_t)sec_tag;
}

int smtp_ca_size(sec_tag_t tag, size_t *len)
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
