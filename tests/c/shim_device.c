/*
 * The shim's socket and TLS layer (shim/common/smtp_shim_sockets.c and smtp_shim_tls_mbedtls.c,
 * the device's C, here over its POSIX twin) under the conditions of a device that a host does not
 * produce by itself:
 *
 *  - sends that find no network buffer (ENOBUFS), as Zephyr's non-blocking sends do when its
 *    TX buffers or packets run out: the data must still go out, after a back-off, within the
 *    caller's timeout, and a stack that stays out of buffers must fail with -ENOBUFS when that
 *    timeout ends, not earlier and not never; the same through mbedTLS (a TLS handshake and
 *    session with every other send refused), against a real TLS server when one is given;
 *  - the resolver's answers: a DNS server that does not answer is a timeout, not "host not
 *    found"; and the calendar of the certificate-date check;
 *  - a fixed mbedTLS heap, as Zephyr's (CONFIG_MBEDTLS_HEAP_SIZE: mbedTLS's buffer allocator):
 *    a whole TLS session with the default 16 KB records fits in SMTP_TLS_HEAP_BUDGET bytes, and
 *    its peak is printed (docs/PERFORMANCE.md, "Measurements", records it).
 *
 * The twin's files are compiled into this program, with its send replaced (SMTP_SOCK_SEND,
 * shim/posix/smtp_shim_os.h), so the functions under test, static helpers included, are the
 * shim's own (tests/c/run.sh compiles it with -I shim/include -I shim/common -I shim/posix). Run by tests/c/run.sh:
 *   shim_device                       the socket and resolver cases (loopback only)
 *   shim_device HOST PORT CA_FILE     also implicit TLS to HOST:PORT (the test Postfix, 2465):
 *                                     the heap, then every second send refused
 * Exits 0 when every check passed; prints one line per check.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#define _DEFAULT_SOURCE 1
#define _DARWIN_C_SOURCE 1
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Sends left to refuse with ENOBUFS, and every how many sends one is refused (0: none). */
static atomic_int refuse_next;
static atomic_int refuse_every;
static atomic_int refused;
static atomic_int sends;

static ssize_t faulty_send(int fd, const void *buf, size_t len, int flags)
{
	int n = atomic_fetch_add(&sends, 1) + 1;
	int every = atomic_load(&refuse_every);

	if (atomic_load(&refuse_next) > 0 || (every > 0 && n % every == 0)) {
		if (atomic_load(&refuse_next) > 0) {
			atomic_fetch_sub(&refuse_next, 1);
		}
		atomic_fetch_add(&refused, 1);
		errno = ENOBUFS;
		return -1;
	}
	return send(fd, buf, len, flags);
}

#define SMTP_SOCK_SEND faulty_send
#include "../../shim/posix/smtp_shim_posix.c"
#include "../../shim/common/smtp_shim_errors.c"
#include "../../shim/common/smtp_shim_sockets.c"
#include "../../shim/common/smtp_shim_tls_mbedtls.c"

#include <arpa/inet.h>

#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C) && defined(MBEDTLS_MEMORY_DEBUG)
#include <mbedtls/memory_buffer_alloc.h>
#define SMTP_TLS_HEAP_MEASURED 1
#endif

/* The heap a session must fit in: the README's figure for CONFIG_MBEDTLS_HEAP_SIZE per
 * connection, with 16 KB records in and out. */
#define SMTP_TLS_HEAP_BUDGET (64 * 1024)

static int passed;
static int failed;

static void check(const char *what, int ok)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	if (ok) {
		passed++;
	} else {
		failed++;
	}
}

