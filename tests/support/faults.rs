//! The fault table, written once: for every (security, mode, phase, fault) the script of a
//! broken server and the outcome the client promises; and a runner that plays each case
//! against a [`Driver`] (the Rust engine over either transport, plain or TLS, tests/faults.rs;
//! the C API in whichever profile the test binary is built with, tests/capi_profiles.rs) and
//! checks
//! - the exact NetX status (or success, for the faults a client must survive), and the
//!   phase and the server reply of the error where the driver reports them;
//! - that the send returned within its deadline (the timeouts that had to expire, plus a
//!   generous margin: a bound, not a speed goal);
//! - what the client sent after the fault: only QUIT after an orderly refusal (4xx/5xx other
//!   than 421, outside DATA), nothing at all after 421, garbage, a silent or broken link, or
//!   inside DATA (over TLS: in the decrypted stream);
//! - over TLS, that the handshake completed, and after STARTTLS that only EHLO and STARTTLS
//!   went in clear;
//! - that the same client then sends a mail to a good server on the same port;
//! - that no file descriptor leaked over the whole table (/proc/self/fd).
//!
//! A [`Table`] picks the dimensions; a case's scripts are the plain server's [`Step`]s, played
//! by tests/support/server.rs, or inside TLS by tests/support/tls_server.rs.
//! Security: plain TCP, implicit TLS, STARTTLS (the greeting and a first EHLO in clear, the
//! table's dialogue from the encrypted EHLO on). The handshake's own faults are in tests/tls.rs.
//! Modes: pipelined (the server offers PIPELINING) and lockstep (it does not).
//! Phases: greeting, EHLO, AUTH PLAIN, the three AUTH LOGIN steps, MAIL, each RCPT (one or
//! two recipients), DATA, the body (the server resets, closes, stalls, refuses early or reads
//! slowly while the client writes an 8 MiB body; plain TCP only), the reply to the final dot,
//! and the reply to QUIT.
//! Faults: disconnect (FIN; over TLS without close_notify, a truncation), reset (RST), stall
//! past the timeout, garbage, a continuation line with another code, a line longer than the
//! receive buffer, 4xx, 421, 5xx, an odd reply (a code outside 2xx-5xx, a four-digit code,
//! ...); over TLS only: close_notify, bytes outside TLS; and the ones that must succeed: the
//! reply trickled one byte at a time (over TLS one record per byte), coalesced with its
//! neighbour in one segment, spread over several lines, or (TLS) a final reply whose record
//! is followed by non-TLS bytes in the same segment.
//!
//! Cases run in parallel worker threads; `ZSMTP_FAULT_THREADS` sets how many (default 12),
//! `ZSMTP_FAULT_SEED` the seed of the binary garbage (printed), `ZSMTP_FAULT_FILTER` runs
//! only the cases whose name contains it.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use zsmtp::error::status::*;
use zsmtp::{Auth, Phase, Timeouts, TlsMode};

pub const USER: &str = "device-7@fault.test";
pub const PASS: &str = "Fault-Pa55:w0rd";
pub const DOMAIN: &str = "client.test";
pub const FROM: &str = "sender@fault.test";
pub const TO: [&str; 2] = ["a@fault.test", "b@fault.test"];
pub const SUBJECT: &str = "fault injection";
pub const SMALL_BODY: &[u8] = b"Line one.\n.line two starts with a dot\r\nline three\n";

/// Slack on top of the timeouts that had to expire (parallel threads on a small machine).
pub const MARGIN: Duration = Duration::from_millis(1500);
/// The same over TLS.
pub const TLS_MARGIN: Duration = Duration::from_millis(2000);
/// The body of the body-phase cases: larger than any socket buffer, so the client is still
/// writing when the server acts.
pub const BIG_BODY: usize = 8 << 20;
/// The server's fixed receive buffer in the body-phase cases.
pub const RCVBUF: usize = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pipelined,
    Lockstep,
}

/// Where the fault strikes: the reply to this step (or, for `Body`, the content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Greeting,
    Ehlo,
    AuthPlain,
    /// 0: the reply to AUTH LOGIN; 1: to the user name; 2: to the password.
    AuthLogin(u8),
    Mail,
    Rcpt(u8),
    Data,
    Body,
    Final,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// FIN (over TLS: without close_notify, a truncated TLS stream).
    Disconnect,
    Reset,
    Stall,
    Garbage,
    CodeMismatch,
    LongLine,
    Temporary,
    Shutdown421,
    Permanent,
    /// A reply that is not SMTP although it looks close (see [`ODD_REPLIES`]); the index.
    Odd(u8),
    Trickle,
    Coalesced,
    MultiLine,
    /// TLS only: close_notify, then FIN (a clean end of TLS where a reply was due).
    CloseNotify,
    /// TLS only: bytes that are not a TLS record, written onto the socket outside TLS.
    NotTls,
    /// TLS only, final reply only: the reply in a valid TLS record, then bytes that are not
    /// TLS in the same TCP segment. The reply counts: the mail was accepted.
    RecordThenNotTls,
}

pub const MODES: [Mode; 2] = [Mode::Pipelined, Mode::Lockstep];
pub const PHASES: [At; 13] = [
    At::Greeting,
    At::Ehlo,
    At::AuthPlain,
    At::AuthLogin(0),
    At::AuthLogin(1),
    At::AuthLogin(2),
    At::Mail,
    At::Rcpt(0),
    At::Rcpt(1),
    At::Data,
    At::Body,
    At::Final,
    At::Quit,
];
/// The faults of the engine's table (odd replies are its garbage, chosen by the case).
pub const FAULTS: [Fault; 12] = [
    Fault::Disconnect,
    Fault::Reset,
    Fault::Stall,
    Fault::Garbage,
    Fault::CodeMismatch,
    Fault::LongLine,
    Fault::Temporary,
    Fault::Shutdown421,
    Fault::Permanent,
    Fault::Trickle,
    Fault::Coalesced,
    Fault::MultiLine,
];

