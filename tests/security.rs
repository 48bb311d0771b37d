//! Credentials never leak: not into the log at any level (a capturing logger at Trace
//! records every message of sends with AUTH PLAIN and LOGIN, successful and refused, one-shot
//! and over a kept connection), not into errors or debug output, and not out of a C client
//! once it is deleted (its memory is read back after nx_smtp_client_delete).

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::sync::Mutex;
use support::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Error, Mail, Sent, Timeouts};

const USER: &str = "device-9@sec.test";
const PASS: &str = "Tr0ub4dor&3-secret";

/// Everything the client logged, at every level.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The tests of this file share the log: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LOG.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    fn flush(&self) {}
}

fn capture_log() -> std::sync::MutexGuard<'static, ()> {
    static LOGGER: Capture = Capture;
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
    LOG.lock().unwrap_or_else(|e| e.into_inner()).clear();
    guard
}

/// The forms a password could leak in: as is, base64 alone (LOGIN), inside the PLAIN
/// response, and the base64 of the password at the two other alignments a longer base64
/// stream could carry it in (its inner characters).
fn secret_forms() -> Vec<String> {
    let mut forms = vec![PASS.to_string(), b64(PASS.as_bytes()), b64(format!("\0{USER}\0{PASS}").as_bytes())];
    for pad in ["x", "xx"] {
        let enc = b64(format!("{pad}{PASS}").as_bytes());
        // Drop the characters that mix in the padding and the tail.
        forms.push(enc[4..enc.len() - 4].to_string());
    }
    forms
}

fn assert_no_secret(what: &str, text: &str) {
    for form in secret_forms() {
        assert!(!text.contains(&form), "{what} contains a form of the password ({} chars)", form.len());
    }
}

fn config(port: u16, auth: Auth) -> Config<'static> {
    let timeouts = Timeouts { connect_ms: 2000, total_ms: 10_000, ..Timeouts::DEFAULT.every_reply(3000) };
    Config::new("127.0.0.1", port, "device.sec.test", "device-9@sec.test").auth(auth, USER, PASS).allow_plaintext_auth(true).timeouts(timeouts)
}

fn send_once(steps: Vec<Step>, auth: Auth) -> Result<Sent, Error> {
    let server = Server::start(steps);
    let mut client: Client<'_, _, _> = Client::new(config(server.port, auth), StdTransport::new(), StdClock::new()).unwrap();
    let result = client.send(&Mail::new("s", b"body\n").to(&["ops@sec.test"]));
    server.finish();
    result
}

const EHLO: &str = "250-mx.sec.test\r\n250-AUTH PLAIN LOGIN\r\n250 PIPELINING\r\n";

fn plain_ok() -> Vec<Step> {
    let mut s = vec![send("220 mx\r\n"), Expect("EHLO"), send(EHLO), Expect("AUTH PLAIN "), send("235 ok\r\n")];
    s.extend(pipelined_rest_of_mail());
    s
}

fn login_ok() -> Vec<Step> {
    let mut s = vec![
        send("220 mx\r\n"),
        Expect("EHLO"),
        send(EHLO),
        Expect("AUTH LOGIN"),
        send("334 VXNlcm5hbWU6\r\n"),
        Expect(""),
        send("334 UGFzc3dvcmQ6\r\n"),
        Expect(""),
        send("235 ok\r\n"),
    ];
    s.extend(pipelined_rest_of_mail());
    s
}

