"""Helpers of the end-to-end tests of the smtp-send CLI (fixtures are in conftest.py).

Servers come from scripts/servers/start-all.sh (scripts/test starts them):
  Postfix  127.0.0.1:2525  plain, AUTH PLAIN/LOGIN allowed in clear, Maildirs under $ZSMTP_MAILDIR
  aiosmtpd 127.0.0.1:2625  stores the exact DATA bytes in $ZSMTP_AIOSMTPD_OUT (NNNNNN.eml/.json)

Environment (defaults match start-all.sh and a release build in this checkout):
  ZSMTP_TEST_DIR, ZSMTP_MAILDIR, ZSMTP_AIOSMTPD_OUT, ZSMTP_CA, ZSMTP_CLI
"""
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVERS = os.path.join(REPO, "scripts", "servers")
sys.path.insert(0, SERVERS)
import maildir  # noqa: E402  (scripts/servers/maildir.py)

TEST_DIR = os.environ.get("ZSMTP_TEST_DIR", "/tmp/zsmtp-test")
MAILDIR = os.environ.get("ZSMTP_MAILDIR", os.path.join(TEST_DIR, "pf", "mail"))
AIO_OUT = os.environ.get("ZSMTP_AIOSMTPD_OUT", os.path.join(TEST_DIR, "aiosmtpd", "out"))
CA = os.environ.get("ZSMTP_CA", os.path.join(TEST_DIR, "certs", "ca.pem"))
CLI = os.environ.get("ZSMTP_CLI", os.path.join(REPO, "target", "release", "smtp-send"))
MAILLOG = os.path.join(os.path.dirname(MAILDIR.rstrip("/")), "maillog")

POSTFIX_PORT = 2525
AIOSMTPD_PORT = 2625
USER = "alice"
PASSWORD = "secret123"
WRONG_PASSWORD = "not-the-pw-7731"
FROM = "alice@example.test"
DOMAIN = "zsmtp-client.example.test"

CLI_TIMEOUT = 120        # seconds for one CLI run (1 MB body included)
DELIVERY_TIMEOUT = 30    # seconds for Postfix to put a queued mail into a Maildir
REPLY_TIMEOUT = "20"     # --reply-timeout passed to the CLI

ERROR_LINE = re.compile(r"^error: (NX_[A-Z0-9_]+) \(0x([0-9A-F]{2})\)(?:: (.*))?$")


def _status_table():
    """NX_* name -> value, read from src/error.rs so the tests follow the library."""
    with open(os.path.join(REPO, "src", "error.rs"), encoding="utf-8") as f:
        src = f.read()
    table = {m.group(1): int(m.group(2), 16)
             for m in re.finditer(r"pub const (NX_[A-Z0-9_]+): u32 = 0x([0-9A-Fa-f]+);", src)}
    assert table, "no status constants found in src/error.rs"
    return table


STATUS = _status_table()


def secrets(*passwords):
    """Every form in which a password could leak: raw, AUTH LOGIN's base64, AUTH PLAIN's."""
    out = set()
    for pw in passwords:
        out.add(pw.encode())
        out.add(base64.b64encode(pw.encode()))
        out.add(base64.b64encode(b"\0" + USER.encode() + b"\0" + pw.encode()))
        out.add(base64.b64encode(USER.encode() + b"\0" + USER.encode() + b"\0" + pw.encode()))
    return out


SECRETS = secrets(PASSWORD, WRONG_PASSWORD)


# ---------------------------------------------------------------------------------------------
# running the CLI


def redact(data):
    """`data` (bytes) with every form of a test password replaced by <REDACTED>."""
    for s in sorted(SECRETS, key=len, reverse=True):
        data = data.replace(s, b"<REDACTED>")
    return data


def redact_args(args):
    out, hide = [], False
    for a in args:
        out.append("<redacted>" if hide else a)
        hide = a == "--password"
    return out


