//! Benchmark driver for `scripts/bench`: the zsmtp library driven in-process, plus the raw
//! socket baseline of the large-body row. Prints one JSON object on stdout.
//!
//! ```text
//! bench_zsmtp oneshot PORT N [--auth] [--lockstep]   N mails, a connection per mail (Client::send)
//! bench_zsmtp kept    PORT N [--auth] [--lockstep]   N mails over one connection (Client::connect)
//! bench_zsmtp large   PORT BYTES [--tx8k]            one mail with a BYTES body (Client::send)
//! bench_zsmtp raw     PORT BYTES                     the same mail's bytes written on a plain socket
//! bench_zsmtp attach  PORT PATH [--tx8k]             one mail with PATH attached, streamed (Client::send_mime)
//! bench_zsmtp raw-file PORT PATH BYTES               PATH's bytes (a whole DATA, CRLF lines and the
//!                                                    final dot) written on a plain socket
//! ```
//!
//! `--lazy-timeouts` (an experiment for docs/PERFORMANCE.md, not the library's behaviour):
//! wraps the std transport so that the socket timeouts are set only when the requested value
//! moves by more than a second, to measure what the two setsockopt calls per read and per write
//! of the std transport cost. `--coalesce` (also an experiment): holds written bytes (up to
//! 64 KiB) until the engine next reads or closes, as MSG_MORE/TCP_CORK would, to measure what
//! TX-sized writes with TCP_NODELAY cost a large body.
//!
//! Output: `{"mails":N,"ok":N,"seconds":S,"cpu":C,"bytes":B}` where `seconds` is the wall time
//! of the timed part (nothing is built or allocated inside it) and `cpu` the CPU time this
//! process spent in it (user + system, from /proc/self/schedstat, in seconds). `attach` opens
//! its file inside the timed part (reading it is part of sending it); `raw-file` reads its file
//! before the clock starts, as the ceiling of the attachment rows.
//! Loopback only: the host is always 127.0.0.1.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Instant;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Attachment, Auth, Client, Config, Mail, Transport};

const HOST: &str = "127.0.0.1";
const FROM: &str = "bench@example.test";
const TO: &[&str] = &["sink@example.test"];
const SUBJECT: &str = "zsmtp benchmark";
/// The small mail of the throughput rows (the same text every client of the bench sends).
pub const SMALL_BODY: &[u8] = b"Pump 7 over temperature.\nSensor 3 reads 93 C at 12:04:05.\nThis is a small alarm mail of about two hundred bytes, sent by the benchmark.\n";

/// CPU time of this (single-threaded) process, in nanoseconds.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// A body of `bytes` bytes of 76-character lines (a base64 attachment's shape), LF ends.
fn large_body(bytes: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut body = Vec::with_capacity(bytes);
    let mut i = 0usize;
    while body.len() < bytes {
        if body.len() % 77 == 76 {
            body.push(b'\n');
        } else {
            body.push(ALPHABET[i % 64]);
            i = i.wrapping_mul(31).wrapping_add(7);
        }
    }
    if let Some(last) = body.last_mut() {
        *last = b'\n';
    }
    body
}

fn config(port: u16, auth: bool, lockstep: bool) -> Config<'static> {
    let mut c = Config::new(HOST, port, "bench.example.test", FROM).pipelining(!lockstep);
    if auth {
        c = c.auth(Auth::Plain, "alice", "secret123").allow_plaintext_auth(true);
    }
    c
}

/// The std transport, setting socket timeouts only when they move by more than a second.
struct LazyTimeouts {
    inner: StdTransport,
    current: Option<u32>,
}

impl embedded_io::ErrorType for LazyTimeouts {
    type Error = <StdTransport as embedded_io::ErrorType>::Error;
}

impl embedded_io::Read for LazyTimeouts {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.inner.read(buf)
    }
}

impl embedded_io::Write for LazyTimeouts {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

impl Transport for LazyTimeouts {
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), Self::Error> {
        self.current = None;
        self.inner.connect(host, port, timeout_ms)
    }
    fn set_timeout(&mut self, timeout_ms: u32) {
        if self.current.is_none_or(|c| c.abs_diff(timeout_ms) > 1000) {
            self.current = Some(timeout_ms);
            self.inner.set_timeout(timeout_ms);
        }
    }
    fn close(&mut self) {
        self.inner.close()
    }
}

/// The std transport, holding written bytes until the next read or close (or 64 KiB).
struct Coalesce {
    inner: StdTransport,
    held: Vec<u8>,
}

impl Coalesce {
    fn push(&mut self) -> Result<(), <StdTransport as embedded_io::ErrorType>::Error> {
        let mut rest = &self.held[..];
        while !rest.is_empty() {
            let n = embedded_io::Write::write(&mut self.inner, rest)?;
            rest = &rest[n..];
        }
        self.held.clear();
        Ok(())
    }
}

