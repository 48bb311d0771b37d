/*
 * NetX Duo's SMTP client example program (NetX Duo SMTP Client guide, chapter 3: the
 * nxd_smtp_client_create, nx_smtp_mail_send and nx_smtp_client_delete examples), as a Zephyr C
 * application over zsmtp's NetX Duo-compatible API.
 *
 * The guide's fragments are unchanged but for includes and defines:
 *  - includes: <zephyr/sys/printk.h> and "nxd_smtp_client.h" (instead of nx_api.h);
 *  - the #defines take their values from this sample's Kconfig (the guide's curly quotes become
 *    straight ones); SERVER_IP_ADDRESS, used but not defined by the guide, is 127.0.0.1;
 *  - the guide sends SUBJECT_LINE but defines SUBJECT: SUBJECT_LINE is defined as SUBJECT;
 *  - USE_IPV6 (not defined here): the guide's IPv6 words (2001:db8:0:f101::106, a documentation
 *    address) are replaced by ::1, so that the program never aims at anything but loopback;
 *  - the fragments sit in main(), the delete fragment's second declaration of demo_client is
 *    dropped, and each status is printed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <zephyr/sys/printk.h>

#include "nxd_smtp_client.h"

/* Create the SMTP Client instance. */
NX_PACKET_POOL client_packet_pool;
NX_IP client_ip;
NX_SMTP_CLIENT demo_client;

#define USERNAME CONFIG_NETX_COMPAT_USERNAME
#define PASSWORD CONFIG_NETX_COMPAT_PASSWORD
#define FROM_ADDRESS CONFIG_NETX_COMPAT_FROM
#define LOCAL_DOMAIN CONFIG_NETX_COMPAT_DOMAIN
#define SERVER_PORT CONFIG_NETX_COMPAT_SERVER_PORT
#define SERVER_IP_ADDRESS IP_ADDRESS(127, 0, 0, 1)

/* Define client authentication type as LOGIN.
    If not specified or unknown the SMTP Client will set it to PLAIN. */
#define CLIENT_AUTHENTICATION_TYPE NX_SMTP_CLIENT_AUTH_LOGIN

/* Create and send a Client mail item. */

#define RECIPIENT_ADDRESS CONFIG_NETX_COMPAT_TO
#define SUBJECT "NetX Duo SMTP Client Demo"
#define SUBJECT_LINE SUBJECT
#define MAIL_BODY "NetX Duo SMTP client is an SMTP client " \
    "implementation for embedded devices \r\n" \
    "to send email to SMTP servers.\r\n"

int main(void)
{
UINT status;

NXD_ADDRESS server_ip_address;

#ifdef USE_IPV6
    /* Set up the Server IPv6 address. */
    server_ip_address.nxd_ip_version = NX_IP_VERSION_V6;
    server_ip_address.nxd_ip_address.v6[0] = 0;
    server_ip_address.nxd_ip_address.v6[1] = 0;
    server_ip_address.nxd_ip_address.v6[2] = 0;
    server_ip_address.nxd_ip_address.v6[3] = 1;
#else
    server_ip_address.nxd_ip_version = NX_IP_VERSION_V4;
    server_ip_address.nxd_ip_address.v4 = SERVER_IP_ADDRESS;
#endif

status = nxd_smtp_client_create(&demo_client, &client_ip, &client_packet_pool,
    USERNAME, PASSWORD, FROM_ADDRESS,
    LOCAL_DOMAIN, CLIENT_AUTHENTICATION_TYPE,
    &server_ip_address, SERVER_PORT);

/* If an SMTP Client instance was successfully created, status = NX_SUCCESS. */
    printk("nxd_smtp_client_create status 0x%02X\n", status);

status = nx_smtp_mail_send(&demo_client, RECIPIENT_ADDRESS,
    NX_SMTP_MAIL_PRIORITY_NORMAL,
    SUBJECT_LINE, MAIL_BODY,
    sizeof(MAIL_BODY) - 1);

/* Return status being NX_SUCCESS indicates the mail has been
    successfully sent. */
    printk("nx_smtp_mail_send status 0x%02X\n", status);

/* Delete the SMTP Client instance "my_client." */

status = nx_smtp_client_delete(&demo_client);

/* If an SMTP Client instance was successfully deleted, status = NX_SUCCESS. */
    printk("nx_smtp_client_delete status 0x%02X\n", status);

    return 0;
}
