# SPDX-License-Identifier: Apache-2.0
"""NetX Duo's example program on native_sim/native/64 (twister's pytest harness): the three
services return NX_SUCCESS against aiosmtpd on 127.0.0.1 (on the port of the build's
CONFIG_NETX_COMPAT_SERVER_PORT) with AUTH LOGIN as the sample's Kconfig defaults say (alice /
secret123), and the mail arrives. Both profiles of the C API run it
(sample.yaml). Named without the test_ prefix so that host pytest runs do not collect it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from twister_harness.device.device_adapter import DeviceAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "zephyr" / "common"))
from zsmtp_twister import dotconfig, smtp_server  # noqa: E402 (after the path it needs)


def test_netx_example_delivers(unlaunched_dut: DeviceAdapter):
    config = dotconfig(unlaunched_dut.device_config.app_build_dir)
    port = int(config["CONFIG_NETX_COMPAT_SERVER_PORT"])
    with smtp_server(port=port, credentials=("alice", "secret123")) as (inbox, _port):
        unlaunched_dut.launch()
        lines = unlaunched_dut.readlines_until(regex="nx_smtp_client_delete status", timeout=60)
        text = "\n".join(lines)
        for service in ("nxd_smtp_client_create", "nx_smtp_mail_send", "nx_smtp_client_delete"):
            assert f"{service} status 0x00" in text, text
        assert inbox.arrived.wait(timeout=10)
    mail = inbox.messages[0]
    assert mail["authenticated"], mail
    assert mail["to"] == ["bob@example.test"]
    assert b"Subject: NetX Duo SMTP Client Demo" in mail["content"]
