/*
 * The outbox's RAM storage (shim/common/smtp_outbox_ram.c, Zephyr's CONFIG_SMTP_CLIENT_OUTBOX_RAM)
 * on the host, against the contract of smtp_shim.h ("Outbox storage"): write, replace, read (the
 * whole length, also into a short buffer), delete, a full arena refusing with -ENOSPC and changing
 * nothing, the record size limit, calls before open, the one-owner claim, and a replace that
 * readers in other threads see whole (old or new, never mixed).
 *
 * Built by tests/c/run.sh with a small arena:
 *   -DCONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE=256 -DCONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX=100
 * Prints PASS/FAIL lines and "outbox_ram: N passed, M failed".
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "smtp_shim.h"

#if CONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE != 256 || CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX != 100
#error "build with -DCONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE=256 -DCONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX=100"
#endif

static int passed;
static int failed;

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	if (ok) {
		passed++;
	} else {
		failed++;
	}
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)(seed + i);
	}
}

/* Record `key` holds exactly len bytes of fill(seed). */
static int holds(uint16_t key, size_t len, uint8_t seed)
{
	uint8_t want[100];
	uint8_t got[100];

	fill(want, len, seed);
	return smtp_shim_outbox_read(key, got, sizeof(got)) == (int)len && memcmp(got, want, len) == 0;
}

/* The concurrency check: a writer replaces one record with all-A or all-B records of different
 * lengths; readers must only ever see one of the two, whole. */
static volatile int stop_readers;
static int torn;

static void *reader(void *arg)
{
	uint8_t buf[100];

	(void)arg;
	while (!stop_readers) {
		int n = smtp_shim_outbox_read(0x0200, buf, sizeof(buf));

		if (n == 40 || n == 90) {
			for (int i = 0; i < n; i++) {
				if (buf[i] != (n == 40 ? 'A' : 'B')) {
					torn = 1;
				}
			}
		} else {
			torn = 1;
		}
	}
	return NULL;
}