/// The phases of the TLS table: the encrypted dialogue of a one-shot send to one recipient
/// with AUTH PLAIN (the body phase needs a server reading TLS slowly: not built).
pub const TLS_PHASES: [At; 8] = [At::Greeting, At::Ehlo, At::AuthPlain, At::Mail, At::Rcpt(0), At::Data, At::Final, At::Quit];
/// The faults of the TLS table: the link's ends as TLS has them (truncation, close_notify,
/// reset, bytes outside TLS), a stall, garbage and a refusal inside TLS, a reply trickled one
/// record per byte, and a final reply followed by non-TLS bytes in its segment.
pub const TLS_FAULTS: [Fault; 9] = [
    Fault::Disconnect,
    Fault::CloseNotify,
    Fault::Reset,
    Fault::Stall,
    Fault::NotTls,
    Fault::Garbage,
    Fault::Permanent,
    Fault::Trickle,
    Fault::RecordThenNotTls,
];

/// Replies that look like SMTP but are not: a first digit outside 2-5, a code of two or four
/// digits, a bad separator, a line that ends before its code. Each must count as a malformed
/// reply: the step's refusal status, or "outcome unknown" after the final dot.
pub const ODD_REPLIES: [&str; 8] = [
    "600 weird\r\n",
    "199 weird\r\n",
    "2500 four digits\r\n",
    "2200 four digits\r\n",
    "25\r\n",
    "250_bad separator\r\n",
    "099 weird\r\n",
    "\r\n",
];

#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Plain TCP, implicit TLS, or STARTTLS (greeting and EHLO in clear, then the handshake,
    /// then the dialogue inside TLS from EHLO on): over TLS the server plays the same script
    /// inside TLS (tests/support/tls_server.rs).
    pub security: TlsMode,
    pub mode: Mode,
    /// A kept connection (`Client::connect`, `Connection::send`) instead of one-shot sends.
    pub kept: bool,
    pub at: At,
    pub fault: Fault,
    /// Recipients of each mail: 2 (the engine's table), or 1 (the C API sends to one).
    pub recipients: u8,
}

impl Case {
    pub fn name(&self) -> String {
        let fault = match self.fault {
            Fault::Odd(i) => format!("Odd({:?})", ODD_REPLIES[usize::from(i)].trim_end()),
            f => format!("{f:?}"),
        };
        let security = if self.tls() { format!("{:?}/", self.security) } else { String::new() };
        format!("{security}{}{:?}/{:?}/{fault}", if self.kept { "Kept" } else { "" }, self.mode, self.at)
    }

    /// Over TLS (implicit or STARTTLS).
    pub fn tls(&self) -> bool {
        self.security != TlsMode::None
    }

    pub fn applies(&self) -> bool {
        if let At::Rcpt(n) = self.at {
            if n >= self.recipients {
                return false;
            }
        }
        let tls_only = matches!(self.fault, Fault::CloseNotify | Fault::NotTls | Fault::RecordThenNotTls);
        if tls_only && !self.tls() {
            return false;
        }
        match (self.security, self.at) {
            // After STARTTLS the dialogue starts again with EHLO: no greeting inside TLS.
            (TlsMode::StartTls, At::Greeting) => return false,
            // The TLS server has no fixed receive buffer nor slow reader of the body.
            (TlsMode::StartTls | TlsMode::Implicit, At::Body) => return false,
            _ => {}
        }
        if self.fault == Fault::RecordThenNotTls && self.at != At::Final {
            return false;
        }
        match self.at {
            // The client only writes during the body: the server can go away, stall, refuse
            // early or read slowly; a reply there has nothing to be trickled into.
            At::Body => matches!(self.fault, Fault::Disconnect | Fault::Reset | Fault::Stall | Fault::Permanent | Fault::Trickle),
            _ => true,
        }
    }

    pub fn auth(&self) -> Auth {
        match self.at {
            At::AuthLogin(_) => Auth::Login,
            _ => Auth::Plain,
        }
    }

    /// A fault while the connection opens (before MAIL).
    pub fn opening(&self) -> bool {
        matches!(self.at, At::Greeting | At::Ehlo | At::AuthPlain | At::AuthLogin(_))
    }

    pub fn succeeds(&self) -> bool {
        matches!(self.fault, Fault::Trickle | Fault::Coalesced | Fault::MultiLine | Fault::RecordThenNotTls)
    }

    /// The slack on top of the timeouts that had to expire: more over TLS (a handshake on a
    /// loaded machine).
    pub fn margin(&self) -> Duration {
        if self.tls() {
            TLS_MARGIN
        } else {
            MARGIN
        }
    }

    /// The recipients of each mail of the case.
    pub fn to(&self) -> &'static [&'static str] {
        &TO[..usize::from(self.recipients)]
    }
}

/// A table: every applicable case of `security` x `kept` x `modes` x `phases` x `faults`, each
/// mail to `recipients` recipients.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    pub security: &'a [TlsMode],
    /// One-shot sends (false), kept connections (true).
    pub kept: &'a [bool],
    pub modes: &'a [Mode],
    pub phases: &'a [At],
    pub faults: &'a [Fault],
    /// 2 (the engine's table), or 1 (the C API sends to one; the TLS table).
    pub recipients: u8,
}

