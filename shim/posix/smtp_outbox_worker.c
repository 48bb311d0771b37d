/*
 * The POSIX twin of shim/zephyr/smtp_outbox_worker.c (smtp_shim.h, "Outbox delivery worker"):
 * one thread per outbox, and a network state that tests set with smtp_shim_posix_network_set,
 * as Zephyr's connection manager reports NET_EVENT_L4_CONNECTED / _DISCONNECTED. All workers
 * share one mutex and one condition variable: a kick, a stop and the network coming up wake them
 * all, and each looks at its own state.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "smtp_shim.h"

struct smtp_outbox_worker {
	pthread_t thread;
	smtp_shim_outbox_pass_fn pass;
	void *outbox;
	uint64_t due_ms;      /* when has_due: the next pass, on CLOCK_MONOTONIC */
	unsigned int network_epoch_seen;
	bool has_due;
	bool kicked;
	bool stop;
};

static pthread_mutex_t smtp_worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t smtp_worker_wake; /* timed on CLOCK_MONOTONIC, as the due times are */
static pthread_once_t smtp_worker_once = PTHREAD_ONCE_INIT;
static void smtp_worker_init_once(void);
static bool smtp_network_up = true;
/* Counts the times the network came up: a worker that has not seen the newest one runs a pass
 * with network_up set. */
static unsigned int smtp_network_epoch;

/* Test hook: the network state the workers see (up at start). */
void smtp_shim_posix_network_set(bool up);

void smtp_shim_posix_network_set(bool up)
{
	pthread_once(&smtp_worker_once, smtp_worker_init_once);
	pthread_mutex_lock(&smtp_worker_lock);
	if (up && !smtp_network_up) {
		smtp_network_epoch++;
	}
	smtp_network_up = up;
	pthread_cond_broadcast(&smtp_worker_wake);
	pthread_mutex_unlock(&smtp_worker_lock);
}

static void smtp_worker_init_once(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&smtp_worker_wake, &attr);
	pthread_condattr_destroy(&attr);
}

static uint64_t smtp_worker_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void smtp_worker_wait_until(uint64_t due_ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due_ms / 1000u);
	ts.tv_nsec = (long)((due_ms % 1000u) * 1000000u);
	(void)pthread_cond_timedwait(&smtp_worker_wake, &smtp_worker_lock, &ts);
}

static void *smtp_worker_main(void *arg)
{
	struct smtp_outbox_worker *w = arg;

	pthread_mutex_lock(&smtp_worker_lock);
	while (!w->stop) {
		bool came_up;
		int64_t next;

		if (!smtp_network_up) {
			pthread_cond_wait(&smtp_worker_wake, &smtp_worker_lock);
			continue;
		}
		came_up = w->network_epoch_seen != smtp_network_epoch;
		if (!came_up && !w->kicked && !(w->has_due && smtp_worker_now_ms() >= w->due_ms)) {
			if (w->has_due) {
				smtp_worker_wait_until(w->due_ms);
			} else {
				pthread_cond_wait(&smtp_worker_wake, &smtp_worker_lock);
			}
			continue;
		}
		w->network_epoch_seen = smtp_network_epoch;
		w->kicked = false;
		pthread_mutex_unlock(&smtp_worker_lock);
		next = w->pass(w->outbox, came_up);
		pthread_mutex_lock(&smtp_worker_lock);
		w->has_due = next >= 0;
		w->due_ms = smtp_worker_now_ms() + (next >= 0 ? (uint64_t)next : 0u);
	}
	pthread_mutex_unlock(&smtp_worker_lock);
	return NULL;
}

int smtp_shim_outbox_worker_start(void *state, size_t state_size, smtp_shim_outbox_pass_fn pass, void *outbox)
{
	struct smtp_outbox_worker *w = state;
	int rc;

	if (state_size < sizeof(*w) || ((uintptr_t)state % _Alignof(struct smtp_outbox_worker)) != 0) {
		return -ENOMEM;
	}
	pthread_once(&smtp_worker_once, smtp_worker_init_once);
	pthread_mutex_lock(&smtp_worker_lock);
	memset(w, 0, sizeof(*w));
	w->pass = pass;
	w->outbox = outbox;
	w->network_epoch_seen = smtp_network_epoch;
	w->kicked = true;
	pthread_mutex_unlock(&smtp_worker_lock);
	rc = pthread_create(&w->thread, NULL, smtp_worker_main, w);
	return rc == 0 ? 0 : -rc;
}

void smtp_shim_outbox_worker_kick(void *state)
{
	struct smtp_outbox_worker *w = state;

	pthread_mutex_lock(&smtp_worker_lock);
	w->kicked = true;
	pthread_cond_broadcast(&smtp_worker_wake);
	pthread_mutex_unlock(&smtp_worker_lock);
}

void smtp_shim_outbox_worker_stop(void *state)
{
	struct smtp_outbox_worker *w = state;

	pthread_mutex_lock(&smtp_worker_lock);
	w->stop = true;
	pthread_cond_broadcast(&smtp_worker_wake);
	pthread_mutex_unlock(&smtp_worker_lock);
	pthread_join(w->thread, NULL);
}
