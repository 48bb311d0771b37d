/*
 * nxd_smtp_client.h - NetX Duo-compatible SMTP client API of zsmtp.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Source-compatible with NetX Duo's SMTP client services (nxd_smtp_client_create,
 * nx_smtp_client_delete, nx_smtp_mail_send): same names, prototypes, status values and
 * constants, so an application written for NetX Duo compiles unchanged. The engine is
 * zsmtp (Rust, no heap); this header needs no NetX/ThreadX header. Where an application
 * already includes nx_api.h, every shared macro is guarded by #ifndef so that identical
 * definitions do not clash (NetX's types must then also be the ones below: see
 * ZSMTP_NO_NETX_TYPES).
 *
 * Differences from NetX Duo (all deliberate):
 *  - strings given to nxd_smtp_client_create are COPIED into the client, the sender
 *    address included (NetX keeps the from_address pointer);
 *  - limits admit real credentials (NetX: username 40, password 20);
 *  - nx_smtp_mail_send rejects CR/LF (header/command injection) in the recipient and
 *    subject, an invalid priority, and validates addresses (NX_SMTP_INVALID_PARAM);
 *  - NX_IP and NX_PACKET_POOL are accepted and ignored (sockets come from the platform);
 *  - one client may be used from several threads: sends on one client are serialised by a
 *    lock inside the client; different clients are independent;
 *  - nx_smtp_client_last_reply_get() returns the server reply that decided the last send;
 *  - nx_smtp_client_tls_set() chooses STARTTLS or implicit TLS, with certificate
 *    verification (NetX Duo's SMTP client has no TLS).
 *
 * C99; compiles with -Wall -Wextra -Werror -pedantic, and as C++.
 */
#ifndef NXD_SMTP_CLIENT_H
#define NXD_SMTP_CLIENT_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Basic types, as ThreadX/NetX define them. Define ZSMTP_NO_NETX_TYPES when tx_api.h /
 * nx_api.h are included first and already provide them (they must be the same types).
 * ------------------------------------------------------------------------------------- */
#ifndef ZSMTP_NO_NETX_TYPES
typedef char           CHAR;
typedef unsigned char  UCHAR;
typedef unsigned short USHORT;
typedef unsigned int   UINT;
typedef unsigned long  ULONG;

/* NetX's IP instance and packet pool: accepted by nxd_smtp_client_create for source
   compatibility and never dereferenced (any non-NULL pointer will do). */
typedef struct NX_IP_STRUCT
{
    ULONG nx_ip_id;
} NX_IP;

typedef struct NX_PACKET_POOL_STRUCT
{
    ULONG nx_packet_pool_id;
} NX_PACKET_POOL;

/* IPv4 or IPv6 server address. Words are in host byte order, as in NetX:
   v4 = IP_ADDRESS(127,0,0,1); v6[0] holds the most significant 32 bits. */
typedef struct NXD_ADDRESS_STRUCT
{
    ULONG nxd_ip_version;          /* NX_IP_VERSION_V4 or NX_IP_VERSION_V6 */
    union
    {
        ULONG v4;
        ULONG v6[4];
    } nxd_ip_address;
} NXD_ADDRESS;
#endif /* ZSMTP_NO_NETX_TYPES */

#ifndef IP_ADDRESS
#define IP_ADDRESS(a, b, c, d) ((((ULONG)(a)) << 24) | (((ULONG)(b)) << 16) | \
                                (((ULONG)(c)) << 8) | ((ULONG)(d)))
#endif

#ifndef NX_IP_VERSION_V4
#define NX_IP_VERSION_V4 0x4
#endif
#ifndef NX_IP_VERSION_V6
#define NX_IP_VERSION_V6 0x6
#endif

/* ---------------------------------------------------------------------------------------
 * Status values (nx_api.h and nxd_smtp_client.h values, unchanged).
 * ------------------------------------------------------------------------------------- */
#ifndef NX_SUCCESS
#define NX_SUCCESS          0x00
#endif
#ifndef NX_NO_PACKET
#define NX_NO_PACKET        0x01  /* here: a server reply did not arrive in time */
#endif
#ifndef NX_PTR_ERROR
#define NX_PTR_ERROR        0x07
#endif
#ifndef NX_SIZE_ERROR
#define NX_SIZE_ERROR       0x09
#endif
#ifndef NX_CALLER_ERROR
#define NX_CALLER_ERROR     0x11
#endif
#ifndef NX_IP_ADDRESS_ERROR
#define NX_IP_ADDRESS_ERROR 0x21
#endif
#ifndef NX_NOT_CONNECTED
#define NX_NOT_CONNECTED    0x38
#endif

#ifndef NX_SMTP_AUTHENTICATION_ERROR
#define NX_SMTP_AUTHENTICATION_ERROR       0xA0
#endif
#ifndef NX_SMTP_OVERSIZE_MAIL_DATA
#define NX_SMTP_OVERSIZE_MAIL_DATA         0xA1
#endif
#ifndef NX_SMTP_INVALID_SERVER_REPLY
#define NX_SMTP_INVALID_SERVER_REPLY       0xA2
#endif
#ifndef NX_SMTP_INTERNAL_ERROR
#define NX_SMTP_INTERNAL_ERROR             0xA3
#endif
#ifndef NX_SMTP_SERVER_ERROR_CODE_RECEIVED
#define NX_SMTP_SERVER_ERROR_CODE_RECEIVED 0xA4
#endif
#ifndef NX_SMTP_INVALID_PARAM
#define NX_SMTP_INVALID_PARAM              0xA5
#endif
#ifndef NX_SMTP_PACKET_ALLOCATE_ERROR
#define NX_SMTP_PACKET_ALLOCATE_ERROR      0xA6
#endif
#ifndef NX_SMTP_GREET_REPLY_ERROR
#define NX_SMTP_GREET_REPLY_ERROR          0xA7
#endif
#ifndef NX_SMTP_HELLO_REPLY_ERROR
#define NX_SMTP_HELLO_REPLY_ERROR          0xA8
#endif
#ifndef NX_SMTP_MAIL_REPLY_ERROR
#define NX_SMTP_MAIL_REPLY_ERROR           0xA9
#endif
#ifndef NX_SMTP_RCPT_REPLY_ERROR
#define NX_SMTP_RCPT_REPLY_ERROR           0xAA
#endif
#ifndef NX_SMTP_MESSAGE_REPLY_ERROR
#define NX_SMTP_MESSAGE_REPLY_ERROR        0xAB
#endif
#ifndef NX_SMTP_DATA_REPLY_ERROR
#define NX_SMTP_DATA_REPLY_ERROR           0xAC
#endif
#ifndef NX_SMTP_AUTH_REPLY_ERROR
#define NX_SMTP_AUTH_REPLY_ERROR           0xAD
#endif
#ifndef NX_SMTP_SERVER_ERROR_REPLY
#define NX_SMTP_SERVER_ERROR_REPLY         0xAE
#endif
#ifndef NX_SMTP_TRANSMIT_ERROR
#define NX_SMTP_TRANSMIT_ERROR             0xAF
#endif
#ifndef NX_SMTP_INVALID_SERVER_CHALLENGE
#define NX_SMTP_INVALID_SERVER_CHALLENGE   0xB0
#endif
#ifndef NX_SMTP_OVERSIZE_SERVER_REPLY
#define NX_SMTP_OVERSIZE_SERVER_REPLY      0xB1
#endif
/* Spelled as NetX Duo spells it; the correctly spelled alias is ours. */
#ifndef NX_SMTP_CLIENT_NOT_INTIALIZED
#define NX_SMTP_CLIENT_NOT_INTIALIZED      0xB2
#endif
#ifndef NX_SMTP_CLIENT_NOT_INITIALIZED
#define NX_SMTP_CLIENT_NOT_INITIALIZED     NX_SMTP_CLIENT_NOT_INTIALIZED
#endif

