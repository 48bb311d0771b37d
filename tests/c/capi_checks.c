/*
 * Checks of zsmtp's NetX Duo-compatible C API: every argument check with its exact status,
 * the layout of NX_SMTP_CLIENT against the library's, and (with --server TAG) sends to the
 * test Postfix on 127.0.0.1:2525. The delivered mails are checked by run.sh (their subjects
 * carry TAG).
 *
 * Usage: capi_checks                 argument and layout checks (no network)
 *        capi_checks --layout-only   the layout check alone
 *        capi_checks --server TAG    both, then the real-server checks (including
 *                                    THREADS x SENDS_PER_THREAD concurrent sends on one
 *                                    client: subjects "capi thread T.I TAG")
 *        capi_checks --tls-server TAG  argument checks, then sends over TLS with
 *                                    nx_smtp_client_tls_set to 127.0.0.1:2587 (STARTTLS) and
 *                                    2465 (implicit), verified for the name "localhost" against
 *                                    the CA the library is given ($ZSMTP_CA_FILE for the
 *                                    zsock-shim library, $SSL_CERT_FILE for the std one):
 *                                    subjects "capi starttls TAG", "capi implicit TAG"
 *        capi_checks --tls-untrusted TAG  argument checks, then one STARTTLS send that must
 *                                    fail with NX_SMTP_TLS_UNTRUSTED_CERTIFICATE before
 *                                    anything else is sent (run with a CA file that cannot be
 *                                    loaded: the library must not fall back to other CAs);
 *                                    subject "capi untrusted TAG"
 * Prints PASS/FAIL lines and, last, "capi_checks: N passed, M failed"; exits 1 on failure.
 */
#define _POSIX_C_SOURCE 200809L /* pthreads under -std=c99 */

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nxd_smtp_client.h"

static int passed;
static int failed;

static void result(int ok, const char *name, const char *detail)
{
    if (ok)
    {
        passed++;
        printf("PASS %s\n", name);
    }
    else
    {
        failed++;
        printf("FAIL %s%s%s\n", name, detail[0] ? ": " : "", detail);
    }
}

static void expect_status(const char *name, UINT got, UINT expected)
{
    char detail[64];
    sprintf(detail, "got 0x%02X, expected 0x%02X", got, expected);
    result(got == expected, name, got == expected ? "" : detail);
}

static void expect_true(const char *name, int ok)
{
    result(ok, name, ok ? "" : "condition false");
}

/* --- fixtures ---------------------------------------------------------------------------- */

static NX_IP ip;
static NX_PACKET_POOL pool;
static NX_SMTP_CLIENT client;
static NXD_ADDRESS server;

/* Long strings: the longest limit plus slack. */
#define BIG (NX_SMTP_CLIENT_MAX_ADDRESS + NX_SMTP_CLIENT_MAX_DOMAIN + 16)

static char user[BIG];
static char pass[BIG];
static char from[BIG];
static char domain[BIG];

static void set_server(ULONG version)
{
    memset(&server, 0, sizeof(server));
    server.nxd_ip_version = version;
    server.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1);
}

static void defaults(void)
{
    strcpy(user, "alice");
    strcpy(pass, "secret123");
    strcpy(from, "<alice@example.test>");
    strcpy(domain, "example.test");
    set_server(NX_IP_VERSION_V4);
}

static UINT create_with(UINT auth, UINT port)
{
    return nxd_smtp_client_create(&client, &ip, &pool, user, pass, from, domain, auth, &server, port);
}

/* `len` characters of 'c', NUL-terminated. */
static void fill(char *out, size_t len, char c)
{
    memset(out, c, len);
    out[len] = '\0';
}

/* A host name of exactly `len` characters: labels of 60 letters joined by dots. */
static void make_host(char *out, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
    {
        out[i] = ((i % 61) == 60) ? '.' : 'a';
    }
    if (len > 0 && out[len - 1] == '.')
    {
        out[len - 1] = 'b';
    }
    out[len] = '\0';
}

/* "<u@host>" of exactly `len` characters (len >= 6). */
static void make_address(char *out, size_t len)
{
    out[0] = '<';
    out[1] = 'u';
    out[2] = '@';
    make_host(out + 3, len - 4);
    out[len - 1] = '>';
    out[len] = '\0';
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
    {
        if (b[i] != 0)
        {
            return 0;
        }
    }
    return 1;
}

/* --- layout ------------------------------------------------------------------------------ */

/* Returns 1 when C and the library agree on the layout. */
static int layout_checks(void)
{
    static const size_t offsets[] = {
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_id),
        offsetof(NX_SMTP_CLIENT, nx_smtp_username),
        offsetof(NX_SMTP_CLIENT, nx_smtp_password),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_domain),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_mail_from_address),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_authentication_type),
        offsetof(NX_SMTP_CLIENT, nx_smtp_server_address),
        offsetof(NX_SMTP_CLIENT, nx_smtp_server_port),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_tls_mode),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_tls_server_name),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_mail_sequence),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_last_reply_code),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_last_reply_text),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_rx_buffer),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_tx_buffer),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_lock),
#if NX_SMTP_CLIENT_OAUTH2
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_token_refresh),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_token_refresh_context),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_token_length),
        offsetof(NX_SMTP_CLIENT, nx_smtp_client_token),
#endif
    };
    size_t i;
    int offsets_ok = 1;
    char detail[96];

    sprintf(detail, "C %lu, library %u", (unsigned long)sizeof(NX_SMTP_CLIENT), _nx_smtp_client_layout_size());
    result(sizeof(NX_SMTP_CLIENT) == _nx_smtp_client_layout_size(), "layout: sizeof(NX_SMTP_CLIENT)", detail);
    for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
    {
        if (offsets[i] != _nx_smtp_client_layout_offset((UINT)i))
        {
            printf("  field %lu: C offset %lu, library %u\n", (unsigned long)i, (unsigned long)offsets[i],
                   _nx_smtp_client_layout_offset((UINT)i));
            offsets_ok = 0;
        }
    }
    result(offsets_ok, "layout: offsetof every field", offsets_ok ? "" : "offsets differ");
    expect_status("layout: no field past the last", _nx_smtp_client_layout_offset((UINT)i), 0xFFFFFFFFu);
