/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. The declarations of Zephyr 4.4/4.5's include/zephyr/net/socket.h
 * that the shim uses, namespaced names only (CONFIG_NET_NAMESPACE_COMPAT_MODE=n). Upstream,
 * zsock_send/zsock_recv/zsock_poll are static inlines and zsock_fcntl a macro over a variadic
 * inline; here they are plain declarations with the same parameter types. Values as upstream
 * (docs/ZEPHYR-UPSTREAM.md); nothing built with this is run.
 */
#ifndef STUB_ZEPHYR_NET_SOCKET_H
#define STUB_ZEPHYR_NET_SOCKET_H
#include <stddef.h>
#include <sys/types.h>
#include <zephyr/net/net_ip.h>
#include <zephyr/net/socket_poll.h>
#include <zephyr/sys/fdtable.h>

#define ZSOCK_POLLIN 1
#define ZSOCK_POLLOUT 4
#define ZSOCK_MSG_DONTWAIT 0x40
#define ZSOCK_SOL_SOCKET 1
#define ZSOCK_SO_ERROR 4
#define ZSOCK_TCP_NODELAY 1
#define ZSOCK_AI_NUMERICSERV 0x400

#define DNS_MAX_NAME_SIZE 20 /* include/zephyr/net/dns_resolve.h upstream */

struct zsock_addrinfo {
	struct zsock_addrinfo *ai_next;
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	int ai_eflags;
	net_socklen_t ai_addrlen;
	struct net_sockaddr *ai_addr;
	char *ai_canonname;
	struct net_sockaddr_storage _ai_addr;
	char _ai_canonname[DNS_MAX_NAME_SIZE + 1];
};

int zsock_socket(int family, int type, int proto);
int zsock_close(int sock);
int zsock_connect(int sock, const struct net_sockaddr *addr, net_socklen_t addrlen);
ssize_t zsock_send(int sock, const void *buf, size_t len, int flags);
ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags);
int zsock_fcntl(int sock, int cmd, ...);
int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout);
int zsock_getsockopt(int sock, int level, int optname, void *optval, net_socklen_t *optlen);
int zsock_setsockopt(int sock, int level, int optname, const void *optval, net_socklen_t optlen);
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
		      struct zsock_addrinfo **res);
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);

/* TLS sockets */
#define ZSOCK_SOL_TLS 282
#define ZSOCK_TLS_SEC_TAG_LIST 1
#define ZSOCK_TLS_HOSTNAME 2
#define ZSOCK_TLS_PEER_VERIFY 5
#define ZSOCK_TLS_CERT_VERIFY_CALLBACK 20
#define ZSOCK_TLS_PEER_VERIFY_NONE 0
#define ZSOCK_TLS_PEER_VERIFY_OPTIONAL 1
#define ZSOCK_TLS_PEER_VERIFY_REQUIRED 2
struct zsock_tls_cert_verify_cb {
	void *cb;
	void *ctx;
};
#endif
