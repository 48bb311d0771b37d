#!/usr/bin/env python3
"""Test SMTP server (aiosmtpd) with one or two listeners.

  --port      plain SMTP, STARTTLS offered (when a certificate is given), AUTH PLAIN/LOGIN
  --tls-port  implicit TLS (SMTPS), AUTH PLAIN/LOGIN; 0 disables it

Each accepted message is stored exactly as received (the DATA bytes after dot-unstuffing,
CRLF kept) as OUT/<seq>.eml, plus OUT/<seq>.json with the envelope and session facts
(mail_from, rcpt_tos, mail_options, rcpt_options, helo, tls, auth_login, size).
Both are written to a temporary name and renamed, .eml first, so a reader that sees the
.json sees a complete pair.

With --oauth-token-file, AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) are offered too: the token in
that file (and only it) is accepted for any user; another token gets the error challenge (334
with a base64 JSON error), and after the client's acknowledgement (XOAUTH2: an empty line;
OAUTHBEARER: 0x01) the 535. auth_login is then {"mechanism", "user", "host", "port"}. AUTH
lines up to 16 KB are read (RFC 4954 lets them exceed 512 bytes; tokens run to several KB).

Test hooks: a recipient whose local part starts with "reject" gets 550 at RCPT; one whose local
part starts with "defer" gets 451 at RCPT the first time this server sees that address, and is
accepted after (a transient refusal, for retries).
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
from base64 import b64decode

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword


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
    p.add_argument("--oauth-token-file", help="offer XOAUTH2 and OAUTHBEARER, accepting this token")
    return p.parse_args()


# The JSON error of a refused token, as Gmail sends it (base64 in a 334).
OAUTH_ERROR = b'{"status":"401","schemes":"Bearer","scope":"https://mail.example.test/"}'
OAUTH_REFUSED = "535 5.7.8 Username and Password not accepted"
OAUTH_LINE_LIMIT = 16384


class OAuthSMTP(SMTP):
    """aiosmtpd with room for the long AUTH lines of bearer tokens."""
    line_length_limit = OAUTH_LINE_LIMIT

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.command_size_limits["AUTH"] = OAUTH_LINE_LIMIT


def add_oauth(handler_class, good_token):
    """Adds auth_XOAUTH2 and auth_OAUTHBEARER to the handler: aiosmtpd offers every auth_*."""

    async def exchange(server, args, parse, ack):
        if len(args) == 1:
            data = await server.challenge_auth("")  # no initial response: ask for it
            if data is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                data = b64decode(args[1].encode(), validate=True)
            except ValueError:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        facts = parse(data)
        if facts is None:
            await server.push("501 5.5.2 Malformed response")
            return AuthResult(success=False, handled=True)
        token = facts.pop("token")
        if token == good_token:
            return AuthResult(success=True, handled=False, auth_data=facts)
        answer = await server.challenge_auth(OAUTH_ERROR)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        if answer != ack:  # the client must acknowledge the error exactly
            await server.push("501 5.5.2 Bad acknowledgement of the error challenge")
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=OAUTH_REFUSED)

    def bearer(field):
        return field[len(b"auth=Bearer "):] if field.startswith(b"auth=Bearer ") else None

    def parse_xoauth2(data):
        # user=U ^A auth=Bearer T ^A ^A
        if not data.endswith(b"\x01\x01"):
            return None
        fields = data[:-2].split(b"\x01")
        if len(fields) != 2 or not fields[0].startswith(b"user=") or bearer(fields[1]) is None:
            return None
        return {"mechanism": "XOAUTH2", "user": fields[0][5:].decode(), "token": bearer(fields[1])}

    def parse_oauthbearer(data):
        # gs2-header ^A *(key=value ^A) ^A  (RFC 7628 3.1); gs2-header "n,a=U,"
        if not data.endswith(b"\x01\x01"):
            return None
        head, *pairs = data[:-2].split(b"\x01")
        if not head.startswith(b"n,") or not head.endswith(b","):
            return None
        authzid = head[2:-1]
        user = authzid[2:].replace(b"=2C", b",").replace(b"=3D", b"=") if authzid.startswith(b"a=") else b""
        kv = dict(p.split(b"=", 1) for p in pairs if b"=" in p)
        token = bearer(b"auth=" + kv.get(b"auth", b""))
        if token is None:
            return None
        return {"mechanism": "OAUTHBEARER", "user": user.decode(), "token": token,
                "host": kv.get(b"host", b"").decode(), "port": kv.get(b"port", b"").decode()}

    async def auth_XOAUTH2(self, server, args):
        return await exchange(server, args, parse_xoauth2, b"")

    async def auth_OAUTHBEARER(self, server, args):
        return await exchange(server, args, parse_oauthbearer, b"\x01")

    handler_class.auth_XOAUTH2 = auth_XOAUTH2
    handler_class.auth_OAUTHBEARER = auth_OAUTHBEARER


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

    deferred = set()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.lower().startswith("reject"):  # test hook: per-recipient 550
                return "550 5.1.1 <%s>: Recipient address rejected" % address
            if address.lower().startswith("defer") and address.lower() not in deferred:
                deferred.add(address.lower())  # test hook: 451 once per address
                return "451 4.3.0 <%s>: try again later" % address
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

    if a.oauth_token_file:
        with open(a.oauth_token_file, "rb") as f:
            add_oauth(Handler, f.read().strip())
    handler = Handler()

    def factory(implicit_tls):
        kw = {}
        if not a.no_auth:
            kw = dict(authenticator=authenticator, auth_required=a.auth_required,
                      auth_require_tls=a.auth_require_tls)
        return lambda: (OAuthSMTP if a.oauth_token_file else SMTP)(
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
