/*
 * Zephyr's names for the shim's common code (shim/common/smtp_shim_port.h): the socket API of
 * include/zephyr/net/socket.h (zsock_*, ZSOCK_*), include/zephyr/net/net_ip.h (NET_*,
 * net_socklen_t), include/zephyr/sys/fdtable.h (ZVFS_*) and include/zephyr/net/dns_resolve.h
 * (DNS_EAI_*), namespaced only (no CONFIG_NET_NAMESPACE_COMPAT_MODE). The socket calls are
 * __syscall static inlines (their link symbols are z_impl_zsock_*), which is why the Rust side
 * calls the shim instead of Zephyr directly.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef ZSMTP_SMTP_SHIM_OS_H_
#define ZSMTP_SMTP_SHIM_OS_H_

#include <zephyr/net/dns_resolve.h>
#include <zephyr/net/socket.h>
#include <zephyr/sys/fdtable.h>
#include <zephyr/sys/printk.h>

#define SMTP_SOCK_SOCKET zsock_socket
#define SMTP_SOCK_CONNECT zsock_connect
#define SMTP_SOCK_GETSOCKOPT zsock_getsockopt
#define SMTP_SOCK_SETSOCKOPT zsock_setsockopt
#define SMTP_SOCK_SEND zsock_send
#define SMTP_SOCK_RECV zsock_recv
#define SMTP_SOCK_CLOSE zsock_close
#define SMTP_SOCK_POLL zsock_poll
#define SMTP_SOCK_FCNTL zsock_fcntl
#define SMTP_SOCK_GETADDRINFO zsock_getaddrinfo
#define SMTP_SOCK_FREEADDRINFO zsock_freeaddrinfo
#define SMTP_SOCK_POLLFD struct zsock_pollfd
#define SMTP_SOCK_ADDRINFO struct zsock_addrinfo
#define SMTP_SOCK_SOCKLEN net_socklen_t
#define SMTP_SOCK_POLLIN ZSOCK_POLLIN
#define SMTP_SOCK_POLLOUT ZSOCK_POLLOUT
#define SMTP_SOCK_SEND_FLAGS ZSOCK_MSG_DONTWAIT
#define SMTP_SOCK_RECV_FLAGS ZSOCK_MSG_DONTWAIT
#define SMTP_SOCK_F_GETFL ZVFS_F_GETFL
#define SMTP_SOCK_F_SETFL ZVFS_F_SETFL
#define SMTP_SOCK_O_NONBLOCK ZVFS_O_NONBLOCK
#define SMTP_SOCK_STREAM NET_SOCK_STREAM
#define SMTP_SOCK_IPPROTO_TCP NET_IPPROTO_TCP
#define SMTP_SOCK_SOL_SOCKET ZSOCK_SOL_SOCKET
#define SMTP_SOCK_SO_ERROR ZSOCK_SO_ERROR
#define SMTP_SOCK_TCP_NODELAY ZSOCK_TCP_NODELAY
#define SMTP_SOCK_AI_NUMERICSERV ZSOCK_AI_NUMERICSERV

/* The address family to resolve: Kconfig choice SMTP_CLIENT_ADDRESS_FAMILY. */
#if defined(CONFIG_SMTP_CLIENT_ADDRESS_FAMILY_IPV4)
#define SMTP_SOCK_FAMILY NET_AF_INET
#elif defined(CONFIG_SMTP_CLIENT_ADDRESS_FAMILY_IPV6)
#define SMTP_SOCK_FAMILY NET_AF_INET6
#else
#define SMTP_SOCK_FAMILY NET_AF_UNSPEC
#endif

/*
 * The resolver gave up waiting for the DNS server: zsock_getaddrinfo()
 * (subsys/net/lib/sockets/getaddrinfo.c) reports a DNS server that did not answer in time as
 * DNS_EAI_AGAIN (its wait ran out) or DNS_EAI_CANCELED (the resolver's own timeout cancelled the
 * query); DNS_EAI_INPROGRESS is a query still under way.
 */
#define SMTP_SOCK_EAI_TIMED_OUT(rc)                                                                \
	((rc) == DNS_EAI_AGAIN || (rc) == DNS_EAI_CANCELED || (rc) == DNS_EAI_INPROGRESS)
#define SMTP_SOCK_EAI_MEMORY DNS_EAI_MEMORY
#define SMTP_SOCK_EAI_SYSTEM DNS_EAI_SYSTEM

/* snprintf for the shim's own short texts (a port number, a log line). */
#define SMTP_SHIM_FORMAT snprintk

#endif /* ZSMTP_SMTP_SHIM_OS_H_ */
