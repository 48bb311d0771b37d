//! Concurrency against Postfix (127.0.0.1:2525, alice/secret123, Maildirs under
//! $ZSMTP_MAILDIR): 8 threads sharing ONE Rust client (Arc<Mutex<Client>>), 8 threads sharing
//! ONE kept connection, 8 threads sharing ONE C client (NX_SMTP_CLIENT through the extern "C"
//! functions), and 8 clients in parallel. Every mail carries a hash of its body in its
//! subject; every delivered message is checked against it, every send's result is kept, and
//! the Maildir must hold exactly one copy of each mail that succeeded (at most one of a mail
//! whose outcome is unknown, none of a failed one) and nothing else of the run.
//!
//! A live suite (feature `live-servers`; scripts/test runs it with the servers up:
//! `cargo test --features capi,live-servers --test live_concurrency`).
//! ZSMTP_CONCURRENCY_MAILS sets the mails per thread (default 50).

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::collections::HashMap;
use std::fmt::Write as _;
use support::live::maildir;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{status, Auth, Client, Config, Error, Mail, Sent, Timeouts};

const THREADS: usize = 8;

fn mails_per_thread() -> usize {
    std::env::var("ZSMTP_CONCURRENCY_MAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(50)
}

/// A short id that no other run shares.
fn run_id(tag: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{tag}{:x}", (nanos as u64 ^ u64::from(std::process::id()) << 40) & 0xff_ffff_ffff)
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The body of mail `m` of thread `t` (LF line ends; a dotted line; a long line).
fn body_of(run: &str, t: usize, m: usize) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "run {run}, thread {t}, mail {m}");
    let _ = writeln!(b, ".this line starts with a dot ({t}/{m})");
    for k in 0..20 {
        let _ = writeln!(b, "line {k}: {}", "abcdefghij".repeat(1 + (t + m + k) % 7));
    }
    let _ = writeln!(b, "{}", "L".repeat(900));
    let _ = writeln!(b, "end {t}/{m}");
    b
}

fn subject_of(run: &str, t: usize, m: usize) -> String {
    format!("conc {run} t{t} m{m} h{:016x}", fnv(body_of(run, t, m).as_bytes()))
}

fn config() -> Config<'static> {
    let timeouts = Timeouts { connect_ms: 5000, total_ms: 60_000, ..Timeouts::DEFAULT.every_reply(20_000) };
    Config::new("127.0.0.1", 2525, "conc.example.test", "alice@example.test")
        .auth(Auth::Login, "alice", "secret123")
        .allow_plaintext_auth(true)
        .timeouts(timeouts)
}

/// What a send said: "ok", or the status in hex.
fn label(r: &Result<Sent, Error>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{:02X} {e}", e.status()),
    }
}

