"""smtp-send over TLS (--tls starttls|implicit, --ca-file): real servers where a real server can
produce the case, a scripted socket server where none can.

  Postfix  127.0.0.1:2587  STARTTLS required, AUTH only after TLS (ESMTPSA in Received)
  Postfix  127.0.0.1:2465  implicit TLS, AUTH
  aiosmtpd 127.0.0.1:2665  implicit TLS (its .json says whether the session had TLS)
  private aiosmtpd (conftest's private_aiosmtpd) with certificates made here by openssl:
           STARTTLS with a certificate for another name, an expired one, or none at all

Every failure is checked for its status, for nothing delivered, and for no AUTH reaching the
server (Postfix's own count of the session's commands, or the bytes a scripted server got).
"""
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from e2e import (CA, MAILLOG, SECRETS, cli_args, run_cli)

STARTTLS_PORT = 2587
IMPLICIT_PORT = 2465
AIOSMTPD_TLS_PORT = 2665


def tls(mode, ca=CA):
    return ["--tls", mode] + (["--ca-file", ca] if ca else [])


@pytest.fixture(scope="module", autouse=True)
def tls_servers(servers):
    """Fails (never skips) when a TLS port is not listening."""
    closed = []
    for port in (STARTTLS_PORT, IMPLICIT_PORT, AIOSMTPD_TLS_PORT):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
        except OSError:
            closed.append(port)
    if closed:
        pytest.fail("TLS ports not listening: %r (run scripts/test)" % closed, pytrace=False)
    assert os.path.isfile(CA), "no test CA at %s" % CA


# ---------------------------------------------------------------------------------------------
# Postfix's log: the commands it counted for one session


def log_offset():
    try:
        return os.path.getsize(MAILLOG)
    except FileNotFoundError:
        return 0


