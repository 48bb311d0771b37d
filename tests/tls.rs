//! TLS through the host transport (rustls) and, with the `zsock` feature, the Zephyr
//! transport's mbedTLS client: STARTTLS and implicit TLS, certificate and name verification,
//! and that no credential ever leaves before the server is verified.
//!
//! Hermetic: against the scripted TLS server of tests/support/tls_server.rs in a thread
//! (certificates made here, tests/support/pki.rs), for what a real server cannot be made to
//! do: expired or misnamed certificates, a server that hides STARTTLS, injects bytes after
//! "220", closes or stalls in the handshake. The same against the real Postfix and aiosmtpd:
//! tests/live_tls.rs.
//!
//! Every wait is bounded: the client by its timeouts, the scripted server by its own.

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use rcgen::KeyPair;
use rustls::{ServerConnection, StreamOwned, SupportedProtocolVersion};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};
use support::pki::{good_server, server_config, Ca, Validity, BOTH};
use support::tls_server::{accept, wait_for_close, Handshake, Plan, TlsServer};
use support::Seen;
use zsmtp::error::status::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Error, ErrorKind, Mail, Phase, Sent, Timeouts, TlsError, TlsMode, Transport};

const USER: &str = "alice";
const PASS: &str = "secret123";
const FROM: &str = "alice@example.test";
const DOMAIN: &str = "device.example.test";

/// Every form in which the test password could travel: AUTH PLAIN's and AUTH LOGIN's base64.
fn secret_forms() -> Vec<Vec<u8>> {
    let b64 = |s: &[u8]| support::b64(s).into_bytes();
    vec![PASS.as_bytes().to_vec(), b64(PASS.as_bytes()), b64(format!("\0{USER}\0{PASS}").as_bytes())]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_no_credentials(bytes: &[u8]) {
    for s in secret_forms() {
        assert!(!contains(bytes, &s), "a form of the password was sent");
    }
    assert!(!contains(bytes, b"AUTH"), "AUTH was sent: {:?}", String::from_utf8_lossy(bytes));
}

// ---- the client ----

fn timeouts(reply_ms: u32) -> Timeouts {
    Timeouts { connect_ms: 3000, greeting_ms: reply_ms, reply_ms, send_ms: 3000, final_reply_ms: reply_ms, total_ms: 20_000 }
}

fn config(server: &'static str, port: u16, mode: TlsMode, auth: Auth) -> Config<'static> {
    Config::new(server, port, DOMAIN, FROM).auth(auth, USER, PASS).tls(mode).timeouts(timeouts(3000))
}

const TO: &[&str] = &["bob@example.test"];
const BODY: &[u8] = b"Over TLS.\r\n.A line that starts with a dot\r\n";

fn send(config: Config<'static>, transport: StdTransport) -> Result<Sent, Error> {
    let mut client: Client<'_, _, _> = Client::new(config, transport, StdClock::new())?;
    client.send(&Mail::new("TLS test", BODY).to(TO))
}

fn expect_status(result: Result<Sent, Error>, status: u32) -> Error {
    let e = result.expect_err("the send should fail");
    assert_eq!(e.status(), status, "{e} / {e:?}");
    e
}

/// The client failed in the handshake: the server saw EHLO and STARTTLS in clear, decrypted
/// nothing, and no credential was sent in any form.
fn assert_stopped_at_handshake(seen: &Seen) {
    seen.assert_ok();
    assert_eq!(seen.clear_lines(), [format!("EHLO {DOMAIN}"), "STARTTLS".to_string()]);
    assert!(seen.received.is_empty(), "decrypted: {:?}", String::from_utf8_lossy(&seen.received));
    assert_no_credentials(&seen.clear);
    assert_no_credentials(&seen.hello);
}

// ---- success over scripted TLS ----

fn starttls_delivers(auth: Auth, versions: &[&'static SupportedProtocolVersion], expected_version: &str) {
    let ca = Ca::new("scripted CA");
    let leaf = ca.issue(&["localhost", "127.0.0.1"], Validity::Current);
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(leaf, versions))));
    let sent = send(config("127.0.0.1", server.port, TlsMode::StartTls, auth), ca.transport()).unwrap();
    assert_eq!(sent.reply.code, 250);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.version.as_deref(), Some(expected_version));
    // In clear: EHLO and STARTTLS only, although AUTH was offered there.
    assert_eq!(seen.clear_lines(), [format!("EHLO {DOMAIN}"), "STARTTLS".to_string()]);
    assert_no_credentials(&seen.clear);
    // Over TLS: EHLO again (capabilities learnt in clear are forgotten), then AUTH.
    let commands = seen.commands();
    assert_eq!(commands[0], format!("EHLO {DOMAIN}"), "{commands:?}");
    let auth_line = if auth == Auth::Plain { "AUTH PLAIN" } else { "AUTH LOGIN" };
    assert!(commands[1].starts_with(auth_line), "{commands:?}");
    assert!(commands.iter().any(|c| c.starts_with("MAIL FROM:<alice@example.test>")), "{commands:?}");
    assert_eq!(commands.last().map(String::as_str), Some("QUIT"));
    let message = seen.message.expect("message content");
    assert!(contains(&message, b"\r\n..A line that starts with a dot"), "dot-stuffed over TLS");
    assert!(seen.clean_close, "the client ends TLS with close_notify");
}

