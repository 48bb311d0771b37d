//! A scripted SMTP server over a real loopback socket, for the cases a real server cannot
//! produce (split replies, garbage, stalls, disconnects at exact points). It follows a
//! script, records every byte the client sent, and reports any deviation.
//!
//! [`Step`] is the language of every script, plain or over TLS: the TLS server
//! (`super::tls_server`) plays the same steps inside TLS, plus the few that only TLS has.
//!
//! [`Seen`] is what a scripted server saw; the TLS server (`super::tls_server`) fills it too.

use super::io::{linger_zero, read_until};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One step of the server's side of the dialogue.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Read one line; it must start with this text.
    Expect(&'static str),
    /// Read the message content up to and including "\r\n.\r\n".
    ExpectData,
    /// No byte may arrive for this many milliseconds.
    Silence(u64),
    /// Wait this many milliseconds.
    Pause(u64),
    /// Close the connection (over TLS: a FIN without close_notify, a truncated TLS stream).
    Close,
    /// Record where the script stands in the client's byte stream (see [`Seen::marks`]), so
    /// that a test can check exactly what the client sent after this point.
    Mark,
    /// Reset the connection: close it with SO_LINGER 0, so that the client gets an RST.
    Reset,
    /// Keep the connection open without writing, recording what the client sends, until the
    /// client closes it or this many milliseconds pass (a stalled server).
    Hold(u64),
    /// Write these bytes one at a time (over TLS: each in a record of its own), pausing this
    /// many milliseconds after each.
    Trickle(Vec<u8>, u64),
    /// Read (and record) at least this many bytes of whatever the client sends.
    Drain(usize),
    /// As [`ExpectData`], but a slow reader: at most `chunk` bytes per read, pausing
    /// `pause_ms` after each read.
    ExpectDataSlowly { chunk: usize, pause_ms: u64 },
    /// TLS only (`super::tls_server`; the plain server reports a deviation): close_notify,
    /// then FIN, a clean end of TLS.
    CloseNotify,
    /// TLS only: write these bytes onto the socket outside TLS (they are not a TLS record).
    OutsideTls(Vec<u8>),
    /// TLS only: this text in a TLS record and these bytes outside TLS, in one TCP write.
    RecordThenRaw(Vec<u8>, Vec<u8>),
}

pub use Step::*;

pub fn send(text: &str) -> Step {
    Send(text.as_bytes().to_vec())
}

/// One recipient's pipelined transaction after the session is open: MAIL, RCPT and DATA
/// accepted in one flight, the content taken, QUIT answered with the final reply.
pub fn pipelined_rest_of_mail() -> Vec<Step> {
    vec![
        Expect("MAIL"),
        Expect("RCPT"),
        Expect("DATA"),
        send("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectData,
        Expect("QUIT"),
        send("250 queued\r\n221 bye\r\n"),
    ]
}

/// What a scripted server saw (the plain one here, or the TLS one of `super::tls_server`).
#[derive(Debug, Default)]
pub struct Seen {
    /// Whether a client connected at all.
    pub connected: bool,
    /// Every byte the client sent, in order; over TLS, every byte decrypted after the
    /// handshake (what came before it is in `clear`).
    pub received: Vec<u8>,
    /// The message content (DATA bytes up to the terminator), when ExpectData ran.
    pub message: Option<Vec<u8>>,
    /// Every message content, in order (several on a kept connection); `message` is the last.
    pub messages: Vec<Vec<u8>>,
    /// Deviations from the script.
    pub failures: Vec<String>,
    /// For every [`Mark`] step: how many of the client's bytes the script had consumed then.
    pub marks: Vec<usize>,
    /// TLS only: every byte received in clear before the handshake (the STARTTLS dialogue).
    pub clear: Vec<u8>,
    /// TLS only: the first bytes of the client's handshake, when the plan looked at them.
    pub hello: Vec<u8>,
    /// TLS only: the server side's handshake error, when the handshake failed.
    pub tls_error: Option<String>,
    /// TLS only: the negotiated version ("TLSv1.3"), when the handshake completed.
    pub version: Option<String>,
    /// TLS only: the client ended TLS with close_notify.
    pub clean_close: bool,
}

impl Seen {
    /// The client's lines (CRLF stripped), message content included.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.received).split("\r\n").filter(|l| !l.is_empty()).map(str::to_string).collect()
    }

    /// The client's lines sent in clear before a TLS handshake (CRLF stripped).
    pub fn clear_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.clear).split("\r\n").filter(|l| !l.is_empty()).map(str::to_string).collect()
    }

    /// The client's command lines outside the message content.
    pub fn commands(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.received).to_string();
        let (before, after) = match (text.find("\r\n\r\n"), text.find("\r\n.\r\n")) {
            // Headers end at the first blank line after DATA; content ends at the dot.
            (Some(_), Some(end)) if self.message.is_some() => {
                let data = text.find("DATA\r\n").map(|i| i + 6).unwrap_or(0);
                (text[..data].to_string(), text[end + 5..].to_string())
            }
            _ => (text.clone(), String::new()),
        };
        before.split("\r\n").chain(after.split("\r\n")).filter(|l| !l.is_empty()).map(str::to_string).collect()
    }

    /// What the client sent after the `n`th [`Mark`] step.
    pub fn after_mark(&self, n: usize) -> &[u8] {
        let at = self.marks.get(n).copied().unwrap_or(self.received.len());
        &self.received[at.min(self.received.len())..]
    }

    pub fn assert_ok(&self) {
        assert!(self.failures.is_empty(), "script deviations: {:?}\nreceived: {:?}", self.failures, String::from_utf8_lossy(&self.received));
    }
}