impl embedded_io::ErrorType for Coalesce {
    type Error = <StdTransport as embedded_io::ErrorType>::Error;
}

impl embedded_io::Read for Coalesce {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.push()?;
        self.inner.read(buf)
    }
}

impl embedded_io::Write for Coalesce {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.held.extend_from_slice(buf);
        if self.held.len() >= 64 * 1024 {
            self.push()?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.push()
    }
}

impl Transport for Coalesce {
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), Self::Error> {
        self.held.clear();
        self.inner.connect(host, port, timeout_ms)
    }
    fn set_timeout(&mut self, timeout_ms: u32) {
        self.inner.set_timeout(timeout_ms)
    }
    fn close(&mut self) {
        let _ = self.push();
        self.inner.close()
    }
}

fn report(mails: usize, ok: usize, seconds: f64, cpu_ns: u64, bytes: usize) {
    println!(
        "{{\"mails\":{mails},\"ok\":{ok},\"seconds\":{seconds:.6},\"cpu\":{:.6},\"bytes\":{bytes}}}",
        cpu_ns as f64 / 1e9
    );
}

fn oneshot<T: Transport>(transport: T, port: u16, n: usize, auth: bool, lockstep: bool) {
    let mut client: Client<'_, _, _> = Client::new(config(port, auth, lockstep), transport, StdClock::new()).expect("config");
    let mail = Mail::new(SUBJECT, SMALL_BODY).to(TO);
    let (c0, t0) = (cpu_ns(), Instant::now());
    let mut ok = 0;
    for _ in 0..n {
        match client.send(&mail) {
            Ok(_) => ok += 1,
            Err(e) => eprintln!("bench_zsmtp: {e}"),
        }
    }
    report(n, ok, t0.elapsed().as_secs_f64(), cpu_ns() - c0, 0);
}

fn kept<T: Transport>(transport: T, port: u16, n: usize, auth: bool, lockstep: bool) {
    let mut client: Client<'_, _, _> = Client::new(config(port, auth, lockstep), transport, StdClock::new()).expect("config");
    let mail = Mail::new(SUBJECT, SMALL_BODY).to(TO);
    let (c0, t0) = (cpu_ns(), Instant::now());
    let mut ok = 0;
    {
        let mut connection = client.connect().expect("connect");
        for _ in 0..n {
            match connection.send(&mail) {
                Ok(_) => ok += 1,
                Err(e) => eprintln!("bench_zsmtp: {e}"),
            }
        }
        connection.close();
    }
    report(n, ok, t0.elapsed().as_secs_f64(), cpu_ns() - c0, 0);
}

fn large<T: Transport, const TX: usize>(transport: T, port: u16, bytes: usize) {
    let body = large_body(bytes);
    let mut client: Client<'_, _, _, 512, TX> = Client::new(config(port, false, false), transport, StdClock::new()).expect("config");
    let mail = Mail::new(SUBJECT, &body).to(TO);
    let (c0, t0) = (cpu_ns(), Instant::now());
    let ok = match client.send(&mail) {
        Ok(_) => 1,
        Err(e) => {
            eprintln!("bench_zsmtp: {e}");
            0
        }
    };
    report(1, ok, t0.elapsed().as_secs_f64(), cpu_ns() - c0, bytes);
}

/// A file as the engine's attachment reader.
struct FileSource(std::fs::File);

impl embedded_io::ErrorType for FileSource {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for FileSource {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf).map_err(|e| e.kind().into())
    }
}

/// One mail with the small text and the file at `path` attached, read as it is sent.
fn attach<T: Transport, const TX: usize>(transport: T, port: u16, path: &str) {
    let mut client: Client<'_, _, _, 512, TX> = Client::new(config(port, false, false), transport, StdClock::new()).expect("config");
    let mail = Mail::new(SUBJECT, SMALL_BODY).to(TO);
    let name = std::path::Path::new(path).file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
    let (c0, t0) = (cpu_ns(), Instant::now());
    let file = std::fs::File::open(path).expect("the attachment");
    let size = file.metadata().expect("its size").len();
    let mut source = FileSource(file);
    let mut attachments = [Attachment::new(name, &mut source).size(size)];
    let ok = match client.send_mime(&mail, &mut attachments) {
        Ok(_) => 1,
        Err(e) => {
            eprintln!("bench_zsmtp: {e}");
            0
        }
    };
    report(1, ok, t0.elapsed().as_secs_f64(), cpu_ns() - c0, size as usize);
}

