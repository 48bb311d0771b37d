//! A scripted SMTP server over a real loopback socket, for the cases a real server cannot
//! produce (split replies, garbage, stalls, disconnects at exact points). It follows a
//! script, records every byte the client sent, and reports any deviation.
#![allow(dead_code)]

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
    /// Close the connection.
    Close,
}

pub use Step::*;

pub fn send(text: &str) -> Step {
    Send(text.as_bytes().to_vec())
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Whether a client connected at all.
    pub connected: bool,
    /// Every byte the client sent, in order.
    pub received: Vec<u8>,
    /// The message content (DATA bytes up to the terminator), when ExpectData ran.
    pub message: Option<Vec<u8>>,
    /// Deviations from the script.
    pub failures: Vec<String>,
}

impl Seen {
    /// The client's lines (CRLF stripped), message content included.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.received).split("\r\n").filter(|l| !l.is_empty()).map(str::to_string).collect()
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
    let mut seen = Seen::default();
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    // An empty script only checks that nobody connects: no need to wait long for that.
    let accept_timeout = if steps.is_empty() { Duration::from_millis(1500) } else { ACCEPT_TIMEOUT };
    let mut stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == ErrorKind::WouldBlock && start.elapsed() < accept_timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return seen,
        }
    };
    seen.connected = true;
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
            Expect(prefix) => match read_until(&mut stream, &mut pending, &mut seen, b"\r\n", STEP_TIMEOUT) {
                Some(line) => {
                    if !line.starts_with(prefix.as_bytes()) {
                        seen.failures.push(format!("step {i}: expected {prefix:?}, got {:?}", String::from_utf8_lossy(&line)));
                    }
                }
                None => seen.failures.push(format!("step {i}: expected {prefix:?}, got nothing")),
            },
            ExpectData => match read_until(&mut stream, &mut pending, &mut seen, b"\r\n.\r\n", STEP_TIMEOUT) {
                Some(message) => seen.message = Some(message),
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

/// Reads until `end` appears; returns the bytes before it (the end consumed).
fn read_until(stream: &mut TcpStream, pending: &mut Vec<u8>, seen: &mut Seen, end: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(pos) = pending.windows(end.len()).position(|w| w == end) {
            let item = pending[..pos].to_vec();
            pending.drain(..pos + end.len());
            return Some(item);
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        let got = read_some(stream, seen, left.min(Duration::from_millis(100)));
        if got.is_empty() && peer_closed(stream) {
            return None;
        }
        pending.extend_from_slice(&got);
    }
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
