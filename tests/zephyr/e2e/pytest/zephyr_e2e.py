# SPDX-License-Identifier: Apache-2.0
"""End-to-end test of zsmtp on native_sim/native/64 (twister's pytest harness).

A real SMTP server (aiosmtpd) listens on 127.0.0.1 of this machine; the simulated device reaches
it through the host's sockets (NSOS). The device is configured and driven with its shell:
"smtp config set ...", then "smtp send ...". The test checks that the mail arrived intact
(envelope, headers, body with a dot-stuffed line), that the configuration survives a restart
(settings in the simulated flash) and that the password is never shown.

Needs: pip install aiosmtpd (in the Python environment that runs twister). Named without the
test_ prefix so that a plain `pytest tests/` of the host suite does not collect it; twister
names it explicitly (testcase.yaml: pytest_root).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import pytest
from twister_harness.device.device_adapter import DeviceAdapter
from twister_harness.helpers.shell import Shell

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from zsmtp_twister import configure, device_settings, free_port, run, smtp_server  # noqa: E402 (after the path it needs)

logger = logging.getLogger(__name__)

PASSWORD = "e2e-Secret-7"


@pytest.fixture
def server():
    with smtp_server() as (inbox, port):
        yield inbox, port


def shell_of(dut: DeviceAdapter) -> Shell:
    shell = Shell(dut, timeout=20.0)
    assert shell.wait_for_prompt(), "no shell prompt from the device"
    return shell


def shown(out: str, key: str) -> str | None:
    """The value `smtp config show` printed for key ("%-16s %s"), or None without that line."""
    for line in out.splitlines():
        words = line.split(None, 1)
        if words and words[0] == key:
            return words[1].strip() if len(words) > 1 else ""
    return None


def test_mail_sent_from_the_shell_arrives_intact(unlaunched_dut: DeviceAdapter, server):
    inbox, port = server
    dut = unlaunched_dut
    # A fresh simulated flash (twister runs zephyr.exe in the build directory, where it keeps
    # flash.bin), so that the Kconfig defaults are in force.
    (Path(dut.device_config.app_build_dir) / "flash.bin").unlink(missing_ok=True)
    dut.launch()
    dut.readlines_until(regex="zsmtp e2e ready", timeout=20)
    shell = shell_of(dut)

    configure(shell, [*device_settings(port), ("auth", "none"), ("password", PASSWORD)])
    out = run(shell, "smtp config set port 70000")
    assert "invalid value" in out, out

    out = run(shell, "smtp config show")
    assert f"port             {port}" in out, out
    assert shown(out, "user") == "kconfig-user", out
    assert "********" in out and PASSWORD not in out, "password shown by config show"

    start = time.monotonic()
    out = run(
        shell,
        'smtp send bob@example.test "zsmtp e2e" "first line" ".dotted line" "last line"',
        timeout=60,
    )
    assert "smtp send: OK 250" in out, out
    assert PASSWORD not in out
    assert inbox.arrived.wait(timeout=max(1.0, 60 - (time.monotonic() - start)))

    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["from"] == "device@example.test"
    assert mail["to"] == ["bob@example.test"]
    assert mail["helo"] == "device.example.test"
    head, sep, body = mail["content"].partition(b"\r\n\r\n")
    assert sep, mail["content"]
    headers = head.decode("ascii")
    assert "Subject: zsmtp e2e" in headers, headers
    assert "To: bob@example.test" in headers or "To: <bob@example.test>" in headers, headers
    # aiosmtpd stores the data after dot-unstuffing: the line starting with '.' is intact.
    assert body == b"first line\r\n.dotted line\r\nlast line\r\n", body

    # An empty value is stored as empty, not as "no value" (which would bring the Kconfig
    # default back after a restart).
    out = run(shell, 'smtp config set user ""')
    assert "smtp config: user set" in out, out

    # The configuration was persisted (settings in flash.bin of the build directory, where
    # twister runs zephyr.exe): a restarted device still has it.
    dut.close()
    dut.launch()
    dut.readlines_until(regex=f"zsmtp e2e ready: 127.0.0.1:{port}", timeout=20)
    shell = shell_of(dut)
    out = run(shell, "smtp config show")
    assert f"port             {port}" in out, out
    # The Kconfig default (prj.conf) is "kconfig-user": the empty value survived the restart.
    assert shown(out, "user") == "", out
    assert PASSWORD not in out


def test_refused_connection_is_reported(unlaunched_dut: DeviceAdapter):
    port = free_port()  # nobody listens there
    dut = unlaunched_dut
    dut.launch()
    dut.readlines_until(regex="zsmtp e2e ready", timeout=20)
    shell = shell_of(dut)
    run(shell, "smtp config set server 127.0.0.1")
    run(shell, f"smtp config set port {port}")
    run(shell, "smtp config set from device@example.test")
    out = run(shell, 'smtp send bob@example.test "nobody home" "hello"', timeout=60)
    # NX_NOT_CONNECTED (0x38): no connection could be made.
    assert "smtp send: FAILED 0x38" in out, out
