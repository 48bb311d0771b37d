//! Soak: thousands of mails through ONE client against a real server behind a proxy that
//! drops and stalls connections (scripts/soak runs it against Postfix and
//! scripts/soak-proxy.py), then every mail accounted for in the Maildir.
//!
//! ```text
//! soak send   --port PORT --count N --run RUN --results FILE
//! soak verify --maildir DIR --run RUN --results FILE
//! ```
//!
//! `send` uses one `Client` for everything: blocks of 50 mails alternate between one-shot
//! sends (`Client::send`) and a kept connection (`Client::connect`, `Connection::send`).
//! A mail that fails with a plain error is retried (up to 5 attempts, as firmware would):
//! a plain error promises that nothing was delivered. A mail whose outcome is unknown
//! (0xC0) is not retried. Each attempt's status goes to the results file; RSS and open
//! descriptors are sampled every 250 mails.
//!
//! `verify` reads every message of the Maildir and checks, per mail: delivered copies ==
//! successful attempts, or one more at most when an attempt said "outcome unknown"; the
//! body delivered byte for byte; no message that was never sent. Exit status 1 on any
//! violation.

#![allow(clippy::result_large_err)] // The public error carries the server reply by design.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{status, Auth, Client, Config, Error, Mail, Sent, Timeouts};

const MAX_ATTEMPTS: usize = 5;
const BLOCK: usize = 50;
const TO: [&str; 1] = ["bob@example.test"];

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn need(args: &[String], name: &str) -> String {
    arg(args, name).unwrap_or_else(|| {
        eprintln!("soak: missing {name}");
        std::process::exit(2)
    })
}

/// The body of mail `i` of run `run` (LF line ends; a dotted line to exercise stuffing).
fn body_of(run: &str, i: usize) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "soak-id: {run}-{i}");
    let _ = writeln!(b, "This mail is number {i} of the soak run {run}.");
    let _ = writeln!(b, ".a line that starts with a dot, {i}");
    for k in 0..4 {
        let _ = writeln!(b, "filler {k}: the quick brown fox jumps over the lazy dog {}", i * 7 + k);
    }
    let _ = writeln!(b, "end of mail {i}");
    b
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn label(result: &Result<Sent, Error>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("{:02X}", e.status()),
    }
}

fn send(args: &[String]) {
    let port: u16 = need(args, "--port").parse().expect("port");
    let count: usize = need(args, "--count").parse().expect("count");
    let run = need(args, "--run");
    let results_path = need(args, "--results");
    let timeouts = Timeouts { connect_ms: 2000, greeting_ms: 1000, reply_ms: 1000, send_ms: 2000, final_reply_ms: 2000, total_ms: 15_000 };
    let deadline = Duration::from_millis(u64::from(timeouts.total_ms) + 1000);
    let config = Config::new("127.0.0.1", port, "soak.example.test", "alice@example.test")
        .auth(Auth::Plain, "alice", "secret123")
        .allow_plaintext_auth(true)
        .timeouts(timeouts);
    let mut client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new()).expect("configuration");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&results_path).expect("results file"));
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    let mut samples: Vec<(usize, u64, usize)> = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut over_deadline = 0usize;
    let mut connect_failures = 0usize;
    let started = Instant::now();
    let base_fds = fds();
    println!("soak send: {count} mails to 127.0.0.1:{port}, run {run}, {base_fds} descriptors open at start");

    // One mail: up to MAX_ATTEMPTS, stopping at success or "outcome unknown".
    let mut attempts_of = |i: usize, send: &mut dyn FnMut(&Mail<'_>) -> Result<Sent, Error>| -> Vec<String> {
        let subject = format!("soak {run} {i}");
        let body = body_of(&run, i);
        let mail = Mail::new(&subject, body.as_bytes()).to(&TO);
        let mut labels = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let t0 = Instant::now();
            let result = send(&mail);
            let took = t0.elapsed();
            slowest = slowest.max(took);
            if took > deadline {
                over_deadline += 1;
            }
            let l = label(&result);
            *outcomes.entry(l.clone()).or_default() += 1;
            let stop = match &result {
                Ok(_) => true,
                Err(e) => e.status() == status::NX_SMTP_OUTCOME_UNKNOWN,
            };
            labels.push(l);
            if stop {
                break;
            }
        }
        labels
    };

    let mut i = 0;
    while i < count {
        let end = (i + BLOCK).min(count);
        let kept = (i / BLOCK) % 2 == 1;
        let mut lines = Vec::new();
        if kept {
            let mut tries = 0;
            let connection = loop {
                tries += 1;
                match client.connect() {
                    Ok(c) => break Some(c),
                    Err(_) if tries < 20 => connect_failures += 1,
                    Err(_) => {
                        connect_failures += 1;
                        break None;
                    }
                }
            };
            let mut connection = connection.expect("a connection within 20 tries");
            for j in i..end {
                lines.push((j, "kept", attempts_of(j, &mut |m| connection.send(m))));
            }
        } else {
            for j in i..end {
                lines.push((j, "once", attempts_of(j, &mut |m| client.send(m))));
            }
        }
        for (j, mode, labels) in lines {
            writeln!(out, "{j}\t{mode}\t{}", labels.join(",")).expect("results");
        }
        i = end;
        if i % 250 == 0 || i == count {
            let sample = (i, rss_kb(), fds());
            samples.push(sample);
            println!("sample mails={} rss_kb={} fds={} elapsed={:?}", sample.0, sample.1, sample.2, started.elapsed());
        }
    }
    out.flush().expect("results");
    drop(client);

    let mut keys: Vec<_> = outcomes.iter().collect();
    keys.sort();
    let summary: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let warm: Vec<&(usize, u64, usize)> = samples.iter().filter(|s| s.0 >= 1000).collect();
    let (rss_min, rss_max) = warm.iter().fold((u64::MAX, 0), |(lo, hi), s| (lo.min(s.1), hi.max(s.1)));
    let fd_set: std::collections::BTreeSet<usize> = samples.iter().map(|s| s.2).collect();
    println!("attempts: {}", summary.join(" "));
    println!("connect failures (kept blocks): {connect_failures}");
    println!("slowest send: {slowest:?}; sends over the deadline ({deadline:?}): {over_deadline}");
    if warm.is_empty() {
        println!("rss: too few mails to judge; descriptors at samples: {fd_set:?} (start {base_fds})");
    } else {
        println!("rss after 1000 mails: min {rss_min} kB, max {rss_max} kB; descriptors at samples: {fd_set:?} (start {base_fds})");
    }
    println!("elapsed: {:?}", started.elapsed());
    let rss_flat = warm.is_empty() || rss_max.saturating_sub(rss_min) <= 1024;
    let fds_flat = fd_set.len() == 1 && fd_set.contains(&base_fds);
    if !rss_flat || !fds_flat || over_deadline > 0 {
        println!("soak send: FAILED (rss flat: {rss_flat}, descriptors flat: {fds_flat}, over deadline: {over_deadline})");
        std::process::exit(1);
    }
    println!("soak send: OK");
}

