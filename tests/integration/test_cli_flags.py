"""The CLI's own flags: --version, the password from a file or the environment, and files
that cannot be read (a usage error, exit status 0xA5, a one-line reason, and no connection)."""
import os
import re
import socket

import pytest

from e2e import (AIOSMTPD_PORT, PASSWORD, REPO, USER, WRONG_PASSWORD, cli_args, run_cli)


def cargo_version():
    with open(os.path.join(REPO, "Cargo.toml"), encoding="utf-8") as f:
        return re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)


def test_version_prints_the_crate_version():
    r = run_cli(["--version"]).ok()
    assert r.stdout.decode() == "smtp-send %s\n" % cargo_version(), r


def no_password_args(**kw):
    """A plain-auth send to aiosmtpd whose password comes from elsewhere than --password."""
    return cli_args(AIOSMTPD_PORT, to=["flags@aio.test"], auth="none", **kw) + ["--auth", "plain", "--user", USER]


@pytest.mark.parametrize("content", [PASSWORD + "\n", PASSWORD + "\r\n", PASSWORD, PASSWORD + "\nsecond line\n"])
def test_password_file_gives_the_password(aio, body_file, tmp_path, content):
    path = tmp_path / "pw"
    path.write_bytes(content.encode())
    before = aio.snapshot()
    run_cli(no_password_args(body_file=body_file(b"x\n")) + ["--password-file", str(path)]).ok()
    aio.wait(before)


def test_a_wrong_password_in_the_file_is_refused_by_the_server(aio, body_file, tmp_path):
    path = tmp_path / "pw"
    path.write_bytes(WRONG_PASSWORD.encode() + b"\n")
    before = aio.snapshot()
    reply = run_cli(no_password_args(body_file=body_file(b"x\n")) + ["--password-file", str(path)]).error(
        "NX_SMTP_AUTH_REPLY_ERROR")
    assert reply is not None and reply.startswith("535"), reply
    aio.assert_nothing_new(before)


def test_password_from_the_environment(aio, body_file):
    before = aio.snapshot()
    run_cli(no_password_args(body_file=body_file(b"x\n")), env={"SMTP_SEND_PASSWORD": PASSWORD}).ok()
    aio.wait(before)
    before = aio.snapshot()
    run_cli(no_password_args(body_file=body_file(b"x\n")), env={"SMTP_SEND_PASSWORD": WRONG_PASSWORD}).error(
        "NX_SMTP_AUTH_REPLY_ERROR")
    aio.assert_nothing_new(before)


def test_the_password_flag_wins_over_the_environment(aio, body_file):
    before = aio.snapshot()
    args = cli_args(AIOSMTPD_PORT, to=["flags@aio.test"], body_file=body_file(b"x\n"))
    run_cli(args, env={"SMTP_SEND_PASSWORD": WRONG_PASSWORD}).ok()
    aio.wait(before)


@pytest.fixture
def listener():
    """A listening socket that is never accepted: after a run, a pending connection means the
    CLI connected."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    s.setblocking(False)
    yield s
    s.close()


def assert_never_connected(listener):
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return
    conn.close()
    raise AssertionError("smtp-send connected although its arguments were refused")


def usage_failure(r):
    """A usage error: 0xA5, and exactly a one-line reason before the status line."""
    r.error("NX_SMTP_INVALID_PARAM")
    assert r.rc == 0xA5, r
    lines = r.stderr.decode("utf-8", "replace").rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[0].startswith("smtp-send: "), r
    return lines[0]


@pytest.mark.parametrize("flag", ["--password-file", "--body-file", "--ca-file", "--attach", "--html-file"])
@pytest.mark.parametrize("problem", ["missing", "a directory"])
def test_a_file_that_cannot_be_read_is_a_usage_error(listener, tmp_path, flag, problem):
    path = str(tmp_path / "absent") if problem == "missing" else str(tmp_path)
    port = listener.getsockname()[1]
    args = cli_args(port, to=["a@example.test"], auth="none") + [flag, path]
    if flag != "--password-file":
        args += ["--auth", "plain", "--user", USER, "--password", PASSWORD]
    else:
        args += ["--auth", "plain", "--user", USER]
    reason = usage_failure(run_cli(args))
    assert flag in reason, reason
    assert_never_connected(listener)


def test_password_and_password_file_together_are_a_usage_error(listener, tmp_path):
    path = tmp_path / "pw"
    path.write_bytes(PASSWORD.encode())
    port = listener.getsockname()[1]
    args = cli_args(port, to=["a@example.test"]) + ["--password-file", str(path)]
    usage_failure(run_cli(args))
    assert_never_connected(listener)