/* zsmtp's own status values (outside NetX's SMTP range 0xA0..0xB2). */
/* The link died after the end of the message was sent, before the server's final reply:
   the mail may or may not have been accepted; retrying may duplicate it. */
#ifndef NX_SMTP_OUTCOME_UNKNOWN
#define NX_SMTP_OUTCOME_UNKNOWN            0xC0
#endif
/* The server name could not be resolved. */
#ifndef NX_SMTP_HOST_NOT_FOUND
#define NX_SMTP_HOST_NOT_FOUND             0xC1
#endif
/* TLS (nx_smtp_client_tls_set). In every case below nothing was sent after the failure: no
   credentials, no mail. */
/* STARTTLS was required but the server does not offer it, or refused it. */
#ifndef NX_SMTP_STARTTLS_UNAVAILABLE
#define NX_SMTP_STARTTLS_UNAVAILABLE       0xC2
#endif
/* The TLS handshake failed (protocol error, alert, connection closed). */
#ifndef NX_SMTP_TLS_HANDSHAKE_FAILED
#define NX_SMTP_TLS_HANDSHAKE_FAILED       0xC3
#endif
/* The server's certificate is not signed by a trusted CA, or no CA is configured. */
#ifndef NX_SMTP_TLS_UNTRUSTED_CERTIFICATE
#define NX_SMTP_TLS_UNTRUSTED_CERTIFICATE  0xC4
#endif
/* The server's certificate does not name the server (see nx_smtp_client_tls_set). */
#ifndef NX_SMTP_TLS_NAME_MISMATCH
#define NX_SMTP_TLS_NAME_MISMATCH          0xC5
#endif
/* The server's certificate is expired or not yet valid. */
#ifndef NX_SMTP_TLS_CERTIFICATE_EXPIRED
#define NX_SMTP_TLS_CERTIFICATE_EXPIRED    0xC6
#endif
/* The server sent bytes after its "220" to STARTTLS, before the handshake (an injection). */
#ifndef NX_SMTP_TLS_UNEXPECTED_DATA
#define NX_SMTP_TLS_UNEXPECTED_DATA        0xC7
#endif
/* Credentials would have gone over an unencrypted connection; none were sent. */
#ifndef NX_SMTP_PLAINTEXT_AUTH_REFUSED
#define NX_SMTP_PLAINTEXT_AUTH_REFUSED     0xC8
#endif
/* TLS was asked for, but this build has none for that mode. */
#ifndef NX_SMTP_TLS_NOT_SUPPORTED
#define NX_SMTP_TLS_NOT_SUPPORTED          0xC9
#endif
/* The wall clock is not set (no SNTP or RTC yet) and the build requires certificate dates to be
 * checked (CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK): no handshake was attempted. */
#ifndef NX_SMTP_TLS_CLOCK_NOT_SET
#define NX_SMTP_TLS_CLOCK_NOT_SET          0xCA
#endif

/* ---------------------------------------------------------------------------------------
 * Authentication types and priorities (NetX values).
 * CRAM-MD5 is not supported: like NetX Duo, any type other than LOGIN, PLAIN or NONE
 * becomes PLAIN.
 * ------------------------------------------------------------------------------------- */
#ifndef NX_SMTP_CLIENT_AUTH_NONE
#define NX_SMTP_CLIENT_AUTH_NONE     0xFFFF
#endif
#ifndef NX_SMTP_CLIENT_AUTH_LOGIN
#define NX_SMTP_CLIENT_AUTH_LOGIN    1
#endif
#ifndef NX_SMTP_CLIENT_AUTH_CRAM_MD5
#define NX_SMTP_CLIENT_AUTH_CRAM_MD5 2
#endif
#ifndef NX_SMTP_CLIENT_AUTH_PLAIN
#define NX_SMTP_CLIENT_AUTH_PLAIN    3
#endif
/* Ours, with NX_SMTP_CLIENT_OAUTH2: an OAuth 2.0 bearer token (nx_smtp_client_token_set)
   instead of the password. Used only when the server offers the mechanism (no fallback to
   PLAIN or LOGIN). Without NX_SMTP_CLIENT_OAUTH2 they become PLAIN, as any unknown type. */
#ifndef NX_SMTP_CLIENT_AUTH_XOAUTH2
#define NX_SMTP_CLIENT_AUTH_XOAUTH2      4
#endif
#ifndef NX_SMTP_CLIENT_AUTH_OAUTHBEARER
#define NX_SMTP_CLIENT_AUTH_OAUTHBEARER  5
#endif

/* Transport security (ours, for nx_smtp_client_tls_set). */
#ifndef NX_SMTP_CLIENT_TLS_NONE
#define NX_SMTP_CLIENT_TLS_NONE      0   /* plain TCP */
#endif
#ifndef NX_SMTP_CLIENT_TLS_STARTTLS
#define NX_SMTP_CLIENT_TLS_STARTTLS  1   /* STARTTLS, required (usually port 587) */
#endif
#ifndef NX_SMTP_CLIENT_TLS_IMPLICIT
#define NX_SMTP_CLIENT_TLS_IMPLICIT  2   /* TLS from the first byte (usually port 465) */
#endif