/// The messages of a Maildir: (subject, body with LF line ends).
fn read_maildir(dir: &str) -> Vec<(String, String)> {
    let mut messages = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(format!("{dir}/{sub}")) else { continue };
        for e in entries.flatten() {
            let text = String::from_utf8_lossy(&std::fs::read(e.path()).expect("message")).replace("\r\n", "\n");
            let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
            let subject = head.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or("").to_string();
            messages.push((subject, body.to_string()));
        }
    }
    messages
}

fn verify(args: &[String]) {
    let maildir = need(args, "--maildir");
    let run = need(args, "--run");
    let results = std::fs::read_to_string(need(args, "--results")).expect("results file");
    let mut attempts: HashMap<usize, Vec<String>> = HashMap::new();
    for line in results.lines() {
        let mut f = line.split('\t');
        let i: usize = f.next().and_then(|v| v.parse().ok()).expect("mail number");
        let _mode = f.next();
        attempts.insert(i, f.next().unwrap_or("").split(',').map(str::to_string).collect());
    }
    let mut copies: HashMap<usize, usize> = HashMap::new();
    let mut corrupt = Vec::new();
    let mut unknown = Vec::new();
    let messages = read_maildir(&maildir);
    let prefix = format!("soak {run} ");
    for (subject, body) in &messages {
        let Some(i) = subject.strip_prefix(&prefix).and_then(|n| n.parse::<usize>().ok()) else {
            unknown.push(subject.clone());
            continue;
        };
        *copies.entry(i).or_default() += 1;
        if body.trim_end_matches('\n') != body_of(&run, i).trim_end_matches('\n') {
            corrupt.push(i);
        }
        if !attempts.contains_key(&i) {
            unknown.push(subject.clone());
        }
    }
    let (mut lost, mut duplicated) = (Vec::new(), Vec::new());
    let (mut ok_mails, mut unknown_outcome, mut unknown_delivered, mut failed, mut retried_ok) = (0, 0, 0, 0, 0);
    for (&i, labels) in &attempts {
        let oks = labels.iter().filter(|l| *l == "ok").count();
        let maybes = labels.iter().filter(|l| *l == "C0").count();
        let got = copies.get(&i).copied().unwrap_or(0);
        if got < oks {
            lost.push(i);
        }
        if got > oks + maybes {
            duplicated.push(i);
        }
        if oks > 0 {
            ok_mails += 1;
            if labels.len() > 1 {
                retried_ok += 1;
            }
        } else if maybes > 0 {
            unknown_outcome += 1;
            unknown_delivered += usize::from(got > 0);
        } else {
            failed += 1;
        }
    }
    println!(
        "soak verify: {} mails, {} messages in the Maildir; delivered after success: {ok_mails} ({retried_ok} after a retry); \
         outcome unknown: {unknown_outcome} ({unknown_delivered} of them delivered); failed after {MAX_ATTEMPTS} attempts: {failed}",
        attempts.len(),
        messages.len()
    );
    println!(
        "soak verify: lost {}, duplicated {}, corrupted {}, unknown messages {}",
        lost.len(),
        duplicated.len(),
        corrupt.len(),
        unknown.len()
    );
    if !(lost.is_empty() && duplicated.is_empty() && corrupt.is_empty() && unknown.is_empty()) {
        lost.sort_unstable();
        duplicated.sort_unstable();
        corrupt.sort_unstable();
        println!("lost: {lost:?}\nduplicated: {duplicated:?}\ncorrupted: {corrupt:?}\nunknown: {unknown:?}");
        for i in duplicated.iter().chain(&lost).take(20) {
            println!("  mail {i}: attempts {:?}, copies {}", attempts.get(i), copies.get(i).copied().unwrap_or(0));
        }
        println!("soak verify: FAILED");
        std::process::exit(1);
    }
    println!("soak verify: OK, every mail accounted for");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("send") => send(&args),
        Some("verify") => verify(&args),
        _ => {
            eprintln!("usage: soak send --port P --count N --run RUN --results FILE | soak verify --maildir DIR --run RUN --results FILE");
            std::process::exit(2);
        }
    }
}