impl Table<'_> {
    /// Every applicable case.
    pub fn every_case(&self) -> Vec<Case> {
        let mut cases = Vec::new();
        for &security in self.security {
            for &kept in self.kept {
                for &mode in self.modes {
                    for &at in self.phases {
                        for &fault in self.faults {
                            let case = Case { security, mode, kept, at, fault, recipients: self.recipients };
                            if case.applies() {
                                cases.push(case);
                            }
                        }
                    }
                }
            }
        }
        cases
    }

    /// The applicable cases whose name contains `ZSMTP_FAULT_FILTER`.
    pub fn cases(&self) -> Vec<Case> {
        let filter = std::env::var("ZSMTP_FAULT_FILTER").unwrap_or_default();
        self.every_case().into_iter().filter(|c| c.name().contains(&filter)).collect()
    }
}

// ---- The dialogue of a good server, exchange by exchange ----

/// One exchange: what the server reads, then its reply.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub at: At,
    pub reads: Vec<Step>,
    pub reply: String,
}

fn exchange(at: At, reads: Vec<Step>, reply: &str) -> Exchange {
    Exchange { at, reads, reply: reply.to_string() }
}

/// `Expect` wants a `&'static str`: the few computed lines are leaked (tests only).
fn expect_owned(line: String) -> Step {
    Expect(Box::leak(line.into_boxed_str()))
}

/// Greeting, EHLO and AUTH. After STARTTLS there is no greeting: the greeting and a first
/// EHLO were in clear (the TLS server's own), the dialogue inside TLS starts with EHLO.
pub fn opening(security: TlsMode, mode: Mode, auth: Auth) -> Vec<Exchange> {
    let piped = mode == Mode::Pipelined;
    let mut d = Vec::new();
    if security != TlsMode::StartTls {
        d.push(exchange(At::Greeting, vec![], "220 mx.fault.test ESMTP ready\r\n"));
    }
    let ehlo = format!(
        "250-mx.fault.test greets client.test\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n{}250 SIZE 100000000\r\n",
        if piped { "250-PIPELINING\r\n" } else { "" }
    );
    d.push(exchange(At::Ehlo, vec![expect_owned(format!("EHLO {DOMAIN}"))], &ehlo));
    match auth {
        Auth::Plain => {
            let line = format!("AUTH PLAIN {}", super::b64(format!("\0{USER}\0{PASS}").as_bytes()));
            d.push(exchange(At::AuthPlain, vec![expect_owned(line)], "235 2.7.0 Authentication successful\r\n"));
        }
        Auth::Login => {
            d.push(exchange(At::AuthLogin(0), vec![Expect("AUTH LOGIN")], "334 VXNlcm5hbWU6\r\n"));
            d.push(exchange(At::AuthLogin(1), vec![expect_owned(super::b64(USER.as_bytes()))], "334 UGFzc3dvcmQ6\r\n"));
            d.push(exchange(At::AuthLogin(2), vec![expect_owned(super::b64(PASS.as_bytes()))], "235 2.7.0 Authentication successful\r\n"));
        }
        Auth::None => {}
        // Token mechanisms (feature oauth2) have suites of their own (tests/oauth.rs).
        #[allow(unreachable_patterns)]
        _ => panic!("the fault table drives PLAIN, LOGIN and no AUTH"),
    }
    d
}

const RSET_OK: &str = "250 2.0.0 Ok\r\n";

/// MAIL, each RCPT, DATA, content and the final reply. A one-shot pipelined send has QUIT
/// with the terminator; `reset`: the transaction starts with RSET (after a refusal on a kept
/// connection), in the same flight as the envelope when pipelining.
pub fn transaction(mode: Mode, kept: bool, reset: bool, to: &[&str]) -> Vec<Exchange> {
    let piped = mode == Mode::Pipelined;
    let mail = Expect("MAIL FROM:<sender@fault.test>");
    let rcpts: Vec<Step> = to.iter().map(|a| expect_owned(format!("RCPT TO:<{a}>"))).collect();
    let data_go = "354 End data with <CR><LF>.<CR><LF>\r\n";
    let queued = "250 2.0.0 Ok: queued as F00D\r\n";
    let mut d = Vec::new();
    if piped {
        let mut flight = if reset { vec![Expect("RSET")] } else { vec![] };
        flight.push(mail);
        flight.extend(rcpts.iter().cloned());
        flight.push(Expect("DATA"));
        let first = if reset { format!("{RSET_OK}250 2.1.0 Ok\r\n") } else { "250 2.1.0 Ok\r\n".to_string() };
        d.push(exchange(At::Mail, flight, &first));
        for n in 0..rcpts.len() {
            d.push(exchange(At::Rcpt(n as u8), vec![], "250 2.1.5 Ok\r\n"));
        }
        d.push(exchange(At::Data, vec![], data_go));
        let content = if kept { vec![ExpectData] } else { vec![ExpectData, Expect("QUIT")] };
        d.push(exchange(At::Final, content, queued));
    } else {
        if reset {
            // Lockstep RSET: an exchange of its own, outside the table's phases.
            d.push(exchange(At::Quit, vec![Expect("RSET")], RSET_OK));
        }
        d.push(exchange(At::Mail, vec![mail], "250 2.1.0 Ok\r\n"));
        for (n, rcpt) in rcpts.into_iter().enumerate() {
            d.push(exchange(At::Rcpt(n as u8), vec![rcpt], "250 2.1.5 Ok\r\n"));
        }
        d.push(exchange(At::Data, vec![Expect("DATA")], data_go));
        d.push(exchange(At::Final, vec![ExpectData], queued));
    }
    d
}

pub fn quit(mode: Mode, kept: bool) -> Exchange {
    let reads = if mode == Mode::Pipelined && !kept { vec![] } else { vec![Expect("QUIT")] };
    exchange(At::Quit, reads, "221 2.0.0 Bye\r\n")
}

fn play(steps: &mut Vec<Step>, exchanges: Vec<Exchange>) {
    for e in exchanges {
        steps.extend(e.reads);
        steps.push(Send(e.reply.into_bytes()));
    }
}

