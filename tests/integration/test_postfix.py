"""smtp-send -> Postfix (127.0.0.1:2525) -> Maildir: what a real MTA delivers."""
import email
import email.policy
import email.utils
import re
import time
from datetime import datetime, timezone

import pytest

from bodies import CASES, one_megabyte
from e2e import (POSTFIX_PORT, DOMAIN, FROM, as_stored_by_postfix, cli_args, run_cli,
                      stored_parts)


def headers_of(head):
    return email.message_from_bytes(head + b"\n", policy=email.policy.default)


@pytest.mark.parametrize("mech,auth", [("PLAIN", "plain"), ("LOGIN", "login")])
def test_auth_delivers_into_maildir(postfix, body_file, mech, auth):
    rcpt = "alice@example.test"
    subject = "auth %s %d" % (mech, time.monotonic_ns())
    body = b"Authenticated with %s.\n" % mech.encode()
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject=subject, auth=auth,
                     body_file=body_file(body))).ok()
    raw = postfix.wait(snap, rcpt)
    proto, queue_id = postfix.received_with(raw)
    assert proto == "ESMTPA", "Received header says %s, not ESMTPA" % proto
    assert postfix.sasl_method(queue_id) == mech
    # the EHLO name is --domain
    assert re.search(rb"Received: from %s \(" % re.escape(DOMAIN.encode()), raw), raw[:400]
    head, stored = stored_parts(raw)
    assert stored == as_stored_by_postfix(body)
    h = headers_of(head)
    assert h["subject"] == subject
    assert rcpt in h["to"]


def test_message_headers(postfix, body_file):
    rcpt = "bob@example.test"
    subject = "headers %d" % time.monotonic_ns()
    snap = postfix.snapshot(rcpt)
    before = datetime.now(timezone.utc)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject=subject, body_file=body_file(b"hi\n"))).ok()
    head, _ = stored_parts(postfix.wait(snap, rcpt))
    h = headers_of(head)
    assert h["from"].addresses[0].addr_spec == FROM
    assert [a.addr_spec for a in h["to"].addresses] == [rcpt]
    assert h["subject"] == subject
    assert h["mime-version"] == "1.0"
    assert h.get_content_type() == "text/plain"
    assert h.get_param("charset").lower() == "utf-8"
    assert h["content-transfer-encoding"].lower() == "8bit"
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(h["message-id"]).strip()), h["message-id"]
    date = email.utils.parsedate_to_datetime(str(h["date"]))
    if date.tzinfo is None:  # "-0000": UTC, local zone unknown (RFC 5322 3.3)
        date = date.replace(tzinfo=timezone.utc)
    assert abs((date - before).total_seconds()) < 600, "Date %s is not now (%s)" % (h["date"], before)
    assert h["cc"] is None and h["bcc"] is None
    for name in ("from", "to", "subject", "date", "message-id", "mime-version", "content-type"):
        assert len(h.get_all(name)) == 1, "%s appears %d times" % (name, len(h.get_all(name)))


def test_message_ids_differ(postfix, body_file):
    rcpt = "carol@example.test"
    ids = []
    for i in range(2):
        snap = postfix.snapshot(rcpt)
        run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject="mid %d" % i,
                         body_file=body_file(b"x\n"))).ok()
        head, _ = stored_parts(postfix.wait(snap, rcpt))
        ids.append(str(headers_of(head)["message-id"]))
    assert ids[0] != ids[1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_body_delivered_normalised(postfix, body_file, case):
    rcpt = "alice@example.test"
    body = CASES[case]
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject="body " + case,
                     body_file=body_file(body))).ok()
    _, stored = stored_parts(postfix.wait(snap, rcpt))
    assert stored == as_stored_by_postfix(body)


def test_body_from_stdin(postfix):
    rcpt = "alice@example.test"
    body = CASES["leading_dots"] + CASES["crlf_mixed"]
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject="stdin body"), stdin=body).ok()
    _, stored = stored_parts(postfix.wait(snap, rcpt))
    assert stored == as_stored_by_postfix(body)


