/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. Just enough declarations, with the signatures of Zephyr v4.3
 * (header named in the comment below), for scripts/check-zephyr to compile the shim/zephyr C files and
 * the C sample on the host. Values are placeholders; nothing built with this is run.
 */
/* include/zephyr/net/socket.h and include/zephyr/net/net_ip.h (pre-4.4 names) */
#ifndef STUB_ZEPHYR_NET_SOCKET_H
#define STUB_ZEPHYR_NET_SOCKET_H
#include <stddef.h>
#include <sys/types.h>
typedef size_t socklen_t;
typedef unsigned short sa_family_t;
struct sockaddr { sa_family_t sa_family; char data[24]; };
#define AF_UNSPEC 0
#define AF_INET 1
#define AF_INET6 2
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define SOL_SOCKET 1
#define SO_ERROR 4
#define TCP_NODELAY 1
#define AI_NUMERICSERV 0x400
#define ZSOCK_POLLIN 1
#define ZSOCK_POLLOUT 4
#define ZSOCK_MSG_DONTWAIT 0x40
struct zsock_pollfd { int fd; short events; short revents; };
struct zsock_addrinfo {
	struct zsock_addrinfo *ai_next;
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	socklen_t ai_addrlen;
	struct sockaddr *ai_addr;
	char *ai_canonname;
};
int zsock_socket(int family, int type, int proto);
int zsock_close(int sock);
int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen);
ssize_t zsock_send(int sock, const void *buf, size_t len, int flags);
ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags);
int zsock_fcntl(int sock, int cmd, ...);
int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout);
int zsock_getsockopt(int sock, int level, int optname, void *optval, socklen_t *optlen);
int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen);
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
		      struct zsock_addrinfo **res);
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);
/* TLS sockets: include/zephyr/net/socket.h (SOL_TLS, TLS_*), include/zephyr/net/net_ip.h
 * (IPPROTO_TLS_1_2). Names as in v4.3; numbers are placeholders except where noted. */
#define IPPROTO_TLS_1_2 258
#define SOL_TLS 282
#define TLS_SEC_TAG_LIST 1
#define TLS_HOSTNAME 2
#define TLS_PEER_VERIFY 5
#define TLS_CERT_VERIFY_CALLBACK 20
#define TLS_PEER_VERIFY_REQUIRED 2
struct tls_cert_verify_cb { void *cb; void *ctx; };
#endif