/// Reads until a complete final reply line (`ddd ` ... CRLF) has arrived; returns its code.
fn read_reply(s: &mut TcpStream, buf: &mut Vec<u8>) -> u16 {
    let mut chunk = [0u8; 4096];
    loop {
        // The last complete line, if it is a final one.
        if let Some(end) = buf.windows(2).rposition(|w| w == b"\r\n") {
            let line_start = buf[..end].windows(2).rposition(|w| w == b"\r\n").map_or(0, |p| p + 2);
            let line = &buf[line_start..end];
            if line.len() >= 4 && line[3] == b' ' {
                let code = std::str::from_utf8(&line[..3]).ok().and_then(|c| c.parse().ok()).unwrap_or(0);
                buf.clear();
                return code;
            }
        }
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "server closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The limit of this machine: the same DATA bytes (headers, CRLF lines, terminator), built
/// in memory before the clock starts and written with one write_all; the dialogue in lockstep.
fn raw(port: u16, bytes: usize) {
    let body = large_body(bytes);
    let mut data = Vec::with_capacity(bytes + bytes / 70 + 512);
    data.extend_from_slice(b"From: <bench@example.test>\r\nTo: <sink@example.test>\r\nSubject: zsmtp benchmark\r\n");
    data.extend_from_slice(b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    for line in body.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        if line[0] == b'.' {
            data.push(b'.');
        }
        data.extend_from_slice(line);
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    raw_send(port, &data, bytes);
}

/// The ceiling of the attachment rows: a message encoded beforehand (`path` holds the whole
/// DATA: headers, CRLF lines, the final dot), read into memory before the clock starts.
/// `bytes` is the attachment's size, for MB/s of attachment.
fn raw_file(port: u16, path: &str, bytes: usize) {
    let data = std::fs::read(path).expect("the pre-encoded message");
    assert!(data.ends_with(b"\r\n.\r\n"), "{path} must end with the final dot");
    raw_send(port, &data, bytes);
}

/// The dialogue in lockstep around `data`, written with one write_all.
fn raw_send(port: u16, data: &[u8], bytes: usize) {
    let (c0, t0) = (cpu_ns(), Instant::now());
    let mut s = TcpStream::connect((HOST, port)).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::new();
    let mut step = |s: &mut TcpStream, cmd: &[u8], want: u16| {
        if !cmd.is_empty() {
            s.write_all(cmd).expect("write");
        }
        let code = read_reply(s, &mut buf);
        assert_eq!(code, want, "reply to {:?}", String::from_utf8_lossy(cmd));
    };
    step(&mut s, b"", 220);
    step(&mut s, b"EHLO bench.example.test\r\n", 250);
    step(&mut s, b"MAIL FROM:<bench@example.test>\r\n", 250);
    step(&mut s, b"RCPT TO:<sink@example.test>\r\n", 250);
    step(&mut s, b"DATA\r\n", 354);
    step(&mut s, data, 250);
    step(&mut s, b"QUIT\r\n", 221);
    drop(s);
    report(1, 1, t0.elapsed().as_secs_f64(), cpu_ns() - c0, bytes);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let num = |i: usize| -> usize { args.get(i).and_then(|v| v.parse().ok()).expect("usage: see examples/bench_zsmtp.rs") };
    let text = |i: usize| -> &str { args.get(i).map(String::as_str).expect("usage: see examples/bench_zsmtp.rs") };
    let port = u16::try_from(num(1)).expect("port");
    if flag("--coalesce") {
        run(args.first().map(String::as_str), port, &flag, &num, &text, || Coalesce { inner: StdTransport::new(), held: Vec::with_capacity(64 * 1024) });
    } else if flag("--lazy-timeouts") {
        run(args.first().map(String::as_str), port, &flag, &num, &text, || LazyTimeouts { inner: StdTransport::new(), current: None });
    } else {
        run(args.first().map(String::as_str), port, &flag, &num, &text, StdTransport::new);
    }
}

type Arg<'a, T> = &'a dyn Fn(usize) -> T;

fn run<T: Transport>(mode: Option<&str>, port: u16, flag: &dyn Fn(&str) -> bool, num: Arg<'_, usize>, text: Arg<'_, &str>, transport: impl Fn() -> T) {
    match mode {
        Some("oneshot") => oneshot(transport(), port, num(2), flag("--auth"), flag("--lockstep")),
        Some("kept") => kept(transport(), port, num(2), flag("--auth"), flag("--lockstep")),
        Some("large") if flag("--tx8k") => large::<T, 8192>(transport(), port, num(2)),
        Some("large") => large::<T, 1024>(transport(), port, num(2)),
        Some("raw") => raw(port, num(2)),
        Some("attach") if flag("--tx8k") => attach::<T, 8192>(transport(), port, text(2)),
        Some("attach") => attach::<T, 1024>(transport(), port, text(2)),
        Some("raw-file") => raw_file(port, text(2), num(3)),
        _ => {
            eprintln!("usage: bench_zsmtp oneshot|kept|large|raw|attach|raw-file PORT N|BYTES|PATH [ATTACHMENT_BYTES] [--auth] [--lockstep] [--tx8k] [--lazy-timeouts] [--coalesce]");
            std::process::exit(2);
        }
    }
}
