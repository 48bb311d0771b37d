/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr v4.3
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files and
 * the C sample on the host. Values are placeholders; nothing built with this is run.
 */
/* include/zephyr/net/tls_credentials.h */
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
