//! Fault injection over TLS (implicit TLS and STARTTLS, rustls on both sides, real loopback
//! sockets): the handshake succeeds, then at every phase of the encrypted dialogue (greeting
//! (implicit only), EHLO, AUTH, MAIL, RCPT, DATA, the reply to the final dot, the reply to QUIT) the server ends
//! TCP without close_notify (a truncation), ends TLS cleanly (close_notify), resets, stalls,
//! writes bytes that are not TLS onto the socket, answers garbage or 5xx inside TLS, or
//! trickles its reply one TLS record per byte (which must succeed). Pipelined and lockstep.
//!
//! Each case checks the exact status, the deadline, that nothing but QUIT (after an orderly
//! refusal) follows the fault, and that the same client then delivers a mail to a good TLS
//! server on the same port; the table checks that no descriptor leaked. The handshake's
//! own faults are covered by tests/tls.rs.

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::tls_server::{Handshake, Plan, TlsServer};
use support::Step;
use support::{b64, open_fds, pki};
use zsmtp::error::status::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Error, Mail, Phase, Sent, Timeouts, TlsMode};

const USER: &str = "tls-device@fault.test";
const PASS: &str = "Tls-Fault-Pa55";
const FROM: &str = "sender@fault.test";
const TO: [&str; 1] = ["a@fault.test"];
const BODY: &[u8] = b"Over TLS.\n.a dotted line\r\nend\n";
const T: u32 = 600;
const T_TRICKLE: u32 = 5000;
const MARGIN: Duration = Duration::from_millis(2000);

/// The tests of this file take turns: the table counts the process's descriptors.
static SOCKETS: Mutex<()> = Mutex::new(());

/// One connection of the scripted TLS server (tests/support/tls_server.rs): the cleartext
/// STARTTLS exchange first (else implicit TLS), then these steps over TLS.
fn plan(starttls: bool, steps: Vec<Step>) -> Plan {
    let handshake = Handshake::Script(pki::shared().server.clone(), steps);
    if starttls {
        Plan::starttls(handshake)
    } else {
        Plan::implicit(handshake)
    }
}

// ---- the table ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Greeting,
    Ehlo,
    Auth,
    Mail,
    Rcpt,
    Data,
    Final,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Truncate,
    CloseNotify,
    Reset,
    Stall,
    NotTls,
    Garbage,
    Permanent,
    Trickle,
}

const PHASES: [At; 8] = [At::Greeting, At::Ehlo, At::Auth, At::Mail, At::Rcpt, At::Data, At::Final, At::Quit];
const FAULTS: [Fault; 8] = [Fault::Truncate, Fault::CloseNotify, Fault::Reset, Fault::Stall, Fault::NotTls, Fault::Garbage, Fault::Permanent, Fault::Trickle];

#[derive(Debug, Clone, Copy)]
struct Case {
    /// STARTTLS (the greeting and EHLO in clear first), else implicit TLS.
    starttls: bool,
    pipelined: bool,
    at: At,
    fault: Fault,
}

impl Case {
    fn name(&self) -> String {
        let mode = match (self.starttls, self.pipelined) {
            (false, true) => "Implicit/Pipelined",
            (false, false) => "Implicit/Lockstep",
            (true, true) => "StartTls/Pipelined",
            (true, false) => "StartTls/Lockstep",
        };
        format!("{mode}/{:?}/{:?}", self.at, self.fault)
    }
}

struct Exchange {
    at: At,
    reads: Vec<Step>,
    reply: &'static str,
}

