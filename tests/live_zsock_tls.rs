//! TLS through the Zephyr transport (src/transport/shim.rs) on the host: the shim's POSIX twin
//! runs the same mbedTLS client code (shim/common/smtp_shim_tls_mbedtls.c) as the Zephyr shim's
//! STARTTLS path, against the real Postfix that scripts/test starts:
//!   127.0.0.1:2587  STARTTLS required, AUTH only after TLS (alice / secret123)
//!   127.0.0.1:2465  implicit TLS, AUTH required
//! with its test CA in $ZSMTP_CA (leaf for localhost, 127.0.0.1, ::1) and Maildir delivery for
//! example.test under $ZSMTP_MAILDIR. A live suite: feature `live-servers` (and `zsock`), servers
//! from scripts/servers/start-all.sh.
//!
//! The server is named "localhost": the certificate names it so.

mod support;

use std::ffi::{CStr, CString};
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use support::io::read_transport_until;
use support::live::{delivered_one, env, token, with_token};
use support::pki::Ca;

use embedded_io::{ErrorKind, Read, Write};
use zsmtp::transport::shim::{ShimClock, ShimTransport};
use zsmtp::transport::{ConnectTlsError, TlsError};
use zsmtp::{status, Auth, Client, Config, Mail, TlsMode, Transport};

const SERVER: &str = "localhost";
const STARTTLS_PORT: u16 = 2587;
const IMPLICIT_PORT: u16 = 2465;
const LIMIT: Duration = Duration::from_secs(30);

/// The test CA ($ZSMTP_CA), as the 'static C string the transport keeps.
fn ca() -> &'static CStr {
    static CA: OnceLock<&'static CStr> = OnceLock::new();
    CA.get_or_init(|| {
        let path = env("ZSMTP_CA");
        assert!(std::path::Path::new(&path).is_file(), "ZSMTP_CA={path} is not a file");
        Box::leak(CString::new(path).expect("no NUL in ZSMTP_CA").into_boxed_c_str())
    })
}

/// A CA that signed nothing the servers use.
fn unknown_ca() -> &'static CStr {
    static CA: OnceLock<&'static CStr> = OnceLock::new();
    CA.get_or_init(|| Ca::new("zsmtp unknown test CA").pem_file())
}

fn transport(ca: &'static CStr) -> ShimTransport {
    ShimTransport::new().with_ca_file(ca)
}

/// Postfix's own Received header (the first one) says the mail came in over TLS with AUTH.
fn assert_esmtpsa(message: &str) {
    let at = message.find("Received: ").unwrap_or_else(|| panic!("no Received header:\n{message}"));
    let mut header = String::new();
    for (i, line) in message[at..].lines().enumerate() {
        if i > 0 && !line.starts_with([' ', '\t']) {
            break;
        }
        header.push_str(line);
        header.push('\n');
    }
    assert!(header.contains("with ESMTPSA"), "Received header does not say ESMTPSA:\n{header}");
}

fn config(port: u16, auth: Auth, tls: TlsMode) -> Config<'static> {
    // allow_plaintext_auth stays false: the credentials go out only because TLS protects them.
    Config::new(SERVER, port, "device.example.test", "alice@example.test").auth(auth, "alice", "secret123").tls(tls)
}

#[allow(clippy::result_large_err)] // zsmtp::Error carries the server's reply text by design
fn send_one(config: Config<'static>, ca: &'static CStr, to: &str, tag: &str) -> Result<zsmtp::Sent, zsmtp::Error> {
    let mut client: Client<'_, _, _> = Client::new(config, transport(ca), ShimClock::new())?;
    let body = format!("Sent over TLS by the zsock transport.\n..a line with a leading dot\n{tag}\n");
    let recipients = [to];
    client.send(&Mail::new(tag, body.as_bytes()).to(&recipients))
}

fn body_of(message: &str) -> &str {
    message.split_once("\n\n").map_or("", |(_, body)| body)
}

// ---- Delivery over TLS -----------------------------------------------------------------------

#[test]
fn starttls_auth_plain_delivers() {
    let tag = token("zsock-starttls-plain");
    let sent = send_one(config(STARTTLS_PORT, Auth::Plain, TlsMode::StartTls), ca(), "bob@example.test", &tag)
        .unwrap_or_else(|e| panic!("send failed: {e}"));
    assert_eq!(sent.reply.code, 250);
    let message = delivered_one("bob", &tag);
    assert_esmtpsa(&message);
    assert!(body_of(&message).lines().any(|l| l == "..a line with a leading dot"), "the dotted line changed:\n{message}");
}

