/*
 * zsmtp platform shim: the only C the Rust client calls.
 *
 * Two implementations of this header exist and must behave the same:
 *   shim/zephyr/  over Zephyr's zsock_* socket API, k_mutex, k_uptime_get() ... (the module's
 *                 CMakeLists.txt compiles it into the image with zephyr_library_sources);
 *   shim/posix/   over POSIX sockets and pthreads (build.rs compiles it for host builds with
 *                 the cargo feature `zsock`, so the Rust transport runs against real servers in
 *                 the host tests).
 *
 * Every function that can fail returns a negative errno value (never sets errno for the
 * caller). Values the Rust transport classifies (src/transport/zsock.rs):
 *   -ETIMEDOUT, -EAGAIN   the wait ran out                         -> TimedOut
 *   -SMTP_SHIM_EHOSTNOTFOUND (-ENOENT) the name does not resolve     -> NotFound
 *   -ECONNREFUSED                                                   -> ConnectionRefused
 *   -ECONNRESET, -EPIPE, -ENOTCONN                                  -> ConnectionReset / BrokenPipe
 *   anything else                                                   -> Other
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef ZSMTP_SMTP_SHIM_H_
#define ZSMTP_SMTP_SHIM_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * "Host not found". smtp_shim_connect() returns -SMTP_SHIM_EHOSTNOTFOUND when the name cannot be
 * resolved at all (Zephyr: zsock_getaddrinfo() returned DNS_EAI_NONAME, DNS_EAI_NODATA,
 * DNS_EAI_FAIL, DNS_EAI_ADDRFAMILY, DNS_EAI_FAMILY or DNS_EAI_SERVICE; POSIX: EAI_NONAME,
 * EAI_NODATA, EAI_FAIL, EAI_ADDRFAMILY, EAI_FAMILY, EAI_SERVICE). ENOENT is never returned by
 * socket(), connect(), poll(), send() or recv(), so it cannot be confused with a connection
 * error. A temporary resolver failure (EAI_AGAIN: DNS server unreachable or too slow) is
 * -EAGAIN instead, a timeout.
 */
#define SMTP_SHIM_EHOSTNOTFOUND ENOENT

/* ---- Sockets --------------------------------------------------------------------------- */

/*
 * Resolves `host` (a name, or an IPv4 or IPv6 literal without brackets), then tries each
 * address in turn with a non-blocking connect, waiting at most until `timeout_ms` after the call
 * for all of them together. The connected socket has TCP_NODELAY set and stays non-blocking
 * (send and recv below wait with poll). Returns the socket (>= 0) or a negative errno.
 * Name resolution itself is bounded by the resolver (Zephyr: CONFIG_NET_SOCKETS_DNS_TIMEOUT).
 */
int smtp_shim_connect(const char *host, uint16_t port, uint32_t timeout_ms);

/*
 * Writes at most `len` bytes, waiting up to `timeout_ms` for room in the send buffer.
 * Returns the number written (> 0, may be less than len), 0 when len is 0, -ETIMEDOUT when no
 * byte could be written in time, or a negative errno (-EPIPE/-ECONNRESET when the peer is gone).
 */
int smtp_shim_send(int fd, const uint8_t *buf, size_t len, uint32_t timeout_ms);

/*
 * Reads at most `len` bytes, waiting up to `timeout_ms` for the first one. Returns the number
 * read (> 0), 0 when the peer closed the connection (or len is 0), -ETIMEDOUT when nothing
 * arrived in time, or a negative errno.
 */
int smtp_shim_recv(int fd, uint8_t *buf, size_t len, uint32_t timeout_ms);

/* Closes the socket. Negative fds are ignored. */
void smtp_shim_close(int fd);

/*
 * errno values differ between C libraries (ETIMEDOUT is 110 with glibc, 116 with newlib and
 * picolibc), so the Rust side never compares numbers: it asks the shim, which was compiled
 * against the right <errno.h>, for the class of an error returned above.
 */
enum smtp_shim_error_class {
	SMTP_SHIM_ERR_OTHER = 0,
	SMTP_SHIM_ERR_TIMED_OUT = 1,      /* ETIMEDOUT, EAGAIN, EWOULDBLOCK */
	SMTP_SHIM_ERR_HOST_NOT_FOUND = 2, /* SMTP_SHIM_EHOSTNOTFOUND */
	SMTP_SHIM_ERR_REFUSED = 3,        /* ECONNREFUSED */
	SMTP_SHIM_ERR_RESET = 4,          /* ECONNRESET */
	SMTP_SHIM_ERR_ABORTED = 5,        /* ECONNABORTED */
	SMTP_SHIM_ERR_BROKEN_PIPE = 6,    /* EPIPE */
	SMTP_SHIM_ERR_NOT_CONNECTED = 7,  /* ENOTCONN, EBADF */
	SMTP_SHIM_ERR_INVALID = 8,        /* EINVAL, ENAMETOOLONG */
	SMTP_SHIM_ERR_NO_MEMORY = 9,      /* ENOMEM, ENOBUFS */
	SMTP_SHIM_ERR_UNREACHABLE = 10,   /* ENETUNREACH, EHOSTUNREACH, ENETDOWN, EADDRNOTAVAIL */
	SMTP_SHIM_ERR_INTERRUPTED = 11,   /* EINTR */
	SMTP_SHIM_ERR_UNSUPPORTED = 12,   /* ENOTSUP, EOPNOTSUPP, EAFNOSUPPORT, EPROTONOSUPPORT */
};

