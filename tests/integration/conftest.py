"""End-to-end tests of the smtp-send CLI against real servers on loopback.

Servers come from scripts/servers/start-all.sh (scripts/test starts them):
  Postfix  127.0.0.1:2525  plain, AUTH PLAIN/LOGIN allowed in clear, Maildirs under $ZSMTP_MAILDIR
  aiosmtpd 127.0.0.1:2625  stores the exact DATA bytes in $ZSMTP_AIOSMTPD_OUT (NNNNNN.eml/.json)
Some tests start a private aiosmtpd (IPv6, no AUTH) on a free port and stop it afterwards.

Environment (defaults match start-all.sh and a release build in this checkout):
  ZSMTP_TEST_DIR, ZSMTP_MAILDIR, ZSMTP_AIOSMTPD_OUT, ZSMTP_CA, ZSMTP_CLI
Nothing is skipped: a missing binary or server is an error, and with ZSMTP_NO_SKIP=1 (set
by scripts/test) a skipped or xfailed test fails the run.
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
from dataclasses import dataclass

import pytest

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


@dataclass
class Run:
    args: list
    rc: int
    stdout: bytes
    stderr: bytes

    def __str__(self):
        return "smtp-send exit %d\nargs: %r\n--- stdout\n%s\n--- stderr\n%s" % (
            self.rc, redact_args(self.args), self.stdout.decode("utf-8", "replace"),
            self.stderr.decode("utf-8", "replace"))

    def ok(self):
        assert self.rc == 0, str(self)
        return self

    def error(self, name):
        """Asserts a failure whose last stderr line is `error: NAME (0xNN)[: reply]` with the
        value of NAME in src/error.rs; returns the reply text (None when absent)."""
        assert self.rc != 0, "expected %s, got success\n%s" % (name, self)
        lines = self.stderr.decode("utf-8", "replace").rstrip("\n").split("\n")
        m = ERROR_LINE.match(lines[-1])
        assert m, "last stderr line is not 'error: NX_NAME (0xNN)[: reply]'\n%s" % self
        assert m.group(1) == name, "expected %s, got %s\n%s" % (name, m.group(1), self)
        assert int(m.group(2), 16) == STATUS[name], \
            "%s printed as 0x%s, src/error.rs says 0x%02X\n%s" % (name, m.group(2), STATUS[name], self)
        return m.group(3)


def redact_args(args):
    out, hide = [], False
    for a in args:
        out.append("<redacted>" if hide else a)
        hide = a == "--password"
    return out


def run_cli(args, stdin=None, env=None, timeout=CLI_TIMEOUT):
    """Runs smtp-send with `args` (stdin: bytes or None for an empty stdin). Every run is
    checked for leaked passwords in stdout and stderr."""
    e = dict(os.environ)
    e.pop("SMTP_SEND_LOG", None)
    e.update(env or {})
    argv = [CLI] + [str(a) for a in args]
    p = subprocess.run(argv, input=stdin if stdin is not None else b"", capture_output=True,
                       timeout=timeout, env=e)
    r = Run(argv[1:], p.returncode, p.stdout, p.stderr)
    for s in SECRETS:
        assert s not in p.stdout and s not in p.stderr, "a password form leaked:\n%s" % r
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


@pytest.fixture
def body_file(tmp_path):
    """body_file(bytes) -> path of a file holding those bytes."""
    n = [0]

    def make(data):
        n[0] += 1
        p = tmp_path / ("body%d.txt" % n[0])
        p.write_bytes(data)
        return str(p)
    return make


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


@pytest.fixture(scope="session")
def postfix(servers):
    return Postfix()


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


@pytest.fixture(scope="session")
def aio(servers):
    return Aiosmtpd(AIO_OUT)


def free_port(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@pytest.fixture
def private_aiosmtpd(tmp_path):
    """private_aiosmtpd(host, *options) -> (port, Aiosmtpd): a private aiosmtpd_server.py on a
    free port of `host` (plain only, user alice), stopped (SIGTERM, then SIGKILL) after the
    test. Every wait is bounded."""
    procs = []

    def start(host, *options):
        port = free_port(host)
        out = tmp_path / ("aio-%d" % len(procs))
        env = dict(os.environ, AIOSMTPD_USERS="%s:%s" % (USER, PASSWORD))
        p = subprocess.Popen(
            [sys.executable, os.path.join(SERVERS, "aiosmtpd_server.py"), "--host", host,
             "--port", str(port), "--tls-port", "0", "--out", str(out)] + list(options),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        procs.append(p)
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection((host, port), timeout=1):
                    break
            except OSError:
                pass
            if p.poll() is not None:
                raise RuntimeError("aiosmtpd on [%s]:%d exited: %s" % (host, port, p.stdout.read()))
            if time.monotonic() > deadline:
                raise RuntimeError("aiosmtpd on [%s]:%d not listening after 15 s" % (host, port))
            time.sleep(0.05)
        return port, Aiosmtpd(str(out))

    yield start
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        p.stdout.close()


# ---------------------------------------------------------------------------------------------
# preconditions


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def servers():
    """Fails (never skips) when the binary or the servers are missing."""
    problems = []
    if not (os.path.isfile(CLI) and os.access(CLI, os.X_OK)):
        problems.append("CLI %s is missing: cargo build --release --bin smtp-send" % CLI)
    for port, what in ((POSTFIX_PORT, "Postfix"), (AIOSMTPD_PORT, "aiosmtpd")):
        if not _port_open(port):
            problems.append("%s is not listening on 127.0.0.1:%d" % (what, port))
    for d in (MAILDIR, AIO_OUT):
        if not os.path.isdir(d):
            problems.append("%s does not exist" % d)
    if problems:
        pytest.fail("; ".join(problems) + " (run scripts/test, or scripts/servers/start-all.sh)",
                    pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    """With ZSMTP_NO_SKIP=1 a skipped or xfailed test fails the run: a test that did not run
    is never counted as passed."""
    if os.environ.get("ZSMTP_NO_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    not_run = sum(len(reporter.stats.get(k, [])) for k in ("skipped", "xfailed", "xpassed"))
    if not_run and session.exitstatus == 0:
        reporter.write_line("ZSMTP_NO_SKIP=1: %d test(s) skipped or xfailed: failing the run"
                            % not_run, red=True)
        session.exitstatus = 1
