"""smtp-send --attach / --html-file through Postfix: the delivered message, parsed by Python's
email package, holds the text, the HTML and every attachment byte for byte, with its name and
type; to a server without 8BITMIME (port 2526) the message is 7-bit clean."""
import email
import email.policy
import hashlib
import random

import pytest

from e2e import POSTFIX_PORT, cli_args, run_cli

NO_8BITMIME_PORT = 2526

TEXT = "Grüße aus dem Kühlhaus: readings attached.\n".encode("utf-8")
HTML = "<html><body><p>Grüße aus dem <b>Kühlhaus</b></p></body></html>\n".encode("utf-8")

# (file name, size, expected content type); random bytes from a fixed seed.
FILES = [
    ("empty.bin", 0, "application/octet-stream"),
    ("one.txt", 1, "text/plain"),
    ("fifty-seven.csv", 57, "text/csv"),
    ("fifty-eight.json", 58, "application/json"),
    ("Messwerte-Kühlhaus.png", 70_001, "image/png"),
    ("report.PDF", 4096, "application/pdf"),
    ("log.gz", 12_345, "application/gzip"),
    ("snapshot.jpeg", 3000, "image/jpeg"),
]


def make_files(tmp_path):
    rng = random.Random(20261206)
    paths = {}
    for name, size, _ in FILES:
        p = tmp_path / name
        p.write_bytes(bytes(rng.getrandbits(8) for _ in range(size)))
        paths[name] = p
    return paths


def send(postfix, tmp_path, port, rcpt):
    paths = make_files(tmp_path)
    body = tmp_path / "body.txt"
    body.write_bytes(TEXT)
    html = tmp_path / "body.html"
    html.write_bytes(HTML)
    extra = ["--html-file", str(html)]
    for name, _, _ in FILES:
        extra += ["--attach", str(paths[name])]
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(port, to=[rcpt], body_file=str(body), extra=extra)).ok()
    raw = postfix.wait(snap, rcpt)
    return raw, paths


def check_message(raw, paths):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/mixed", msg.get_content_type()
    parts = list(msg.iter_parts())
    alternative, attachments = parts[0], parts[1:]
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = list(alternative.iter_parts())
    assert text.get_content_type() == "text/plain" and text.get_content().encode("utf-8").replace(b"\r\n", b"\n") == TEXT
    assert html.get_content_type() == "text/html" and html.get_content().encode("utf-8").replace(b"\r\n", b"\n") == HTML
    assert len(attachments) == len(FILES), [a.get_filename() for a in attachments]
    for part, (name, size, ctype) in zip(attachments, FILES):
        assert part.get_filename() == name, (part.get_filename(), name)
        assert part.get_content_type() == ctype, (name, part.get_content_type())
        assert part.get_content_disposition() == "attachment", name
        data = part.get_payload(decode=True)
        want = paths[name].read_bytes()
        assert len(data) == size and hashlib.sha256(data).digest() == hashlib.sha256(want).digest(), \
            "%s: %d bytes delivered, %d sent, contents differ" % (name, len(data), size)
    return msg


def test_html_and_attachments_arrive_byte_for_byte(postfix, tmp_path):
    raw, paths = send(postfix, tmp_path, POSTFIX_PORT, "alice@example.test")
    check_message(raw, paths)


def test_without_8bitmime_the_message_is_7bit_clean(postfix, tmp_path):
    raw, paths = send(postfix, tmp_path, NO_8BITMIME_PORT, "alice@example.test")
    msg = check_message(raw, paths)
    for part in msg.walk():
        if not part.is_multipart():
            cte = part.get("Content-Transfer-Encoding", "7bit").lower()
            assert cte in ("7bit", "quoted-printable", "base64"), (part.get_content_type(), cte)
    # Postfix prepends its own ASCII headers; everything the client sent is 7-bit.
    assert all(b < 0x80 for b in raw), "8-bit bytes reached a server without 8BITMIME"


@pytest.mark.parametrize("flag", ["--attach", "--html-file"])
def test_a_missing_file_sends_nothing(postfix, tmp_path, flag):
    rcpt = "alice@example.test"
    snap = postfix.snapshot(rcpt)
    r = run_cli(cli_args(POSTFIX_PORT, to=[rcpt], body_file=None, extra=[flag, str(tmp_path / "absent")]), stdin=b"x\n")
    r.error("NX_SMTP_INVALID_PARAM")
    assert r.rc == 0xA5
    lines = r.stderr.decode().rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[0].startswith("smtp-send: %s " % flag), r
    postfix.assert_nothing_new(snap)
