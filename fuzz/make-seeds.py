#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/seed-*).

The seeds are real server dialogues (Postfix, aiosmtpd, NetX Duo's canned test server, as
the scripted tests and the test servers play them) and the bodies, headers and inputs the
unit tests use. libFuzzer adds what it finds to a work copy (scripts/fuzz), not here.
Run: python3 fuzz/make-seeds.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

POSTFIX_EHLO = (b"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-ETRN\r\n"
                b"250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n"
                b"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n")
AIOSMTPD_EHLO = (b"250-localhost\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                 b"250-AUTH LOGIN PLAIN\r\n250 HELP\r\n")
NETX_GREETING = (b"220-expresslogic.com ESMTP server ready\r\n220-second line\r\n220-third line\r\n"
                 b"220 fourth line\r\n")
NETX_EHLO = (b"250-expresslogic.com Hello\r\n250-ETRN\r\n250-AUTH LOGIN CRAM-MD5 PLAIN\r\n"
             b"250-8BITMIME\r\n250 SIZE\r\n")

# Server byte streams of whole dialogues.
DIALOGUES = {
    "postfix-pipelined-plain": b"220 mx.example.test ESMTP Postfix\r\n" + POSTFIX_EHLO
        + b"235 2.7.0 Authentication successful\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
        b"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4F1A2\r\n221 2.0.0 Bye\r\n",
    "postfix-two-mails-rset": b"220 mx.example.test ESMTP Postfix\r\n" + POSTFIX_EHLO
        + b"235 2.7.0 Authentication successful\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
        b"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4F1A2\r\n"
        b"250 2.1.0 Ok\r\n550 5.1.1 <b@x>: Recipient address rejected: User unknown\r\n"
        b"554 5.5.1 Error: no valid recipients\r\n250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
        b"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4F1A3\r\n221 2.0.0 Bye\r\n",
    "postfix-auth-failed": b"220 mx.example.test ESMTP Postfix\r\n" + POSTFIX_EHLO
        + b"535 5.7.8 Error: authentication failed: authentication failure\r\n221 2.0.0 Bye\r\n",
    "aiosmtpd-login": b"220 localhost Python SMTP 1.4.6\r\n" + AIOSMTPD_EHLO
        + b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n250 OK\r\n"
        b"250 OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 OK\r\n221 Bye\r\n",
    "netx-lockstep": NETX_GREETING + NETX_EHLO + b"235 authenticated\r\n250 sender ok\r\n"
        b"250 recipient ok\r\n354 go ahead\r\n250 message accepted\r\n221 expresslogic.com closing connection\r\n",
    "helo-fallback": b"220 old.example\r\n502 5.5.2 Error: command not recognized\r\n250 old.example\r\n"
        b"250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n",
    "starttls-offered": b"220 mx.example.test ESMTP Postfix\r\n" + POSTFIX_EHLO + b"220 2.0.0 Ready to start TLS\r\n",
    "rcpt-refused-pipelined": b"220 x\r\n250-x\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n"
        b"550 5.1.1 no such user\r\n354 go\r\n",
    "421-at-mail": b"220 x\r\n250 x\r\n421 4.3.2 Service shutting down\r\n",
    "final-refused": b"220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n552 5.3.4 Message too big\r\n221 bye\r\n",
}

# Odd replies to the final dot: not SMTP, so the outcome is unknown (0xC0), never a refusal.
ODD_FINAL = {"600": b"600 weird\r\n", "199": b"199 weird\r\n", "2500": b"2500 x\r\n"}

# Control bytes of the session target: (auth/pipelining/tls/kept..., read chunk/end, write
# size, write budget high and low).
CONTROLS = [bytes([0x05, 0x00, 0x00, 0x00, 0x00]), bytes([0x02, 0x10, 0x00, 0x00, 0x00]),
            bytes([0x14, 0xfd, 0x07, 0x00, 0x00]), bytes([0x35, 0x41, 0x00, 0x81, 0x20]),
            bytes([0x8c, 0x02, 0x01, 0x00, 0x00])]

BODIES = [b"hello\r\n", b".hidden\r\na\r\n.\r\nb", b"x\n.\nMAIL FROM:<evil@x>\n", b"x\r.\rRCPT TO:<e@x>\r",
          "Grüße, 温度 🚨\r\n".encode(), b"a\r\r\nb\n\rc", b"." * 998 + b"\r\n" + b"y" * 998,
          b"\x00nul", b"line\r\n" * 50]

HEADER_FIELDS = [b"device@example.com\x1fAlarm: pump 3\x1fops@example.com,oncall@example.com\x1fboss@example.com",
                 "d@e.example\x1fTempérature élevée\x1f<t@x.example>\x1fc@x.example".encode(),
                 b"a@b.example\x1f" + b"x" * 300 + b"\x1f" + b",".join([b"long-mailbox-name-%d@example.com" % i for i in range(8)]) + b"\x1f",
                 b"a@b.example\x1flooks =?encoded?= but is not\x1f\x1f",
                 "a@b.example\x1f🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨\x1fx@y.example\x1f".encode()]

VALIDATE = [b"\x00a@b.example", b"\x01<myname@mycompany.com>", b"\x02\"john doe\"@example.com",
            b"\x03user@[IPv6:2001:db8::1]", b"\x04a@b.example\r\nRCPT TO:<x@y>", "\x05josé@exemplo.br".encode(),
            b"\x46p@ss w0rd!", b"\x83Subject\r\nBcc: evil@x", b"\x01[::1]", b"\x00" + b"l" * 65 + b"@x.example"]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    for i, (name, stream) in enumerate(DIALOGUES.items()):
        write("session", name, CONTROLS[i % len(CONTROLS)] + stream)
        write("reply", name, bytes([i * 7 % 64]) + stream)
        lines = [l[4:] for l in stream.split(b"\r\n") if l.startswith(b"250")]
        write("ehlo", name, b"\n".join(lines))
    # The C API target: a control byte (AUTH none/PLAIN/LOGIN, body), then the server's bytes.
    for i, (name, stream) in enumerate(DIALOGUES.items()):
        write("capi", name, bytes([i % 12]) + stream)
    for name, final in ODD_FINAL.items():
        write("capi", "final-" + name, b"\x00220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n" + final)
    write("ehlo", "odd", b"auth\tlogin  Plain\npipelining\nsize\t1000 \nAuth=Login\nAUTH MOGIN QLAIN\nSIZE 99999999999999999999999")
    write("reply", "bad", b"\x05" + b"2200\r\n250\rX\n 250 SIZE\r\n250-a\r\n251 b\r\nHTTP/1.1 400\r\n")
    for i, body in enumerate(BODIES):
        write("body", "%d" % i, bytes([i * 5]) + body)
    for i, fields in enumerate(HEADER_FIELDS):
        # priority, date present, date (8 bytes), Message-ID time, sequence, entropy (8 each)
        control = bytes([i % 3, 1]) + (1795884420).to_bytes(8, "big") + bytes(24)
        write("header", "%d" % i, control + fields)
    for i, v in enumerate(VALIDATE):
        write("validate", "%d" % i, v)


if __name__ == "__main__":
    main()
