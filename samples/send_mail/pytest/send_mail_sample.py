# SPDX-License-Identifier: Apache-2.0
"""The send_mail sample on native_sim/native/64 (twister's pytest harness): it sends its one mail
to aiosmtpd on 127.0.0.1, on the port the build's CONFIG_SMTP_CLIENT_PORT names (2525 in the
sample's prj.conf), and the mail must arrive. Named without the
test_ prefix so that host pytest runs do not collect it; twister names it (sample.yaml).
"""

from __future__ import annotations

import email
import email.policy
import sys
from pathlib import Path

from twister_harness.device.device_adapter import DeviceAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "zephyr" / "common"))
from zsmtp_twister import dotconfig, smtp_server  # noqa: E402 (after the path it needs)


def test_the_sample_mail_arrives(unlaunched_dut: DeviceAdapter):
    port = int(dotconfig(unlaunched_dut.device_config.app_build_dir)["CONFIG_SMTP_CLIENT_PORT"])
    with smtp_server(port=port) as (inbox, _port):
        unlaunched_dut.launch()
        lines = unlaunched_dut.readlines_until(regex="send_mail: (sent|failed)", timeout=60)
        assert any("send_mail: sent: 250" in line for line in lines), "\n".join(lines)
        assert inbox.arrived.wait(timeout=10)
    mail = inbox.messages[0]
    assert mail["from"] == "device@example.test"
    assert mail["to"] == ["ops@example.test"]
    assert b"Subject: Hello from Zephyr" in mail["content"]
    message = email.message_from_bytes(mail["content"], policy=email.policy.default)
    assert message.get_content_type() == "multipart/mixed"
    text, attachment = list(message.iter_parts())
    assert "zsmtp send_mail sample" in text.get_content()
    assert attachment.get_filename() == "readings.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == b"time_s,temperature_c\n0,21.5\n60,21.7\n120,22.1\n180,22.4\n"
