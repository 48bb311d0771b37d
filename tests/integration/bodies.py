"""Bodies that exercise line-ending normalisation, dot-stuffing and 8-bit text."""
import random

CASES = {
    # lines starting with '.', '..' and a lone '.' line: dot-stuffing on the wire
    "leading_dots": b"first line\n.starts with a dot\n..starts with two dots\n.\nafter a lone dot\n",
    "lone_dot_first": b".\nthe line above was a lone dot\n",
    "ends_with_lone_dot_no_newline": b"last line is a lone dot without newline\n.",
    "dot_after_bare_cr": b"x\r.y after a bare CR\r..z\r",
    "bare_lf": b"one\ntwo\nthree\n",
    "bare_cr": b"one\rtwo\rthree\r",
    "crlf_mixed": b"crlf\r\nlf\ncr\rcrlf again\r\n\r\nblank above\n\rlf then cr\r\r\nend",
    "utf8_8bit": "Grüße aus Köln\n温度 93 °C — Pumpe 3 überhitzt\n🌡️ Ünïcödé ✓\n".encode("utf-8"),
    "no_final_newline": b"a body without a final newline",
    "blank_lines_at_end": b"text\n\n\n",
    "line_of_998": b"A" * 998 + b"\nnext\n",
    "dot_line_of_998": b"." + b"d" * 997 + b"\n",
}


def one_megabyte(seed=20240601):
    """About 1 MiB of deterministic text: lines of 0..990 bytes, mixed line endings, some
    starting with '.', some 8-bit UTF-8."""
    rnd = random.Random(seed)
    words = [b"pump", b"sensor", b"93", b"\xc2\xb0C", b"temp\xc3\xa9rature", b"\xe6\xb8\xa9\xe5\xba\xa6",
             b"ok", b".", b"..", b"alarm", b"x" * 40]
    endings = [b"\n"] * 6 + [b"\r\n"] * 3 + [b"\r"]
    out = []
    size = 0
    while size < 1024 * 1024:
        line = b""
        target = rnd.randrange(0, 900)
        if rnd.random() < 0.1:
            line = b"." * rnd.randrange(1, 3)
        while len(line) < target:
            line += rnd.choice(words) + b" "
        line = line[:990]
        # never cut a UTF-8 sequence in half
        line = line.decode("utf-8", "ignore").encode("utf-8")
        out.append(line + rnd.choice(endings))
        size += len(out[-1])
    return b"".join(out)
