/*
 * What zephyr-lang-rust's main.c gives a Rust application, for C applications that link the
 * module's NetX-compatible static library instead (CONFIG_SMTP_CLIENT_NETX_API). main.c cannot be
 * used there: it also defines main(), which a C application has. Follows main.c of
 * zephyr-lang-rust (rust_panic_wrap, rust_log_message under the same conditions), pinned in
 * west.yml.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <stdint.h>

#include <zephyr/init.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

LOG_MODULE_DECLARE(smtp_client, CONFIG_SMTP_CLIENT_LOG_LEVEL);

/* The zephyr crate's panic handler ends in this (zephyr/src/lib.rs). */
void rust_panic_wrap(void)
{
	k_panic();
}

#if defined(CONFIG_LOG) && !defined(CONFIG_LOG_MINIMAL)
/* The zephyr crate's Zephyr-log backend (zephyr/src/logging/impl_zlog.rs) calls this. */
void rust_log_message(uint32_t level, char *msg)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		LOG_ERR("%s", msg);
		break;
	case LOG_LEVEL_WRN:
		LOG_WRN("%s", msg);
		break;
	case LOG_LEVEL_INF:
		LOG_INF("%s", msg);
		break;
	default:
		LOG_DBG("%s", msg);
		break;
	}
}
#endif

/* Defined by the static library crate (zephyr/c-lib/src/lib.rs): installs the log backend. */
extern void zsmtp_c_library_init(void);

static int smtp_c_library_init(void)
{
	zsmtp_c_library_init();
	return 0;
}

SYS_INIT(smtp_c_library_init, APPLICATION, CONFIG_APPLICATION_INIT_PRIORITY);
