//! TLS through the host transport (rustls): STARTTLS and implicit TLS, certificate and name
//! verification, and that no credential ever leaves before the server is verified.
//!
//! Two kinds of test:
//! - against a scripted TLS server in a thread (rustls on the server side, certificates made
//!   here with rcgen), for what a real server cannot be made to do: expired or misnamed
//!   certificates, a server that hides STARTTLS, injects bytes after "220", closes or stalls
//!   in the handshake. The server records what it received in clear and what it decrypted.
//! - `#[ignore]`d, against the real servers that scripts/test starts: Postfix 127.0.0.1:2587
//!   (STARTTLS required, AUTH only after TLS), 2465 (implicit TLS), aiosmtpd 2665 (implicit),
//!   certificates from scripts/servers/gen-certs.sh. They read ZSMTP_MAILDIR, ZSMTP_CA and
//!   ZSMTP_AIOSMTPD_OUT. Run with `cargo test --test tls -- --ignored` while the servers are up.
//!
//! Every wait is bounded: the client by its timeouts, the scripted server by its own.

#![allow(clippy::result_large_err)] // Tests pass the public error around.

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned, SupportedProtocolVersion};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use zsmtp::error::status::*;
use zsmtp::transport::std::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Error, ErrorKind, Mail, Phase, Sent, Timeouts, TlsError, TlsMode, Transport};

const USER: &str = "alice";
const PASS: &str = "secret123";
const FROM: &str = "alice@example.test";
const DOMAIN: &str = "device.example.test";

/// Every form in which the test password could travel: AUTH PLAIN's and AUTH LOGIN's base64.
fn secret_forms() -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s).into_bytes();
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

// ---- certificates ----

/// A test CA made with rcgen.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

/// A server certificate chain (the leaf) and its key.
struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

enum Validity {
    Current,
    Expired,
    NotYetValid,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { params, key, pem }
    }

    /// A leaf for `names` (DNS names or IP literals) signed by this CA.
    fn issue(&self, names: &[&str], validity: Validity) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        match validity {
            Validity::Current => {}
            Validity::Expired => {
                params.not_before = rcgen::date_time_ymd(2000, 1, 1);
                params.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }
            Validity::NotYetValid => {
                params.not_before = rcgen::date_time_ymd(2200, 1, 1);
                params.not_after = rcgen::date_time_ymd(2201, 1, 1);
            }
        }
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Leaf { chain: vec![cert.der().clone()], key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())) }
    }

    /// A client transport that trusts exactly this CA.
    fn transport(&self) -> StdTransport {
        StdTransport::with_ca_pem(self.pem.as_bytes()).unwrap()
    }
}

fn server_config(leaf: Leaf, versions: &[&'static SupportedProtocolVersion]) -> Arc<ServerConfig> {
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)
        .unwrap();
    Arc::new(config)
}

const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A server config for 127.0.0.1, ::1 and localhost, signed by `ca`.
fn good_server(ca: &Ca) -> Arc<ServerConfig> {
    server_config(ca.issue(&["localhost", "127.0.0.1", "::1"], Validity::Current), BOTH)
}

// ---- the scripted TLS server ----

/// What the scripted server does when the client starts its TLS handshake.
enum Handshake {
    /// Complete it with this configuration and serve SMTP over TLS.
    Serve(Arc<ServerConfig>),
    /// Read the client's first bytes (its ClientHello), then close the connection.
    CloseAfterHello,
    /// Read the ClientHello, then answer with bytes that are not TLS.
    GarbageAfterHello,
    /// Read the ClientHello and never answer (until the client gives up).
    Stall,
}

struct Plan {
    /// TLS from the first byte (no STARTTLS).
    implicit: bool,
    /// The EHLO reply in clear offers STARTTLS (it always offers AUTH, as a downgrading
    /// attacker would, to tempt the client).
    offer_starttls: bool,
    /// Bytes written in the same write as "220 Ready to start TLS".
    inject: &'static [u8],
    /// Bytes written once the client's ClientHello has begun to arrive, before any answer.
    inject_late: &'static [u8],
    handshake: Handshake,
}

