/*
 * The port interface of the shim's common code. The files of shim/common/ are real translation
 * units, compiled once per platform:
 *   Zephyr  by the module's CMakeLists.txt, with shim/zephyr/ on the include path;
 *   POSIX   by build.rs (the host twin), with shim/posix/ on the include path.
 * Each platform's directory holds an smtp_shim_os.h that names its socket API for the common
 * code (SMTP_SOCK_*: functions, types and constants; the two APIs differ only in prefixes, the
 * EAI_* codes and the fcntl flag names), and C files that define the primitives declared below.
 *
 *   smtp_shim_errors.c      smtp_shim_error_class()
 *   smtp_shim_sockets.c     smtp_shim_connect/send/recv/close() and the socket helpers below
 *   smtp_shim_tls_mbedtls.c the TLS client over mbedTLS: smtp_shim_tls_start/send/recv/close()
 *                           and smtp_tls_connect_then_handshake()
 *   smtp_config_store.c     smtp_shim_config_get/set() over the CONFIG_SMTP_CLIENT_* defaults
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef ZSMTP_SMTP_SHIM_PORT_H_
#define ZSMTP_SMTP_SHIM_PORT_H_

#include <stddef.h>
#include <stdint.h>

#include "smtp_shim.h"
#include "smtp_shim_os.h"

/* ---- Provided by the platform (shim/zephyr/smtp_shim_zephyr.c, shim/posix/smtp_shim_posix.c) */

/* Sleeps the calling thread for ms milliseconds. */
void smtp_port_sleep_ms(int ms);

/* What the platform does to a new socket before connecting it (POSIX: close-on-exec). */
void smtp_port_prepare_socket(int fd);

/* ---- Provided by the platform's configuration file (shim/zephyr/smtp_config.c, POSIX twin) -- */

/* The configuration store's lock. */
void smtp_port_cfg_lock(void);
void smtp_port_cfg_unlock(void);

/* Persists a checked value (len bytes) of `key`: 0 or a negative errno (then nothing is stored).
 * Called without the store's lock held. */
int smtp_port_cfg_persist(const char *key, const char *value, size_t len);

/* ---- Provided by the platform to the TLS client (shim/zephyr/smtp_tls_mbedtls.c, POSIX twin) */

struct mbedtls_x509_crt;

/* The trust anchors (smtp_shim.h, "Trust anchors") into chain: 0, -ENOENT none configured,
 * -EINVAL unreadable or unparsable, -ENOMEM. */
int smtp_port_tls_load_ca(struct mbedtls_x509_crt *chain, int32_t sec_tag, const char *ca_file);

/* Non-zero when a handshake must be refused while the wall clock is not set (Zephyr:
 * CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK). */
int smtp_port_tls_require_clock(void);

/* A lock shared by all the clients of the image, taken around every mbedTLS call when mbedTLS has
 * no locks of its own (no MBEDTLS_THREADING_C; only then defined and called). */
void smtp_port_tls_lock(void);
void smtp_port_tls_unlock(void);

/* ---- Provided by smtp_shim_sockets.c to the TLS code of both platforms --------------------- */

/* Milliseconds left until `deadline` (uptime), clamped to poll()'s int. */
int smtp_shim_left(int64_t deadline);

/* Waits for `events` (SMTP_SOCK_POLLIN/POLLOUT) on fd until deadline: 1 ready, 0 timed out,
 * -errno. */
int smtp_shim_wait(int fd, short events, int64_t deadline);

/* Sleeps before retrying a send that found no network buffer: 10 ms, doubling up to 100 ms
 * (*backoff_ms holds the last one; 0 to start), never past the deadline. 1 to retry, 0 when the
 * deadline has passed. */
int smtp_shim_back_off(int *backoff_ms, int64_t deadline);

/* A resolver error (rc from getaddrinfo, err the errno after it) as -errno. */
int smtp_shim_map_gai(int rc, int err);

/* The TCP addresses of host:port into *res (free with SMTP_SOCK_FREEADDRINFO): 0 or -errno. */
int smtp_shim_resolve(const char *host, uint16_t port, SMTP_SOCK_ADDRINFO **res);

/* Sets TCP_NODELAY where the stack has it. */
void smtp_shim_nodelay(int fd);

/* One non-blocking send or recv: bytes moved (recv: 0 = peer closed), -EAGAIN when it would
 * block, -ENOBUFS (send) when the stack had no buffer, or another -errno. */
int smtp_shim_nb_send(int fd, const uint8_t *buf, size_t len);
int smtp_shim_nb_recv(int fd, uint8_t *buf, size_t len);

/* ---- Provided by smtp_shim_tls_mbedtls.c ---------------------------------------------------- */

/* Implicit TLS without TLS sockets: smtp_shim_connect(), then the handshake at once, both within
 * timeout_ms. The platform's smtp_shim_tls_connect() calls it. */
int smtp_tls_connect_then_handshake(const char *host, uint16_t port, const char *verify_name,
				    int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
				    struct smtp_shim_tls **tls, int *tls_error);

/* ---- Provided by smtp_config_store.c to the platform's persistent-store loader -------------- */

/* A value found by the persistent store while loading: checked like a set, but not written back.
 * 0, -ENOENT (unknown key) or the check's error (the value is then ignored). */
int smtp_cfg_store_loaded(const char *key, const char *value, size_t len);

#endif /* ZSMTP_SMTP_SHIM_PORT_H_ */
