/*
 * NetX Duo's SMTP client example program (NetX Duo SMTP Client guide, chapter 3), built
 * against zsmtp's NetX Duo-compatible API.
 *
 * The create, send and delete fragments of the guide are put into main() unchanged but for
 * includes and defines:
 *  - the guide's curly quotes in the #defines are straight quotes;
 *  - the defines point at the local test Postfix (127.0.0.1:2525, SASL user alice);
 *  - the guide sends SUBJECT_LINE but defines SUBJECT: SUBJECT_LINE is defined as SUBJECT;
 *  - SERVER_IP_ADDRESS, which the guide uses without defining, is defined;
 *  - USE_IPV6: the guide's IPv6 words (2001:db8:0:f101::106, a documentation address) are
 *    replaced by ::1, so that the program never aims at anything but loopback;
 *  - the delete fragment's repeated declaration of demo_client is dropped, and the status
 *    of each call is printed (the program exits non-zero on failure).
 */
#include <stdio.h>

#include "nxd_smtp_client.h"

/* Create the SMTP Client instance. */
NX_PACKET_POOL client_packet_pool;
NX_IP client_ip;
NX_SMTP_CLIENT demo_client;

#define USERNAME "alice"
#define PASSWORD "secret123"
#define FROM_ADDRESS "<alice@example.test>"
#define LOCAL_DOMAIN "example.test"
#define SERVER_PORT 2525
#define SERVER_IP_ADDRESS IP_ADDRESS(127,0,0,1)

/* Define client authentication type as LOGIN.
    If not specified or unknown the SMTP Client will set it to PLAIN. */
#define CLIENT_AUTHENTICATION_TYPE NX_SMTP_CLIENT_AUTH_LOGIN

/* Create and send a Client mail item. */

#define RECIPIENT_ADDRESS "<bob@example.test>"
#define SUBJECT "NetX Duo SMTP Client Demo"
#define SUBJECT_LINE SUBJECT
#define MAIL_BODY "NetX Duo SMTP client is an SMTP client " \
    "implementation for embedded devices \r\n" \
    "to send email to SMTP servers.\r\n"

int main(void)
{
UINT status;
UINT send_status;

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
    printf("nxd_smtp_client_create status 0x%02X\n", status);
    if (status != NX_SUCCESS)
    {
        return 1;
    }

status = nx_smtp_mail_send(&demo_client, RECIPIENT_ADDRESS,
    NX_SMTP_MAIL_PRIORITY_NORMAL,
    SUBJECT_LINE, MAIL_BODY,
    sizeof(MAIL_BODY) - 1);

/* Return status being NX_SUCCESS indicates the mail has been
    successfully sent. */
    printf("nx_smtp_mail_send status 0x%02X\n", status);
    send_status = status;

/* Delete the SMTP Client instance "my_client." */

status = nx_smtp_client_delete(&demo_client);

/* If an SMTP Client instance was successfully deleted, status = NX_SUCCESS. */
    printf("nx_smtp_client_delete status 0x%02X\n", status);

    return (send_status == NX_SUCCESS && status == NX_SUCCESS) ? 0 : 1;
}
