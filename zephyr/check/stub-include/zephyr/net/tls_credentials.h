/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/net/tls_credentials.h of Zephyr 4.5 (4.4 also has
 * the deprecated alias TLS_CREDENTIAL_SERVER_CERTIFICATE, which 4.5 removed): the enum's values
 * and the prototypes as upstream.
 */
#ifndef STUB_ZEPHYR_TLS_CREDENTIALS_H
#define STUB_ZEPHYR_TLS_CREDENTIALS_H
#include <stddef.h>
enum tls_credential_type {
	TLS_CREDENTIAL_NONE,
	TLS_CREDENTIAL_CA_CERTIFICATE,
	TLS_CREDENTIAL_PUBLIC_CERTIFICATE,
	TLS_CREDENTIAL_PRIVATE_KEY,
	TLS_CREDENTIAL_PSK,
	TLS_CREDENTIAL_PSK_ID,
};
typedef int sec_tag_t;
int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred,
		       size_t credlen);
int tls_credential_get(sec_tag_t tag, enum tls_credential_type type, void *cred,
		       size_t *credlen);
int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type);
#endif