def test_one_megabyte_body(postfix, body_file):
    rcpt = "dave@example.test"
    body = one_megabyte()
    assert len(body) >= 1024 * 1024
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject="1 MB", body_file=body_file(body))).ok()
    _, stored = stored_parts(postfix.wait(snap, rcpt))
    expected = as_stored_by_postfix(body)
    assert len(stored) == len(expected)
    assert stored == expected


SUBJECTS = {
    "latin1": "Grüße – Temperatur 93 °C",
    "cjk": "温度警报: 泵 3 过热",
    "emoji": "🌡️ alarm ✓",
    "long_korean": "펌프 3번의 온도가 임계값을 초과했습니다. 즉시 확인해 주십시오. " * 3,
    "encoded_word_lookalike": "=?utf-8?q?not_an_encoded_word?= ü",
}


@pytest.mark.parametrize("case", sorted(SUBJECTS))
def test_non_ascii_subject_round_trips(postfix, body_file, case):
    rcpt = "bob@example.test"
    subject = SUBJECTS[case]
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject=subject, body_file=body_file(b"s\n"))).ok()
    head, _ = stored_parts(postfix.wait(snap, rcpt))
    assert head.isascii(), "header block is not ASCII (no RFC 2047 encoding):\n%r" % head
    assert all(len(line) <= 998 for line in head.split(b"\n"))
    assert headers_of(head)["subject"] == subject


def test_ascii_subject_verbatim(postfix, body_file):
    rcpt = "bob@example.test"
    subject = "Pump 3: over temperature (93 C) [id %d]" % time.monotonic_ns()
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject=subject, body_file=body_file(b"s\n"))).ok()
    head, _ = stored_parts(postfix.wait(snap, rcpt))
    assert b"\nSubject: " + subject.encode() + b"\n" in b"\n" + head


def test_several_recipients(postfix, body_file):
    to = ["alice@example.test", "bob@example.test"]
    cc = ["carol@example.test"]
    bcc = ["dave@example.test"]
    everyone = to + cc + bcc
    subject = "several %d" % time.monotonic_ns()
    body = b"to two, cc one, bcc one\n"
    snap = postfix.snapshot(*everyone)
    run_cli(cli_args(POSTFIX_PORT, to=to, cc=cc, bcc=bcc, subject=subject,
                     body_file=body_file(body))).ok()
    for rcpt in everyone:
        raw = postfix.wait(snap, rcpt)
        head, stored = stored_parts(raw)
        h = headers_of(head)
        assert h["subject"] == subject
        assert stored == as_stored_by_postfix(body)
        assert sorted(a.addr_spec for a in h["to"].addresses) == sorted(to)
        assert [a.addr_spec for a in h["cc"].addresses] == cc
        assert h["bcc"] is None, "Bcc header delivered to %s" % rcpt
        assert b"dave" not in head.lower(), "Bcc address in the headers delivered to %s:\n%s" % (
            rcpt, head.decode("utf-8", "replace"))


@pytest.mark.parametrize("priority,x_priority,importance",
                         [("low", "5", "low"), ("normal", "3", "normal"), ("high", "1", "high")])
def test_priority_headers(postfix, body_file, priority, x_priority, importance):
    rcpt = "carol@example.test"
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], subject="priority " + priority, priority=priority,
                     body_file=body_file(b"p\n"))).ok()
    head, _ = stored_parts(postfix.wait(snap, rcpt))
    h = headers_of(head)
    assert h["x-priority"] is not None and h["importance"] is not None, head
    assert re.match(r"%s\b" % x_priority, str(h["x-priority"]).strip()), h["x-priority"]
    assert str(h["importance"]).strip().lower() == importance
    assert len(h.get_all("x-priority")) == 1 and len(h.get_all("importance")) == 1


def test_server_by_name_localhost(postfix, body_file):
    rcpt = "alice@example.test"
    snap = postfix.snapshot(rcpt)
    run_cli(cli_args(POSTFIX_PORT, to=[rcpt], server="localhost", subject="via localhost",
                     body_file=body_file(b"name\n"))).ok()
    _, stored = stored_parts(postfix.wait(snap, rcpt))
    assert stored == b"name\n"
