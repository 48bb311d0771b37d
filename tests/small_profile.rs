//! The C API's small profile (feature `small`, src/capi/small.rs) through its C entry points,
//! over the shim's POSIX twin (the device's socket code), against a scripted server on real
//! sockets: what is particular to this profile (its headers, every refusal and its status,
//! what reaches the wire: dot-stuffing, CRLF, QUIT after a refusal, nothing after a fatal
//! reply), validation before any byte, timeouts, "outcome unknown" after the dot. NetX Duo's
//! nine regression scenarios and the fault table (every phase x every fault, odd replies) run
//! through both profiles in tests/capi_profiles.rs; delivery through the real Postfix is
//! tests/live_small_profile.rs.
//!
//! Run with `cargo test --features small --test small_profile`; scripts/test builds it with short
//! timeouts (ZSMTP_GREETING_TIMEOUT_MS, ZSMTP_REPLY_TIMEOUT_MS and ZSMTP_FINAL_REPLY_TIMEOUT_MS
//! of 1500 ms) so that the timeout cases stay quick; the checks read `SMALL_TIMEOUTS`.
#![cfg(feature = "small")]

mod support;

use std::time::{Duration, Instant};
use support::netx::*;
use support::capi::{cs, CClient};
use support::*;
use zsmtp::capi::{
    nx_smtp_client_tls_set, nx_smtp_mail_send, NX_SMTP_CLIENT_AUTH_NONE, NX_SMTP_CLIENT_AUTH_PLAIN,
    NX_SMTP_CLIENT_TLS_STARTTLS,
};
use zsmtp::error::status::*;
use zsmtp::limits::SMALL_TIMEOUTS;

/// A client created with NetX Duo's test identity.
fn created(port: u16, auth: u32) -> CClient {
    CClient::created(port, auth, USER, PASS, ADDR, DOMAIN)
}

/// NetX Duo's regression mail (to its own address, its subject and body): the status.
fn netx_send(c: &mut CClient) -> u32 {
    c.send(ADDR, SUBJECT, &netx_body())
}

// ---- NetX Duo's regression scenarios ----
//
// All nine run through both profiles in tests/capi_profiles.rs (the same status from each);
// here only what is particular to this profile: the headers it writes.

#[test]
fn netx_1_basic_plain() {
    let server = Server::start(script(
        vec![send(GREETING), Expect("EHLO domain.com"), send(EHLO), Expect("AUTH PLAIN "), send("235 authenticated\r\n")],
        lockstep_transaction(),
    ));
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_PLAIN);
    assert_eq!(netx_send(&mut c), NX_SUCCESS);
    assert_eq!(c.last_code(), 250, "the reply that decided: the final one");
    let seen = server.finish();
    seen.assert_ok();
    assert!(seen.lines().contains(&format!("AUTH PLAIN {}", b64(b"\0recipient@domain.com\0testpwd"))));
    assert_body_delivered(&seen, &netx_body());
    let message = String::from_utf8_lossy(seen.message.as_ref().unwrap()).to_string();
    assert!(message.starts_with("From: recipient@domain.com\r\nTo: recipient@domain.com\r\nSubject: NetX Duo SMTP Client Demo\r\nMIME-Version: 1.0\r\n"), "{message}");
}

// ---- refusals: the step's status, QUIT after an orderly refusal, nothing else ----

#[test]
fn every_refusal_has_its_status_and_is_followed_by_quit_only() {
    let cases: [(&str, u32); 5] = [
        ("EHLO", NX_SMTP_HELLO_REPLY_ERROR),
        ("AUTH", NX_SMTP_AUTH_REPLY_ERROR),
        ("MAIL", NX_SMTP_MAIL_REPLY_ERROR),
        ("RCPT", NX_SMTP_RCPT_REPLY_ERROR),
        ("DATA", NX_SMTP_DATA_REPLY_ERROR),
    ];
    for (at, status) in cases {
        let mut steps = vec![send("220 x\r\n")];
        for (command, reply) in [("EHLO", "250-x\r\n250 AUTH PLAIN\r\n"), ("AUTH", "235 ok\r\n"), ("MAIL", "250 ok\r\n"), ("RCPT", "250 ok\r\n"), ("DATA", "354 go\r\n")] {
            steps.push(Expect(command));
            if command == at {
                steps.extend([send("554 5.7.1 refused\r\n"), Mark, Expect("QUIT"), send("221 bye\r\n")]);
                break;
            }
            steps.push(send(reply));
        }
        let server = Server::start(steps);
        let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_PLAIN);
        assert_eq!(netx_send(&mut c), status, "refused at {at}");
        assert_eq!(c.last_code(), 554, "at {at}");
        let seen = server.finish();
        seen.assert_ok();
        assert_eq!(seen.after_mark(0), b"QUIT\r\n", "at {at}");
    }
}