/// The encrypted dialogue. After STARTTLS there is no greeting: the client starts with EHLO.
fn dialogue(starttls: bool, pipelined: bool) -> Vec<Exchange> {
    let e = |at, reads: Vec<&'static str>, reply| Exchange { at, reads: reads.into_iter().map(Step::Expect).collect(), reply };
    let plain = format!("AUTH PLAIN {}", b64(format!("\0{USER}\0{PASS}").as_bytes()));
    let mut d = vec![
        e(At::Greeting, vec![], "220 tls.fault.test ESMTP\r\n"),
        e(
            At::Ehlo,
            vec!["EHLO client.test"],
            if pipelined { "250-tls.fault.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n" } else { "250-tls.fault.test\r\n250 AUTH PLAIN LOGIN\r\n" },
        ),
        Exchange { at: At::Auth, reads: vec![Step::Expect(Box::leak(plain.into_boxed_str()))], reply: "235 2.7.0 Authentication successful\r\n" },
    ];
    if pipelined {
        d.push(e(At::Mail, vec!["MAIL FROM:<sender@fault.test>", "RCPT TO:<a@fault.test>", "DATA"], "250 2.1.0 Ok\r\n"));
        d.push(e(At::Rcpt, vec![], "250 2.1.5 Ok\r\n"));
        d.push(e(At::Data, vec![], "354 go ahead\r\n"));
        d.push(Exchange { at: At::Final, reads: vec![Step::ExpectData, Step::Expect("QUIT")], reply: "250 2.0.0 Ok: queued\r\n" });
        d.push(e(At::Quit, vec![], "221 2.0.0 Bye\r\n"));
    } else {
        d.push(e(At::Mail, vec!["MAIL FROM:<sender@fault.test>"], "250 2.1.0 Ok\r\n"));
        d.push(e(At::Rcpt, vec!["RCPT TO:<a@fault.test>"], "250 2.1.5 Ok\r\n"));
        d.push(e(At::Data, vec!["DATA"], "354 go ahead\r\n"));
        d.push(Exchange { at: At::Final, reads: vec![Step::ExpectData], reply: "250 2.0.0 Ok: queued\r\n" });
        d.push(e(At::Quit, vec!["QUIT"], "221 2.0.0 Bye\r\n"));
    }
    if starttls {
        d.retain(|ex| ex.at != At::Greeting);
    }
    d
}

fn script(case: &Case) -> Plan {
    plan(case.starttls, fault_steps(case))
}

fn fault_steps(case: &Case) -> Vec<Step> {
    let mut steps = Vec::new();
    for ex in dialogue(case.starttls, case.pipelined) {
        steps.extend(ex.reads);
        if ex.at != case.at {
            steps.push(Step::Send(ex.reply.as_bytes().to_vec()));
            continue;
        }
        if case.fault == Fault::Trickle {
            steps.push(Step::Trickle(ex.reply.as_bytes().to_vec(), 1));
            continue;
        }
        steps.push(Step::Mark);
        steps.extend(match case.fault {
            Fault::Truncate => vec![Step::Close],
            Fault::CloseNotify => vec![Step::CloseNotify],
            Fault::Reset => vec![Step::Reset],
            Fault::Stall => vec![Step::Hold(10_000)],
            // After a pause, so that the reply before it (the final reply, when QUIT was
            // pipelined) has been read on its own: the same-segment case has its own test.
            Fault::NotTls => vec![Step::Pause(100), Step::OutsideTls(b"250 in clear, outside TLS\r\n".to_vec()), Step::Hold(10_000)],
            Fault::Garbage => vec![Step::Send(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()), Step::Hold(10_000)],
            Fault::Permanent => {
                let mut refusal = format!("{} 5.7.1 refused over TLS\r\n", if ex.at == At::Auth { 535 } else { 554 });
                // A pipelining server answers the rest of the flight (as Postfix does).
                if case.pipelined && ex.at == At::Mail {
                    refusal.push_str("503 5.5.1 Error: need MAIL command\r\n554 5.5.1 Error: no valid recipients\r\n");
                }
                if case.pipelined && ex.at == At::Rcpt {
                    refusal.push_str("554 5.5.1 Error: no valid recipients\r\n");
                }
                vec![Step::Send(refusal.into_bytes()), Step::Hold(10_000)]
            }
            Fault::Trickle => unreachable!(),
        });
        return steps;
    }
    steps
}

fn good_script(starttls: bool, pipelined: bool) -> Plan {
    let mut steps = Vec::new();
    for ex in dialogue(starttls, pipelined) {
        steps.extend(ex.reads);
        steps.push(Step::Send(ex.reply.as_bytes().to_vec()));
    }
    plan(starttls, steps)
}

fn phase_of(at: At) -> Phase {
    match at {
        At::Greeting => Phase::Greeting,
        At::Ehlo => Phase::Hello,
        At::Auth => Phase::Auth,
        At::Mail => Phase::Mail,
        At::Rcpt => Phase::Rcpt,
        At::Data => Phase::Data,
        At::Final | At::Quit => Phase::Message,
    }
}

