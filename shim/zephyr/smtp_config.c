/*
 * Run-time configuration of the SMTP client on Zephyr: the store itself is
 * shim/common/smtp_config_store.c, with Kconfig's values as the defaults; this file gives it its
 * lock and, with CONFIG_SMTP_CLIENT_SETTINGS=y, the settings subsystem, which overrides the
 * defaults under "smtp/<key>" and where smtp_shim_config_set() persists new values.
 *
 * The handler is a dynamic struct settings_handler registered with settings_register() and
 * filled with designated initialisers (include/zephyr/settings/settings.h): the layout of
 * SETTINGS_STATIC_HANDLER_DEFINE's static handler changed across Zephyr versions, the dynamic
 * structure's named fields (name, h_set) did not.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/util.h>

#if defined(CONFIG_SMTP_CLIENT_SETTINGS)
#include <zephyr/settings/settings.h>
#endif

#include "smtp_shim_port.h"

LOG_MODULE_DECLARE(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

/* A Kconfig string longer than its limit would only draw a compiler warning (and be cut off
 * without its NUL): stop the build instead, naming the option to change. */
BUILD_ASSERT(sizeof(CONFIG_SMTP_CLIENT_SERVER) <= CONFIG_SMTP_CLIENT_MAX_DOMAIN + 1,
	     "CONFIG_SMTP_CLIENT_SERVER is longer than CONFIG_SMTP_CLIENT_MAX_DOMAIN");
BUILD_ASSERT(sizeof(CONFIG_SMTP_CLIENT_DOMAIN) <= CONFIG_SMTP_CLIENT_MAX_DOMAIN + 1,
	     "CONFIG_SMTP_CLIENT_DOMAIN is longer than CONFIG_SMTP_CLIENT_MAX_DOMAIN");
BUILD_ASSERT(sizeof(CONFIG_SMTP_CLIENT_FROM) <= CONFIG_SMTP_CLIENT_MAX_ADDRESS + 1,
	     "CONFIG_SMTP_CLIENT_FROM is longer than CONFIG_SMTP_CLIENT_MAX_ADDRESS");
BUILD_ASSERT(sizeof(CONFIG_SMTP_CLIENT_USERNAME) <= CONFIG_SMTP_CLIENT_MAX_USERNAME + 1,
	     "CONFIG_SMTP_CLIENT_USERNAME is longer than CONFIG_SMTP_CLIENT_MAX_USERNAME");
BUILD_ASSERT(sizeof(CONFIG_SMTP_CLIENT_PASSWORD) <= CONFIG_SMTP_CLIENT_MAX_PASSWORD + 1,
	     "CONFIG_SMTP_CLIENT_PASSWORD is longer than CONFIG_SMTP_CLIENT_MAX_PASSWORD");

K_MUTEX_DEFINE(smtp_cfg_mutex);

void smtp_port_cfg_lock(void)
{
	(void)k_mutex_lock(&smtp_cfg_mutex, K_FOREVER);
}

void smtp_port_cfg_unlock(void)
{
	(void)k_mutex_unlock(&smtp_cfg_mutex);
}

/*
 * settings_save_one() with no bytes deletes the key (include/zephyr/settings/settings.h: a
 * zero-length value reads as deleted), so after a reboot the Kconfig default would be back.
 * An empty value is stored as one NUL byte instead, which no value can contain
 * (the store refuses NUL in values), and read back as empty by smtp_settings_set().
 */
#if defined(CONFIG_SMTP_CLIENT_SETTINGS)
static const char smtp_cfg_empty_value[1] = {'\0'};
#endif

int smtp_port_cfg_persist(const char *key, const char *value, size_t len)
{
#if defined(CONFIG_SMTP_CLIENT_SETTINGS)
	char name[sizeof("smtp/") + 16];
	int rc;

	(void)snprintk(name, sizeof(name), "smtp/%s", key);
	rc = len == 0U ? settings_save_one(name, smtp_cfg_empty_value, sizeof(smtp_cfg_empty_value))
		       : settings_save_one(name, value, len);
	if (rc != 0) {
		LOG_WRN("saving %s failed: %d", name, rc);
	}
	return rc;
#else
	ARG_UNUSED(key);
	ARG_UNUSED(value);
	ARG_UNUSED(len);
	return 0;
#endif
}

#if defined(CONFIG_SMTP_CLIENT_SETTINGS)

/* Longest value any key can hold, plus its NUL. */
#define SMTP_CFG_VALUE_MAX                                                                         \
	MAX(MAX(CONFIG_SMTP_CLIENT_MAX_DOMAIN, CONFIG_SMTP_CLIENT_MAX_ADDRESS),                    \
	    MAX(CONFIG_SMTP_CLIENT_MAX_USERNAME, CONFIG_SMTP_CLIENT_MAX_PASSWORD))

static int smtp_settings_set(const char *key, size_t len, settings_read_cb read_cb, void *cb_arg)
{
	char value[SMTP_CFG_VALUE_MAX + 1];
	const char *next;
	ssize_t n;
	int rc;

	/* Only leaf keys directly under smtp/ are ours. */
	if (settings_name_next(key, &next) == 0 || next != NULL) {
		return -ENOENT;
	}
	if (len > SMTP_CFG_VALUE_MAX) {
		LOG_WRN("stored smtp/%s is too long, ignored", key);
		return 0;
	}
	n = read_cb(cb_arg, value, len);
	if (n < 0) {
		return (int)n;
	}
	if (n == (ssize_t)sizeof(smtp_cfg_empty_value) && value[0] == '\0') {
		n = 0; /* an empty value (smtp_port_cfg_persist()) */
	}
	rc = smtp_cfg_store_loaded(key, value, (size_t)n);
	if (rc != 0) {
		/* Never print the value: it may be the password. */
		LOG_WRN("stored smtp/%s ignored (%d)", key, rc);
	}
	return 0;
}

static struct settings_handler smtp_settings_handler = {
	.name = "smtp",
	.h_set = smtp_settings_set,
};

K_MUTEX_DEFINE(smtp_load_mutex);
static bool smtp_settings_registered;
static bool smtp_settings_loaded;

int smtp_shim_config_load(void)
{
	int rc = 0;

	(void)k_mutex_lock(&smtp_load_mutex, K_FOREVER);
	if (!smtp_settings_loaded) {
		rc = settings_subsys_init();
		if (rc == 0 && !smtp_settings_registered) {
			rc = settings_register(&smtp_settings_handler);
			smtp_settings_registered = (rc == 0);
		}
		if (rc == 0) {
			rc = settings_load_subtree("smtp");
		}
		if (rc == 0) {
			smtp_settings_loaded = true;
		} else {
			LOG_ERR("loading smtp settings failed: %d (Kconfig defaults in force)", rc);
		}
	}
	(void)k_mutex_unlock(&smtp_load_mutex);
	return rc;
}

#else /* !CONFIG_SMTP_CLIENT_SETTINGS */

int smtp_shim_config_load(void)
{
	return 0;
}

#endif /* CONFIG_SMTP_CLIENT_SETTINGS */
