//! The fault table of tests/support/faults.rs run through the outbox's worker
//! (`Outbox::deliver`): each case's mail is submitted to an outbox in RAM and delivered against
//! the case's scripted server, and besides everything the table checks for the engine (the
//! error's status, phase and reply, the time taken, what the client sent after the fault, a
//! mail to a good server afterwards, no leaked descriptor), each case checks the state the
//! outbox left the mail in, as `Outbox::deliver` documents it:
//!
//! - accepted: delivered, gone from the outbox;
//! - outcome unknown (the link broke or lied after the final dot): listed as unknown, to be
//!   resent (the default policy);
//! - a 5xx reply to the envelope or the content: failed, with that reply, never retried;
//! - anything else (no connection, a timeout, garbage, a 4xx, 421, and a 5xx while the
//!   connection opens: greeting, EHLO, AUTH): retrying, with the server's reply if one
//!   decided it, else code 0.
//!
//! The worker delivers a batch over one connection, so the tables are the kept-connection
//! ones: plain TCP, pipelined and lockstep, two recipients, AUTH PLAIN and LOGIN, every phase x every
//! fault of the engine's table, and the odd replies after the final dot (where they make the
//! outcome unknown). When the fault strikes inside a transaction, the case's second mail is
//! queued behind the first, and the worker must go on with it on the same connection after an
//! orderly refusal (RSET first), or leave it queued when the connection broke; while the
//! connection opens, the second mail is queued after the first attempt. Either way the
//! second mail is then delivered to a good server (the first one removed, the backoff
//! skipped with `retry_now`).
//!
//! The TLS table of the engine (implicit TLS and STARTTLS, pipelined and lockstep, one
//! recipient, AUTH PLAIN, the encrypted dialogue's phases x TLS's own faults) runs the same
//! way, over kept connections.
//!
//! Left out: the body phase (its 8 MiB body is larger than an outbox holds: the body is read
//! back into the worker's work buffer).
//!
//! Cases run in parallel worker threads; `ZSMTP_FAULT_THREADS` sets how many (default 12),
//! `ZSMTP_FAULT_FILTER` runs only the cases whose name contains it.
#![cfg(feature = "outbox")]

mod support;

use std::time::{Duration, Instant};
use support::faults::*;
use support::pki;
use zsmtp::error::status::*;
use zsmtp::outbox::{Batch, EventKind, OnUnknown, Outbox, Policy, RamStorage, State, Ticket};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Client, Config, Mail, Phase, Timeouts, TlsMode};

/// Reply and send timeout of the failing cases (ms).
const T: u32 = 500;
/// Reply timeout of the cases that trickle a reply (ms): a trickled reply must complete.
const T_TRICKLE: u32 = 4000;
/// A stalled server stays silent this long at most (it stops when the client closes).
const HOLD_MS: u64 = 10_000;
/// Reply timeout of the TLS table's failing cases, and of its trickled replies (ms).
const TLS_T: u32 = 600;
const TLS_T_TRICKLE: u32 = 5000;

/// Phases of the table: the engine table's, all but the body.
const PHASES_BUT_BODY: [At; PHASES.len() - 1] = {
    let mut out = [At::Greeting; PHASES.len() - 1];
    let (mut i, mut j) = (0, 0);
    while i < PHASES.len() {
        if !matches!(PHASES[i], At::Body) {
            out[j] = PHASES[i];
            j += 1;
        }
        i += 1;
    }
    out
};

/// Every phase x every fault, over kept connections (the worker's batch).
const THROUGH_THE_WORKER: Table<'static> =
    Table { security: &[TlsMode::None], kept: &[true], modes: &MODES, phases: &PHASES_BUT_BODY, faults: &FAULTS, recipients: 2 };

/// The TLS table (implicit TLS and STARTTLS, one recipient, AUTH PLAIN) over kept connections.
const OVER_TLS: Table<'static> =
    Table { security: &[TlsMode::Implicit, TlsMode::StartTls], kept: &[true], modes: &MODES, phases: &TLS_PHASES, faults: &TLS_FAULTS, recipients: 1 };

/// The odd replies after the final dot: the outcome is unknown.
fn odd_final_cases() -> Vec<Case> {
    let odd: Vec<Fault> = (0..ODD_REPLIES.len() as u8).map(Fault::Odd).collect();
    Table { phases: &[At::Final], faults: &odd, ..THROUGH_THE_WORKER }.cases()
}

/// The outbox: 4 mails at most, in records of 512 bytes.
type Storage = RamStorage<24, 512>;

/// The retry policy: the documented default (unknown outcomes resent).
const POLICY: Policy = Policy::DEFAULT;

/// Where the outbox's documented policy leaves the first mail of `case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    Delivered,
    /// Listed in this state, with this reply code (0: no reply decided it).
    Listed(State, u16),
}

