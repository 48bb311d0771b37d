#!/usr/bin/env python3
"""Python smtplib driven like zsmtp's bench driver; prints the same JSON on stdout.

    smtplib_bench.py oneshot PORT N   N mails, a connection per mail (SMTP(), sendmail, quit)
    smtplib_bench.py kept    PORT N   N mails over one connection
    smtplib_bench.py attach  PORT PATH  one mail with PATH attached (email.message.EmailMessage,
                                        add_attachment, SMTP.send_message)

The small mail is built once, before the clock starts. `attach` reads its file and builds the
message inside the timed part, as sending a file takes. Loopback only."""
import email.message
import json
import os
import smtplib
import sys
import time

BODY = ("Pump 7 over temperature.\nSensor 3 reads 93 C at 12:04:05.\n"
        "This is a small alarm mail of about two hundred bytes, sent by the benchmark.\n")
FROM, TO = "bench@example.test", "sink@example.test"
MESSAGE = (f"From: <{FROM}>\r\nTo: <{TO}>\r\nSubject: zsmtp benchmark\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           + BODY.replace("\n", "\r\n")).encode()


def attach(port, path):
    c0, t0 = time.process_time(), time.perf_counter()
    with open(path, "rb") as f:
        content = f.read()
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = FROM, TO, "zsmtp benchmark"
    msg.set_content(BODY)
    msg.add_attachment(content, maintype="application", subtype="octet-stream",
                       filename=os.path.basename(path))
    ok = 0
    try:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example.test", timeout=60) as s:
            s.send_message(msg)
        ok = 1
    except (smtplib.SMTPException, OSError) as e:
        print(f"smtplib_bench: {e}", file=sys.stderr)
    seconds = time.perf_counter() - t0
    print(json.dumps({"mails": 1, "ok": ok, "seconds": seconds, "cpu": time.process_time() - c0,
                      "bytes": len(content)}))


def main():
    if sys.argv[1:2] == ["attach"]:
        return attach(int(sys.argv[2]), sys.argv[3])
    mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ok = 0
    c0, t0 = time.process_time(), time.perf_counter()
    if mode == "oneshot":
        for _ in range(n):
            try:
                with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example.test", timeout=30) as s:
                    s.sendmail(FROM, [TO], MESSAGE)
                ok += 1
            except (smtplib.SMTPException, OSError) as e:
                print(f"smtplib_bench: {e}", file=sys.stderr)
    elif mode == "kept":
        with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example.test", timeout=30) as s:
            for _ in range(n):
                try:
                    s.sendmail(FROM, [TO], MESSAGE)
                    ok += 1
                except smtplib.SMTPException as e:
                    print(f"smtplib_bench: {e}", file=sys.stderr)
    else:
        sys.exit("usage: smtplib_bench.py oneshot|kept PORT N | attach PORT PATH")
    seconds = time.perf_counter() - t0
    print(json.dumps({"mails": n, "ok": ok, "seconds": seconds, "cpu": time.process_time() - c0, "bytes": 0}))


main()
