"""smtp-send -> aiosmtpd (127.0.0.1:2625): the exact bytes and envelope the server received."""
import email
import email.policy
import re

import pytest

from bodies import CASES, one_megabyte
from e2e import AIOSMTPD_PORT, DOMAIN, FROM, cli_args, normalise, run_cli


def split_crlf(eml):
    head, sep, body = eml.partition(b"\r\n\r\n")
    assert sep, "no CRLF CRLF after the header block:\n%r" % eml[:500]
    return head + b"\r\n", body


def assert_crlf_only(data, what):
    bare_lf = re.search(rb"(?<!\r)\n", data)
    bare_cr = re.search(rb"\r(?!\n)", data)
    assert not bare_lf and not bare_cr, "%s has a bare %s at %d: %r" % (
        what, "LF" if bare_lf else "CR", (bare_lf or bare_cr).start(),
        data[max(0, (bare_lf or bare_cr).start() - 40):(bare_lf or bare_cr).start() + 40])


@pytest.mark.parametrize("case", sorted(CASES) + ["one_megabyte"])
def test_exact_bytes(aio, body_file, case):
    body = one_megabyte() if case == "one_megabyte" else CASES[case]
    before = aio.snapshot()
    run_cli(cli_args(AIOSMTPD_PORT, to=["rcpt@aio.test"], subject="exact " + case,
                     body_file=body_file(body))).ok()
    eml, meta = aio.wait(before)
    head, got = split_crlf(eml)
    assert_crlf_only(head, "header block")
    expected = normalise(body)
    assert len(got) == len(expected), "body length %d, expected %d" % (len(got), len(expected))
    assert got == expected
    assert meta["size"] == len(eml)


def test_envelope_and_8bitmime(aio, body_file):
    to, cc, bcc = ["t1@aio.test", "t2@aio.test"], ["c1@aio.test"], ["b1@aio.test"]
    before = aio.snapshot()
    run_cli(cli_args(AIOSMTPD_PORT, to=to, cc=cc, bcc=bcc, subject="envelope",
                     body_file=body_file(CASES["utf8_8bit"]))).ok()
    eml, meta = aio.wait(before)
    assert meta["mail_from"] == FROM
    assert meta["rcpt_tos"] == to + cc + bcc
    assert "BODY=8BITMIME" in [o.upper() for o in meta["mail_options"]], meta["mail_options"]
    assert meta["helo"] == DOMAIN
    assert meta["auth_login"] == "alice"
    head, body = split_crlf(eml)
    assert body == normalise(CASES["utf8_8bit"])
    h = email.message_from_bytes(head + b"\r\n", policy=email.policy.default)
    assert h["bcc"] is None and b"b1@aio.test" not in head
    assert [a.addr_spec for a in h["cc"].addresses] == cc
    assert [a.addr_spec for a in h["to"].addresses] == to


def test_header_block_exact_fields(aio, body_file):
    """The header block holds exactly the contract's fields, once each, CRLF-terminated."""
    before = aio.snapshot()
    run_cli(cli_args(AIOSMTPD_PORT, to=["t@aio.test"], cc=["c@aio.test"], subject="fields",
                     priority="high", body_file=body_file(b"b\n"))).ok()
    eml, _ = aio.wait(before)
    head, _ = split_crlf(eml)
    names = [line.split(b":", 1)[0].lower().decode()
             for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]
    assert sorted(names) == sorted([
        "from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type",
        "content-transfer-encoding", "x-priority", "importance"]), names
    h = email.message_from_bytes(head + b"\r\n", policy=email.policy.default)
    assert h["mime-version"] == "1.0"
    assert h.get_content_type() == "text/plain" and h.get_param("charset").lower() == "utf-8"
    assert h["content-transfer-encoding"].lower() == "8bit"
    assert str(h["x-priority"]).startswith("1") and str(h["importance"]).lower() == "high"
