/*
 * The POSIX twin's names for the shim's common code (shim/common/smtp_shim_port.h): BSD sockets.
 * SMTP_SOCK_SEND may be defined before this header (tests/c/shim_device.c does, to make sends
 * fail with ENOBUFS as Zephyr's do when its network buffers run out).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef ZSMTP_SMTP_SHIM_OS_H_
#define ZSMTP_SMTP_SHIM_OS_H_

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef MSG_NOSIGNAL
#define SMTP_SOCK_SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL)
#else
#define SMTP_SOCK_SEND_FLAGS MSG_DONTWAIT
#endif
#define SMTP_SOCK_SOCKET socket
#define SMTP_SOCK_CONNECT connect
#define SMTP_SOCK_GETSOCKOPT getsockopt
#define SMTP_SOCK_SETSOCKOPT setsockopt
#ifndef SMTP_SOCK_SEND
#define SMTP_SOCK_SEND send
#endif
#define SMTP_SOCK_RECV recv
#define SMTP_SOCK_CLOSE close
#define SMTP_SOCK_POLL poll
#define SMTP_SOCK_FCNTL fcntl
#define SMTP_SOCK_GETADDRINFO getaddrinfo
#define SMTP_SOCK_FREEADDRINFO freeaddrinfo
#define SMTP_SOCK_POLLFD struct pollfd
#define SMTP_SOCK_ADDRINFO struct addrinfo
#define SMTP_SOCK_SOCKLEN socklen_t
#define SMTP_SOCK_POLLIN POLLIN
#define SMTP_SOCK_POLLOUT POLLOUT
#define SMTP_SOCK_RECV_FLAGS MSG_DONTWAIT
#define SMTP_SOCK_F_GETFL F_GETFL
#define SMTP_SOCK_F_SETFL F_SETFL
#define SMTP_SOCK_O_NONBLOCK O_NONBLOCK
#define SMTP_SOCK_STREAM SOCK_STREAM
#define SMTP_SOCK_IPPROTO_TCP IPPROTO_TCP
#define SMTP_SOCK_SOL_SOCKET SOL_SOCKET
#define SMTP_SOCK_SO_ERROR SO_ERROR
#define SMTP_SOCK_TCP_NODELAY TCP_NODELAY
#define SMTP_SOCK_AI_NUMERICSERV AI_NUMERICSERV
#define SMTP_SOCK_FAMILY AF_UNSPEC
/* The resolver gave up waiting for the DNS server. */
#define SMTP_SOCK_EAI_TIMED_OUT(rc) ((rc) == EAI_AGAIN)
#define SMTP_SOCK_EAI_MEMORY EAI_MEMORY
#define SMTP_SOCK_EAI_SYSTEM EAI_SYSTEM

/* snprintf for the shim's own short texts (a port number, a log line). */
#define SMTP_SHIM_FORMAT snprintf

#endif /* ZSMTP_SMTP_SHIM_OS_H_ */