#ifndef NX_SMTP_MAIL_PRIORITY_LOW
#define NX_SMTP_MAIL_PRIORITY_LOW    0x01
#endif
#ifndef NX_SMTP_MAIL_PRIORITY_NORMAL
#define NX_SMTP_MAIL_PRIORITY_NORMAL 0x02
#endif
#ifndef NX_SMTP_MAIL_PRIORITY_HIGH
#define NX_SMTP_MAIL_PRIORITY_HIGH   0x04
#endif

#ifndef NX_SMTP_CLIENT_ID
#define NX_SMTP_CLIENT_ID            0x534D5450UL   /* "SMTP" */
#endif

/* ---------------------------------------------------------------------------------------
 * Limits and buffer sizes.
 *
 * These values size NX_SMTP_CLIENT, whose layout the Rust library mirrors. Each is, in this
 * order: -DNX_SMTP_CLIENT_..., else Kconfig's CONFIG_SMTP_CLIENT_... (on Zephyr, where
 * autoconf.h is in every compilation), else Kconfig's default, repeated below (the library's
 * tests check that these fallbacks equal the Kconfig defaults). The library reads the same
 * Kconfig values at build time (build.rs: the .config of a Zephyr build, else the Kconfig
 * defaults), overridden by environment variables (ZSMTP_MAX_USERNAME, ZSMTP_MAX_PASSWORD,
 * ZSMTP_MAX_DOMAIN, ZSMTP_MAX_ADDRESS, ZSMTP_MAX_REPLY_TEXT, ZSMTP_RX_BUFFER_SIZE,
 * ZSMTP_TX_BUFFER_SIZE, ZSMTP_LOCK_WORDS, ZSMTP_OAUTH2_TOKEN_MAX). Outside Zephyr, override a value on both sides:
 * -DNX_SMTP_CLIENT_... for C and ZSMTP_... for cargo. A mismatch changes
 * sizeof(NX_SMTP_CLIENT): tests/c checks it against _nx_smtp_client_layout_size().
 *
 * Lengths exclude the terminating NUL; a string may be exactly this long.
 * ------------------------------------------------------------------------------------- */

/* SASL user name. NetX: 40. 128 admits e-mail-address user names and provider tokens. */
#ifndef NX_SMTP_CLIENT_MAX_USERNAME
#if defined(CONFIG_SMTP_CLIENT_MAX_USERNAME)
#define NX_SMTP_CLIENT_MAX_USERNAME CONFIG_SMTP_CLIENT_MAX_USERNAME
#else
#define NX_SMTP_CLIENT_MAX_USERNAME 128
#endif
#endif

/* Password. NetX: 20, too short for relay API keys (69+ characters). */
#ifndef NX_SMTP_CLIENT_MAX_PASSWORD
#if defined(CONFIG_SMTP_CLIENT_MAX_PASSWORD)
#define NX_SMTP_CLIENT_MAX_PASSWORD CONFIG_SMTP_CLIENT_MAX_PASSWORD
#else
#define NX_SMTP_CLIENT_MAX_PASSWORD 128
#endif
#endif

/* The EHLO name. RFC 5321 4.5.3.1.2: a domain name or number is at most 255 octets. */
#ifndef NX_SMTP_CLIENT_MAX_DOMAIN
#if defined(CONFIG_SMTP_CLIENT_MAX_DOMAIN)
#define NX_SMTP_CLIENT_MAX_DOMAIN CONFIG_SMTP_CLIENT_MAX_DOMAIN
#else
#define NX_SMTP_CLIENT_MAX_DOMAIN 255
#endif
#endif

/* Sender and recipient addresses, angle brackets included when given.
   RFC 5321 4.5.3.1.3: a path (with its brackets) is at most 256 octets. */
#ifndef NX_SMTP_CLIENT_MAX_ADDRESS
#if defined(CONFIG_SMTP_CLIENT_MAX_ADDRESS)
#define NX_SMTP_CLIENT_MAX_ADDRESS CONFIG_SMTP_CLIENT_MAX_ADDRESS
#else
#define NX_SMTP_CLIENT_MAX_ADDRESS 256
#endif
#endif

/* Text kept of the server reply that decided the last send (the library keeps 128). */
#ifndef NX_SMTP_CLIENT_MAX_REPLY_TEXT
#if defined(CONFIG_SMTP_CLIENT_MAX_REPLY_TEXT)
#define NX_SMTP_CLIENT_MAX_REPLY_TEXT CONFIG_SMTP_CLIENT_MAX_REPLY_TEXT
#else
#define NX_SMTP_CLIENT_MAX_REPLY_TEXT 128
#endif
#endif

/* Receive buffer: one reply line must fit (RFC 5321: 512). At least 512. */
#ifndef NX_SMTP_CLIENT_RX_BUFFER_SIZE
#if defined(CONFIG_SMTP_CLIENT_RX_BUFFER_SIZE)
#define NX_SMTP_CLIENT_RX_BUFFER_SIZE CONFIG_SMTP_CLIENT_RX_BUFFER_SIZE
#else
#define NX_SMTP_CLIENT_RX_BUFFER_SIZE 512
#endif
#endif

/* Transmit buffer: commands are coalesced in it, the body leaves in writes of this size.
   At least 512 (the longest command must fit). */
#ifndef NX_SMTP_CLIENT_TX_BUFFER_SIZE
#if defined(CONFIG_SMTP_CLIENT_TX_BUFFER_SIZE)
#define NX_SMTP_CLIENT_TX_BUFFER_SIZE CONFIG_SMTP_CLIENT_TX_BUFFER_SIZE
#else
#define NX_SMTP_CLIENT_TX_BUFFER_SIZE 1024
#endif
#endif

/* Storage for the client's lock (a Zephyr k_mutex or a host mutex), in ULONG words. */
#ifndef NX_SMTP_CLIENT_LOCK_WORDS
#if defined(CONFIG_SMTP_CLIENT_LOCK_WORDS)
#define NX_SMTP_CLIENT_LOCK_WORDS CONFIG_SMTP_CLIENT_LOCK_WORDS
#else
#define NX_SMTP_CLIENT_LOCK_WORDS 16
#endif
#endif

/* OAuth 2.0 bearer tokens (XOAUTH2, OAUTHBEARER): NX_SMTP_CLIENT_OAUTH2 is 1 when the
   library is built with them (Kconfig SMTP_CLIENT_AUTH_OAUTH2; on hosts the cargo feature
   oauth2, and -DNX_SMTP_CLIENT_OAUTH2=1 here). It adds the token fields to NX_SMTP_CLIENT. */
