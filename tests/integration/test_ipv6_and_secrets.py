"""IPv6 literal servers, and credentials that must never be printed (trace log included)."""
import pytest

from e2e import (AIOSMTPD_PORT, PASSWORD, POSTFIX_PORT, SECRETS, WRONG_PASSWORD, cli_args,
                      normalise, run_cli, secrets)
from bodies import CASES


@pytest.mark.parametrize("server", ["::1", "[::1]"])
def test_ipv6_literal(private_aiosmtpd, body_file, server):
    port, v6 = private_aiosmtpd("::1")
    before = v6.snapshot()
    body = CASES["leading_dots"]
    run_cli(cli_args(port, to=["six@aio.test"], server=server, subject="over IPv6",
                     body_file=body_file(body))).ok()
    eml, meta = v6.wait(before)
    assert meta["peer"][0] == "::1", meta
    assert meta["rcpt_tos"] == ["six@aio.test"]
    assert eml.partition(b"\r\n\r\n")[2] == normalise(body)


TRACE = {"SMTP_SEND_LOG": "trace"}


@pytest.mark.parametrize("level", ["debug", "trace"])
@pytest.mark.parametrize("auth", ["plain", "login"])
@pytest.mark.parametrize("target", ["postfix", "aiosmtpd"])
def test_password_never_printed_with_dialogue_log(postfix, aio, body_file, auth, target, level):
    port = POSTFIX_PORT if target == "postfix" else AIOSMTPD_PORT
    rcpt = "alice@example.test" if target == "postfix" else "t@aio.test"
    r = run_cli(cli_args(port, to=[rcpt], auth=auth, subject="log " + auth,
                         body_file=body_file(b"logged\n")), env={"SMTP_SEND_LOG": level}).ok()
    log = r.stderr.decode("utf-8", "replace")
    # the trace log is really on (otherwise this test proves nothing) ...
    assert "MAIL FROM" in log.upper() and "AUTH" in log.upper(), r
    # ... and no form of the password is in it (run_cli checks every run; stated here too)
    out = r.stdout + r.stderr
    assert not any(s in out for s in secrets(PASSWORD)), r


@pytest.mark.parametrize("auth", ["plain", "login"])
def test_wrong_password_never_printed_with_trace(postfix, body_file, auth):
    r = run_cli(cli_args(POSTFIX_PORT, to=["alice@example.test"], auth=auth,
                         password=WRONG_PASSWORD, body_file=body_file(b"x\n")), env=TRACE)
    r.error("NX_SMTP_AUTH_REPLY_ERROR")
    out = r.stdout + r.stderr
    assert not any(s in out for s in SECRETS), r
    assert WRONG_PASSWORD.encode() not in out
