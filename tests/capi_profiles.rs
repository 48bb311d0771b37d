//! Parity of the C API's two profiles: one scenario table, run through the C entry points
//! (`nxd_smtp_client_create`, `nx_smtp_mail_send`, `nx_smtp_client_last_reply_get`,
//! `nx_smtp_client_delete`) of whichever profile this test binary is built with, over the
//! shim's POSIX twin, against scripted servers on loopback:
//!
//! - `cargo test --features capi,zsock --test capi_profiles`: the full profile (src/capi/full.rs);
//! - `cargo test --features small --test capi_profiles`: the small profile (src/capi/small.rs).
//!
//! Both builds assert the same NetX status (and the same bytes on the wire) for
//! - NetX Duo's nine regression scenarios (tests/support/netx.rs);
//! - every phase x every fault of tests/support/faults.rs, in what the small profile supports
//!   (lockstep, one recipient, AUTH PLAIN and LOGIN, no TLS);
//! - odd replies (600, 199, 2500, ...) at the greeting, at every command and to the final dot.
//!
//! What the small profile does not do is listed once, in [`SMALL_PROFILE_LIMITS`], and each
//! item is tested: the small profile's refusal (or its simpler behaviour) against the full
//! profile's support.
//!
//! The C API's timeouts are fixed at build time: the small profile's are `SMALL_TIMEOUTS`
//! (scripts/test builds it with 1.5 s reply timeouts), the full profile's come from the
//! shim's configuration store (the POSIX twin's defaults: 30 s, 60 s after the dot). The
//! cases that wait out a timeout run in parallel, so the table takes about as long as its
//! longest timeout.
#![cfg(all(feature = "capi", feature = "zsock"))]

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::faults::*;
use support::capi::CClient;
use support::*;
use zsmtp::capi::{
    NX_SMTP_CLIENT_AUTH_LOGIN, NX_SMTP_CLIENT_AUTH_NONE, NX_SMTP_CLIENT_AUTH_PLAIN, NX_SMTP_CLIENT_TLS_IMPLICIT,
    NX_SMTP_CLIENT_TLS_STARTTLS,
};
use zsmtp::error::status::*;
use zsmtp::{Auth, Timeouts, TlsMode};

/// The profile this binary drives.
const PROFILE: &str = if cfg!(feature = "small") { "capi-small" } else { "capi-full" };

/// The C API's timeouts in this build.
fn c_timeouts() -> Timeouts {
    if cfg!(feature = "small") {
        zsmtp::limits::SMALL_TIMEOUTS
    } else {
        zsmtp::platform::configured_timing().expect("the shim's configuration").0
    }
}

/// The longest reply wait of this build.
fn longest_reply_ms() -> u32 {
    let t = c_timeouts();
    t.greeting_ms.max(t.reply_ms).max(t.final_reply_ms)
}

/// Every test of this file that opens sockets holds this lock, so that the descriptor count
/// of the table is not disturbed by another test of the same binary.
static SOCKETS: Mutex<()> = Mutex::new(());

// ---- A created client ----

/// A client created with the fault table's identity.
fn created(port: u16, auth: u32) -> CClient {
    CClient::created(port, auth, USER, PASS, FROM, DOMAIN)
}

fn auth_type(auth: Auth) -> u32 {
    match auth {
        Auth::Plain => NX_SMTP_CLIENT_AUTH_PLAIN,
        Auth::Login => NX_SMTP_CLIENT_AUTH_LOGIN,
        Auth::None => NX_SMTP_CLIENT_AUTH_NONE,
        // The parity table drives PLAIN, LOGIN and no AUTH (tokens: tests/capi_oauth.rs).
        #[allow(unreachable_patterns)]
        _ => panic!("not in the parity table: {auth:?}"),
    }
}

fn c_outcome(status: u32, reply: u32) -> Outcome {
    let text = if status == NX_SUCCESS { format!("NX_SUCCESS ({reply})") } else { format!("0x{status:02X} {} (last reply {reply})", name(status)) };
    Outcome { status: if status == NX_SUCCESS { Ok(()) } else { Err(status) }, phase: None, reply: (reply != 0).then_some(reply as u16), text }
}

// ---- The C API as the fault table's driver ----

/// The C API of this build: one-shot sends to one recipient; its timeouts fixed at build time.
struct CApi;

