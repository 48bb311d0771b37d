#!/usr/bin/env python3
"""The benchmark of scripts/bench: every row measured in the same run, side by side.

    bench/run.py [--quick] [--footprint JSON] [--out DIR]

Groups (each holds /tmp/zsmtp-servers.lock while its servers run, and stops them before
releasing it):
  throughput  small mails to smtp-sink: a connection per mail, and many over one connection;
              zsmtp in-process, smtp-source (C), smtplib, lettre; and a process per mail:
              the smtp-send CLI, curl
  latency     the same clients through a proxy adding 20 ms each way: ms per mail and the
              client's round trips per mail (counted by the proxy) against the minimum
  large       one 20 MB mail: MB/s and client CPU seconds per MB, against a raw socket
  attachment  one mail with a 20 MB random file attached: MB/s of attachment and each sender's
              peak memory (max RSS), zsmtp streaming the file (library, CLI) against a raw
              socket writing the message encoded beforehand, lettre and smtplib + email
Footprint figures come from scripts/footprint (--footprint JSON).

Figures are medians over the repetitions; a ratio is taken inside each repetition (same
run, same conditions) and its median reported. No absolute time is a goal.
Writes DIR/results.md and DIR/results.json (DIR defaults to bench/). Loopback only."""
import argparse
import fcntl
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
LOCK = "/tmp/zsmtp-servers.lock"
HOST = "127.0.0.1"
# Not the test servers' ports (Postfix 2525, 2526, 2587, 2465; aiosmtpd 2625, 2665), which
# scripts/servers/start-all.sh binds without the lock: the bench runs while they are up.
SINK_PORT = 2546
PROXY_PORT = 2547
DELAY_MS = 20
FROM, TO = "bench@example.test", "sink@example.test"
BODY = ("Pump 7 over temperature.\nSensor 3 reads 93 C at 12:04:05.\n"
        "This is a small alarm mail of about two hundred bytes, sent by the benchmark.\n")

TARGET = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR") or "target")  # as cargo places it
ZSMTP = os.path.join(TARGET, "release/examples/bench_zsmtp")
CLI = os.path.join(TARGET, "release/smtp-send")
LETTRE = os.path.join(BENCH, "lettre/target/release/bench-lettre")
SMTPLIB = [sys.executable, os.path.join(BENCH, "smtplib_bench.py")]
TIME = "/usr/bin/time"  # GNU time: the attachment rows' peak memory


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ servers and the lock

