"""The outbox of the CLI: smtp-send --queue DIR / --flush DIR / --list DIR against the real
servers. Mails are counted by a unique token in their body, so duplicates show."""
import os
import random
import re
import signal
import socket
import subprocess
import time
import uuid

from e2e import (CLI, DELIVERY_TIMEOUT, FROM, MAILDIR, PASSWORD, POSTFIX_PORT, USER, maildir,
                 run_cli)

RCPT = "dave@example.test"
TOKEN = re.compile(rb"outbox-token-[0-9a-f]{8}-\d{3}")


def queue(box, n, body_file, to=RCPT, run_id=None):
    """Queues `n` mails to `to` in `box`; returns their tokens (each mail's body holds one)."""
    run_id = run_id or uuid.uuid4().hex[:8]
    tokens = []
    for i in range(n):
        token = "outbox-token-%s-%03d" % (run_id, i)
        r = run_cli(["--queue", box, "--from", FROM, "--to", to, "--subject", "outbox %d" % i,
                     "--body-file", body_file(("Alarm %d\n%s\n" % (i, token)).encode())]).ok()
        assert r.stdout.strip().isdigit(), r
        tokens.append(token)
    return tokens


def listed(box):
    r = run_cli(["--list", box]).ok()
    return [line.split(" ", 3) for line in r.stdout.decode().splitlines()]


def flush_args(box, port, deadline="10", auth=True):
    a = ["--flush", box, "--server", "127.0.0.1", "--port", port, "--domain", "outbox.test",
         "--deadline", deadline, "--reply-timeout", "10"]
    if auth:
        a += ["--user", USER, "--password", PASSWORD]
    return a


