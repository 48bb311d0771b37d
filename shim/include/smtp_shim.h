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
 * caller). Values the Rust transport classifies (src/transport/shim.rs):
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
#include <stdbool.h>
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
	SMTP_SHIM_ERR_NO_SPACE = 13,      /* ENOSPC, EDQUOT (a full storage) */
};

/* The class of `err`, a negative (or positive) errno value returned by this shim. */
int smtp_shim_error_class(int err);

/* ---- TLS --------------------------------------------------------------------------------- */

/*
 * Both modes verify the server's certificate chain against the configured trust anchors and its
 * name against the host name asked for; a failed verification ends the handshake (mbedTLS
 * MBEDTLS_SSL_VERIFY_REQUIRED, Zephyr TLS_PEER_VERIFY_REQUIRED). No TLS state is global: each
 * connection's state lives in a `struct smtp_shim_tls` that smtp_shim_tls_start() /
 * smtp_shim_tls_connect() allocate with mbedtls_calloc() and smtp_shim_tls_close() frees, and
 * whose pointer the caller's transport owns.
 *
 * Trust anchors:
 *   Zephyr  the CA certificate(s) registered in the TLS credential store (tls_credential_add(),
 *           TLS_CREDENTIAL_CA_CERTIFICATE; one PEM credential may hold several certificates)
 *           under `sec_tag`, or under CONFIG_SMTP_CLIENT_TLS_SEC_TAG when sec_tag < 0. The
 *           module registers CONFIG_SMTP_CLIENT_TLS_CA_FILE there at boot. `ca_file` must be
 *           NULL.
 *   POSIX   the PEM or DER file `ca_file`, or, when it is NULL, the file named by the environment
 *           variable ZSMTP_CA_FILE, else by SSL_CERT_FILE. `sec_tag` is ignored.
 *
 * On failure the TLS calls return a negative errno value and say why in *tls_error:
 */
enum smtp_shim_tls_error {
	SMTP_SHIM_TLS_OK = 0,
	SMTP_SHIM_TLS_UNSUPPORTED = 1,     /* this build has no TLS (for this mode) */
	SMTP_SHIM_TLS_NO_TRUST_ANCHORS = 2, /* no CA configured, or it cannot be read or parsed */
	SMTP_SHIM_TLS_UNTRUSTED = 3,       /* the chain does not lead to a trusted CA */
	SMTP_SHIM_TLS_NAME_MISMATCH = 4,   /* the certificate does not name the host */
	SMTP_SHIM_TLS_EXPIRED = 5,         /* expired or not yet valid */
	SMTP_SHIM_TLS_HANDSHAKE = 6,       /* alert, protocol error, peer closed, no memory ... */
	SMTP_SHIM_TLS_TIMEOUT = 7,         /* the handshake did not finish in time */
	SMTP_SHIM_TLS_CONNECT = 8,         /* smtp_shim_tls_connect(): the TCP connect failed (the
					    * return value is its errno, classified as for
					    * smtp_shim_connect()) */
	SMTP_SHIM_TLS_CLOCK_NOT_SET = 9,   /* the wall clock is not set and certificate dates must
					    * be checked (Zephyr: CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK);
					    * nothing was sent */
};

/* Opaque per-connection TLS state (mbedTLS contexts and the parsed CA chain). */
struct smtp_shim_tls;

/*
 * STARTTLS: a TLS client handshake over the open socket `fd` (from smtp_shim_connect()), within
 * `timeout_ms`, verifying the certificate for `host` (also sent as SNI when it is a name). On
 * success *tls holds the new state: from then on use smtp_shim_tls_send() / _recv() on it, and
 * smtp_shim_tls_close() before smtp_shim_close(fd). Returns 0, or a negative errno with *tls NULL
 * and *tls_error set. The caller must not have read past the server's "220" reply: nothing that
 * arrived before the handshake is used.
 */
int smtp_shim_tls_start(int fd, const char *host, int32_t sec_tag, const char *ca_file,
			uint32_t timeout_ms, struct smtp_shim_tls **tls, int *tls_error);

