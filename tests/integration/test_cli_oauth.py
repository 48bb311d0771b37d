"""smtp-send --auth xoauth2|oauthbearer --user U --token-file PATH against aiosmtpd offering
both mechanisms (scripts/servers/aiosmtpd_server.py --oauth-token-file): delivery, a refused
token with the server's decoded error, a server that does not offer the mechanism, and a
token that never appears in the CLI's output, its debug log included."""
import secrets

import pytest

from e2e import USER, cli_args, run_cli

MECHANISMS = ["xoauth2", "oauthbearer"]


@pytest.fixture
def token(tmp_path):
    """(token, path of a file holding it with a line end) — a 2 KB token like Microsoft's."""
    value = "ya29." + secrets.token_urlsafe(1536)
    path = tmp_path / "token"
    path.write_text(value + "\n")
    return value, str(path)


def oauth_args(port, mechanism, token_file, **kw):
    return cli_args(port, to=["oauth@aio.test"], auth="none", **kw) + [
        "--auth", mechanism, "--user", USER, "--token-file", token_file]


def assert_token_not_printed(r, value):
    for out in (r.stdout, r.stderr):
        assert value.encode() not in out and value[:40].encode() not in out, "the token was printed"


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_oauth_delivers(private_aiosmtpd, body_file, token, mechanism):
    value, path = token
    port, server = private_aiosmtpd("127.0.0.1", "--oauth-token-file", path)
    before = server.snapshot()
    r = run_cli(oauth_args(port, mechanism, path, body_file=body_file(b"sent with a bearer token\n")),
                env={"SMTP_SEND_LOG": "debug"}).ok()
    assert_token_not_printed(r, value)
    assert "AUTH %s <redacted>" % mechanism.upper() in r.stderr.decode(), r
    server.wait(before)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_a_refused_token_reports_the_decoded_error(private_aiosmtpd, body_file, token, tmp_path, mechanism):
    value, path = token
    port, server = private_aiosmtpd("127.0.0.1", "--oauth-token-file", path)
    stale = tmp_path / "stale"
    stale.write_text("ya29.expired-token-0000\n")
    before = server.snapshot()
    r = run_cli(oauth_args(port, mechanism, str(stale), body_file=body_file(b"never\n")),
                env={"SMTP_SEND_LOG": "debug"})
    reply = r.error("NX_SMTP_AUTH_REPLY_ERROR")
    assert reply is not None and reply.startswith("535"), r
    assert '"status":"401"' in reply, reply
    assert_token_not_printed(r, "ya29.expired-token-0000")
    server.assert_nothing_new(before)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_a_server_without_the_mechanism_gets_no_credential(private_aiosmtpd, body_file, token, mechanism):
    value, path = token
    port, server = private_aiosmtpd("127.0.0.1")  # PLAIN and LOGIN only
    before = server.snapshot()
    r = run_cli(oauth_args(port, mechanism, path, body_file=body_file(b"never\n")), env={"SMTP_SEND_LOG": "debug"})
    r.error("NX_SMTP_AUTHENTICATION_ERROR")
    assert "C: EHLO" in r.stderr.decode() and "C: AUTH" not in r.stderr.decode(), "an AUTH command was sent\n%s" % r
    assert_token_not_printed(r, value)
    server.assert_nothing_new(before)


def test_a_missing_token_file_is_a_usage_error(tmp_path):
    r = run_cli(oauth_args(2, "xoauth2", str(tmp_path / "absent")))
    r.error("NX_SMTP_INVALID_PARAM")
    assert r.rc == 0xA5
    lines = r.stderr.decode().rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[0].startswith("smtp-send: --token-file "), r


@pytest.mark.parametrize("extra", [["--password", "x"], []])
def test_token_file_and_mechanism_go_together(tmp_path, extra):
    path = tmp_path / "token"
    path.write_text("t\n")
    if extra:  # an OAuth mechanism with a password instead of a token
        args = cli_args(2, to=["a@aio.test"], auth="none") + ["--auth", "xoauth2", "--user", USER] + extra
    else:  # a token without an OAuth mechanism
        args = cli_args(2, to=["a@aio.test"]) + ["--token-file", str(path)]
    r = run_cli(args)
    r.error("NX_SMTP_INVALID_PARAM")
