# SPDX-License-Identifier: Apache-2.0
"""The outbox sample on native_sim/native/64 (twister's pytest harness): the alarm is queued
while nothing listens on the sample's port (CONFIG_OUTBOX_ALARM_SERVER_PORT), then aiosmtpd is
started there and the outbox's worker delivers the alarm on one of its retries, once. Named
without the test_ prefix so that host pytest runs do not collect it.
"""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

from twister_harness.device.device_adapter import DeviceAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "zephyr" / "common"))
from zsmtp_twister import dotconfig, smtp_server  # noqa: E402 (after the path it needs)


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_alarm_queued_offline_is_delivered_once_the_server_is_up(unlaunched_dut: DeviceAdapter):
    config = dotconfig(unlaunched_dut.device_config.app_build_dir)
    port = int(config["CONFIG_OUTBOX_ALARM_SERVER_PORT"])
    assert config.get("CONFIG_SMTP_CLIENT_OUTBOX_ZMS") == "y", "the scenario stores the outbox in ZMS"
    assert not listening(port), f"something already listens on 127.0.0.1:{port}"
    # A fresh simulated flash (zephyr.exe runs in the build directory): no mail of an earlier
    # run is waiting in the outbox.
    (Path(unlaunched_dut.device_config.app_build_dir) / "flash.bin").unlink(missing_ok=True)

    unlaunched_dut.launch()
    lines = unlaunched_dut.readlines_until(regex=r"outbox_alarm: (queued id=\d+|\S+ status 0x)", timeout=30)
    text = "\n".join(lines)
    m = re.search(r"outbox_alarm: queued id=(\d+)", text)
    assert m, text
    alarm = m.group(1)
    # Queued while nothing listened: nx_smtp_mail_queue returned without the network.
    assert not listening(port), "a server came up before the alarm was queued"

    with smtp_server(port=port) as (inbox, _port):
        lines = unlaunched_dut.readlines_until(regex=rf"outbox_alarm: delivered id={alarm}\b", timeout=60)
        text += "\n" + "\n".join(lines)
        assert inbox.arrived.wait(timeout=10), text
        lines = unlaunched_dut.readlines_until(regex=r"outbox_alarm: done", timeout=30)
        text += "\n" + "\n".join(lines)
    alarms = [m for m in inbox.messages if b"Subject: ALARM: over-temperature" in m["content"]]
    assert len(alarms) == 1, inbox.messages
    mail = alarms[0]
    assert mail["from"] == "sensor@example.test", mail
    assert mail["to"] == ["ops@example.test"], mail
    assert b"Sensor 3 reads 92.5 C" in mail["content"], mail
    assert b"Message-ID: " in mail["content"], mail
    assert "outbox_alarm: failed" not in text, text
