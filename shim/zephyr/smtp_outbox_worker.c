/*
 * The outbox's delivery worker on Zephyr (smtp_shim.h, "Outbox delivery worker"), compiled with
 * CONFIG_SMTP_CLIENT_OUTBOX_WORKER.
 *
 * One work queue of the module (its thread: CONFIG_SMTP_CLIENT_OUTBOX_WORKER_STACK_SIZE,
 * CONFIG_SMTP_CLIENT_OUTBOX_WORKER_PRIORITY), started by the first smtp_shim_outbox_worker_start
 * and kept; one delayable work item per outbox, in the outbox control block's worker words. The
 * item runs a delivery pass and schedules itself again for when the pass says the next mail is
 * due. A kick (a mail was queued) runs it now.
 *
 * Network readiness: with CONFIG_NET_CONNECTION_MANAGER (and its CONFIG_NET_MGMT_EVENT), a
 * network management callback per outbox listens for NET_EVENT_L4_CONNECTED and
 * NET_EVENT_L4_DISCONNECTED. The network counts as down until the connection manager says
 * otherwise: conn_mgr_mon_resend_status() asks it to tell the current state at start. On
 * CONNECTED a pass runs at once (network_up: every waiting mail is due); while DISCONNECTED no
 * pass runs, so nothing spins on connect errors. Without the connection manager (native_sim with
 * host sockets, NSOS, whose interface never gets an address and so is never L4-connected) the
 * network counts as up from the start.
 *
 * Thread context only: the callbacks run in the network management thread, the passes in the
 * worker's thread; no ISR calls any of this.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/kernel.h>
#include <zephyr/sys/atomic.h>
#include <zephyr/sys/util.h>

#include "smtp_shim.h"

#if defined(CONFIG_NET_CONNECTION_MANAGER) && defined(CONFIG_NET_MGMT_EVENT)
#include <zephyr/net/conn_mgr_monitor.h>
#include <zephyr/net/net_event.h>
#include <zephyr/net/net_mgmt.h>
#include <zephyr/version.h>
#define SMTP_OUTBOX_WAIT_FOR_NETWORK 1
/* Zephyr 4.2 widened network management events from 32 to 64 bits (release notes 4.2, "Stable
 * API changes": net_mgmt_event_handler_t's event value is uint64_t). */
#if ZEPHYR_VERSION_CODE >= ZEPHYR_VERSION(4, 2, 0)
typedef uint64_t smtp_outbox_net_event_t;
#else
typedef uint32_t smtp_outbox_net_event_t;
#endif
#else
#define SMTP_OUTBOX_WAIT_FOR_NETWORK 0
#endif

/* Bits of smtp_outbox_worker.flags. */
enum {
	SMTP_OUTBOX_NET_UP,   /* the network is up: passes may run */
	SMTP_OUTBOX_CAME_UP,  /* it came up since the last pass: the next one is told so */
	SMTP_OUTBOX_STOPPING, /* stop has begun: nothing schedules the item any more */
};

/* One outbox's worker state, in its control block's worker words. */
struct smtp_outbox_worker {
	struct k_work_delayable work;
	smtp_shim_outbox_pass_fn pass;
	void *outbox;
	atomic_t flags;
#if SMTP_OUTBOX_WAIT_FOR_NETWORK
	struct net_mgmt_event_callback l4_callback;
#endif
};

/* The worker words are unsigned long aligned; the state may need more (a 64-bit timeout on a
 * 32-bit CPU), so it starts at the first suitably aligned byte of the words. */
#define SMTP_OUTBOX_WORKER_ROOM                                                                    \
	(sizeof(struct smtp_outbox_worker) + __alignof__(struct smtp_outbox_worker) -              \
	 MIN(__alignof__(struct smtp_outbox_worker), sizeof(unsigned long)))

BUILD_ASSERT(SMTP_OUTBOX_WORKER_ROOM <=
		     CONFIG_SMTP_CLIENT_OUTBOX_WORKER_WORDS * sizeof(unsigned long),
	     "CONFIG_SMTP_CLIENT_OUTBOX_WORKER_WORDS is too small for the outbox worker's state");

/* A kernel stack: the worker never runs in user mode (no MPU-aligned user stack needed). */
K_KERNEL_STACK_DEFINE(smtp_outbox_stack, CONFIG_SMTP_CLIENT_OUTBOX_WORKER_STACK_SIZE);
static struct k_work_q smtp_outbox_queue;
static bool smtp_outbox_queue_started;
K_MUTEX_DEFINE(smtp_outbox_queue_lock);

static struct smtp_outbox_worker *smtp_outbox_worker_at(void *state)
{
	uintptr_t align = __alignof__(struct smtp_outbox_worker);

	return (struct smtp_outbox_worker *)(((uintptr_t)state + align - 1U) & ~(align - 1U));
}

/* Starts the module's work queue once, on the first outbox's start. */
static void smtp_outbox_queue_start(void)
{
	const struct k_work_queue_config config = {
		.name = "zsmtp_outbox",
		.no_yield = false,
	};

	k_mutex_lock(&smtp_outbox_queue_lock, K_FOREVER);
	if (!smtp_outbox_queue_started) {
		k_work_queue_init(&smtp_outbox_queue);
		k_work_queue_start(&smtp_outbox_queue, smtp_outbox_stack,
				   K_KERNEL_STACK_SIZEOF(smtp_outbox_stack),
				   CONFIG_SMTP_CLIENT_OUTBOX_WORKER_PRIORITY, &config);
		smtp_outbox_queue_started = true;
	}
	k_mutex_unlock(&smtp_outbox_queue_lock);
}

