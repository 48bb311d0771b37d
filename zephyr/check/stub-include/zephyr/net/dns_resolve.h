/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. enum dns_resolve_status of include/zephyr/net/dns_resolve.h,
 * values as upstream (unchanged from 3.x to 4.5; docs/ZEPHYR-UPSTREAM.md).
 */
#ifndef STUB_ZEPHYR_DNS_RESOLVE_H
#define STUB_ZEPHYR_DNS_RESOLVE_H
enum dns_resolve_status {
	DNS_EAI_BADFLAGS = -1, DNS_EAI_NONAME = -2, DNS_EAI_AGAIN = -3, DNS_EAI_FAIL = -4,
	DNS_EAI_NODATA = -5, DNS_EAI_FAMILY = -6, DNS_EAI_SOCKTYPE = -7, DNS_EAI_SERVICE = -8,
	DNS_EAI_ADDRFAMILY = -9, DNS_EAI_MEMORY = -10, DNS_EAI_SYSTEM = -11, DNS_EAI_OVERFLOW = -12,
	DNS_EAI_INPROGRESS = -100, DNS_EAI_CANCELED = -101, DNS_EAI_NOTCANCELED = -102,
	DNS_EAI_ALLDONE = -103, DNS_EAI_IDN_ENCODE = -105,
};
#endif