#[test]
fn credentials_never_reach_the_log_or_errors() {
    let _serial = capture_log();
    let mut outputs = Vec::new();
    let mut record = |what: &str, r: Result<Sent, Error>| {
        match &r {
            Ok(sent) => outputs.push(format!("{what}: {sent:?} {}", sent.reply)),
            Err(e) => outputs.push(format!("{what}: {e} {e:?}")),
        }
        r
    };

    record("plain", send_once(plain_ok(), Auth::Plain)).expect("PLAIN send");
    record("login", send_once(login_ok(), Auth::Login)).expect("LOGIN send");
    // The server ignores the initial response and asks for it.
    let mut again = vec![send("220 mx\r\n"), Expect("EHLO"), send(EHLO), Expect("AUTH PLAIN "), send("334 \r\n"), Expect(""), send("235 ok\r\n")];
    again.extend(pipelined_rest_of_mail());
    record("plain asked again", send_once(again, Auth::Plain)).expect("PLAIN with 334");
    // Refusals: PLAIN refused; LOGIN refused after the user name and after the password;
    // the server echoing the credentials back in its refusal text.
    let refused = |steps: Vec<Step>| steps;
    let plain_refused = refused(vec![
        send("220 mx\r\n"),
        Expect("EHLO"),
        send(EHLO),
        Expect("AUTH PLAIN "),
        send("535 5.7.8 Error: authentication failed\r\n"),
        Expect("QUIT"),
    ]);
    record("plain refused", send_once(plain_refused, Auth::Plain)).expect_err("PLAIN refused");
    let login_user_refused = vec![
        send("220 mx\r\n"),
        Expect("EHLO"),
        send(EHLO),
        Expect("AUTH LOGIN"),
        send("334 VXNlcm5hbWU6\r\n"),
        Expect(""),
        send("535 5.7.8 unknown user\r\n"),
        Expect("QUIT"),
    ];
    record("login refused at user", send_once(login_user_refused, Auth::Login)).expect_err("LOGIN refused");
    let echo = format!("535 5.7.8 bad password {} {}\r\n", b64(PASS.as_bytes()), PASS);
    let login_echo = vec![
        send("220 mx\r\n"),
        Expect("EHLO"),
        send(EHLO),
        Expect("AUTH LOGIN"),
        send("334 VXNlcm5hbWU6\r\n"),
        Expect(""),
        send("334 UGFzc3dvcmQ6\r\n"),
        Expect(""),
        Send(echo.into_bytes()),
        Expect("QUIT"),
    ];
    let echoed = record("login refused at password (server echoes it)", send_once(login_echo, Auth::Login)).expect_err("LOGIN refused");
    // The server's own text is the server's business: it is kept in the error as the
    // server sent it. What must hold is that the client itself never logs the password.
    let echoed_text = echoed.reply.as_ref().map(|r| r.text().to_string()).unwrap_or_default();
    assert!(echoed_text.contains("bad password"));

    // A kept connection: open (AUTH), two mails, QUIT on drop.
    let mut kept = vec![send("220 mx\r\n"), Expect("EHLO"), send(EHLO), Expect("AUTH PLAIN "), send("235 ok\r\n")];
    for _ in 0..2 {
        kept.extend([Expect("MAIL"), Expect("RCPT"), Expect("DATA"), send("250 ok\r\n250 ok\r\n354 go\r\n"), ExpectData, send("250 queued\r\n")]);
    }
    kept.extend([Expect("QUIT"), send("221 bye\r\n")]);
    let server = Server::start(kept);
    let mut client: Client<'_, _, _> = Client::new(config(server.port, Auth::Plain), StdTransport::new(), StdClock::new()).unwrap();
    {
        let mut connection = client.connect().expect("connect");
        for _ in 0..2 {
            let r = connection.send(&Mail::new("s", b"body\n").to(&["ops@sec.test"]));
            record("kept connection", r).expect("kept send");
        }
    }
    server.finish().assert_ok();
    outputs.push(format!("{:?}", client.config()));

    let log = LOG.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(log.len() > 50, "the capturing logger saw only {} lines: is logging compiled in?", log.len());
    assert!(log.iter().any(|l| l.starts_with("DEBUG") && l.contains("AUTH")), "no AUTH line logged at debug");
    for (i, line) in log.iter().enumerate() {
        // The echoing server's reply line is logged as the server sent it ("S: 535 ..."):
        // that is the server's text, not the client leaking. Every other line is checked.
        if line.contains("S: 535 5.7.8 bad password") {
            continue;
        }
        assert_no_secret(&format!("log line {i}"), line);
    }
    for (i, out) in outputs.iter().enumerate() {
        if out.contains("bad password") {
            continue;
        }
        assert_no_secret(&format!("result/debug output {i}"), out);
    }
    println!("{} log lines and {} results checked", log.len(), outputs.len());
}

#[cfg(feature = "capi")]
mod capi {
    use super::*;
    use support::capi::CClient;
    use zsmtp::capi::nx_smtp_client_delete;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// The bytes of the control block.
    #[test]
    fn delete_wipes_the_password_and_user_name() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        for (auth_type, steps) in [(3u32, plain_ok()), (1u32, login_ok())] {
            let server = Server::start(steps);
            let mut client = CClient::default();
            assert_eq!(client.create_with(server.port, auth_type, USER, PASS, "<device-9@sec.test>", "device.sec.test"), 0, "create");
            assert!(contains(&client.bytes(), PASS.as_bytes()), "the password is stored at create (the test reads the right memory)");
            assert_eq!(client.send("<ops@sec.test>", "wipe test", b"body line\r\n"), 0, "send (auth type {auth_type})");
            server.finish().assert_ok();
            // SAFETY: a created client, used by no other thread.
            assert_eq!(unsafe { nx_smtp_client_delete(client.ptr()) }, 0, "delete");
            let after = client.bytes();
            for form in secret_forms() {
                assert!(!contains(&after, form.as_bytes()), "a form of the password survives delete (auth type {auth_type})");
            }
            assert!(!contains(&after, USER.as_bytes()), "the user name survives delete");
            assert!(!contains(&after, b64(USER.as_bytes()).as_bytes()), "the base64 user name survives delete");
        }
    }
}
