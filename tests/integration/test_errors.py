"""Failures: the status on the last stderr line, the server's reply, and nothing delivered."""
import socket

import pytest

from e2e import (AIOSMTPD_PORT, POSTFIX_PORT, WRONG_PASSWORD, cli_args, run_cli)


def test_wrong_password_is_auth_reply_error(postfix, body_file):
    rcpt = "alice@example.test"
    snap = postfix.snapshot(rcpt)
    r = run_cli(cli_args(POSTFIX_PORT, to=[rcpt], password=WRONG_PASSWORD,
                         body_file=body_file(b"never\n")))
    reply = r.error("NX_SMTP_AUTH_REPLY_ERROR")
    assert reply is not None and reply.startswith("535 5.7.8"), r
    postfix.assert_nothing_new(snap)


@pytest.mark.parametrize("auth", ["plain", "login"])
def test_wrong_password_both_mechanisms(aio, body_file, auth):
    before = aio.snapshot()
    r = run_cli(cli_args(AIOSMTPD_PORT, to=["x@aio.test"], auth=auth, password=WRONG_PASSWORD,
                         body_file=body_file(b"never\n")))
    reply = r.error("NX_SMTP_AUTH_REPLY_ERROR")
    assert reply is not None and reply.startswith("535"), r
    aio.assert_nothing_new(before)


def test_unknown_recipient_is_rcpt_reply_error(postfix, body_file):
    r = run_cli(cli_args(POSTFIX_PORT, to=["nobody@strict.test"], body_file=body_file(b"x\n")))
    reply = r.error("NX_SMTP_RCPT_REPLY_ERROR")
    assert reply is not None and reply.startswith(
        "550 5.1.1 <nobody@strict.test>: Recipient address rejected"), r


def test_one_refused_recipient_delivers_nothing(aio, body_file):
    before = aio.snapshot()
    r = run_cli(cli_args(AIOSMTPD_PORT, to=["fine@aio.test", "reject-me@aio.test"],
                         body_file=body_file(b"x\n")))
    reply = r.error("NX_SMTP_RCPT_REPLY_ERROR")
    assert reply is not None and reply.startswith("550 5.1.1 <reject-me@aio.test>"), r
    aio.assert_nothing_new(before)


def test_nothing_listening_is_not_connected(body_file):
    # A bound but not listening socket: connections to its port are refused, and no other
    # process can take the port while the test runs.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        r = run_cli(cli_args(port, to=["a@example.test"], body_file=body_file(b"x\n")))
    r.error("NX_NOT_CONNECTED")


def test_server_without_auth_is_authentication_error(private_aiosmtpd, body_file):
    port, server = private_aiosmtpd("127.0.0.1", "--no-auth")
    # the server works without AUTH ...
    before = server.snapshot()
    run_cli(cli_args(port, to=["a@aio.test"], auth="none", body_file=body_file(b"x\n"))).ok()
    server.wait(before)
    # ... but offers none, so a client configured for AUTH stops before sending credentials
    before = server.snapshot()
    r = run_cli(cli_args(port, to=["a@aio.test"], auth="plain", body_file=body_file(b"x\n")))
    r.error("NX_SMTP_AUTHENTICATION_ERROR")
    server.assert_nothing_new(before)


INJECTIONS = {
    "subject_crlf": dict(subject="hello\r\nBcc: evil@aio.test"),
    "subject_lf": dict(subject="hello\nX-Injected: yes"),
    "subject_cr": dict(subject="hello\rX-Injected: yes"),
    "to_crlf": dict(to=["t@aio.test\r\nRCPT TO:<evil@aio.test>"]),
    "to_lf": dict(to=["t@aio.test\nevil@aio.test"]),
    "cc_crlf": dict(to=["t@aio.test"], cc=["c@aio.test\r\nDATA"]),
    "bcc_cr": dict(to=["t@aio.test"], bcc=["b@aio.test\revil@aio.test"]),
    "from_crlf": dict(sender="alice@example.test\r\nRCPT TO:<evil@aio.test>"),
}


@pytest.mark.parametrize("case", sorted(INJECTIONS))
def test_cr_lf_in_fields_is_invalid_param(aio, body_file, case):
    kw = dict(to=["t@aio.test"])
    kw.update(INJECTIONS[case])
    before = aio.snapshot()
    r = run_cli(cli_args(AIOSMTPD_PORT, body_file=body_file(b"x\n"), **kw))
    r.error("NX_SMTP_INVALID_PARAM")
    aio.assert_nothing_new(before)


@pytest.mark.parametrize("case", ["line_of_999", "nul_byte", "nul_late", "long_line_late"])
def test_invalid_body_is_invalid_param(aio, body_file, case):
    body = {
        "line_of_999": b"A" * 999 + b"\n",
        "nul_byte": b"before\0after\n",
        # found only after many bytes were streamed: the mail must still not be delivered
        "nul_late": b"ok line\n" * 20000 + b"bad\0\n",
        "long_line_late": b"ok line\n" * 20000 + b"B" * 1500 + b"\n",
    }[case]
    before = aio.snapshot()
    r = run_cli(cli_args(AIOSMTPD_PORT, to=["t@aio.test"], body_file=body_file(body)))
    r.error("NX_SMTP_INVALID_PARAM")
    aio.assert_nothing_new(before)


def test_invalid_body_from_stdin_is_invalid_param(aio):
    before = aio.snapshot()
    r = run_cli(cli_args(AIOSMTPD_PORT, to=["t@aio.test"]), stdin=b"x\n" * 5000 + b"C" * 1200)
    r.error("NX_SMTP_INVALID_PARAM")
    aio.assert_nothing_new(before)