/// A whole good connection: one mail (one-shot or kept), QUIT.
pub fn good_script(security: TlsMode, mode: Mode, kept: bool, auth: Auth, to: &[&str]) -> Vec<Step> {
    let mut steps = Vec::new();
    play(&mut steps, opening(security, mode, auth).into_iter().chain(transaction(mode, kept, false, to)).chain([quit(mode, kept)]).collect());
    steps
}

// ---- Faults ----

fn code_of(reply: &str) -> u16 {
    reply[..3].parse().expect("reply code")
}

/// A temporary refusal fitting the phase.
pub fn temporary(at: At) -> &'static str {
    match at {
        At::Greeting => "450 4.3.2 Too busy, come back later\r\n",
        At::Ehlo => "451 4.3.0 Temporary local problem\r\n",
        At::AuthPlain | At::AuthLogin(_) => "454 4.7.0 Temporary authentication failure\r\n",
        At::Mail => "451 4.3.0 Sender verification in progress\r\n",
        At::Rcpt(_) => "450 4.2.0 Recipient greylisted\r\n",
        At::Data => "451 4.3.0 Queue file write error\r\n",
        At::Body | At::Final => "451 4.3.0 Error: queue file write error\r\n",
        At::Quit => "451 4.3.0 Odd QUIT reply\r\n",
    }
}

/// A permanent refusal fitting the phase (EHLO: a code that does not trigger HELO).
pub fn permanent(at: At) -> &'static str {
    match at {
        At::Greeting => "554 5.3.2 No SMTP service here\r\n",
        At::Ehlo => "554 5.7.1 Go away\r\n",
        At::AuthPlain | At::AuthLogin(_) => "535 5.7.8 Authentication credentials invalid\r\n",
        At::Mail => "550 5.1.8 Sender address rejected\r\n",
        At::Rcpt(_) => "550 5.1.1 Recipient address rejected: User unknown\r\n",
        At::Data => "554 5.5.1 Error: no valid recipients\r\n",
        At::Body | At::Final => "554 5.7.1 Message rejected as spam\r\n",
        At::Quit => "500 5.5.2 Odd QUIT reply\r\n",
    }
}

pub const SHUTDOWN: &str = "421 4.3.2 Service shutting down, closing transmission channel\r\n";
/// A pipelining server's reply to DATA when no recipient was accepted (as Postfix does).
pub const NO_VALID_RECIPIENTS: &str = "554 5.5.1 Error: no valid recipients\r\n";
/// What [`Fault::NotTls`] writes outside TLS: a reply, in clear, where a record was due.
pub const IN_CLEAR: &[u8] = b"250 in clear, outside TLS\r\n";
/// What [`Fault::RecordThenNotTls`] writes outside TLS after the reply's record.
pub const NOT_A_RECORD: &[u8] = b"\x00\x01 not a TLS record\r\n";

/// Garbage of several kinds, chosen by the case; one kind is seeded binary noise.
pub fn garbage(index: usize, seed: u64) -> Vec<u8> {
    let fixed: [&[u8]; 8] = [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        b"2500 four-digit code\r\n",
        b"25\r\n",
        b"250_bad separator\r\n",
        b"\x00\x00\x00\x00\r\n",
        b"ehlo back at you\r\n",
        b"199 too low\r\n",
        b"\r\n",
    ];
    if index % (fixed.len() + 1) < fixed.len() {
        return fixed[index % (fixed.len() + 1)].to_vec();
    }
    // Binary noise; its first byte can never start a reply line (not a digit 2-5, space, tab).
    let mut x = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = vec![0x80 | (x as u8)];
    for _ in 0..64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(x as u8);
    }
    out
}

/// The same reply spread over three lines.
fn multi_line(reply: &str) -> String {
    let code = &reply[..3];
    format!("{code}-first extra line\r\n{code}-second extra line\r\n{reply}")
}

/// What the client may send after the fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Nothing at all.
    Nothing,
    /// Exactly "QUIT\r\n" (an orderly refusal ends a one-shot session).
    Quit,
    /// Nothing until the next mail, which starts with "RSET" (an orderly refusal on a kept
    /// connection: the connection stays).
    Rset,
    /// Not checked (the server stopped listening, or it is the content).
    Unchecked,
}

/// Which of the client's timeouts a case has to wait out (or may use up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    None,
    /// The wait for the reply at the fault's phase (greeting, command, final or QUIT reply).
    Reply,
    /// A slow reader of the body, then the final reply.
    SlowReader,
    /// A reader that stopped reading the body: the send timeout or the overall deadline.
    BodyStall,
}

#[derive(Debug, Clone, Copy)]
pub struct Expected {
    /// `Ok(())` or the NetX status.
    pub status: Result<(), u32>,
    /// The phase of the error.
    pub phase: Option<Phase>,
    /// The server reply the error must carry (refusals).
    pub reply_code: Option<u16>,
    pub after: After,
    /// The timeout that had to expire.
    pub waits: Wait,
}

pub fn phase_of(at: At) -> Phase {
    match at {
        At::Greeting => Phase::Greeting,
        At::Ehlo => Phase::Hello,
        At::AuthPlain | At::AuthLogin(_) => Phase::Auth,
        At::Mail => Phase::Mail,
        At::Rcpt(_) => Phase::Rcpt,
        At::Data => Phase::Data,
        At::Body | At::Final | At::Quit => Phase::Message,
    }
}