#if NX_SMTP_CLIENT_OUTBOX
    {
        static const size_t outbox_offsets[] = {
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_id),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_client),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_notify),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_notify_context),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_lock),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_worker),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_engine),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_queue_buffer),
            offsetof(NX_SMTP_OUTBOX, nx_smtp_outbox_delivery_buffer),
            offsetof(NX_SMTP_OUTBOX_MAIL, nx_smtp_outbox_mail_id),
            offsetof(NX_SMTP_OUTBOX_MAIL, nx_smtp_outbox_state),
            offsetof(NX_SMTP_OUTBOX_MAIL, nx_smtp_outbox_attempts),
            offsetof(NX_SMTP_OUTBOX_MAIL, nx_smtp_outbox_reply_code),
            offsetof(NX_SMTP_OUTBOX_MAIL, nx_smtp_outbox_reply_text),
        };
        int outbox_ok = 1;

        sprintf(detail, "C %lu, library %u", (unsigned long)sizeof(NX_SMTP_OUTBOX), _nx_smtp_outbox_layout_size());
        result(sizeof(NX_SMTP_OUTBOX) == _nx_smtp_outbox_layout_size(), "layout: sizeof(NX_SMTP_OUTBOX)", detail);
        for (i = 0; i < sizeof(outbox_offsets) / sizeof(outbox_offsets[0]); i++)
        {
            if (outbox_offsets[i] != _nx_smtp_outbox_layout_offset((UINT)i))
            {
                printf("  outbox field %lu: C offset %lu, library %u\n", (unsigned long)i,
                       (unsigned long)outbox_offsets[i], _nx_smtp_outbox_layout_offset((UINT)i));
                outbox_ok = 0;
            }
        }
        result(outbox_ok, "layout: offsetof every field of NX_SMTP_OUTBOX and NX_SMTP_OUTBOX_MAIL",
               outbox_ok ? "" : "offsets differ");
        expect_status("layout: no outbox field past the last", _nx_smtp_outbox_layout_offset((UINT)i), 0xFFFFFFFFu);
        offsets_ok = offsets_ok && outbox_ok && sizeof(NX_SMTP_OUTBOX) == _nx_smtp_outbox_layout_size();
    }
#endif
    return sizeof(NX_SMTP_CLIENT) == _nx_smtp_client_layout_size() && offsets_ok;
}

/* --- attachments (NX_SMTP_CLIENT_ATTACHMENTS) ---------------------------------------------- */

#if NX_SMTP_CLIENT_ATTACHMENTS
/* The library's view of NX_SMTP_ATTACHMENT is six pointer-sized members (src/capi/attach.rs
   asserts it); descriptors that are refused before anything is sent, with their status. */
static void attachment_checks(void)
{
    static char body[] = "Hello.\r\n";
    static const UCHAR data[] = "x";
    NX_SMTP_ATTACHMENT list[NX_SMTP_CLIENT_MAX_ATTACHMENTS + 1];
    size_t i;

    defaults();
    /* Port 1: nothing listens there, so a descriptor that were accepted would fail to connect
       (NX_NOT_CONNECTED), never with the refusals expected below. */
    expect_status("attachments: create", create_with(1, 1), NX_SUCCESS);
    expect_true("attachments: sizeof(NX_SMTP_ATTACHMENT) is six pointers", sizeof(NX_SMTP_ATTACHMENT) == 6 * sizeof(void *));
    expect_true("attachments: the length member is at the fourth pointer",
                offsetof(NX_SMTP_ATTACHMENT, nx_smtp_attachment_length) == 3 * sizeof(void *));
    for (i = 0; i < sizeof(list) / sizeof(list[0]); i++)
    {
        list[i].nx_smtp_attachment_name = "a.txt";
        list[i].nx_smtp_attachment_content_type = NULL;
        list[i].nx_smtp_attachment_data = data;
        list[i].nx_smtp_attachment_length = 1;
        list[i].nx_smtp_attachment_read = NULL;
        list[i].nx_smtp_attachment_context = NULL;
    }
    expect_status("attachments: more than NX_SMTP_CLIENT_MAX_ATTACHMENTS",
                  nx_smtp_mail_send_extended(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1, NULL, 0, list,
                                             NX_SMTP_CLIENT_MAX_ATTACHMENTS + 1),
                  NX_SIZE_ERROR);
    expect_status("attachments: NULL array with a count",
                  nx_smtp_mail_send_extended(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1, NULL, 0, NULL, 1),
                  NX_PTR_ERROR);
    expect_status("attachments: NULL HTML with a length",
                  nx_smtp_mail_send_extended(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1, NULL, 5, list, 0),
                  NX_PTR_ERROR);
    list[0].nx_smtp_attachment_name = NULL;
    expect_status("attachments: NULL name",
                  nx_smtp_mail_send_extended(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1, NULL, 0, list, 1),
                  NX_PTR_ERROR);
    list[0].nx_smtp_attachment_name = "a\r\nContent-Type: text/html.txt";
    expect_status("attachments: CR LF in a name",
                  nx_smtp_mail_send_extended(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1, NULL, 0, list, 1),
                  NX_SMTP_INVALID_PARAM);
    list[0].nx_smtp_attachment_name = "a.txt";
    list[0].nx_smtp_attachment_content_type = "text";
    expect_status("attachments: a content type without a subtype",
                  nx_smtp_mail_send_extended(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1, NULL, 0, list, 1),
                  NX_SMTP_INVALID_PARAM);
    expect_status("attachments: delete", nx_smtp_client_delete(&client), NX_SUCCESS);
}
#endif

/* --- create ------------------------------------------------------------------------------ */

