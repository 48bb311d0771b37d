#!/usr/bin/env python3
"""Test SMTP server (aiosmtpd) with one or two listeners.

  --port      plain SMTP, STARTTLS offered (when a certificate is given), AUTH PLAIN/LOGIN
  --tls-port  implicit TLS (SMTPS), AUTH PLAIN/LOGIN; 0 disables it

Each accepted message is stored exactly as received (the DATA bytes after dot-unstuffing,
CRLF kept) as OUT/<seq>.eml, plus OUT/<seq>.json with the envelope and session facts
(mail_from, rcpt_tos, mail_options, rcpt_options, helo, tls, auth_login, size).
Both are written to a temporary name and renamed, .eml first, so a reader that sees the
.json sees a complete pair.

Test hook: a recipient whose local part starts with "reject" gets 550 at RCPT.
Credentials are never logged. Prints "READY <port> <tls-port>" when listening and exits
cleanly on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1", help="IPv4 or IPv6 literal (loopback only)")
    p.add_argument("--port", type=int, default=2625)
    p.add_argument("--tls-port", type=int, default=2665, help="0 = disabled")
    p.add_argument("--cert", help="PEM certificate (needed for STARTTLS and --tls-port)")
    p.add_argument("--key", help="PEM private key")
    p.add_argument("--out", required=True, help="directory for stored messages")
    p.add_argument("--user", action="append", default=[],
                   help="login:password (repeatable); AIOSMTPD_USERS=login:password[,...] too,"
                        " which keeps the password out of the process list")
    p.add_argument("--no-auth", action="store_true", help="offer no AUTH at all")
    p.add_argument("--auth-required", action="store_true", help="reject MAIL before AUTH")
    p.add_argument("--auth-require-tls", action="store_true",
                   help="only offer AUTH after STARTTLS on --port (default: in clear too)")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--hostname", default="aiosmtpd.test")
    p.add_argument("--pidfile")
    return p.parse_args()


def main():
    a = parse()
    if a.host not in ("127.0.0.1", "::1", "localhost") and not a.host.startswith("127."):
        sys.exit("aiosmtpd_server: loopback addresses only")
    os.makedirs(a.out, exist_ok=True)
    pairs = a.user + [u for u in os.environ.get("AIOSMTPD_USERS", "").split(",") if u]
    users = {u.split(":", 1)[0].encode(): u.split(":", 1)[1].encode() for u in pairs}
    seq = itertools.count(1)

    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
    elif a.tls_port:
        sys.exit("aiosmtpd_server: --tls-port needs --cert and --key")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and users.get(auth_data.login) == auth_data.password)
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data.login.decode() if ok else None)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.lower().startswith("reject"):  # test hook: per-recipient 550
                return "550 5.1.1 <%s>: Recipient address rejected" % address
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            return "250 2.1.5 OK"

        async def handle_DATA(self, server, session, envelope):
            n = next(seq)
            base = os.path.join(a.out, "%06d" % n)
            meta = {
                "seq": n,
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "mail_options": envelope.mail_options,
                "rcpt_options": envelope.rcpt_options,
                "smtp_utf8": envelope.smtp_utf8,
                "helo": session.host_name,
                "peer": list(session.peer) if session.peer else None,
                "tls": session.ssl is not None
                       or server.transport.get_extra_info("sslcontext") is not None,
                "auth_login": session.auth_data if session.authenticated else None,
                "size": len(envelope.original_content),
            }
            for ext, data in ((".eml", envelope.original_content),
                              (".json", json.dumps(meta).encode())):
                with open(base + ext + ".tmp", "wb") as f:
                    f.write(data)
                os.rename(base + ext + ".tmp", base + ext)
            return "250 2.0.0 OK queued as %06d" % n

    handler = Handler()

    def factory(implicit_tls):
        kw = {}
        if not a.no_auth:
            kw = dict(authenticator=authenticator, auth_required=a.auth_required,
                      auth_require_tls=a.auth_require_tls)
        return lambda: SMTP(
            handler,
            hostname=a.hostname,
            enable_SMTPUTF8=True,
            # STARTTLS only on the plain listener (never inside implicit TLS)
            tls_context=None if implicit_tls else ctx,
            require_starttls=a.require_starttls and not implicit_tls,
            **kw,
        )

    async def run():
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(factory(False), a.host, a.port)]
        if a.tls_port:
            servers.append(await loop.create_server(factory(True), a.host, a.tls_port, ssl=ctx))
        stop = asyncio.Event()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        if a.pidfile:
            with open(a.pidfile + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(a.pidfile + ".tmp", a.pidfile)
        print("READY", a.port, a.tls_port, flush=True)
        await stop.wait()
        for s in servers:
            s.close()
        for s in servers:
            await s.wait_closed()

    # aiosmtpd warns about AUTH in clear text: intended for these tests
    warnings.simplefilter("ignore")
    asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