/* A listening socket on 127.0.0.1 and its port. */
static int listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("listener");
		exit(2);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void socket_cases(void)
{
	uint16_t port;
	int lfd = listener(&port);
	int fd = smtp_shim_connect("127.0.0.1", port, 2000);
	int peer = accept(lfd, NULL, NULL);
	char got[16] = {0};
	int64_t t0;
	int64_t took;
	int rc;

	check("connect to the loopback listener", fd >= 0 && peer >= 0);

	/* Three sends refused: 10 + 20 + 40 ms of back-off, then the data goes out whole. */
	atomic_store(&refused, 0);
	atomic_store(&refuse_next, 3);
	t0 = smtp_shim_uptime_ms();
	rc = smtp_shim_send(fd, (const uint8_t *)"hello", 5, 2000);
	took = smtp_shim_uptime_ms() - t0;
	check("ENOBUFS three times: the send still succeeds", rc == 5);
	check("  after backing off (>= 60 ms), well within the timeout (< 1000 ms)", took >= 60 && took < 1000);
	check("  the three refusals happened", atomic_load(&refused) == 3);
	check("  the peer got the bytes", recv(peer, got, sizeof(got), 0) == 5 && memcmp(got, "hello", 5) == 0);

	/* A stack that never has a buffer: -ENOBUFS at the caller's timeout. */
	atomic_store(&refuse_next, 1 << 30);
	t0 = smtp_shim_uptime_ms();
	rc = smtp_shim_send(fd, (const uint8_t *)"x", 1, 300);
	took = smtp_shim_uptime_ms() - t0;
	atomic_store(&refuse_next, 0);
	check("ENOBUFS for good: -ENOBUFS", rc == -ENOBUFS);
	check("  when the 300 ms timeout ends (300..900 ms)", took >= 290 && took < 900);
	check("  classified as no memory for the Rust side", smtp_shim_error_class(rc) == SMTP_SHIM_ERR_NO_MEMORY);

	/* The back-off doubles from 10 ms and stays at 100 ms. */
	{
		int backoff = 0;
		int seen[6];
		int64_t deadline = smtp_shim_uptime_ms() + 5000;

		for (int i = 0; i < 6; i++) {
			(void)smtp_shim_back_off(&backoff, deadline);
			seen[i] = backoff;
		}
		check("back-off 10, 20, 40, 80, 100, 100 ms",
		      seen[0] == 10 && seen[1] == 20 && seen[2] == 40 && seen[3] == 80 && seen[4] == 100 &&
			      seen[5] == 100);
		check("no back-off past the deadline", smtp_shim_back_off(&backoff, smtp_shim_uptime_ms()) == 0);
	}

	smtp_shim_close(fd);
	close(peer);
	close(lfd);
}

static void resolver_cases(void)
{
	check("EAI_AGAIN (DNS server silent) is a timeout", smtp_shim_map_gai(EAI_AGAIN, 0) == -ETIMEDOUT);
	check("  classified as timed out", smtp_shim_error_class(smtp_shim_map_gai(EAI_AGAIN, 0)) ==
						    SMTP_SHIM_ERR_TIMED_OUT);
	check("EAI_NONAME is host not found", smtp_shim_map_gai(EAI_NONAME, 0) == -SMTP_SHIM_EHOSTNOTFOUND);
	check("EAI_MEMORY is no memory", smtp_shim_map_gai(EAI_MEMORY, 0) == -ENOMEM);
	check("EAI_SYSTEM carries its errno", smtp_shim_map_gai(EAI_SYSTEM, ECONNREFUSED) == -ECONNREFUSED);
}

/* The certificate-date check's calendar (the TLS client judges dates itself, on the shim's clock). */
static void x509_time_cases(void)
{
	static const struct {
		mbedtls_x509_time t;
		int64_t seconds;
	} cases[] = {
		{{1970, 1, 1, 0, 0, 0}, 0},
		{{1969, 12, 31, 23, 59, 59}, -1},
		{{2000, 2, 29, 23, 59, 59}, 951868799},
		{{2000, 3, 1, 0, 0, 0}, 951868800},
		{{2026, 12, 6, 12, 34, 56}, 1796560496},
		{{2126, 11, 12, 4, 40, 7}, 4950132007LL},
	};
	int all = 1;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (smtp_tls_x509_seconds(&cases[i].t) != cases[i].seconds) {
			printf("  %04d-%02d-%02d: %lld, expected %lld\n", cases[i].t.year, cases[i].t.mon,
			       cases[i].t.day, (long long)smtp_tls_x509_seconds(&cases[i].t),
			       (long long)cases[i].seconds);
			all = 0;
		}
	}
	check("X.509 times to seconds since 1970 (leap days, centuries, before 1970)", all);
}