/// (status or success, what may follow the fault, timeouts that expire)
fn expected(case: &Case) -> (Result<(), u32>, &'static [u8], u32) {
    let Case { pipelined, at, fault, .. } = *case;
    if fault == Fault::Trickle {
        return (Ok(()), b"", 0);
    }
    if at == At::Quit {
        // The mail is accepted; nothing follows QUIT whatever its reply.
        return (Ok(()), b"", if fault == Fault::Stall { T } else { 0 });
    }
    let wait = if fault == Fault::Stall { T } else { 0 };
    if at == At::Final {
        return match fault {
            Fault::Permanent => (Err(NX_SMTP_MESSAGE_REPLY_ERROR), if pipelined { b"" } else { b"QUIT\r\n" }, 0),
            _ => (Err(NX_SMTP_OUTCOME_UNKNOWN), b"", wait),
        };
    }
    match fault {
        Fault::Truncate | Fault::CloseNotify | Fault::Reset | Fault::NotTls => (Err(NX_NOT_CONNECTED), b"", 0),
        Fault::Stall => (Err(NX_NO_PACKET), b"", wait),
        Fault::Garbage => (Err(phase_of(at).reply_status()), b"", 0),
        // A pipelined RCPT refusal is read after DATA: the 554 to RCPT is followed by no 354
        // here, so the client is not inside DATA and QUIT is orderly.
        Fault::Permanent => (Err(phase_of(at).reply_status()), b"QUIT\r\n", 0),
        Fault::Trickle => unreachable!(),
    }
}

/// The client side under test: a transport with its TLS client, trusting the test CA.
trait TlsStack {
    type T: zsmtp::Transport + std::marker::Send + 'static;
    type K: zsmtp::Clock + std::marker::Send + 'static;
    /// The server name the client asks for and verifies.
    const SERVER: &'static str;
    fn parts() -> (Self::T, Self::K);
}

/// The host transport (rustls).
struct StdTls;

impl TlsStack for StdTls {
    type T = StdTransport;
    type K = StdClock;
    const SERVER: &'static str = "127.0.0.1";
    fn parts() -> (StdTransport, StdClock) {
        (pki::shared().ca.transport(), StdClock::new())
    }
}

/// The Zephyr transport over the shim's POSIX twin: the device's mbedTLS client code.
#[cfg(feature = "zsock")]
struct ZsockTls;

#[cfg(feature = "zsock")]
impl TlsStack for ZsockTls {
    type T = zsmtp::transport::shim::ShimTransport;
    type K = zsmtp::transport::shim::ShimClock;
    const SERVER: &'static str = "localhost";
    fn parts() -> (Self::T, Self::K) {
        static CA_FILE: std::sync::OnceLock<&'static std::ffi::CStr> = std::sync::OnceLock::new();
        let ca = CA_FILE.get_or_init(|| pki::shared().ca.pem_file());
        (zsmtp::transport::shim::ShimTransport::new().with_ca_file(ca), zsmtp::transport::shim::ShimClock::new())
    }
}

fn client<S: TlsStack>(port: u16, reply_ms: u32, starttls: bool) -> Client<'static, S::T, S::K> {
    let timeouts = Timeouts { connect_ms: 3000, greeting_ms: reply_ms, reply_ms, send_ms: 3000, final_reply_ms: reply_ms, total_ms: 20_000 };
    let mode = if starttls { TlsMode::StartTls } else { TlsMode::Implicit };
    let config = Config::new(S::SERVER, port, "client.test", FROM).auth(Auth::Plain, USER, PASS).tls(mode).timeouts(timeouts);
    let (transport, clock) = S::parts();
    Client::new(config, transport, clock).unwrap()
}

fn describe(r: &Result<Sent, Error>) -> String {
    match r {
        Ok(s) => format!("Ok({})", s.reply),
        Err(e) => format!("Err({e})"),
    }
}

fn run_case<S: TlsStack>(case: &Case) -> Result<(), String> {
    let (want, allowed_after, waits) = expected(case);
    let servers = TlsServer::start_sequence(vec![script(case), good_script(case.starttls, case.pipelined)]);
    let reply_ms = if case.fault == Fault::Trickle { T_TRICKLE } else { T };
    let mut c = client::<S>(servers.port, reply_ms, case.starttls);
    let started = Instant::now();
    let first = c.send(&Mail::new("tls fault", BODY).to(&TO));
    let elapsed = started.elapsed();
    let follow = c.send(&Mail::new("after the fault", BODY).to(&TO));
    drop(c);
    let seen = servers.finish_all();
    let mut problems = Vec::new();
    match (&first, want) {
        (Ok(_), Ok(())) => {}
        (Err(e), Err(status)) if e.status() == status => {}
        _ => problems.push(format!("expected {}", want.map_or_else(|s| format!("0x{s:02X} {}", name(s)), |()| "success".into()))),
    }
    let bound = Duration::from_millis(u64::from(if case.fault == Fault::Trickle { T_TRICKLE } else { waits })) + MARGIN;
    if elapsed > bound {
        problems.push(format!("took {elapsed:?}, bound {bound:?}"));
    }
    match seen.first() {
        Some(s) => {
            if s.version.is_none() || !s.failures.is_empty() {
                problems.push(format!("broken server: handshake error {:?}, {:?}", s.tls_error, s.failures));
            }
            if case.starttls && s.clear_lines() != ["EHLO client.test", "STARTTLS"] {
                problems.push(format!("in clear: {:?}", s.clear_lines()));
            }
            let after = s.after_mark(0);
            if after != allowed_after {
                problems.push(format!("sent after the fault: {:?}, allowed {:?}", String::from_utf8_lossy(after), String::from_utf8_lossy(allowed_after)));
            }
        }
        None => problems.push("no connection".into()),
    }
    match (&follow, seen.get(1)) {
        (Ok(_), Some(s)) if s.failures.is_empty() && s.message.is_some() => {}
        (Ok(_), s) => problems.push(format!("follow-up server: {:?}", s.map(|s| &s.failures))),
        (Err(e), _) => problems.push(format!("follow-up failed: {e}")),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {} -> {}; {}", case.name(), describe(&first), describe(&follow), problems.join("; ")))
    }
}

