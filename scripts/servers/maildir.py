#!/usr/bin/env python3
"""Reading the Postfix test instance's Maildirs.

Postfix stores messages with LF line endings and prepends Return-Path, X-Original-To,
Delivered-To and Received (folded over several lines). Strip those and map the CRLF of what
was sent to LF, and the stored message equals what the client sent.

Library use (tests/integration imports this file):
    box = mailbox_dir(base, "alice@example.test")
    before = snapshot(box)
    ...send...
    path = wait_new(box, before, timeout=30)[0]
    headers, body = split(strip_postfix_headers(read(path)))

Command line (scripts/demo):
    maildir.py show BASE ADDRESS [WAIT]   print the newest message of ADDRESS's Maildir,
                                          waiting up to WAIT seconds for one to arrive
"""
import os
import sys
import time

POSTFIX_PREPENDED = (b"return-path", b"x-original-to", b"delivered-to", b"received")
# The catch-all Maildir of example.test and the mailboxes with their own Maildir
# (postfix-setup.sh's vmailbox).
OWN_MAILBOX = {
    "example.test": {"alice", "bob", "carol", "dave"},
    "strict.test": {"alice", "bob"},
}


def mailbox_dir(base, address):
    """The Maildir of `address` under the virtual_mailbox_base `base`."""
    local, _, domain = address.rpartition("@")
    users = OWN_MAILBOX.get(domain)
    if users is None:
        raise ValueError("no Maildir for domain %r" % domain)
    if local not in users:
        if domain != "example.test":
            raise ValueError("%s is refused by Postfix (no catch-all)" % address)
        local = "catchall"
    return os.path.join(base, domain, local)


def messages(box):
    """Paths of every message in the Maildir `box` (new/ and cur/); [] if it does not exist."""
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(box, sub)
        try:
            out.extend(os.path.join(d, n) for n in os.listdir(d) if not n.startswith("."))
        except FileNotFoundError:
            pass
    return out


def snapshot(box):
    """The set of messages in `box` now (to find the ones that arrive later)."""
    return set(messages(box))


def wait_new(box, before, timeout, count=1):
    """Waits (at most `timeout` seconds) until `count` messages not in `before` are in `box`;
    returns them oldest first. Raises TimeoutError with what was found otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        new = [p for p in messages(box) if p not in before]
        if len(new) >= count:
            return sorted(new, key=lambda p: (os.stat(p).st_mtime_ns, p))
        if time.monotonic() >= deadline:
            raise TimeoutError("%d new message(s) in %s after %.0f s, expected %d"
                               % (len(new), box, timeout, count))
        time.sleep(0.05)


def newest(box):
    """The most recently delivered message in `box` (None if empty)."""
    ms = messages(box)
    return max(ms, key=lambda p: (os.stat(p).st_mtime_ns, p)) if ms else None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def header_name(line):
    return line.split(b":", 1)[0].strip().lower()


def strip_postfix_headers(raw):
    """Removes the header fields Postfix prepends (only the leading ones, with their
    continuation lines)."""
    lines = raw.split(b"\n")
    i = 0
    while i < len(lines) and lines[i] and lines[i][:1] not in (b" ", b"\t") \
            and header_name(lines[i]) in POSTFIX_PREPENDED:
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    return b"\n".join(lines[i:])


def prepended(raw):
    """The header block Postfix prepended (Return-Path ... Received), as bytes."""
    stripped = strip_postfix_headers(raw)
    return raw[: len(raw) - len(stripped)]


def split(msg, eol=b"\n"):
    """(header block, body) of a message; the blank line belongs to neither."""
    sep = eol + eol
    if msg.startswith(eol):
        return b"", msg[len(eol):]
    head, found, body = msg.partition(sep)
    if not found:
        raise ValueError("message has no blank line after its header")
    return head + eol, body


def main(argv):
    if len(argv) not in (4, 5) or argv[1] != "show":
        sys.exit("usage: maildir.py show BASE ADDRESS [WAIT]")
    box = mailbox_dir(argv[2], argv[3])
    if len(argv) == 5:
        try:
            wait_new(box, set(), float(argv[4]))
        except TimeoutError as e:
            sys.exit(str(e))
    path = newest(box)
    if path is None:
        sys.exit("no message for %s" % argv[3])
    print("==> %s" % path)
    sys.stdout.flush()
    sys.stdout.buffer.write(read(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