#[test]
fn refused_message_and_421_and_greeting() {
    // The final reply refuses: 0xAB; the content was sent whole, and the server, still
    // listening, gets a QUIT (as from the full profile).
    let mut steps = vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n")];
    steps.extend([Expect("MAIL"), send("250 ok\r\n"), Expect("RCPT"), send("250 ok\r\n"), Expect("DATA"), send("354 go\r\n"), ExpectData]);
    steps.extend([send("554 5.6.0 content refused\r\n"), Expect("QUIT"), send("221 bye\r\n")]);
    let server = Server::start(steps);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
    assert_eq!(netx_send(&mut c), NX_SMTP_MESSAGE_REPLY_ERROR);
    server.finish().assert_ok();
    // 421 (the server closes): nothing more is sent.
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("421 4.3.2 shutting down\r\n"), Mark, Silence(300)]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
    assert_eq!(netx_send(&mut c), NX_SMTP_HELLO_REPLY_ERROR);
    let seen = server.finish();
    assert!(seen.after_mark(0).is_empty(), "{:?}", seen.lines());
    // A 554 greeting: refused, QUIT.
    let server = Server::start(vec![send("554 no service\r\n"), Expect("QUIT"), send("221 bye\r\n")]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
    assert_eq!(netx_send(&mut c), NX_SMTP_GREET_REPLY_ERROR);
    server.finish().assert_ok();
}

#[test]
fn no_auth_offered_is_an_authentication_error_before_any_credential() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n"), Expect("QUIT"), send("221 bye\r\n")]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_PLAIN);
    assert_eq!(netx_send(&mut c), NX_SMTP_AUTHENTICATION_ERROR);
    let seen = server.finish();
    assert!(!seen.lines().iter().any(|l| l.starts_with("AUTH")), "{:?}", seen.lines());
}

// ---- the wire: stuffing, line ends, the terminator ----

#[test]
fn body_line_ends_are_normalised_and_dots_stuffed() {
    let body = b"first\nsecond\rthird\r\n.dot\n..two\n.\nlast without end";
    let mut steps = vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n")];
    steps.extend([Expect("MAIL"), send("250 ok\r\n"), Expect("RCPT"), send("250 ok\r\n"), Expect("DATA"), send("354 go\r\n"), ExpectData]);
    steps.extend([send("250 ok\r\n"), Expect("QUIT"), send("221 bye\r\n")]);
    let server = Server::start(steps);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
    assert_eq!(c.send("<ops@example.com>", "s", body), NX_SUCCESS);
    let seen = server.finish();
    seen.assert_ok();
    let message = seen.message.clone().unwrap();
    let content = &message[message.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    // (The scripted server keeps the content without its terminator line.)
    assert_eq!(content, b"first\r\nsecond\r\nthird\r\n..dot\r\n...two\r\n..\r\nlast without end");
    assert!(seen.received.windows(8).any(|w| w == b"end\r\n.\r\n"), "the terminator follows the last line");
    assert!(seen.lines().contains(&"RCPT TO:<ops@example.com>".to_string()));
}

// ---- validation: a clear status and nothing on the wire ----

#[test]
fn bad_input_is_refused_before_connecting() {
    let wait = u64::from(SMALL_TIMEOUTS.greeting_ms);
    let server = Server::start(vec![Silence(wait + 500)]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_PLAIN);
    let long_line = vec![b'x'; 999];
    let cases: [(&str, &str, &[u8]); 8] = [
        ("a@b.example\r\nRCPT TO:<x@y>", "s", b"body"),
        ("no-at-sign", "s", b"body"),
        ("<a@b.example", "s", b"body"),
        ("a b@c.example", "s", b"body"),
        ("a@b.example", "line\r\nBcc: x@y", b"body"),
        ("a@b.example", "s", b"nul \0 inside"),
        ("a@b.example", "s", &long_line),
        ("a@b..example", "s", b"body"),
    ];
    for (to, subject, body) in cases {
        assert_eq!(c.send(to, subject, body), NX_SMTP_INVALID_PARAM, "{to:?} {subject:?}");
    }
    // A line of exactly 998 bytes is valid: this send connects (the only connection the
    // server sees) and times out waiting for the greeting, having sent nothing.
    assert_eq!(c.send("a@b.example", "s", &[b'x'; 998]), NX_NO_PACKET);
    let seen = server.finish();
    assert!(seen.connected && seen.received.is_empty(), "{:?}", seen.lines());
}

#[test]
fn create_checks_its_arguments() {
    let mut c = CClient::default();
    assert_eq!(c.create_with(25, 3, USER, PASS, "not an address", DOMAIN), NX_SMTP_INVALID_PARAM);
    assert_eq!(c.create_with(25, 3, USER, PASS, ADDR, "bad domain"), NX_SMTP_INVALID_PARAM);
    assert_eq!(c.create_with(25, 3, "user\r\n", PASS, ADDR, DOMAIN), NX_SMTP_INVALID_PARAM);
    assert_eq!(c.create_with(0, 3, USER, PASS, ADDR, DOMAIN), NX_SMTP_INVALID_PARAM);
    assert_eq!(c.create_with(25, 3, &"u".repeat(200), PASS, ADDR, DOMAIN), NX_SIZE_ERROR);
    // SAFETY: a never-created client: the send refuses it.
    assert_eq!(c.send(ADDR, "s", b"b"), NX_SMTP_CLIENT_NOT_INTIALIZED);
    assert_eq!(c.create_with(25, 2, USER, PASS, ADDR, DOMAIN), NX_SUCCESS, "CRAM-MD5 is taken as PLAIN");
    // SAFETY: created; NULL arguments are refused.
    unsafe {
        assert_eq!(nx_smtp_mail_send(c.ptr(), std::ptr::null_mut(), 2, std::ptr::null_mut(), std::ptr::null_mut(), 1), NX_PTR_ERROR);
    }
    assert_eq!(c.send(ADDR, "s", b""), NX_SMTP_INVALID_PARAM);
}

#[test]
fn tls_is_refused_not_ignored() {
    let server = Server::start(vec![Silence(200)]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_PLAIN);
    // SAFETY: a created client; NULL name.
    assert_eq!(unsafe { nx_smtp_client_tls_set(c.ptr(), NX_SMTP_CLIENT_TLS_STARTTLS, std::ptr::null_mut()) }, NX_SUCCESS);
    assert_eq!(netx_send(&mut c), NX_SMTP_TLS_NOT_SUPPORTED);
    assert!(server.finish().received.is_empty());
}

// ---- timeouts and the end of the message ----

#[test]
fn a_link_that_dies_after_the_dot_is_outcome_unknown() {
    let mut steps = vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n")];
    steps.extend([Expect("MAIL"), send("250 ok\r\n"), Expect("RCPT"), send("250 ok\r\n"), Expect("DATA"), send("354 go\r\n"), ExpectData, Close]);
    let server = Server::start(steps);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
    assert_eq!(netx_send(&mut c), NX_SMTP_OUTCOME_UNKNOWN);
    server.finish().assert_ok();
}

#[test]
fn a_trickled_reply_within_the_timeout_succeeds_and_a_silent_greeting_times_out() {
    let mut steps = vec![Trickle(b"220 slowly but surely\r\n".to_vec(), 20), Expect("EHLO"), send("250 x\r\n")];
    steps.extend(lockstep_transaction());
    let server = Server::start(steps);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
    assert_eq!(netx_send(&mut c), NX_SUCCESS);
    server.finish().assert_ok();

    let wait = u64::from(SMALL_TIMEOUTS.greeting_ms);
    let server = Server::start(vec![Silence(wait + 500)]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_NONE);
    let started = Instant::now();
    assert_eq!(netx_send(&mut c), NX_NO_PACKET);
    assert!(started.elapsed() < Duration::from_millis(wait + 1500));
    assert!(server.finish().received.is_empty());
}

#[test]
fn nothing_is_listening_is_not_connected() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = created(port, NX_SMTP_CLIENT_AUTH_NONE);
    assert_eq!(netx_send(&mut c), NX_NOT_CONNECTED);
}