/* The class of `err`, a negative (or positive) errno value returned by this shim. */
int smtp_shim_error_class(int err);

/* ---- Time, entropy, context ------------------------------------------------------------- */

/* Milliseconds since boot (POSIX: since an arbitrary point), monotonic. */
int64_t smtp_shim_uptime_ms(void);

/*
 * Seconds since 1970-01-01 UTC in *seconds, returning 0, when a wall clock is available and
 * set. -ENOTSUP: this build has no wall clock (Zephyr without CONFIG_SMTP_CLIENT_WALL_CLOCK);
 * -EAGAIN: the clock exists but reads before 2020-01-01, so it was never set (no SNTP yet).
 */
int smtp_shim_unix_time(int64_t *seconds);

/* 32 bits that differ between calls and between boots (not for cryptography). */
uint32_t smtp_shim_random(void);

/* Non-zero when called from an interrupt handler (the client must not be used there). */
int smtp_shim_in_isr(void);

/* ---- Mutex in caller-provided storage ----------------------------------------------------- */

/*
 * The C API keeps one lock in the lock words of each client structure (16 NetX ULONGs, so at
 * least 64 bytes). The mutex is placed at the first suitably aligned address inside `storage`;
 * the storage must not move or be copied between init and destroy.
 */
#define SMTP_SHIM_MUTEX_STORAGE_MIN 64

/* 0, or -EINVAL (NULL storage) or -ENOSPC (size too small for the aligned mutex). */
int smtp_shim_mutex_init(void *storage, size_t size);
void smtp_shim_mutex_lock(void *storage);
void smtp_shim_mutex_unlock(void *storage);
void smtp_shim_mutex_destroy(void *storage);

/* ---- Run-time configuration ------------------------------------------------------------ */

/*
 * Keys (all values are text):
 *   server, port, domain, from, user, password, auth   read and write; on Zephyr persisted with
 *       the settings subsystem under "smtp/<key>" when CONFIG_SMTP_CLIENT_SETTINGS=y. Defaults
 *       come from Kconfig (CONFIG_SMTP_CLIENT_SERVER, ...). auth is "none", "plain" or "login".
 *   timeout_connect, timeout_greeting, timeout_reply, timeout_send, timeout_final, timeout_total,
 *   pipelining ("y"/"n")                                read only (Kconfig).
 */

/* Loads persisted values over the defaults (Zephyr: settings_load_subtree("smtp")). Safe to
 * call more than once. 0 or a negative errno (the defaults stay in force on error). */
int smtp_shim_config_load(void);

/* Copies the value of `key` with its NUL into buf. Returns the length without the NUL,
 * -ENOENT for an unknown key, -ENOSPC when buf is too small (buf then holds ""). */
int smtp_shim_config_get(const char *key, char *buf, size_t len);

/* Checks and stores `value` for `key` (and persists it where settings are enabled).
 * 0, -ENOENT unknown key, -EACCES read-only key, -EINVAL bad value (control characters,
 * port out of range, unknown auth), -ENAMETOOLONG longer than the configured maximum, or the
 * settings subsystem's error. */
int smtp_shim_config_set(const char *key, const char *value);

/* Log one line through the platform's log (Zephyr: the smtp_client log module). level:
 * 1 error, 2 warning, 3 info, 4 debug. msg need not be NUL-terminated. Never give it secrets. */
void smtp_shim_log(uint32_t level, const char *msg, size_t len);

/* ---- Implemented in Rust (src/transport/zsock.rs), called by the shell command ------------ */

/*
 * Sends one mail to `to` with the run-time configuration, over a new connection. Writes the
 * server's final reply (or a description of the error) into reply (NUL-terminated, cut to
 * reply_len). Returns the NetX Duo status value (0 = NX_SUCCESS). Blocks; needs about
 * RX + TX buffer sizes + 3 KiB of stack. Not from an ISR (returns NX_CALLER_ERROR 0x11).
 */
uint32_t zsmtp_shim_send_mail(const char *to, const char *subject, const uint8_t *body,
			      size_t body_len, char *reply, size_t reply_len);

#ifdef __cplusplus
}
#endif

#endif /* ZSMTP_SMTP_SHIM_H_ */
