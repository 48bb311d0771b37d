//! XOAUTH2 and OAUTHBEARER against a scripted server, for what a real server cannot be made to
//! do on demand: the exact bytes of each response, the error challenge (334 with a base64 JSON
//! error, acknowledged, then 535), a server that does not offer the mechanism, a server that
//! ignores the initial response, a token replaced between sends. The token never reaches the
//! log, an error or Debug output. (The live suite tests/live_oauth.rs runs the same mechanisms
//! against aiosmtpd.)

#![cfg(feature = "oauth2")]
#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::sync::Mutex;
use support::*;
use zsmtp::error::status::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Error, ErrorKind, Field, Invalid, Mail, Phase, Sent, Timeouts};

const USER: &str = "device-4@oauth.test";
/// Longer than the transmit buffer (1024) and the 512-byte command line: the AUTH line streams.
fn long_token() -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
    let mut t = String::from("ya29.");
    t.extend((0..4096 - 5).map(|i| alphabet[(i * 7 + i / 13) % alphabet.len()] as char));
    t
}
const TOKEN: &str = "ya29.a0AfH6SMBx-OAuth-Test-Token_value~42";
const ERROR_JSON: &str = r#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#;

/// Everything the client logged, at every level.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        LOG.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{} {}", record.level(), record.args()));
    }

    fn flush(&self) {}
}

fn capture_log() {
    static LOGGER: Capture = Capture;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
}

/// The forms a token could leak in: as is, and its base64 at the three alignments a longer
/// base64 stream could carry it in (inner characters only).
fn token_forms(token: &str) -> Vec<String> {
    let mut forms = vec![token.to_string()];
    for pad in ["", "x", "xx"] {
        let enc = b64(format!("{pad}{token}").as_bytes());
        forms.push(enc[4..enc.len() - 4].to_string());
    }
    forms
}

fn assert_no_token(what: &str, text: &str, token: &str) {
    for form in token_forms(token) {
        assert!(!text.contains(&form), "{what} contains a form of the token ({} chars)", form.len());
    }
}

fn timeouts() -> Timeouts {
    Timeouts { connect_ms: 2000, total_ms: 10_000, ..Timeouts::DEFAULT.every_reply(3000) }
}

fn config(port: u16, mechanism: Auth, token: &(dyn zsmtp::TokenSource + Sync)) -> Config<'_> {
    Config::new("127.0.0.1", port, "device.oauth.test", USER).oauth(mechanism, USER, token).allow_plaintext_auth(true).timeouts(timeouts())
}

fn send_with(config: Config<'_>) -> Result<Sent, Error> {
    let mut client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new()).unwrap();
    client.send(&Mail::new("oauth", b"body\n").to(&["ops@oauth.test"]))
}

fn ehlo(mechanisms: &str) -> String {
    format!("250-mx.oauth.test\r\n250-AUTH {mechanisms}\r\n250 PIPELINING\r\n")
}

fn xoauth2_response(token: &str) -> String {
    b64(format!("user={USER}\x01auth=Bearer {token}\x01\x01").as_bytes())
}

fn oauthbearer_response(port: u16, token: &str) -> String {
    b64(format!("n,a={USER},\x01host=127.0.0.1\x01port={port}\x01auth=Bearer {token}\x01\x01").as_bytes())
}

fn verb(mechanism: Auth) -> &'static str {
    if mechanism == Auth::XOAuth2 {
        "AUTH XOAUTH2 "
    } else {
        "AUTH OAUTHBEARER "
    }
}

/// The line the client sent that starts with `prefix`.
fn line_of(seen: &Seen, prefix: &str) -> String {
    seen.lines().into_iter().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line starting with {prefix:?}"))
}

#[test]
fn xoauth2_sends_the_exact_response_and_delivers() {
    capture_log();
    let token = long_token();
    let token_ref = token.as_str();
    let server = Server::start([vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("PLAIN LOGIN XOAUTH2")), Expect("AUTH XOAUTH2 "), send("235 2.7.0 Accepted\r\n")], pipelined_rest_of_mail()].concat());
    let sent = send_with(config(server.port, Auth::XOAuth2, &token_ref)).unwrap();
    assert_eq!(sent.reply.code, 250);
    let seen = server.finish();
    seen.assert_ok();
    let line = line_of(&seen, "AUTH XOAUTH2 ");
    assert_eq!(line, format!("AUTH XOAUTH2 {}", xoauth2_response(&token)));
    assert!(line.len() > 5000, "a 4 KB token makes a {}-byte AUTH line, past the 512-byte limit", line.len());
    let log = LOG.lock().unwrap().join("\n");
    assert!(log.contains("C: AUTH XOAUTH2 <redacted>"), "the dialogue is logged, the token redacted");
    assert_no_token("the log", &log, &token);
}