def dead_port():
    """A port nothing listens on (bound, so no other process takes it meanwhile)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def tokens_in_maildir(address, wanted, timeout=DELIVERY_TIMEOUT):
    """How often each token of `wanted` is in `address`'s Maildir, once every one arrived (or
    the timeout passed), after a short settle for late duplicates."""
    box = maildir.mailbox_dir(MAILDIR, address)
    wanted = set(wanted)
    deadline = time.monotonic() + timeout
    settled = None
    while True:
        counts = {}
        for path in maildir.messages(box):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            for t in TOKEN.findall(data):
                t = t.decode()
                if t in wanted:
                    counts[t] = counts.get(t, 0) + 1
        if set(counts) == wanted:
            settled = settled or time.monotonic() + 1.0
            if time.monotonic() >= settled:
                return counts
        if time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def records(box):
    return [n for n in os.listdir(box) if n.endswith(".rec")] if os.path.isdir(box) else []


def test_queue_prints_an_id_contacts_no_server_and_refuses_bad_input(tmp_path, body_file):
    box = str(tmp_path / "outbox")
    # No server flag at all: nothing to contact.
    r = run_cli(["--queue", box, "--from", FROM, "--to", RCPT, "--subject", "one",
                 "--body-file", body_file(b"one\n")]).ok()
    assert r.stdout == b"1\n", r
    for bad in (["--to", "not an address"], ["--to", "a@example.test\r\nRCPT TO:<x@y>"],
                ["--to", RCPT, "--subject", "a\nBcc: x@y"]):
        before = sorted(records(box))
        r = run_cli(["--queue", box, "--from", FROM, "--body-file", body_file(b"x\n")] + bad)
        r.error("NX_SMTP_INVALID_PARAM")
        assert r.rc == 0xA5 and r.stdout == b"", r
        assert sorted(records(box)) == before, "a refused mail left records"
    assert run_cli(["--queue", str(tmp_path / "other"), "--from", FROM,
                    "--body-file", body_file(b"x\n")]).rc == 0xA5
    assert listed(box) == [["1", "queued", "0", "-"]]


def test_fifty_mails_wait_out_an_outage_and_arrive_once(tmp_path, body_file):
    box = str(tmp_path / "outbox")
    tokens = queue(box, 50, body_file)
    sock, port = dead_port()
    try:
        r = run_cli(flush_args(box, port, deadline="1"))
    finally:
        sock.close()
    assert r.rc != 0, r
    last = r.stderr.decode().rstrip("\n").split("\n")[-1]
    assert last.startswith("error: 50 mail(s) remain queued in ") and "NX_NOT_CONNECTED" in last, r
    rows = listed(box)
    assert len(rows) == 50 and [row[0] for row in rows] == [str(i) for i in range(1, 51)], rows
    assert {row[1] for row in rows} <= {"queued", "retrying"} and rows[0][1] == "retrying", rows
    assert rows[0][3] == "NX_NOT_CONNECTED", rows[0]

    r = run_cli(flush_args(box, POSTFIX_PORT)).ok()
    assert r.stdout.decode().count(" delivered: 250 ") == 50, r
    assert listed(box) == [] and records(box) == []
    counts = tokens_in_maildir(RCPT, tokens)
    assert counts == {t: 1 for t in tokens}, counts


def test_sigkill_during_flush_loses_nothing(tmp_path, body_file):
    box = str(tmp_path / "outbox")
    tokens = queue(box, 50, body_file)
    rng = random.Random(1313)
    kills = 0
    for _ in range(10):
        p = subprocess.Popen([CLI] + [str(a) for a in flush_args(box, POSTFIX_PORT)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.003, 0.02))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait(timeout=30)
        if not listed(box):
            break
    assert kills >= 2, "the flushes finished before their kills: %d kill(s)" % kills
    run_cli(flush_args(box, POSTFIX_PORT)).ok()
    assert listed(box) == [] and records(box) == []
    counts = tokens_in_maildir(RCPT, tokens)
    missing = [t for t in tokens if t not in counts]
    assert not missing, "lost: %r" % missing
    duplicates = sum(n - 1 for n in counts.values())
    print("kills %d, duplicates %d" % (kills, duplicates))
    assert duplicates <= kills, "%d duplicates after %d kills: %r" % (duplicates, kills, counts)


def test_4xx_is_retried_and_5xx_set_aside_once(tmp_path, body_file, private_aiosmtpd):
    port, server = private_aiosmtpd("127.0.0.1")
    box = str(tmp_path / "outbox")
    run_id = uuid.uuid4().hex[:8]
    before = server.snapshot()
    later = queue(box, 1, body_file, to="defer-%s@aio.test" % run_id)
    refused = queue(box, 1, body_file, to="reject-%s@aio.test" % run_id)
    fine = queue(box, 1, body_file, to="fine@aio.test")
    r = run_cli(flush_args(box, port, deadline="20"))
    assert r.rc == 0xAA, r  # NX_SMTP_RCPT_REPLY_ERROR, of the refusal
    err = r.stderr.decode()
    assert "mail 1 not delivered (attempt 1), will retry: 451 4.3.0" in err, r
    assert "mail 2 refused for good, set aside as failed: 550 5.1.1" in err, r
    assert err.rstrip("\n").split("\n")[-1].startswith("error: 1 mail(s) refused for good"), r
    assert r.stdout.decode().count(" delivered: 250 ") == 2, r
    rows = listed(box)
    assert len(rows) == 1 and rows[0][:3] == ["2", "failed", "1"], rows
    assert rows[0][3].startswith("550 5.1.1 <reject-"), rows
    # Never retried: the next flush has nothing to do, and says so with exit 0.
    run_cli(flush_args(box, port)).ok()
    assert listed(box) == rows
    bodies = [open(os.path.join(server.out, n), "rb").read() for n in sorted(os.listdir(server.out))
              if n.endswith(".eml") and n[:-4] not in before]
    got = sorted(t.decode() for b in bodies for t in TOKEN.findall(b))
    assert got == sorted(later + fine), got
    assert refused[0] not in got


# Mails one --queue directory holds (src/bin/smtp-send.rs, outbox_cli::CAPACITY: the
# outbox's MAX_SLOTS less one).
CAPACITY = 254


def test_a_full_outbox_is_refused_and_drops_no_older_mail(tmp_path, body_file):
    """A --queue DIR holding CAPACITY mails refuses the next one with 0xA6 and one line of
    reason, stores nothing of it (twice in a row), and keeps every earlier mail listed and
    deliverable."""
    box = str(tmp_path / "outbox")
    tokens = queue(box, CAPACITY, body_file)
    before = sorted(records(box))
    for attempt in range(2):
        r = run_cli(["--queue", box, "--from", FROM, "--to", RCPT, "--subject", "one too many",
                     "--body-file", body_file(b"one too many %d\n" % attempt)])
        r.error("NX_SMTP_PACKET_ALLOCATE_ERROR")
        assert r.rc == 0xA6 and r.stdout == b"", r
        # The CLI's form of every error: one line of reason, then the status line.
        lines = r.stderr.decode().rstrip("\n").split("\n")
        assert len(lines) == 2 and lines[0] == "smtp-send: outbox %s is full (%d mails); nothing was stored" % (box, CAPACITY), r
        assert sorted(records(box)) == before, "a refused mail left records"
    rows = listed(box)
    assert [row[0] for row in rows] == [str(i) for i in range(1, CAPACITY + 1)], rows
    assert all(row[1:] == ["queued", "0", "-"] for row in rows), rows
    # And every one of them is whole: one flush delivers them all, each once.
    r = run_cli(flush_args(box, POSTFIX_PORT, deadline="60")).ok()
    assert r.stdout.decode().count(" delivered: 250 ") == CAPACITY, r
    assert listed(box) == [] and records(box) == []
    counts = tokens_in_maildir(RCPT, tokens)
    assert counts == {t: 1 for t in tokens}, counts