/*
 * Implicit TLS (SMTPS): connects to `host`:`port` and runs the handshake, verifying the
 * certificate for `verify_name` (NULL: `host`). Returns the socket (>= 0) or a negative errno
 * with *tls_error set (SMTP_SHIM_TLS_CONNECT when the TCP connect itself failed).
 *   Zephyr with CONFIG_NET_SOCKETS_SOCKOPT_TLS: a TLS socket (IPPROTO_TLS_1_2) whose connect()
 *           does the handshake; *tls is NULL and the socket is used with smtp_shim_send() /
 *           _recv() / _close() as a plain one. The TCP connect and the handshake are bounded by
 *           Zephyr (CONFIG_NET_SOCKETS_CONNECT_TIMEOUT; from v4.4 also
 *           CONFIG_NET_SOCKETS_TLS_CONNECT_TIMEOUT), not by timeout_ms.
 *   otherwise: smtp_shim_connect() and then the handshake of smtp_shim_tls_start(), both within
 *           timeout_ms; *tls is the state to use as after smtp_shim_tls_start().
 */
int smtp_shim_tls_connect(const char *host, uint16_t port, const char *verify_name,
			  int32_t sec_tag, const char *ca_file, uint32_t timeout_ms,
			  struct smtp_shim_tls **tls, int *tls_error);

/* smtp_shim_send() / smtp_shim_recv() through the TLS state: the same results and errors. A
 * close_notify from the peer reads as 0 (closed). */
int smtp_shim_tls_send(struct smtp_shim_tls *tls, const uint8_t *buf, size_t len,
		       uint32_t timeout_ms);
int smtp_shim_tls_recv(struct smtp_shim_tls *tls, uint8_t *buf, size_t len, uint32_t timeout_ms);

/* Sends close_notify (waiting at most timeout_ms for room), then frees the state (contexts are
 * zeroised by mbedTLS). Does not close the socket. NULL is ignored. */
void smtp_shim_tls_close(struct smtp_shim_tls *tls, uint32_t timeout_ms);

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

/* ---- Outbox storage (cargo feature outbox) --------------------------------------------------
 *
 * Keyed records for zsmtp's outbox (src/outbox/storage.rs): 16-bit keys, each record written,
 * replaced or deleted atomically (after a power cut a record is as before the call or as the call
 * left it, whole), and a call that returned 0 survives a power cut.
 *   Zephyr  ZMS on the devicetree fixed partition labelled zsmtp_outbox_partition
 *           (shim/zephyr/smtp_outbox_zms.c, CONFIG_SMTP_CLIENT_OUTBOX_ZMS), or a RAM arena that
 *           survives outages, not reboots (shim/common/smtp_outbox_ram.c,
 *           CONFIG_SMTP_CLIENT_OUTBOX_RAM);
 *   POSIX   one file per record in the directory $ZSMTP_OUTBOX_DIR (shim/posix/smtp_outbox_file.c).
 * One storage per image; open it before any other call (from one thread); the other calls may
 * come from any thread, never from an ISR.
 */

/* Mounts (creates) the storage: 0, or a negative errno (-ENODEV no device or directory
 * configured, -EIO the medium failed). Opening an open storage succeeds and changes nothing. */
int smtp_shim_outbox_open(void);

/* The largest record in bytes (a ZMS entry's limit: a sector less five allocation table entries,
 * at most 65535), or -EACCES before a successful open. */
int smtp_shim_outbox_record_size(void);

/* Reads record `key` into buf (at most len bytes): the record's whole length (greater than len
 * when it did not fit: buf then holds its first len bytes), 0 when there is no such record
 * (records are never empty: a zero-length ZMS entry is a deleted one), or a negative errno. */
int smtp_shim_outbox_read(uint16_t key, uint8_t *buf, size_t len);

/* Writes record `key` (1 to record_size bytes), replacing any record of that key, atomically: 0,
 * -EINVAL empty or longer than the record size (nothing written), -ENOSPC full (error class
 * SMTP_SHIM_ERR_NO_SPACE), or another negative errno (the record is then as before the call). */
int smtp_shim_outbox_write(uint16_t key, const uint8_t *data, size_t len);