#[test]
fn oauthbearer_sends_the_gs2_header_host_and_port() {
    let server = Server::start([vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("OAUTHBEARER")), Expect("AUTH OAUTHBEARER "), send("235 2.7.0 Accepted\r\n")], pipelined_rest_of_mail()].concat());
    let port = server.port;
    let sent = send_with(config(port, Auth::OAuthBearer, &TOKEN)).unwrap();
    assert_eq!(sent.reply.code, 250);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(line_of(&seen, "AUTH OAUTHBEARER "), format!("AUTH OAUTHBEARER {}", oauthbearer_response(port, TOKEN)));
}

/// The server refuses the token: 334 with its base64 JSON error, the client's acknowledgement
/// (XOAUTH2: an empty line; OAUTHBEARER: 0x01), then 535. The error is an authentication
/// failure whose reply text carries the decoded status; then QUIT, and nothing else.
#[test]
fn a_refused_token_reports_the_decoded_status() {
    capture_log();
    for (mechanism, answer) in [(Auth::XOAuth2, ""), (Auth::OAuthBearer, "AQ==")] {
        let steps = vec![
            send("220 mx\r\n"),
            Expect("EHLO"),
            send(&ehlo("XOAUTH2 OAUTHBEARER")),
            Expect(verb(mechanism)),
            Send(format!("334 {}\r\n", b64(ERROR_JSON.as_bytes())).into_bytes()),
            Mark,
            Expect(answer),
            send("535 5.7.8 Username and Password not accepted\r\n"),
            Expect("QUIT"),
            send("221 bye\r\n"),
        ];
        let server = Server::start(steps);
        let e = send_with(config(server.port, mechanism, &TOKEN)).expect_err("the token is refused");
        let seen = server.finish();
        seen.assert_ok();
        assert_eq!((e.kind, e.phase, e.status()), (ErrorKind::Rejected, Phase::Auth, NX_SMTP_AUTH_REPLY_ERROR), "{mechanism:?}");
        let reply = e.reply.clone().expect("the 535");
        assert_eq!(reply.code, 535);
        assert_eq!(reply.text(), format!("5.7.8 Username and Password not accepted {ERROR_JSON}"));
        assert_eq!(reply.enhanced.map(|c| (c.class, c.subject, c.detail)), Some((5, 7, 8)));
        // Exactly the acknowledgement, then QUIT.
        assert_eq!(seen.after_mark(0), format!("{answer}\r\nQUIT\r\n").as_bytes(), "{mechanism:?}");
        let shown = format!("{e} {e:?}");
        assert!(shown.contains(r#""status":"401""#), "{shown}");
        assert_no_token("the error", &shown, TOKEN);
    }
    assert_no_token("the log", &LOG.lock().unwrap().join("\n"), TOKEN);
}

/// A second 334 after the acknowledgement is not followed: the exchange ends as refused.
#[test]
fn a_second_challenge_is_a_refusal() {
    let steps = vec![
        send("220 mx\r\n"),
        Expect("EHLO"),
        send(&ehlo("XOAUTH2")),
        Expect("AUTH XOAUTH2 "),
        Send(format!("334 {}\r\n", b64(ERROR_JSON.as_bytes())).into_bytes()),
        Expect(""),
        send("334 again\r\n"),
        Mark,
        Expect("QUIT"),
        send("221 bye\r\n"),
    ];
    let server = Server::start(steps);
    let e = send_with(config(server.port, Auth::XOAuth2, &TOKEN)).expect_err("refused");
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!((e.kind, e.phase), (ErrorKind::Rejected, Phase::Auth));
    assert_eq!(e.reply.as_ref().map(|r| r.code), Some(334));
    assert_eq!(seen.after_mark(0), b"QUIT\r\n");
}

/// The configured mechanism is not offered: no fallback to PLAIN or LOGIN, nothing of the
/// credentials on the wire (only EHLO and QUIT), `AuthNotOffered`.
#[test]
fn a_mechanism_not_offered_sends_nothing_credential_like() {
    for (mechanism, offered) in [(Auth::XOAuth2, "PLAIN LOGIN OAUTHBEARER"), (Auth::OAuthBearer, "PLAIN LOGIN XOAUTH2"), (Auth::XOAuth2, "XOAUTH PLAIN")] {
        let steps = vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo(offered)), Expect("QUIT"), send("221 bye\r\n")];
        let server = Server::start(steps);
        let e = send_with(config(server.port, mechanism, &TOKEN)).expect_err("not offered");
        let seen = server.finish();
        seen.assert_ok();
        assert_eq!((e.kind, e.phase, e.status()), (ErrorKind::AuthNotOffered, Phase::Auth, NX_SMTP_AUTHENTICATION_ERROR));
        assert_eq!(seen.commands(), ["EHLO device.oauth.test", "QUIT"], "{mechanism:?} with AUTH {offered}");
        let sent = String::from_utf8_lossy(&seen.received);
        assert_no_token("the wire", &sent, TOKEN);
        assert!(!sent.contains(&b64(USER.as_bytes())[..8]));
    }
}