int main(void)
{
	uint8_t buf[256];
	uint8_t small[4];
	int owner_a;
	int owner_b;

	/* Before open. */
	check(smtp_shim_outbox_record_size() == -EACCES, "record_size before open is -EACCES");
	fill(buf, 10, 1);
	check(smtp_shim_outbox_write(0x0100, buf, 10) == -EACCES, "write before open is -EACCES");
	check(smtp_shim_outbox_read(0x0100, buf, 10) == -EACCES, "read before open is -EACCES");

	check(smtp_shim_outbox_open() == 0, "open");
	check(smtp_shim_outbox_open() == 0, "open again");
	check(smtp_shim_outbox_record_size() == 100, "record_size is CONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX");

	/* Write, read, short read, missing. */
	check(smtp_shim_outbox_read(0x0100, buf, sizeof(buf)) == 0, "a missing record reads as 0");
	fill(buf, 30, 7);
	check(smtp_shim_outbox_write(0x0100, buf, 30) == 0, "write 30 bytes");
	check(holds(0x0100, 30, 7), "read gives the 30 bytes back");
	memset(small, 0, sizeof(small));
	check(smtp_shim_outbox_read(0x0100, small, sizeof(small)) == 30 && small[0] == 7 && small[3] == 10,
	      "a short buffer gets the first bytes and the whole length");
	check(smtp_shim_outbox_read(0x0100, NULL, 0) == 30, "a zero-length read gives the length");

	/* Limits. */
	check(smtp_shim_outbox_write(0x0101, buf, 0) == -EINVAL, "an empty record is refused");
	check(smtp_shim_outbox_write(0x0101, buf, 101) == -EINVAL, "a record over the size is refused");
	check(smtp_shim_outbox_read(0x0101, buf, sizeof(buf)) == 0, "  and nothing was stored");

	/* Replace (shorter and longer), other records untouched. */
	fill(buf, 50, 100);
	check(smtp_shim_outbox_write(0x0102, buf, 50) == 0, "write a second record");
	fill(buf, 12, 200);
	check(smtp_shim_outbox_write(0x0100, buf, 12) == 0, "replace the first with a shorter one");
	check(holds(0x0100, 12, 200), "  the first reads as the replacement");
	check(holds(0x0102, 50, 100), "  the second is untouched");
	fill(buf, 80, 33);
	check(smtp_shim_outbox_write(0x0100, buf, 80) == 0, "replace the first with a longer one");
	check(holds(0x0100, 80, 33), "  the first reads as the replacement");
	check(holds(0x0102, 50, 100), "  the second is untouched");

	/* Full: 256 bytes hold (4+80) + (4+50) = 138; 118 are free. */
	fill(buf, 100, 9);
	check(smtp_shim_outbox_write(0x0103, buf, 100) == 0, "a third record of 100 bytes fits (242 of 256 used)");
	check(smtp_shim_outbox_write(0x0104, buf, 20) == -ENOSPC, "a fourth does not: -ENOSPC");
	check(smtp_shim_outbox_read(0x0104, buf, sizeof(buf)) == 0, "  and nothing was stored");
	fill(buf, 95, 77);
	check(smtp_shim_outbox_write(0x0102, buf, 95) == -ENOSPC,
	      "replacing a record with one that does not fit is -ENOSPC");
	check(holds(0x0102, 50, 100), "  and the old record is still there, whole");
	fill(buf, 60, 5);
	check(smtp_shim_outbox_write(0x0102, buf, 60) == 0, "a replacement that fits in the freed room is taken");
	check(holds(0x0102, 60, 5) && holds(0x0100, 80, 33) && holds(0x0103, 100, 9),
	      "  every record reads as last written");

	/* Delete. */
	check(smtp_shim_outbox_delete(0x0100) == 0, "delete a record");
	check(smtp_shim_outbox_read(0x0100, buf, sizeof(buf)) == 0, "  it is gone");
	check(holds(0x0102, 60, 5) && holds(0x0103, 100, 9), "  the others are untouched");
	check(smtp_shim_outbox_delete(0x0100) == 0, "deleting a missing record is 0");
	fill(buf, 20, 3);
	check(smtp_shim_outbox_write(0x0104, buf, 20) == 0, "the freed room takes a new record");
	check(smtp_shim_outbox_delete(0x0102) == 0 && smtp_shim_outbox_delete(0x0103) == 0 &&
		      smtp_shim_outbox_delete(0x0104) == 0,
	      "delete everything");

	/* Claim. */
	check(smtp_shim_outbox_owner() == NULL, "no owner at first");
	check(smtp_shim_outbox_claim(NULL) == -EINVAL, "a NULL owner is refused");
	check(smtp_shim_outbox_claim(&owner_a) == 0, "the first claim is taken");
	check(smtp_shim_outbox_owner() == &owner_a, "  owner() names it");
	check(smtp_shim_outbox_claim(&owner_b) == -EBUSY, "a second owner gets -EBUSY");
	smtp_shim_outbox_release(&owner_b);
	check(smtp_shim_outbox_owner() == &owner_a, "a release by another than the owner changes nothing");
	smtp_shim_outbox_release(&owner_a);
	check(smtp_shim_outbox_owner() == NULL, "the owner's release frees it");
	check(smtp_shim_outbox_claim(&owner_b) == 0, "  then another may claim it");
	smtp_shim_outbox_release(&owner_b);

	/* Replaces seen whole by readers in other threads. */
	{
		pthread_t readers[2];
		uint8_t a[40];
		uint8_t b[90];
		int started = 1;

		memset(a, 'A', sizeof(a));
		memset(b, 'B', sizeof(b));
		(void)smtp_shim_outbox_write(0x0201, a, 30); /* a neighbour that moves on each replace */
		(void)smtp_shim_outbox_write(0x0200, a, sizeof(a));
		for (int i = 0; i < 2; i++) {
			started &= pthread_create(&readers[i], NULL, reader, NULL) == 0;
		}
		for (int i = 0; i < 20000 && started; i++) {
			(void)smtp_shim_outbox_write(0x0200, (i & 1) ? b : a, (i & 1) ? sizeof(b) : sizeof(a));
			(void)smtp_shim_outbox_write(0x0201, a, (size_t)(10 + i % 20));
		}
		stop_readers = 1;
		for (int i = 0; i < 2 && started; i++) {
			pthread_join(readers[i], NULL);
		}
		check(started && !torn, "readers in two threads see each replace whole (20000 replaces)");
	}

	printf("outbox_ram: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
