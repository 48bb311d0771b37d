/*
 * The run-time configuration store shared by the Zephyr shim and its POSIX twin:
 * smtp_shim_config_get() and smtp_shim_config_set() over defaults that are Kconfig's symbols,
 * CONFIG_SMTP_CLIENT_*, on both platforms: Zephyr's autoconf.h defines them, and build.rs
 * passes the same symbols to the POSIX twin (from Kconfig's defaults, or the .config and
 * ZSMTP_* overrides it was given). The platform locks and persists (smtp_shim_port.h);
 * smtp_cfg_store_loaded() is for its persistent-store loader.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_shim_port.h"

#define SMTP_CFG_MAX_DOMAIN CONFIG_SMTP_CLIENT_MAX_DOMAIN
#define SMTP_CFG_MAX_ADDRESS CONFIG_SMTP_CLIENT_MAX_ADDRESS
#define SMTP_CFG_MAX_USERNAME CONFIG_SMTP_CLIENT_MAX_USERNAME
#define SMTP_CFG_MAX_PASSWORD CONFIG_SMTP_CLIENT_MAX_PASSWORD
#define SMTP_CFG_DEF_SERVER CONFIG_SMTP_CLIENT_SERVER
#define SMTP_CFG_DEF_PORT CONFIG_SMTP_CLIENT_PORT
#define SMTP_CFG_DEF_DOMAIN CONFIG_SMTP_CLIENT_DOMAIN
#define SMTP_CFG_DEF_FROM CONFIG_SMTP_CLIENT_FROM
#define SMTP_CFG_DEF_USER CONFIG_SMTP_CLIENT_USERNAME
#define SMTP_CFG_DEF_PASSWORD CONFIG_SMTP_CLIENT_PASSWORD
#if defined(CONFIG_SMTP_CLIENT_AUTH_PLAIN)
#define SMTP_CFG_DEF_AUTH "plain"
#elif defined(CONFIG_SMTP_CLIENT_AUTH_LOGIN)
#define SMTP_CFG_DEF_AUTH "login"
#else
#define SMTP_CFG_DEF_AUTH "none"
#endif
#define SMTP_CFG_TIMEOUT_CONNECT CONFIG_SMTP_CLIENT_CONNECT_TIMEOUT_MS
#define SMTP_CFG_TIMEOUT_GREETING CONFIG_SMTP_CLIENT_GREETING_TIMEOUT_MS
#define SMTP_CFG_TIMEOUT_REPLY CONFIG_SMTP_CLIENT_REPLY_TIMEOUT_MS
#define SMTP_CFG_TIMEOUT_SEND CONFIG_SMTP_CLIENT_SEND_TIMEOUT_MS
#define SMTP_CFG_TIMEOUT_FINAL CONFIG_SMTP_CLIENT_FINAL_REPLY_TIMEOUT_MS
#define SMTP_CFG_TIMEOUT_TOTAL CONFIG_SMTP_CLIENT_TOTAL_TIMEOUT_MS
#if defined(CONFIG_SMTP_CLIENT_PIPELINING)
#define SMTP_CFG_PIPELINING 1
#else
#define SMTP_CFG_PIPELINING 0
#endif

enum smtp_cfg_kind {
	SMTP_CFG_HOST,   /* non-empty, no space or control character */
	SMTP_CFG_PORT,   /* 1..65535 in decimal */
	SMTP_CFG_ADDR,   /* no space or control character (may be empty) */
	SMTP_CFG_SECRET, /* no CR, LF or NUL (may be empty); never printed */
	SMTP_CFG_AUTH,   /* none | plain | login */
};

static char smtp_cfg_server[SMTP_CFG_MAX_DOMAIN + 1] = SMTP_CFG_DEF_SERVER;
static char smtp_cfg_port[6];
static char smtp_cfg_domain[SMTP_CFG_MAX_DOMAIN + 1] = SMTP_CFG_DEF_DOMAIN;
static char smtp_cfg_from[SMTP_CFG_MAX_ADDRESS + 1] = SMTP_CFG_DEF_FROM;
static char smtp_cfg_user[SMTP_CFG_MAX_USERNAME + 1] = SMTP_CFG_DEF_USER;
static char smtp_cfg_password[SMTP_CFG_MAX_PASSWORD + 1] = SMTP_CFG_DEF_PASSWORD;
static char smtp_cfg_auth[6] = SMTP_CFG_DEF_AUTH;