/// Waits until the Maildir holds `expected` messages of the run (bounded), then checks every
/// mail against its result. Returns a description of each problem.
fn account(user: &str, run: &str, results: &HashMap<(usize, usize), String>) -> Vec<String> {
    let box_dir = maildir(user);
    let prefix = format!("conc {run} ");
    let ok = results.values().filter(|l| *l == "ok").count();
    let read = || -> Vec<(String, String)> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(box_dir.join(sub)) else { continue };
            for e in entries.flatten() {
                let Ok(bytes) = std::fs::read(e.path()) else { continue };
                let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
                let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
                if let Some(s) = head.lines().find_map(|l| l.strip_prefix("Subject: ")) {
                    if s.starts_with(&prefix) {
                        out.push((s.to_string(), body.to_string()));
                    }
                }
            }
        }
        out
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut messages = read();
    while messages.len() < ok && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        messages = read();
    }
    // Anything late (a duplicate) has a moment to show up too.
    std::thread::sleep(Duration::from_millis(500));
    messages = read();

    let mut problems = Vec::new();
    let mut copies: HashMap<(usize, usize), usize> = HashMap::new();
    for (subject, body) in &messages {
        let mut f = subject[prefix.len()..].split(' ');
        let (Some(t), Some(m), Some(h)) = (f.next(), f.next(), f.next()) else {
            problems.push(format!("unparsable subject {subject:?}"));
            continue;
        };
        let (Ok(t), Ok(m)) = (t.trim_start_matches('t').parse::<usize>(), m.trim_start_matches('m').parse::<usize>()) else {
            problems.push(format!("unparsable subject {subject:?}"));
            continue;
        };
        let body = body.trim_end_matches('\n').to_string() + "\n";
        if format!("h{:016x}", fnv(body.as_bytes())) != h {
            problems.push(format!("t{t} m{m}: body differs from its hash ({} bytes delivered)", body.len()));
        }
        *copies.entry((t, m)).or_default() += 1;
    }
    for (key, got) in &copies {
        if !results.contains_key(key) {
            problems.push(format!("t{} m{}: delivered {got}x but never sent", key.0, key.1));
        }
    }
    for (key, l) in results {
        let got = copies.get(key).copied().unwrap_or(0);
        let fine = match l.as_str() {
            "ok" => got == 1,
            _ if l.starts_with(&format!("{:02X}", status::NX_SMTP_OUTCOME_UNKNOWN)) => got <= 1,
            _ => got == 0,
        };
        if !fine {
            problems.push(format!("t{} m{}: result {l}, {got} copies delivered", key.0, key.1));
        }
    }
    problems
}

fn report(name: &str, run: &str, user: &str, started: Instant, results: HashMap<(usize, usize), String>) {
    let elapsed = started.elapsed();
    let failures: Vec<String> = results.iter().filter(|(_, l)| *l != "ok").map(|((t, m), l)| format!("t{t} m{m}: {l}")).collect();
    let problems = account(user, run, &results);
    println!(
        "{name}: {} mails in {elapsed:.1?} ({:.0} mails/s), {} failed, {} accounting problems",
        results.len(),
        results.len() as f64 / elapsed.as_secs_f64(),
        failures.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{name}: {}", problems.join("\n"));
    // Against a healthy local Postfix every send must succeed; a failure is reported here
    // (its mail was checked above: not delivered, or at most once when the outcome is unknown).
    assert!(failures.is_empty(), "{name}: sends failed:\n{}", failures.join("\n"));
}

#[test]
fn eight_threads_share_one_client() {
    let run = run_id("s");
    let per = mails_per_thread();
    let client: Client<'static, StdTransport, StdClock> = Client::new(config(), StdTransport::new(), StdClock::new()).unwrap();
    let client = Arc::new(Mutex::new(client));
    let results = Arc::new(Mutex::new(HashMap::new()));
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, results, run) = (client.clone(), results.clone(), run.clone());
            std::thread::spawn(move || {
                for m in 0..per {
                    let (subject, body) = (subject_of(&run, t, m), body_of(&run, t, m));
                    let mail = Mail::new(&subject, body.as_bytes()).to(&["carol@example.test"]);
                    let r = client.lock().unwrap().send(&mail);
                    results.lock().unwrap().insert((t, m), label(&r));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("sender thread");
    }
    let results = Arc::try_unwrap(results).unwrap().into_inner().unwrap();
    report("8 threads, one Rust client", &run, "carol", started, results);
}

#[test]
fn eight_threads_share_one_kept_connection() {
    let run = run_id("k");
    let per = mails_per_thread();
    let mut client: Client<'static, StdTransport, StdClock> = Client::new(config(), StdTransport::new(), StdClock::new()).unwrap();
    let connection = Mutex::new(client.connect().expect("connect"));
    let results = Mutex::new(HashMap::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (connection, results, run) = (&connection, &results, &run);
            s.spawn(move || {
                for m in 0..per {
                    let (subject, body) = (subject_of(run, t, m), body_of(run, t, m));
                    let mail = Mail::new(&subject, body.as_bytes()).to(&["bob@example.test"]);
                    let r = connection.lock().unwrap().send(&mail);
                    results.lock().unwrap().insert((t, m), label(&r));
                }
            });
        }
    });
    drop(connection);
    report("8 threads, one kept connection", &run, "bob", started, results.into_inner().unwrap());
}