#if !defined(NX_SMTP_CLIENT_OAUTH2) && defined(CONFIG_SMTP_CLIENT_AUTH_OAUTH2)
#define NX_SMTP_CLIENT_OAUTH2 1
#endif
#ifndef NX_SMTP_CLIENT_OAUTH2
#define NX_SMTP_CLIENT_OAUTH2 0
#endif

/* Longest OAuth 2.0 access token (bytes; Microsoft's run to several KB). */
#ifndef NX_SMTP_CLIENT_OAUTH2_TOKEN_MAX
#if defined(CONFIG_SMTP_CLIENT_OAUTH2_TOKEN_MAX)
#define NX_SMTP_CLIENT_OAUTH2_TOKEN_MAX CONFIG_SMTP_CLIENT_OAUTH2_TOKEN_MAX
#else
#define NX_SMTP_CLIENT_OAUTH2_TOKEN_MAX 4096
#endif
#endif

/* Compile-time checks (C99: a negative array size is an error). */
typedef char nx_smtp_client_rx_buffer_too_small[(NX_SMTP_CLIENT_RX_BUFFER_SIZE >= 512) ? 1 : -1];
typedef char nx_smtp_client_tx_buffer_too_small[(NX_SMTP_CLIENT_TX_BUFFER_SIZE >= 512) ? 1 : -1];
typedef char nx_smtp_client_lock_too_small[(NX_SMTP_CLIENT_LOCK_WORDS >= 4) ? 1 : -1];
/* The library reads NXD_ADDRESS as five ULONGs (version + v4/v6 union). NetX's own
   definition without FEATURE_NX_IPV6 is shorter: refuse it here rather than at run time. */
typedef char nx_smtp_client_nxd_address_needs_v6[(sizeof(NXD_ADDRESS) == 5 * sizeof(ULONG)) ? 1 : -1];

/* ---------------------------------------------------------------------------------------
 * The client control block: allocated by the application (static, stack or heap),
 * initialised by nxd_smtp_client_create. The public fields keep NetX's names; the TLS fields
 * are set by nx_smtp_client_tls_set; the fields after them are the engine's and must not be
 * touched.
 * ------------------------------------------------------------------------------------- */
#if NX_SMTP_CLIENT_OAUTH2
/* Called by nx_smtp_mail_send right before AUTH (nx_smtp_client_token_refresh_set), under
   the client's lock: it must not call a service on the same client. `token` holds the
   current token (*token_length bytes, no NUL); the callback may write a new one of up to
   token_size bytes and set *token_length. Return NX_SUCCESS to send the token in `token`;
   any other value ends the send before AUTH with NX_SMTP_INVALID_PARAM. */
typedef UINT (*NX_SMTP_CLIENT_TOKEN_REFRESH)(void *context, CHAR *token, UINT token_size, UINT *token_length);
#endif

typedef struct NX_SMTP_CLIENT_STRUCT
{
    ULONG       nx_smtp_client_id;                                          /* NX_SMTP_CLIENT_ID when created */
    CHAR        nx_smtp_username[NX_SMTP_CLIENT_MAX_USERNAME + 1];          /* copy, NUL-terminated */
    CHAR        nx_smtp_password[NX_SMTP_CLIENT_MAX_PASSWORD + 1];          /* copy; wiped by delete */
    CHAR        nx_smtp_client_domain[NX_SMTP_CLIENT_MAX_DOMAIN + 1];       /* EHLO name, copy */
    CHAR        nx_smtp_client_mail_from_address[NX_SMTP_CLIENT_MAX_ADDRESS + 1]; /* copy (NetX: a pointer) */
    UINT        nx_smtp_client_authentication_type;                         /* LOGIN, PLAIN or NONE */
    NXD_ADDRESS nx_smtp_server_address;
    USHORT      nx_smtp_server_port;
    UINT        nx_smtp_client_tls_mode;                                    /* NX_SMTP_CLIENT_TLS_* (nx_smtp_client_tls_set) */
    CHAR        nx_smtp_client_tls_server_name[NX_SMTP_CLIENT_MAX_DOMAIN + 1]; /* name the certificate must carry; "" = the address */

    /* Engine state. */
    ULONG       nx_smtp_client_mail_sequence;                               /* sends so far (Message-ID) */
    UINT        nx_smtp_client_last_reply_code;                             /* 0: no reply */
    CHAR        nx_smtp_client_last_reply_text[NX_SMTP_CLIENT_MAX_REPLY_TEXT + 1];
    UCHAR       nx_smtp_client_rx_buffer[NX_SMTP_CLIENT_RX_BUFFER_SIZE];
    UCHAR       nx_smtp_client_tx_buffer[NX_SMTP_CLIENT_TX_BUFFER_SIZE];
    ULONG       nx_smtp_client_lock[NX_SMTP_CLIENT_LOCK_WORDS];
#if NX_SMTP_CLIENT_OAUTH2
    /* OAuth 2.0 (nx_smtp_client_token_set, nx_smtp_client_token_refresh_set). */
    NX_SMTP_CLIENT_TOKEN_REFRESH nx_smtp_client_token_refresh;
    void       *nx_smtp_client_token_refresh_context;
    UINT        nx_smtp_client_token_length;
    CHAR        nx_smtp_client_token[NX_SMTP_CLIENT_OAUTH2_TOKEN_MAX];       /* no NUL; wiped by delete */
#endif
} NX_SMTP_CLIENT;

/* ---------------------------------------------------------------------------------------
 * Services (NetX Duo prototypes).
 * ------------------------------------------------------------------------------------- */

/* Creates a client. Copies every string. Returns NX_SUCCESS, NX_PTR_ERROR (a NULL
   pointer), NX_IP_ADDRESS_ERROR (nxd_ip_version not 4 or 6), NX_SIZE_ERROR (a string
   longer than its limit) or NX_SMTP_INVALID_PARAM (control characters, an invalid sender
   address or domain, port 0). On failure *client_ptr is left unchanged. */
UINT nxd_smtp_client_create(NX_SMTP_CLIENT *client_ptr, NX_IP *ip_ptr,
                            NX_PACKET_POOL *client_packet_pool_ptr,
                            CHAR *username, CHAR *password, CHAR *from_address,
                            CHAR *client_domain, UINT authentication_type,
                            NXD_ADDRESS *server_address, UINT port);

/* Deletes a client: wipes the credentials and buffers. NX_PTR_ERROR when NULL or not
   created (a second delete); NX_CALLER_ERROR from an ISR. Must not be called while another
   thread is inside a service on the same client. */
UINT nx_smtp_client_delete(NX_SMTP_CLIENT *client_ptr);