struct smtp_cfg_entry {
	const char *key;
	char *value;
	size_t size;
	enum smtp_cfg_kind kind;
};

static const struct smtp_cfg_entry smtp_cfg_entries[] = {
	{"server", smtp_cfg_server, sizeof(smtp_cfg_server), SMTP_CFG_HOST},
	{"port", smtp_cfg_port, sizeof(smtp_cfg_port), SMTP_CFG_PORT},
	{"domain", smtp_cfg_domain, sizeof(smtp_cfg_domain), SMTP_CFG_HOST},
	{"from", smtp_cfg_from, sizeof(smtp_cfg_from), SMTP_CFG_ADDR},
	{"user", smtp_cfg_user, sizeof(smtp_cfg_user), SMTP_CFG_SECRET},
	{"password", smtp_cfg_password, sizeof(smtp_cfg_password), SMTP_CFG_SECRET},
	{"auth", smtp_cfg_auth, sizeof(smtp_cfg_auth), SMTP_CFG_AUTH},
};

#define SMTP_CFG_ENTRY_COUNT (sizeof(smtp_cfg_entries) / sizeof(smtp_cfg_entries[0]))

struct smtp_cfg_number {
	const char *key;
	uint32_t value;
};

static const struct smtp_cfg_number smtp_cfg_numbers[] = {
	{"timeout_connect", SMTP_CFG_TIMEOUT_CONNECT},
	{"timeout_greeting", SMTP_CFG_TIMEOUT_GREETING},
	{"timeout_reply", SMTP_CFG_TIMEOUT_REPLY},
	{"timeout_send", SMTP_CFG_TIMEOUT_SEND},
	{"timeout_final", SMTP_CFG_TIMEOUT_FINAL},
	{"timeout_total", SMTP_CFG_TIMEOUT_TOTAL},
};

#define SMTP_CFG_NUMBER_COUNT (sizeof(smtp_cfg_numbers) / sizeof(smtp_cfg_numbers[0]))

static size_t smtp_cfg_decimal(uint32_t n, char out[11])
{
	char digits[10];
	size_t count = 0;
	size_t i;

	do {
		digits[count++] = (char)('0' + (n % 10U));
		n /= 10U;
	} while (n != 0U && count < sizeof(digits));
	for (i = 0; i < count; i++) {
		out[i] = digits[count - 1U - i];
	}
	out[count] = '\0';
	return count;
}

/* The port default is an int: render it once, on first use. */
static void smtp_cfg_defaults(void)
{
	if (smtp_cfg_port[0] == '\0') {
		char text[11];

		(void)smtp_cfg_decimal((uint32_t)(SMTP_CFG_DEF_PORT), text);
		memcpy(smtp_cfg_port, text, strlen(text) + 1U);
	}
}

static const struct smtp_cfg_entry *smtp_cfg_find(const char *key)
{
	size_t i;

	for (i = 0; i < SMTP_CFG_ENTRY_COUNT; i++) {
		if (strcmp(smtp_cfg_entries[i].key, key) == 0) {
			return &smtp_cfg_entries[i];
		}
	}
	return NULL;
}

/* Checks `value` (len bytes, not necessarily NUL-terminated) for an entry. */
static int smtp_cfg_check(const struct smtp_cfg_entry *e, const char *value, size_t len)
{
	size_t i;

	if (len + 1U > e->size) {
		return -ENAMETOOLONG;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '\0' || c == '\r' || c == '\n') {
			return -EINVAL;
		}
		if (e->kind != SMTP_CFG_SECRET && (c <= ' ' || c == 0x7f)) {
			return -EINVAL;
		}
	}
	switch (e->kind) {
	case SMTP_CFG_HOST:
		return len == 0U ? -EINVAL : 0;
	case SMTP_CFG_PORT: {
		uint32_t port = 0;

		if (len == 0U || len > 5U) {
			return -EINVAL;
		}
		for (i = 0; i < len; i++) {
			if (value[i] < '0' || value[i] > '9') {
				return -EINVAL;
			}
			port = port * 10U + (uint32_t)(value[i] - '0');
		}
		return (port >= 1U && port <= 65535U) ? 0 : -EINVAL;
	}
	case SMTP_CFG_AUTH:
		if ((len == 4U && memcmp(value, "none", 4) == 0) ||
		    (len == 5U && memcmp(value, "plain", 5) == 0) ||
		    (len == 5U && memcmp(value, "login", 5) == 0)) {
			return 0;
		}
		return -EINVAL;
	default:
		return 0;
	}
}