def port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_port(port, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if port_open(port):
            return True
        time.sleep(0.02)
    return False


# The large-body group pins smtp-sink to CPU 0 and the senders to CPU 1 (with two CPUs or
# more): a 20 MB transfer is a race between one sender and the server, and without pinning the
# ratio to the raw socket swung from 57% to 122% between repetitions on this shared machine.
# The other groups let the scheduler place processes (pinning them made every row slower alike
# when other work was running on the machine).
PINNED = len(os.sched_getaffinity(0)) >= 2 and {0, 1} <= os.sched_getaffinity(0)
ALL_CPUS = os.sched_getaffinity(0)


def pin_clients(on):
    if PINNED:
        os.sched_setaffinity(0, {1} if on else ALL_CPUS)


class Servers:
    """Takes the shared lock, starts smtp-sink (and the proxy), and undoes it all on exit."""

    def __init__(self, tmp, proxy=False, pin=False):
        self.tmp, self.proxy, self.procs, self.lockf, self.pin = tmp, proxy, [], None, pin
        self.stats = os.path.join(tmp, "proxy-stats.jsonl")

    def __enter__(self):
        self.lockf = open(LOCK, "a")
        try:
            fcntl.flock(self.lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Queue in the kernel like the other users of the lock (flock -w), bounded by an alarm.
            log("waiting for /tmp/zsmtp-servers.lock (held by another user of the test ports)")

            def expired(*_):
                raise TimeoutError

            previous = signal.signal(signal.SIGALRM, expired)
            signal.alarm(1800)
            try:
                fcntl.flock(self.lockf, fcntl.LOCK_EX)
            except TimeoutError:
                raise SystemExit("bench: the servers lock was held for 30 minutes") from None
            finally:
                signal.alarm(0)
                signal.signal(signal.SIGALRM, previous)
        try:
            for port in [SINK_PORT] + ([PROXY_PORT] if self.proxy else []):
                if port_open(port):
                    raise SystemExit(f"bench: 127.0.0.1:{port} is already in use")
            user = ["-u", "postfix"] if os.geteuid() == 0 else []
            sink_log = open(os.path.join(self.tmp, "sink.log"), "a")
            self.procs.append(subprocess.Popen(
                ["smtp-sink", *user, "-m", "1024", f"{HOST}:{SINK_PORT}", "1024"],
                stdin=subprocess.DEVNULL, stdout=sink_log, stderr=sink_log, start_new_session=True,
                preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if self.pin and PINNED else None))
            pin_clients(self.pin)
            if not wait_port(SINK_PORT, 10):
                raise SystemExit("bench: smtp-sink did not start")
            if self.proxy:
                open(self.stats, "w").close()
                p = subprocess.Popen(
                    [sys.executable, os.path.join(BENCH, "latency_proxy.py"), str(PROXY_PORT), str(SINK_PORT),
                     str(DELAY_MS), self.stats],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=sink_log, start_new_session=True, text=True)
                self.procs.append(p)
                if not wait_port(PROXY_PORT, 10):
                    raise SystemExit("bench: the latency proxy did not start")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        pin_clients(False)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.procs.clear()
        if self.lockf:
            fcntl.flock(self.lockf, fcntl.LOCK_UN)
            self.lockf.close()
            self.lockf = None

    def settled(self, at_least):
        """Waits (at most 5 s) until the proxy logged at least `at_least` connections and
        nothing more for 300 ms (connections end after the client's last byte); the count."""
        end = time.monotonic() + 5
        count, since = -1, time.monotonic()
        while time.monotonic() < end:
            now = len(self.proxy_lines())
            if now != count:
                count, since = now, time.monotonic()
            elif count >= at_least and time.monotonic() - since >= 0.3:
                break
            time.sleep(0.02)
        return count

    def proxy_lines(self):
        with open(self.stats) as f:
            return [json.loads(line) for line in f if line.strip()]


# ------------------------------------------------------------------ running one row

def run_json(argv, timeout):
    """Runs a driver that reports its own timing as one JSON line."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({r.returncode}): {r.stderr.strip()[-400:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def spawn_wait(argv, stdin_path=None):
    """posix_spawn + wait4: (exit status, child CPU seconds)."""
    fa = [(os.POSIX_SPAWN_OPEN, 0, stdin_path or os.devnull, os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
          (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=fa)
    _, status, ru = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime


def run_measured(argv, timeout, timed_inside=True):
    """Runs a driver (its JSON line on stdout) under GNU time and adds its peak memory:
    `max_rss`, the maximum resident set in bytes. Not wait4 from here: a child's ru_maxrss
    starts from the RSS of the process that spawned it (the kernel carries the old image's
    peak over exec), which for this Python parent is tens of MB; /usr/bin/time's own is about
    1 MB, below every driver's. Drivers that do not time themselves (timed_inside=False: the
    CLI) are timed from outside, their CPU from wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as rss:
        full = [TIME, "-q", "-f", "%M", "-o", rss.name, *argv]
        fa = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
              (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(full[0], full, os.environ, file_actions=fa, setsid=True)
        end = t0 + timeout
        while True:
            done, status, ru = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() > end:
                os.killpg(pid, signal.SIGKILL)  # time and the driver: their own group
                os.wait4(pid, 0)
                raise RuntimeError(f"{argv[0]} took more than {timeout} s")
            time.sleep(0.002)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            raise RuntimeError(f"{argv[0]} failed ({rc}): {err.read().decode(errors='replace').strip()[-400:]}")
        if timed_inside:
            r = json.loads(out.read().decode().strip().splitlines()[-1])
        else:
            r = {"mails": 1, "ok": 1, "seconds": seconds, "cpu": ru.ru_utime + ru.ru_stime, "bytes": 0}
        r["max_rss"] = int(rss.read().split()[-1]) * 1024  # GNU time's %M is in KiB
    return r


def run_external(argv, mails):
    """One process doing all the mails (smtp-source, curl with many URLs), timed from outside."""
    t0 = time.perf_counter()
    rc, cpu = spawn_wait(argv)
    seconds = time.perf_counter() - t0
    return {"mails": mails, "ok": mails if rc == 0 else 0, "seconds": seconds, "cpu": cpu, "bytes": 0}


def run_per_process(argv, n):
    """A process per mail (the CLI, curl): wall time of the loop, CPU of the children."""
    ok, cpu = 0, 0.0
    t0 = time.perf_counter()
    for _ in range(n):
        rc, c = spawn_wait(argv)
        ok += rc == 0
        cpu += c
    return {"mails": n, "ok": ok, "seconds": time.perf_counter() - t0, "cpu": cpu, "bytes": 0}


class Files:
    def __init__(self, tmp):
        self.body = os.path.join(tmp, "body.txt")
        with open(self.body, "w") as f:
            f.write(BODY)
        # curl sends a file as it is: the same headers and body, CRLF lines.
        self.message = os.path.join(tmp, "message.eml")
        with open(self.message, "wb") as f:
            f.write((f"From: <{FROM}>\r\nTo: <{TO}>\r\nSubject: zsmtp benchmark\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                     + BODY.replace("\n", "\r\n")).encode())


def cli_argv(port, files):
    return [CLI, "--server", HOST, "--port", str(port), "--domain", "bench.example.test", "--from", FROM,
            "--to", TO, "--subject", "zsmtp benchmark", "--body-file", files.body]


def curl_argv(port, files, n):
    url = f"smtp://{HOST}:{port}/bench.example.test"
    argv = [shutil.which("curl"), "-s", "-S", "--mail-from", FROM, "--mail-rcpt", TO]
    for _ in range(n):
        argv += ["-T", files.message, url]
    return argv


def source_argv(port, n, kept):
    return [shutil.which("smtp-source"), *(["-d"] if kept else []), "-s", "1", "-m", str(n), "-l", "200",
            "-M", "bench.example.test", "-f", FROM, "-t", TO, f"{HOST}:{port}"]


def row_runner(client, mode, port, n, files, timeout=600):
    """How to run CLIENT in MODE (oneshot = a connection per mail, kept = one connection)."""
    if client == "zsmtp":
        return lambda: run_json([ZSMTP, mode, str(port), str(n)], timeout)
    if client == "zsmtp-auth":
        return lambda: run_json([ZSMTP, mode, str(port), str(n), "--auth"], timeout)
    if client == "zsmtp-auth-lockstep":
        return lambda: run_json([ZSMTP, mode, str(port), str(n), "--auth", "--lockstep"], timeout)
    if client == "zsmtp-lockstep":
        return lambda: run_json([ZSMTP, mode, str(port), str(n), "--lockstep"], timeout)
    if client == "smtp-source":
        return lambda: run_external(source_argv(port, n, mode == "kept"), n)
    if client == "smtplib":
        return lambda: run_json([*SMTPLIB, mode, str(port), str(n)], timeout)
    if client == "lettre":
        return lambda: run_json([LETTRE, mode, str(port), str(n)], timeout)
    if client == "zsmtp-cli":
        return lambda: run_per_process(cli_argv(port, files), n)
    if client == "curl" and mode == "oneshot":
        return lambda: run_per_process(curl_argv(port, files, 1), n)
    if client == "curl" and mode == "kept":
        return lambda: run_external(curl_argv(port, files, n), n)
    raise ValueError(client)


def checked(result, what):
    if result["ok"] != result["mails"]:
        raise RuntimeError(f"{what}: only {result['ok']} of {result['mails']} mails accepted")
    return result


def med(values):
    return statistics.median(values) if values else None


# ------------------------------------------------------------------ the groups

LABEL = {
    "zsmtp": "zsmtp (library, in-process)",
    "zsmtp-auth": "zsmtp, AUTH PLAIN, pipelining",
    "zsmtp-auth-lockstep": "zsmtp, AUTH PLAIN, lockstep (pipelining off)",
    "zsmtp-lockstep": "zsmtp, lockstep (pipelining off)",
    "smtp-source": "Postfix smtp-source (C)",
    "smtplib": "Python smtplib",
    "lettre": "lettre 0.11 (sync)",
    "zsmtp-cli": "zsmtp CLI smtp-send (process per mail)",
    "curl": "curl",
}


def throughput(tmp, files, reps, n_inproc, n_lettre, n_proc):
    # (client, mode, mails, class): class groups rows that are compared with each other.
    rows = [
        ("zsmtp", "oneshot", n_inproc, "conn"), ("smtp-source", "oneshot", n_inproc, "conn"),
        ("smtplib", "oneshot", n_inproc, "conn"), ("lettre", "oneshot", n_lettre, "conn"),
        ("zsmtp-cli", "oneshot", n_proc, "proc"), ("curl", "oneshot", n_proc, "proc"),
        ("zsmtp", "kept", n_inproc, "kept"), ("smtp-source", "kept", n_inproc, "kept"),
        ("smtplib", "kept", n_inproc, "kept"), ("lettre", "kept", n_lettre, "kept"),
        ("curl", "kept", n_inproc, "kept"),
    ]
    samples = {(c, m): [] for c, m, _, _ in rows}
    with Servers(tmp):
        for rep in range(reps):
            log(f"throughput: repetition {rep + 1}/{reps}")
            for client, mode, n, _ in rows:
                r = checked(row_runner(client, mode, SINK_PORT, n, files)(), f"{client} {mode}")
                samples[(client, mode)].append(r)
    out = []
    for client, mode, n, cls in rows:
        rs = samples[(client, mode)]
        ours_key = {"conn": ("zsmtp", "oneshot"), "proc": ("zsmtp-cli", "oneshot"), "kept": ("zsmtp", "kept")}[cls]
        ours = samples[ours_key]
        # Ratio per repetition: our mails/s over theirs, in the same repetition.
        ratios = [(o["ok"] / o["seconds"]) / (r["ok"] / r["seconds"]) for o, r in zip(ours, rs)]
        out.append({
            "client": client, "label": LABEL[client], "mode": mode, "class": cls, "mails": n,
            "repetitions": len(rs),
            "mails_per_s": med([r["ok"] / r["seconds"] for r in rs]),
            "cpu_ms_per_mail": med([1000 * r["cpu"] / r["mails"] for r in rs]),
            "ours_over_this": med(ratios),
        })
    return out


def latency(tmp, files, reps, n):
    # (client, mode, minimum client flights per mail)
    rows = [
        ("zsmtp-auth", "oneshot", 4), ("zsmtp-auth-lockstep", "oneshot", 4),
        ("zsmtp", "oneshot", 3), ("zsmtp-lockstep", "oneshot", 3),
        ("smtplib", "oneshot", 3), ("lettre", "oneshot", 3), ("curl", "oneshot", 3), ("smtp-source", "oneshot", 3),
        ("zsmtp", "kept", 2), ("zsmtp-lockstep", "kept", 2), ("smtplib", "kept", 2), ("lettre", "kept", 2),
        ("curl", "kept", 2),
    ]
    samples = {(c, m): [] for c, m, _ in rows}
    with Servers(tmp, proxy=True) as servers:
        for rep in range(reps):
            log(f"latency: repetition {rep + 1}/{reps}")
            for client, mode, _ in rows:
                before = servers.settled(0)
                r = checked(row_runner(client, mode, PROXY_PORT, n, files)(), f"{client} {mode} (latency)")
                conns = n if mode == "oneshot" else 1
                after = servers.settled(before + conns)
                lines = servers.proxy_lines()[before:after]
                if len(lines) != conns:
                    raise RuntimeError(f"{client} {mode}: the proxy saw {len(lines)} connections, expected {conns}")
                r["flights"] = sum(x["flights"] for x in lines)
                samples[(client, mode)].append(r)
    out = []
    for client, mode, minimum in rows:
        rs = samples[(client, mode)]
        out.append({
            "client": client, "label": LABEL[client], "mode": mode, "mails": n, "repetitions": len(rs),
            "ms_per_mail": med([1000 * r["seconds"] / r["mails"] for r in rs]),
            "round_trips_per_mail": med([r["flights"] / r["mails"] for r in rs]),
            # A kept connection also pays EHLO and QUIT (whose 221 a client SHOULD await).
            "minimum": minimum if mode == "oneshot" else (minimum * n + 2) / n,
            "auth": client.startswith("zsmtp-auth"),
        })
    return out


def large(tmp, reps, size):
    rows = [("zsmtp", ["large"]), ("zsmtp-tx8k", ["large", "--tx8k"]), ("raw", ["raw"])]
    samples = {name: [] for name, _ in rows}
    with Servers(tmp, pin=True):
        for rep in range(reps):
            log(f"large body: repetition {rep + 1}/{reps}")
            for name, args in rows:
                mode, *flags = args
                samples[name].append(checked(run_json([ZSMTP, mode, str(SINK_PORT), str(size), *flags], 120), name))
    out = []
    raw = samples["raw"]
    for name, _ in rows:
        rs = samples[name]
        out.append({
            "client": name,
            "label": {"zsmtp": "zsmtp Client::send (TX 1024, the default)",
                      "zsmtp-tx8k": "zsmtp Client::send (TX 8192)",
                      "raw": "raw socket, same bytes pre-encoded, one write_all"}[name],
            "bytes": size, "repetitions": len(rs),
            "mb_per_s": med([r["bytes"] / 1e6 / r["seconds"] for r in rs]),
            "cpu_s_per_mb": med([r["cpu"] / (r["bytes"] / 1e6) for r in rs]),
            "of_raw": med([(r["bytes"] / r["seconds"]) / (w["bytes"] / w["seconds"]) for r, w in zip(rs, raw)]),
            "of_raw_range": [f((r["bytes"] / r["seconds"]) / (w["bytes"] / w["seconds"]) for r, w in zip(rs, raw))
                             for f in (min, max)],
        })
    return out


def encoded_message(attachment, size, path):
    """Writes to `path` the DATA a MIME client sends for BODY with `attachment` attached (CRLF
    lines, base64 in 76-character lines, the final dot): the raw socket's pre-encoded bytes."""
    import base64
    boundary = "=_zsmtp-bench-boundary"
    name = os.path.basename(attachment)
    with open(attachment, "rb") as f:
        b64 = base64.b64encode(f.read())
    assert len(b64) == 4 * ((size + 2) // 3)
    head = (f"From: <{FROM}>\r\nTo: <{TO}>\r\nSubject: zsmtp benchmark\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
            + BODY.replace("\n", "\r\n")
            + f"\r\n--{boundary}\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    with open(path, "wb") as f:
        f.write(head.encode())
        for i in range(0, len(b64), 76 * 4096):
            chunk = b64[i:i + 76 * 4096]
            f.write(b"".join(chunk[j:j + 76] + b"\r\n" for j in range(0, len(chunk), 76)))
        f.write(f"\r\n--{boundary}--\r\n.\r\n".encode())


ATTACH_LABEL = {
    "zsmtp": "zsmtp Client::send_mime, file streamed (TX 1024, the default)",
    "zsmtp-tx8k": "zsmtp Client::send_mime, file streamed (TX 8192)",
    "zsmtp-cli": "zsmtp CLI smtp-send --attach (TX 16384, process timed from outside)",
    "raw": "raw socket, same message pre-encoded in memory, one write_all",
    "lettre": "lettre 0.11 (Attachment + MultiPart::mixed, sync SmtpTransport)",
    "smtplib": "Python smtplib + email (EmailMessage.add_attachment, send_message)",
}


def attachment(tmp, files, reps, size):
    path = os.path.join(tmp, "readings.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    encoded = os.path.join(tmp, "encoded.eml")
    encoded_message(path, size, encoded)
    port = str(SINK_PORT)
    rows = [
        ("zsmtp", [ZSMTP, "attach", port, path], True),
        ("zsmtp-tx8k", [ZSMTP, "attach", port, path, "--tx8k"], True),
        ("zsmtp-cli", [*cli_argv(SINK_PORT, files), "--attach", path], False),
        ("raw", [ZSMTP, "raw-file", port, encoded, str(size)], True),
        ("lettre", [LETTRE, "attach", port, path], True),
        ("smtplib", [*SMTPLIB, "attach", port, path], True),
    ]
    samples = {name: [] for name, _, _ in rows}
    try:
        with Servers(tmp, pin=True):
            for rep in range(reps):
                log(f"attachment: repetition {rep + 1}/{reps}")
                for name, argv, inside in rows:
                    r = checked(run_measured(argv, 300, inside), f"{name} (attachment)")
                    r["bytes"] = size
                    samples[name].append(r)
    finally:
        os.unlink(path)
        os.unlink(encoded)
    out = []
    ours, raw = samples["zsmtp"], samples["raw"]

    def rate(r):
        return r["bytes"] / r["seconds"]

    for name, _, _ in rows:
        rs = samples[name]
        out.append({
            "client": name, "label": ATTACH_LABEL[name], "bytes": size, "repetitions": len(rs),
            "mb_per_s": med([rate(r) / 1e6 for r in rs]),
            "cpu_s_per_mb": med([r["cpu"] / (r["bytes"] / 1e6) for r in rs]),
            "max_rss": med([r["max_rss"] for r in rs]),
            "of_raw": med([rate(r) / rate(w) for r, w in zip(rs, raw)]),
            "ours_over_this": med([rate(o) / rate(r) for o, r in zip(ours, rs)]),
            "rss_over_ours": med([r["max_rss"] / o["max_rss"] for o, r in zip(ours, rs)]),
        })
    return out


# ------------------------------------------------------------------ report

def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def goals(res):
    g = []
    tp = {(r["client"], r["mode"]): r for r in res["throughput"]}
    ours = tp[("zsmtp", "oneshot")]
    others = [r for r in res["throughput"] if r["class"] == "conn" and r["client"] != "zsmtp"]
    ok = all(r["ours_over_this"] >= 1.0 for r in others)
    worst = min(others, key=lambda r: r["ours_over_this"])
    g.append({"goal": "connection per mail: at least smtp-source and above every client",
              "met": ok, "detail": f"zsmtp {fmt(ours['mails_per_s'])}/s; lowest ratio {worst['ours_over_this']:.2f}x "
                                   f"({worst['label']})"})
    proc = [r for r in res["throughput"] if r["class"] == "proc" and r["client"] != "zsmtp-cli"]
    g.append({"goal": "process per mail: the CLI above curl", "met": all(r["ours_over_this"] >= 1.0 for r in proc),
              "detail": ", ".join(f"{r['ours_over_this']:.2f}x {r['label']}" for r in proc)})
    kept = [r for r in res["throughput"] if r["class"] == "kept" and r["client"] != "zsmtp"]
    g.append({"goal": "one connection: above every client", "met": all(r["ours_over_this"] >= 1.0 for r in kept),
              "detail": ", ".join(f"{r['ours_over_this']:.2f}x {r['client']}" for r in kept)})
    lat = [r for r in res["latency"] if r["client"] in ("zsmtp", "zsmtp-auth")]
    g.append({"goal": "minimum round trips (pipelining, AUTH PLAIN initial response)",
              "met": all(r["round_trips_per_mail"] <= r["minimum"] for r in lat),
              "detail": ", ".join(f"{r['label']} {r['mode']}: {r['round_trips_per_mail']:g} (min {r['minimum']})" for r in lat)})
    lg = {r["client"]: r for r in res["large"]}
    g.append({"goal": "large body within 80% of the raw socket", "met": lg["zsmtp"]["of_raw"] >= 0.8,
              "detail": f"default TX: {100 * lg['zsmtp']['of_raw']:.0f}% (repetitions "
                        f"{100 * lg['zsmtp']['of_raw_range'][0]:.0f}-{100 * lg['zsmtp']['of_raw_range'][1]:.0f}%), "
                        f"TX 8192: {100 * lg['zsmtp-tx8k']['of_raw']:.0f}%"})
    fp = res.get("footprint")
    if fp:
        m4 = fp["targets"].get("thumbv7em-none-eabihf", {})
        text = m4.get("code")
        # NetX Duo's scope is what the small profile (feature small) implements; the full profile
        # (pipelining, TLS, many recipients, Date/Message-ID, RFC 2047, ...) is shown beside it.
        small = (fp.get("small") or {}).get("code")
        g.append({"goal": "Cortex-M4 code smaller than NetX Duo's 4.7 KB with at least its features",
                  "met": small is not None and small < 4700,
                  "detail": (f"small profile (NetX Duo's scope): {small} B of .text+.rodata, {small / 4700:.2f}x NetX's 4700 B; "
                             f"full profile: {text} B, {text / 4700:.2f}x") if small and text else "not measured"})
        statics = [t.get("data", 0) + t.get("bss", 0) for t in fp["targets"].values()]
        if fp.get("small"):
            statics.append(fp["small"].get("data", 0) + fp["small"].get("bss", 0))
        g.append({"goal": "no static buffers", "met": bool(statics) and all(s == 0 for s in statics),
                  "detail": f".data+.bss of our code: {statics} B"})
    return g


def markdown(res):
    L = []
    q = " (--quick)" if res["quick"] else ""
    L.append(f"# zsmtp benchmark results{q}\n")
    L.append(f"Measured by `scripts/bench{' --quick' if res['quick'] else ''}` on {res['date']}, {res['machine']}. "
             "Loopback only, against Postfix's smtp-sink. Medians of the repetitions; every ratio is ours over "
             "theirs inside one repetition, then the median. No absolute time is a goal: compare rows.\n")
    L.append("## Throughput: small mails to smtp-sink\n")
    L.append("| Client | Connection | Mails x reps | Mails/s | CPU ms/mail | zsmtp is |")
    L.append("|---|---|---:|---:|---:|---:|")
    cls_name = {"conn": "one per mail", "proc": "one per mail, process per mail", "kept": "one for all mails"}
    for r in res["throughput"]:
        mine = r["client"] in ("zsmtp", "zsmtp-cli")
        L.append(f"| {'**' + r['label'] + '**' if mine else r['label']} | {cls_name[r['class']]} | "
                 f"{r['mails']} x {r['repetitions']} | {fmt(r['mails_per_s'])} | {fmt(r['cpu_ms_per_mail'], 3)} | "
                 f"{'-' if mine else fmt(r['ours_over_this'], 2) + 'x'} |")
    L.append("")
    L.append("\"zsmtp is\": zsmtp's mails/s over that row's, in the same repetition (library for in-process rows, "
             "CLI for process-per-mail rows, `Client::connect` for one-connection rows). lettre sends fewer mails "
             "per repetition because each of its mails waits for a delayed ACK (about 40 ms).\n")
    L.append(f"## Latency: {DELAY_MS} ms each way through a user-space proxy\n")
    L.append("| Client | Connection | Mails x reps | ms/mail | Round trips/mail | Minimum |")
    L.append("|---|---|---:|---:|---:|---:|")
    for r in res["latency"]:
        mine = r["client"].startswith("zsmtp")
        lab = r["label"] if r["client"] != "zsmtp" else "zsmtp, pipelining"
        lab = "**" + lab + "**" if mine else lab
        conn = "one per mail" if r["mode"] == "oneshot" else "one for all mails"
        L.append(f"| {lab} | {conn} | {r['mails']} x {r['repetitions']} | {fmt(r['ms_per_mail'], 1)} | "
                 f"{r['round_trips_per_mail']:g} | {r['minimum']:g} |")
    L.append("")
    L.append("Round trips are the client's flights counted by the proxy: bytes the client sends after the server "
             "has spoken, each of which waited for a reply. Minimum with PIPELINING and AUTH PLAIN's initial "
             "response: EHLO, AUTH, MAIL+RCPT+DATA, content+dot+QUIT = 4 with AUTH, 3 without; on a kept "
             "connection 2 per mail (envelope, content) plus EHLO and QUIT once, shared by the mails. The TCP handshake with the proxy is not delayed, so ms/mail "
             "is about 20 ms (the greeting) + 40 ms per round trip. Only zsmtp rows authenticate.\n")
    L.append("## Large body: one 20 MB mail to smtp-sink\n")
    L.append("| Sender | MB/s | CPU s/MB | Of raw socket | Range over repetitions |")
    L.append("|---|---:|---:|---:|---:|")
    for r in res["large"]:
        lo, hi = r["of_raw_range"]
        L.append(f"| {r['label']} | {fmt(r['mb_per_s'])} | {fmt(r['cpu_s_per_mb'], 4)} | {100 * r['of_raw']:.0f}% | "
                 f"{100 * lo:.0f}-{100 * hi:.0f}% |")
    L.append("")
    L.append("MB = 10^6 bytes of body (76-character lines with LF ends, which zsmtp turns into CRLF and checks "
             "as it sends). The raw socket writes the same wire bytes, encoded before its clock starts. "
             + ("smtp-sink runs on CPU 0 and the senders on CPU 1. " if res.get("pinned") else "")
             + "Other load on the machine moves this row most; the range shows the spread.\n")
    at = res.get("attachment")
    if at:
        L.append(f"## Attachment: one mail with a {at[0]['bytes'] / 1e6:g} MB random file attached, to smtp-sink\n")
        L.append("| Sender | MB/s | CPU s/MB | Peak RSS (MB) | Of raw socket | zsmtp is | Peak RSS over zsmtp's |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in at:
            mine = r["client"] == "zsmtp"
            L.append(f"| {'**' + r['label'] + '**' if mine else r['label']} | {fmt(r['mb_per_s'])} | "
                     f"{fmt(r['cpu_s_per_mb'], 4)} | {fmt(r['max_rss'] / 1e6, 1)} | {100 * r['of_raw']:.0f}% | "
                     f"{'-' if mine else fmt(r['ours_over_this'], 2) + 'x'} | "
                     f"{'-' if mine else fmt(r['rss_over_ours'], 1) + 'x'} |")
        L.append("")
        L.append("MB = 10^6 bytes of attachment (the file; base64 makes the mail 1.37 times larger). Every sender "
                 "reads the file inside its timed part and sends it as base64 in 76-character lines beside the "
                 "small text; the raw socket writes a message of the same shape encoded before its clock starts "
                 "(the ceiling, and it holds the whole message). Peak RSS is the process's maximum resident set "
                 "(GNU time), the program and its libraries included. \"zsmtp is\": the first row's MB/s over that "
                 "row's, in the same repetition. "
                 + ("smtp-sink runs on CPU 0 and the senders on CPU 1.\n" if res.get("pinned") else "\n"))
    fp = res.get("footprint")
    if fp:
        L.append("## Footprint: the three NetX Duo services, our code alone\n")
        L.extend(fp["markdown"])
        L.append("")
    L.append("## Goals\n")
    L.append("| Goal | Met | Figures |")
    L.append("|---|---|---|")
    for g in res["goals"]:
        L.append(f"| {g['goal']} | {'yes' if g['met'] else '**not yet**'} | {g['detail']} |")
    L.append("")
    L.append("Reproduce: `scripts/bench` (full, under 15 minutes) or `scripts/bench --quick` (under 3 minutes); "
             "footprint alone: `scripts/footprint`.\n")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--footprint")
    ap.add_argument("--out", default=BENCH)
    a = ap.parse_args()
    t_start = time.monotonic()
    if a.quick:
        reps, n_inproc, n_lettre, n_proc, lat_reps, lat_n, large_reps = 2, 500, 10, 100, 1, 4, 3
        attach_reps, attach_size = 2, 5_000_000
    else:
        reps, n_inproc, n_lettre, n_proc, lat_reps, lat_n, large_reps = 5, 2000, 100, 500, 3, 10, 9
        attach_reps, attach_size = 5, 20_000_000
    for path in (ZSMTP, CLI, LETTRE, TIME):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"bench: {path} missing (scripts/bench builds it)")
    with tempfile.TemporaryDirectory(prefix="zsmtp-bench-") as tmp:
        files = Files(tmp)
        res = {"quick": a.quick, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}",
               "pinned": PINNED}
        res["throughput"] = throughput(tmp, files, reps, n_inproc, n_lettre, n_proc)
        res["latency"] = latency(tmp, files, lat_reps, lat_n)
        res["large"] = large(tmp, large_reps, 20_000_000)
        res["attachment"] = attachment(tmp, files, attach_reps, attach_size)
    if a.footprint:
        with open(a.footprint) as f:
            res["footprint"] = json.load(f)
    res["goals"] = goals(res)
    res["seconds"] = round(time.monotonic() - t_start, 1)
    md = markdown(res)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print(md)
    log(f"done in {res['seconds']} s; wrote {a.out}/results.md and results.json")


if __name__ == "__main__":
    main()