/// The expected outcome: the table of what the client promises (every driver, every profile).
pub fn expected(case: &Case) -> Expected {
    use Fault::*;
    let Case { mode, kept, at, fault, .. } = *case;
    let phase = Some(phase_of(at));
    let fail = |status: u32, after: After| Expected { status: Err(status), phase, reply_code: None, after, waits: Wait::None };
    let ok = Expected { status: Ok(()), phase: None, reply_code: None, after: After::Unchecked, waits: Wait::None };
    if case.succeeds() {
        // A trickled reply needs its time; the slow reader of the body needs many writes.
        let waits = match (at, fault) {
            (At::Body, Trickle) => Wait::SlowReader,
            (_, Trickle) => Wait::Reply,
            _ => Wait::None,
        };
        return Expected { waits, ..ok };
    }
    // An orderly refusal: a one-shot session ends with QUIT; a kept connection stays for the
    // next mail, which starts with RSET. While opening, a refusal ends the session either way.
    let orderly = if kept && !case.opening() { After::Rset } else { After::Quit };
    let refusal = |reply: &str, after: After| Expected { reply_code: Some(code_of(reply)), ..fail(phase_of(at).reply_status(), after) };
    match at {
        // The mail is accepted: whatever happens to QUIT changes nothing, and nothing follows.
        At::Quit => Expected { after: After::Nothing, waits: if fault == Stall { Wait::Reply } else { Wait::None }, ..ok },
        At::Body => match fault {
            Stall => Expected { waits: Wait::BodyStall, ..fail(NX_NO_PACKET, After::Unchecked) },
            _ => fail(NX_SMTP_TRANSMIT_ERROR, After::Unchecked),
        },
        // After the final dot: a broken or silent link leaves the outcome unknown.
        At::Final => {
            // A one-shot pipelined send had QUIT leave with the dot: nothing more to send.
            let after = if mode == Mode::Pipelined && !kept { After::Nothing } else { orderly };
            match fault {
                Disconnect | Reset | CloseNotify | NotTls | Garbage | CodeMismatch | LongLine | Odd(_) => fail(NX_SMTP_OUTCOME_UNKNOWN, After::Nothing),
                Stall => Expected { waits: Wait::Reply, ..fail(NX_SMTP_OUTCOME_UNKNOWN, After::Nothing) },
                Temporary => refusal(temporary(at), after),
                Permanent => refusal(permanent(at), after),
                Shutdown421 => refusal(SHUTDOWN, After::Nothing),
                Trickle | Coalesced | MultiLine | RecordThenNotTls => unreachable!(),
            }
        }
        _ => {
            // A pipelined RCPT refusal is seen after DATA was sent. When another recipient was
            // accepted, the server's 354 means the client is inside DATA, where nothing may be
            // sent (not even QUIT); with no recipient left DATA is refused and QUIT is orderly.
            let in_data = mode == Mode::Pipelined && matches!(at, At::Rcpt(_)) && case.recipients > 1;
            let orderly = if in_data { After::Nothing } else { orderly };
            match fault {
                Disconnect | Reset | CloseNotify | NotTls => fail(NX_NOT_CONNECTED, After::Nothing),
                Stall => Expected { waits: Wait::Reply, ..fail(NX_NO_PACKET, After::Nothing) },
                Garbage | CodeMismatch | Odd(_) => fail(phase_of(at).reply_status(), After::Nothing),
                LongLine => fail(NX_SMTP_OVERSIZE_SERVER_REPLY, After::Nothing),
                Temporary => refusal(temporary(at), orderly),
                Permanent => refusal(permanent(at), orderly),
                Shutdown421 => refusal(SHUTDOWN, After::Nothing),
                Trickle | Coalesced | MultiLine | RecordThenNotTls => unreachable!(),
            }
        }
    }
}

/// How long the server side waits, and how it reads a body slowly: from the client's timeouts
/// (a stalled server must outlast the client's wait).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// A stalled server stays silent this long at most (it stops when the client closes).
    pub hold_ms: u64,
    /// A server that stops reading the body pauses this long.
    pub body_pause_ms: u64,
    /// The slow reader of the body: bytes per read, pause after each read.
    pub slow_chunk: usize,
    pub slow_pause_ms: u64,
}

