//! The link: the transport with its transmit buffer, its receive buffer and the deadlines.
//! Everything the engine sends goes through [`Link::put`] (a [`Sink`]) and leaves in as few
//! writes as the buffer allows; everything it receives comes through [`Link::read_reply`].

use super::{Fault, Timeouts};
use crate::error::{ErrorKind, Phase, ServerReply};
use crate::transport::{Clock, ConnectTlsError, Transport};
use crate::wire::out::Sink;
use crate::wire::reply::{parse_enhanced, parse_line, ReplyLine, ReplyTracker};
use embedded_io::{Error as _, ErrorKind as IoKind};

/// Whether a reply code is a positive completion (2xx).
pub const fn is_positive(code: u16) -> bool {
    code >= 200 && code < 300
}

/// Budgets of at least this many milliseconds are given to the transport rounded down to
/// whole seconds, so that the many reads and writes of one step (a large body) ask for the
/// same timeout and the transport is told only when it changes (on hosts each change is two
/// system calls). Rounding down never waits past a deadline; a wait that ends early is taken
/// up again with what is left.
const COARSE_TIMEOUT_MS: u32 = 2_000;

/// Bounds the next call of `transport` to `budget_ms` (rounded down, see
/// [`COARSE_TIMEOUT_MS`]), telling it only when the value differs from `armed_ms`.
fn arm<T: Transport>(transport: &mut T, armed_ms: &mut u32, budget_ms: u32) {
    let ms = if budget_ms >= COARSE_TIMEOUT_MS { budget_ms - budget_ms % 1000 } else { budget_ms };
    if ms != *armed_ms {
        transport.set_timeout(ms);
        *armed_ms = ms;
    }
}

/// Bytes of a large chunk that stay in the buffer instead of being written directly, so
/// that the end of the body always leaves in the same write as the terminator.
const KEEP_TAIL: usize = 16;

/// The receive buffer: bytes `start..end` have arrived and are not parsed yet; `last` is
/// the first line of the latest complete reply (the one copy of a reply's text).
pub struct Rx<'p> {
    pub buf: &'p mut [u8],
    start: usize,
    end: usize,
    pub last: ServerReply,
}

impl<'p> Rx<'p> {
    pub fn new(buf: &'p mut [u8]) -> Self {
        Rx { buf, start: 0, end: 0, last: ServerReply::new(0, None, b"") }
    }

    /// Whether bytes arrived that no reply has consumed yet.
    pub fn has_unread(&self) -> bool {
        self.start < self.end
    }

    /// Forgets unread bytes (the buffer is then free for other use).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// An IPv6 literal may come as `[::1]`; sockets and certificates want `::1`.
pub(super) fn strip_brackets(server: &str) -> &str {
    server.strip_prefix("[").and_then(|h| h.strip_suffix("]")).unwrap_or(server)
}

pub struct Link<'p, T: Transport, K: Clock> {
    pub transport: &'p mut T,
    pub clock: &'p mut K,
    tx: &'p mut [u8],
    tx_len: usize,
    pub timeouts: Timeouts,
    /// End of the overall deadline, in the clock's milliseconds.
    deadline: Option<u64>,
    /// The phase errors are attributed to.
    pub phase: Phase,
    /// The timeout the transport was last given for this connection (0: none yet).
    armed_ms: u32,
}

impl<'p, T: Transport, K: Clock> Link<'p, T, K> {
    pub fn new(transport: &'p mut T, clock: &'p mut K, tx: &'p mut [u8], timeouts: Timeouts) -> Self {
        let deadline = (timeouts.total_ms > 0).then(|| clock.now_ms().saturating_add(u64::from(timeouts.total_ms)));
        Link { transport, clock, tx, tx_len: 0, timeouts, deadline, phase: Phase::Connect, armed_ms: 0 }
    }

    /// Starts the overall deadline again (each send on a kept connection has its own).
    pub fn restart_deadline(&mut self) {
        self.deadline = (self.timeouts.total_ms > 0).then(|| self.clock.now_ms().saturating_add(u64::from(self.timeouts.total_ms)));
    }

    /// Closes the connection; the next one starts without a timeout set.
    pub fn close(&mut self) {
        self.transport.close();
        self.armed_ms = 0;
    }

    fn error(&self, kind: ErrorKind) -> Fault {
        Fault::new(kind, self.phase)
    }

    /// When a wait of `ms` starting now must end, the overall deadline included.
    fn wait_until(&self, ms: u32) -> u64 {
        let end = self.clock.now_ms().saturating_add(u64::from(ms));
        self.deadline.map_or(end, |d| d.min(end))
    }