def session_line(offset, timeout=10):
    """The log of the first smtpd session that connected after `offset` in Postfix's log
    (sessions told apart by smtpd's pid; bare port probes, which end with commands=0/0 and
    no TLS alert, are passed over), ending with its 'disconnect from' line, which counts the
    commands Postfix got: 'ehlo=2 starttls=1 auth=1 ...'."""
    deadline = time.monotonic() + timeout
    while True:
        with open(MAILLOG, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        open_sessions = {}
        for line in text.splitlines():
            m = re.search(r"smtpd\[(\d+)\]: (.*)", line)
            if not m:
                continue
            pid, msg = m.groups()
            if msg.startswith("connect from "):
                open_sessions[pid] = []
            elif pid in open_sessions:
                open_sessions[pid].append(msg)
                if msg.startswith("disconnect from "):
                    session = open_sessions.pop(pid)
                    probe = msg.endswith(" commands=0/0") and not any("alert" in l for l in session)
                    if not probe:
                        return "\n".join(session)
        assert time.monotonic() < deadline, "no complete session in %s since %d:\n%s" % (
            MAILLOG, offset, text)
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# certificates that the shared test servers do not have (openssl, in a temporary directory)


class Pki:
    """A CA of its own ("other CA") and leaves it signs."""

    def __init__(self, d):
        self.d = d
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
                  "-subj", "/CN=zsmtp other test CA")
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = test\n[test]\ndir = .\ndatabase = index.txt\n"
                    "new_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\n"
                    "unique_subject = no\n[any]\ncommonName = supplied\n")
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("01\n")
        self.ca = os.path.join(d, "ca.pem")

    def _run(self, *args):
        subprocess.run(["openssl"] + list(args), cwd=self.d, check=True, capture_output=True,
                       timeout=60)

    def leaf(self, name, sans, start="20250101000000Z", end="20991231000000Z"):
        """(cert path, key path) for `sans` ('DNS:x,IP:y'), valid from `start` to `end`."""
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        with open(os.path.join(self.d, name + ".ext"), "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % sans)
        self._run("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                  "-in", name + ".csr", "-out", name + ".pem", "-extfile", name + ".ext",
                  "-startdate", start, "-enddate", end, "-notext")
        return os.path.join(self.d, name + ".pem"), os.path.join(self.d, name + ".key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


# ---------------------------------------------------------------------------------------------
# success against the real servers


@pytest.mark.parametrize("mech,auth", [("PLAIN", "plain"), ("LOGIN", "login")])
def test_starttls_then_auth_at_postfix(postfix, body_file, mech, auth):
    rcpt = "bob@example.test"
    subject = "starttls %s %d" % (mech, time.monotonic_ns())
    snap = postfix.snapshot(rcpt)
    offset = log_offset()
    r = run_cli(cli_args(STARTTLS_PORT, to=[rcpt], subject=subject, auth=auth,
                         body_file=body_file(b"over STARTTLS\n.dot\n"), extra=tls("starttls")))
    r.ok()
    raw = postfix.wait(snap, rcpt)
    proto, queue_id = postfix.received_with(raw)
    assert proto == "ESMTPSA", "Received header says %s, not ESMTPSA" % proto
    assert postfix.sasl_method(queue_id) == mech
    assert raw.endswith(b"\nover STARTTLS\n.dot\n"), raw[-200:]
    line = session_line(offset)
    assert "ehlo=2 starttls=1 auth=1 " in line, line


def test_implicit_tls_at_postfix(postfix, body_file):
    rcpt = "carol@example.test"
    snap = postfix.snapshot(rcpt)
    offset = log_offset()
    run_cli(cli_args(IMPLICIT_PORT, to=[rcpt], subject="implicit %d" % time.monotonic_ns(),
                     auth="login", body_file=body_file(b"implicit\n"),
                     extra=tls("implicit"))).ok()
    proto, queue_id = postfix.received_with(postfix.wait(snap, rcpt))
    assert proto == "ESMTPSA"
    assert postfix.sasl_method(queue_id) == "LOGIN"
    assert "ehlo=1 auth=1 " in session_line(offset)


def test_implicit_tls_at_aiosmtpd(aio, body_file):
    before = aio.snapshot()
    run_cli(cli_args(AIOSMTPD_TLS_PORT, to=["t@aio.test"], body_file=body_file(b"smtps\n"),
                     extra=tls("implicit"))).ok()
    eml, meta = aio.wait(before)
    assert meta["tls"] is True, meta
    assert meta["auth_login"] == "alice", meta
    assert eml.endswith(b"\r\n\r\nsmtps\r\n"), eml


def test_system_store_is_the_default(postfix, body_file):
    # Without --ca-file the system's store is used: it does not know the test CA ...
    rcpt = "dave@example.test"
    snap = postfix.snapshot(rcpt)
    offset = log_offset()
    r = run_cli(cli_args(STARTTLS_PORT, to=[rcpt], body_file=body_file(b"x\n"),
                         extra=tls("starttls", ca=None)))
    r.error("NX_SMTP_TLS_UNTRUSTED_CERTIFICATE")
    line = session_line(offset)
    assert "starttls=0/1" in line and "auth=" not in line, line
    postfix.assert_nothing_new(snap, settle=0.5)
    # ... SSL_CERT_FILE chooses another store (here, the test CA) ...
    run_cli(cli_args(STARTTLS_PORT, to=[rcpt], body_file=body_file(b"x\n"),
                     extra=tls("starttls", ca=None)), env={"SSL_CERT_FILE": CA}).ok()
    postfix.wait(snap, rcpt)
    # ... and an empty store is a clear error too.
    r = run_cli(cli_args(STARTTLS_PORT, to=[rcpt], body_file=body_file(b"x\n"),
                         extra=tls("starttls", ca=None)),
                env={"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": "/nonexistent/zsmtp"})
    r.error("NX_SMTP_TLS_UNTRUSTED_CERTIFICATE")
    assert b"no CA certificates" in r.stderr, r


def test_private_ca_control(private_aiosmtpd, pki, body_file):
    # The private server and the other CA work together: the failures below fail for the
    # reason they name, not for a broken setup.
    cert, key = pki.leaf("good", "DNS:localhost,IP:127.0.0.1")
    port, server = private_aiosmtpd("127.0.0.1", "--cert", cert, "--key", key)
    before = server.snapshot()
    run_cli(cli_args(port, to=["a@aio.test"], body_file=body_file(b"x\n"),
                     extra=tls("starttls", ca=pki.ca))).ok()
    _, meta = server.wait(before)
    assert meta["tls"] is True and meta["auth_login"] == "alice", meta


# ---------------------------------------------------------------------------------------------
# verification failures: a clear status, nothing delivered, no AUTH


@pytest.mark.parametrize("port,mode,counted", [(STARTTLS_PORT, "starttls", "starttls=0/1"),
                                               (IMPLICIT_PORT, "implicit", "commands=0/0")])
def test_unknown_ca_at_postfix(postfix, pki, body_file, port, mode, counted):
    rcpt = "alice@example.test"
    snap = postfix.snapshot(rcpt)
    offset = log_offset()
    r = run_cli(cli_args(port, to=[rcpt], body_file=body_file(b"never\n"),
                         extra=tls(mode, ca=pki.ca)))
    r.error("NX_SMTP_TLS_UNTRUSTED_CERTIFICATE")
    assert b"not signed by a trusted CA" in r.stderr, r
    session = session_line(offset)
    assert counted in session and "auth=" not in session, session
    # Postfix got the client's alert: it was the client that refused the certificate.
    assert "alert unknown ca" in session, session
    postfix.assert_nothing_new(snap, settle=0.5)


def _debug_commands(run):
    """The commands the client logged (SMTP_SEND_LOG=debug) as sent."""
    return [l.split("C: ", 1)[1] for l in run.stderr.decode("utf-8", "replace").splitlines()
            if "C: " in l]


def test_name_mismatch(private_aiosmtpd, pki, body_file):
    cert, key = pki.leaf("other-name", "DNS:mail.example")
    port, server = private_aiosmtpd("127.0.0.1", "--cert", cert, "--key", key)
    before = server.snapshot()
    r = run_cli(cli_args(port, to=["a@aio.test"], body_file=body_file(b"never\n"),
                         extra=tls("starttls", ca=pki.ca)), env={"SMTP_SEND_LOG": "debug"})
    r.error("NX_SMTP_TLS_NAME_MISMATCH")
    assert _debug_commands(r) == ["EHLO zsmtp-client.example.test", "STARTTLS"], r
    server.assert_nothing_new(before)


def test_expired_certificate(private_aiosmtpd, pki, body_file):
    cert, key = pki.leaf("expired", "DNS:localhost,IP:127.0.0.1",
                         start="20000101000000Z", end="20010101000000Z")
    port, server = private_aiosmtpd("127.0.0.1", "--cert", cert, "--key", key)
    before = server.snapshot()
    r = run_cli(cli_args(port, to=["a@aio.test"], body_file=body_file(b"never\n"),
                         extra=tls("starttls", ca=pki.ca)), env={"SMTP_SEND_LOG": "debug"})
    r.error("NX_SMTP_TLS_CERTIFICATE_EXPIRED")
    assert _debug_commands(r) == ["EHLO zsmtp-client.example.test", "STARTTLS"], r
    server.assert_nothing_new(before)


def test_server_without_starttls(private_aiosmtpd, body_file):
    # A downgrade: this server offers AUTH in clear but no STARTTLS.
    port, server = private_aiosmtpd("127.0.0.1")
    before = server.snapshot()
    r = run_cli(cli_args(port, to=["a@aio.test"], body_file=body_file(b"never\n"),
                         extra=tls("starttls")), env={"SMTP_SEND_LOG": "debug"})
    r.error("NX_SMTP_STARTTLS_UNAVAILABLE")
    assert b"does not offer it" in r.stderr, r
    assert _debug_commands(r) == ["EHLO zsmtp-client.example.test", "QUIT"], r
    server.assert_nothing_new(before)


def test_starttls_required_port_with_tls_none(postfix, body_file):
    # --tls none allows AUTH in clear, but 2587 offers AUTH only after STARTTLS.
    rcpt = "alice@example.test"
    snap = postfix.snapshot(rcpt)
    offset = log_offset()
    r = run_cli(cli_args(STARTTLS_PORT, to=[rcpt], body_file=body_file(b"never\n"),
                         extra=["--tls", "none"]))
    r.error("NX_SMTP_AUTHENTICATION_ERROR")
    line = session_line(offset)
    assert "ehlo=1 quit=1 " in line, line
    # without credentials Postfix refuses the mail itself
    offset = log_offset()
    r = run_cli(cli_args(STARTTLS_PORT, to=[rcpt], auth="none", body_file=body_file(b"never\n"),
                         extra=["--tls", "none"]))
    reply = r.error("NX_SMTP_MAIL_REPLY_ERROR")
    assert reply is not None and reply.startswith("530 5.7.0 Must issue a STARTTLS"), r
    assert "auth=" not in session_line(offset)
    postfix.assert_nothing_new(snap, settle=0.5)


# ---------------------------------------------------------------------------------------------
# what no real server does: a scripted server on a socket


class Scripted(threading.Thread):
    """Plays a STARTTLS server in clear and, after its "220" to STARTTLS, `after(conn)`.
    Records every byte it receives. Every wait is bounded (10 s)."""

    def __init__(self, after):
        super().__init__(daemon=True)
        self.after = after
        self.received = b""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.start()

    def recv(self, conn):
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        self.received += data
        return data

    def run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            conn.sendall(b"220 scripted.test ESMTP\r\n")
            buf = b""
            while True:
                while b"\r\n" not in buf:
                    data = self.recv(conn)
                    if not data:
                        return
                    buf += data
                line, buf = buf.split(b"\r\n", 1)
                verb = line.split(b" ")[0].upper()
                if verb == b"EHLO":
                    conn.sendall(b"250-scripted.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n")
                elif verb == b"STARTTLS":
                    self.after(self, conn)
                    return
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"530 5.7.0 Must issue a STARTTLS command first\r\n")

    def drain(self, conn):
        """Records what else arrives until the client closes."""
        while self.recv(conn):
            pass

    def finish(self):
        self.join(timeout=30)
        assert not self.is_alive(), "scripted server still running"
        self.sock.close()
        return self.received


CLEAR = b"EHLO zsmtp-client.example.test\r\nSTARTTLS\r\n"


def test_bytes_after_the_starttls_220(body_file):
    def inject(server, conn):
        conn.sendall(b"220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 AUTH PLAIN\r\n")
        server.drain(conn)

    server = Scripted(inject)
    r = run_cli(cli_args(server.port, to=["a@example.test"], body_file=body_file(b"never\n"),
                         extra=tls("starttls")))
    r.error("NX_SMTP_TLS_UNEXPECTED_DATA")
    assert b"possible injection" in r.stderr, r
    assert server.finish() == CLEAR, "nothing, not even a ClientHello, after the injection"


def test_server_closes_during_the_handshake(body_file):
    def close_after_hello(server, conn):
        conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        server.recv(conn)  # the ClientHello
        conn.shutdown(socket.SHUT_RDWR)

    server = Scripted(close_after_hello)
    r = run_cli(cli_args(server.port, to=["a@example.test"], body_file=body_file(b"never\n"),
                         extra=tls("starttls")))
    r.error("NX_SMTP_TLS_HANDSHAKE_FAILED")
    received = server.finish()
    assert received.startswith(CLEAR), received
    hello = received[len(CLEAR):]
    assert hello[:1] == b"\x16", "a TLS handshake record follows STARTTLS: %r" % hello[:16]
    assert not any(s in received for s in SECRETS) and b"AUTH" not in received


# ---------------------------------------------------------------------------------------------
# --ca-file problems are found before anything is sent


@pytest.mark.parametrize("kind", ["missing", "empty", "not_pem", "key_only", "directory"])
def test_bad_ca_file_sends_nothing(tmp_path, pki, body_file, kind):
    path = tmp_path / "ca.pem"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "not_pem":
        path.write_bytes(b"this is not a certificate\n")
    elif kind == "key_only":
        path.write_bytes(open(os.path.join(pki.d, "ca.key"), "rb").read())
    elif kind == "directory":
        path.mkdir()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        r = run_cli(cli_args(port, to=["a@example.test"], body_file=body_file(b"never\n"),
                             extra=tls("starttls", ca=str(path))))
        r.error("NX_SMTP_INVALID_PARAM")
        assert ("--ca-file %s" % path).encode() in r.stderr, r
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
