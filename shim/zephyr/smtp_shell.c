/*
 * Shell commands of the SMTP client (CONFIG_SMTP_CLIENT_SHELL):
 *   smtp config show              every key; the password is masked
 *   smtp config set KEY VALUE     checks, stores and (with settings) persists a value
 *   smtp send TO SUBJECT LINE...  sends one mail with the run-time configuration; each LINE
 *                                 argument is one line of the body
 *   smtp send --attach PATH TO SUBJECT LINE...
 *                                 the same with the file PATH attached, streamed from Zephyr's
 *                                 file system (CONFIG_SMTP_CLIENT_ATTACHMENTS, CONFIG_FILE_SYSTEM)
 *   smtp outbox list              one line per queued mail, in delivery order: ID STATE ATTEMPTS
 *                                 REPLY (state queued, retrying, unknown or failed; the last
 *                                 reply's code and text, "-" before any attempt)
 *   smtp outbox flush             delivers what is queued now, in the shell thread
 *                                 (nx_smtp_outbox_flush), and says how many mails remain
 *   smtp outbox drop ID           removes one mail, whatever its state (a failed one seen)
 * The outbox commands (CONFIG_SMTP_CLIENT_OUTBOX with CONFIG_SMTP_CLIENT_NETX_API, the C API)
 * work on the NX_SMTP_OUTBOX that owns the module's outbox storage (smtp_shim_outbox_owner(),
 * claimed by nx_smtp_outbox_create); before one is created they say so.
 * Macros and handler signature: include/zephyr/shell/shell.h (SHELL_STATIC_SUBCMD_SET_CREATE,
 * SHELL_CMD_ARG, SHELL_SUBCMD_SET_END, SHELL_CMD_REGISTER, shell_print, shell_error);
 * include/zephyr/shell/shell_string_conv.h (shell_strtoul, through shell.h).
 * Files: include/zephyr/fs/fs.h (fs_file_t_init, fs_stat, fs_open with FS_O_READ, fs_read,
 * fs_close; struct fs_dirent's type and size).
 * `smtp send` and `smtp outbox flush` run in the shell thread: CONFIG_SHELL_STACK_SIZE must hold
 * the client (see Kconfig help of SMTP_CLIENT_SHELL).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/shell/shell.h>
#include <zephyr/sys/util.h>

#include "smtp_shim.h"

/* NetX Duo's NX_SMTP_INVALID_PARAM (the shell does not include the NetX header). */
#define NX_SMTP_INVALID_PARAM_STATUS 0xA5U

#if defined(CONFIG_SMTP_CLIENT_ATTACHMENTS) && defined(CONFIG_FILE_SYSTEM)
#include <zephyr/fs/fs.h>
#define SMTP_SHELL_ATTACH 1
/* The arguments "--attach PATH" before TO. */
#define SMTP_SHELL_ATTACH_ARGS 2
#else
#define SMTP_SHELL_ATTACH 0
#define SMTP_SHELL_ATTACH_ARGS 0
#endif

#if defined(CONFIG_SMTP_CLIENT_OUTBOX) && defined(CONFIG_SMTP_CLIENT_NETX_API)
#include "nxd_smtp_client.h"
#define SMTP_SHELL_OUTBOX 1
#else
#define SMTP_SHELL_OUTBOX 0
#endif

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

#if SMTP_SHELL_ATTACH
/* zsmtp_shim_read_fn over an open file of Zephyr's file system. */
static int smtp_shell_read_file(void *context, uint8_t *buf, size_t len)
{
	ssize_t n = fs_read((struct fs_file_t *)context, buf, len);

	return n < 0 ? (int)n : (int)MIN((size_t)n, (size_t)INT_MAX);
}

/* The size of the regular file `path`, or a negative errno (-EISDIR for anything else). Its
 * own frame: struct fs_dirent holds a whole file name, and must not stay on the shell thread's
 * stack during the send. */
static __attribute__((noinline)) int smtp_shell_file_size(const char *path, size_t *size)
{
	struct fs_dirent entry;
	int rc = fs_stat(path, &entry);

	if (rc < 0) {
		return rc;
	}
	if (entry.type != FS_DIR_ENTRY_FILE) {
		return -EISDIR;
	}
	*size = entry.size;
	return 0;
}

