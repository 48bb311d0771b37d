/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. The declarations of Zephyr 4.4/4.5's include/zephyr/net/net_ip.h
 * that the shim uses, with the namespaced names only (as with CONFIG_NET_NAMESPACE_COMPAT_MODE=n:
 * no AF_INET, SOCK_STREAM, socklen_t...), so that an old name fails here as it would there.
 * Values as upstream (docs/ZEPHYR-UPSTREAM.md); nothing built with this is run.
 */
#ifndef STUB_ZEPHYR_NET_NET_IP_H
#define STUB_ZEPHYR_NET_NET_IP_H
#include <stdint.h>

#define NET_PF_UNSPEC 0
#define NET_PF_INET 1
#define NET_PF_INET6 2
#define NET_AF_UNSPEC NET_PF_UNSPEC
#define NET_AF_INET NET_PF_INET
#define NET_AF_INET6 NET_PF_INET6

enum net_ip_protocol {
	NET_IPPROTO_IP = 0,
	NET_IPPROTO_TCP = 6,
	NET_IPPROTO_UDP = 17,
};

enum net_ip_protocol_secure {
	NET_IPPROTO_TLS_1_2 = 258,
};

enum net_sock_type {
	NET_SOCK_STREAM = 1,
	NET_SOCK_DGRAM = 2,
};

typedef unsigned short net_sa_family_t;
typedef uint32_t net_socklen_t;

struct net_sockaddr {
	net_sa_family_t sa_family;
	char data[22];
};

struct net_sockaddr_storage {
	net_sa_family_t ss_family;
	char data[26];
};
#endif
