/*
 * The shell's outbox commands (shim/zephyr/smtp_shell.c: smtp outbox list|flush|drop) run on the
 * host: the file is compiled against zephyr/check/stub-include, its command table is walked
 * as Zephyr's shell would, and each handler runs against the outbox's C API in the zsock-shim
 * library (the POSIX twin: records in $ZSMTP_OUTBOX_DIR, the delivery thread idle with the
 * network down). Checks what each command prints and returns, before an outbox exists and with
 * one; the flush delivers to the test Postfix on 127.0.0.1:2525 (run.sh looks for the mail).
 *
 *   shell_outbox OUTBOX_DIR SUBJECT
 *
 * Prints PASS/FAIL lines and "shell_outbox: N passed, M failed".
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/shell/shell.h>

#include "nxd_smtp_client.h"

/* The command table smtp_shell.c registers (the stub's SHELL_CMD_REGISTER). */
extern const void *const stub_shell_root_smtp;
/* The POSIX twin's test hook (shim/posix/smtp_outbox_worker.c). */
void smtp_shim_posix_network_set(bool up);

static char output[4096];
static size_t output_len;
static int passed, failed;

static void shell_append(const char *prefix, const char *fmt, va_list ap)
{
	int n = snprintf(output + output_len, sizeof(output) - output_len, "%s", prefix);

	if (n > 0) {
		output_len += (size_t)n;
	}
	n = vsnprintf(output + output_len, sizeof(output) - output_len, fmt, ap);
	if (n > 0) {
		output_len = output_len + (size_t)n < sizeof(output) ? output_len + (size_t)n : sizeof(output) - 1;
	}
}

void shell_fprintf_normal(const struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	(void)sh;
	va_start(ap, fmt);
	shell_append("", fmt, ap);
	va_end(ap);
}

void shell_fprintf_error(const struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	(void)sh;
	va_start(ap, fmt);
	shell_append("error: ", fmt, ap);
	va_end(ap);
}

/* As Zephyr's: the whole string a number in the base, else *err = -EINVAL. */
unsigned long shell_strtoul(const char *str, int base, int *err)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(str, &end, base);
	if (errno != 0 || end == str || *end != '\0' || str[0] == '-') {
		*err = -EINVAL;
		return 0;
	}
	return value;
}

static const struct shell_static_entry *find(const struct shell_static_entry *set, const char *name)
{
	for (; set->syntax != NULL; set++) {
		if (strcmp(set->syntax, name) == 0) {
			return set;
		}
	}
	return NULL;
}

/* Runs "smtp outbox ARGS..." as the shell would: the handler with argv from the subcommand. */
static int run(int argc, char **argv)
{
	const struct shell_static_entry *outbox = find(stub_shell_root_smtp, "outbox");
	const struct shell_static_entry *command;
	struct shell sh = {0};

	output_len = 0;
	output[0] = '\0';
	if (outbox == NULL || outbox->subcmd == NULL || (command = find(outbox->subcmd, argv[0])) == NULL) {
		snprintf(output, sizeof(output), "no such command\n");
		return -ENOEXEC;
	}
	if ((unsigned)argc < command->mandatory) {
		snprintf(output, sizeof(output), "too few arguments\n");
		return -EINVAL;
	}
	return command->handler(&sh, (size_t)argc, argv);
}

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	if (!ok) {
		printf("  output: %s", output);
	}
	ok ? passed++ : failed++;
}

static NX_SMTP_CLIENT client;
static NX_SMTP_OUTBOX outbox;

int main(int argc, char **argv)
{
	char *list[] = {"list"};
	char *flush[] = {"flush"};
	char *drop_word[] = {"drop", "seven"};
	char *drop_none[] = {"drop", "99999"};
	char drop_arg[24];
	char *drop_first[] = {"drop", drop_arg};
	char line[96];
	NX_IP ip;
	NX_PACKET_POOL pool;
	NXD_ADDRESS server;
	ULONG first = 0, second = 0;
	static char body[] = "Sensor 3 reads 92.5 C.\r\n";
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: shell_outbox OUTBOX_DIR SUBJECT\n");
		return 2;
	}
	setenv("ZSMTP_OUTBOX_DIR", argv[1], 1);
	smtp_shim_posix_network_set(false);

	rc = run(1, list);
	check(rc == -ENOENT && strstr(output, "error: smtp outbox list: no outbox created") != NULL,
	      "list before nx_smtp_outbox_create says there is no outbox");

	server.nxd_ip_version = NX_IP_VERSION_V4;
	server.nxd_ip_address.v4 = IP_ADDRESS(127, 0, 0, 1);
	check(nxd_smtp_client_create(&client, &ip, &pool, "alice", "secret123", "<alice@example.test>",
				     "device.example.test", NX_SMTP_CLIENT_AUTH_LOGIN, &server, 2525) == NX_SUCCESS,
	      "nxd_smtp_client_create");
	check(nx_smtp_outbox_create(&outbox, &client) == NX_SUCCESS, "nx_smtp_outbox_create");
	check(nx_smtp_mail_queue(&outbox, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_HIGH, argv[2], body,
				 sizeof(body) - 1, &first) == NX_SUCCESS &&
		      nx_smtp_mail_queue(&outbox, "<bob@example.test>", NX_SMTP_MAIL_PRIORITY_NORMAL, "dropped", body,
					 sizeof(body) - 1, &second) == NX_SUCCESS,
	      "two mails queued");

	rc = run(1, list);
	snprintf(line, sizeof(line), "%lu queued 0 -\n%lu queued 0 -\nsmtp outbox: 2 mail(s)\n",
		 (unsigned long)first, (unsigned long)second);
	check(rc == 0 && strcmp(output, line) == 0, "list: one line per mail (id, state, attempts, reply), then the count");

	rc = run(2, drop_word);
	check(rc == -EINVAL && strstr(output, "error: smtp outbox drop: seven is not a mail id") != NULL,
	      "drop of a word is refused");
	rc = run(2, drop_none);
	check(rc == -ENOENT && strstr(output, "error: smtp outbox drop: no mail 99999") != NULL,
	      "drop of a mail that is not there");
	snprintf(drop_arg, sizeof(drop_arg), "%lu", (unsigned long)second);
	rc = run(2, drop_first);
	snprintf(line, sizeof(line), "smtp outbox drop: %lu dropped\n", (unsigned long)second);
	check(rc == 0 && strcmp(output, line) == 0, "drop of a queued mail");

	rc = run(1, flush);
	check(rc == 0 && strcmp(output, "smtp outbox flush: OK, 0 mail(s) remain\n") == 0,
	      "flush delivers in the shell thread and says none remain");
	rc = run(1, list);
	check(rc == 0 && strcmp(output, "smtp outbox: 0 mail(s)\n") == 0, "list after the flush: empty");

	check(nx_smtp_outbox_delete(&outbox) == NX_SUCCESS, "nx_smtp_outbox_delete");
	rc = run(1, flush);
	check(rc != 0 && strstr(output, "no outbox created") != NULL, "flush after delete says there is no outbox");
	(void)nx_smtp_client_delete(&client);
	printf("shell_outbox: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