#[test]
fn starttls_auth_login_delivers() {
    let tag = token("zsock-starttls-login");
    send_one(config(STARTTLS_PORT, Auth::Login, TlsMode::StartTls), ca(), "carol@example.test", &tag)
        .unwrap_or_else(|e| panic!("send failed: {e}"));
    assert_esmtpsa(&delivered_one("carol", &tag));
}

#[test]
fn implicit_tls_delivers() {
    let tag = token("zsock-implicit");
    send_one(config(IMPLICIT_PORT, Auth::Plain, TlsMode::Implicit), ca(), "dave@example.test", &tag)
        .unwrap_or_else(|e| panic!("send failed: {e}"));
    assert_esmtpsa(&delivered_one("dave", &tag));
}

/// Several mails over one kept STARTTLS connection: TLS reads and writes carry the whole session.
#[test]
fn kept_starttls_connection_delivers_every_mail() {
    let tag = token("zsock-starttls-kept");
    let mut client: Client<'_, _, _> =
        Client::new(config(STARTTLS_PORT, Auth::Login, TlsMode::StartTls), transport(ca()), ShimClock::new()).unwrap();
    let mut conn = client.connect().unwrap_or_else(|e| panic!("connect failed: {e}"));
    let big: String = (0..4000).map(|i| format!("line {i} of a body larger than one TLS record\n")).collect();
    for i in 0..3 {
        let subject = format!("{tag} #{i}");
        conn.send(&Mail::new(&subject, big.as_bytes()).to(&["bob@example.test"])).unwrap_or_else(|e| panic!("mail {i}: {e}"));
    }
    conn.close();
    for i in 0..3 {
        let message = delivered_one("bob", &format!("{tag} #{i}"));
        assert_esmtpsa(&message);
        assert!(body_of(&message).contains("line 3999 of a body larger than one TLS record\n"), "body cut short");
    }
}

// ---- Refusals ----------------------------------------------------------------------------------

/// A loopback relay in front of a server port that records every byte the client sends.
struct Relay {
    port: u16,
    seen: JoinHandle<Vec<u8>>,
}

fn relay_to(upstream: u16) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let port = listener.local_addr().unwrap().port();
    let seen = thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let start = Instant::now();
        let mut client = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && start.elapsed() < LIMIT => {
                    thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("relay accept: {e}"),
            }
        };
        let mut server = TcpStream::connect(("127.0.0.1", upstream)).expect("relay: connect upstream");
        for s in [&client, &server] {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        }
        let mut recorded = Vec::new();
        let mut buf = [0u8; 16384];
        let (mut client_open, mut server_open) = (true, true);
        while client_open && start.elapsed() < LIMIT {
            match client.read(&mut buf) {
                Ok(0) => client_open = false,
                Ok(n) => {
                    recorded.extend_from_slice(&buf[..n]);
                    if server_open && server.write_all(&buf[..n]).is_err() {
                        server_open = false;
                    }
                }
                Err(e) if is_timeout(&e) => {}
                Err(_) => client_open = false,
            }
            if server_open {
                match server.read(&mut buf) {
                    Ok(0) => {
                        server_open = false;
                        let _ = client.shutdown(Shutdown::Write);
                    }
                    Ok(n) => {
                        if client.write_all(&buf[..n]).is_err() {
                            client_open = false;
                        }
                    }
                    Err(e) if is_timeout(&e) => {}
                    Err(_) => server_open = false,
                }
            }
        }
        recorded
    });
    Relay { port, seen }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

/// Splits `bytes` into TLS records and returns their content types; panics on anything that is
/// not a well-formed sequence of records (plain text, for instance).
fn tls_record_types(bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        assert!(rest.len() >= 5, "a truncated TLS record header: {rest:02x?}");
        let (kind, major, len) = (rest[0], rest[1], usize::from(u16::from_be_bytes([rest[3], rest[4]])));
        assert!((20..=23).contains(&kind) && major == 3, "not a TLS record: {:?}", String::from_utf8_lossy(rest));
        assert!(rest.len() >= 5 + len, "a truncated TLS record");
        types.push(kind);
        rest = &rest[5 + len..];
    }
    types
}

/// What the client sent after its STARTTLS command.
fn after_starttls(seen: &[u8]) -> &[u8] {
    let at = seen.windows(10).position(|w| w == b"STARTTLS\r\n").expect("the client sent STARTTLS");
    &seen[at + 10..]
}

/// No application data (record type 23) and no plaintext: a handshake that ended in an alert.
fn assert_handshake_only(bytes: &[u8]) {
    let types = tls_record_types(bytes);
    assert!(types.first() == Some(&22), "the client did not start a handshake: {types:?}");
    assert!(!types.contains(&23), "the client sent application data: {types:?}");
}

