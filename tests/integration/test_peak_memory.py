"""smtp-send --attach streams: the peak memory of a send with a 200 MB attachment is the peak of a
send with a 1 KB one, within 64 KB.

The peak is the CLI process's maximum resident set (GNU time's %M, from wait4). Not the
rusage of a child of this process: the kernel carries the spawning process's peak over exec,
and pytest's is tens of MB; /usr/bin/time's own is about 1 MB, below the CLI's. ASLR is off for
the measured runs (setarch -R): with it on, where the stack, the heap and the libraries land
moves the count of partly used pages, and the peak of one and the same command varies by
about 300 KB between runs; with it off it is the same to the page.

The 64 KB: the CLI's memory is its fixed buffers (the client's receive and transmit buffers
and the attachment's encoder state), whatever the file's size; 64 KB (16 pages) leaves room for
pages the C library and the kernel map a little differently between runs, while reading the
file whole would add 200 MB (270 MB as base64) and even one byte kept per 512-byte read would
add 390 KB. The small send is measured three times and the large one twice: noise moves a
peak by whole pages either way, a real growth is in every run, so the largest small peak is
compared with the smallest large one.

The server is Postfix's smtp-sink on a free port, started and stopped here: it reads and
discards, so 270 MB pass in seconds (a Postfix queue or aiosmtpd would store them). The 200 MB
file is sparse: it takes no disk, and the CLI reads it like any other file."""
import os
import socket
import subprocess
import tempfile
import time

import pytest

from e2e import CLI, DOMAIN, FROM, free_port, stop

TIME = "/usr/bin/time"
LARGE = 200_000_000
SMALL = 1024
LIMIT = 64 * 1024
TIMEOUT = 120  # seconds for one send; 200 MB over loopback takes a few


@pytest.fixture
def sink():
    """smtp-sink on a free loopback port; the port. Stopped after the test."""
    port = free_port("127.0.0.1")
    user = ["-u", "postfix"] if os.geteuid() == 0 else []
    p = subprocess.Popen(["smtp-sink", *user, "127.0.0.1:%d" % port, "64"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                pass
            if p.poll() is not None:
                raise RuntimeError("smtp-sink exited: %s" % p.stderr.read().decode(errors="replace"))
            if time.monotonic() > deadline:
                raise RuntimeError("smtp-sink not listening on 127.0.0.1:%d after 10 s" % port)
            time.sleep(0.05)
        yield port
    finally:
        stop(p)
        p.stderr.close()


def peak_rss(argv):
    """Runs argv under GNU time with ASLR off; its peak resident set in bytes."""
    with tempfile.NamedTemporaryFile(mode="r") as out:
        r = subprocess.run(["setarch", "-R", TIME, "-q", "-f", "%M", "-o", out.name, *argv],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        assert r.returncode == 0, "%s failed (%d): %s" % (argv[0], r.returncode,
                                                         r.stderr.decode(errors="replace")[-400:])
        return int(out.read().split()[-1]) * 1024  # %M is in KiB


def send_argv(port, body, attachment):
    return [CLI, "--server", "127.0.0.1", "--port", str(port), "--domain", DOMAIN, "--from", FROM,
            "--to", "sink@example.test", "--subject", "peak memory", "--auth", "none",
            "--reply-timeout", "60", "--body-file", body, "--attach", attachment]


def test_peak_memory_does_not_grow_with_the_attachment(sink, tmp_path):
    assert os.access(TIME, os.X_OK), "GNU time (%s) is missing: scripts/servers/install-deps.sh" % TIME
    body = tmp_path / "body.txt"
    body.write_bytes(b"Readings attached.\n")
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(SMALL))
    large = tmp_path / "large.bin"
    try:
        with open(large, "wb") as f:
            f.truncate(LARGE)
        small_peaks = [peak_rss(send_argv(sink, str(body), str(small))) for _ in range(3)]
        t0 = time.monotonic()
        large_peaks = [peak_rss(send_argv(sink, str(body), str(large))) for _ in range(2)]
        seconds = time.monotonic() - t0
    finally:
        large.unlink(missing_ok=True)
    growth = min(large_peaks) - max(small_peaks)
    print("peak RSS: 1 KB attachment %s KiB, 200 MB attachment %s KiB (2 sends in %.1f s): "
          "growth %d KiB" % ([p // 1024 for p in small_peaks], [p // 1024 for p in large_peaks],
                             seconds, growth // 1024))
    assert growth < LIMIT, ("the peak grew by %d KiB with a 200 MB attachment (small: %s, large: %s KiB)"
                            % (growth // 1024, [p // 1024 for p in small_peaks],
                               [p // 1024 for p in large_peaks]))
