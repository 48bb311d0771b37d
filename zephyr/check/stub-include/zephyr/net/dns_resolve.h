/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr v4.3
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files and
 * the C sample on the host. Values are placeholders; nothing built with this is run.
 */
/* include/zephyr/net/dns_resolve.h */
#ifndef STUB_ZEPHYR_DNS_RESOLVE_H
#define STUB_ZEPHYR_DNS_RESOLVE_H
enum dns_resolve_status {
	DNS_EAI_BADFLAGS = -1, DNS_EAI_NONAME = -2, DNS_EAI_AGAIN = -3, DNS_EAI_FAIL = -4,
	DNS_EAI_NODATA = -5, DNS_EAI_FAMILY = -6, DNS_EAI_SOCKTYPE = -7, DNS_EAI_SERVICE = -8,
	DNS_EAI_ADDRFAMILY = -9, DNS_EAI_MEMORY = -10, DNS_EAI_SYSTEM = -11, DNS_EAI_OVERFLOW = -12,
};
#endif