/* Runs a pass now, if the network is up and the worker is not stopping. */
static void smtp_outbox_run_now(struct smtp_outbox_worker *w)
{
	if (atomic_test_bit(&w->flags, SMTP_OUTBOX_NET_UP) &&
	    !atomic_test_bit(&w->flags, SMTP_OUTBOX_STOPPING)) {
		(void)k_work_reschedule_for_queue(&smtp_outbox_queue, &w->work, K_NO_WAIT);
	}
}

static void smtp_outbox_work(struct k_work *work)
{
	struct k_work_delayable *dwork = k_work_delayable_from_work(work);
	struct smtp_outbox_worker *w = CONTAINER_OF(dwork, struct smtp_outbox_worker, work);
	int64_t next_ms;

	if (!atomic_test_bit(&w->flags, SMTP_OUTBOX_NET_UP) ||
	    atomic_test_bit(&w->flags, SMTP_OUTBOX_STOPPING)) {
		return; /* down since this run was scheduled (CONNECTED schedules the next), or stopping */
	}
	next_ms = w->pass(w->outbox, atomic_test_and_clear_bit(&w->flags, SMTP_OUTBOX_CAME_UP));
	if (next_ms < 0 || !atomic_test_bit(&w->flags, SMTP_OUTBOX_NET_UP) ||
	    atomic_test_bit(&w->flags, SMTP_OUTBOX_STOPPING)) {
		return;
	}
	/* A no-op when a kick during the pass has queued the item again (that run comes first). */
	(void)k_work_schedule_for_queue(&smtp_outbox_queue, dwork,
					K_MSEC((int32_t)MIN(next_ms, (int64_t)INT32_MAX)));
}

#if SMTP_OUTBOX_WAIT_FOR_NETWORK
static void smtp_outbox_net_event(struct net_mgmt_event_callback *cb,
				  smtp_outbox_net_event_t event, struct net_if *iface)
{
	struct smtp_outbox_worker *w = CONTAINER_OF(cb, struct smtp_outbox_worker, l4_callback);

	ARG_UNUSED(iface);
	if (atomic_test_bit(&w->flags, SMTP_OUTBOX_STOPPING)) {
		return;
	}
	if (event == NET_EVENT_L4_CONNECTED) {
		/* Also sent again by conn_mgr_mon_resend_status() while up: harmless, a pass with
		 * every waiting mail due. */
		atomic_set_bit(&w->flags, SMTP_OUTBOX_CAME_UP);
		atomic_set_bit(&w->flags, SMTP_OUTBOX_NET_UP);
		smtp_outbox_run_now(w);
	} else if (event == NET_EVENT_L4_DISCONNECTED) {
		atomic_clear_bit(&w->flags, SMTP_OUTBOX_NET_UP);
		/* A retry waiting for its time is dropped; a pass under way ends by itself. */
		(void)k_work_cancel_delayable(&w->work);
	}
}
#endif

int smtp_shim_outbox_worker_start(void *state, size_t state_size, smtp_shim_outbox_pass_fn pass,
				  void *outbox)
{
	struct smtp_outbox_worker *w;

	if (state == NULL || pass == NULL) {
		return -EINVAL;
	}
	if (state_size < SMTP_OUTBOX_WORKER_ROOM) {
		return -ENOMEM;
	}
	w = smtp_outbox_worker_at(state);
	*w = (struct smtp_outbox_worker){ .pass = pass, .outbox = outbox };
	k_work_init_delayable(&w->work, smtp_outbox_work);
	smtp_outbox_queue_start();
#if SMTP_OUTBOX_WAIT_FOR_NETWORK
	/* Down until the connection manager tells: it answers the resend with the current state
	 * through the network management thread. */
	net_mgmt_init_event_callback(&w->l4_callback, smtp_outbox_net_event,
				     NET_EVENT_L4_CONNECTED | NET_EVENT_L4_DISCONNECTED);
	net_mgmt_add_event_callback(&w->l4_callback);
	conn_mgr_mon_resend_status();
#else
	atomic_set_bit(&w->flags, SMTP_OUTBOX_CAME_UP);
	atomic_set_bit(&w->flags, SMTP_OUTBOX_NET_UP);
	smtp_outbox_run_now(w);
#endif
	return 0;
}

void smtp_shim_outbox_worker_kick(void *state)
{
	if (state != NULL) {
		smtp_outbox_run_now(smtp_outbox_worker_at(state));
	}
}

void smtp_shim_outbox_worker_stop(void *state)
{
	struct k_work_sync sync;
	struct smtp_outbox_worker *w;

	if (state == NULL) {
		return;
	}
	w = smtp_outbox_worker_at(state);
	/* First nothing new: the callback, kicks and runs of the item see STOPPING; then the
	 * callback goes; then the item is cancelled, waiting for a pass under way. A cancel does not
	 * stop that pass from scheduling its next run (kernel.h: "Canceling delayable work does not
	 * prevent rescheduling it") when it read STOPPING just before it was set: the second cancel
	 * removes that run, which would return at once anyway. The caller kicks no more. */
	atomic_set_bit(&w->flags, SMTP_OUTBOX_STOPPING);
#if SMTP_OUTBOX_WAIT_FOR_NETWORK
	net_mgmt_del_event_callback(&w->l4_callback);
#endif
	(void)k_work_cancel_delayable_sync(&w->work, &sync);
	(void)k_work_cancel_delayable_sync(&w->work, &sync);
}