#[test]
fn starttls_then_auth_plain_over_tls13() {
    starttls_delivers(Auth::Plain, &[&rustls::version::TLS13], "TLSv1.3");
}

#[test]
fn starttls_then_auth_login_over_tls12() {
    starttls_delivers(Auth::Login, &[&rustls::version::TLS12], "TLSv1.2");
}

#[test]
fn implicit_tls_sends_nothing_in_clear() {
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::implicit(Handshake::Serve(good_server(&ca))));
    send(config("127.0.0.1", server.port, TlsMode::Implicit, Auth::Plain), ca.transport()).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    assert!(seen.clear.is_empty());
    assert_eq!(seen.version.as_deref(), Some("TLSv1.3"));
    let commands = seen.commands();
    assert_eq!(commands[0], format!("EHLO {DOMAIN}"));
    assert!(commands[1].starts_with("AUTH PLAIN "), "{commands:?}");
    assert!(seen.clean_close);
}

#[test]
fn starttls_to_an_ipv6_literal_verifies_the_ip_address() {
    let ca = Ca::new("scripted CA");
    let leaf = ca.issue(&["::1"], Validity::Current);
    let server = TlsServer::start_on("[::1]:0", Plan::starttls(Handshake::Serve(server_config(leaf, BOTH))));
    send(config("[::1]", server.port, TlsMode::StartTls, Auth::Plain), ca.transport()).unwrap();
    server.finish().assert_ok();
}

#[test]
fn a_ca_file_with_several_cas_trusts_each() {
    let (first, second) = (Ca::new("first CA"), Ca::new("second CA"));
    let pem = format!("{}\n{}", first.pem, second.pem);
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(good_server(&second))));
    let dir = std::env::temp_dir().join(format!("zsmtp-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("two-cas.pem");
    std::fs::write(&path, pem).unwrap();
    let transport = StdTransport::with_ca_file(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), transport).unwrap();
    server.finish().assert_ok();
}

// ---- verification failures: a clear status, no credentials ----

#[test]
fn unknown_ca_is_untrusted_certificate() {
    let (ours, theirs) = (Ca::new("our CA"), Ca::new("somebody else's CA"));
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(good_server(&theirs))));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), ours.transport()), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert_eq!((e.kind, e.phase), (ErrorKind::Tls(TlsError::UntrustedCertificate), Phase::Tls));
    let seen = server.finish();
    assert_stopped_at_handshake(&seen);
    assert!(seen.tls_error.is_some(), "the server saw the handshake fail");
}