/// A server running one script for one connection.
pub struct Server {
    pub port: u16,
    handle: JoinHandle<Seen>,
}

impl Server {
    /// Listens on 127.0.0.1 (an ephemeral port) and runs `steps` for the first client.
    pub fn start(steps: Vec<Step>) -> Server {
        Self::start_on("127.0.0.1:0", steps)
    }

    pub fn start_on(addr: &str, steps: Vec<Step>) -> Server {
        let listener = TcpListener::bind(addr).expect("bind");
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || run(listener, steps));
        Server { port, handle }
    }

    /// Runs one script per connection, in order, on one port (a client that reconnects).
    pub fn start_sequence(scripts: Vec<Vec<Step>>) -> Sequence {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            scripts.into_iter().map(|steps| run(listener.try_clone().expect("listener"), steps)).collect()
        });
        Sequence { port, handle }
    }

    /// Waits for the script to end (bounded) and returns what the server saw.
    pub fn finish(self) -> Seen {
        self.handle.join().expect("scripted server thread")
    }
}

/// A server running one script per connection (see [`Server::start_sequence`]).
pub struct Sequence {
    pub port: u16,
    handle: JoinHandle<Vec<Seen>>,
}

impl Sequence {
    pub fn finish(self) -> Vec<Seen> {
        self.handle.join().expect("scripted server thread")
    }
}

const STEP_TIMEOUT: Duration = Duration::from_secs(10);
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(10);
/// After the script: how long to keep listening for anything more the client sends.
const AFTERMATH: Duration = Duration::from_millis(1500);

fn run(listener: TcpListener, steps: Vec<Step>) -> Seen {
    // An empty script only checks that nobody connects: no need to wait long for that.
    let accept_timeout = if steps.is_empty() { Duration::from_millis(1500) } else { ACCEPT_TIMEOUT };
    match accept(&listener, accept_timeout) {
        Some(stream) => serve(stream, steps),
        None => Seen::default(),
    }
}

