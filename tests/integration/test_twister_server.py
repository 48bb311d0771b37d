"""The SMTP server of zsmtp's twister scenarios (tests/zephyr/common/zsmtp_twister.py), run on the
host against the real client (smtp-send): twister runs only in the Zephyr workflow, so this is
where a server that hangs, refuses the right password or accepts a wrong one shows up first.
Each case is the one a scenario relies on: plain delivery (send_mail, netx_compat, e2e), and
STARTTLS with AUTH PLAIN to 127.0.0.1 with the e2e suite's test CA (zephyr_e2e_starttls.py).
"""
import sys
from pathlib import Path

from e2e import PASSWORD, REPO, USER, WRONG_PASSWORD, cli_args, run_cli

sys.path.insert(0, str(Path(REPO) / "tests" / "zephyr" / "common"))
from zsmtp_twister import TLS_DIR, smtp_server  # noqa: E402 (after the path it needs)

# Every run is bounded: a server that never answers fails here, it does not hang the suite.
TIMEOUT = 60


def starttls_args(port, password=PASSWORD):
    return cli_args(port, to=["ops@example.test"], user=USER, password=password,
                    extra=["--tls", "starttls", "--ca-file", str(TLS_DIR / "ca.pem")])


def test_plain_delivery(body_file):
    with smtp_server() as (inbox, port):
        run_cli(cli_args(port, to=["ops@example.test"], auth="none",
                         body_file=body_file(b"plain\n")), timeout=TIMEOUT).ok()
        assert inbox.arrived.wait(10)
    [m] = inbox.messages
    assert m["to"] == ["ops@example.test"] and not m["tls"] and not m["authenticated"], m
    assert b"\r\nplain\r\n" in m["content"], m


def test_starttls_and_auth_plain_deliver_to_the_address_the_certificate_names(body_file):
    with smtp_server(credentials=(USER, PASSWORD), starttls=True) as (inbox, port):
        args = starttls_args(port) + ["--body-file", body_file(b"over tls\n")]
        run_cli(args, timeout=TIMEOUT).ok()
        assert inbox.arrived.wait(10)
    [m] = inbox.messages
    assert m["tls"] and m["authenticated"], m


def test_a_wrong_password_is_refused_with_535(body_file):
    with smtp_server(credentials=(USER, PASSWORD), starttls=True) as (inbox, port):
        args = starttls_args(port, password=WRONG_PASSWORD) + ["--body-file", body_file(b"x\n")]
        reply = run_cli(args, timeout=TIMEOUT).error("NX_SMTP_AUTH_REPLY_ERROR")
    assert reply is not None and reply.startswith("535"), reply
    assert inbox.messages == []


def test_starttls_is_required_before_mail(body_file):
    with smtp_server(credentials=(USER, PASSWORD), starttls=True) as (inbox, port):
        r = run_cli(cli_args(port, to=["ops@example.test"], auth="none",
                             body_file=body_file(b"x\n")), timeout=TIMEOUT)
        reply = r.error("NX_SMTP_MAIL_REPLY_ERROR")
    assert reply is not None and reply.startswith("530"), reply
    assert inbox.messages == []
