#!/usr/bin/env python3
"""Reads a delivered MIME message with Python's `email` package and compares it with what was
sent, byte for byte (tests/live_attachments.rs).

    mime_check.py MESSAGE EXPECTED.json [--seven-bit]

EXPECTED.json: {"text": FILE, "html": FILE or null,
                "attachments": [{"name": NAME, "type": TYPE, "file": FILE}, ...]}
The text and HTML are compared with their line ends as the Maildir stores them (LF).
--seven-bit: the stored message must also be 7-bit clean with lines of at most 78 characters.

Prints one line and never any mail content; exits 0 when everything matches.
"""
import email
import email.policy
import json
import sys


def lf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def fail(why):
    print("mime_check: MISMATCH: " + why)
    sys.exit(1)


def main():
    path, expected_path = sys.argv[1], sys.argv[2]
    seven_bit = "--seven-bit" in sys.argv[3:]
    raw = open(path, "rb").read()
    expected = json.load(open(expected_path))
    if seven_bit:
        if any(b >= 0x80 for b in raw):
            fail("an 8-bit byte in a mail sent to a server without 8BITMIME")
        longest = max(len(line) for line in raw.split(b"\n"))
        if longest > 78:
            fail("a line of %d characters in a mail sent to a server without 8BITMIME" % longest)

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects:
        fail("message defects: %r" % msg.defects)
    texts, attachments = {}, []
    for part in msg.walk():
        if part.defects:
            fail("part defects: %r" % part.defects)
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            attachments.append(part)
        else:
            subtype = part.get_content_subtype()
            if subtype in texts:
                fail("two text/%s parts" % subtype)
            texts[subtype] = part

    want_html = expected.get("html") is not None
    kind = "multipart/mixed" if expected["attachments"] else "multipart/alternative" if want_html else "text/plain"
    if msg.get_content_type() != kind:
        fail("the message is %s, not %s" % (msg.get_content_type(), kind))
    if sorted(texts) != sorted(["plain"] + (["html"] if want_html else [])):
        fail("text parts %s" % sorted(texts))
    for subtype, key in (("plain", "text"), ("html", "html")):
        if subtype not in texts:
            continue
        part = texts[subtype]
        if part.get_content_charset() != "utf-8":
            fail("text/%s charset %s" % (subtype, part.get_content_charset()))
        got = lf(part.get_payload(decode=True))
        want = lf(open(expected[key], "rb").read())
        if got != want:
            fail("text/%s differs (%d bytes delivered, %d expected)" % (subtype, len(got), len(want)))

    if len(attachments) != len(expected["attachments"]):
        fail("%d attachments delivered, %d sent" % (len(attachments), len(expected["attachments"])))
    for i, (part, want) in enumerate(zip(attachments, expected["attachments"])):
        if part.get_filename() != want["name"]:
            fail("attachment %d is named %r, not %r" % (i, part.get_filename(), want["name"]))
        if part.get_content_type() != want["type"]:
            fail("attachment %d is %s, not %s" % (i, part.get_content_type(), want["type"]))
        if part.get("Content-Transfer-Encoding", "").lower() != "base64":
            fail("attachment %d is not base64" % i)
        got = part.get_payload(decode=True)
        data = open(want["file"], "rb").read()
        if got != data:
            fail("attachment %d (%d bytes) differs: %d bytes delivered" % (i, len(data), len(got)))
    sizes = ", ".join(str(len(open(a["file"], "rb").read())) for a in expected["attachments"])
    print("mime_check: ok: text%s, %d attachments (%s bytes)" % (" + html" if want_html else "", len(attachments), sizes))


if __name__ == "__main__":
    main()