/* Deletes record `key` atomically: 0 (also when there was none) or a negative errno. */
int smtp_shim_outbox_delete(uint16_t key);

/* One outbox at a time owns the storage (nx_smtp_outbox_create claims it): 0, or -EBUSY when
 * another owner holds it. Release by the owner only; the shell finds the owner's outbox. */
int smtp_shim_outbox_claim(void *owner);
void smtp_shim_outbox_release(void *owner);
void *smtp_shim_outbox_owner(void);

/* ---- Outbox delivery worker (cargo feature outbox) -------------------------------------------
 *
 * Runs the delivery passes of an outbox in a thread of the module:
 *   Zephyr  a work queue of its own (Kconfig SMTP_CLIENT_OUTBOX_WORKER_STACK_SIZE, _PRIORITY),
 *           one delayable work item per outbox, and the connection manager's
 *           NET_EVENT_L4_CONNECTED / _DISCONNECTED (shim/zephyr/smtp_outbox_worker.c); with
 *           CONFIG_SMTP_CLIENT_OUTBOX_WORKER=n, shim/zephyr/smtp_outbox_worker_none.c (no thread:
 *           the application calls nx_smtp_outbox_flush);
 *   POSIX   one thread per outbox (shim/posix/smtp_outbox_worker.c), the network state set by
 *           smtp_shim_posix_network_set (a test hook of that file).
 * While the network is down no pass runs; when it comes up a pass runs at once with
 * network_up set.
 */

/* One delivery pass (implemented in Rust, src/capi/outbox.rs): delivers what is due and returns
 * the milliseconds until the next mail is due, or -1 when none waits. network_up: the network
 * has just come up (every waiting mail is due now). Runs in the worker's thread. */
typedef int64_t (*smtp_shim_outbox_pass_fn)(void *outbox, bool network_up);

/* Starts the worker of `outbox` in `state` (state_size bytes in the outbox control block,
 * pointer-aligned, not moved until stop): 0, -ENOMEM when state_size is too small, or another
 * negative errno. A first pass runs at once when the network is up. */
int smtp_shim_outbox_worker_start(void *state, size_t state_size, smtp_shim_outbox_pass_fn pass, void *outbox);

/* Asks for a pass now (a mail was queued), if the network is up. Any thread, never an ISR. */
void smtp_shim_outbox_worker_kick(void *state);

/* Stops the worker: no pass runs after it returns (a pass under way is waited for). Not from
 * the worker's own thread. */
void smtp_shim_outbox_worker_stop(void *state);

/* ---- Implemented in Rust (src/platform/shell.rs), called by the shell command ------------ */

/*
 * Sends one mail to `to` with the run-time configuration, over a new connection. Writes the
 * server's final reply (or a description of the error) into reply (NUL-terminated, cut to
 * reply_len). Returns the NetX Duo status value (0 = NX_SUCCESS). Blocks; needs about
 * RX + TX buffer sizes + 3 KiB of stack. Not from an ISR (returns NX_CALLER_ERROR 0x11).
 */
uint32_t zsmtp_shim_send_mail(const char *to, const char *subject, const uint8_t *body,
			      size_t body_len, char *reply, size_t reply_len);

/*
 * Reads the next bytes of an attachment into buf (at most len): the count (0 at the end) or a
 * negative errno, which abandons the mail without ending DATA.
 */
typedef int (*zsmtp_shim_read_fn)(void *context, uint8_t *buf, size_t len);

/*
 * zsmtp_shim_send_mail with one attachment named `name` (its file name, UTF-8, no path), its
 * content type guessed from the extension, `size` bytes read through `read(context, ..)` while
 * the mail is sent (feature mime: CONFIG_SMTP_CLIENT_ATTACHMENTS). A reader that ends before
 * `size` bytes fails the send.
 */
uint32_t zsmtp_shim_send_mail_attached(const char *to, const char *subject, const uint8_t *body,
				       size_t body_len, const char *name, zsmtp_shim_read_fn read,
				       void *context, uint64_t size, char *reply, size_t reply_len);

#ifdef __cplusplus
}
#endif

#endif /* ZSMTP_SMTP_SHIM_H_ */