/// The scripts of a case, one per connection the client will make: the broken server
/// first, then (when the client must reconnect) a good one.
pub fn fault_scripts(case: &Case, index: usize, seed: u64, pace: &Pace) -> Vec<Vec<Step>> {
    use Fault::*;
    let (mode, kept, auth, to) = (case.mode, case.kept, case.auth(), case.to());
    let want = expected(case);
    // The exchanges of the first connection when all goes well: one mail (one-shot, or a
    // fault while a kept connection opens), or two mails and QUIT on a kept connection.
    let mut d = opening(case.security, mode, auth);
    d.extend(transaction(mode, kept, false, to));
    let two_mails = kept && !case.opening();
    if two_mails {
        d.extend(transaction(mode, kept, false, to));
    }
    d.push(quit(mode, kept));
    let good = good_script(case.security, mode, kept, auth, to);
    // The client connects again after the fault, except at QUIT of a kept connection: its
    // mails are done by then.
    let reconnects = !(kept && case.at == At::Quit);
    let then_good = |steps: Vec<Step>| if reconnects { vec![steps, good.clone()] } else { vec![steps] };
    // Where the fault strikes: in the first mail (or at QUIT).
    let target = if case.at == At::Body { At::Final } else { case.at };
    let idx = d.iter().position(|e| e.at == target).expect("phase in dialogue");
    let quit_idx = d.len() - 1;
    // Coalesced: the reply of exchange `merged` leaves in one write with the one before it.
    let merged = (case.fault == Coalesced).then_some(match case.at {
        _ if idx == 0 => 1,
        At::Final | At::Quit => quit_idx.min(idx + 1),
        _ => idx,
    });
    let mut steps = Vec::new();
    for (i, e) in d.iter().enumerate() {
        if i == idx && case.at == At::Body {
            let after_data: Vec<Step> = e.reads.iter().skip(1).cloned().collect();
            match case.fault {
                Disconnect => steps.extend([Mark, Drain(RCVBUF), Close]),
                Reset => steps.extend([Mark, Drain(RCVBUF), Step::Reset]),
                Stall => steps.extend([Mark, Pause(pace.body_pause_ms)]),
                Permanent => steps.extend([Mark, Drain(RCVBUF), Send(permanent(At::Body).as_bytes().to_vec()), Close]),
                Trickle => {
                    steps.push(ExpectDataSlowly { chunk: pace.slow_chunk, pause_ms: pace.slow_pause_ms });
                    steps.extend(after_data);
                    steps.push(Send(e.reply.clone().into_bytes()));
                    continue;
                }
                _ => unreachable!("not a body fault"),
            }
            return then_good(steps);
        }
        steps.extend(e.reads.iter().cloned());
        if i == idx && case.at != At::Body && !case.succeeds() {
            steps.push(Mark);
            let code = code_of(&e.reply);
            let mut orderly = None;
            match case.fault {
                Disconnect => {
                    steps.push(Close);
                    return then_good(steps);
                }
                Reset => {
                    // At the greeting nothing was read yet: an RST right after accept can reach
                    // the client inside connect() (the phase would then be Connect). Wait until
                    // it is surely waiting for the greeting, the phase this case is about.
                    if case.at == At::Greeting {
                        steps.push(Pause(100));
                    }
                    steps.push(Step::Reset);
                    return then_good(steps);
                }
                CloseNotify => {
                    steps.push(Step::CloseNotify);
                    return then_good(steps);
                }
                // After a pause, so that the reply before it (the final reply, when QUIT was
                // pipelined) has been read on its own: RecordThenNotTls is the same segment.
                NotTls => steps.extend([Pause(100), OutsideTls(IN_CLEAR.to_vec())]),
                Stall => {}
                Garbage => steps.push(Send(garbage(index, seed))),
                Odd(i) => steps.push(send(ODD_REPLIES[usize::from(i)])),
                CodeMismatch => steps.push(send(&format!("{code}-first line\r\n{} second line with another code\r\n", code + 1))),
                LongLine => steps.push(send(&format!("{code} {}\r\n", "x".repeat(2000)))),
                Temporary => orderly = Some(temporary(case.at)),
                Permanent => orderly = Some(permanent(case.at)),
                Shutdown421 => steps.push(send(SHUTDOWN)),
                Trickle | Coalesced | MultiLine | RecordThenNotTls => unreachable!(),
            }
            if let Some(reply) = orderly {
                steps.push(send(reply));
                // A pipelining server answers the rest of the flight, as Postfix does.
                if mode == Mode::Pipelined {
                    match case.at {
                        At::Mail => {
                            let mut rest = "503 5.5.1 Error: need MAIL command\r\n".repeat(to.len());
                            rest.push_str(NO_VALID_RECIPIENTS);
                            steps.push(send(&rest));
                        }
                        At::Rcpt(_) => {
                            // The replies of the rest of the flight: the other RCPTs, and DATA's
                            // 354 (or its refusal when the refused recipient was the only one).
                            let data = idx + d[idx..].iter().position(|x| x.at == At::Data).expect("DATA after RCPT");
                            let mut rest: String = d[idx + 1..data].iter().map(|x| x.reply.as_str()).collect();
                            rest.push_str(if to.len() == 1 { NO_VALID_RECIPIENTS } else { &d[data].reply });
                            steps.push(send(&rest));
                        }
                        _ => {}
                    }
                }
                if want.after == After::Rset {
                    // The connection stays: the next mail starts with RSET, then QUIT.
                    play(&mut steps, transaction(mode, kept, true, to));
                    play(&mut steps, vec![quit(mode, kept)]);
                    return vec![steps];
                }
            }
            steps.push(Hold(pace.hold_ms));
            return then_good(steps);
        }
        if merged == Some(i) {
            continue; // left with the previous reply
        }
        let mut reply = e.reply.clone();
        if merged == Some(i + 1) {
            reply.push_str(&d[i + 1].reply);
        }
        if i == idx {
            match case.fault {
                Trickle => {
                    steps.push(Step::Trickle(reply.into_bytes(), 1));
                    continue;
                }
                MultiLine => reply = multi_line(&reply),
                RecordThenNotTls => {
                    steps.extend([RecordThenRaw(reply.into_bytes(), NOT_A_RECORD.to_vec()), Hold(pace.hold_ms)]);
                    return then_good(steps);
                }
                _ => {}
            }
        }
        steps.push(Send(reply.into_bytes()));
    }
    // The fault did not end the connection: a one-shot follow-up (or a kept one after a
    // fault while opening) connects again.
    if two_mails {
        vec![steps]
    } else {
        then_good(steps)
    }
}

// ---- Running a case ----

pub fn big_body() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        let mut body = Vec::with_capacity(BIG_BODY + 100);
        let mut n = 0u32;
        while body.len() < BIG_BODY {
            let line = if n % 7 == 0 { format!(".{n:08} a line that starts with a dot\n") } else { format!("{n:08} the quick brown fox jumps over the lazy dog\r\n") };
            body.extend_from_slice(line.as_bytes());
            n += 1;
        }
        body
    })
}

