//! TLS against the real servers (live suite: feature `live-servers`, servers from
//! scripts/servers/start-all.sh): Postfix 127.0.0.1:2587 (STARTTLS required, AUTH only after
//! TLS) and 2465 (implicit TLS), aiosmtpd 2665 (implicit), with the certificates of
//! scripts/servers/gen-certs.sh. Reads ZSMTP_MAILDIR, ZSMTP_CA and ZSMTP_AIOSMTPD_OUT.
//! Postfix's own log says what it received: the counts of its "disconnect from" line
//! (`auth=1`, `starttls=0/1`...) and the SASL method of each queued mail.
//!
//! The same refusals against a scripted TLS server, hermetic: tests/tls.rs.

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::live::{delivered_one, env, maillog, token};
use support::pki::Ca;
use zsmtp::error::status::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Error, ErrorKind, Mail, Sent, Timeouts, TlsMode};

const USER: &str = "alice";
const PASS: &str = "secret123";
const FROM: &str = "alice@example.test";
const DOMAIN: &str = "device.example.test";
const TO: &[&str] = &["bob@example.test"];

fn expect_status(result: Result<Sent, Error>, status: u32) -> Error {
    let e = result.expect_err("the send should fail");
    assert_eq!(e.status(), status, "{e} / {e:?}");
    e
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn test_ca() -> StdTransport {
    StdTransport::with_ca_file(env("ZSMTP_CA")).expect("ZSMTP_CA")
}

/// Postfix sessions are told apart in its log by order: one test at a time talks to it.
static POSTFIX: Mutex<()> = Mutex::new(());

fn postfix_turn() -> MutexGuard<'static, ()> {
    POSTFIX.lock().unwrap_or_else(|e| e.into_inner())
}

fn log_size() -> u64 {
    std::fs::metadata(maillog()).map(|m| m.len()).unwrap_or(0)
}