static void create_checks(void)
{
    static const ULONG bad_versions[] = {0, 5, 7, 0x44};
    static const char *const bad_from[] = {
        "alice", "<alice@example.test", "alice@example.test>", "Alice <alice@example.test>",
        "@example.test", "alice@", "<>", "", "alice@example.test\r\nRCPT TO:<x@y.test>",
    };
    static const char *const bad_domain[] = {"", "my domain.test", "example.test\r\nMAIL FROM:<x@y.test>"};
    size_t i;
    char name[96];

    defaults();
    /* NULL pointers: NX_PTR_ERROR, each on its own. */
    expect_status("create NULL client",
                  nxd_smtp_client_create(NULL, &ip, &pool, user, pass, from, domain, 1, &server, 2525), NX_PTR_ERROR);
    expect_status("create NULL ip",
                  nxd_smtp_client_create(&client, NULL, &pool, user, pass, from, domain, 1, &server, 2525), NX_PTR_ERROR);
    expect_status("create NULL pool",
                  nxd_smtp_client_create(&client, &ip, NULL, user, pass, from, domain, 1, &server, 2525), NX_PTR_ERROR);
    expect_status("create NULL username",
                  nxd_smtp_client_create(&client, &ip, &pool, NULL, pass, from, domain, 1, &server, 2525), NX_PTR_ERROR);
    expect_status("create NULL password",
                  nxd_smtp_client_create(&client, &ip, &pool, user, NULL, from, domain, 1, &server, 2525), NX_PTR_ERROR);
    expect_status("create NULL from",
                  nxd_smtp_client_create(&client, &ip, &pool, user, pass, NULL, domain, 1, &server, 2525), NX_PTR_ERROR);
    expect_status("create NULL domain",
                  nxd_smtp_client_create(&client, &ip, &pool, user, pass, from, NULL, 1, &server, 2525), NX_PTR_ERROR);
    expect_status("create NULL server",
                  nxd_smtp_client_create(&client, &ip, &pool, user, pass, from, domain, 1, NULL, 2525), NX_PTR_ERROR);

    for (i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++)
    {
        set_server(bad_versions[i]);
        sprintf(name, "create ip version %lu", (unsigned long)bad_versions[i]);
        expect_status(name, create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_IP_ADDRESS_ERROR);
    }
    defaults();

    /* Limits: at the limit accepted, one over NX_SIZE_ERROR. */
    fill(user, NX_SMTP_CLIENT_MAX_USERNAME, 'u');
    expect_status("create username at limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SUCCESS);
    expect_true("username at limit copied", strcmp(client.nx_smtp_username, user) == 0);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);
    fill(user, NX_SMTP_CLIENT_MAX_USERNAME + 1, 'u');
    expect_status("create username over limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SIZE_ERROR);
    defaults();

    fill(pass, NX_SMTP_CLIENT_MAX_PASSWORD, 'p');
    expect_status("create password at limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SUCCESS);
    expect_true("password at limit copied", strcmp(client.nx_smtp_password, pass) == 0);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);
    fill(pass, NX_SMTP_CLIENT_MAX_PASSWORD + 1, 'p');
    expect_status("create password over limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SIZE_ERROR);
    /* A relay API key (69 characters: "SG." + 22 + "." + 43). */
    strcpy(pass, "SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg");
    expect_true("api key fixture is 69 characters", strlen(pass) == 69);
#if NX_SMTP_CLIENT_MAX_PASSWORD >= 69
    expect_status("create 69-character password", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SUCCESS);
    expect_true("69-character password copied", strcmp(client.nx_smtp_password, pass) == 0);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);
#else
    expect_status("create 69-character password (limit below 69)", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SIZE_ERROR);
#endif
    defaults();

    make_host(domain, NX_SMTP_CLIENT_MAX_DOMAIN);
    expect_status("create domain at limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SUCCESS);
    expect_true("domain at limit copied", strcmp(client.nx_smtp_client_domain, domain) == 0);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);
    make_host(domain, NX_SMTP_CLIENT_MAX_DOMAIN + 1);
    expect_status("create domain over limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SIZE_ERROR);
    defaults();

    make_address(from, NX_SMTP_CLIENT_MAX_ADDRESS);
    expect_status("create from address at limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SUCCESS);
    expect_true("from address at limit copied", strcmp(client.nx_smtp_client_mail_from_address, from) == 0);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);
    make_address(from, NX_SMTP_CLIENT_MAX_ADDRESS + 1);
    expect_status("create from address over limit", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SIZE_ERROR);
    defaults();

    /* CR/LF and other control characters. */
    strcpy(user, "alice\r\nQUIT");
    expect_status("create username with CRLF", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SMTP_INVALID_PARAM);
    strcpy(user, "ali\x01" "ce");
    expect_status("create username with control char", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SMTP_INVALID_PARAM);
    defaults();
    strcpy(pass, "secret\n123");
    expect_status("create password with LF", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SMTP_INVALID_PARAM);
    strcpy(pass, "secret\r123");
    expect_status("create password with CR", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SMTP_INVALID_PARAM);
    strcpy(pass, "secret\x7f");
    expect_status("create password with DEL", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SMTP_INVALID_PARAM);
    defaults();
    for (i = 0; i < sizeof(bad_domain) / sizeof(bad_domain[0]); i++)
    {
        strcpy(domain, bad_domain[i]);
        sprintf(name, "create bad domain #%lu", (unsigned long)i);
        expect_status(name, create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SMTP_INVALID_PARAM);
    }
    defaults();
    for (i = 0; i < sizeof(bad_from) / sizeof(bad_from[0]); i++)
    {
        strcpy(from, bad_from[i]);
        sprintf(name, "create bad from address #%lu", (unsigned long)i);
        expect_status(name, create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SMTP_INVALID_PARAM);
    }
    defaults();
    strcpy(from, "alice@example.test");
    expect_status("create bare from address", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SUCCESS);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);
    defaults();

    /* Ports: & 0xFFFF as NetX; 0 is invalid. */
    expect_status("create port 0", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 0), NX_SMTP_INVALID_PARAM);
    expect_status("create port 0x10000", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 0x10000), NX_SMTP_INVALID_PARAM);
    expect_status("create port 0x10000 + 2525", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 0x10000 + 2525), NX_SUCCESS);
    expect_true("port masked to 2525", client.nx_smtp_server_port == 2525);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);

    /* Authentication types: LOGIN, PLAIN, NONE kept; anything else PLAIN (as NetX). */
    expect_status("create auth LOGIN", create_with(NX_SMTP_CLIENT_AUTH_LOGIN, 2525), NX_SUCCESS);
    expect_true("auth LOGIN kept", client.nx_smtp_client_authentication_type == NX_SMTP_CLIENT_AUTH_LOGIN);
    expect_status("create auth NONE", create_with(NX_SMTP_CLIENT_AUTH_NONE, 2525), NX_SUCCESS);
    expect_true("auth NONE kept", client.nx_smtp_client_authentication_type == NX_SMTP_CLIENT_AUTH_NONE);
    expect_status("create auth CRAM-MD5", create_with(NX_SMTP_CLIENT_AUTH_CRAM_MD5, 2525), NX_SUCCESS);
    expect_true("auth CRAM-MD5 becomes PLAIN", client.nx_smtp_client_authentication_type == NX_SMTP_CLIENT_AUTH_PLAIN);
    expect_status("create auth 0", create_with(0, 2525), NX_SUCCESS);
    expect_true("auth 0 becomes PLAIN", client.nx_smtp_client_authentication_type == NX_SMTP_CLIENT_AUTH_PLAIN);
    expect_status("delete", nx_smtp_client_delete(&client), NX_SUCCESS);

    /* Strings are copied: changing the caller's buffers after create changes nothing. */
    defaults();
    expect_status("create for copy check", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 2525), NX_SUCCESS);
    expect_true("id set", client.nx_smtp_client_id == NX_SMTP_CLIENT_ID);
    strcpy(user, "mallory");
    strcpy(pass, "other");
    strcpy(from, "<mallory@example.test>");
    strcpy(domain, "evil.test");
    expect_true("username copied", strcmp(client.nx_smtp_username, "alice") == 0);
    expect_true("password copied", strcmp(client.nx_smtp_password, "secret123") == 0);
    expect_true("from address copied", strcmp(client.nx_smtp_client_mail_from_address, "<alice@example.test>") == 0);
    expect_true("domain copied", strcmp(client.nx_smtp_client_domain, "example.test") == 0);

    /* A string inside the control block itself is refused (it would be overwritten). */
    expect_status("create with username inside the control block",
                  nxd_smtp_client_create(&client, &ip, &pool, client.nx_smtp_username, pass, from, domain, 3, &server, 2525),
                  NX_SMTP_INVALID_PARAM);
    expect_true("refused create left the client intact",
                client.nx_smtp_client_id == NX_SMTP_CLIENT_ID && strcmp(client.nx_smtp_username, "alice") == 0);

    /* IPv6 server address is stored with all four words. */
    defaults();
    server.nxd_ip_version = NX_IP_VERSION_V6;
    server.nxd_ip_address.v6[0] = 0;
    server.nxd_ip_address.v6[1] = 0;
    server.nxd_ip_address.v6[2] = 0;
    server.nxd_ip_address.v6[3] = 1;
    {
        NX_SMTP_CLIENT other;
        UINT st = nxd_smtp_client_create(&other, &ip, &pool, user, pass, from, domain, 3, &server, 2525);
        expect_status("create IPv6 server", st, NX_SUCCESS);
        expect_true("IPv6 address stored",
                    other.nx_smtp_server_address.nxd_ip_version == NX_IP_VERSION_V6 &&
                    other.nx_smtp_server_address.nxd_ip_address.v6[3] == 1);
        expect_status("delete IPv6 client", nx_smtp_client_delete(&other), NX_SUCCESS);
    }
}