impl Plan {
    fn starttls(handshake: Handshake) -> Plan {
        Plan { implicit: false, offer_starttls: true, inject: b"", inject_late: b"", handshake }
    }

    fn implicit(handshake: Handshake) -> Plan {
        Plan { implicit: true, ..Plan::starttls(handshake) }
    }
}

/// What the scripted server saw.
#[derive(Debug, Default)]
struct Seen {
    connected: bool,
    /// Every byte received before the TLS handshake (the cleartext dialogue).
    clear: Vec<u8>,
    /// The first bytes of the client's handshake (when the script looked at them).
    hello: Vec<u8>,
    /// The server side's handshake error, if the handshake failed.
    tls_error: Option<String>,
    /// The negotiated version after a completed handshake.
    version: Option<String>,
    /// Every byte decrypted after the handshake.
    decrypted: Vec<u8>,
    /// The message content (DATA up to the dot).
    message: Option<Vec<u8>>,
    /// The client ended TLS with close_notify.
    clean_close: bool,
    failures: Vec<String>,
}

impl Seen {
    fn clear_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.clear).split("\r\n").filter(|l| !l.is_empty()).map(str::to_string).collect()
    }

    /// The client's commands over TLS (message content left out).
    fn tls_commands(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.decrypted).to_string();
        let mut out = Vec::new();
        let mut in_data = false;
        for line in text.split("\r\n").filter(|l| !l.is_empty()) {
            if in_data {
                in_data = line != ".";
                continue;
            }
            in_data = line == "DATA";
            out.push(line.to_string());
        }
        out
    }

    fn assert_ok(&self) {
        assert!(self.failures.is_empty(), "scripted server: {:?}", self.failures);
    }
}

struct TlsServer {
    port: u16,
    handle: JoinHandle<Seen>,
}

const SERVER_WAIT: Duration = Duration::from_secs(10);

impl TlsServer {
    fn start(plan: Plan) -> TlsServer {
        Self::start_on("127.0.0.1:0", plan)
    }

    fn start_on(addr: &str, plan: Plan) -> TlsServer {
        let listener = TcpListener::bind(addr).expect("bind");
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || run(listener, plan));
        TlsServer { port, handle }
    }

    /// Waits (bounded by the server's own timeouts) for the script to end.
    fn finish(self) -> Seen {
        self.handle.join().expect("scripted TLS server thread")
    }
}

fn accept(listener: &TcpListener) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + SERVER_WAIT;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(SERVER_WAIT)).unwrap();
                s.set_write_timeout(Some(SERVER_WAIT)).unwrap();
                return Some(s);
            }
            Err(e) if e.kind() == IoKind::WouldBlock && Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
}

/// Reads one line (CRLF stripped); every byte read is appended to `record`.
fn read_line(s: &mut impl Read, pending: &mut Vec<u8>, record: &mut Vec<u8>) -> Option<String> {
    read_until(s, pending, record, b"\r\n").map(|l| String::from_utf8_lossy(&l).to_string())
}

fn read_until(s: &mut impl Read, pending: &mut Vec<u8>, record: &mut Vec<u8>, end: &[u8]) -> Option<Vec<u8>> {
    let deadline = Instant::now() + SERVER_WAIT;
    let mut buf = [0u8; 16384];
    loop {
        if let Some(at) = pending.windows(end.len()).position(|w| w == end) {
            let item = pending[..at].to_vec();
            pending.drain(..at + end.len());
            return Some(item);
        }
        if Instant::now() > deadline {
            return None;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => {
                record.extend_from_slice(&buf[..n]);
                pending.extend_from_slice(&buf[..n]);
            }
        }
    }
}

/// Reads whatever arrives within `wait` (at least one read).
fn read_some(tcp: &mut TcpStream, wait: Duration) -> Vec<u8> {
    tcp.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 16384];
    let n = tcp.read(&mut buf).unwrap_or(0);
    tcp.set_read_timeout(Some(SERVER_WAIT)).unwrap();
    buf[..n].to_vec()
}