    /// Milliseconds left until `until`; a timeout error when none are.
    fn left(&self, until: u64) -> Result<u32, Fault> {
        let now = self.clock.now_ms();
        if now >= until {
            return Err(self.error(ErrorKind::Timeout));
        }
        Ok(u32::try_from(until - now).unwrap_or(u32::MAX))
    }

    pub fn connect(&mut self, server: &str, port: u16) -> Result<(), Fault> {
        let host = strip_brackets(server);
        let budget = self.left(self.wait_until(self.timeouts.connect_ms))?;
        // A new connection: whatever timeout the old one had is gone.
        self.armed_ms = 0;
        dialogue!("connecting to {}:{}", host, port);
        self.transport.connect(host, port, budget).map_err(|e| {
            self.error(match e.kind() {
                IoKind::NotFound => ErrorKind::HostNotFound,
                _ => ErrorKind::NotConnected,
            })
        })
    }

    /// Implicit TLS: connect and handshake (the certificate verified for `name`) within the
    /// connect timeout.
    pub fn connect_tls(&mut self, server: &str, port: u16, name: &str) -> Result<(), Fault> {
        let host = strip_brackets(server);
        let budget = self.left(self.wait_until(self.timeouts.connect_ms))?;
        // A new connection (and a handshake that may set its own timeouts): set ours afresh.
        self.armed_ms = 0;
        dialogue!("connecting to {}:{} (implicit TLS)", host, port);
        self.transport.connect_tls(host, port, name, budget).map_err(|e| match e {
            ConnectTlsError::Connect(e) => self.error(match e.kind() {
                IoKind::NotFound => ErrorKind::HostNotFound,
                _ => ErrorKind::NotConnected,
            }),
            ConnectTlsError::Tls(t) => Fault::new(ErrorKind::Tls(t), Phase::Tls),
        })
    }

    /// STARTTLS handshake over the open connection (the certificate verified for `name`),
    /// within the reply timeout.
    pub fn start_tls(&mut self, name: &str) -> Result<(), Fault> {
        let budget = self.left(self.wait_until(self.timeouts.reply_ms))?;
        // The handshake may leave other socket timeouts behind: set ours again afterwards.
        self.armed_ms = 0;
        dialogue!("TLS handshake with {}", name);
        self.transport.start_tls(name, budget).map_err(|t| Fault::new(ErrorKind::Tls(t), Phase::Tls))
    }

    /// Zeroes the transmit buffer, which held a credential (the caller sent or dropped it).
    #[cfg(feature = "oauth2")]
    pub fn wipe_tx(&mut self) {
        self.tx_len = 0;
        // A borrowed buffer that outlives the session: these stores cannot be elided.
        self.tx.fill(0);
    }

    /// Throws away whatever is buffered and not yet sent.
    pub fn discard_unsent(&mut self) {
        self.tx_len = 0;
    }

    /// Sends everything buffered.
    pub fn flush(&mut self) -> Result<(), Fault> {
        self.flush_tracked().map_err(|(fault, _)| fault)
    }

    /// Sends everything buffered; on failure also says how many bytes the transport did not
    /// take (the last ones of the buffer).
    pub fn flush_tracked(&mut self) -> Result<(), (Fault, usize)> {
        let len = core::mem::replace(&mut self.tx_len, 0);
        self.write_tracked(len, None)
    }

    /// Writes `tx[..len]`, or `bytes` when given, bounded by the send timeout.
    fn write_direct(&mut self, len: usize, bytes: Option<&[u8]>) -> Result<(), Fault> {
        self.write_tracked(len, bytes).map_err(|(fault, _)| fault)
    }

    /// [`Link::write_direct`], reporting the bytes left unwritten on failure. The send
    /// timeout bounds each step of progress (a slow reader of a large body is not a dead one);
    /// the overall deadline bounds the whole.
    fn write_tracked(&mut self, len: usize, bytes: Option<&[u8]>) -> Result<(), (Fault, usize)> {
        let mut until = self.wait_until(self.timeouts.send_ms);
        let mut data = match bytes {
            Some(b) => b,
            None => self.tx.get(..len).unwrap_or(&[]),
        };
        while !data.is_empty() {
            let budget = match self.deadline_left(until) {
                Some(ms) => ms,
                None => return Err((Fault::new(ErrorKind::Timeout, self.phase), data.len())),
            };
            arm(self.transport, &mut self.armed_ms, budget);
            match self.transport.write(data) {
                Ok(0) => return Err((Fault::new(ErrorKind::Transmit, self.phase), data.len())),
                Ok(n) => {
                    data = data.get(n..).unwrap_or(&[]);
                    until = self.wait_until(self.timeouts.send_ms);
                }
                Err(e) => match e.kind() {
                    // A wait that ended early (a rounded-down timeout): the loop checks what is left.
                    IoKind::Interrupted | IoKind::TimedOut => {}
                    _ => return Err((Fault::new(ErrorKind::Transmit, self.phase), data.len())),
                },
            }
        }
        Ok(())
    }