class Run:
    """The outcome of one smtp-send run. Its text forms never show a password; failures are
    raised as plain AssertionErrors (no assertion rewriting that could print the arguments)."""

    def __init__(self, args, rc, stdout, stderr):
        self.args, self.rc, self.stdout, self.stderr = args, rc, stdout, stderr

    def __str__(self):
        return "smtp-send exit %d\nargs: %r\n--- stdout\n%s\n--- stderr\n%s" % (
            self.rc, redact_args(self.args), redact(self.stdout).decode("utf-8", "replace"),
            redact(self.stderr).decode("utf-8", "replace"))

    __repr__ = __str__

    def ok(self):
        if self.rc != 0:
            raise AssertionError("expected success\n%s" % self)
        return self

    def error(self, name):
        """Asserts a failure whose last stderr line is `error: NAME (0xNN)[: reply]` with the
        value of NAME in src/error.rs; returns the reply text (None when absent)."""
        if self.rc == 0:
            raise AssertionError("expected %s, got success\n%s" % (name, self))
        lines = self.stderr.decode("utf-8", "replace").rstrip("\n").split("\n")
        m = ERROR_LINE.match(lines[-1])
        if not m:
            raise AssertionError("last stderr line is not 'error: NX_NAME (0xNN)[: reply]'\n%s" % self)
        if m.group(1) != name:
            raise AssertionError("expected %s, got %s\n%s" % (name, m.group(1), self))
        if int(m.group(2), 16) != STATUS[name]:
            raise AssertionError("%s printed as 0x%s, src/error.rs says 0x%02X\n%s"
                                 % (name, m.group(2), STATUS[name], self))
        return m.group(3)


def run_cli(args, stdin=None, env=None, timeout=CLI_TIMEOUT):
    """Runs smtp-send with `args` (stdin: bytes or None for an empty stdin), bounded by
    `timeout` seconds. Every run is checked for leaked passwords in stdout and stderr."""
    e = dict(os.environ)
    e.pop("SMTP_SEND_LOG", None)
    e.update(env or {})
    argv = [CLI] + [str(a) for a in args]
    try:
        p = subprocess.run(argv, input=stdin if stdin is not None else b"",
                           capture_output=True, timeout=timeout, env=e)
    except subprocess.TimeoutExpired as t:
        # (TimeoutExpired's own message would show the command line, password included)
        raise AssertionError("smtp-send did not finish within %d s\n%s" % (
            timeout, Run(argv[1:], -1, t.stdout or b"", t.stderr or b""))) from None
    r = Run(argv[1:], p.returncode, p.stdout, p.stderr)
    if any(s in p.stdout or s in p.stderr for s in SECRETS):
        raise AssertionError("a form of the password was printed (shown redacted):\n%s" % r)
    return r


def cli_args(port, to=(), cc=(), bcc=(), subject="zsmtp test", body_file=None, auth="plain",
             user=USER, password=PASSWORD, sender=FROM, server="127.0.0.1", priority=None,
             extra=()):
    a = ["--server", server, "--port", port, "--domain", DOMAIN, "--from", sender,
         "--subject", subject, "--reply-timeout", REPLY_TIMEOUT, "--auth", auth]
    if auth != "none":
        a += ["--user", user, "--password", password]
    for flag, addrs in (("--to", to), ("--cc", cc), ("--bcc", bcc)):
        for x in addrs:
            a += [flag, x]
    if priority:
        a += ["--priority", priority]
    if body_file:
        a += ["--body-file", body_file]
    return a + list(extra)


# ---------------------------------------------------------------------------------------------
# expected content


def normalise(body):
    """What the client must send for `body` (before dot-stuffing): every CRLF, bare CR and
    bare LF becomes CRLF, and a final CRLF is added when missing."""
    out = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


def as_stored_by_postfix(body):
    """`normalise(body)` as Postfix stores it in a Maildir (LF line endings)."""
    return normalise(body).replace(b"\r\n", b"\n")


