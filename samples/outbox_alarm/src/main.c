/*
 * An over-temperature alarm queued while no server answers, delivered once one does: zsmtp's
 * outbox through the NetX Duo-style C API (nx_smtp_mail_queue and its status and callback calls).
 *
 * main() creates a client for 127.0.0.1:CONFIG_OUTBOX_ALARM_SERVER_PORT and an outbox over the
 * module's storage, sets a callback that prints each delivery attempt's outcome, and queues the
 * alarm: nx_smtp_mail_queue returns at once, whether or not a server listens. The module's
 * delivery worker (CONFIG_SMTP_CLIENT_OUTBOX_WORKER) tries it, and after each failure waits
 * (CONFIG_SMTP_CLIENT_OUTBOX_RETRY_FIRST_MS, doubling up to _RETRY_MAX_MS) before trying again,
 * until a server takes it. With the connection manager the worker waits for the network instead.
 *
 * Output:
 *   outbox_alarm: queued id=1
 *   outbox_alarm: retrying id=1 attempt=1: ...      (while no server listens)
 *   outbox_alarm: delivered id=1 attempt=2: 250 ...
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#include "nxd_smtp_client.h"

#define ALARM_SUBJECT "ALARM: over-temperature"
#define ALARM_BODY                                                                                 \
	"Sensor 3 reads 92.5 C, above the 85.0 C limit.\r\n"                                       \
	"Raised by the control loop; queued in the outbox and sent once the server answered.\r\n"

static NX_PACKET_POOL pool;
static NX_IP ip;
static NX_SMTP_CLIENT client;
static NX_SMTP_OUTBOX outbox;

/* Given by the callback whenever a mail is delivered or set aside as failed. */
K_SEM_DEFINE(mail_settled, 0, 1);

static const char *event_name(UINT event)
{
	switch (event) {
	case NX_SMTP_OUTBOX_EVENT_DELIVERED:
		return "delivered";
	case NX_SMTP_OUTBOX_EVENT_RETRYING:
		return "retrying";
	case NX_SMTP_OUTBOX_EVENT_UNKNOWN:
		return "unknown";
	case NX_SMTP_OUTBOX_EVENT_FAILED:
		return "failed";
	default:
		return "event";
	}
}

/* Runs in the outbox's delivery thread after each attempt is committed. */
static void on_outbox_event(void *context, UINT event, const NX_SMTP_OUTBOX_MAIL *mail)
{
	ARG_UNUSED(context);
	if (mail->nx_smtp_outbox_reply_code != 0U) {
		printk("outbox_alarm: %s id=%lu attempt=%u: %u %s\n", event_name(event),
		       (unsigned long)mail->nx_smtp_outbox_mail_id, mail->nx_smtp_outbox_attempts,
		       mail->nx_smtp_outbox_reply_code, mail->nx_smtp_outbox_reply_text);
	} else {
		printk("outbox_alarm: %s id=%lu attempt=%u: %s\n", event_name(event),
		       (unsigned long)mail->nx_smtp_outbox_mail_id, mail->nx_smtp_outbox_attempts,
		       mail->nx_smtp_outbox_reply_text);
	}
	if (event == NX_SMTP_OUTBOX_EVENT_DELIVERED || event == NX_SMTP_OUTBOX_EVENT_FAILED) {
		k_sem_give(&mail_settled);
	}
}

int main(void)
{
	NXD_ADDRESS server;
	ULONG id = 0;
	UINT status;

	server.nxd_ip_version = NX_IP_VERSION_V4;
	server.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1);
	status = nxd_smtp_client_create(&client, &ip, &pool, "", "", CONFIG_OUTBOX_ALARM_FROM,
					CONFIG_OUTBOX_ALARM_DOMAIN, NX_SMTP_CLIENT_AUTH_NONE, &server,
					CONFIG_OUTBOX_ALARM_SERVER_PORT);
	if (status != NX_SUCCESS) {
		printk("outbox_alarm: nxd_smtp_client_create status 0x%02X\n", status);
		return 0;
	}
	status = nx_smtp_outbox_create(&outbox, &client);
	if (status != NX_SUCCESS) {
		printk("outbox_alarm: nx_smtp_outbox_create status 0x%02X\n", status);
		return 0;
	}
	/* Before the first queue: the worker may deliver as soon as a mail is queued. */
	(void)nx_smtp_outbox_notify_set(&outbox, on_outbox_event, NULL);

	/* The alarm: stored durably, returns at once, no network dialogue in this thread. */
	status = nx_smtp_mail_queue(&outbox, CONFIG_OUTBOX_ALARM_TO, NX_SMTP_MAIL_PRIORITY_HIGH,
				    ALARM_SUBJECT, ALARM_BODY, sizeof(ALARM_BODY) - 1, &id);
	if (status != NX_SUCCESS) {
		printk("outbox_alarm: nx_smtp_mail_queue status 0x%02X\n", status);
		return 0;
	}
	printk("outbox_alarm: queued id=%lu\n", (unsigned long)id);

	/* The control loop would go on here; the sample only waits until the alarm has left the
	 * outbox (delivered) or was set aside (refused for good). */
	for (;;) {
		NX_SMTP_OUTBOX_MAIL mail;

		k_sem_take(&mail_settled, K_FOREVER);
		status = nx_smtp_outbox_status_get(&outbox, id, &mail);
		if (status == NX_SMTP_OUTBOX_NOT_FOUND ||
		    (status == NX_SUCCESS && mail.nx_smtp_outbox_state == NX_SMTP_OUTBOX_FAILED)) {
			break;
		}
	}
	(void)nx_smtp_outbox_delete(&outbox);
	(void)nx_smtp_client_delete(&client);
	printk("outbox_alarm: done\n");
	return 0;
}
