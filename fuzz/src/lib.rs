//! Helpers shared by the fuzz targets: a growable sink, the reference forms the encoders
//! are checked against, and an in-memory transport and clock that replay a fuzzed server.

use core::cell::{Cell, RefCell};
use std::rc::Rc;
use zsmtp::wire::out::Sink;

/// A sink that keeps everything.
#[derive(Default)]
pub struct VecSink(pub Vec<u8>);

impl Sink for VecSink {
    type Error = core::convert::Infallible;
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// The reference line-end normalisation: CRLF, bare CR and bare LF each become CRLF, and a
/// last line without an end gets one.
pub fn normalise(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\r' if body.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Checks that `wire` is clean DATA content: every CR and LF belong to a CRLF, it ends with
/// the terminator, and no line before it is a lone ".". Returns what a server stores (one
/// leading dot removed from each line), or why the wire is not clean.
pub fn unstuff(wire: &[u8]) -> Result<Vec<u8>, String> {
    for (i, &b) in wire.iter().enumerate() {
        if b == b'\r' && wire.get(i + 1) != Some(&b'\n') {
            return Err(format!("bare CR at {i}"));
        }
        if b == b'\n' && (i == 0 || wire[i - 1] != b'\r') {
            return Err(format!("bare LF at {i}"));
        }
    }
    let text = if wire == b".\r\n" {
        &[][..]
    } else {
        wire.strip_suffix(b"\r\n.\r\n").map(|t| &wire[..t.len() + 2]).ok_or("no terminator at the end")?
    };
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line == b".\r\n" {
            return Err("a lone '.' line before the end".into());
        }
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    Ok(out)
}

/// A little reader of fuzz input: control values first, then the rest as data.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |n, _| n << 8 | u64::from(self.byte()))
    }

    /// Bytes up to the next `sep` (consumed), or all that is left.
    pub fn field(&mut self, sep: u8) -> &'a [u8] {
        match self.data.iter().position(|&b| b == sep) {
            Some(at) => {
                let (field, rest) = self.data.split_at(at);
                self.data = &rest[1..];
                field
            }
            None => core::mem::take(&mut self.data),
        }
    }

    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}

// ---- A fuzzed server: an in-memory transport and clock ----

/// What the transport does once the server's bytes run out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtEnd {
    /// The peer closes (`read` returns 0).
    Eof,
    /// Silence: every read waits its whole timeout, then reports `TimedOut`.
    Silence,
    /// The link breaks (`ConnectionReset`).
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoError(pub embedded_io::ErrorKind);

impl core::fmt::Display for IoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl core::error::Error for IoError {}

impl embedded_io::Error for IoError {
    fn kind(&self) -> embedded_io::ErrorKind {
        self.0
    }
}

/// The state of a fuzzed link, shared (through `Rc`) by the transport inside the client
/// and the fuzz target that checks it.
pub struct LinkState<'a> {
    pub server: &'a [u8],
    pub pos: usize,
    pub chunk: usize,
    pub at_end: AtEnd,
    pub write_max: usize,
    pub write_budget: usize,
    pub written: Vec<u8>,
    pub reads: usize,
    pub connects: usize,
    pub connected: bool,
    pub timeout_ms: u32,
    pub now: Rc<Cell<u64>>,
    /// Read position when the message terminator was completely written (reset by the
    /// target before each send).
    pub terminator_read_pos: Option<usize>,
}

/// Replays `server` as the bytes the server sends (across reconnections), in reads of at
/// most `chunk` bytes; accepts writes of at most `write_max` bytes each, and breaks the link
/// once `write_budget` bytes have been written. Time only passes when a read waits.
pub struct FuzzTransport<'a> {
    pub state: Rc<RefCell<LinkState<'a>>>,
}

impl<'a> FuzzTransport<'a> {
    pub fn new(server: &'a [u8], chunk: usize, at_end: AtEnd, write_max: usize, write_budget: usize, now: Rc<Cell<u64>>) -> Self {
        let state = LinkState {
            server,
            pos: 0,
            chunk: chunk.max(1),
            at_end,
            write_max: write_max.max(1),
            write_budget,
            written: Vec::new(),
            reads: 0,
            connects: 0,
            connected: false,
            timeout_ms: 1,
            now,
            terminator_read_pos: None,
        };
        FuzzTransport { state: Rc::new(RefCell::new(state)) }
    }
}

impl embedded_io::ErrorType for FuzzTransport<'_> {
    type Error = IoError;
}

impl embedded_io::Read for FuzzTransport<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        let mut s = self.state.borrow_mut();
        s.reads += 1;
        if !s.connected {
            return Err(IoError(embedded_io::ErrorKind::NotConnected));
        }
        let left = &s.server[s.pos..];
        if left.is_empty() {
            return match s.at_end {
                AtEnd::Eof => Ok(0),
                AtEnd::Silence => {
                    s.now.set(s.now.get() + u64::from(s.timeout_ms.max(1)));
                    Err(IoError(embedded_io::ErrorKind::TimedOut))
                }
                AtEnd::Reset => Err(IoError(embedded_io::ErrorKind::ConnectionReset)),
            };
        }
        let n = left.len().min(buf.len()).min(s.chunk);
        buf[..n].copy_from_slice(&left[..n]);
        s.pos += n;
        Ok(n)
    }
}

impl embedded_io::Write for FuzzTransport<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        let mut s = self.state.borrow_mut();
        if !s.connected {
            return Err(IoError(embedded_io::ErrorKind::NotConnected));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if s.write_budget == 0 {
            s.connected = false;
            return Err(IoError(embedded_io::ErrorKind::BrokenPipe));
        }
        let n = buf.len().min(s.write_max).min(s.write_budget);
        s.write_budget -= n;
        let before = s.written.len();
        s.written.extend_from_slice(&buf[..n]);
        // The terminator is the only "\r\n.\r\n" the encoder can produce.
        let from = before.saturating_sub(4);
        if s.written[from..].windows(5).any(|w| w == b"\r\n.\r\n") && s.terminator_read_pos.is_none() {
            s.terminator_read_pos = Some(s.pos);
        }
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), IoError> {
        Ok(())
    }
}

impl zsmtp::Transport for FuzzTransport<'_> {
    fn connect(&mut self, _host: &str, _port: u16, _timeout_ms: u32) -> Result<(), IoError> {
        let mut s = self.state.borrow_mut();
        s.connects += 1;
        s.connected = true;
        Ok(())
    }

    fn set_timeout(&mut self, timeout_ms: u32) {
        self.state.borrow_mut().timeout_ms = timeout_ms;
    }

    fn close(&mut self) {
        self.state.borrow_mut().connected = false;
    }
}

/// The clock of a fuzzed session: moves only when the transport waits.
pub struct FuzzClock {
    pub now: Rc<Cell<u64>>,
    pub wall: Option<u64>,
}

impl zsmtp::Clock for FuzzClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    fn unix_time(&self) -> Option<u64> {
        self.wall
    }

    fn entropy(&mut self) -> u32 {
        0x1234_5678
    }
}

/// Whether `stream` holds a reply line with a 2xx code starting at a line start (leading
/// spaces and tabs allowed, as the parser allows them).
pub fn has_positive_line(stream: &[u8]) -> bool {
    stream.split(|&b| b == b'\n').any(|line| {
        let line = &line[line.iter().take_while(|&&b| b == b' ' || b == b'\t').count()..];
        line.first() == Some(&b'2') && line.len() >= 3 && line[1].is_ascii_digit() && line[2].is_ascii_digit()
    })
}