/// The log of the first smtpd session that connected after `offset` in Postfix's log
/// (bounded wait), ending with its "disconnect from" line, which counts the commands Postfix
/// received from the client: `auth=1`, `starttls=0/1`... Sessions are told apart by the
/// smtpd process id; bare port probes (commands=0/0 and no TLS alert) are passed over.
fn session_line(offset: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = std::fs::read(maillog()).unwrap_or_default();
        let text = String::from_utf8_lossy(all.get(offset as usize..).unwrap_or(&[])).to_string();
        let mut open: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for line in text.lines() {
            let Some((head, message)) = line.split_once("]: ") else { continue };
            let Some((_, pid)) = head.rsplit_once("smtpd[") else { continue };
            if message.starts_with("connect from ") {
                open.insert(pid.to_string(), Vec::new());
            } else if let Some(session) = open.get_mut(pid) {
                session.push(message.to_string());
                if message.starts_with("disconnect from ") {
                    let session = open.remove(pid).unwrap_or_default();
                    let probe = message.ends_with(" commands=0/0") && !session.iter().any(|l| l.contains("alert"));
                    if !probe {
                        return session.join("\n");
                    }
                }
            }
        }
        assert!(Instant::now() < deadline, "no complete session in the Postfix log since offset {offset}:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Postfix's Received header: the protocol (ESMTPSA = ESMTP + TLS + AUTH) and queue id.
fn received_with(message: &str) -> (String, String) {
    let at = message.find(") with ").expect("a Postfix Received header") + 7;
    let mut words = message[at..].split_whitespace();
    let protocol = words.next().unwrap().to_string();
    assert_eq!(words.next(), Some("id"));
    (protocol, words.next().unwrap().trim_end_matches(';').to_string())
}

/// The SASL mechanism Postfix logged for the queue id (bounded wait).
fn sasl_method(queue_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let needle = format!("{queue_id}: client=");
    loop {
        let log = String::from_utf8_lossy(&std::fs::read(maillog()).unwrap_or_default()).to_string();
        if let Some(line) = log.lines().find(|l| l.contains(&needle)) {
            let method = line.split("sasl_method=").nth(1).expect("sasl_method in the log line");
            return method.split(',').next().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no client line for {queue_id} in the Postfix log");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn postfix_config(server: &'static str, port: u16, mode: TlsMode, auth: Auth) -> Config<'static> {
    Config::new(server, port, DOMAIN, FROM).auth(auth, USER, PASS).tls(mode).timeouts(Timeouts::DEFAULT.every_reply(20_000))
}

fn postfix_delivers(server: &'static str, port: u16, mode: TlsMode, auth: Auth, mechanism: &str, user: &str) {
    let _turn = postfix_turn();
    let tag = token(&format!("tls-{mechanism}"));
    let to = [format!("{user}@example.test")];
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let offset = log_size();
    let mut client: Client<'_, _, _> = Client::new(postfix_config(server, port, mode, auth), test_ca(), StdClock::new()).unwrap();
    let sent = client.send(&Mail::new(&tag, b"delivered over TLS\n.dot line\n").to(&to)).unwrap();
    assert_eq!(sent.reply.code, 250, "{}", sent.reply);
    let message = delivered_one(user, &tag);
    let (protocol, queue_id) = received_with(&message);
    assert_eq!(protocol, "ESMTPSA", "TLS and AUTH, by Postfix's own account");
    assert_eq!(sasl_method(&queue_id), mechanism);
    assert!(message.ends_with("delivered over TLS\n.dot line\n"), "{message}");
    let line = session_line(offset);
    if mode == TlsMode::StartTls {
        assert!(line.contains("ehlo=2 starttls=1 auth=1 "), "{line}");
    } else {
        assert!(line.contains("ehlo=1 auth=1 "), "{line}");
    }
}

#[test]
fn postfix_2587_starttls_auth_plain_delivers() {
    postfix_delivers("127.0.0.1", 2587, TlsMode::StartTls, Auth::Plain, "PLAIN", "bob");
}

#[test]
fn postfix_2587_starttls_auth_login_delivers_to_the_dns_name() {
    // "localhost": verified against the certificate's DNS name, not its IP address.
    postfix_delivers("localhost", 2587, TlsMode::StartTls, Auth::Login, "LOGIN", "carol");
}

#[test]
fn postfix_2465_implicit_tls_delivers() {
    postfix_delivers("127.0.0.1", 2465, TlsMode::Implicit, Auth::Plain, "PLAIN", "dave");
}

#[test]
fn postfix_2587_kept_connection_and_a_large_body() {
    // Several mails over one STARTTLS session, one of them 1 MiB (many TLS records).
    let _turn = postfix_turn();
    let tag = token("tls-kept");
    let mut big = Vec::new();
    let mut i = 0;
    while big.len() < 1024 * 1024 {
        big.extend_from_slice(format!("{}line {i} of {tag}\n", if i % 9 == 0 { "." } else { "" }).as_bytes());
        i += 1;
    }
    let offset = log_size();
    let mut client: Client<'_, _, _, 512, 16384> =
        Client::new(postfix_config("127.0.0.1", 2587, TlsMode::StartTls, Auth::Plain), test_ca(), StdClock::new()).unwrap();
    let mut conn = client.connect().unwrap();
    let subjects = [format!("{tag} small"), format!("{tag} large")];
    conn.send(&Mail::new(&subjects[0], b"small\n").to(&["alice@example.test"])).unwrap();
    conn.send(&Mail::new(&subjects[1], &big).to(&["alice@example.test"])).unwrap();
    conn.close();
    let large = delivered_one("alice", &subjects[1]);
    let body = &large[large.find("\n\n").unwrap() + 2..];
    assert!(body.as_bytes() == big.as_slice(), "the large body arrived intact");
    delivered_one("alice", &subjects[0]);
    let line = session_line(offset);
    assert!(line.contains("ehlo=2 starttls=1 auth=1 mail=2 rcpt=2 data=2 quit=1"), "{line}");
}

#[test]
fn aiosmtpd_2665_implicit_tls_delivers() {
    let out = PathBuf::from(env("ZSMTP_AIOSMTPD_OUT"));
    let tag = token("tls-aiosmtpd");
    let mut client: Client<'_, _, _> =
        Client::new(postfix_config("127.0.0.1", 2665, TlsMode::Implicit, Auth::Login), test_ca(), StdClock::new()).unwrap();
    let to = ["someone@aio.test"];
    let sent = client.send(&Mail::new(&tag, b"to aiosmtpd over implicit TLS\n").to(&to)).unwrap();
    // The server stores the message before its 250: the queue number is in the reply.
    let seq = sent.reply.text().rsplit(' ').next().unwrap().to_string();
    let eml = std::fs::read(out.join(format!("{seq}.eml"))).unwrap();
    assert!(contains(&eml, tag.as_bytes()));
    let meta = String::from_utf8(std::fs::read(out.join(format!("{seq}.json"))).unwrap()).unwrap();
    assert!(meta.contains("\"tls\": true"), "{meta}");
    assert!(meta.contains("\"auth_login\": \"alice\""), "{meta}");
    assert!(meta.contains("\"rcpt_tos\": [\"someone@aio.test\"]"), "{meta}");
}

/// A failed TLS session at Postfix: the status, and Postfix's own count of the commands it
/// received, which must hold no AUTH.
fn postfix_refuses(port: u16, mode: TlsMode, transport: StdTransport, status: u32) -> String {
    let _turn = postfix_turn();
    let offset = log_size();
    let mut client: Client<'_, _, _> = Client::new(postfix_config("127.0.0.1", port, mode, Auth::Plain), transport, StdClock::new()).unwrap();
    expect_status(client.send(&Mail::new("never", b"never\n").to(TO)), status);
    let line = session_line(offset);
    assert!(!line.contains("auth="), "Postfix received no AUTH: {line}");
    line
}

#[test]
fn postfix_2587_with_an_unknown_ca_gets_no_credentials() {
    let other = Ca::new("not the test CA");
    let line = postfix_refuses(2587, TlsMode::StartTls, other.transport(), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert!(line.contains("ehlo=1 starttls=0/1 "), "{line}");
    assert!(line.contains("alert unknown ca"), "{line}");
}

#[test]
fn postfix_2587_with_the_system_roots_is_untrusted() {
    let line = postfix_refuses(2587, TlsMode::StartTls, StdTransport::new(), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert!(line.contains("starttls=0/1") && line.contains("alert unknown ca"), "{line}");
}

#[test]
fn postfix_2465_with_an_unknown_ca_gets_nothing() {
    let other = Ca::new("not the test CA");
    let session = postfix_refuses(2465, TlsMode::Implicit, other.transport(), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert!(session.contains("commands=0/0"), "{session}");
    // Postfix got the client's alert: the client refused the certificate.
    assert!(session.contains("alert unknown ca"), "{session}");
}

#[test]
fn postfix_2587_without_tls() {
    // Port 2587 requires STARTTLS and offers AUTH only after it.
    // The library's default: credentials are never sent in clear (0xC8), whatever is offered.
    let line = postfix_refuses(2587, TlsMode::None, test_ca(), NX_SMTP_PLAINTEXT_AUTH_REFUSED);
    assert!(line.contains("ehlo=1 quit=1 commands=2"), "{line}");
    // Cleartext AUTH allowed (the CLI's --tls none): Postfix offers no AUTH before TLS (0xA0).
    let _turn = postfix_turn();
    let offset = log_size();
    let cfg = postfix_config("127.0.0.1", 2587, TlsMode::None, Auth::Plain).allow_plaintext_auth(true);
    let mut client: Client<'_, _, _> = Client::new(cfg, test_ca(), StdClock::new()).unwrap();
    let e = expect_status(client.send(&Mail::new("never", b"never\n").to(TO)), NX_SMTP_AUTHENTICATION_ERROR);
    assert_eq!(e.kind, ErrorKind::AuthNotOffered);
    let line = session_line(offset);
    assert!(line.contains("ehlo=1 quit=1 commands=2"), "{line}");
    // Without credentials: Postfix refuses the mail until STARTTLS (530 5.7.0 at MAIL).
    let offset = log_size();
    let cfg = postfix_config("127.0.0.1", 2587, TlsMode::None, Auth::None).auth(Auth::None, "", "");
    let mut client: Client<'_, _, _> = Client::new(cfg, test_ca(), StdClock::new()).unwrap();
    let e = expect_status(client.send(&Mail::new("never", b"never\n").to(TO)), NX_SMTP_MAIL_REPLY_ERROR);
    let reply = e.reply.expect("the server's reply");
    assert_eq!(reply.code, 530, "{reply}");
    assert!(reply.text().contains("STARTTLS"), "{reply}");
    let line = session_line(offset);
    assert!(line.contains("ehlo=1 mail=0/1"), "{line}");
}