/* --- delete, send, last reply --------------------------------------------------------------- */

static void send_checks(void)
{
    static char body[] = "Hello.\r\n";
    static char body_nul[] = "Hel\0lo.\r\n";
    static const UINT bad_priorities[] = {0, 3, 5, 8, 0xFFFFFFFFu};
    NX_SMTP_CLIENT never_created;
    UINT code;
    char text[64];
    char name[96];
    size_t i;

    /* `client` is created (copy check above). */
    expect_status("send NULL client",
                  nx_smtp_mail_send(NULL, "<bob@example.test>", 2, "s", body, sizeof(body) - 1), NX_PTR_ERROR);
    expect_status("send NULL recipient", nx_smtp_mail_send(&client, NULL, 2, "s", body, sizeof(body) - 1), NX_PTR_ERROR);
    expect_status("send NULL subject",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, NULL, body, sizeof(body) - 1), NX_PTR_ERROR);
    expect_status("send NULL body", nx_smtp_mail_send(&client, "<bob@example.test>", 2, "s", NULL, 5), NX_PTR_ERROR);
    expect_status("send body length 0", nx_smtp_mail_send(&client, "<bob@example.test>", 2, "s", body, 0),
                  NX_SMTP_INVALID_PARAM);
    for (i = 0; i < sizeof(bad_priorities) / sizeof(bad_priorities[0]); i++)
    {
        sprintf(name, "send priority %u", bad_priorities[i]);
        expect_status(name, nx_smtp_mail_send(&client, "<bob@example.test>", bad_priorities[i], "s", body, sizeof(body) - 1),
                      NX_SMTP_INVALID_PARAM);
    }
    expect_status("send recipient with CRLF",
                  nx_smtp_mail_send(&client, "<bob@example.test>\r\nRCPT TO:<eve@example.test>", 2, "s", body, sizeof(body) - 1),
                  NX_SMTP_INVALID_PARAM);
    expect_status("send recipient with LF",
                  nx_smtp_mail_send(&client, "bob@example.test\n", 2, "s", body, sizeof(body) - 1), NX_SMTP_INVALID_PARAM);
    expect_status("send recipient without @",
                  nx_smtp_mail_send(&client, "bob", 2, "s", body, sizeof(body) - 1), NX_SMTP_INVALID_PARAM);
    expect_status("send empty recipient", nx_smtp_mail_send(&client, "", 2, "s", body, sizeof(body) - 1),
                  NX_SMTP_INVALID_PARAM);
    {
        static char long_rcpt[NX_SMTP_CLIENT_MAX_ADDRESS + 8];
        make_address(long_rcpt, NX_SMTP_CLIENT_MAX_ADDRESS + 1);
        expect_status("send recipient over limit", nx_smtp_mail_send(&client, long_rcpt, 2, "s", body, sizeof(body) - 1),
                      NX_SMTP_INVALID_PARAM);
    }
    expect_status("send subject with CRLF",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, "Hi\r\nBcc: eve@example.test", body, sizeof(body) - 1),
                  NX_SMTP_INVALID_PARAM);
    expect_status("send subject with LF",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, "Hi\nX-Evil: 1", body, sizeof(body) - 1),
                  NX_SMTP_INVALID_PARAM);
    expect_status("send subject with CR", nx_smtp_mail_send(&client, "<bob@example.test>", 2, "Hi\r", body, sizeof(body) - 1),
                  NX_SMTP_INVALID_PARAM);
    expect_status("send subject inside the client's engine buffers",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, client.nx_smtp_client_last_reply_text, body, sizeof(body) - 1),
                  NX_SMTP_INVALID_PARAM);
    expect_status("send body inside the client's engine buffers",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, "s", (CHAR *)client.nx_smtp_client_tx_buffer, 8),
                  NX_SMTP_INVALID_PARAM);
    expect_status("send body with NUL",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, "s", body_nul, sizeof(body_nul) - 1),
                  NX_SMTP_INVALID_PARAM);

    /* last reply: argument checks, nothing sent yet. */
    expect_status("last_reply NULL client", nx_smtp_client_last_reply_get(NULL, &code, text, sizeof(text)), NX_PTR_ERROR);
    expect_status("last_reply NULL code", nx_smtp_client_last_reply_get(&client, NULL, text, sizeof(text)), NX_PTR_ERROR);
    expect_status("last_reply NULL text with size", nx_smtp_client_last_reply_get(&client, &code, NULL, 8), NX_PTR_ERROR);
    code = 77;
    expect_status("last_reply NULL text size 0", nx_smtp_client_last_reply_get(&client, &code, NULL, 0), NX_SUCCESS);
    strcpy(text, "junk");
    expect_status("last_reply before any send", nx_smtp_client_last_reply_get(&client, &code, text, sizeof(text)), NX_SUCCESS);
    expect_true("last_reply before any send is empty", code == 0 && text[0] == '\0');

    /* delete: NULL, twice, and what it leaves behind. */
    expect_status("delete NULL", nx_smtp_client_delete(NULL), NX_PTR_ERROR);
    memset(&never_created, 0, sizeof(never_created));
    expect_status("delete never created", nx_smtp_client_delete(&never_created), NX_PTR_ERROR);
    expect_status("send on never created",
                  nx_smtp_mail_send(&never_created, "<bob@example.test>", 2, "s", body, sizeof(body) - 1),
                  NX_SMTP_CLIENT_NOT_INTIALIZED);
    expect_status("delete created", nx_smtp_client_delete(&client), NX_SUCCESS);
    expect_true("delete wiped password", all_zero(client.nx_smtp_password, sizeof(client.nx_smtp_password)));
    expect_true("delete wiped username", all_zero(client.nx_smtp_username, sizeof(client.nx_smtp_username)));
    expect_true("delete cleared id", client.nx_smtp_client_id != NX_SMTP_CLIENT_ID);
    expect_status("delete twice", nx_smtp_client_delete(&client), NX_PTR_ERROR);
    expect_status("send on deleted",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1), NX_SMTP_CLIENT_NOT_INTIALIZED);
    expect_status("send on deleted (alias)",
                  nx_smtp_mail_send(&client, "<bob@example.test>", 2, "s", body, sizeof(body) - 1), NX_SMTP_CLIENT_NOT_INITIALIZED);
    expect_status("last_reply on deleted", nx_smtp_client_last_reply_get(&client, &code, text, sizeof(text)),
                  NX_SMTP_CLIENT_NOT_INTIALIZED);
}