fn assert_no_secrets(seen: &[u8]) {
    let text = String::from_utf8_lossy(seen);
    for needle in ["AUTH", "MAIL FROM", "RCPT TO", "DATA", "secret123", "AGFsaWNlAHNlY3JldDEyMw==", "c2VjcmV0MTIz"] {
        assert!(!text.contains(needle), "the client sent {needle:?} ({} bytes seen)", seen.len());
    }
}

#[test]
fn starttls_with_an_unknown_ca_fails_before_anything_is_sent() {
    let tag = token("zsock-unknown-ca");
    let relay = relay_to(STARTTLS_PORT);
    let e = send_one(config(relay.port, Auth::Plain, TlsMode::StartTls), unknown_ca(), "bob@example.test", &tag)
        .expect_err("a certificate from an unknown CA must be refused");
    assert_eq!(e.status(), status::NX_SMTP_TLS_UNTRUSTED_CERTIFICATE, "{e}");
    assert_eq!(e.status(), 0xC4);
    let seen = relay.seen.join().expect("relay");
    assert_handshake_only(after_starttls(&seen));
    assert_no_secrets(&seen);
    assert!(with_token("bob", &tag).is_empty());
}

#[test]
fn implicit_tls_with_an_unknown_ca_fails_before_anything_is_sent() {
    let tag = token("zsock-implicit-unknown-ca");
    let relay = relay_to(IMPLICIT_PORT);
    let e = send_one(config(relay.port, Auth::Plain, TlsMode::Implicit), unknown_ca(), "bob@example.test", &tag)
        .expect_err("a certificate from an unknown CA must be refused");
    assert_eq!(e.status(), 0xC4, "{e}");
    let seen = relay.seen.join().expect("relay");
    assert_handshake_only(&seen);
    assert_no_secrets(&seen);
}

#[test]
fn starttls_with_a_wrong_host_name_fails_before_anything_is_sent() {
    let tag = token("zsock-wrong-name");
    let relay = relay_to(STARTTLS_PORT);
    // Verified for another name than the one connected to: what a server under a wrong name
    // (a typo, a hijacked DNS record) looks like to the client.
    let config = config(relay.port, Auth::Login, TlsMode::StartTls).tls_name("mail.wrong-name.test");
    let mut client: Client<'_, _, _> = Client::new(config, transport(ca()), ShimClock::new()).unwrap();
    let recipients = ["bob@example.test"];
    let e = client.send(&Mail::new(&tag, b"must not arrive\n").to(&recipients)).expect_err("a wrong name must be refused");
    assert_eq!(e.status(), status::NX_SMTP_TLS_NAME_MISMATCH, "{e}");
    assert_eq!(e.status(), 0xC5);
    drop(client);
    let seen = relay.seen.join().expect("relay");
    assert_handshake_only(after_starttls(&seen));
    assert_no_secrets(&seen);
}

#[test]
fn implicit_tls_with_a_wrong_host_name_fails() {
    assert_eq!(implicit_send_verifying_as("mail.wrong-name.test").status(), 0xC5);
}

/// The error of an implicit-TLS send that verifies the server's certificate against `name`.
fn implicit_send_verifying_as(name: &'static str) -> zsmtp::Error {
    let config = config(IMPLICIT_PORT, Auth::Plain, TlsMode::Implicit).tls_name(name);
    let mut client: Client<'_, _, _> = Client::new(config, transport(ca()), ShimClock::new()).unwrap();
    let recipients = ["bob@example.test"];
    client.send(&Mail::new("verified as", b"x\n").to(&recipients)).expect_err("the certificate does not name it")
}

// ---- The transport on its own -----------------------------------------------------------------

fn write_all(t: &mut ShimTransport, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = t.write(bytes).expect("write");
        bytes = &bytes[n..];
    }
}

#[test]
fn transport_starttls_by_hand() {
    let mut t = transport(ca());
    t.set_timeout(10_000);
    t.connect(SERVER, STARTTLS_PORT, 10_000).expect("connect");
    assert!(!t.is_encrypted());
    read_transport_until(&mut t, b"220 ", LIMIT);
    write_all(&mut t, b"EHLO device.example.test\r\n");
    let ehlo = read_transport_until(&mut t, b"250 ", LIMIT);
    assert!(String::from_utf8_lossy(&ehlo).contains("STARTTLS"), "no STARTTLS offered");
    write_all(&mut t, b"STARTTLS\r\n");
    read_transport_until(&mut t, b"220 ", LIMIT);
    t.start_tls(SERVER, 10_000).expect("handshake");
    assert!(t.is_encrypted());
    // A second STARTTLS on an encrypted connection is refused by the transport itself.
    assert_eq!(t.start_tls(SERVER, 1000), Err(TlsError::Handshake));
    write_all(&mut t, b"EHLO device.example.test\r\n");
    let ehlo = String::from_utf8_lossy(&read_transport_until(&mut t, b"250 ", LIMIT)).into_owned();
    assert!(ehlo.contains("AUTH"), "AUTH is offered after TLS: {ehlo}");
    assert!(!ehlo.contains("STARTTLS"), "STARTTLS is not offered again: {ehlo}");
    write_all(&mut t, b"QUIT\r\n");
    read_transport_until(&mut t, b"221 ", LIMIT);
    t.close();
    assert!(!t.is_connected());
    t.close();
}