/// The send writes the client's buffers: a recipient, subject or body inside them would change
/// under the send, so it is refused before anything happens.
#[test]
fn arguments_inside_the_client_are_refused() {
    let mut c = created(1, NX_SMTP_CLIENT_AUTH_NONE);
    let p = c.ptr();
    let (to, subject) = (cs(ADDR), cs(SUBJECT));
    // SAFETY: a created client; the pointers point into it (its buffers), valid for the lengths.
    unsafe {
        let tx = std::ptr::addr_of_mut!((*p).nx_smtp_client_tx_buffer).cast::<u8>();
        tx.write(b'x');
        tx.add(1).write(0);
        let rx = std::ptr::addr_of_mut!((*p).nx_smtp_client_rx_buffer).cast::<u8>();
        for (i, b) in b"a@b.example\0".iter().enumerate() {
            rx.add(i).write(*b);
        }
        let (to, subject) = (to.as_ptr().cast_mut(), subject.as_ptr().cast_mut());
        assert_eq!(nx_smtp_mail_send(p, to, 2, subject, tx.cast(), 1), NX_SMTP_INVALID_PARAM, "body in the TX buffer");
        let body = cs("hello");
        let body = body.as_ptr().cast_mut();
        // The same recipient from outside the client would pass validation (it only fails to
        // connect: port 1), so the refusal below is the overlap's.
        assert_eq!(nx_smtp_mail_send(p, rx.cast(), 2, subject, body, 5), NX_SMTP_INVALID_PARAM, "recipient in the RX buffer");
        let outside = cs("a@b.example");
        assert_eq!(nx_smtp_mail_send(p, outside.as_ptr().cast_mut(), 2, subject, body, 5), NX_NOT_CONNECTED, "the same arguments from outside");
        // The send above wiped the TX buffer: "x" again.
        tx.write(b'x');
        tx.add(1).write(0);
        assert_eq!(nx_smtp_mail_send(p, to, 2, tx.cast(), body, 5), NX_SMTP_INVALID_PARAM, "subject in the TX buffer");
    }
}