#[test]
fn system_roots_do_not_trust_a_private_ca() {
    // StdTransport::new(): the system's CA store, which knows nothing of this CA (and a
    // machine without any system CA fails with NoTrustAnchors, the same status).
    let ca = Ca::new("private CA");
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(good_server(&ca))));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), StdTransport::new()), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert!(matches!(e.kind, ErrorKind::Tls(TlsError::UntrustedCertificate | TlsError::NoTrustAnchors)), "{e:?}");
    assert_stopped_at_handshake(&server.finish());
}

#[test]
fn certificate_for_another_name_is_name_mismatch() {
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(ca.issue(&["mail.example"], Validity::Current), BOTH))));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), ca.transport()), NX_SMTP_TLS_NAME_MISMATCH);
    assert_eq!(e.kind, ErrorKind::Tls(TlsError::NameMismatch));
    assert_stopped_at_handshake(&server.finish());
}

#[test]
fn an_ip_literal_is_not_matched_against_dns_names() {
    // The certificate names "localhost" only; the client asked for 127.0.0.1.
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(ca.issue(&["localhost"], Validity::Current), BOTH))));
    expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), ca.transport()), NX_SMTP_TLS_NAME_MISMATCH);
    assert_stopped_at_handshake(&server.finish());
}

#[test]
fn a_dns_name_is_verified_against_the_certificate() {
    // The client asks for "localhost"; a certificate that names only the IP does not do.
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::implicit(Handshake::Serve(server_config(ca.issue(&["127.0.0.1"], Validity::Current), BOTH))));
    let e = expect_status(send(config("localhost", server.port, TlsMode::Implicit, Auth::Plain), ca.transport()), NX_SMTP_TLS_NAME_MISMATCH);
    assert_eq!(e.phase, Phase::Tls);
    let seen = server.finish();
    assert!(seen.clear.is_empty() && seen.received.is_empty());
}

#[test]
fn expired_certificate_is_expired() {
    let ca = Ca::new("scripted CA");
    let leaf = ca.issue(&["localhost", "127.0.0.1"], Validity::Expired);
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(leaf, BOTH))));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Login), ca.transport()), NX_SMTP_TLS_CERTIFICATE_EXPIRED);
    assert_eq!(e.kind, ErrorKind::Tls(TlsError::Expired));
    assert_stopped_at_handshake(&server.finish());
}

#[test]
fn not_yet_valid_certificate_is_expired_too() {
    let ca = Ca::new("scripted CA");
    let leaf = ca.issue(&["127.0.0.1"], Validity::NotYetValid);
    let server = TlsServer::start(Plan::implicit(Handshake::Serve(server_config(leaf, BOTH))));
    expect_status(send(config("127.0.0.1", server.port, TlsMode::Implicit, Auth::Plain), ca.transport()), NX_SMTP_TLS_CERTIFICATE_EXPIRED);
    let seen = server.finish();
    assert!(seen.clear.is_empty() && seen.received.is_empty());
}

#[test]
fn implicit_tls_with_an_unknown_ca_sends_nothing() {
    let (ours, theirs) = (Ca::new("our CA"), Ca::new("their CA"));
    let server = TlsServer::start(Plan::implicit(Handshake::Serve(good_server(&theirs))));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::Implicit, Auth::Plain), ours.transport()), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert_eq!(e.phase, Phase::Tls);
    let seen = server.finish();
    assert!(seen.clear.is_empty() && seen.received.is_empty());
    assert!(seen.tls_error.is_some());
}

// ---- hostile or broken servers ----