/* --- against the test Postfix ------------------------------------------------------------- */

static UINT send_one(NX_SMTP_CLIENT *c, const char *rcpt, UINT priority, const char *subject, const char *body)
{
    static char r[512];
    static char s[512];
    static char b[2048];
    strcpy(r, rcpt);
    strcpy(s, subject);
    strcpy(b, body);
    return nx_smtp_mail_send(c, r, priority, s, b, (UINT)strlen(b));
}

static void server_checks(const char *tag)
{
    NX_SMTP_CLIENT c;
    UINT code = 0;
    char text[160];
    char small[4];
    char subject[256];
    char body[512];
    char from_buf[64];
    char detail[256];
    UINT st;

    /* 1. AUTH PLAIN, bracketed recipient: 250 as the decisive reply. */
    defaults();
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_PLAIN, &server, 2525);
    expect_status("server: create PLAIN client", st, NX_SUCCESS);
    sprintf(subject, "capi plain %s", tag);
    sprintf(body, "Body of the PLAIN mail %s.\r\n.leading dot line\r\nlast line\r\n", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, body);
    expect_status("server: send PLAIN to <bob@example.test>", st, NX_SUCCESS);
    memset(text, 'x', sizeof(text));
    st = nx_smtp_client_last_reply_get(&c, &code, text, sizeof(text));
    expect_status("server: last_reply after success", st, NX_SUCCESS);
    sprintf(detail, "code %u text \"%.120s\"", code, text);
    printf("  last reply: %s\n", detail);
    result(code == 250 && strlen(text) > 0 && strlen(text) < sizeof(text), "server: last reply is 250 with text", detail);
    memset(small, 'x', sizeof(small));
    st = nx_smtp_client_last_reply_get(&c, &code, small, sizeof(small));
    expect_true("server: last reply truncated to text_size",
                st == NX_SUCCESS && small[3] == '\0' && strncmp(small, text, 3) == 0);

    /* 2. Same client again (a second connection), HIGH priority, bare recipient. */
    sprintf(subject, "capi high %s", tag);
    sprintf(body, "Body of the HIGH mail %s.\r\n", tag);
    st = send_one(&c, "bob@example.test", NX_SMTP_MAIL_PRIORITY_HIGH, subject, body);
    expect_status("server: second send, bare recipient, HIGH", st, NX_SUCCESS);

    /* 3. Unknown recipient at strict.test: 550 at RCPT. */
    sprintf(subject, "capi unknown %s", tag);
    st = send_one(&c, "<nobody@strict.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, "never delivered\r\n");
    expect_status("server: unknown recipient -> NX_SMTP_RCPT_REPLY_ERROR", st, NX_SMTP_RCPT_REPLY_ERROR);
    st = nx_smtp_client_last_reply_get(&c, &code, text, sizeof(text));
    sprintf(detail, "status 0x%02X code %u text \"%.120s\"", st, code, text);
    printf("  last reply: %s\n", detail);
    result(st == NX_SUCCESS && code == 550 && strstr(text, "nobody@strict.test") != NULL,
           "server: last reply is the 550 naming the recipient", detail);
    expect_status("server: delete PLAIN client", nx_smtp_client_delete(&c), NX_SUCCESS);

    /* 4. AUTH LOGIN; the caller's from_address buffer is overwritten after create. */
    defaults();
    strcpy(from_buf, "<alice@example.test>");
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from_buf, domain, NX_SMTP_CLIENT_AUTH_LOGIN, &server, 2525);
    expect_status("server: create LOGIN client", st, NX_SUCCESS);
    strcpy(from_buf, "<mallory@example.test>");
    sprintf(subject, "capi from-copy %s", tag);
    sprintf(body, "Body of the LOGIN mail %s.\r\n", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_LOW, subject, body);
    expect_status("server: send LOGIN after overwriting from buffer", st, NX_SUCCESS);
    expect_status("server: delete LOGIN client", nx_smtp_client_delete(&c), NX_SUCCESS);

    /* 5. Wrong password: the AUTH reply decides (535). */
    defaults();
    strcpy(pass, "wrong-password");
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_PLAIN, &server, 2525);
    expect_status("server: create client with wrong password", st, NX_SUCCESS);
    sprintf(subject, "capi badpass %s", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, "never delivered\r\n");
    expect_status("server: wrong password -> NX_SMTP_AUTH_REPLY_ERROR", st, NX_SMTP_AUTH_REPLY_ERROR);
    st = nx_smtp_client_last_reply_get(&c, &code, text, sizeof(text));
    sprintf(detail, "status 0x%02X code %u", st, code);
    result(st == NX_SUCCESS && code == 535, "server: last reply is 535", detail);
    expect_status("server: delete wrong-password client", nx_smtp_client_delete(&c), NX_SUCCESS);

    /* 6. No authentication, to a local domain (Postfix accepts it without AUTH). */
    defaults();
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_NONE, &server, 2525);
    expect_status("server: create NONE client", st, NX_SUCCESS);
    sprintf(subject, "capi none %s", tag);
    sprintf(body, "Body of the unauthenticated mail %s.\r\n", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, body);
    expect_status("server: send without AUTH", st, NX_SUCCESS);
    /* The stored sender address may be passed as the recipient (it is only read). */
    st = nx_smtp_mail_send(&c, c.nx_smtp_client_mail_from_address, NX_SMTP_MAIL_PRIORITY_NORMAL, subject, body,
                           (UINT)strlen(body));
    expect_status("server: send to the client's own stored from address", st, NX_SUCCESS);
    expect_status("server: delete NONE client", nx_smtp_client_delete(&c), NX_SUCCESS);

    /* 7. Nothing listens on 127.0.0.1:1: NX_NOT_CONNECTED, no reply. */
    defaults();
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_PLAIN, &server, 1);
    expect_status("server: create client for a closed port", st, NX_SUCCESS);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, "closed port", "x\r\n");
    expect_status("server: closed port -> NX_NOT_CONNECTED", st, NX_NOT_CONNECTED);
    st = nx_smtp_client_last_reply_get(&c, &code, text, sizeof(text));
    expect_true("server: no reply after a refused connection", st == NX_SUCCESS && code == 0 && text[0] == '\0');
    expect_status("server: delete closed-port client", nx_smtp_client_delete(&c), NX_SUCCESS);
}