/// The delivered content (after the header block), un-stuffed, equals the CRLF form of `body`.
pub fn check_content(message: Option<&Vec<u8>>, body: &[u8]) -> Result<(), String> {
    let message = message.ok_or("no message content reached the server")?;
    let at = message.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no header block")?;
    let content = &message[at + 4..];
    let mut got = Vec::with_capacity(content.len() + 2);
    for line in content.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        got.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        got.extend_from_slice(b"\r\n");
    }
    let mut want = Vec::with_capacity(body.len() + body.len() / 40);
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\r' if body.get(i + 1) == Some(&b'\n') => {
                want.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => want.extend_from_slice(b"\r\n"),
            b => want.push(b),
        }
        i += 1;
    }
    if !want.ends_with(b"\r\n") {
        want.extend_from_slice(b"\r\n");
    }
    if got != want {
        return Err(format!("content differs: {} bytes delivered, {} expected", got.len(), want.len()));
    }
    Ok(())
}

/// One mail of a case.
#[derive(Debug, Clone, Copy)]
pub struct Letter<'a> {
    pub subject: &'a str,
    pub body: &'a [u8],
    pub to: &'a [&'a str],
}

/// The result of one send, as far as the driver can tell.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `Ok(())` or the NetX status.
    pub status: Result<(), u32>,
    /// The phase of the error (None: the driver does not report one, as the C API).
    pub phase: Option<Phase>,
    /// The server reply the error carries.
    pub reply: Option<u16>,
    /// A description for the report.
    pub text: String,
}

/// What one case did.
pub struct Run {
    pub first: Outcome,
    pub elapsed: Duration,
    /// The reply the client reports as the last one after the first send.
    pub last_reply: Option<u16>,
    pub follow_up: Outcome,
    /// Closing the kept connection (QUIT) took this long.
    pub closing: Duration,
    /// The client, kept alive until the descriptor count of the table is taken.
    pub client: Option<Box<dyn std::marker::Send>>,
    /// What the driver checked on its own and found wrong (the outbox driver: the state the
    /// mail was left in); each one fails the case.
    pub problems: Vec<String>,
}

/// The client under test: the Rust engine over a transport, or the C API in one profile.
pub trait Driver {
    /// The name in the report.
    const NAME: &'static str;
    /// The timeouts the client runs `case` with (chosen per case, or fixed at build time).
    fn timeouts(case: &Case) -> Timeouts;
    /// The server's pace for `case`.
    fn pace(case: &Case) -> Pace;
    /// The bound of a body whose reader stopped (the send timeout or the overall deadline).
    fn body_stall_ms(case: &Case) -> u32;
    /// Sends `mail` to 127.0.0.1:`port` as the case says (one-shot or kept), then `next`.
    fn run(case: &Case, port: u16, mail: Letter<'_>, next: Letter<'_>) -> Run;
}

fn wait_ms<D: Driver>(case: &Case, wait: Wait) -> u32 {
    let t = D::timeouts(case);
    match wait {
        Wait::None => 0,
        Wait::Reply => match case.at {
            At::Greeting => t.greeting_ms,
            At::Final => t.final_reply_ms,
            _ => t.reply_ms,
        },
        Wait::SlowReader => t.final_reply_ms,
        Wait::BodyStall => D::body_stall_ms(case),
    }
}

/// The broken server of a case (then the good one, when the client reconnects): the plain
/// scripted server, or the TLS one playing the same scripts inside TLS.
enum Broken {
    Plain(Servers),
    Tls(super::tls_server::TlsServer),
}

impl Broken {
    fn start(case: &Case, scripts: Vec<Vec<Step>>, rcvbuf: Option<usize>, patience: Duration) -> Broken {
        use super::tls_server::{Handshake, Plan, TlsServer};
        let plan = |steps| {
            let handshake = Handshake::Script(super::pki::shared().server.clone(), steps);
            if case.security == TlsMode::StartTls {
                Plan::starttls(handshake)
            } else {
                Plan::implicit(handshake)
            }
        };
        if case.tls() {
            assert!(rcvbuf.is_none(), "no fixed receive buffer over TLS");
            Broken::Tls(TlsServer::start_patient(scripts.into_iter().map(plan).collect(), patience))
        } else {
            Broken::Plain(Servers::start_patient(scripts, rcvbuf, patience))
        }
    }

    fn port(&self) -> u16 {
        match self {
            Broken::Plain(s) => s.port,
            Broken::Tls(s) => s.port,
        }
    }

    /// One `Seen` per connection that came; the plain server adds a not-connected one when
    /// a connection never came, the TLS server does not (either way the count differs).
    fn finish(self) -> Vec<Seen> {
        match self {
            Broken::Plain(s) => s.finish(),
            Broken::Tls(s) => s.finish_all(),
        }
    }
}