# ---------------------------------------------------------------------------------------------
# Postfix


class Postfix:
    """Maildirs of the Postfix instance: snapshot before a send, wait for the new mail after."""

    def box(self, address):
        return maildir.mailbox_dir(MAILDIR, address)

    def snapshot(self, *addresses):
        return {a: maildir.snapshot(self.box(a)) for a in addresses}

    def wait(self, snap, address, timeout=DELIVERY_TIMEOUT):
        """The raw bytes of the one new message for `address` since `snap`."""
        paths = maildir.wait_new(self.box(address), snap[address], timeout)
        assert len(paths) == 1, "expected one new message for %s, got %r" % (address, paths)
        return maildir.read(paths[0])

    def assert_nothing_new(self, snap, settle=2.0):
        """Asserts that no message arrived in any mailbox of `snap` within `settle` seconds."""
        deadline = time.monotonic() + settle
        while True:
            for a, before in snap.items():
                new = set(maildir.messages(self.box(a))) - before
                assert not new, "unexpected delivery to %s: %r" % (a, new)
            if time.monotonic() >= deadline:
                return
            time.sleep(0.1)

    @staticmethod
    def received_with(raw):
        """(protocol, queue id) of Postfix's Received header: ('ESMTPA', '4F1A2...')."""
        m = re.search(rb"\bwith (E?SMTP\w*) id (\w+)", maildir.prepended(raw))
        assert m, "no Postfix Received header in\n%r" % raw[:600]
        return m.group(1).decode(), m.group(2).decode()

    @staticmethod
    def sasl_method(queue_id, timeout=10):
        """The sasl_method Postfix logged for `queue_id` (PLAIN/LOGIN), waiting for the log."""
        deadline = time.monotonic() + timeout
        pat = re.compile(r"\b%s: client=.*sasl_method=(\w+)" % re.escape(queue_id))
        while True:
            try:
                with open(MAILLOG, encoding="utf-8", errors="replace") as f:
                    m = pat.search(f.read())
                if m:
                    return m.group(1)
            except FileNotFoundError:
                pass
            assert time.monotonic() < deadline, "no sasl_method for %s in %s" % (queue_id, MAILLOG)
            time.sleep(0.1)


def stored_parts(raw):
    """(header block, body) of a message as Postfix stored it, its prepended headers removed."""
    return maildir.split(maildir.strip_postfix_headers(raw), b"\n")


# ---------------------------------------------------------------------------------------------
# aiosmtpd


class Aiosmtpd:
    """The output directory of an aiosmtpd_server.py: NNNNNN.eml (exact DATA bytes after
    un-stuffing) + NNNNNN.json (envelope)."""

    def __init__(self, out):
        self.out = out

    def seqs(self):
        try:
            return {n[:-5] for n in os.listdir(self.out) if n.endswith(".json")}
        except FileNotFoundError:
            return set()

    def snapshot(self):
        return self.seqs()

    def wait(self, before, timeout=10):
        """(eml bytes, json dict) of the one message stored since `before`. The server
        stores it before its 250 reply, so after a successful send it is already there."""
        deadline = time.monotonic() + timeout
        while True:
            new = sorted(self.seqs() - before)
            if new:
                assert len(new) == 1, "expected one new message, got %r" % new
                base = os.path.join(self.out, new[0])
                with open(base + ".eml", "rb") as f:
                    eml = f.read()
                with open(base + ".json", encoding="utf-8") as f:
                    meta = json.load(f)
                return eml, meta
            assert time.monotonic() < deadline, "no new message in %s" % self.out
            time.sleep(0.05)

    def assert_nothing_new(self, before):
        new = self.seqs() - before
        assert not new, "unexpected message(s) stored: %r" % sorted(new)


def stop(p):
    """Stops a server process the test started: SIGTERM, then SIGKILL; every wait bounded."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def free_port(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# preconditions