/// Waits (bounded) until the client closes its side.
fn wait_for_close(tcp: &mut TcpStream) {
    let deadline = Instant::now() + SERVER_WAIT;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

const EHLO_TLS: &str = "250-scripted.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n";

fn run(listener: TcpListener, plan: Plan) -> Seen {
    let mut seen = Seen::default();
    let Some(mut tcp) = accept(&listener) else { return seen };
    seen.connected = true;
    if !plan.implicit {
        let mut pending = Vec::new();
        let _ = tcp.write_all(b"220 scripted.test ESMTP\r\n");
        loop {
            let Some(line) = read_line(&mut tcp, &mut pending, &mut seen.clear) else {
                seen.failures.push("the client closed in clear".into());
                return seen;
            };
            let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" if plan.offer_starttls => b"250-scripted.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
                "EHLO" => b"250-scripted.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n",
                "QUIT" => {
                    let _ = tcp.write_all(b"221 2.0.0 Bye\r\n");
                    wait_for_close(&mut tcp);
                    return seen;
                }
                "STARTTLS" => break,
                _ => b"530 5.7.0 Must issue a STARTTLS command first\r\n",
            };
            let _ = tcp.write_all(reply);
        }
        if !pending.is_empty() {
            seen.failures.push(format!("the client sent {:?} right after STARTTLS", String::from_utf8_lossy(&pending)));
        }
        let mut ready = b"220 2.0.0 Ready to start TLS\r\n".to_vec();
        ready.extend_from_slice(plan.inject);
        let _ = tcp.write_all(&ready);
    }
    if !plan.inject_late.is_empty() {
        // The client has read "220" and begun its handshake: its ClientHello is arriving.
        let mut b = [0u8; 1];
        let deadline = Instant::now() + SERVER_WAIT;
        while !matches!(tcp.peek(&mut b), Ok(1)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = tcp.write_all(plan.inject_late);
    }
    match plan.handshake {
        Handshake::CloseAfterHello => {
            seen.hello = read_some(&mut tcp, SERVER_WAIT);
            let _ = tcp.shutdown(Shutdown::Both);
        }
        Handshake::GarbageAfterHello => {
            seen.hello = read_some(&mut tcp, SERVER_WAIT);
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            wait_for_close(&mut tcp);
        }
        Handshake::Stall => {
            seen.hello = read_some(&mut tcp, SERVER_WAIT);
            wait_for_close(&mut tcp);
        }
        Handshake::Serve(config) => serve_tls(&mut seen, tcp, config, plan.implicit),
    }
    seen
}

/// The server's handshake, then an SMTP server over TLS that records what it decrypts.
fn serve_tls(seen: &mut Seen, mut tcp: TcpStream, config: Arc<ServerConfig>, implicit: bool) {
    let mut conn = ServerConnection::new(config).unwrap();
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            seen.tls_error = Some(e.to_string());
            wait_for_close(&mut tcp);
            return;
        }
    }
    seen.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    });
    let mut tls = StreamOwned::new(conn, tcp);
    let mut pending = Vec::new();
    if implicit {
        let _ = tls.write_all(b"220 scripted.test ESMTP (implicit TLS)\r\n");
    }
    loop {
        let Some(line) = read_line(&mut tls, &mut pending, &mut seen.decrypted) else {
            seen.failures.push("the client closed without QUIT".into());
            return;
        };
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            EHLO_TLS.as_bytes()
        } else if upper.starts_with("AUTH PLAIN") {
            if upper.trim() == "AUTH PLAIN" {
                let _ = tls.write_all(b"334 \r\n");
                let _ = read_line(&mut tls, &mut pending, &mut seen.decrypted);
            }
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("AUTH LOGIN") {
            let _ = tls.write_all(b"334 VXNlcm5hbWU6\r\n");
            let _ = read_line(&mut tls, &mut pending, &mut seen.decrypted);
            let _ = tls.write_all(b"334 UGFzc3dvcmQ6\r\n");
            let _ = read_line(&mut tls, &mut pending, &mut seen.decrypted);
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("MAIL") || upper.starts_with("RCPT") || upper.starts_with("RSET") {
            b"250 2.1.0 Ok\r\n"
        } else if upper == "DATA" {
            let _ = tls.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n");
            seen.message = read_until(&mut tls, &mut pending, &mut seen.decrypted, b"\r\n.\r\n");
            b"250 2.0.0 Ok: queued as SCRIPTED\r\n"
        } else if upper == "QUIT" {
            let _ = tls.write_all(b"221 2.0.0 Bye\r\n");
            // The client ends TLS with close_notify: a clean end of stream, not a bare FIN.
            let mut rest = Vec::new();
            seen.clean_close = tls.read_to_end(&mut rest).is_ok();
            seen.decrypted.extend_from_slice(&rest);
            tls.conn.send_close_notify();
            let _ = tls.flush();
            return;
        } else {
            b"502 5.5.2 Error: command not recognized\r\n"
        };
        let _ = tls.write_all(reply);
    }
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
    assert!(seen.decrypted.is_empty(), "decrypted: {:?}", String::from_utf8_lossy(&seen.decrypted));
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
    let commands = seen.tls_commands();
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
    let commands = seen.tls_commands();
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
    assert!(seen.clear.is_empty() && seen.decrypted.is_empty());
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
    assert!(seen.clear.is_empty() && seen.decrypted.is_empty());
}