impl Driver for CApi {
    const NAME: &'static str = PROFILE;

    fn timeouts(_: &Case) -> Timeouts {
        c_timeouts()
    }

    fn pace(case: &Case) -> Pace {
        Pace {
            hold_ms: u64::from(longest_reply_ms()) + 5000,
            body_pause_ms: u64::from(Self::body_stall_ms(case)) + 3000,
            // Fast enough that the bytes still buffered when the client's last write returns
            // are read well within a short final reply timeout.
            slow_chunk: 64 << 10,
            slow_pause_ms: 5,
        }
    }

    fn body_stall_ms(_: &Case) -> u32 {
        c_timeouts().send_ms
    }

    fn run(case: &Case, port: u16, mail: Letter<'_>, next: Letter<'_>) -> Run {
        assert!(!case.kept && case.recipients == 1, "the C API sends one mail to one recipient per connection");
        assert!(!case.tls(), "the parity table is plain TCP");
        let mut client = created(port, auth_type(case.auth()));
        let started = Instant::now();
        let first = client.send(mail.to[0], mail.subject, mail.body);
        let elapsed = started.elapsed();
        let (last, _) = client.last_reply();
        let follow_up = client.send(next.to[0], next.subject, next.body);
        let (next_last, _) = client.last_reply();
        Run {
            first: c_outcome(first, last),
            elapsed,
            last_reply: (last != 0).then_some(last as u16),
            follow_up: c_outcome(follow_up, next_last),
            closing: Duration::ZERO,
            client: Some(Box::new(client)),
            problems: Vec::new(),
        }
    }
}

/// The phases of the parity table: all but the second recipient's.
fn parity_phases() -> Vec<At> {
    PHASES.iter().copied().filter(|&at| at != At::Rcpt(1)).collect()
}

/// The parity table: lockstep, one-shot, one recipient; every phase x every fault, and every
/// odd reply at every phase.
fn parity_cases() -> Vec<Case> {
    let odd: Vec<Fault> = (0..ODD_REPLIES.len() as u8).map(Fault::Odd).collect();
    let phases = parity_phases();
    let table = Table { security: &[TlsMode::None], kept: &[false], modes: &[Mode::Lockstep], phases: &phases, faults: &FAULTS, recipients: 1 };
    let mut all = table.cases();
    all.extend(Table { faults: &odd, ..table }.cases());
    all
}