/* Sends with the file `path` attached: its last path component names it. */
static uint32_t smtp_shell_send_attached(const struct shell *sh, const char *path, const char *to,
					 const char *subject, const uint8_t *body, size_t len,
					 char *reply, size_t reply_len)
{
	struct fs_file_t file;
	const char *name = strrchr(path, '/');
	size_t size = 0;
	uint32_t status;
	int rc;

	name = name != NULL ? name + 1 : path;
	rc = smtp_shell_file_size(path, &size);
	if (rc < 0) {
		shell_error(sh, "smtp send: --attach %s: not a readable file (%d)", path, rc);
		return NX_SMTP_INVALID_PARAM_STATUS;
	}
	fs_file_t_init(&file);
	rc = fs_open(&file, path, FS_O_READ);
	if (rc < 0) {
		shell_error(sh, "smtp send: --attach %s: cannot open (%d)", path, rc);
		return NX_SMTP_INVALID_PARAM_STATUS;
	}
	status = zsmtp_shim_send_mail_attached(to, subject, body, len, name, smtp_shell_read_file,
					       &file, (uint64_t)size, reply, reply_len);
	(void)fs_close(&file);
	return status;
}
#endif

static int cmd_smtp_send(const struct shell *sh, size_t argc, char **argv)
{
	/* The body: the arguments after TO and SUBJECT, one per line (the shell's own line is at
	 * most this long). */
	char body[CONFIG_SHELL_CMD_BUFF_SIZE];
	char reply[160] = "";
	const char *attach = NULL;
	size_t first = 1;
	size_t len = 0;
	size_t i;
	uint32_t status;

	if (strcmp(argv[1], "--attach") == 0) {
		if (!SMTP_SHELL_ATTACH) {
			shell_error(sh, "smtp send: --attach needs CONFIG_SMTP_CLIENT_ATTACHMENTS "
					"and CONFIG_FILE_SYSTEM");
			return -ENOTSUP;
		}
		if (argc < 6) {
			shell_error(sh, "smtp send: --attach PATH TO SUBJECT LINE...");
			return -EINVAL;
		}
		attach = argv[2];
		first = 3;
	}
	for (i = first + 2; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 1U > sizeof(body)) {
			shell_error(sh, "smtp send: body too long");
			return -ENOMEM;
		}
		memcpy(&body[len], argv[i], n);
		len += n;
		body[len++] = '\n';
	}
	if (attach != NULL) {
#if SMTP_SHELL_ATTACH
		status = smtp_shell_send_attached(sh, attach, argv[first], argv[first + 1],
						  (const uint8_t *)body, len, reply, sizeof(reply));
		if (status == NX_SMTP_INVALID_PARAM_STATUS && reply[0] == '\0') {
			return -EINVAL;
		}
#else
		status = NX_SMTP_INVALID_PARAM_STATUS;
#endif
	} else {
		status = zsmtp_shim_send_mail(argv[first], argv[first + 1], (const uint8_t *)body,
					      len, reply, sizeof(reply));
	}
	if (status == 0U) {
		shell_print(sh, "smtp send: OK %s", reply);
		return 0;
	}
	shell_error(sh, "smtp send: FAILED 0x%02X %s", (unsigned int)status, reply);
	return -EIO;
}

#if SMTP_SHELL_OUTBOX
/* The outbox that owns the module's storage, or NULL (said on the shell). */
static NX_SMTP_OUTBOX *smtp_shell_outbox(const struct shell *sh, const char *command)
{
	NX_SMTP_OUTBOX *outbox = smtp_shim_outbox_owner();

	if (outbox == NULL) {
		shell_error(sh, "smtp outbox %s: no outbox created (nx_smtp_outbox_create)", command);
	}
	return outbox;
}

static const char *smtp_shell_outbox_state(UINT state)
{
	switch (state) {
	case NX_SMTP_OUTBOX_QUEUED:
		return "queued";
	case NX_SMTP_OUTBOX_RETRYING:
		return "retrying";
	case NX_SMTP_OUTBOX_UNKNOWN:
		return "unknown";
	case NX_SMTP_OUTBOX_FAILED:
		return "failed";
	default:
		return "?";
	}
}

/* One line per mail, as smtp-send --list prints it: ID STATE ATTEMPTS REPLY. Called under the
 * outbox's lock: it only prints. */
static void smtp_shell_outbox_line(void *context, const NX_SMTP_OUTBOX_MAIL *mail)
{
	const struct shell *sh = context;
	const char *state = smtp_shell_outbox_state(mail->nx_smtp_outbox_state);

	if (mail->nx_smtp_outbox_reply_code != 0U) {
		shell_print(sh, "%lu %s %u %u %s", (unsigned long)mail->nx_smtp_outbox_mail_id, state,
			    mail->nx_smtp_outbox_attempts, mail->nx_smtp_outbox_reply_code,
			    mail->nx_smtp_outbox_reply_text);
	} else {
		shell_print(sh, "%lu %s %u %s", (unsigned long)mail->nx_smtp_outbox_mail_id, state,
			    mail->nx_smtp_outbox_attempts,
			    mail->nx_smtp_outbox_reply_text[0] != '\0' ? mail->nx_smtp_outbox_reply_text
								     : "-");
	}
}