#[test]
fn implicit_tls_with_an_unknown_ca_sends_nothing() {
    let (ours, theirs) = (Ca::new("our CA"), Ca::new("their CA"));
    let server = TlsServer::start(Plan::implicit(Handshake::Serve(good_server(&theirs))));
    let e = expect_status(send(config("127.0.0.1", server.port, TlsMode::Implicit, Auth::Plain), ours.transport()), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert_eq!(e.phase, Phase::Tls);
    let seen = server.finish();
    assert!(seen.clear.is_empty() && seen.decrypted.is_empty());
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
    assert!(seen.clear.is_empty() && seen.decrypted.is_empty());
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

// ---- real servers (scripts/test starts them) ----

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through scripts/test"))
}

fn test_ca() -> StdTransport {
    StdTransport::with_ca_file(env("ZSMTP_CA")).expect("ZSMTP_CA")
}

fn maildir(user: &str) -> PathBuf {
    PathBuf::from(env("ZSMTP_MAILDIR")).join("example.test").join(user).join("new")
}

fn maillog() -> PathBuf {
    PathBuf::from(env("ZSMTP_MAILDIR")).parent().expect("pf/").join("maillog")
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

fn token(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("tls-{name}-{}-{nanos}", std::process::id())
}

/// Waits (bounded) for the one delivered message for `user` that contains `token`.
fn delivered(user: &str, token: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<String> = std::fs::read_dir(maildir(user))
            .map(|dir| {
                dir.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                    .map(|m| String::from_utf8_lossy(&m).to_string())
                    .filter(|m| m.contains(token))
                    .collect()
            })
            .unwrap_or_default();
        if !found.is_empty() || Instant::now() > deadline {
            assert_eq!(found.len(), 1, "messages with {token} for {user}");
            return found.into_iter().next().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
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
    let tag = token(mechanism);
    let to = [format!("{user}@example.test")];
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let offset = log_size();
    let mut client: Client<'_, _, _> = Client::new(postfix_config(server, port, mode, auth), test_ca(), StdClock::new()).unwrap();
    let sent = client.send(&Mail::new(&tag, b"delivered over TLS\n.dot line\n").to(&to)).unwrap();
    assert_eq!(sent.reply.code, 250, "{}", sent.reply);
    let message = delivered(user, &tag);
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
#[ignore = "needs servers: run scripts/test"]
fn postfix_2587_starttls_auth_plain_delivers() {
    postfix_delivers("127.0.0.1", 2587, TlsMode::StartTls, Auth::Plain, "PLAIN", "bob");
}

#[test]
#[ignore = "needs servers: run scripts/test"]
fn postfix_2587_starttls_auth_login_delivers_to_the_dns_name() {
    // "localhost": verified against the certificate's DNS name, not its IP address.
    postfix_delivers("localhost", 2587, TlsMode::StartTls, Auth::Login, "LOGIN", "carol");
}

#[test]
#[ignore = "needs servers: run scripts/test"]
fn postfix_2465_implicit_tls_delivers() {
    postfix_delivers("127.0.0.1", 2465, TlsMode::Implicit, Auth::Plain, "PLAIN", "dave");
}

#[test]
#[ignore = "needs servers: run scripts/test"]
fn postfix_2587_kept_connection_and_a_large_body() {
    // Several mails over one STARTTLS session, one of them 1 MiB (many TLS records).
    let _turn = postfix_turn();
    let tag = token("kept");
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
    let large = delivered("alice", &subjects[1]);
    let body = &large[large.find("\n\n").unwrap() + 2..];
    assert!(body.as_bytes() == big.as_slice(), "the large body arrived intact");
    delivered("alice", &subjects[0]);
    let line = session_line(offset);
    assert!(line.contains("ehlo=2 starttls=1 auth=1 mail=2 rcpt=2 data=2 quit=1"), "{line}");
}

#[test]
#[ignore = "needs servers: run scripts/test"]
fn aiosmtpd_2665_implicit_tls_delivers() {
    let out = PathBuf::from(env("ZSMTP_AIOSMTPD_OUT"));
    let tag = token("aiosmtpd");
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
#[ignore = "needs servers: run scripts/test"]
fn postfix_2587_with_an_unknown_ca_gets_no_credentials() {
    let other = Ca::new("not the test CA");
    let line = postfix_refuses(2587, TlsMode::StartTls, other.transport(), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert!(line.contains("ehlo=1 starttls=0/1 "), "{line}");
    assert!(line.contains("alert unknown ca"), "{line}");
}

#[test]
#[ignore = "needs servers: run scripts/test"]
fn postfix_2587_with_the_system_roots_is_untrusted() {
    let line = postfix_refuses(2587, TlsMode::StartTls, StdTransport::new(), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert!(line.contains("starttls=0/1") && line.contains("alert unknown ca"), "{line}");
}

#[test]
#[ignore = "needs servers: run scripts/test"]
fn postfix_2465_with_an_unknown_ca_gets_nothing() {
    let other = Ca::new("not the test CA");
    let session = postfix_refuses(2465, TlsMode::Implicit, other.transport(), NX_SMTP_TLS_UNTRUSTED_CERTIFICATE);
    assert!(session.contains("commands=0/0"), "{session}");
    // Postfix got the client's alert: the client refused the certificate.
    assert!(session.contains("alert unknown ca"), "{session}");
}

#[test]
#[ignore = "needs servers: run scripts/test"]
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
    use std::ffi::{CStr, CString};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use zsmtp::transport::zsock::{ZsockClock, ZsockTransport};

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

    /// The CA's PEM in a file of its own, as the 'static C string path the transport keeps.
    fn ca_file(ca: &Ca) -> &'static CStr {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("zsmtp-tls-test-ca-{}-{}.pem", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, &ca.pem).expect("write the CA file");
        Box::leak(CString::new(path.to_str().expect("utf-8 path")).expect("no NUL").into_boxed_c_str())
    }

    fn send_over_mbedtls(config: Config<'static>, ca: &Ca) -> Result<Sent, Error> {
        let transport = ZsockTransport::new().with_ca_file(ca_file(ca));
        let mut client: Client<'_, _, _> = Client::new(config, transport, ZsockClock::new())?;
        client.send(&Mail::new("TLS test", BODY).to(TO))
    }

    /// Delivers over STARTTLS with `leaf` (the scripted server's certificate).
    fn delivers_with(ca: &Ca, leaf: Leaf) -> Seen {
        let server = TlsServer::start(Plan::starttls(Handshake::Serve(server_config(leaf, BOTH))));
        let sent = send_over_mbedtls(config("localhost", server.port, TlsMode::StartTls, Auth::Plain), ca).expect("delivered");
        assert_eq!(sent.reply.code, 250);
        let seen = server.finish();
        seen.assert_ok();
        assert!(seen.tls_commands().iter().any(|c| c.starts_with("AUTH PLAIN")));
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
        assert!(seen.clear.is_empty() && seen.decrypted.is_empty(), "nothing but the handshake");
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