/// Every phase x every fault, and odd replies everywhere, through this profile's C API: the
/// same expected status, reply and wire behaviour as every other driver of the table.
#[test]
fn every_phase_every_fault_same_status_in_both_profiles() {
    let _sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let cases = parity_cases();
    assert!(!cases.is_empty(), "no case selected");
    // The cases that wait out a timeout (one per phase) run side by side.
    let failures = run_table::<CApi>(&cases, workers().max(16));
    assert!(failures.is_empty(), "{PROFILE}: {} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ---- NetX Duo's nine regression scenarios ----

/// One scenario: the server's script, the client's AUTH type, and the status it must get.
struct Scenario {
    name: &'static str,
    script: Vec<Step>,
    auth: u32,
    want: u32,
    /// Checks of what the server saw.
    check: fn(&Seen) -> Result<(), String>,
}

fn script_ok(seen: &Seen) -> Result<(), String> {
    if seen.failures.is_empty() {
        Ok(())
    } else {
        Err(format!("script deviations: {:?}", seen.failures))
    }
}

fn netx_scenarios() -> Vec<Scenario> {
    use support::netx::*;
    let wait = u64::from(c_timeouts().reply_ms);
    vec![
        Scenario {
            name: "1 basic AUTH PLAIN",
            script: script(vec![send(GREETING), Expect("EHLO domain.com"), send(EHLO), Expect("AUTH PLAIN "), send("235 authenticated\r\n")], lockstep_transaction()),
            auth: NX_SMTP_CLIENT_AUTH_PLAIN,
            want: NX_SUCCESS,
            check: |seen| {
                script_ok(seen)?;
                let plain = format!("AUTH PLAIN {}", b64(b"\0recipient@domain.com\0testpwd"));
                if !seen.lines().contains(&plain) {
                    return Err("no AUTH PLAIN with NetX's credentials".into());
                }
                let message = String::from_utf8_lossy(seen.message.as_deref().unwrap_or_default()).to_string();
                let (_, content) = message.split_once("\r\n\r\n").ok_or("no header block")?;
                let unstuffed: String = format!("{content}\r\n").split_inclusive("\r\n").map(|l| l.strip_prefix('.').unwrap_or(l)).collect();
                if unstuffed.as_bytes() != netx_body() {
                    return Err("the body differs".into());
                }
                Ok(())
            },
        },
        Scenario { name: "2 AUTH LOGIN answered by position", script: netx_2_login_script(), auth: NX_SMTP_CLIENT_AUTH_LOGIN, want: NX_SUCCESS, check: script_ok },
        Scenario {
            name: "3 unknown mechanisms: the configured one is tried",
            script: script(
                vec![send(GREETING), Expect("EHLO"), send("250-expresslogic.com Hello\r\n250-AUTH MOGIN CRAM-MD5 QLAIN\r\n250 SIZE\r\n"), Expect("AUTH PLAIN "), send("235 ok\r\n")],
                lockstep_transaction(),
            ),
            auth: NX_SMTP_CLIENT_AUTH_PLAIN,
            want: NX_SUCCESS,
            check: script_ok,
        },
        Scenario {
            name: "3b LOGIN configured, only PLAIN offered: PLAIN",
            script: script(vec![send("220 x\r\n"), Expect("EHLO"), send("250-x\r\n250 AUTH=PLAIN\r\n"), Expect("AUTH PLAIN "), send("235 ok\r\n")], lockstep_transaction()),
            auth: NX_SMTP_CLIENT_AUTH_LOGIN,
            want: NX_SUCCESS,
            check: script_ok,
        },
        Scenario {
            name: "4 AUTH none goes straight to MAIL",
            script: script(vec![send(GREETING), Expect("EHLO"), send("250-expresslogic.com\r\n250 SIZE\r\n")], lockstep_transaction()),
            auth: NX_SMTP_CLIENT_AUTH_NONE,
            want: NX_SUCCESS,
            check: |seen| {
                script_ok(seen)?;
                if seen.lines().iter().any(|l| l.starts_with("AUTH")) {
                    return Err("AUTH sent".into());
                }
                Ok(())
            },
        },
        Scenario { name: "5 EHLO in two packets: the client waits silently", script: netx_5_two_packet_ehlo_script(), auth: NX_SMTP_CLIENT_AUTH_PLAIN, want: NX_SUCCESS, check: script_ok },
        Scenario { name: "6 AUTH in the second packet, leading space", script: netx_6_auth_in_second_packet_script(), auth: NX_SMTP_CLIENT_AUTH_PLAIN, want: NX_SUCCESS, check: script_ok },
        Scenario {
            name: "7 missing last EHLO line: timeout, nothing more sent",
            script: vec![send(GREETING), Expect("EHLO"), send("250-expresslogic.com Hello\r\n250-ETRN\r\n250-AUTH LOGIN PLAIN\r\n"), Silence(wait + 500)],
            auth: NX_SMTP_CLIENT_AUTH_PLAIN,
            want: NX_NO_PACKET,
            check: |seen| {
                script_ok(seen)?;
                if seen.lines() != ["EHLO domain.com"] {
                    return Err(format!("sent {:?}", seen.lines()));
                }
                Ok(())
            },
        },
        Scenario {
            name: "8 abnormal greeting: nothing sent",
            script: vec![send("222222220-abnormal greeting\r\n"), Silence(500)],
            auth: NX_SMTP_CLIENT_AUTH_PLAIN,
            want: NX_SMTP_GREET_REPLY_ERROR,
            check: |seen| {
                script_ok(seen)?;
                if !seen.received.is_empty() {
                    return Err(format!("sent {:?}", seen.lines()));
                }
                Ok(())
            },
        },
        Scenario {
            // "2200" is a malformed greeting as soon as its fourth digit arrives, whether or
            // not the line is ever completed.
            name: "9 truncated greeting, then a disconnect",
            script: vec![send("2200"), Close],
            auth: NX_SMTP_CLIENT_AUTH_NONE,
            want: NX_SMTP_GREET_REPLY_ERROR,
            check: |seen| if seen.received.is_empty() { Ok(()) } else { Err(format!("sent {:?}", seen.lines())) },
        },
        Scenario {
            name: "9b the same client sends again afterwards",
            script: script(vec![send("220 ok\r\n"), Expect("EHLO"), send("250 ok\r\n")], support::netx::lockstep_transaction()),
            auth: NX_SMTP_CLIENT_AUTH_NONE,
            want: NX_SUCCESS,
            check: script_ok,
        },
    ]
}

/// NetX Duo's regression scenarios through this profile's C API (run side by side: one of
/// them waits out the reply timeout).
#[test]
fn netx_regression_scenarios_same_status_in_both_profiles() {
    use support::netx::{netx_body, ADDR, DOMAIN as NETX_DOMAIN, PASS as NETX_PASS, SUBJECT as NETX_SUBJECT, USER as NETX_USER};
    let _sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = netx_scenarios()
            .into_iter()
            .map(|sc| {
                s.spawn(move || {
                    let server = Server::start(sc.script);
                    let mut c = CClient::default();
                    assert_eq!(c.create_with(server.port, sc.auth, NETX_USER, NETX_PASS, ADDR, NETX_DOMAIN), NX_SUCCESS);
                    let got = c.send(ADDR, NETX_SUBJECT, &netx_body());
                    drop(c);
                    let seen = server.finish();
                    let mut problems = Vec::new();
                    if got != sc.want {
                        problems.push(format!("0x{got:02X} {}, expected 0x{:02X} {}", name(got), sc.want, name(sc.want)));
                    }
                    if let Err(p) = (sc.check)(&seen) {
                        problems.push(p);
                    }
                    if problems.is_empty() {
                        Ok(())
                    } else {
                        Err(format!("NetX scenario {} [{PROFILE}]: {}", sc.name, problems.join("; ")))
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("scenario thread")).collect()
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

/// The AUTH exchanges a server may answer differently from the usual 334/235 (RFC 4954): a
/// PLAIN initial response ignored (an empty 334 asks for it again), any 2xx as success, a 334
/// more than the mechanism has answers for; and an EHLO that separates mechanisms with TAB or
/// glues the first to "AUTH=" (LOGIN configured, only PLAIN offered: PLAIN is used). The same
/// status, and the same bytes, from both profiles.
#[test]
fn auth_exchanges_same_in_both_profiles() {
    use support::netx::{lockstep_transaction, script, ADDR, DOMAIN as NETX_DOMAIN, EHLO, PASS as NETX_PASS, USER as NETX_USER};
    let _sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let plain = format!("AUTH PLAIN {}", b64(format!("\0{NETX_USER}\0{NETX_PASS}").as_bytes()));
    let response = b64(format!("\0{NETX_USER}\0{NETX_PASS}").as_bytes());
    let (user, pass) = (b64(NETX_USER.as_bytes()), b64(NETX_PASS.as_bytes()));
    let head_with = |ehlo: &'static str, auth: Vec<Step>| {
        let mut steps = vec![send("220 ok\r\n"), Expect("EHLO"), send(ehlo)];
        steps.extend(auth);
        steps
    };
    let head = |auth: Vec<Step>| head_with(EHLO, auth);
    let leak = |v: String| -> &'static str { Box::leak(v.into_boxed_str()) };
    let cases: Vec<(&str, u32, Vec<Step>, u32)> = vec![
        (
            "PLAIN, the initial response ignored",
            NX_SMTP_CLIENT_AUTH_PLAIN,
            script(head(vec![Expect(leak(plain.clone())), send("334 \r\n"), Expect(leak(response.clone())), send("235 ok\r\n")]), lockstep_transaction()),
            NX_SUCCESS,
        ),
        (
            "AUTH with TAB between the mechanisms",
            NX_SMTP_CLIENT_AUTH_LOGIN,
            script(head_with("250-x\r\n250 AUTH\tPLAIN\r\n", vec![Expect(leak(plain.clone())), send("235 ok\r\n")]), lockstep_transaction()),
            NX_SUCCESS,
        ),
        (
            "the old AUTH=",
            NX_SMTP_CLIENT_AUTH_LOGIN,
            script(head_with("250-x\r\n250 AUTH=PLAIN\r\n", vec![Expect(leak(plain.clone())), send("235 ok\r\n")]), lockstep_transaction()),
            NX_SUCCESS,
        ),
        ("PLAIN answered with 250", NX_SMTP_CLIENT_AUTH_PLAIN, script(head(vec![Expect(leak(plain.clone())), send("250 fine\r\n")]), lockstep_transaction()), NX_SUCCESS),
        (
            "LOGIN answered with 250 at once",
            NX_SMTP_CLIENT_AUTH_LOGIN,
            script(head(vec![Expect("AUTH LOGIN"), send("250 fine\r\n")]), lockstep_transaction()),
            NX_SUCCESS,
        ),
        (
            "PLAIN asked twice",
            NX_SMTP_CLIENT_AUTH_PLAIN,
            head(vec![Expect(leak(plain.clone())), send("334 \r\n"), Expect(leak(response.clone())), send("334 \r\n"), Expect("QUIT"), send("221 bye\r\n")]),
            NX_SMTP_AUTH_REPLY_ERROR,
        ),
        (
            "LOGIN asked a third time",
            NX_SMTP_CLIENT_AUTH_LOGIN,
            head(vec![
                Expect("AUTH LOGIN"),
                send("334 VXNlcm5hbWU6\r\n"),
                Expect(leak(user.clone())),
                send("334 UGFzc3dvcmQ6\r\n"),
                Expect(leak(pass.clone())),
                send("334 again\r\n"),
                Expect("QUIT"),
                send("221 bye\r\n"),
            ]),
            NX_SMTP_AUTH_REPLY_ERROR,
        ),
    ];
    let mut failures = Vec::new();
    for (name_of_case, auth, steps, want) in cases {
        let server = Server::start(steps);
        let mut c = CClient::default();
        assert_eq!(c.create_with(server.port, auth, NETX_USER, NETX_PASS, ADDR, NETX_DOMAIN), NX_SUCCESS);
        let got = c.send(ADDR, "s", b"body\r\n");
        drop(c);
        let seen = server.finish();
        if got != want {
            failures.push(format!("{name_of_case} [{PROFILE}]: 0x{got:02X} {}, expected 0x{want:02X} {}", name(got), name(want)));
        }
        if !seen.failures.is_empty() {
            failures.push(format!("{name_of_case} [{PROFILE}]: {:?}", seen.failures));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- What the small profile does not do: the one list ----

/// What the small profile leaves out, each with what it does instead; the full profile supports
/// it. Every item is tested below ([`small_profile_limits_are_refused_or_simplified`]).
const SMALL_PROFILE_LIMITS: [Limit; 5] = [Limit::StartTls, Limit::ImplicitTls, Limit::Pipelining, Limit::NonAsciiSubject, Limit::ReplyText];

#[derive(Debug, Clone, Copy)]
enum Limit {
    /// `nx_smtp_client_tls_set(STARTTLS)`: the small profile refuses the send with
    /// NX_SMTP_TLS_NOT_SUPPORTED before connecting; the full profile asks for STARTTLS (and,
    /// when the server does not offer it, stops with NX_SMTP_STARTTLS_UNAVAILABLE before any
    /// credential).
    StartTls,
    /// `nx_smtp_client_tls_set(IMPLICIT)`: the small profile refuses as above; the full
    /// profile starts a TLS handshake at once (a plain server fails it).
    ImplicitTls,
    /// PIPELINING offered: the small profile ignores it (lockstep); the full profile sends the
    /// envelope in one flight.
    Pipelining,
    /// A subject outside printable ASCII: the small profile refuses it (NX_SMTP_INVALID_PARAM,
    /// nothing sent); the full profile encodes it.
    NonAsciiSubject,
    /// `nx_smtp_client_last_reply_get`: the small profile keeps the code of the reply that
    /// decided, not its text; the full profile keeps both.
    ReplyText,
}

/// A good lockstep server for one mail (AUTH none), offering `extra` EHLO lines.
fn lockstep_server(extra: &str) -> Vec<Step> {
    let mut steps = vec![send("220 mx.fault.test\r\n"), Expect("EHLO"), send(&format!("250-mx.fault.test\r\n{extra}250 8BITMIME\r\n"))];
    steps.extend([Expect("MAIL"), send("250 ok\r\n"), Expect("RCPT"), send("250 ok\r\n"), Expect("DATA"), send("354 go\r\n"), ExpectData]);
    steps.extend([send("250 2.0.0 queued as BEEF\r\n"), Expect("QUIT"), send("221 bye\r\n")]);
    steps
}

fn check_limit(limit: Limit) -> Result<(), String> {
    let small = cfg!(feature = "small");
    let expect = |what: &str, got: u32, want: u32| if got == want { Ok(()) } else { Err(format!("{what}: 0x{got:02X} {}, expected 0x{want:02X} {}", name(got), name(want))) };
    match limit {
        Limit::StartTls | Limit::ImplicitTls => {
            let mode = if matches!(limit, Limit::StartTls) { NX_SMTP_CLIENT_TLS_STARTTLS } else { NX_SMTP_CLIENT_TLS_IMPLICIT };
            // A plain server that does not offer STARTTLS (and cannot speak TLS).
            let script = if small { vec![] } else { vec![send("220 mx.fault.test\r\n"), Expect("EHLO"), send("250-mx.fault.test\r\n250 AUTH PLAIN\r\n"), Mark, Hold(3000)] };
            let server = Server::start(script);
            let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_PLAIN);
            expect("tls_set", c.tls_set(mode), NX_SUCCESS)?;
            let got = c.send(TO[0], SUBJECT, SMALL_BODY);
            drop(c);
            let seen = server.finish();
            if small {
                expect("send", got, NX_SMTP_TLS_NOT_SUPPORTED)?;
                if seen.connected {
                    return Err("the small profile connected although TLS was asked for".into());
                }
            } else {
                if matches!(limit, Limit::StartTls) {
                    expect("send", got, NX_SMTP_STARTTLS_UNAVAILABLE)?;
                } else if got == NX_SUCCESS || !seen.connected {
                    return Err(format!("implicit TLS against a plain server: 0x{got:02X} {}, connected: {}", name(got), seen.connected));
                }
                if String::from_utf8_lossy(&seen.received).contains("AUTH") {
                    return Err("credentials over a link that TLS was asked to protect".into());
                }
            }
            Ok(())
        }
        Limit::Pipelining => {
            let script = if small {
                lockstep_server("250-PIPELINING\r\n")
            } else {
                let mut steps = vec![send("220 mx.fault.test\r\n"), Expect("EHLO"), send("250-mx.fault.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")];
                steps.extend([Expect("MAIL"), Expect("RCPT"), Expect("DATA"), send("250 ok\r\n250 ok\r\n354 go\r\n"), ExpectData]);
                steps.extend([Expect("QUIT"), send("250 2.0.0 queued as BEEF\r\n221 bye\r\n")]);
                steps
            };
            let server = Server::start(script);
            let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
            let got = c.send(TO[0], SUBJECT, SMALL_BODY);
            drop(c);
            let seen = server.finish();
            expect("send", got, NX_SUCCESS)?;
            if !seen.failures.is_empty() {
                return Err(format!("script deviations: {:?}", seen.failures));
            }
            Ok(())
        }
        Limit::NonAsciiSubject => {
            let server = Server::start(if small { vec![] } else { lockstep_server("") });
            let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
            let got = c.send(TO[0], "Grüße aus dem Gerät", SMALL_BODY);
            drop(c);
            let seen = server.finish();
            if small {
                expect("send", got, NX_SMTP_INVALID_PARAM)?;
                if seen.connected {
                    return Err("the small profile connected for an invalid subject".into());
                }
            } else {
                expect("send", got, NX_SUCCESS)?;
                let message = String::from_utf8_lossy(seen.message.as_deref().unwrap_or_default()).to_string();
                if !message.contains("Subject: =?") {
                    return Err(format!("the subject is not encoded: {message:?}"));
                }
            }
            Ok(())
        }
        Limit::ReplyText => {
            let server = Server::start(lockstep_server(""));
            let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
            let got = c.send(TO[0], SUBJECT, SMALL_BODY);
            let (code, text) = c.last_reply();
            drop(c);
            server.finish();
            expect("send", got, NX_SUCCESS)?;
            let want_text = if small { "" } else { "2.0.0 queued as BEEF" };
            if code != 250 || text != want_text {
                return Err(format!("last reply {code} {text:?}, expected 250 {want_text:?}"));
            }
            Ok(())
        }
    }
}

/// Each item of [`SMALL_PROFILE_LIMITS`]: the small profile refuses it (or does the simpler
/// thing) as documented; the full profile supports it.
#[test]
fn small_profile_limits_are_refused_or_simplified() {
    let _sockets = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    let failures: Vec<String> = SMALL_PROFILE_LIMITS.iter().filter_map(|&l| check_limit(l).err().map(|e| format!("{l:?} [{PROFILE}]: {e}"))).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