/* Stores a checked value (caller holds the lock). */
static void smtp_cfg_store(const struct smtp_cfg_entry *e, const char *value, size_t len)
{
	memcpy(e->value, value, len);
	e->value[len] = '\0';
}

/* A value found by the persistent store while loading (smtp_shim_port.h): checked like a set,
 * but not written back; on error the previous value stays. */
int smtp_cfg_store_loaded(const char *key, const char *value, size_t len)
{
	const struct smtp_cfg_entry *e = smtp_cfg_find(key);
	int rc;

	if (e == NULL) {
		return -ENOENT;
	}
	smtp_port_cfg_lock();
	smtp_cfg_defaults();
	rc = smtp_cfg_check(e, value, len);
	if (rc == 0) {
		smtp_cfg_store(e, value, len);
	}
	smtp_port_cfg_unlock();
	return rc;
}

int smtp_shim_config_get(const char *key, char *buf, size_t len)
{
	const struct smtp_cfg_entry *e;
	char number[11];
	const char *src = NULL;
	size_t n;
	size_t i;
	int rc;

	if (key == NULL || buf == NULL || len == 0U) {
		return -EINVAL;
	}
	buf[0] = '\0';
	for (i = 0; i < SMTP_CFG_NUMBER_COUNT; i++) {
		if (strcmp(smtp_cfg_numbers[i].key, key) == 0) {
			(void)smtp_cfg_decimal(smtp_cfg_numbers[i].value, number);
			src = number;
		}
	}
	if (strcmp(key, "pipelining") == 0) {
		src = (SMTP_CFG_PIPELINING) ? "y" : "n";
	}
	if (src != NULL) {
		n = strlen(src);
		if (n + 1U > len) {
			return -ENOSPC;
		}
		memcpy(buf, src, n + 1U);
		return (int)n;
	}

	e = smtp_cfg_find(key);
	if (e == NULL) {
		return -ENOENT;
	}
	smtp_port_cfg_lock();
	smtp_cfg_defaults();
	n = strlen(e->value);
	if (n + 1U > len) {
		rc = -ENOSPC;
	} else {
		memcpy(buf, e->value, n + 1U);
		rc = (int)n;
	}
	smtp_port_cfg_unlock();
	return rc;
}

int smtp_shim_config_set(const char *key, const char *value)
{
	const struct smtp_cfg_entry *e;
	size_t len;
	size_t i;
	int rc;

	if (key == NULL || value == NULL) {
		return -EINVAL;
	}
	for (i = 0; i < SMTP_CFG_NUMBER_COUNT; i++) {
		if (strcmp(smtp_cfg_numbers[i].key, key) == 0) {
			return -EACCES;
		}
	}
	if (strcmp(key, "pipelining") == 0) {
		return -EACCES;
	}
	e = smtp_cfg_find(key);
	if (e == NULL) {
		return -ENOENT;
	}
	len = strlen(value);
	rc = smtp_cfg_check(e, value, len);
	if (rc != 0) {
		return rc;
	}
	/*
	 * Persist without holding the store's lock: the settings subsystem calls back into
	 * smtp_cfg_store_loaded() (which takes that lock) while holding its own lock, so holding
	 * ours around settings_save_one() could deadlock against a concurrent load.
	 */
	rc = smtp_port_cfg_persist(key, value, len);
	if (rc != 0) {
		return rc;
	}
	smtp_port_cfg_lock();
	smtp_cfg_defaults();
	smtp_cfg_store(e, value, len);
	smtp_port_cfg_unlock();
	return 0;
}