#[test]
fn failed_starttls_closes_the_connection() {
    let mut t = transport(unknown_ca());
    t.set_timeout(10_000);
    t.connect(SERVER, STARTTLS_PORT, 10_000).expect("connect");
    read_transport_until(&mut t, b"220 ", LIMIT);
    write_all(&mut t, b"EHLO device.example.test\r\n");
    read_transport_until(&mut t, b"250 ", LIMIT);
    write_all(&mut t, b"STARTTLS\r\n");
    read_transport_until(&mut t, b"220 ", LIMIT);
    assert_eq!(t.start_tls(SERVER, 10_000), Err(TlsError::UntrustedCertificate));
    assert!(!t.is_connected(), "the socket stays open after a failed handshake");
    let e = t.write(b"AUTH PLAIN AGFsaWNlAHNlY3JldDEyMw==\r\n").expect_err("nothing can be written in clear");
    assert_eq!(embedded_io::Error::kind(&e), ErrorKind::NotConnected);
}

#[test]
fn implicit_tls_errors_are_classified() {
    let mut t = transport(ca());
    assert_eq!(
        t.connect_tls(SERVER, IMPLICIT_PORT, "mail.wrong-name.test", 10_000).err(),
        Some(ConnectTlsError::Tls(TlsError::NameMismatch))
    );
    let mut t = transport(unknown_ca());
    assert_eq!(t.connect_tls(SERVER, IMPLICIT_PORT, SERVER, 10_000).err(), Some(ConnectTlsError::Tls(TlsError::UntrustedCertificate)));
    // No CA at all: nothing to verify against.
    static MISSING: &CStr = c"/nonexistent/zsmtp-ca.pem";
    let mut t = ShimTransport::new().with_ca_file(MISSING);
    assert_eq!(t.connect_tls(SERVER, IMPLICIT_PORT, SERVER, 10_000).err(), Some(ConnectTlsError::Tls(TlsError::NoTrustAnchors)));
    // A refused TCP connect is a connect error, not a TLS one.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut t = transport(ca());
    match t.connect_tls("127.0.0.1", port, "127.0.0.1", 5_000) {
        Err(ConnectTlsError::Connect(e)) => assert_eq!(embedded_io::Error::kind(&e), ErrorKind::ConnectionRefused),
        other => panic!("expected a refused connect, got {other:?}"),
    }
    // A plain SMTP port answering a ClientHello with a text greeting: a handshake failure.
    let mut t = transport(ca());
    assert_eq!(t.connect_tls(SERVER, STARTTLS_PORT, SERVER, 10_000).err(), Some(ConnectTlsError::Tls(TlsError::Handshake)));
}

/// A server given by address (NetX's API gives addresses): the certificate must carry that
/// address (an iPAddress SAN), and does; one that does not is refused.
#[test]
fn implicit_tls_to_an_address_verifies_the_address() {
    let mut t = transport(ca());
    t.set_timeout(10_000);
    t.connect_tls("127.0.0.1", IMPLICIT_PORT, "127.0.0.1", 10_000).expect("the leaf names 127.0.0.1");
    assert!(t.is_encrypted());
    read_transport_until(&mut t, b"220 ", LIMIT);
    assert_eq!(implicit_send_verifying_as("192.0.2.1").status(), 0xC5);
}

#[test]
fn implicit_tls_by_hand() {
    let mut t = transport(ca());
    t.set_timeout(10_000);
    t.connect_tls(SERVER, IMPLICIT_PORT, SERVER, 10_000).expect("implicit TLS");
    assert!(t.is_encrypted());
    read_transport_until(&mut t, b"220 ", LIMIT);
    write_all(&mut t, b"EHLO device.example.test\r\n");
    let ehlo = String::from_utf8_lossy(&read_transport_until(&mut t, b"250 ", LIMIT)).into_owned();
    assert!(ehlo.contains("AUTH"), "{ehlo}");
    write_all(&mut t, b"QUIT\r\n");
    read_transport_until(&mut t, b"221 ", LIMIT);
    // The server closes after 221: the TLS read reports the end as 0.
    let start = Instant::now();
    loop {
        let mut buf = [0u8; 64];
        match t.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => assert!(start.elapsed() < LIMIT, "the server did not close"),
            Err(e) => panic!("read after QUIT: {e:?}"),
        }
    }
}