fn left_by_policy(case: &Case) -> Left {
    let want = expected(case);
    match want.status {
        Ok(()) => Left::Delivered,
        Err(NX_SMTP_OUTCOME_UNKNOWN) => Left::Listed(State::Unknown, 0),
        Err(_) => {
            let code = want.reply_code.unwrap_or(0);
            let mail_phase = matches!(want.phase, Some(Phase::Mail | Phase::Rcpt | Phase::Data | Phase::Message));
            if mail_phase && (500..600).contains(&code) {
                Left::Listed(State::Failed, code)
            } else {
                Left::Listed(State::Retrying, code)
            }
        }
    }
}

fn event_kind_of(state: State) -> EventKind {
    match state {
        State::Retrying | State::Queued => EventKind::Retrying,
        State::Unknown => EventKind::Unknown,
        State::Failed => EventKind::Failed,
    }
}

/// The outbox's worker as the table's driver.
struct Worker;

impl Driver for Worker {
    const NAME: &'static str = "outbox";

    fn timeouts(case: &Case) -> Timeouts {
        if case.tls() {
            let reply = if case.fault == Fault::Trickle { TLS_T_TRICKLE } else { TLS_T };
            return Timeouts { connect_ms: 3000, greeting_ms: reply, reply_ms: reply, send_ms: 3000, final_reply_ms: reply, total_ms: 20_000 };
        }
        let reply = if case.fault == Fault::Trickle { T_TRICKLE } else { T };
        Timeouts { connect_ms: 2000, greeting_ms: reply, reply_ms: reply, send_ms: T, final_reply_ms: reply, total_ms: 30_000 }
    }

    fn pace(_: &Case) -> Pace {
        Pace { hold_ms: HOLD_MS, body_pause_ms: 0, slow_chunk: 64 << 10, slow_pause_ms: 20 }
    }

    fn body_stall_ms(_: &Case) -> u32 {
        unreachable!("no body phase through the worker")
    }