/* --- TLS: nx_smtp_client_tls_set ---------------------------------------------------------- */

static void tls_set_checks(void)
{
    static char name[NX_SMTP_CLIENT_MAX_DOMAIN + 8];
    NX_SMTP_CLIENT fresh;

    memset(&fresh, 0, sizeof(fresh));
    strcpy(name, "smtp.example.test");
    expect_status("tls_set: NULL client -> NX_PTR_ERROR", nx_smtp_client_tls_set(NULL, NX_SMTP_CLIENT_TLS_STARTTLS, name),
                  NX_PTR_ERROR);
    expect_status("tls_set: client not created -> NX_SMTP_CLIENT_NOT_INTIALIZED",
                  nx_smtp_client_tls_set(&fresh, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SMTP_CLIENT_NOT_INTIALIZED);

    defaults();
    expect_status("tls_set: create", create_with(NX_SMTP_CLIENT_AUTH_PLAIN, 587), NX_SUCCESS);
    expect_true("tls_set: create leaves plain TCP (host default) and no name",
                client.nx_smtp_client_tls_mode == NX_SMTP_CLIENT_TLS_NONE && client.nx_smtp_client_tls_server_name[0] == '\0');
    expect_status("tls_set: unknown mode 3 -> NX_SMTP_INVALID_PARAM", nx_smtp_client_tls_set(&client, 3, name),
                  NX_SMTP_INVALID_PARAM);
    expect_status("tls_set: mode 0xFFFFFFFF -> NX_SMTP_INVALID_PARAM", nx_smtp_client_tls_set(&client, 0xFFFFFFFFu, NULL),
                  NX_SMTP_INVALID_PARAM);
    strcpy(name, "smtp.example.test\r\nRCPT TO:<x@y>");
    expect_status("tls_set: CR/LF in the name -> NX_SMTP_INVALID_PARAM",
                  nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SMTP_INVALID_PARAM);
    strcpy(name, "smtp example.test");
    expect_status("tls_set: space in the name -> NX_SMTP_INVALID_PARAM",
                  nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SMTP_INVALID_PARAM);
    make_host(name, NX_SMTP_CLIENT_MAX_DOMAIN + 1);
    expect_status("tls_set: name one longer than NX_SMTP_CLIENT_MAX_DOMAIN -> NX_SIZE_ERROR",
                  nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SIZE_ERROR);
    expect_true("tls_set: failed calls change nothing",
                client.nx_smtp_client_tls_mode == NX_SMTP_CLIENT_TLS_NONE && client.nx_smtp_client_tls_server_name[0] == '\0');
    expect_status("tls_set: a name in the client itself -> NX_SMTP_INVALID_PARAM",
                  nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS, client.nx_smtp_client_domain),
                  NX_SMTP_INVALID_PARAM);
    make_host(name, NX_SMTP_CLIENT_MAX_DOMAIN);
    expect_status("tls_set: name of exactly NX_SMTP_CLIENT_MAX_DOMAIN", nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_IMPLICIT, name),
                  NX_SUCCESS);
    strcpy(name, "smtp.example.test");
    expect_status("tls_set: STARTTLS with a name", nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SUCCESS);
    strcpy(name, "overwritten.example.test");
    expect_true("tls_set: the name is copied",
                client.nx_smtp_client_tls_mode == NX_SMTP_CLIENT_TLS_STARTTLS &&
                    strcmp(client.nx_smtp_client_tls_server_name, "smtp.example.test") == 0);
    expect_status("tls_set: IMPLICIT, NULL name (verify the address)", nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_IMPLICIT, NULL),
                  NX_SUCCESS);
    expect_true("tls_set: NULL clears the name",
                client.nx_smtp_client_tls_mode == NX_SMTP_CLIENT_TLS_IMPLICIT && client.nx_smtp_client_tls_server_name[0] == '\0');
    expect_status("tls_set: NONE", nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_NONE, NULL), NX_SUCCESS);
    expect_status("tls_set: delete", nx_smtp_client_delete(&client), NX_SUCCESS);
    expect_status("tls_set: after delete -> NX_SMTP_CLIENT_NOT_INTIALIZED",
                  nx_smtp_client_tls_set(&client, NX_SMTP_CLIENT_TLS_STARTTLS, NULL), NX_SMTP_CLIENT_NOT_INTIALIZED);
}