#[test]
fn a_server_that_hides_starttls_gets_no_credentials() {
    // A downgrade: the EHLO reply lacks STARTTLS (and offers AUTH in clear).
    let ca = Ca::new("scripted CA");
    let plan = Plan { offer_starttls: false, ..Plan::starttls(Handshake::Serve(good_server(&ca))) };
    let server = TlsServer::start(plan);
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), ca.transport()), NX_SMTP_STARTTLS_UNAVAILABLE);
    assert_eq!((e.kind, e.phase), (ErrorKind::StartTlsNotOffered, Phase::Tls));
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.clear_lines(), [format!("EHLO {DOMAIN}"), "QUIT".to_string()]);
    assert_no_credentials(&seen.clear);
}

#[test]
fn bytes_after_the_220_to_starttls_end_the_session() {
    // They arrive with the 220: an injection (CVE-2021-22947 class). Nothing more is sent,
    // not even a ClientHello.
    let ca = Ca::new("scripted CA");
    let plan = Plan { inject: b"250-injected\r\n250 AUTH PLAIN\r\n", ..Plan::starttls(Handshake::Stall) };
    let server = TlsServer::start(plan);
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), ca.transport()), NX_SMTP_TLS_UNEXPECTED_DATA);
    assert_eq!((e.kind, e.phase), (ErrorKind::TlsUnexpectedData, Phase::Tls));
    let seen = server.finish();
    assert_stopped_at_handshake(&seen);
    assert!(seen.hello.is_empty(), "no handshake was started: {:?}", seen.hello);
}

#[test]
fn bytes_injected_during_the_handshake_are_never_read_as_smtp() {
    // The injection arrives after the client began its handshake: it is not TLS, so the
    // handshake fails; it is never taken for a server reply.
    let ca = Ca::new("scripted CA");
    let plan = Plan { inject_late: b"250-injected\r\n250 AUTH PLAIN\r\n", ..Plan::starttls(Handshake::Serve(good_server(&ca))) };
    let server = TlsServer::start(plan);
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), ca.transport()), NX_SMTP_TLS_HANDSHAKE_FAILED);
    assert_eq!(e.kind, ErrorKind::Tls(TlsError::Handshake));
    assert_stopped_at_handshake(&server.finish());
}

#[test]
fn a_server_that_closes_during_the_handshake() {
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::starttls(Handshake::CloseAfterHello));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), ca.transport()), NX_SMTP_TLS_HANDSHAKE_FAILED);
    assert_eq!((e.kind, e.phase), (ErrorKind::Tls(TlsError::Handshake), Phase::Tls));
    let seen = server.finish();
    assert_stopped_at_handshake(&seen);
    assert_eq!(seen.hello.first(), Some(&0x16), "the client's first bytes are a TLS handshake record");
}

#[test]
fn a_server_that_answers_the_hello_with_garbage() {
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::implicit(Handshake::GarbageAfterHello));
    expect_status(send(config("127.0.0.1", server.port, TlsMode::Implicit, Auth::Plain), ca.transport()), NX_SMTP_TLS_HANDSHAKE_FAILED);
    let seen = server.finish();
    assert!(seen.clear.is_empty() && seen.received.is_empty());
    assert_no_credentials(&seen.hello);
}

#[test]
fn a_server_that_stalls_in_the_handshake_times_out() {
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::starttls(Handshake::Stall));
    let mut cfg = config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain);
    cfg.timeouts = timeouts(1500);
    let start = Instant::now();
    let e = expect_status(send(cfg, ca.transport()), NX_NO_PACKET);
    let took = start.elapsed();
    assert_eq!((e.kind, e.phase), (ErrorKind::Tls(TlsError::Timeout), Phase::Tls));
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_millis(3500), "bounded by the reply timeout: {took:?}");
    assert_stopped_at_handshake(&server.finish());
}

#[test]
fn implicit_tls_handshake_is_bounded_by_the_connect_timeout() {
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::implicit(Handshake::Stall));
    let mut cfg = config("127.0.0.1", server.port, TlsMode::Implicit, Auth::Plain);
    cfg.timeouts.connect_ms = 1000;
    let start = Instant::now();
    let e = expect_status(send(cfg, ca.transport()), NX_NO_PACKET);
    assert_eq!(e.kind, ErrorKind::Tls(TlsError::Timeout));
    assert!(start.elapsed() < Duration::from_millis(2500), "{:?}", start.elapsed());
    server.finish();
}