/* Sends one mail over a new connection, then closes it. Thread context only (an ISR gets
   NX_CALLER_ERROR). Sends on one client from several threads are serialised. Returns
   NX_SUCCESS or the status of the failure: NX_PTR_ERROR, NX_SMTP_INVALID_PARAM (length 0,
   priority not LOW/NORMAL/HIGH, CR/LF in recipient or subject, invalid recipient, NUL in
   the body), NX_SMTP_CLIENT_NOT_INTIALIZED, the NX_SMTP_*_REPLY_ERROR of the step the server
   refused (see nx_smtp_client_last_reply_get), NX_NOT_CONNECTED, NX_NO_PACKET (a reply
   timed out), NX_SMTP_OUTCOME_UNKNOWN, NX_SMTP_HOST_NOT_FOUND ... */
UINT nx_smtp_mail_send(NX_SMTP_CLIENT *client_ptr, CHAR *recipient_address, UINT priority,
                       CHAR *subject, CHAR *mail_body, UINT mail_body_length);

/* Ours: the server reply that decided the last send on this client (its final reply, or
   the failing one): its code (0 when no reply was received) and text, NUL-terminated and
   truncated to text_size (text may be NULL when text_size is 0). Returns NX_SUCCESS,
   NX_PTR_ERROR or NX_SMTP_CLIENT_NOT_INTIALIZED. */
UINT nx_smtp_client_last_reply_get(NX_SMTP_CLIENT *client_ptr, UINT *reply_code,
                                   CHAR *text, UINT text_size);

/* Ours: the transport security of the client's following sends.
     tls_mode     NX_SMTP_CLIENT_TLS_NONE, NX_SMTP_CLIENT_TLS_STARTTLS (required: a server that
                  does not offer it fails the send with NX_SMTP_STARTTLS_UNAVAILABLE) or
                  NX_SMTP_CLIENT_TLS_IMPLICIT (TLS from the first byte). The port given to create
                  is kept: use 587 or 465 there.
     server_name  the host name the server's certificate must carry (also sent as SNI), e.g.
                  "smtp.example.com": NetX gives the server as an address, certificates name it
                  by host name. NULL or "": the certificate must name the address itself. Copied.
   The chain is verified against the platform's trust anchors: on Zephyr the CA certificate(s)
   registered under CONFIG_SMTP_CLIENT_TLS_SEC_TAG (CONFIG_SMTP_CLIENT_TLS_CA_FILE registers one
   at boot); in the host library, the CA file named by $ZSMTP_CA_FILE (else $SSL_CERT_FILE; build
   with the zsock shim) or the system's CAs ($SSL_CERT_FILE honoured; std build). After create
   the mode is the module's default (Zephyr: Kconfig SMTP_CLIENT_TLS; host: NONE). With TLS,
   credentials are sent only after the handshake succeeded; without it they are refused
   (NX_SMTP_PLAINTEXT_AUTH_REFUSED) unless CONFIG_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH.
   Returns NX_SUCCESS, NX_PTR_ERROR (NULL client), NX_SMTP_CLIENT_NOT_INTIALIZED,
   NX_SMTP_INVALID_PARAM (unknown mode; a name that is not a host name or IP literal),
   NX_SIZE_ERROR (name longer than NX_SMTP_CLIENT_MAX_DOMAIN) or NX_CALLER_ERROR (ISR). On
   failure nothing changes. Thread context; serialised with sends on the same client. */
UINT nx_smtp_client_tls_set(NX_SMTP_CLIENT *client_ptr, UINT tls_mode, CHAR *server_name);

#if NX_SMTP_CLIENT_OAUTH2
/* Ours: the OAuth 2.0 access token of the client's following sends with
   NX_SMTP_CLIENT_AUTH_XOAUTH2 or NX_SMTP_CLIENT_AUTH_OAUTHBEARER (the user name given to create
   is the mailbox the token was issued for). Copied into the client (length bytes, no NUL
   needed; length 0 removes it) and wiped by delete or the next token_set. Tokens expire: set a
   fresh one before a send, or let a refresh callback do it. It is sent only under the rule of
   passwords (TLS, or CONFIG_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH), never logged. A server that
   refuses it answers with a JSON error, which nx_smtp_client_last_reply_get shows after the
   535 text. Returns NX_SUCCESS, NX_PTR_ERROR (NULL client, or NULL token with a length),
   NX_SMTP_CLIENT_NOT_INTIALIZED, NX_SIZE_ERROR (longer than NX_SMTP_CLIENT_OAUTH2_TOKEN_MAX),
   NX_SMTP_INVALID_PARAM (a byte that is not visible ASCII: tokens are base64url-like text) or
   NX_CALLER_ERROR (ISR). On failure nothing changes. Serialised with sends. */
UINT nx_smtp_client_token_set(NX_SMTP_CLIENT *client_ptr, CHAR *token, UINT length);

/* Ours: a callback called by each send right before AUTH, that may replace the token (see
   NX_SMTP_CLIENT_TOKEN_REFRESH); NULL removes it. `context` is passed to it unchanged.
   Returns NX_SUCCESS, NX_PTR_ERROR, NX_SMTP_CLIENT_NOT_INTIALIZED or NX_CALLER_ERROR. */
UINT nx_smtp_client_token_refresh_set(NX_SMTP_CLIENT *client_ptr, NX_SMTP_CLIENT_TOKEN_REFRESH callback, void *context);
#endif

/* Attachments and HTML (nx_smtp_mail_send_extended): NX_SMTP_CLIENT_ATTACHMENTS is 1 when the
   library is built with them (Kconfig SMTP_CLIENT_ATTACHMENTS; on hosts the cargo feature
   mime, and -DNX_SMTP_CLIENT_ATTACHMENTS=1 here). Not in the small profile. */
#if !defined(NX_SMTP_CLIENT_ATTACHMENTS) && defined(CONFIG_SMTP_CLIENT_ATTACHMENTS)
#define NX_SMTP_CLIENT_ATTACHMENTS 1
#endif
#ifndef NX_SMTP_CLIENT_ATTACHMENTS
#define NX_SMTP_CLIENT_ATTACHMENTS 0
#endif

#if NX_SMTP_CLIENT_ATTACHMENTS
/* Most attachments in one nx_smtp_mail_send_extended (the engine's descriptors for all of them
   live on the sending thread's stack during the send: the call's peak stack on Cortex-M4 was
   4,180 bytes, against 2,260 for nx_smtp_mail_send; docs/PERFORMANCE.md). */
#define NX_SMTP_CLIENT_MAX_ATTACHMENTS 16
/* nx_smtp_attachment_length of a callback attachment whose size is not known. */
#define NX_SMTP_ATTACHMENT_SIZE_UNKNOWN ((ULONG)~0UL)