/* Sends over TLS to the test Postfix; run.sh checks that the mails arrived with ESMTPSA. */
static void tls_server_checks(const char *tag)
{
    NX_SMTP_CLIENT c;
    static char name[64];
    char subject[256];
    char body[512];
    UINT code = 0;
    char text[160];
    UINT st;

    /* 1. STARTTLS on 2587 (TLS required, AUTH only after it), certificate checked for localhost. */
    defaults();
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_PLAIN, &server, 2587);
    expect_status("tls: create STARTTLS client (127.0.0.1:2587)", st, NX_SUCCESS);
    strcpy(name, "localhost");
    expect_status("tls: tls_set STARTTLS, name localhost", nx_smtp_client_tls_set(&c, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SUCCESS);
    sprintf(subject, "capi starttls %s", tag);
    sprintf(body, "Body of the STARTTLS mail %s.\r\n.leading dot line\r\n", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, body);
    expect_status("tls: STARTTLS + AUTH PLAIN send", st, NX_SUCCESS);
    st = nx_smtp_client_last_reply_get(&c, &code, text, sizeof(text));
    result(st == NX_SUCCESS && code == 250, "tls: STARTTLS send decided by 250", text);

    /* 2. The same client, the certificate checked for a name it does not carry: 0xC5, nothing sent. */
    strcpy(name, "mail.wrong-name.test");
    expect_status("tls: tls_set STARTTLS, wrong name", nx_smtp_client_tls_set(&c, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SUCCESS);
    sprintf(subject, "capi wrongname %s", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, "never delivered\r\n");
    expect_status("tls: wrong name -> NX_SMTP_TLS_NAME_MISMATCH (0xC5)", st, NX_SMTP_TLS_NAME_MISMATCH);

    /* 3. Back to plain TCP on the STARTTLS-only port: the credentials are not offered in clear. */
    expect_status("tls: tls_set NONE", nx_smtp_client_tls_set(&c, NX_SMTP_CLIENT_TLS_NONE, NULL), NX_SUCCESS);
    sprintf(subject, "capi cleartext %s", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, "never delivered\r\n");
    /* Postfix offers AUTH there only after TLS: the library finds no AUTH (0xA0), or refuses
       cleartext credentials itself (0xC8, the firmware default). */
    result(st == NX_SMTP_AUTHENTICATION_ERROR || st == NX_SMTP_PLAINTEXT_AUTH_REFUSED,
           "tls: plain TCP to the TLS-only port fails before AUTH", "");
    expect_status("tls: delete STARTTLS client", nx_smtp_client_delete(&c), NX_SUCCESS);

    /* 4. Implicit TLS on 2465, AUTH LOGIN. */
    defaults();
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_LOGIN, &server, 2465);
    expect_status("tls: create implicit-TLS client (127.0.0.1:2465)", st, NX_SUCCESS);
    strcpy(name, "localhost");
    expect_status("tls: tls_set IMPLICIT, name localhost", nx_smtp_client_tls_set(&c, NX_SMTP_CLIENT_TLS_IMPLICIT, name), NX_SUCCESS);
    sprintf(subject, "capi implicit %s", tag);
    sprintf(body, "Body of the implicit-TLS mail %s.\r\n", tag);
    st = send_one(&c, "<carol@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, body);
    expect_status("tls: implicit TLS + AUTH LOGIN send", st, NX_SUCCESS);
    expect_status("tls: delete implicit-TLS client", nx_smtp_client_delete(&c), NX_SUCCESS);
}

/* The configured trust anchors cannot be loaded: the send fails closed (no fallback). */
static void tls_untrusted_checks(const char *tag)
{
    NX_SMTP_CLIENT c;
    static char name[64];
    char subject[256];
    UINT st;

    defaults();
    st = nxd_smtp_client_create(&c, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_PLAIN, &server, 2587);
    expect_status("untrusted: create STARTTLS client (127.0.0.1:2587)", st, NX_SUCCESS);
    strcpy(name, "localhost");
    expect_status("untrusted: tls_set STARTTLS, name localhost", nx_smtp_client_tls_set(&c, NX_SMTP_CLIENT_TLS_STARTTLS, name), NX_SUCCESS);
    sprintf(subject, "capi untrusted %s", tag);
    st = send_one(&c, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, subject, "never delivered\r\n");
    expect_status("untrusted: no loadable CA -> NX_SMTP_TLS_UNTRUSTED_CERTIFICATE (0xC4)", st, NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    expect_status("untrusted: delete", nx_smtp_client_delete(&c), NX_SUCCESS);
}

/* --- concurrent sends on one client: the client's lock serialises them ------------------- */

#define THREADS 4
#define SENDS_PER_THREAD 2

struct thread_arg
{
    NX_SMTP_CLIENT *client;
    const char *tag;
    int index;
    UINT status[SENDS_PER_THREAD];
};

static void *sender(void *p)
{
    struct thread_arg *a = (struct thread_arg *)p;
    char rcpt[] = "<bob@example.test>";
    char subject[128];
    char body[128];
    int i;
    for (i = 0; i < SENDS_PER_THREAD; i++)
    {
        sprintf(subject, "capi thread %d.%d %s", a->index, i, a->tag);
        sprintf(body, "Sent by thread %d, mail %d, %s.\r\n", a->index, i, a->tag);
        a->status[i] = nx_smtp_mail_send(a->client, rcpt, NX_SMTP_MAIL_PRIORITY_NORMAL, subject, body, (UINT)strlen(body));
    }
    return NULL;
}

static void thread_checks(const char *tag)
{
    static NX_SMTP_CLIENT shared;
    static struct thread_arg args[THREADS];
    pthread_t threads[THREADS];
    int i, j, started = 0, all_ok = 1;
    char detail[64];

    defaults();
    expect_status("threads: create shared client",
                  nxd_smtp_client_create(&shared, &ip, &pool, user, pass, from, domain, NX_SMTP_CLIENT_AUTH_PLAIN, &server, 2525),
                  NX_SUCCESS);
    for (i = 0; i < THREADS; i++)
    {
        args[i].client = &shared;
        args[i].tag = tag;
        args[i].index = i;
        if (pthread_create(&threads[i], NULL, sender, &args[i]) == 0)
        {
            started++;
        }
    }
    expect_true("threads: all started", started == THREADS);
    for (i = 0; i < started; i++)
    {
        pthread_join(threads[i], NULL);
        for (j = 0; j < SENDS_PER_THREAD; j++)
        {
            if (args[i].status[j] != NX_SUCCESS)
            {
                sprintf(detail, "thread %d send %d: 0x%02X", i, j, args[i].status[j]);
                printf("  %s\n", detail);
                all_ok = 0;
            }
        }
    }
    result(all_ok && started == THREADS, "threads: every concurrent send on one client succeeded", all_ok ? "" : "see above");
    expect_status("threads: delete shared client", nx_smtp_client_delete(&shared), NX_SUCCESS);
}

int main(int argc, char **argv)
{
    const char *tag = NULL;
    const char *tls_tag = NULL;
    const char *untrusted_tag = NULL;
    int layout_only = 0;

    if (argc == 2 && strcmp(argv[1], "--layout-only") == 0)
    {
        layout_only = 1;
    }
    else if (argc == 3 && strcmp(argv[1], "--server") == 0)
    {
        tag = argv[2];
    }
    else if (argc == 3 && strcmp(argv[1], "--tls-server") == 0)
    {
        tls_tag = argv[2];
    }
    else if (argc == 3 && strcmp(argv[1], "--tls-untrusted") == 0)
    {
        untrusted_tag = argv[2];
    }
    else if (argc != 1)
    {
        fprintf(stderr, "usage: %s [--layout-only | --server TAG | --tls-server TAG | --tls-untrusted TAG]\n", argv[0]);
        return 2;
    }

    if (!layout_checks() && !layout_only)
    {
        /* The library would write past this program's NX_SMTP_CLIENT: stop here. */
        result(0, "remaining checks", "not run: the layouts differ (limits not from one place?)");
    }
    else if (!layout_only)
    {
        create_checks();
        send_checks();
#if NX_SMTP_CLIENT_ATTACHMENTS
        attachment_checks();
#endif
        tls_set_checks();
        if (tls_tag != NULL)
        {
            tls_server_checks(tls_tag);
        }
        if (untrusted_tag != NULL)
        {
            tls_untrusted_checks(untrusted_tag);
        }
        if (tag != NULL)
        {
            server_checks(tag);
            thread_checks(tag);
        }
    }
    printf("capi_checks: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