// ---- the transport's own API ----

#[test]
fn ca_pem_without_a_usable_certificate_is_refused() {
    let ca = Ca::new("a CA");
    let key_only = KeyPair::generate().unwrap().serialize_pem();
    let broken = "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    for (what, pem) in [("empty", ""), ("not PEM", "hello\n"), ("a key only", key_only.as_str()), ("not a certificate", broken)] {
        let e = StdTransport::with_ca_pem(pem.as_bytes()).expect_err(what);
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{what}: {e}");
    }
    assert!(StdTransport::with_ca_pem(ca.pem.as_bytes()).is_ok());
    let missing = StdTransport::with_ca_file("/nonexistent/zsmtp/ca.pem").expect_err("a missing file");
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn transport_reports_tls_state_and_closes_with_close_notify() {
    let ca = Ca::new("scripted CA");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = good_server(&ca);
    let server = std::thread::spawn(move || {
        let mut tcp = accept(&listener).expect("a client");
        let mut conn = ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp).unwrap();
        }
        let mut tls = StreamOwned::new(conn, tcp);
        tls.write_all(b"hello over TLS\r\n").unwrap();
        let mut got = Vec::new();
        // Ok only when the stream ends with close_notify.
        let clean = tls.read_to_end(&mut got).is_ok();
        (got, clean)
    });
    let mut t = ca.transport();
    assert_eq!(t.start_tls("127.0.0.1", 1000), Err(TlsError::Handshake), "not connected: nothing to start");
    Transport::connect(&mut t, "127.0.0.1", port, 3000).unwrap();
    assert!(!t.is_encrypted() && t.tls_version().is_none());
    t.start_tls("127.0.0.1", 3000).unwrap();
    assert!(t.is_encrypted());
    assert_eq!(t.tls_version(), Some("TLSv1.3"));
    assert_eq!(t.start_tls("127.0.0.1", 1000), Err(TlsError::Handshake), "TLS already");
    t.set_timeout(3000);
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        let n = embedded_io::Read::read(&mut t, &mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"hello over TLS\r\n");
    embedded_io::Write::write_all(&mut t, b"bye\r\n").unwrap();
    t.close();
    t.close();
    assert!(!t.is_encrypted());
    let (received, clean) = server.join().unwrap();
    assert_eq!(received, b"bye\r\n");
    assert!(clean, "close() sends close_notify");
}

#[test]
fn a_trickled_record_cannot_hold_a_read_past_its_timeout() {
    // The server sends one TLS record a byte at a time: each byte resets a socket timeout,
    // but the read still returns within the timeout the engine set, and the record is
    // decrypted whole once it has all arrived.
    let ca = Ca::new("scripted CA");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = good_server(&ca);
    let server = std::thread::spawn(move || {
        let mut tcp = accept(&listener).expect("a client");
        let mut conn = ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp).unwrap();
        }
        while conn.wants_write() {
            conn.write_tls(&mut tcp).unwrap();
        }
        conn.writer().write_all(b"250 trickled\r\n").unwrap();
        let mut record = Vec::new();
        while conn.wants_write() {
            conn.write_tls(&mut record).unwrap();
        }
        for b in record {
            if tcp.write_all(&[b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(40));
        }
        wait_for_close(&mut tcp);
    });
    let mut t = ca.transport();
    Transport::connect(&mut t, "127.0.0.1", port, 3000).unwrap();
    t.start_tls("127.0.0.1", 3000).unwrap();
    let mut buf = [0u8; 64];
    t.set_timeout(300);
    let start = Instant::now();
    let first = embedded_io::Read::read(&mut t, &mut buf);
    let took = start.elapsed();
    assert_eq!(first.map_err(|e| embedded_io::Error::kind(&e)), Err(embedded_io::ErrorKind::TimedOut));
    assert!(took < Duration::from_millis(700), "the read returned after {took:?}, not within its 300 ms");
    t.set_timeout(10_000);
    let n = embedded_io::Read::read(&mut t, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"250 trickled\r\n");
    t.close();
    server.join().unwrap();
}

