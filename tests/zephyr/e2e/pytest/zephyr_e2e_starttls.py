# SPDX-License-Identifier: Apache-2.0
"""STARTTLS end to end on native_sim/native/64 (twister's pytest harness, scenario
zsmtp.e2e.starttls): the device's own TLS client (Zephyr's mbedTLS 4.x with TF-PSA-Crypto)
upgrades the connection to aiosmtpd on the host, which requires STARTTLS, verifies the test
server certificate against the CA built into the image (CONFIG_SMTP_CLIENT_TLS_CA_FILE), and
authenticates only once TLS protects the session.

The simulated device's wall clock is never set (no SNTP), so the client checks the chain and the
name but not the dates, and says so (the default policy, README.md "TLS on Zephyr").
"""

from __future__ import annotations

import sys
from pathlib import Path

from twister_harness.device.device_adapter import DeviceAdapter
from twister_harness.helpers.shell import Shell

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from zsmtp_twister import configure, device_settings, dotconfig, run, smtp_server  # noqa: E402 (after the path it needs)

USER = "device17"
PASSWORD = "tls-Secret-9"


def configure_for(shell: Shell, port: int, password: str) -> None:
    # The server by address (smtp_server() listens on 127.0.0.1 only); the certificate names it.
    configure(shell, [*device_settings(port), ("auth", "plain"), ("user", USER), ("password", password)])


def start(dut: DeviceAdapter) -> Shell:
    (Path(dut.device_config.app_build_dir) / "flash.bin").unlink(missing_ok=True)
    dut.launch()
    dut.readlines_until(regex="zsmtp e2e ready", timeout=20)
    shell = Shell(dut, timeout=20.0)
    assert shell.wait_for_prompt(), "no shell prompt from the device"
    return shell


def test_the_build_is_the_starttls_configuration(unlaunched_dut: DeviceAdapter):
    config = dotconfig(unlaunched_dut.device_config.app_build_dir)
    assert config.get("CONFIG_SMTP_CLIENT_TLS_STARTTLS") == "y", config
    assert config.get("CONFIG_SMTP_CLIENT_TLS_MBEDTLS") == "y", config


def test_starttls_then_auth_plain_delivers(unlaunched_dut: DeviceAdapter):
    with smtp_server(credentials=(USER, PASSWORD), starttls=True) as (inbox, port):
        shell = start(unlaunched_dut)
        configure_for(shell, port, PASSWORD)
        out = run(shell, 'smtp send bob@example.test "over STARTTLS" "sealed"', timeout=60)
        assert "smtp send: OK 250" in out, out
        assert PASSWORD not in out
        assert inbox.arrived.wait(timeout=30)
    mail = inbox.messages[0]
    assert mail["tls"] and mail["authenticated"], mail
    assert mail["to"] == ["bob@example.test"]
    assert b"Subject: over STARTTLS" in mail["content"]
    assert mail["content"].endswith(b"\r\n\r\nsealed\r\n"), mail["content"]


def test_a_wrong_password_is_refused_over_tls(unlaunched_dut: DeviceAdapter):
    with smtp_server(credentials=(USER, PASSWORD), starttls=True) as (inbox, port):
        shell = start(unlaunched_dut)
        configure_for(shell, port, "not-the-password")
        out = run(shell, 'smtp send bob@example.test "nope" "x"', timeout=60)
        # NX_SMTP_AUTH_REPLY_ERROR (0xAD): the server refused the credentials, after TLS.
        assert "smtp send: FAILED 0xAD" in out, out
    assert not inbox.messages