/// A server that ignores the initial response asks with an empty 334 and gets the response.
#[test]
fn an_empty_challenge_gets_the_response() {
    let steps = [
        vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("XOAUTH2")), Expect("AUTH XOAUTH2 "), send("334 \r\n"), Expect(""), send("235 ok\r\n")],
        pipelined_rest_of_mail(),
    ]
    .concat();
    let server = Server::start(steps);
    send_with(config(server.port, Auth::XOAuth2, &TOKEN)).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    assert!(seen.lines().contains(&xoauth2_response(TOKEN)), "{:?}", seen.lines());
}

/// The token is asked for at each send: one replaced between two sends is the one used.
#[test]
fn a_token_replaced_between_sends_is_used() {
    let token = Mutex::new(String::from("first.token"));
    let script = |mechanism: &str| [vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo(mechanism)), Expect("AUTH XOAUTH2 "), send("235 ok\r\n")], pipelined_rest_of_mail()].concat();
    let servers = Servers::start(vec![script("XOAUTH2"), script("XOAUTH2")]);
    let mut client: Client<'_, _, _> = Client::new(config(servers.port, Auth::XOAuth2, &token), StdTransport::new(), StdClock::new()).unwrap();
    client.send(&Mail::new("one", b"1\n").to(&["ops@oauth.test"])).unwrap();
    *token.lock().unwrap() = String::from("second.token");
    client.send(&Mail::new("two", b"2\n").to(&["ops@oauth.test"])).unwrap();
    let seen = servers.finish();
    for (s, t) in seen.iter().zip(["first.token", "second.token"]) {
        s.assert_ok();
        assert_eq!(line_of(s, "AUTH XOAUTH2 "), format!("AUTH XOAUTH2 {}", xoauth2_response(t)));
    }
}

/// Without TLS and without the plaintext allowance the token is refused as a password is.
#[test]
fn a_token_never_crosses_an_unencrypted_link_unless_allowed() {
    let steps = vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("XOAUTH2")), Expect("QUIT"), send("221 bye\r\n")];
    let server = Server::start(steps);
    let e = send_with(config(server.port, Auth::XOAuth2, &TOKEN).allow_plaintext_auth(false)).expect_err("refused");
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!((e.kind, e.status()), (ErrorKind::PlaintextAuthRefused, NX_SMTP_PLAINTEXT_AUTH_REFUSED));
    assert_eq!(seen.commands(), ["EHLO device.oauth.test", "QUIT"]);
}

/// A token that would break the response's framing (a space, a control character, an empty
/// one) is refused before AUTH: nothing of it is sent.
#[test]
fn a_malformed_token_is_refused_before_auth() {
    for (token, why) in [("two words", Invalid::Syntax), ("a\x01b", Invalid::ControlCharacter), ("", Invalid::Empty)] {
        let steps = vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("XOAUTH2")), Expect("QUIT"), send("221 bye\r\n")];
        let server = Server::start(steps);
        let e = send_with(config(server.port, Auth::XOAuth2, &token)).expect_err("refused");
        let seen = server.finish();
        seen.assert_ok();
        assert_eq!((e.kind, e.phase, e.status()), (ErrorKind::InvalidInput(Field::Token, why), Phase::Auth, NX_SMTP_INVALID_PARAM), "{token:?}");
        assert_eq!(seen.commands(), ["EHLO device.oauth.test", "QUIT"]);
    }
}

/// A token source that fails ends the send before AUTH.
#[test]
fn a_failing_token_source_ends_the_send_before_auth() {
    struct Expired;
    impl zsmtp::TokenSource for Expired {
        fn lend_token(&self, _: &mut dyn FnMut(&[u8])) -> Result<(), zsmtp::TokenUnavailable> {
            Err(zsmtp::TokenUnavailable)
        }
    }
    let steps = vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("OAUTHBEARER")), Expect("QUIT"), send("221 bye\r\n")];
    let server = Server::start(steps);
    let e = send_with(config(server.port, Auth::OAuthBearer, &Expired)).expect_err("no token");
    server.finish().assert_ok();
    assert_eq!((e.kind, e.phase), (ErrorKind::InvalidInput(Field::Token, Invalid::Empty), Phase::Auth));
}

#[test]
fn the_token_is_never_in_debug_output() {
    let token = Mutex::new(String::from(TOKEN));
    let config = config(25, Auth::XOAuth2, &token);
    let shown = format!("{config:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert_no_token("Debug of Config", &shown, TOKEN);
    let client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new()).unwrap();
    assert_no_token("Debug of the client's Config", &format!("{:?}", client.config()), TOKEN);
}