/* Reads one SMTP reply over TLS: the code of its last line ("NNN text"), or -1. */
static int tls_reply_code(struct smtp_shim_tls *tls)
{
	char buf[2048];
	size_t have = 0;
	size_t line = 0;

	for (;;) {
		int n = smtp_shim_tls_recv(tls, (uint8_t *)buf + have, sizeof(buf) - 1U - have, 5000);
		char *end;

		if (n <= 0) {
			return -1;
		}
		have += (size_t)n;
		buf[have] = '\0';
		while ((end = strstr(buf + line, "\r\n")) != NULL) {
			if (end - (buf + line) >= 4 && buf[line + 3] == ' ') {
				return atoi(buf + line);
			}
			line = (size_t)(end - buf) + 2U;
		}
		if (have + 1U >= sizeof(buf)) {
			return -1;
		}
	}
}

static int tls_command(struct smtp_shim_tls *tls, const char *line)
{
	size_t len = strlen(line);

	return smtp_shim_tls_send(tls, (const uint8_t *)line, len, 5000) == (int)len ? tls_reply_code(tls) : -1;
}

#if defined(SMTP_TLS_HEAP_MEASURED)
/* One implicit-TLS session in a heap of SMTP_TLS_HEAP_BUDGET bytes, from the first mbedTLS call
 * (psa_crypto_init) to the close: its peak. */
static void heap_case(const char *host, uint16_t port, const char *ca)
{
	static unsigned char heap[SMTP_TLS_HEAP_BUDGET];
	struct smtp_shim_tls *tls = NULL;
	size_t peak = 0;
	size_t blocks = 0;
	int cls = -1;
	int fd;

	mbedtls_memory_buffer_alloc_init(heap, sizeof(heap));
	fd = smtp_shim_tls_connect(host, port, NULL, -1, ca, 10000, &tls, &cls);
	check("a TLS session in a fixed heap of 64 KB: handshake", fd >= 0 && tls != NULL);
	if (fd >= 0 && tls != NULL) {
		check("  greeting, EHLO and QUIT", tls_reply_code(tls) == 220 &&
			  tls_command(tls, "EHLO shim-device.example.test\r\n") == 250 &&
			  tls_command(tls, "QUIT\r\n") == 221);
		smtp_shim_tls_close(tls, 1000);
		smtp_shim_close(fd);
	}
	mbedtls_memory_buffer_alloc_max_get(&peak, &blocks);
	printf("  mbedTLS %s: heap peak %zu bytes in %zu blocks (records in %d, out %d)\n",
	       MBEDTLS_VERSION_STRING, peak, blocks, MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN);
	check("  the peak is within the budget", peak > 0 && peak <= SMTP_TLS_HEAP_BUDGET);
}
#endif

static void tls_cases(const char *host, uint16_t port, const char *ca)
{
	struct smtp_shim_tls *tls = NULL;
	int cls = -1;
	int fd;

	/* Every second send refused, from the TCP connect on: the handshake and the session. */
	atomic_store(&refused, 0);
	atomic_store(&sends, 0);
	atomic_store(&refuse_every, 2);
	fd = smtp_shim_tls_connect(host, port, NULL, -1, ca, 10000, &tls, &cls);
	check("implicit TLS handshake with every second send refused", fd >= 0 && tls != NULL && cls == 0);
	if (fd < 0 || tls == NULL) {
		printf("  (rc %d, class %d)\n", fd, cls);
		atomic_store(&refuse_every, 0);
		return;
	}
	check("  the greeting over TLS is 220", tls_reply_code(tls) == 220);
	check("  EHLO over TLS is answered 250", tls_command(tls, "EHLO shim-device.example.test\r\n") == 250);
	check("  QUIT over TLS is answered 221", tls_command(tls, "QUIT\r\n") == 221);
	check("  sends were refused along the way", atomic_load(&refused) >= 2);
	atomic_store(&refuse_every, 0);
	smtp_shim_tls_close(tls, 1000);
	smtp_shim_close(fd);
}

int main(int argc, char **argv)
{
	socket_cases();
	resolver_cases();
	x509_time_cases();
	if (argc == 4) {
#if defined(SMTP_TLS_HEAP_MEASURED)
		heap_case(argv[1], (uint16_t)atoi(argv[2]), argv[3]);
#endif
		tls_cases(argv[1], (uint16_t)atoi(argv[2]), argv[3]);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