    fn run(case: &Case, port: u16, mail: Letter<'_>, next: Letter<'_>) -> Run {
        assert!(case.kept && case.at != At::Body, "the worker's table is kept connections, without the body phase");
        let config =
            Config::new("127.0.0.1", port, DOMAIN, FROM).auth(case.auth(), USER, PASS).allow_plaintext_auth(true).tls(case.security).timeouts(Self::timeouts(case));
        let transport = if case.tls() { pki::shared().ca.transport() } else { StdTransport::new() };
        let mut client: Client<'static, StdTransport, StdClock> = Client::new(config, transport, StdClock::new()).expect("valid configuration");
        let mut storage: Box<Storage> = Box::default();
        let mut work = vec![0u8; 4096];
        let (mut outbox, _) = Outbox::<_, 4>::open(&mut *storage, &mut work, POLICY).expect("outbox opens");
        let mut clock = StdClock::new();
        let first_mail = Mail::new(mail.subject, mail.body).to(mail.to);
        let next_mail = Mail::new(next.subject, next.body).to(next.to);
        let mut problems = Vec::new();
        let mut events: Vec<(Ticket, EventKind, u16)> = Vec::new();

        // A fault while the connection opens ends the batch before any mail: the second mail
        // is queued after it (as the engine's table sends it over a new connection).
        let first = outbox.submit(FROM, &first_mail, &mut clock).expect("first mail queued");
        let mut second = (!case.opening()).then(|| outbox.submit(FROM, &next_mail, &mut clock).expect("second mail queued"));
        let started = Instant::now();
        let batch = outbox.deliver(&mut client, &mut clock, &mut |e| events.push((e.ticket, e.kind, e.reply.code)));
        let elapsed = started.elapsed();
        let batch = batch.unwrap_or_else(|e| {
            problems.push(format!("first batch: {e}"));
            Batch::default()
        });

        // The first mail: its event, and what the outbox lists.
        let mut listed = Vec::new();
        outbox.list(|s| listed.push(s.clone())).expect("list");
        let event = events.iter().find(|e| e.0 == first).copied();
        let status = listed.iter().find(|s| s.ticket == first);
        let reply_code = status.and_then(|s| s.reply.as_ref()).map(|r| r.code);
        let (first_outcome, last_reply) = match event {
            Some((_, EventKind::Delivered, code)) => (Outcome { status: Ok(()), phase: None, reply: Some(code), text: format!("delivered ({code})") }, Some(code)),
            Some((_, kind, code)) => match &batch.last_error {
                Some(e) => (
                    Outcome { status: Err(e.status()), phase: Some(e.phase), reply: e.reply.as_ref().map(|r| r.code), text: format!("{kind:?}: {e}") },
                    (code != 0).then_some(code),
                ),
                None => {
                    problems.push(format!("event {kind:?} without an error in the batch"));
                    (Outcome { status: Ok(()), phase: None, reply: None, text: format!("{kind:?}") }, None)
                }
            },
            None => {
                problems.push("no event for the first mail".into());
                (Outcome { status: Ok(()), phase: None, reply: None, text: "no event".into() }, None)
            }
        };
        match (left_by_policy(case), status) {
            (Left::Delivered, None) => {}
            (Left::Delivered, Some(s)) => problems.push(format!("outbox: {} ({} attempts), expected delivered", s.state.name(), s.attempts)),
            (Left::Listed(state, _), None) => problems.push(format!("outbox: the first mail is gone, expected {}", state.name())),
            (Left::Listed(state, code), Some(s)) => {
                if s.state != state || s.attempts != 1 || reply_code != Some(code) {
                    problems.push(format!("outbox: {} after {} attempts, reply {reply_code:?}; expected {} after 1, reply {code}", s.state.name(), s.attempts, state.name()));
                }
                if event.is_some_and(|e| e.1 != event_kind_of(state)) {
                    problems.push(format!("event {:?}, expected {:?}", event.map(|e| e.1), event_kind_of(state)));
                }
                // Waiting mails wait out a backoff; a failed one is never due again.
                let due = outbox.next_due_ms();
                let now = zsmtp::Clock::now_ms(&clock);
                match state {
                    State::Failed if s.next_attempt_ms != 0 => problems.push(format!("a failed mail has a next attempt at {}", s.next_attempt_ms)),
                    State::Retrying | State::Unknown if s.next_attempt_ms <= now => problems.push(format!("no backoff: next attempt at {}, now {now}", s.next_attempt_ms)),
                    _ => {}
                }
                if due.is_none() && state != State::Failed {
                    problems.push("nothing due although a mail waits".into());
                }
            }
        }

        // The second mail: delivered in the same batch (an orderly refusal keeps the
        // connection), else over a new connection once the first is out of the way.
        let mut follow_up = Outcome { status: Ok(()), phase: None, reply: None, text: "delivered in the first batch".into() };
        let second_done = second.is_some_and(|t| events.iter().any(|e| e.0 == t && e.1 == EventKind::Delivered));
        if !second_done {
            if let Some(s) = status {
                outbox.remove(s.ticket).expect("remove the first mail");
            }
            let ticket = *second.get_or_insert_with(|| outbox.submit(FROM, &next_mail, &mut clock).expect("second mail queued"));
            outbox.retry_now();
            events.clear();
            follow_up = match outbox.deliver(&mut client, &mut clock, &mut |e| events.push((e.ticket, e.kind, e.reply.code))) {
                Ok(b) if b.delivered == 1 && events.iter().any(|e| e.0 == ticket && e.1 == EventKind::Delivered) => {
                    Outcome { status: Ok(()), phase: None, reply: None, text: "delivered".into() }
                }
                Ok(b) => Outcome { status: Err(b.last_error.as_ref().map_or(0, |e| e.status())), phase: None, reply: None, text: format!("{b:?}") },
                Err(e) => Outcome { status: Err(0), phase: None, reply: None, text: format!("{e}") },
            };
        }
        // Nothing else stays: the first mail when the policy keeps it (removed above when the
        // second needed a batch of its own), nothing of the second.
        let kept_first = usize::from(second_done && status.is_some());
        if follow_up.status.is_ok() && outbox.len() != kept_first {
            problems.push(format!("{} mails left, expected {kept_first}", outbox.len()));
        }
        Run { first: first_outcome, elapsed, last_reply, follow_up, closing: Duration::ZERO, client: Some(Box::new(client)), problems }
    }
}

/// Runs `cases` on `threads` worker threads.
fn run(cases: &[Case], threads: usize) {
    assert!(!cases.is_empty(), "no case selected");
    // The test CA (and its file) first: the descriptor count is taken around the cases.
    let _ = pki::shared();
    let failures = run_table::<Worker>(cases, threads);
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// The table's size, so that a change of the generator that drops cases shows.
#[test]
fn table_size() {
    assert_eq!(THROUGH_THE_WORKER.every_case().len(), 2 * 12 * 12);
    // Implicit: 2 modes x 8 phases x 8 faults; STARTTLS: 2 x 7 (no greeting inside TLS) x 8;
    // and the final reply followed by non-TLS bytes, 2 x 2.
    assert_eq!(OVER_TLS.every_case().len(), 2 * 8 * 8 + 2 * 7 * 8 + 4);
    // The policy under test resends unknown outcomes (a parked one is tests/outbox.rs's).
    assert_eq!(POLICY.on_unknown, OnUnknown::Resend);
}

/// Every phase x every fault, and the odd final replies, through the worker; then the TLS
/// table (fewer threads: each case's handshakes take CPU, and every case is timed). One test,
/// so that the descriptor count of a table is not disturbed by another one running.
#[test]
fn every_phase_every_fault_through_the_worker() {
    let mut cases = THROUGH_THE_WORKER.cases();
    cases.extend(odd_final_cases());
    let tls = OVER_TLS.cases();
    if !cases.is_empty() || tls.is_empty() {
        run(&cases, workers());
    }
    if !tls.is_empty() {
        run(&tls, workers_or(8));
    }
}