    fn deadline_left(&self, until: u64) -> Option<u32> {
        let now = self.clock.now_ms();
        (now < until).then(|| u32::try_from(until - now).unwrap_or(u32::MAX))
    }

    /// Makes sure `room` bytes fit in the buffer without separating them from the last
    /// bytes already in it: the end of the body and the terminator leave together.
    pub fn reserve_with_tail(&mut self, room: usize) -> Result<(), Fault> {
        if self.tx.len() - self.tx_len >= room {
            return Ok(());
        }
        let keep = self.tx_len.min(KEEP_TAIL);
        let send = self.tx_len - keep;
        self.write_direct(send, None)?;
        self.tx.copy_within(send..self.tx_len, 0);
        self.tx_len = keep;
        Ok(())
    }

    /// Reads one complete reply, bounded by `timeout_ms` (and the overall deadline) for the
    /// whole reply however its bytes arrive. `on_line` sees every line with its index.
    pub fn read_reply(
        &mut self,
        rx: &mut Rx<'_>,
        timeout_ms: u32,
        on_line: &mut dyn FnMut(&ReplyLine<'_>, u32),
    ) -> Result<u16, Fault> {
        let until = self.wait_until(timeout_ms);
        let mut tracker = ReplyTracker::new();
        loop {
            // `start <= end <= buf.len()` always holds: the `get` always succeeds.
            let pending = rx.buf.get(rx.start..rx.end).unwrap_or(&[]);
            let parsed = parse_line(pending).map_err(|_| self.error(ErrorKind::Malformed))?;
            if let Some((line, used)) = parsed {
                let index = tracker.lines();
                let last = tracker.feed(&line).map_err(|_| self.error(ErrorKind::Malformed))?;
                dialogue!(
                    "S: {}{}{}",
                    line.code,
                    if line.last { ' ' } else { '-' },
                    core::str::from_utf8(line.text).unwrap_or("<binary>")
                );
                on_line(&line, index);
                if index == 0 {
                    rx.last = ServerReply::new(line.code, parse_enhanced(line.code, line.text), line.text);
                }
                rx.start += used;
                if last {
                    return Ok(rx.last.code);
                }
                continue;
            }
            // The line is incomplete: make room and read more.
            if rx.start > 0 {
                rx.buf.copy_within(rx.start..rx.end, 0);
                rx.end -= rx.start;
                rx.start = 0;
            }
            let free = match rx.buf.get_mut(rx.end..) {
                Some(free) if !free.is_empty() => free,
                _ => return Err(self.error(ErrorKind::ReplyTooLong)),
            };
            let budget = self.left(until)?;
            arm(self.transport, &mut self.armed_ms, budget);
            match self.transport.read(free) {
                Ok(0) => return Err(self.error(ErrorKind::NotConnected)),
                Ok(n) => rx.end += n,
                Err(e) => match e.kind() {
                    IoKind::TimedOut | IoKind::Interrupted => {}
                    _ => return Err(self.error(ErrorKind::NotConnected)),
                },
            }
        }
    }
}

impl<T: Transport, K: Clock> Sink for Link<'_, T, K> {
    type Error = Fault;

    fn put(&mut self, mut bytes: &[u8]) -> Result<(), Fault> {
        if bytes.len() > self.tx.len() {
            // A large chunk: write all but its tail straight from the caller's memory.
            self.flush()?;
            let (direct, tail) = bytes.split_at(bytes.len() - KEEP_TAIL);
            self.write_direct(0, Some(direct))?;
            bytes = tail;
        }
        loop {
            // `tx_len <= tx.len()` and `n` fits both sides: the checks always pass (one per copy).
            let space = self.tx.get_mut(self.tx_len..).unwrap_or_default();
            let n = space.len().min(bytes.len());
            if let (Some(dst), Some((now, later))) = (space.get_mut(..n), bytes.split_at_checked(n)) {
                dst.copy_from_slice(now);
                self.tx_len += n;
                bytes = later;
            }
            if bytes.is_empty() {
                return Ok(());
            }
            self.flush()?;
        }
    }
}