/* Reads the next bytes of an attachment: writes at most buffer_size bytes to buffer, sets
   *bytes_read (0 at the end) and returns NX_SUCCESS. Any other status ends the send: the
   mail is abandoned without ending DATA (the server never takes it as complete) and
   nx_smtp_mail_send_extended returns NX_SMTP_INTERNAL_ERROR. Called from the sending thread,
   under the client's lock: it must not call a service on the same client. */
typedef UINT (*NX_SMTP_ATTACHMENT_READ)(void *context, UCHAR *buffer, ULONG buffer_size, ULONG *bytes_read);

/* One attachment: from nx_smtp_attachment_data (nx_smtp_attachment_length bytes; NULL when
   0) when nx_smtp_attachment_read is NULL, else streamed through the callback
   (nx_smtp_attachment_length its size when known, else NX_SMTP_ATTACHMENT_SIZE_UNKNOWN; a
   given size is exact: a callback that ends sooner fails the send). Sent as base64. */
typedef struct NX_SMTP_ATTACHMENT_STRUCT
{
    const CHAR *nx_smtp_attachment_name;          /* file name: UTF-8, no path, 1..255 bytes (non-ASCII per RFC 2231) */
    const CHAR *nx_smtp_attachment_content_type;  /* "type/subtype"; NULL: by the name's extension */
    const UCHAR *nx_smtp_attachment_data;
    ULONG nx_smtp_attachment_length;
    NX_SMTP_ATTACHMENT_READ nx_smtp_attachment_read;
    void *nx_smtp_attachment_context;
} NX_SMTP_ATTACHMENT;

/* Ours: nx_smtp_mail_send with an HTML alternative of the body (html_body, html_body_length
   bytes; NULL and 0 for none: multipart/alternative) and attachment_count attachments
   (multipart/mixed; attachments may be NULL when the count is 0). The text and HTML parts go
   as 8bit to a server that offers 8BITMIME, else as quoted-printable when they need it; the
   mail is 7-bit clean then. RAM does not depend on the attachments' sizes: they are read
   piece by piece into the client's receive buffer while the mail is sent. Every descriptor
   is checked before anything is sent. Returns as nx_smtp_mail_send, and NX_PTR_ERROR (a NULL
   name, data with a length, or html_body with a length), NX_SIZE_ERROR (more than
   NX_SMTP_CLIENT_MAX_ATTACHMENTS), NX_SMTP_INVALID_PARAM (a name or content type that is not
   valid; an argument inside the client's buffers), NX_SMTP_INTERNAL_ERROR (a read callback
   failed, or a given size was not met). */
UINT nx_smtp_mail_send_extended(NX_SMTP_CLIENT *client_ptr, CHAR *recipient_address, UINT priority,
                                CHAR *subject, CHAR *mail_body, UINT mail_body_length,
                                CHAR *html_body, UINT html_body_length,
                                NX_SMTP_ATTACHMENT *attachments, UINT attachment_count);
#endif

/* ---------------------------------------------------------------------------------------
 * The outbox (ours): nx_smtp_mail_queue stores a mail durably and returns at once; a worker
 * delivers it later, in order, with retries. NX_SMTP_CLIENT_OUTBOX is 1 when the library is
 * built with it (Kconfig SMTP_CLIENT_OUTBOX; on hosts the cargo feature outbox, and
 * -DNX_SMTP_CLIENT_OUTBOX=1 here). Not in the small profile.
 *
 * Storage: the module's (Zephyr: ZMS on the devicetree partition zsmtp_outbox_partition,
 * CONFIG_SMTP_CLIENT_OUTBOX_ZMS, or RAM, CONFIG_SMTP_CLIENT_OUTBOX_RAM; the host library: the
 * directory $ZSMTP_OUTBOX_DIR). It is one per image, so at most one NX_SMTP_OUTBOX is created
 * at a time. A mail is committed when nx_smtp_mail_queue returns NX_SUCCESS: on flash (or in
 * the directory) a power cut after that loses nothing, and one before it leaves nothing that
 * could be sent (docs/RELIABILITY.md); in RAM the mails survive outages, not a reboot.
 *
 * Delivery: with Kconfig SMTP_CLIENT_OUTBOX_WORKER (Zephyr; the host library: always) a
 * thread of the module delivers: when a mail is queued, when a retry is due, and at once when
 * the network comes up (Zephyr's connection manager). Without it the application calls
 * nx_smtp_outbox_flush. Each delivery takes the client's lock (as nx_smtp_mail_send does) for
 * its batch; queueing never waits for a delivery.
 *   - accepted: the mail is removed (event NX_SMTP_OUTBOX_EVENT_DELIVERED);
 *   - a failure that may pass (no connection, a timeout, TLS, AUTH, 4xx, 421): retried after
 *     a backoff that doubles from Kconfig SMTP_CLIENT_OUTBOX_RETRY_FIRST_MS up to
 *     SMTP_CLIENT_OUTBOX_RETRY_MAX_MS, the upper half random (NX_SMTP_OUTBOX_EVENT_RETRYING);
 *   - refused for good (5xx to its envelope or content): kept aside as failed with the reply,
 *     never retried, until nx_smtp_outbox_drop (NX_SMTP_OUTBOX_EVENT_FAILED);
 *   - link lost after the final dot (NX_SMTP_OUTCOME_UNKNOWN): sent again after a backoff
 *     with the same Message-ID, so that a duplicate can be recognised, or parked for the
 *     application (nx_smtp_outbox_policy_set) (NX_SMTP_OUTBOX_EVENT_UNKNOWN).
 * ------------------------------------------------------------------------------------- */
#if !defined(NX_SMTP_CLIENT_OUTBOX) && defined(CONFIG_SMTP_CLIENT_OUTBOX)
#define NX_SMTP_CLIENT_OUTBOX 1
#endif
#ifndef NX_SMTP_CLIENT_OUTBOX
#define NX_SMTP_CLIENT_OUTBOX 0
#endif

#if NX_SMTP_CLIENT_OUTBOX
/* Mails an outbox holds, failed ones included. */
#ifndef NX_SMTP_OUTBOX_SLOTS
#if defined(CONFIG_SMTP_CLIENT_OUTBOX_SLOTS)
#define NX_SMTP_OUTBOX_SLOTS CONFIG_SMTP_CLIENT_OUTBOX_SLOTS
#else
#define NX_SMTP_OUTBOX_SLOTS 16
#endif
#endif

