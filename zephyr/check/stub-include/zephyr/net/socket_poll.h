/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/net/socket_poll.h (4.4/4.5): struct zsock_pollfd,
 * which upstream makes an alias of struct zvfs_pollfd; the shim only names its members.
 */
#ifndef STUB_ZEPHYR_NET_SOCKET_POLL_H
#define STUB_ZEPHYR_NET_SOCKET_POLL_H
struct zsock_pollfd {
	int fd;
	short events;
	short revents;
};
#endif