static int cmd_smtp_outbox_list(const struct shell *sh, size_t argc, char **argv)
{
	NX_SMTP_OUTBOX *outbox = smtp_shell_outbox(sh, "list");
	UINT mails = 0;
	UINT status;

	ARG_UNUSED(argc);
	ARG_UNUSED(argv);
	if (outbox == NULL) {
		return -ENOENT;
	}
	status = nx_smtp_outbox_list(outbox, smtp_shell_outbox_line, (void *)sh, &mails);
	if (status != NX_SUCCESS) {
		shell_error(sh, "smtp outbox list: FAILED 0x%02X", status);
		return -EIO;
	}
	shell_print(sh, "smtp outbox: %u mail(s)", mails);
	return 0;
}

static int cmd_smtp_outbox_flush(const struct shell *sh, size_t argc, char **argv)
{
	NX_SMTP_OUTBOX *outbox = smtp_shell_outbox(sh, "flush");
	UINT mails = 0;
	UINT status;

	ARG_UNUSED(argc);
	ARG_UNUSED(argv);
	if (outbox == NULL) {
		return -ENOENT;
	}
	status = nx_smtp_outbox_flush(outbox);
	(void)nx_smtp_outbox_list(outbox, NULL, NULL, &mails);
	if (status != NX_SUCCESS) {
		shell_error(sh, "smtp outbox flush: FAILED 0x%02X, %u mail(s) remain", status, mails);
		return -EIO;
	}
	shell_print(sh, "smtp outbox flush: OK, %u mail(s) remain", mails);
	return 0;
}

static int cmd_smtp_outbox_drop(const struct shell *sh, size_t argc, char **argv)
{
	NX_SMTP_OUTBOX *outbox;
	unsigned long id;
	UINT status;
	int err = 0;

	ARG_UNUSED(argc);
	id = shell_strtoul(argv[1], 10, &err);
	if (err != 0) {
		shell_error(sh, "smtp outbox drop: %s is not a mail id", argv[1]);
		return -EINVAL;
	}
	outbox = smtp_shell_outbox(sh, "drop");
	if (outbox == NULL) {
		return -ENOENT;
	}
	status = nx_smtp_outbox_drop(outbox, (ULONG)id);
	switch (status) {
	case NX_SUCCESS:
		shell_print(sh, "smtp outbox drop: %lu dropped", id);
		return 0;
	case NX_SMTP_OUTBOX_NOT_FOUND:
		shell_error(sh, "smtp outbox drop: no mail %lu", id);
		return -ENOENT;
	case NX_SMTP_OUTBOX_BUSY:
		shell_error(sh, "smtp outbox drop: mail %lu is being sent; try again", id);
		return -EBUSY;
	default:
		shell_error(sh, "smtp outbox drop: FAILED 0x%02X", status);
		return -EIO;
	}
}

SHELL_STATIC_SUBCMD_SET_CREATE(sub_smtp_outbox,
	SHELL_CMD_ARG(list, NULL, "List the queued mails: ID STATE ATTEMPTS REPLY",
		      cmd_smtp_outbox_list, 1, 0),
	SHELL_CMD_ARG(flush, NULL,
		      "Deliver what is queued now (in the shell thread) and say how many remain",
		      cmd_smtp_outbox_flush, 1, 0),
	SHELL_CMD_ARG(drop, NULL, "Remove one mail: drop <id>", cmd_smtp_outbox_drop, 2, 0),
	SHELL_SUBCMD_SET_END);

/* The "smtp outbox" entry of the command set below (nothing without the outbox). */
#define SMTP_SHELL_OUTBOX_ENTRY                                                                    \
	SHELL_CMD(outbox, &sub_smtp_outbox, "Queued mails: list, flush, drop <id>", NULL),
#else
#define SMTP_SHELL_OUTBOX_ENTRY
#endif

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
	SHELL_CMD_ARG(send, NULL,
		      "Send a mail: send [--attach <path>] <to> <subject> <line> [<line>...] "
		      "(quote each argument that holds spaces; each line argument is one line of "
		      "the body; --attach streams a file of the file system as an attachment)",
		      cmd_smtp_send, 4, 12 + SMTP_SHELL_ATTACH_ARGS),
	SMTP_SHELL_OUTBOX_ENTRY
	SHELL_SUBCMD_SET_END);

SHELL_CMD_REGISTER(smtp, &sub_smtp, "SMTP client (zsmtp)", NULL);