/* Largest storage record (bytes); the control block holds two record buffers. */
#ifndef NX_SMTP_OUTBOX_RECORD_MAX
#if defined(CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX)
#define NX_SMTP_OUTBOX_RECORD_MAX CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX
#else
#define NX_SMTP_OUTBOX_RECORD_MAX 512
#endif
#endif

/* Largest text of a queued mail: sender, recipient, subject, body and some framing. */
#ifndef NX_SMTP_OUTBOX_TEXT_MAX
#if defined(CONFIG_SMTP_CLIENT_OUTBOX_TEXT_MAX)
#define NX_SMTP_OUTBOX_TEXT_MAX CONFIG_SMTP_CLIENT_OUTBOX_TEXT_MAX
#else
#define NX_SMTP_OUTBOX_TEXT_MAX 2048
#endif
#endif

/* The delivery worker's state in each outbox (ULONG words; the build checks it fits). */
#ifndef NX_SMTP_OUTBOX_WORKER_WORDS
#if defined(CONFIG_SMTP_CLIENT_OUTBOX_WORKER_WORDS)
#define NX_SMTP_OUTBOX_WORKER_WORDS CONFIG_SMTP_CLIENT_OUTBOX_WORKER_WORDS
#else
#define NX_SMTP_OUTBOX_WORKER_WORDS 48
#endif
#endif

/* The engine's state: 16 bytes per slot and a fixed part (the library checks it fits). */
#define NX_SMTP_OUTBOX_ENGINE_WORDS (8 + 2 * NX_SMTP_OUTBOX_SLOTS)

#define NX_SMTP_OUTBOX_ID                0x534D5451UL   /* "SMTQ" */

/* Status values of the outbox services. */
#ifndef NX_SMTP_OUTBOX_FULL
#define NX_SMTP_OUTBOX_FULL              0xCB  /* every slot holds a mail, or the storage is full: nothing stored */
#endif
#ifndef NX_SMTP_OUTBOX_NOT_FOUND
#define NX_SMTP_OUTBOX_NOT_FOUND         0xCC  /* no mail with this id (delivered, dropped, never queued) */
#endif
#ifndef NX_SMTP_OUTBOX_STORAGE_ERROR
#define NX_SMTP_OUTBOX_STORAGE_ERROR     0xCD  /* the storage failed or cannot be mounted: nothing changed */
#endif
#ifndef NX_SMTP_OUTBOX_BUSY
#define NX_SMTP_OUTBOX_BUSY              0xCE  /* the mail is being sent; or another outbox holds the storage */
#endif

/* A mail's state (nx_smtp_outbox_state of NX_SMTP_OUTBOX_MAIL). */
#define NX_SMTP_OUTBOX_QUEUED            0     /* waiting for its first attempt */
#define NX_SMTP_OUTBOX_RETRYING          1     /* an attempt failed for a reason that may pass */
#define NX_SMTP_OUTBOX_UNKNOWN           2     /* link lost after its final dot: sent again */
#define NX_SMTP_OUTBOX_FAILED            3     /* refused for good: kept aside until dropped */
#define NX_SMTP_OUTBOX_DELIVERED         4     /* in events only: accepted, gone from the outbox */

/* Events given to the notify callback: the mail's state after the attempt. */
#define NX_SMTP_OUTBOX_EVENT_RETRYING    NX_SMTP_OUTBOX_RETRYING
#define NX_SMTP_OUTBOX_EVENT_UNKNOWN     NX_SMTP_OUTBOX_UNKNOWN
#define NX_SMTP_OUTBOX_EVENT_FAILED      NX_SMTP_OUTBOX_FAILED
#define NX_SMTP_OUTBOX_EVENT_DELIVERED   NX_SMTP_OUTBOX_DELIVERED

/* One mail as nx_smtp_outbox_status_get, nx_smtp_outbox_list and the notify callback see it. */
typedef struct NX_SMTP_OUTBOX_MAIL_STRUCT
{
    ULONG nx_smtp_outbox_mail_id;                                         /* from nx_smtp_mail_queue */
    UINT  nx_smtp_outbox_state;                                           /* NX_SMTP_OUTBOX_QUEUED ... DELIVERED */
    UINT  nx_smtp_outbox_attempts;                                        /* attempts made */
    UINT  nx_smtp_outbox_reply_code;                                      /* last reply's code; 0: none (the text names the status) */
    CHAR  nx_smtp_outbox_reply_text[NX_SMTP_CLIENT_MAX_REPLY_TEXT + 1];   /* NUL-terminated */
} NX_SMTP_OUTBOX_MAIL;

/* Called after each delivery attempt is committed, from the thread that delivered (the worker,
   or the caller of nx_smtp_outbox_flush), outside the outbox's lock but under the client's: it
   may queue a mail or read a status; it must not send on the outbox's client, flush or delete
   the outbox. The mail's state is the one after the event (NX_SMTP_OUTBOX_DELIVERED once
   delivered). */
typedef void (*NX_SMTP_OUTBOX_NOTIFY)(void *context, UINT event, const NX_SMTP_OUTBOX_MAIL *mail);
/* Called once per mail by nx_smtp_outbox_list, in delivery order, under the outbox's lock:
   it must not call an outbox service. */
typedef void (*NX_SMTP_OUTBOX_LIST_CALLBACK)(void *context, const NX_SMTP_OUTBOX_MAIL *mail);

/* The outbox control block: allocated by the application (static or heap, not moved while
   created), initialised by nx_smtp_outbox_create. Every field is the library's. RAM:
   sizeof(NX_SMTP_OUTBOX), about 2 * NX_SMTP_OUTBOX_RECORD_MAX + NX_SMTP_OUTBOX_TEXT_MAX +
   16 * NX_SMTP_OUTBOX_SLOTS + 400 bytes. */
typedef struct NX_SMTP_OUTBOX_STRUCT
{
    ULONG           nx_smtp_outbox_id;                                    /* NX_SMTP_OUTBOX_ID when created */
    NX_SMTP_CLIENT *nx_smtp_outbox_client;                                /* delivers: server, credentials, TLS */
    NX_SMTP_OUTBOX_NOTIFY nx_smtp_outbox_notify;
    void           *nx_smtp_outbox_notify_context;
    ULONG           nx_smtp_outbox_lock[NX_SMTP_CLIENT_LOCK_WORDS];
    ULONG           nx_smtp_outbox_worker[NX_SMTP_OUTBOX_WORKER_WORDS];
    unsigned long long nx_smtp_outbox_engine[NX_SMTP_OUTBOX_ENGINE_WORDS];
    UCHAR           nx_smtp_outbox_queue_buffer[NX_SMTP_OUTBOX_RECORD_MAX + 64];
    UCHAR           nx_smtp_outbox_delivery_buffer[NX_SMTP_OUTBOX_RECORD_MAX + NX_SMTP_OUTBOX_TEXT_MAX];
} NX_SMTP_OUTBOX;