// ---- the same scripted server against the Zephyr transport's mbedTLS client ----
//
// With the `zsock` feature the shim's POSIX twin runs the mbedTLS client code of the Zephyr
// shim (shim/common/smtp_shim_tls_mbedtls.c) against the host build of mbedTLS (3.6, built by
// scripts/mbedtls-host with MBEDTLS_HAVE_TIME_DATE, so certificate dates are checked against the
// host's clock).
//
// The certificate-date policy reads two environment knobs of the POSIX twin
// (ZSMTP_SHIM_CLOCK_UNSET, ZSMTP_TLS_REQUIRE_CLOCK: the device's unset clock and
// CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK). They are process-wide, so every test of this module
// holds ENV while it runs; no other test of this file calls the shim.

#[cfg(feature = "zsock")]
mod mbedtls {
    use super::*;
    use std::sync::{Arc, Mutex, MutexGuard};
    use support::pki::Leaf;
    use zsmtp::transport::shim::{ShimClock, ShimTransport};

    static ENV: Mutex<()> = Mutex::new(());

    /// The shim's environment for one test: the clock set or not, dates required or not.
    struct Knobs(#[allow(dead_code)] MutexGuard<'static, ()>);

    impl Knobs {
        fn set(clock_unset: bool, require_clock: bool) -> Knobs {
            let guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
            for (name, on) in [("ZSMTP_SHIM_CLOCK_UNSET", clock_unset), ("ZSMTP_TLS_REQUIRE_CLOCK", require_clock)] {
                if on {
                    std::env::set_var(name, "1");
                } else {
                    std::env::remove_var(name);
                }
            }
            Knobs(guard)
        }
    }

    impl Drop for Knobs {
        fn drop(&mut self) {
            std::env::remove_var("ZSMTP_SHIM_CLOCK_UNSET");
            std::env::remove_var("ZSMTP_TLS_REQUIRE_CLOCK");
        }
    }

    fn send_over_mbedtls(config: Config<'static>, ca: &Ca) -> Result<Sent, Error> {
        let transport = ShimTransport::new().with_ca_file(ca.pem_file());
        let mut client: Client<'_, _, _> = Client::new(config, transport, ShimClock::new())?;
        client.send(&Mail::new("TLS test", BODY).to(TO))
    }

    /// Delivers over STARTTLS with `leaf` (the scripted server's certificate).
    fn delivers_with(ca: &Ca, leaf: Leaf) -> Seen {
        let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(leaf, BOTH))));
        let sent = send_over_mbedtls(config("localhost", server.port, TlsMode::StartTls, Auth::Plain), ca).expect("delivered");
        assert_eq!(sent.reply.code, 250);
        let seen = server.finish();
        seen.assert_ok();
        assert!(seen.commands().iter().any(|c| c.starts_with("AUTH PLAIN")));
        assert!(seen.message.is_some());
        seen
    }

    /// A STARTTLS send to a server with `leaf` fails with `status` in the handshake, having sent
    /// nothing but EHLO and STARTTLS in clear.
    fn refused_with(ca: &Ca, leaf: Leaf, status: u32) -> Error {
        let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(leaf, BOTH))));
        let e = expect_status(send_over_mbedtls(config("localhost", server.port, TlsMode::StartTls, Auth::Login), ca), status);
        assert_eq!(e.phase, Phase::Tls);
        assert_stopped_at_handshake(&server.finish());
        e
    }

    /// The control: with a current certificate the same setup delivers, over TLS 1.3 (what
    /// mbedTLS 3.6 and 4.x negotiate with a server that offers it), so the failures below come
    /// from the certificates alone.
    #[test]
    fn current_certificate_delivers_over_mbedtls() {
        let _knobs = Knobs::set(false, false);
        let ca = Ca::new("scripted CA");
        let seen = delivers_with(&ca, ca.issue(&["localhost", "127.0.0.1"], Validity::Current));
        assert_eq!(seen.version.as_deref(), Some("TLSv1.3"));
    }

    /// TLS 1.2 too (a server without 1.3).
    #[test]
    fn tls12_server_delivers_over_mbedtls() {
        let _knobs = Knobs::set(false, false);
        let ca = Ca::new("scripted CA");
        let leaf = ca.issue(&["localhost", "127.0.0.1"], Validity::Current);
        let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(leaf, &[&rustls::version::TLS12]))));
        let sent = send_over_mbedtls(config("localhost", server.port, TlsMode::StartTls, Auth::Login), &ca).expect("delivered");
        assert_eq!(sent.reply.code, 250);
        let seen = server.finish();
        seen.assert_ok();
        assert_eq!(seen.version.as_deref(), Some("TLSv1.2"));
    }

    #[test]
    fn expired_certificate_is_expired_over_mbedtls() {
        let _knobs = Knobs::set(false, false);
        let ca = Ca::new("scripted CA");
        let e = refused_with(&ca, ca.issue(&["localhost", "127.0.0.1"], Validity::Expired), NX_SMTP_TLS_CERTIFICATE_EXPIRED);
        assert_eq!(e.kind, ErrorKind::Tls(TlsError::Expired));
    }

    #[test]
    fn not_yet_valid_certificate_is_expired_too_over_mbedtls() {
        let _knobs = Knobs::set(false, false);
        let ca = Ca::new("scripted CA");
        let leaf = ca.issue(&["localhost", "127.0.0.1"], Validity::NotYetValid);
        let server = TlsServer::start(Plan::implicit(Handshake::Serve(server_config(leaf, BOTH))));
        let e = expect_status(
            send_over_mbedtls(config("localhost", server.port, TlsMode::Implicit, Auth::Plain), &ca),
            NX_SMTP_TLS_CERTIFICATE_EXPIRED,
        );
        assert_eq!(e.kind, ErrorKind::Tls(TlsError::Expired));
        let seen = server.finish();
        assert!(seen.clear.is_empty() && seen.received.is_empty(), "nothing but the handshake");
    }

    /// A device whose clock was never set (no SNTP or RTC yet): every certificate would look
    /// not yet valid, so the dates are not held against the server. Expired and future
    /// certificates then deliver; the chain and the name are still checked.
    #[test]
    fn an_unset_clock_waives_the_dates_only() {
        let _knobs = Knobs::set(true, false);
        let ca = Ca::new("scripted CA");
        delivers_with(&ca, ca.issue(&["localhost", "127.0.0.1"], Validity::Expired));
        delivers_with(&ca, ca.issue(&["localhost", "127.0.0.1"], Validity::NotYetValid));

        let e = refused_with(&ca, ca.issue(&["mail.example.test"], Validity::Expired), NX_SMTP_TLS_NAME_MISMATCH);
        assert_eq!(e.kind, ErrorKind::Tls(TlsError::NameMismatch));

        let stranger = Ca::new("another CA");
        let e = refused_with(&ca, stranger.issue(&["localhost"], Validity::Expired), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
        assert_eq!(e.kind, ErrorKind::Tls(TlsError::UntrustedCertificate));
    }

    /// CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK with an unset clock: NX_SMTP_TLS_CLOCK_NOT_SET,
    /// and not a byte of TLS goes out (STARTTLS: only EHLO and STARTTLS in clear; implicit TLS:
    /// nothing at all), even with a current certificate.
    #[test]
    fn a_required_clock_that_is_not_set_refuses_before_the_handshake() {
        let _knobs = Knobs::set(true, true);
        let ca = Ca::new("scripted CA");
        let server = TlsServer::start(Plan::starttls(Handshake::CloseAfterHello));
        let e = expect_status(
            send_over_mbedtls(config("localhost", server.port, TlsMode::StartTls, Auth::Plain), &ca),
            NX_SMTP_TLS_CLOCK_NOT_SET,
        );
        assert_eq!((e.kind, e.phase), (ErrorKind::Tls(TlsError::ClockNotSet), Phase::Tls));
        let seen = server.finish();
        assert_stopped_at_handshake(&seen);
        assert!(seen.hello.is_empty(), "a ClientHello was sent: {:?}", seen.hello);

        let server = TlsServer::start(Plan::implicit(Handshake::CloseAfterHello));
        let e = expect_status(
            send_over_mbedtls(config("localhost", server.port, TlsMode::Implicit, Auth::Plain), &ca),
            NX_SMTP_TLS_CLOCK_NOT_SET,
        );
        assert_eq!(e.kind, ErrorKind::Tls(TlsError::ClockNotSet));
        let seen = server.finish();
        assert!(seen.connected && seen.hello.is_empty(), "a ClientHello was sent: {:?}", seen.hello);
    }

    /// Several clients in several threads run TLS at once: each delivers over its own
    /// connection. mbedTLS's shared state (the PSA random generator, its key store) is guarded
    /// by MBEDTLS_THREADING_C or, in an mbedTLS built without it, by the shim's own lock.
    #[test]
    fn clients_in_parallel_threads_all_deliver_over_mbedtls() {
        let _knobs = Knobs::set(false, false);
        let ca = Arc::new(Ca::new("scripted CA"));
        let workers: Vec<_> = (0..6)
            .map(|i| {
                let ca = Arc::clone(&ca);
                std::thread::spawn(move || {
                    let leaf = ca.issue(&["localhost", "127.0.0.1"], Validity::Current);
                    let plan = if i % 2 == 0 { Plan::starttls(Handshake::Serve(server_config(leaf, BOTH))) } else { Plan::implicit(Handshake::Serve(server_config(leaf, BOTH))) };
                    let mode = if i % 2 == 0 { TlsMode::StartTls } else { TlsMode::Implicit };
                    let server = TlsServer::start(plan);
                    let sent = send_over_mbedtls(config("localhost", server.port, mode, Auth::Plain), &ca);
                    (sent.map(|s| s.reply.code), server.finish())
                })
            })
            .collect();
        for worker in workers {
            let (sent, seen) = worker.join().expect("client thread");
            assert_eq!(sent.expect("delivered"), 250);
            seen.assert_ok();
            assert!(seen.message.is_some());
        }
    }

    /// The same requirement with a set clock changes nothing: current certificates deliver,
    /// expired ones are expired.
    #[test]
    fn a_required_clock_that_is_set_checks_the_dates() {
        let _knobs = Knobs::set(false, true);
        let ca = Ca::new("scripted CA");
        delivers_with(&ca, ca.issue(&["localhost", "127.0.0.1"], Validity::Current));
        refused_with(&ca, ca.issue(&["localhost"], Validity::Expired), NX_SMTP_TLS_CERTIFICATE_EXPIRED);
    }
}

/// A transport that trusts nothing (the C API's answer to a CA file that cannot be loaded)
/// fails at the handshake and sends nothing more, even to a server the system would trust.
#[test]
fn trusting_nothing_fails_closed() {
    let ca = Ca::new("scripted CA");
    let server = TlsServer::start(Plan::starttls(Handshake::Serve(good_server(&ca))));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::StartTls, Auth::Plain), StdTransport::trusting_nothing()), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert_eq!((e.kind, e.phase), (ErrorKind::Tls(TlsError::NoTrustAnchors), Phase::Tls));
    assert_stopped_at_handshake(&server.finish());
}