/// Runs one case; the verdict, and the client (still alive) for the descriptor check.
pub fn run_case<D: Driver>(case: &Case, index: usize, seed: u64) -> (Result<(), String>, Option<Box<dyn std::marker::Send>>) {
    let want = expected(case);
    let scripts = fault_scripts(case, index, seed, &D::pace(case));
    let connections = scripts.len();
    let rcvbuf = (case.at == At::Body).then_some(RCVBUF);
    let waits = wait_ms::<D>(case, want.waits);
    // The follow-up connects only once the first send has waited out its timeouts.
    let patience = Duration::from_millis(u64::from(waits)) + Duration::from_secs(10);
    let servers = Broken::start(case, scripts, rcvbuf, patience);
    let body: &[u8] = if case.at == At::Body { big_body() } else { SMALL_BODY };
    let mail = Letter { subject: SUBJECT, body, to: case.to() };
    let next = Letter { subject: "after the fault", body: SMALL_BODY, to: case.to() };

    let mut run = D::run(case, servers.port(), mail, next);
    let seen = servers.finish();

    let mut problems = std::mem::take(&mut run.problems);
    match (&run.first.status, want.status) {
        (Ok(()), Ok(())) => {}
        (Err(got), Err(status)) => {
            if *got != status {
                problems.push(format!("status 0x{got:02X} {}, expected 0x{status:02X} {}", name(*got), name(status)));
            }
            if let (Some(phase), Some(got)) = (want.phase, run.first.phase) {
                if got != phase {
                    problems.push(format!("phase {got:?}, expected {phase:?}"));
                }
            }
            if let Some(code) = want.reply_code {
                if run.first.reply != Some(code) {
                    problems.push(format!("error carries reply {:?}, expected code {code}", run.first.reply));
                }
                if run.last_reply != Some(code) {
                    problems.push(format!("last reply {:?}, expected code {code}", run.last_reply));
                }
            }
        }
        (Ok(()), Err(status)) => problems.push(format!("succeeded, expected 0x{status:02X} {}", name(status))),
        (Err(got), Ok(())) => problems.push(format!("failed with 0x{got:02X} {}, expected success", name(*got))),
    }
    let bound = Duration::from_millis(u64::from(waits)) + case.margin();
    if run.elapsed > bound {
        problems.push(format!("took {:?}, bound {bound:?}", run.elapsed));
    }
    let quit_wait = if case.at == At::Quit && case.fault == Fault::Stall { D::timeouts(case).reply_ms } else { 0 };
    let close_bound = Duration::from_millis(u64::from(quit_wait)) + case.margin();
    if run.closing > close_bound {
        problems.push(format!("closing the connection took {:?}, bound {close_bound:?}", run.closing));
    }
    if seen.len() != connections {
        problems.push(format!("{} connections, expected {connections}", seen.len()));
    }
    match seen.first() {
        None => problems.push("the broken server saw no connection".into()),
        Some(s) => {
            if !s.failures.is_empty() {
                problems.push(format!("script: {:?}", s.failures));
            }
            if case.tls() && s.version.is_none() {
                problems.push(format!("the handshake did not complete: {:?}", s.tls_error));
            }
            if case.security == TlsMode::StartTls && s.clear_lines() != [format!("EHLO {DOMAIN}"), "STARTTLS".to_string()] {
                problems.push(format!("in clear: {:?}, expected EHLO and STARTTLS", s.clear_lines()));
            }
            let after = s.after_mark(0);
            let shown = String::from_utf8_lossy(&after[..after.len().min(80)]).to_string();
            match want.after {
                After::Nothing | After::Quit => {
                    let allowed: &[u8] = if want.after == After::Quit { b"QUIT\r\n" } else { b"" };
                    if after != allowed {
                        problems.push(format!("sent after the fault: {shown:?}, allowed: {:?}", String::from_utf8_lossy(allowed)));
                    }
                }
                After::Rset => {
                    if !after.starts_with(b"RSET\r\n") {
                        problems.push(format!("sent after the fault: {shown:?}, expected the next mail to start with RSET"));
                    }
                }
                After::Unchecked => {}
            }
            if want.status.is_ok() {
                if let Err(p) = check_content(s.messages.first(), body) {
                    problems.push(p);
                }
            }
        }
    }
    match &run.follow_up.status {
        Ok(()) => {
            // The follow-up's content is the last message the last connection saw.
            if let Some(s) = seen.last() {
                if let Err(p) = check_content(s.messages.last(), SMALL_BODY) {
                    problems.push(format!("follow-up: {p}"));
                }
            }
            if connections > 1 {
                if let Some(s) = seen.get(1) {
                    if !s.failures.is_empty() {
                        problems.push(format!("follow-up script: {:?}", s.failures));
                    }
                }
            }
        }
        Err(_) => problems.push(format!("follow-up send failed: {}", run.follow_up.text)),
    }
    let verdict = if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} [{}]: {} -> {}; {}", case.name(), D::NAME, run.first.text, run.follow_up.text, problems.join("; ")))
    };
    (verdict, run.client.take())
}

/// `ZSMTP_FAULT_THREADS`, else 12.
pub fn workers() -> usize {
    workers_or(12)
}

/// `ZSMTP_FAULT_THREADS`, else `default`.
pub fn workers_or(default: usize) -> usize {
    std::env::var("ZSMTP_FAULT_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(default).max(1)
}

pub fn seed() -> u64 {
    std::env::var("ZSMTP_FAULT_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x005E_ED0F_FA17)
}

/// Runs `cases` on `workers` threads, the longest waits first; returns the failures (and
/// keeps the clients alive until the descriptor count is taken).
pub fn run_table<D: Driver>(cases: &[Case], workers: usize) -> Vec<String> {
    let seed = seed();
    println!("fault table ({}): {} cases, {workers} threads, ZSMTP_FAULT_SEED={seed}", D::NAME, cases.len());
    // (index, case): the index keeps each case's garbage whatever the order.
    let mut order: Vec<(usize, &Case)> = cases.iter().enumerate().collect();
    order.sort_by_key(|(_, c)| std::cmp::Reverse(wait_ms::<D>(c, expected(c).waits)));
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let clients = Mutex::new(Vec::new());
    let fds_before = open_fds();
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(index, case)) = order.get(i) else { break };
                let (verdict, client) = run_case::<D>(case, index, seed);
                if let Err(e) = verdict {
                    failures.lock().unwrap().push(e);
                }
                clients.lock().unwrap().extend(client);
            });
        }
    });
    let fds_after = open_fds();
    let mut failures = failures.into_inner().unwrap();
    if fds_after != fds_before {
        failures.push(format!("file descriptors: {fds_before} before, {fds_after} after ({} clients alive): {:?}", clients.lock().unwrap().len(), fd_targets()));
    }
    println!("fault table ({}): {} cases in {:?}, {} failed", D::NAME, cases.len(), started.elapsed(), failures.len());
    failures.sort();
    failures
}

fn fd_targets() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| std::fs::read_link(e.path()).ok()).map(|p| p.display().to_string()).collect())
        .unwrap_or_default()
}