#[test]
fn eight_clients_in_parallel() {
    let run = run_id("p");
    let per = mails_per_thread();
    let started = Instant::now();
    let results = Mutex::new(HashMap::new());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (results, run) = (&results, &run);
            s.spawn(move || {
                let mut client: Client<'static, StdTransport, StdClock> = Client::new(config(), StdTransport::new(), StdClock::new()).unwrap();
                for m in 0..per {
                    let (subject, body) = (subject_of(run, t, m), body_of(run, t, m));
                    let mail = Mail::new(&subject, body.as_bytes()).to(&["alice@example.test"]);
                    let r = client.send(&mail);
                    results.lock().unwrap().insert((t, m), label(&r));
                }
            });
        }
    });
    report("8 clients in parallel", &run, "alice", started, results.into_inner().unwrap());
}

#[cfg(feature = "capi")]
mod capi {
    use super::*;
    use std::ffi::{c_char, c_uint, CString};
    use zsmtp::capi::{nx_smtp_client_delete, nx_smtp_client_last_reply_get, nx_smtp_mail_send, NxSmtpClient};

    /// The one control block, shared by the threads as C code would share it.
    struct Shared(*mut NxSmtpClient);
    // SAFETY: the C API serialises every service on the lock inside NX_SMTP_CLIENT; the
    // pointer stays valid until every thread has been joined (the block is deleted after).
    unsafe impl Send for Shared {}
    // SAFETY: as above: concurrent calls through the pointer are what the C API allows.
    unsafe impl Sync for Shared {}

    #[test]
    fn eight_threads_share_one_c_client() {
        let run = run_id("c");
        let per = mails_per_thread();
        let mut client = support::capi::CClient::default();
        let created = client.create_with(2525, 3 /* NX_SMTP_CLIENT_AUTH_PLAIN */, "alice", "secret123", "<alice@example.test>", "conc-c.example.test");
        assert_eq!(created, 0, "nxd_smtp_client_create");
        let cp = client.ptr();
        let shared = Shared(cp);
        let results = Mutex::new(HashMap::new());
        let started = Instant::now();
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (shared, results, run) = (&shared, &results, &run);
                s.spawn(move || {
                    let to = CString::new("<dave@example.test>").unwrap();
                    for m in 0..per {
                        let subject = CString::new(subject_of(run, t, m)).unwrap();
                        let body = body_of(run, t, m);
                        // SAFETY: a created client (deleted only after the scope); the strings
                        // and the body are live and unchanged during the call.
                        let st = unsafe {
                            nx_smtp_mail_send(
                                shared.0,
                                to.as_ptr().cast_mut(),
                                2, // NX_SMTP_MAIL_PRIORITY_NORMAL
                                subject.as_ptr().cast_mut(),
                                body.as_ptr().cast::<c_char>().cast_mut(),
                                body.len() as c_uint,
                            )
                        };
                        let (mut code, mut text) = (0 as c_uint, [0 as c_char; 64]);
                        // SAFETY: as above; `code` and `text` are writable for the sizes given.
                        let got = unsafe { nx_smtp_client_last_reply_get(shared.0, &mut code, text.as_mut_ptr(), text.len() as c_uint) };
                        let l = if st == 0 { "ok".to_string() } else { format!("{st:02X} (reply {code})") };
                        assert_eq!(got, 0, "last_reply_get");
                        results.lock().unwrap().insert((t, m), l);
                    }
                });
            }
        });
        // SAFETY: every thread has been joined: nobody else uses the client.
        assert_eq!(unsafe { nx_smtp_client_delete(cp) }, 0, "nx_smtp_client_delete");
        report("8 threads, one C client", &run, "dave", started, results.into_inner().unwrap());
    }
}
