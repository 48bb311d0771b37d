/*
 * The outbox without a delivery worker (smtp_shim.h, "Outbox delivery worker"), compiled with
 * CONFIG_SMTP_CLIENT_OUTBOX_WORKER=n: no thread, no work queue, no network events. The
 * application delivers by calling nx_smtp_outbox_flush from a thread of its own, when it knows
 * the network is up.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_shim.h"

int smtp_shim_outbox_worker_start(void *state, size_t state_size, smtp_shim_outbox_pass_fn pass,
				  void *outbox)
{
	(void)state;
	(void)state_size;
	(void)pass;
	(void)outbox;
	return 0;
}

void smtp_shim_outbox_worker_kick(void *state)
{
	(void)state;
}

void smtp_shim_outbox_worker_stop(void *state)
{
	(void)state;
}
