/*
 * Shell commands of the SMTP client (CONFIG_SMTP_CLIENT_SHELL):
 *   smtp config show              every key; the password is masked
 *   smtp config set KEY VALUE     checks, stores and (with settings) persists a value
 *   smtp send TO SUBJECT BODY     sends one mail with the run-time configuration; in BODY the two
 *                                 characters \n stand for a line break
 * Macros and handler signature: include/zephyr/shell/shell.h (SHELL_STATIC_SUBCMD_SET_CREATE,
 * SHELL_CMD_ARG, SHELL_SUBCMD_SET_END, SHELL_CMD_REGISTER, shell_print, shell_error).
 * `smtp send` runs in the shell thread: CONFIG_SHELL_STACK_SIZE must hold the client
 * (see Kconfig help of SMTP_CLIENT_SHELL).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/shell/shell.h>

#include "smtp_shim.h"

static const char *const smtp_shell_keys[] = {
	"server", "port", "domain", "from", "user", "password", "auth",
	"timeout_connect", "timeout_greeting", "timeout_reply", "timeout_send",
	"timeout_final", "timeout_total", "pipelining",
};

static const char *smtp_shell_error(int rc)
{
	switch (-rc) {
	case ENOENT:
		return "unknown key";
	case EACCES:
		return "read-only (set it in Kconfig)";
	case EINVAL:
		return "invalid value";
	case ENAMETOOLONG:
		return "too long for the configured maximum";
	default:
		return "could not be stored";
	}
}

static int cmd_smtp_config_show(const struct shell *sh, size_t argc, char **argv)
{
	/* Big enough for any value: MAX(domain, address, username, password) + NUL. */
	char value[MAX(MAX(CONFIG_SMTP_CLIENT_MAX_DOMAIN, CONFIG_SMTP_CLIENT_MAX_ADDRESS),
		       MAX(CONFIG_SMTP_CLIENT_MAX_USERNAME, CONFIG_SMTP_CLIENT_MAX_PASSWORD)) + 1];
	size_t i;

	ARG_UNUSED(argc);
	ARG_UNUSED(argv);
	(void)smtp_shim_config_load();
	for (i = 0; i < ARRAY_SIZE(smtp_shell_keys); i++) {
		int rc = smtp_shim_config_get(smtp_shell_keys[i], value, sizeof(value));

		if (rc < 0) {
			shell_print(sh, "%-16s <%d>", smtp_shell_keys[i], rc);
		} else if (strcmp(smtp_shell_keys[i], "password") == 0) {
			shell_print(sh, "%-16s %s", smtp_shell_keys[i], rc > 0 ? "********" : "(empty)");
		} else {
			shell_print(sh, "%-16s %s", smtp_shell_keys[i], value);
		}
	}
	memset(value, 0, sizeof(value));
	return 0;
}

static int cmd_smtp_config_set(const struct shell *sh, size_t argc, char **argv)
{
	int rc;

	ARG_UNUSED(argc);
	(void)smtp_shim_config_load();
	rc = smtp_shim_config_set(argv[1], argv[2]);
	if (rc != 0) {
		shell_error(sh, "smtp config: %s: %s (%d)", argv[1], smtp_shell_error(rc), rc);
		return rc;
	}
	shell_print(sh, "smtp config: %s set", argv[1]);
	return 0;
}

/* Turns the two characters \n into a line break, in place. */
static size_t smtp_shell_unescape(char *text)
{
	size_t r = 0;
	size_t w = 0;

	while (text[r] != '\0') {
		if (text[r] == '\\' && text[r + 1] == 'n') {
			text[w++] = '\n';
			r += 2;
		} else {
			text[w++] = text[r++];
		}
	}
	text[w] = '\0';
	return w;
}

static int cmd_smtp_send(const struct shell *sh, size_t argc, char **argv)
{
	char reply[160];
	size_t body_len;
	uint32_t status;

	ARG_UNUSED(argc);
	body_len = smtp_shell_unescape(argv[3]);
	status = zsmtp_shim_send_mail(argv[1], argv[2], (const uint8_t *)argv[3], body_len, reply,
				      sizeof(reply));
	if (status == 0U) {
		shell_print(sh, "smtp send: OK %s", reply);
		return 0;
	}
	shell_error(sh, "smtp send: FAILED 0x%02X %s", (unsigned int)status, reply);
	return -EIO;
}

SHELL_STATIC_SUBCMD_SET_CREATE(sub_smtp_config,
	SHELL_CMD_ARG(show, NULL, "Show the configuration (password masked)",
		      cmd_smtp_config_show, 1, 0),
	SHELL_CMD_ARG(set, NULL,
		      "Set and persist a value: set <server|port|domain|from|user|password|auth> "
		      "<value>",
		      cmd_smtp_config_set, 3, 0),
	SHELL_SUBCMD_SET_END);

SHELL_STATIC_SUBCMD_SET_CREATE(sub_smtp,
	SHELL_CMD(config, &sub_smtp_config, "Run-time configuration", NULL),
	SHELL_CMD_ARG(send, NULL, "Send a mail: send <to> <subject> <body> (\\n = line break)",
		      cmd_smtp_send, 4, 0),
	SHELL_SUBCMD_SET_END);

SHELL_CMD_REGISTER(smtp, &sub_smtp, "SMTP client (zsmtp)", NULL);