/* Creates an outbox over the module's storage, delivering through client_ptr (a created
   client; keep it until nx_smtp_outbox_delete). Recovers what a power cut left: every
   committed mail is kept and due at once; an interrupted write is discarded; a stored copy
   that no longer verifies is kept aside as failed, never sent. Starts delivery (worker).
   Returns NX_SUCCESS, NX_PTR_ERROR, NX_SMTP_CLIENT_NOT_INTIALIZED (client), NX_SMTP_OUTBOX_BUSY
   (another outbox is created), NX_SMTP_OUTBOX_STORAGE_ERROR (the storage cannot be mounted or
   read), NX_SMTP_INTERNAL_ERROR (the worker could not start) or NX_CALLER_ERROR (ISR). */
UINT nx_smtp_outbox_create(NX_SMTP_OUTBOX *outbox_ptr, NX_SMTP_CLIENT *client_ptr);

/* Stops delivery (waits for a batch under way to end) and releases the storage; the queued
   mails stay in it for the next create. NX_PTR_ERROR when NULL or not created. No other thread
   may be inside a service on the outbox meanwhile (the shell's smtp outbox commands included),
   nor the notify callback call it. */
UINT nx_smtp_outbox_delete(NX_SMTP_OUTBOX *outbox_ptr);

/* nx_smtp_mail_send's arguments, queued: checks them as nx_smtp_mail_send does (the same
   statuses), stores the mail with its Date and Message-ID fixed now, sets *mail_id (may be
   NULL) and returns at once, without the network. Thread context (an ISR gets
   NX_CALLER_ERROR); it blocks only on the storage (a flash write). Returns NX_SUCCESS,
   NX_PTR_ERROR, NX_SMTP_INVALID_PARAM, NX_SMTP_CLIENT_NOT_INTIALIZED (outbox not created),
   NX_SMTP_OUTBOX_FULL, NX_SMTP_OVERSIZE_MAIL_DATA (larger than NX_SMTP_OUTBOX_TEXT_MAX or
   than the storage holds), NX_SMTP_OUTBOX_STORAGE_ERROR. On failure nothing is stored. */
UINT nx_smtp_mail_queue(NX_SMTP_OUTBOX *outbox_ptr, CHAR *recipient_address, UINT priority,
                        CHAR *subject, CHAR *mail_body, UINT mail_body_length, ULONG *mail_id);

/* The callback given each attempt's outcome (NULL: none). */
UINT nx_smtp_outbox_notify_set(NX_SMTP_OUTBOX *outbox_ptr, NX_SMTP_OUTBOX_NOTIFY notify, void *context);

/* One mail's state, attempts and last reply. NX_SMTP_OUTBOX_NOT_FOUND once it is delivered
   or dropped. */
UINT nx_smtp_outbox_status_get(NX_SMTP_OUTBOX *outbox_ptr, ULONG mail_id, NX_SMTP_OUTBOX_MAIL *mail);

/* Every mail, in delivery order; *mails (may be NULL) the count, pending ones included.
   callback may be NULL (a count only). */
UINT nx_smtp_outbox_list(NX_SMTP_OUTBOX *outbox_ptr, NX_SMTP_OUTBOX_LIST_CALLBACK callback, void *context,
                         UINT *mails);

/* Makes every waiting mail due now and delivers in the calling thread (blocking, as
   nx_smtp_mail_send). NX_SUCCESS when no mail is left to deliver (failed ones aside), else
   the status of the last failed attempt (NX_NOT_CONNECTED, ...). */
UINT nx_smtp_outbox_flush(NX_SMTP_OUTBOX *outbox_ptr);

/* Removes a mail whatever its state (a failed one the application has seen). NX_SMTP_OUTBOX_BUSY
   while it is being sent. */
UINT nx_smtp_outbox_drop(NX_SMTP_OUTBOX *outbox_ptr, ULONG mail_id);

/* What happens to a mail whose outcome is unknown (link lost after its final dot). */
#define NX_SMTP_OUTBOX_UNKNOWN_RESEND    0     /* sent again after a backoff (the default) */
#define NX_SMTP_OUTBOX_UNKNOWN_PARK      1     /* kept, state NX_SMTP_OUTBOX_UNKNOWN, until
                                                  nx_smtp_outbox_resend or nx_smtp_outbox_drop */

/* The retry policy: the wait after a first failed attempt (ms, at least 1), doubling up to
   max_retry_ms (at least first_retry_ms), the upper half random; and the unknown-outcome rule.
   After create: Kconfig's SMTP_CLIENT_OUTBOX_RETRY_FIRST_MS and _RETRY_MAX_MS, and RESEND.
   NX_SMTP_INVALID_PARAM for anything else. */
UINT nx_smtp_outbox_policy_set(NX_SMTP_OUTBOX *outbox_ptr, ULONG first_retry_ms, ULONG max_retry_ms,
                               UINT on_unknown);

/* Queues a mail parked with an unknown outcome again (due now, the same Message-ID); a mail in
   another state is left as it is. NX_SMTP_OUTBOX_NOT_FOUND when there is none. */
UINT nx_smtp_outbox_resend(NX_SMTP_OUTBOX *outbox_ptr, ULONG mail_id);

/* Layout check for tests: sizeof(NX_SMTP_OUTBOX) as the library sees it, and the offset of
   field `field` (0 = nx_smtp_outbox_id ... 8 = nx_smtp_outbox_delivery_buffer, then 9 =
   nx_smtp_outbox_mail_id ... 13 = nx_smtp_outbox_reply_text of NX_SMTP_OUTBOX_MAIL; 0xFFFFFFFF
   past the last). */
UINT _nx_smtp_outbox_layout_size(void);
UINT _nx_smtp_outbox_layout_offset(UINT field);
#endif

/* Layout check for tests: sizeof(NX_SMTP_CLIENT) as the library sees it, and the offset of
   field number `field` (0 = nx_smtp_client_id ... 15 = nx_smtp_client_lock, then with
   NX_SMTP_CLIENT_OAUTH2 16 = nx_smtp_client_token_refresh ... 19 = nx_smtp_client_token, in
   declaration order; 0xFFFFFFFF past the last). */
UINT _nx_smtp_client_layout_size(void);
UINT _nx_smtp_client_layout_offset(UINT field);

#ifdef __cplusplus
}
#endif

#endif /* NXD_SMTP_CLIENT_H */
