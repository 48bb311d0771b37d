"""Fixtures of the end-to-end tests of the smtp-send CLI against real servers on loopback.

Servers come from scripts/servers/start-all.sh (scripts/test starts them): Postfix on
127.0.0.1:2525 (Maildirs) and aiosmtpd on 127.0.0.1:2625 (exact bytes). Some tests start a
private aiosmtpd (IPv6, no AUTH) on a free port and stop it afterwards. Helpers: e2e.py.

Nothing is skipped: a missing binary or server is an error, and with ZSMTP_NO_SKIP=1 (set
by scripts/test) a skipped or xfailed test fails the run.
"""
import os
import socket
import subprocess
import sys
import time

import pytest

from e2e import (AIO_OUT, AIOSMTPD_PORT, CLI, MAILDIR, PASSWORD, POSTFIX_PORT, SERVERS, USER,
                 Aiosmtpd, Postfix, free_port, stop)


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


@pytest.fixture(scope="session")
def postfix(servers):
    return Postfix()


@pytest.fixture(scope="session")
def aio(servers):
    return Aiosmtpd(AIO_OUT)


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
        stop(p)
        p.stdout.close()


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