#[test]
fn every_phase_every_fault_over_tls() {
    table::<StdTls>("host transport (rustls)");
}

/// The same table through the Zephyr transport: the shim's POSIX twin runs the device's
/// mbedTLS client (shim/common/smtp_shim_tls_mbedtls.c) and socket code.
#[cfg(feature = "zsock")]
#[test]
fn every_phase_every_fault_over_tls_zsock() {
    table::<ZsockTls>("Zephyr transport (mbedTLS, POSIX twin)");
}

fn table<S: TlsStack>(stack: &str) {
    let _sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let _ = pki::shared();
    let cases: Vec<Case> = [false, true]
        .iter()
        .flat_map(|&starttls| [true, false].iter().map(move |&pipelined| (starttls, pipelined)))
        .flat_map(|(starttls, pipelined)| {
            // After STARTTLS there is no encrypted greeting.
            PHASES.iter().filter(move |&&at| !(starttls && at == At::Greeting)).flat_map(move |&at| {
                FAULTS.iter().map(move |&fault| Case { starttls, pipelined, at, fault })
            })
        })
        .collect();
    assert_eq!(cases.len(), 2 * 8 * 8 + 2 * 7 * 8);
    let fds_before = open_fds();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                if let Err(e) = run_case::<S>(case) {
                    failures.lock().unwrap().push(e);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    let fds_after = open_fds();
    if fds_after != fds_before {
        failures.push(format!("file descriptors: {fds_before} before, {fds_after} after"));
    }
    failures.sort();
    println!("TLS fault table, {stack}: {} cases in {:?}, {} failed", cases.len(), started.elapsed(), failures.len());
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Regression (fixed in ff5b7a5): a final reply that arrived whole in an authenticated TLS
/// record is the server's answer, even when bytes that are not TLS follow it in the same
/// segment: the mail was accepted. The host transport used to return the error of
/// `process_new_packets` before the plaintext of the record, and the send reported
/// "outcome unknown" (pipelined: the final reply was lost; lockstep: the QUIT reply).
#[test]
fn tls_reply_before_non_tls_bytes_in_one_segment_is_kept() {
    reply_before_non_tls_bytes::<StdTls>();
}

/// The same through the device's mbedTLS client.
#[cfg(feature = "zsock")]
#[test]
fn tls_reply_before_non_tls_bytes_in_one_segment_is_kept_zsock() {
    reply_before_non_tls_bytes::<ZsockTls>();
}

fn reply_before_non_tls_bytes<S: TlsStack>() {
    let _sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let _ = pki::shared();
    for pipelined in [true, false] {
        let mut steps = Vec::new();
        for ex in dialogue(false, pipelined) {
            steps.extend(ex.reads);
            if ex.at == At::Final {
                steps.push(Step::RecordThenRaw(ex.reply.as_bytes().to_vec(), b"\x00\x01 not a TLS record\r\n".to_vec()));
                steps.push(Step::Hold(10_000));
                break;
            }
            steps.push(Step::Send(ex.reply.as_bytes().to_vec()));
        }
        let servers = TlsServer::start(plan(false, steps));
        let mut c = client::<S>(servers.port, T, false);
        let result = c.send(&Mail::new("tls fault", BODY).to(&TO));
        drop(c);
        let seen = servers.finish();
        assert!(seen.message.is_some(), "the server got the message");
        assert!(result.is_ok(), "pipelined {pipelined}: the final 250 arrived in a valid record, yet {}", describe(&result));
    }
}