/// Accepts one connection within `timeout`.
fn accept(listener: &TcpListener, timeout: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    loop {
        match listener.accept() {
            Ok((s, _)) => return Some(s),
            Err(e) if e.kind() == ErrorKind::WouldBlock && start.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// Runs `steps` on an accepted connection.
fn serve(mut stream: TcpStream, steps: Vec<Step>) -> Seen {
    let mut seen = Seen { connected: true, ..Seen::default() };
    stream.set_nonblocking(false).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut pending: Vec<u8> = Vec::new();
    let mut closed = false;
    for (i, step) in steps.into_iter().enumerate() {
        match step {
            Send(bytes) => {
                if let Err(e) = stream.write_all(&bytes) {
                    seen.failures.push(format!("step {i}: write failed: {e}"));
                }
            }
            Expect(prefix) => match expect_until(&mut stream, &mut pending, &mut seen, b"\r\n") {
                Some(line) => {
                    if !line.starts_with(prefix.as_bytes()) {
                        seen.failures.push(format!("step {i}: expected {prefix:?}, got {:?}", String::from_utf8_lossy(&line)));
                    }
                }
                None => seen.failures.push(format!("step {i}: expected {prefix:?}, got nothing")),
            },
            ExpectData => match expect_until(&mut stream, &mut pending, &mut seen, b"\r\n.\r\n") {
                Some(message) => {
                    seen.messages.push(message.clone());
                    seen.message = Some(message);
                }
                None => seen.failures.push(format!("step {i}: no message content")),
            },
            Silence(ms) => {
                if !pending.is_empty() {
                    seen.failures.push(format!("step {i}: client sent {:?} before silence", String::from_utf8_lossy(&pending)));
                }
                let got = read_some(&mut stream, &mut seen, Duration::from_millis(ms));
                if !got.is_empty() {
                    seen.failures.push(format!("step {i}: client spoke during silence: {:?}", String::from_utf8_lossy(&got)));
                    pending.extend_from_slice(&got);
                }
            }
            Pause(ms) => std::thread::sleep(Duration::from_millis(ms)),
            Close => {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                closed = true;
                break;
            }
            Mark => seen.marks.push(seen.received.len() - pending.len()),
            Reset => {
                linger_zero(&stream);
                closed = true;
                break;
            }
            Hold(ms) => {
                let deadline = Instant::now() + Duration::from_millis(ms);
                while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    let got = read_some(&mut stream, &mut seen, left.min(Duration::from_millis(20)));
                    if got.is_empty() && peer_closed(&stream) {
                        break;
                    }
                    pending.extend_from_slice(&got);
                }
            }
            Trickle(bytes, pause_ms) => {
                for b in bytes {
                    if let Err(e) = stream.write_all(&[b]) {
                        seen.failures.push(format!("step {i}: trickled write failed: {e}"));
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(pause_ms));
                }
            }
            Drain(n) => {
                let deadline = Instant::now() + STEP_TIMEOUT;
                while pending.len() < n {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else { break };
                    let got = read_some(&mut stream, &mut seen, left.min(Duration::from_millis(100)));
                    if got.is_empty() && peer_closed(&stream) {
                        break;
                    }
                    pending.extend_from_slice(&got);
                }
                if pending.len() < n {
                    seen.failures.push(format!("step {i}: drained {} of {n} bytes", pending.len()));
                }
                pending.clear();
            }
            ExpectDataSlowly { chunk, pause_ms } => {
                let deadline = Instant::now() + STEP_TIMEOUT * 3;
                let mut buf = vec![0u8; chunk.max(1)];
                // Only the newly read bytes (and the 4 before them) can complete the
                // terminator: rescanning all of a growing 8 MB buffer would make this reader
                // quadratic, and slower than the client's send timeout allows.
                let mut scanned: usize = 0;
                let message = loop {
                    let from = scanned.saturating_sub(4);
                    if let Some(pos) = pending[from..].windows(5).position(|w| w == b"\r\n.\r\n") {
                        let pos = from + pos;
                        let item = pending[..pos].to_vec();
                        pending.drain(..pos + 5);
                        break Some(item);
                    }
                    scanned = pending.len();
                    if Instant::now() > deadline {
                        break None;
                    }
                    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
                    match stream.read(&mut buf) {
                        Ok(0) => break None,
                        Ok(n) => {
                            seen.received.extend_from_slice(&buf[..n]);
                            pending.extend_from_slice(&buf[..n]);
                        }
                        Err(_) => {}
                    }
                    std::thread::sleep(Duration::from_millis(pause_ms));
                };
                match message {
                    Some(m) => {
                        seen.messages.push(m.clone());
                        seen.message = Some(m);
                    }
                    None => seen.failures.push(format!("step {i}: no message content (slow reader)")),
                }
            }
            CloseNotify | OutsideTls(_) | RecordThenRaw(..) => seen.failures.push(format!("step {i}: a TLS step on a plain connection")),
        }
    }
    if !closed {
        // Record whatever else the client sends until it closes.
        let deadline = Instant::now() + AFTERMATH;
        while Instant::now() < deadline {
            let got = read_some(&mut stream, &mut seen, Duration::from_millis(100));
            if got.is_empty() && peer_closed(&stream) {
                break;
            }
        }
    }
    seen
}

/// Reads (bounded by [`STEP_TIMEOUT`]) until `end` appears; returns the bytes before it (the
/// end consumed).
fn expect_until(stream: &mut TcpStream, pending: &mut Vec<u8>, seen: &mut Seen, end: &[u8]) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    read_until(stream, pending, &mut seen.received, end, Instant::now() + STEP_TIMEOUT)
}

fn read_some(stream: &mut TcpStream, seen: &mut Seen, wait: Duration) -> Vec<u8> {
    stream.set_read_timeout(Some(wait.max(Duration::from_millis(1)))).unwrap();
    let mut buf = [0u8; 65536];
    match stream.read(&mut buf) {
        Ok(n) => {
            seen.received.extend_from_slice(&buf[..n]);
            buf[..n].to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn peer_closed(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    let closed = matches!(stream.peek(&mut b), Ok(0)) || matches!(stream.peek(&mut b), Err(ref e) if e.kind() != ErrorKind::WouldBlock);
    stream.set_nonblocking(false).unwrap();
    closed
}

/// Sets SO_RCVBUF (accepted connections inherit it from a listener, and a fixed size turns
/// off the kernel's receive-buffer autotuning, so a client writing a large body blocks soon).
fn set_rcvbuf(listener: &TcpListener, bytes: usize) {
    use std::os::fd::AsRawFd;
    let size = bytes as libc::c_int;
    // SAFETY: the descriptor is open (owned by `listener`), and the option value is a valid
    // c_int whose exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_RCVBUF: {}", std::io::Error::last_os_error());
}

/// Several scripts on one port, one per connection in the order the connections arrive:
/// the same client (whose configuration names one port) meets a broken server, then a good one.
pub struct Servers {
    pub port: u16,
    handle: JoinHandle<Vec<Seen>>,
}

impl Servers {
    pub fn start(scripts: Vec<Vec<Step>>) -> Servers {
        Self::start_with_rcvbuf(scripts, None)
    }

    /// As [`Servers::start`], with a fixed receive buffer on the server side.
    pub fn start_with_rcvbuf(scripts: Vec<Vec<Step>>, rcvbuf: Option<usize>) -> Servers {
        Self::start_patient(scripts, rcvbuf, ACCEPT_TIMEOUT)
    }

    /// As [`Servers::start_with_rcvbuf`], waiting up to `accept` for each connection (a client
    /// whose timeouts are fixed at build time reconnects only once they have expired).
    pub fn start_patient(scripts: Vec<Vec<Step>>, rcvbuf: Option<usize>, accept_timeout: Duration) -> Servers {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        if let Some(bytes) = rcvbuf {
            set_rcvbuf(&listener, bytes);
        }
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let mut connections = Vec::new();
            let mut seen = Vec::new();
            for steps in scripts {
                match accept(&listener, accept_timeout) {
                    Some(stream) => connections.push(std::thread::spawn(move || serve(stream, steps))),
                    None => {
                        seen.push(Seen::default());
                        break;
                    }
                }
            }
            drop(listener);
            let mut served: Vec<Seen> = connections.into_iter().map(|h| h.join().expect("scripted connection thread")).collect();
            served.extend(seen);
            served
        });
        Servers { port, handle }
    }

    /// Waits (bounded) for every script to end; one `Seen` per script that had a connection,
    /// then a not-connected `Seen` if a connection never came.
    pub fn finish(self) -> Vec<Seen> {
        self.handle.join().expect("scripted server thread")
    }
}
