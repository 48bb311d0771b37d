# SPDX-License-Identifier: Apache-2.0
"""What the pytest scenarios of zsmtp's samples and twister suites share: a real SMTP server
(aiosmtpd) on the host's loopback, which the simulated device (native_sim/native/64, sockets
offloaded to the host) reaches, with optional AUTH and STARTTLS.

Needs aiosmtpd in the Python environment that runs twister (pip install aiosmtpd). A missing
server is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path
from typing import Iterator

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError as e:
    raise ImportError("zsmtp's twister scenarios need aiosmtpd: pip install aiosmtpd") from e

# The test certificates of tests/zephyr/e2e/tls (a CA valid until 2126, and a server certificate
# for localhost and 127.0.0.1 it signed): for loopback tests only.
TLS_DIR = Path(__file__).resolve().parents[1] / "e2e" / "tls"


class Inbox:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "content": envelope.original_content,
                "helo": session.host_name,
                "tls": session.ssl is not None,
                "authenticated": bool(session.authenticated),
            }
        )
        self.arrived.set()
        return "250 2.0.0 OK queued as twister"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def starttls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server.key")
    return context


@contextlib.contextmanager
def smtp_server(
    port: int | None = None,
    credentials: tuple[str, str] | None = None,
    starttls: bool = False,
) -> Iterator[tuple[Inbox, int]]:
    """Runs aiosmtpd on 127.0.0.1 (a free port unless `port` is given) until the block ends.
    With `credentials`, AUTH PLAIN/LOGIN is offered and only that user and password succeed
    (over plain TCP too: the samples talk to loopback). With `starttls`, STARTTLS is offered and
    required before MAIL."""
    inbox = Inbox()
    port = port or free_port()
    kwargs: dict = {}
    if credentials is not None:

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            ) == credentials
            # handled=False: aiosmtpd itself answers (235, or 535 for a refusal).
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticate, auth_require_tls=starttls)
    if starttls:
        kwargs.update(tls_context=starttls_context(), require_starttls=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def run(shell, command: str, timeout: float = 20.0) -> str:
    """A shell command's output (twister_harness's Shell.exec_command), as one text."""
    return "\n".join(shell.exec_command(command, timeout=timeout))


def device_settings(port: int) -> list[tuple[str, str]]:
    """The settings that point the simulated device at the server of smtp_server()."""
    return [
        ("server", "127.0.0.1"),
        ("port", str(port)),
        ("domain", "device.example.test"),
        ("from", "device@example.test"),
    ]


def configure(shell, values: list[tuple[str, str]]) -> None:
    """`smtp config set KEY VALUE` for each pair, each of which must be taken."""
    for key, value in values:
        out = run(shell, f"smtp config set {key} {value}")
        assert f"smtp config: {key} set" in out, out


def dotconfig(build_dir: Path) -> dict[str, str]:
    """The CONFIG_ values of a Zephyr build (zephyr/.config)."""
    values = {}
    for line in (Path(build_dir) / "zephyr" / ".config").read_text().splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value.strip('"')
    return values
