//! The engine against a scripted server over real sockets: NetX Duo's regression scenarios
//! and every failure status, each checking the status, what the client put on the wire,
//! and that nothing follows a fatal reply but (where orderly) QUIT.

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::time::{Duration, Instant};
use support::netx::*;
use support::*;
use zsmtp::error::status::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Error, ErrorKind, Mail, Phase, Priority, Sent, Timeouts};

fn timeouts(reply_ms: u32) -> Timeouts {
    Timeouts { connect_ms: 2000, greeting_ms: reply_ms, reply_ms, send_ms: 2000, final_reply_ms: reply_ms, total_ms: 20_000 }
}

fn config(port: u16, auth: Auth) -> Config<'static> {
    let server: &'static str = "127.0.0.1";
    let _ = port;
    Config::new(server, 1, DOMAIN, ADDR).auth(auth, USER, PASS).allow_plaintext_auth(true).timeouts(timeouts(3000))
}

type TestClient = Client<'static, StdTransport, StdClock>;

fn client(port: u16, auth: Auth) -> TestClient {
    let mut c = config(port, auth);
    c.port = port;
    Client::new(c, StdTransport::new(), StdClock::new()).unwrap()
}

fn client_with(c: Config<'static>) -> TestClient {
    Client::new(c, StdTransport::new(), StdClock::new()).unwrap()
}

fn send_to(client: &mut TestClient, to: &[&str], body: &[u8]) -> Result<Sent, Error> {
    let mail = Mail::new(SUBJECT, body).to(to);
    client.send(&mail)
}

fn netx_send(client: &mut TestClient) -> Result<Sent, Error> {
    let body = netx_body();
    send_to(client, &[ADDR], &body)
}

fn expect_status(result: Result<Sent, Error>, status: u32) -> Error {
    let e = result.expect_err("the send should fail");
    assert_eq!(e.status(), status, "{e:?}");
    e
}

/// The lockstep dialogue for one recipient, every reply positive, up to and including the
/// client's `last` command ("EHLO", "MAIL", "RCPT" or "DATA"); the test adds the reply.
fn lockstep_until(last: &'static str) -> Vec<Step> {
    let dialogue = [
        (None, "EHLO"),
        (Some("250 x\r\n"), "MAIL"),
        (Some("250 ok\r\n"), "RCPT"),
        (Some("250 ok\r\n"), "DATA"),
    ];
    let mut steps = vec![send("220 x\r\n")];
    for (reply, command) in dialogue {
        if let Some(reply) = reply {
            steps.push(send(reply));
        }
        steps.push(Expect(command));
        if command == last {
            return steps;
        }
    }
    panic!("no such command in the dialogue: {last}");
}

fn up_to_data() -> Vec<Step> {
    let mut steps = lockstep_until("DATA");
    steps.extend([send("354 go\r\n"), ExpectData]);
    steps
}

// ---- NetX Duo regression scenarios ----

#[test]
fn netx_1_basic_plain() {
    let server = Server::start(script(
        vec![send(GREETING), Expect("EHLO domain.com"), send(EHLO), Expect("AUTH PLAIN "), send("235 authenticated\r\n")],
        lockstep_transaction(),
    ));
    let mut c = client(server.port, Auth::Plain);
    let sent = netx_send(&mut c).unwrap();
    assert_eq!(sent.reply.code, 250);
    let seen = server.finish();
    seen.assert_ok();
    let auth = seen.lines().into_iter().find(|l| l.starts_with("AUTH PLAIN ")).unwrap();
    assert_eq!(auth, format!("AUTH PLAIN {}", b64(b"\0recipient@domain.com\0testpwd")));
    assert_body_delivered(&seen, &netx_body());
    let headers = String::from_utf8_lossy(seen.message.as_ref().unwrap()).to_string();
    assert!(headers.contains("Subject: NetX Duo SMTP Client Demo\r\n"));
    assert!(headers.contains("To: recipient@domain.com\r\n"));
}

#[test]
fn netx_1b_server_ignores_initial_response_and_asks_with_334() {
    let server = Server::start(script(
        vec![
            send(GREETING),
            Expect("EHLO"),
            send(EHLO),
            Expect("AUTH PLAIN "),
            send("334 \r\n"),
            Expect(""),
            send("235 ok\r\n"),
        ],
        lockstep_transaction(),
    ));
    let mut c = client(server.port, Auth::Plain);
    netx_send(&mut c).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    assert!(seen.lines().contains(&b64(b"\0recipient@domain.com\0testpwd")));
}

#[test]
fn netx_2_login_never_reads_the_prompt() {
    // Prompts in the wrong order and in lower case: the client answers by position.
    let server = Server::start(netx_2_login_script());
    let mut c = client(server.port, Auth::Login);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn netx_3_auth_line_without_known_mechanisms_tries_the_configured_one() {
    let ehlo = "250-expresslogic.com Hello\r\n250-AUTH MOGIN CRAM-MD5 QLAIN\r\n250 SIZE\r\n";
    let server = Server::start(script(
        vec![
            send(GREETING),
            Expect("EHLO"),
            send(ehlo),
            Expect("AUTH LOGIN"),
            send("334 x\r\n"),
            Expect("cmVjaXBpZW50QGRvbWFpbi5jb20="),
            send("334 y\r\n"),
            Expect("dGVzdHB3ZA=="),
            send("235 ok\r\n"),
        ],
        lockstep_transaction(),
    ));
    let mut c = client(server.port, Auth::Login);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn netx_3b_configured_mechanism_not_offered_uses_the_other() {
    let ehlo = "250-x\r\n250 AUTH PLAIN\r\n";
    let server = Server::start(script(
        vec![send("220 x\r\n"), Expect("EHLO"), send(ehlo), Expect("AUTH PLAIN "), send("235 ok\r\n")],
        lockstep_transaction(),
    ));
    let mut c = client(server.port, Auth::Login);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn netx_4_auth_none_goes_straight_to_mail() {
    let server = Server::start(script(
        vec![send(GREETING), Expect("EHLO"), send("250-expresslogic.com\r\n250-8BITMIME\r\n250 SIZE\r\n")],
        lockstep_transaction(),
    ));
    let mut c = client(server.port, Auth::None);
    netx_send(&mut c).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    assert!(!seen.lines().iter().any(|l| l.starts_with("AUTH")));
}

#[test]
fn netx_5_ehlo_in_two_packets_client_waits_silently() {
    let server = Server::start(netx_5_two_packet_ehlo_script());
    let mut c = client(server.port, Auth::Plain);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn netx_6_auth_in_second_packet_with_leading_space() {
    let server = Server::start(netx_6_auth_in_second_packet_script());
    let mut c = client(server.port, Auth::Plain);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn netx_7_missing_last_ehlo_line_times_out_and_sends_nothing_more() {
    let server = Server::start(vec![
        send(GREETING),
        Expect("EHLO"),
        send("250-expresslogic.com Hello\r\n250-ETRN\r\n250-AUTH LOGIN PLAIN\r\n"),
        Silence(1500),
    ]);
    let mut cfg = config(server.port, Auth::Plain);
    cfg.port = server.port;
    cfg.timeouts = timeouts(700);
    let mut c = client_with(cfg);
    let started = Instant::now();
    let e = expect_status(netx_send(&mut c), NX_NO_PACKET);
    assert_eq!((e.kind, e.phase), (ErrorKind::Timeout, Phase::Hello));
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["EHLO domain.com"]);
}

#[test]
fn netx_8_abnormal_greeting() {
    let server = Server::start(vec![send("222222220-abnormal greeting\r\n"), Silence(500)]);
    let mut c = client(server.port, Auth::Plain);
    let e = expect_status(netx_send(&mut c), NX_SMTP_GREET_REPLY_ERROR);
    assert_eq!(e.kind, ErrorKind::Malformed);
    let seen = server.finish();
    seen.assert_ok();
    assert!(seen.received.is_empty(), "{:?}", seen.lines());
}

#[test]
fn netx_9_truncated_greeting_then_disconnect_and_client_is_usable_again() {
    let server = Server::start(vec![send("2200"), Close]);
    let mut c = client(server.port, Auth::None);
    expect_status(netx_send(&mut c), NX_SMTP_GREET_REPLY_ERROR);
    server.finish();
    // The same client, a good server: the failure left nothing behind.
    let good = Server::start(script(vec![send("220 ok\r\n"), Expect("EHLO"), send("250 ok\r\n")], lockstep_transaction()));
    let mut cfg = config(good.port, Auth::None);
    cfg.port = good.port;
    let mut c2 = client_with(cfg);
    netx_send(&mut c2).unwrap();
    good.finish().assert_ok();
}

#[test]
fn greeting_cut_mid_line_is_not_connected() {
    let server = Server::start(vec![send("220 mx.example wel"), Close]);
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_NOT_CONNECTED);
    assert_eq!(e.phase, Phase::Greeting);
}

// ---- every failure status ----

#[test]
fn greeting_554_refused_then_quit() {
    let server = Server::start(vec![send("554 5.7.1 no service for you\r\n"), Expect("QUIT")]);
    let mut c = client(server.port, Auth::Plain);
    let e = expect_status(netx_send(&mut c), NX_SMTP_GREET_REPLY_ERROR);
    assert_eq!(e.reply.as_ref().unwrap().code, 554);
    assert_eq!(e.reply.as_ref().unwrap().text(), "5.7.1 no service for you");
    assert_eq!(c.last_reply().unwrap().code, 554);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["QUIT"]);
}

#[test]
fn helo_fallback_when_ehlo_is_unknown() {
    let server = Server::start(script(
        vec![send("220 old\r\n"), Expect("EHLO domain.com"), send("502 command not implemented\r\n"), Expect("HELO domain.com"), send("250 old\r\n")],
        lockstep_transaction(),
    ));
    let mut c = client(server.port, Auth::None);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn hello_refused() {
    let server = Server::start(script(lockstep_until("EHLO"), vec![send("554 5.7.1 go away\r\n"), Expect("QUIT")]));
    let mut c = client(server.port, Auth::None);
    expect_status(netx_send(&mut c), NX_SMTP_HELLO_REPLY_ERROR);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["EHLO domain.com", "QUIT"]);
}

#[test]
fn helo_refused_after_fallback() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("500 what\r\n"),
        Expect("HELO"),
        send("501 bad name\r\n"),
        Expect("QUIT"),
    ]);
    let mut c = client(server.port, Auth::None);
    expect_status(netx_send(&mut c), NX_SMTP_HELLO_REPLY_ERROR);
    server.finish().assert_ok();
}

#[test]
fn auth_refused_reports_server_reply_and_quits() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"),
        Expect("AUTH PLAIN"),
        send("535 5.7.8 Error: authentication failed\r\n"),
        Expect("QUIT"),
    ]);
    let mut c = client(server.port, Auth::Plain);
    let e = expect_status(netx_send(&mut c), NX_SMTP_AUTH_REPLY_ERROR);
    let reply = e.reply.unwrap();
    assert_eq!(reply.code, 535);
    assert_eq!(reply.enhanced.map(|x| (x.class, x.subject, x.detail)), Some((5, 7, 8)));
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines().len(), 3);
}

#[test]
fn login_with_an_extra_334_is_refused_not_looped() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250 AUTH LOGIN\r\n"),
        Expect("AUTH LOGIN"),
        send("334 a\r\n"),
        Expect(""),
        send("334 b\r\n"),
        Expect(""),
        send("334 c\r\n"),
        Expect("QUIT"),
    ]);
    let mut c = client(server.port, Auth::Login);
    expect_status(netx_send(&mut c), NX_SMTP_AUTH_REPLY_ERROR);
    server.finish().assert_ok();
}

#[test]
fn no_auth_offered_sends_no_credentials() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("250-x\r\n250 8BITMIME\r\n"), Expect("QUIT")]);
    let mut c = client(server.port, Auth::Plain);
    let e = expect_status(netx_send(&mut c), NX_SMTP_AUTHENTICATION_ERROR);
    assert_eq!(e.kind, ErrorKind::AuthNotOffered);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["EHLO domain.com", "QUIT"]);
    let all = String::from_utf8_lossy(&seen.received);
    assert!(!all.contains("AUTH") && !all.contains(&b64(PASS.as_bytes())));
}

#[test]
fn mail_refused() {
    let server = Server::start(script(lockstep_until("MAIL"), vec![send("550 5.1.8 sender rejected\r\n"), Expect("QUIT")]));
    let mut c = client(server.port, Auth::None);
    expect_status(netx_send(&mut c), NX_SMTP_MAIL_REPLY_ERROR);
    server.finish().assert_ok();
}

#[test]
fn service_closing_421_gets_no_quit() {
    let server = Server::start(script(lockstep_until("MAIL"), vec![send("421 4.3.2 shutting down\r\n")]));
    let mut c = client(server.port, Auth::None);
    expect_status(netx_send(&mut c), NX_SMTP_MAIL_REPLY_ERROR);
    let seen = server.finish();
    seen.assert_ok();
    assert!(!seen.lines().contains(&"QUIT".to_string()));
}

#[test]
fn rcpt_refused() {
    let server = Server::start(script(
        lockstep_until("RCPT"),
        vec![send("550 5.1.1 <recipient@domain.com>: Recipient address rejected\r\n"), Expect("QUIT")],
    ));
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_SMTP_RCPT_REPLY_ERROR);
    assert_eq!(e.reply.unwrap().text(), "5.1.1 <recipient@domain.com>: Recipient address rejected");
    let seen = server.finish();
    seen.assert_ok();
    assert!(!seen.lines().contains(&"DATA".to_string()));
}

#[test]
fn data_refused() {
    let server = Server::start(script(lockstep_until("DATA"), vec![send("554 5.5.1 no valid recipients\r\n"), Expect("QUIT")]));
    let mut c = client(server.port, Auth::None);
    expect_status(netx_send(&mut c), NX_SMTP_DATA_REPLY_ERROR);
    server.finish().assert_ok();
}

#[test]
fn message_refused_after_the_dot() {
    let server = Server::start(script(up_to_data(), vec![send("552 5.3.4 message too big for policy\r\n"), Expect("QUIT")]));
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_SMTP_MESSAGE_REPLY_ERROR);
    assert_eq!(e.reply.unwrap().code, 552);
    server.finish().assert_ok();
}


#[test]
fn link_dies_after_the_dot_outcome_unknown() {
    let server = Server::start(script(up_to_data(), vec![Close]));
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_SMTP_OUTCOME_UNKNOWN);
    assert_eq!((e.kind, e.phase), (ErrorKind::OutcomeUnknown, Phase::Message));
}

#[test]
fn silence_after_the_dot_outcome_unknown() {
    let server = Server::start(script(up_to_data(), vec![Silence(1200)]));
    let mut cfg = config(server.port, Auth::None);
    cfg.port = server.port;
    cfg.timeouts = timeouts(600);
    let mut c = client_with(cfg);
    expect_status(netx_send(&mut c), NX_SMTP_OUTCOME_UNKNOWN);
    let seen = server.finish();
    assert!(!seen.commands().contains(&"QUIT".to_string()), "{:?}", seen.commands());
}

#[test]
fn disconnect_during_ehlo_is_not_connected() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("250-x\r\n"), Close]);
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_NOT_CONNECTED);
    assert_eq!(e.phase, Phase::Hello);
}

#[test]
fn garbage_reply_is_invalid_for_its_phase() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("HTTP/1.1 400 Bad Request\r\n"), Silence(300)]);
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_SMTP_HELLO_REPLY_ERROR);
    assert_eq!(e.kind, ErrorKind::Malformed);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["EHLO domain.com"], "nothing may follow garbage");
}

#[test]
fn reply_line_longer_than_the_buffer() {
    let long = format!("250-{}\r\n250 ok\r\n", "x".repeat(600));
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), Send(long.into_bytes()), Silence(300)]);
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_SMTP_OVERSIZE_SERVER_REPLY);
    assert_eq!(e.kind, ErrorKind::ReplyTooLong);
}

#[test]
fn very_long_multi_line_ehlo_streams_through_a_small_buffer() {
    let mut ehlo = String::new();
    for i in 0..200 {
        ehlo.push_str(&format!("250-X-EXTENSION-{i} with some words to make it longer\r\n"));
    }
    ehlo.push_str("250 AUTH PLAIN\r\n");
    let server = Server::start(script(
        vec![send("220 x\r\n"), Expect("EHLO"), Send(ehlo.into_bytes()), Expect("AUTH PLAIN"), send("235 ok\r\n")],
        lockstep_transaction(),
    ));
    let mut c = client(server.port, Auth::Plain);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn nothing_listening_is_not_connected() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = client(port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_NOT_CONNECTED);
    assert_eq!(e.phase, Phase::Connect);
}

#[test]
fn replies_trickled_one_byte_at_a_time() {
    let mut steps = vec![];
    for b in "220-slow\r\n220 server\r\n".bytes() {
        steps.push(Send(vec![b]));
        steps.push(Pause(2));
    }
    steps.push(Expect("EHLO"));
    for b in "250-x\r\n250 AUTH LOGIN\r\n".bytes() {
        steps.push(Send(vec![b]));
        steps.push(Pause(2));
    }
    steps.extend([Expect("AUTH LOGIN"), send("334 \r\n"), Expect(""), send("334 \r\n"), Expect(""), send("235 ok\r\n")]);
    let server = Server::start(script(steps, lockstep_transaction()));
    let mut c = client(server.port, Auth::Login);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn trickling_does_not_extend_the_reply_timeout() {
    // Each byte arrives well within the timeout, but the reply as a whole never completes.
    let mut steps = vec![send("220 x\r\n"), Expect("EHLO")];
    for _ in 0..40 {
        steps.push(send("2"));
        steps.push(Pause(100));
        steps.push(send("50-x\r\n"));
    }
    let server = Server::start(steps);
    let mut cfg = config(server.port, Auth::None);
    cfg.port = server.port;
    cfg.timeouts = timeouts(800);
    let mut c = client_with(cfg);
    let started = Instant::now();
    expect_status(netx_send(&mut c), NX_NO_PACKET);
    assert!(started.elapsed() < Duration::from_millis(2000), "{:?}", started.elapsed());
}

#[test]
fn overall_deadline_bounds_the_whole_send() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), Pause(700), send("250-x\r\n"), Pause(700), send("250 x\r\n"), Silence(2000)]);
    let mut cfg = config(server.port, Auth::None);
    cfg.port = server.port;
    cfg.timeouts = Timeouts { total_ms: 1000, ..timeouts(5000) };
    let mut c = client_with(cfg);
    let started = Instant::now();
    expect_status(netx_send(&mut c), NX_NO_PACKET);
    assert!(started.elapsed() < Duration::from_millis(1600), "{:?}", started.elapsed());
}

#[test]
fn pipelining_sends_the_envelope_in_one_flight_and_quit_with_the_dot() {
    // The server reads MAIL, both RCPTs and DATA before answering anything: a lockstep
    // client would wait for the MAIL reply and the script would fail.
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 100000\r\n"),
        Expect("MAIL FROM:<recipient@domain.com> SIZE="),
        Expect("RCPT TO:<a@x.example>"),
        Expect("RCPT TO:<b@x.example>"),
        Expect("DATA"),
        send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectData,
        Expect("QUIT"),
        send("250 queued\r\n221 bye\r\n"),
    ]);
    let mut c = client(server.port, Auth::None);
    let sent = send_to(&mut c, &["a@x.example", "b@x.example"], b"hi\n").unwrap();
    assert_eq!(sent.refused, 0);
    let seen = server.finish();
    seen.assert_ok();
    let mail_line = seen.lines().into_iter().find(|l| l.starts_with("MAIL")).unwrap();
    assert!(mail_line.ends_with(" BODY=8BITMIME"), "{mail_line}");
}

#[test]
fn one_refused_recipient_fails_the_mail_by_default() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250 PIPELINING\r\n"),
        Expect("MAIL"),
        Expect("RCPT TO:<a@x.example>"),
        Expect("RCPT TO:<b@x.example>"),
        Expect("DATA"),
        send("250 ok\r\n250 ok\r\n550 5.1.1 no such user b\r\n354 go\r\n"),
        Silence(500),
    ]);
    let mut c = client(server.port, Auth::None);
    let e = expect_status(send_to(&mut c, &["a@x.example", "b@x.example"], b"hi\n"), NX_SMTP_RCPT_REPLY_ERROR);
    assert_eq!(e.reply.unwrap().text(), "5.1.1 no such user b");
    let seen = server.finish();
    seen.assert_ok();
    // Inside DATA nothing may be sent: no content, no dot, not even QUIT.
    assert!(seen.message.is_none());
}

#[test]
fn allow_partial_delivers_to_the_accepted_recipients() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250 x\r\n"),
        Expect("MAIL"),
        send("250 ok\r\n"),
        Expect("RCPT TO:<a@x.example>"),
        send("550 no a\r\n"),
        Expect("RCPT TO:<b@x.example>"),
        send("250 ok\r\n"),
        Expect("RCPT TO:<c@x.example>"),
        send("451 try later\r\n"),
        Expect("DATA"),
        send("354 go\r\n"),
        ExpectData,
        send("250 queued\r\n"),
        Expect("QUIT"),
        send("221 bye\r\n"),
    ]);
    let mut c = client(server.port, Auth::None);
    let mail = Mail::new("s", b"body\n").to(&["a@x.example", "b@x.example"]).cc(&["c@x.example"]).allow_partial(true);
    let sent = c.send(&mail).unwrap();
    assert_eq!(sent.refused, 0b101);
    server.finish().assert_ok();
}

#[test]
fn all_recipients_refused_even_with_allow_partial() {
    let server = Server::start(script(lockstep_until("RCPT"), vec![send("550 no\r\n"), Expect("QUIT")]));
    let mut c = client(server.port, Auth::None);
    let mail = Mail::new("s", b"body\n").to(&["a@x.example"]).allow_partial(true);
    expect_status(c.send(&mail), NX_SMTP_RCPT_REPLY_ERROR);
    let seen = server.finish();
    seen.assert_ok();
    assert!(!seen.lines().contains(&"DATA".to_string()));
}

#[test]
fn bytes_after_354_abort_before_any_content() {
    let server = Server::start(script(lockstep_until("DATA"), vec![send("354 go\r\n250 queued (too early)\r\n"), Silence(500)]));
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_SMTP_DATA_REPLY_ERROR);
    assert_eq!(e.kind, ErrorKind::Malformed);
    server.finish().assert_ok();
}

#[test]
fn size_limit_refuses_before_mail() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("250-x\r\n250 SIZE 1000\r\n"), Expect("QUIT")]);
    let mut c = client(server.port, Auth::None);
    let e = expect_status(netx_send(&mut c), NX_SMTP_OVERSIZE_MAIL_DATA);
    assert_eq!(e.kind, ErrorKind::TooLarge);
    let seen = server.finish();
    seen.assert_ok();
    assert!(!seen.lines().iter().any(|l| l.starts_with("MAIL")));
}

#[test]
fn utf8_address_needs_smtputf8() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n"), Expect("QUIT")]);
    let mut c = client(server.port, Auth::None);
    let e = expect_status(send_to(&mut c, &["josé@exemplo.br"], b"hi"), NX_SMTP_INVALID_PARAM);
    assert_eq!(e.kind, ErrorKind::InvalidInput(zsmtp::Field::Recipient, zsmtp::Invalid::NotSupportedByServer));
    server.finish().assert_ok();

    let server = Server::start(script(
        vec![send("220 x\r\n"), Expect("EHLO"), send("250-x\r\n250 SMTPUTF8\r\n"), Expect("MAIL FROM:<recipient@domain.com> SMTPUTF8")],
        vec![send("250 ok\r\n"), Expect("RCPT TO:<josé@exemplo.br>"), send("250 ok\r\n"), Expect("DATA"), send("354 go\r\n"), ExpectData, send("250 ok\r\n"), Expect("QUIT"), send("221 bye\r\n")],
    ));
    let mut c = client(server.port, Auth::None);
    send_to(&mut c, &["josé@exemplo.br"], b"hi").unwrap();
    server.finish().assert_ok();
}

#[test]
fn invalid_input_never_reaches_the_wire() {
    let server = Server::start(vec![]);
    let port = server.port;
    let mut c = client(port, Auth::None);
    let cases: Vec<(Mail<'_>, u32)> = vec![
        (Mail::new("Subject\r\nBcc: evil@x", b"b").to(&["a@x.example"]), NX_SMTP_INVALID_PARAM),
        (Mail::new("s", b"b").to(&["a@x.example\r\nRCPT TO:<evil@x>"]), NX_SMTP_INVALID_PARAM),
        (Mail::new("s", b"b").to(&["a@x.example>"]), NX_SMTP_INVALID_PARAM),
        (Mail::new("s", b"").to(&["a@x.example"]), NX_SMTP_INVALID_PARAM),
        (Mail::new("s", b"a\0b").to(&["a@x.example"]), NX_SMTP_INVALID_PARAM),
        (Mail::new("s", &[b'x'; 1200]).to(&["a@x.example"]), NX_SMTP_INVALID_PARAM),
        (Mail::new("s", b"b"), NX_SMTP_INVALID_PARAM),
    ];
    for (mail, status) in cases {
        expect_status(c.send(&mail), status);
    }
    let seen = server.finish();
    assert!(!seen.connected, "an invalid mail opened a connection");
    // Bad configuration is refused when the client is made.
    let bad = Config::new("127.0.0.1", port, DOMAIN, ADDR).auth(Auth::Plain, USER, "pass\nword");
    let e = Client::<_, _>::new(bad, StdTransport::new(), StdClock::new()).err().unwrap();
    assert_eq!(e.status(), NX_SMTP_INVALID_PARAM);
}

#[test]
fn body_encoding_on_the_wire() {
    let server = Server::start(script(up_to_data(), vec![send("250 ok\r\n"), Expect("QUIT"), send("221 bye\r\n")]));
    let mut c = client(server.port, Auth::None);
    send_to(&mut c, &["a@x.example"], b".first\nbare lf\rbare cr\r\n.\r\nlast").unwrap();
    let seen = server.finish();
    seen.assert_ok();
    let msg = String::from_utf8(seen.message.unwrap()).unwrap();
    let content = msg.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(content, "..first\r\nbare lf\r\nbare cr\r\n..\r\nlast");
}

#[test]
fn headers_priority_cc_and_no_bcc() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250 PIPELINING\r\n"),
        Expect("MAIL"),
        Expect("RCPT TO:<t@x.example>"),
        Expect("RCPT TO:<c@x.example>"),
        Expect("RCPT TO:<hidden@x.example>"),
        Expect("DATA"),
        send("250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectData,
        Expect("QUIT"),
        send("250 ok\r\n221 bye\r\n"),
    ]);
    let mut c = client(server.port, Auth::None);
    let mail = Mail::new("Température", b"x").to(&["<t@x.example>"]).cc(&["c@x.example"]).bcc(&["hidden@x.example"]).priority(Priority::Low);
    c.send(&mail).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    let msg = String::from_utf8(seen.message.unwrap()).unwrap();
    let headers = msg.split_once("\r\n\r\n").unwrap().0;
    assert!(headers.contains("\r\nTo: t@x.example\r\n"), "{headers}");
    assert!(headers.contains("\r\nCc: c@x.example\r\n"));
    assert!(!headers.contains("hidden"));
    assert!(headers.contains("Subject: =?utf-8?B?VGVtcMOpcmF0dXJl?="));
    assert!(headers.contains("X-Priority: 5 (Lowest)\r\nImportance: low"));
    assert!(headers.contains("Date: ") && headers.contains("Message-ID: <"));
}

#[test]
fn streamed_body_from_a_reader() {
    let server = Server::start(script(up_to_data(), vec![send("250 ok\r\n"), Expect("QUIT"), send("221 bye\r\n")]));
    let mut c = client(server.port, Auth::None);
    let body: Vec<u8> = (0..5000).flat_map(|i| format!(".line {i}\n").into_bytes()).collect();
    let mail = Mail::new("streamed", b"");
    let to = ["a@x.example"];
    c.send_from_reader(&mail.to(&to), body.as_slice()).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    let expected: Vec<u8> = (0..5000).flat_map(|i| format!(".line {i}\r\n").into_bytes()).collect();
    assert_body_delivered(&seen, &expected);
}

#[test]
fn streamed_body_with_an_overlong_line_is_abandoned_before_the_dot() {
    let server = Server::start(script(up_to_data_no_message(), vec![Silence(500)]));
    let mut c = client(server.port, Auth::None);
    let mut body = b"fine\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 5000));
    let to = ["a@x.example"];
    let e = expect_status(c.send_from_reader(&Mail::new("s", b"").to(&to), body.as_slice()), NX_SMTP_INVALID_PARAM);
    assert_eq!(e.phase, Phase::Message);
    let seen = server.finish();
    let text = String::from_utf8_lossy(&seen.received);
    assert!(!text.contains("\r\n.\r\n"), "the terminator must never be sent");
}

fn up_to_data_no_message() -> Vec<Step> {
    let mut steps = up_to_data();
    steps.pop();
    steps
}

#[test]
fn ipv6_loopback() {
    let Ok(probe) = std::net::TcpListener::bind("[::1]:0") else {
        panic!("IPv6 loopback is not available on this machine");
    };
    drop(probe);
    let server = Server::start_on("[::1]:0", script(vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n")], lockstep_transaction()));
    let cfg = Config::new("::1", server.port, DOMAIN, ADDR).timeouts(timeouts(3000));
    let mut c = client_with(cfg);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn ehlo_with_an_ip_literal_domain() {
    let server = Server::start(script(vec![send("220 x\r\n"), Expect("EHLO [IPv6:2001:db8::7]"), send("250 x\r\n")], lockstep_transaction()));
    let cfg = Config::new("127.0.0.1", server.port, "2001:db8::7", ADDR).timeouts(timeouts(3000));
    let mut c = client_with(cfg);
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn one_client_sends_many_mails_in_a_row() {
    let mut cfg = config(0, Auth::None);
    for i in 0..5 {
        let server = Server::start(script(vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n")], lockstep_transaction()));
        cfg.port = server.port;
        let mut c = client_with(cfg);
        netx_send(&mut c).unwrap_or_else(|e| panic!("mail {i}: {e}"));
        server.finish().assert_ok();
    }
}

// ---- a connection kept for several mails ----

fn pipelined_mail(to: &'static str) -> Vec<Step> {
    vec![
        Expect("MAIL FROM:<recipient@domain.com>"),
        Expect(to),
        Expect("DATA"),
        send("250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectData,
        send("250 queued\r\n"),
    ]
}

fn pipelining_handshake() -> Vec<Step> {
    vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n"),
        Expect("AUTH PLAIN"),
        send("235 ok\r\n"),
    ]
}

#[test]
fn kept_connection_sends_several_mails_with_one_handshake() {
    let mut steps = pipelining_handshake();
    for _ in 0..3 {
        steps.extend(pipelined_mail("RCPT TO:<a@x.example>"));
    }
    steps.extend([Expect("QUIT"), send("221 bye\r\n")]);
    let server = Server::start(steps);
    let mut c = client(server.port, Auth::Plain);
    {
        let mut conn = c.connect().unwrap();
        for i in 0..3 {
            let sent = send_on(&mut conn, &["a@x.example"], format!("mail {i}\n").as_bytes()).unwrap();
            assert_eq!(sent.reply.text(), "queued");
        }
        assert!(conn.is_open());
    } // dropped: QUIT
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.commands().iter().filter(|l| l.starts_with("EHLO")).count(), 1);
}

fn send_on(conn: &mut zsmtp::Connection<'_, '_, StdTransport, StdClock>, to: &[&str], body: &[u8]) -> Result<Sent, Error> {
    conn.send(&Mail::new(SUBJECT, body).to(to))
}

#[test]
fn kept_connection_resets_after_a_refused_mail() {
    let mut steps = pipelining_handshake();
    steps.extend([
        Expect("MAIL"),
        Expect("RCPT TO:<nobody@x.example>"),
        Expect("DATA"),
        send("250 ok\r\n550 5.1.1 no such user\r\n554 no valid recipients\r\n"),
        // The next mail: RSET in the same flight as its envelope.
        Expect("RSET"),
    ]);
    steps.extend([
        Expect("MAIL"),
        Expect("RCPT TO:<a@x.example>"),
        Expect("DATA"),
        send("250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
        ExpectData,
        send("250 queued\r\n"),
    ]);
    steps.extend([Expect("QUIT"), send("221 bye\r\n")]);
    let server = Server::start(steps);
    let mut c = client(server.port, Auth::Plain);
    let mut conn = c.connect().unwrap();
    let e = send_on(&mut conn, &["nobody@x.example"], b"x\n").unwrap_err();
    assert_eq!(e.status(), NX_SMTP_RCPT_REPLY_ERROR);
    assert!(conn.is_open(), "an orderly refusal keeps the connection");
    send_on(&mut conn, &["a@x.example"], b"y\n").unwrap();
    conn.close();
    server.finish().assert_ok();
}

#[test]
fn kept_connection_reconnects_after_a_broken_link() {
    let mut first = pipelining_handshake();
    first.extend([Expect("MAIL"), Expect("RCPT"), Expect("DATA"), Close]);
    let mut second = pipelining_handshake();
    second.extend(pipelined_mail("RCPT TO:<a@x.example>"));
    second.extend([Expect("QUIT"), send("221 bye\r\n")]);
    let server = Server::start_sequence(vec![first, second]);
    let mut c = client(server.port, Auth::Plain);
    let mut conn = c.connect().unwrap();
    let e = send_on(&mut conn, &["a@x.example"], b"x\n").unwrap_err();
    assert_eq!(e.status(), NX_NOT_CONNECTED);
    assert!(!conn.is_open());
    send_on(&mut conn, &["a@x.example"], b"y\n").unwrap();
    drop(conn);
    for seen in server.finish() {
        seen.assert_ok();
    }
}

#[test]
fn connect_reports_a_refused_greeting() {
    let server = Server::start(vec![send("554 go away\r\n"), Expect("QUIT")]);
    let mut c = client(server.port, Auth::Plain);
    let e = c.connect().err().unwrap();
    assert_eq!(e.status(), NX_SMTP_GREET_REPLY_ERROR);
    assert_eq!(c.last_reply().unwrap().code, 554);
    server.finish().assert_ok();
}

// ---- TLS policy (the engine's part; handshakes are tested with real servers) ----

fn tls_config(port: u16, mode: zsmtp::TlsMode, auth: Auth) -> Config<'static> {
    let mut c = Config::new("127.0.0.1", port, DOMAIN, ADDR).auth(auth, USER, PASS).timeouts(timeouts(3000)).tls(mode);
    if auth == Auth::None {
        c = c.auth(Auth::None, "", "");
    }
    c
}

#[test]
fn starttls_required_but_not_offered_is_a_downgrade() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("250-x\r\n250 AUTH PLAIN LOGIN\r\n"), Expect("QUIT")]);
    let mut c = client_with(tls_config(server.port, zsmtp::TlsMode::StartTls, Auth::Plain));
    let e = expect_status(netx_send(&mut c), NX_SMTP_STARTTLS_UNAVAILABLE);
    assert_eq!((e.kind, e.phase), (ErrorKind::StartTlsNotOffered, Phase::Tls));
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["EHLO domain.com", "QUIT"], "no AUTH, no MAIL");
}

#[test]
fn starttls_refused_by_the_server() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250 STARTTLS\r\n"),
        Expect("STARTTLS"),
        send("454 4.7.0 TLS not available due to local problem\r\n"),
        Expect("QUIT"),
    ]);
    let mut c = client_with(tls_config(server.port, zsmtp::TlsMode::StartTls, Auth::Plain));
    let e = expect_status(netx_send(&mut c), NX_SMTP_STARTTLS_UNAVAILABLE);
    assert_eq!(e.reply.unwrap().code, 454);
    server.finish().assert_ok();
}

#[test]
fn bytes_after_starttls_220_are_an_injection() {
    // CVE-2021-22947 class: a man in the middle appends a reply to "220 ready" that a
    // careless client would read after the handshake as if the server had sent it in TLS.
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250 STARTTLS\r\n"),
        Expect("STARTTLS"),
        send("220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 AUTH PLAIN\r\n"),
        Silence(500),
    ]);
    let mut c = client_with(tls_config(server.port, zsmtp::TlsMode::StartTls, Auth::Plain));
    let e = expect_status(netx_send(&mut c), NX_SMTP_TLS_UNEXPECTED_DATA);
    assert_eq!(e.kind, ErrorKind::TlsUnexpectedData);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["EHLO domain.com", "STARTTLS"], "nothing after the injection");
}

#[test]
fn a_failed_handshake_sends_no_credentials() {
    // The server says "go ahead" but speaks no TLS: the handshake fails, and nothing but
    // the handshake's own bytes follows STARTTLS.
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"),
        Expect("STARTTLS"),
        send("220 go ahead\r\n"),
        Pause(200),
        send("this is not TLS\r\n"),
        Silence(300),
    ]);
    let mut c = client_with(tls_config(server.port, zsmtp::TlsMode::StartTls, Auth::Plain));
    let e = netx_send(&mut c).unwrap_err();
    assert_eq!(e.phase, Phase::Tls);
    assert!(matches!(e.kind, ErrorKind::Tls(_)), "{e:?}");
    let seen = server.finish();
    let text = String::from_utf8_lossy(&seen.received);
    assert!(text.starts_with("EHLO domain.com\r\nSTARTTLS\r\n"), "{text:?}");
    assert!(!text.contains("AUTH") && !text.contains("MAIL"), "{text:?}");
    assert!(!text.contains(&b64(b"\0recipient@domain.com\0testpwd")));
}

#[test]
fn credentials_are_never_sent_in_clear_by_default() {
    let server = Server::start(vec![send("220 x\r\n"), Expect("EHLO"), send("250-x\r\n250 AUTH PLAIN LOGIN\r\n"), Expect("QUIT")]);
    let cfg = Config::new("127.0.0.1", server.port, DOMAIN, ADDR).auth(Auth::Plain, USER, PASS).timeouts(timeouts(3000));
    assert!(!cfg.allow_plaintext_auth && cfg.tls == zsmtp::TlsMode::None);
    let mut c = client_with(cfg);
    let e = expect_status(netx_send(&mut c), NX_SMTP_PLAINTEXT_AUTH_REFUSED);
    assert_eq!(e.kind, ErrorKind::PlaintextAuthRefused);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.lines(), ["EHLO domain.com", "QUIT"]);
    // Without credentials a cleartext session is fine.
    let server = Server::start(script(vec![send("220 x\r\n"), Expect("EHLO"), send("250 x\r\n")], lockstep_transaction()));
    let mut c = client_with(tls_config(server.port, zsmtp::TlsMode::None, Auth::None));
    netx_send(&mut c).unwrap();
    server.finish().assert_ok();
}

#[test]
fn pipelined_mail_refused_then_silence_reports_the_refusal_and_drops_the_connection() {
    // The server refuses MAIL and never answers the RCPT and DATA of the same flight: the
    // refusal is the answer (0xA9), and the connection, out of step, is not reused.
    let mut first = pipelining_handshake();
    first.extend([Expect("MAIL"), Expect("RCPT"), Expect("DATA"), send("550 5.1.8 sender rejected\r\n"), Silence(1500)]);
    let mut second = pipelining_handshake();
    second.extend(pipelined_mail("RCPT TO:<a@x.example>"));
    second.extend([Expect("QUIT"), send("221 bye\r\n")]);
    let server = Server::start_sequence(vec![first, second]);
    let mut cfg = config(server.port, Auth::Plain);
    cfg.port = server.port;
    cfg.timeouts = timeouts(500);
    let mut c = client_with(cfg);
    let mut conn = c.connect().unwrap();
    let e = send_on(&mut conn, &["a@x.example"], b"x\n").unwrap_err();
    assert_eq!(e.status(), NX_SMTP_MAIL_REPLY_ERROR);
    assert_eq!(e.reply.as_ref().unwrap().code, 550);
    assert!(!conn.is_open(), "a connection out of step must not be reused");
    send_on(&mut conn, &["a@x.example"], b"y\n").unwrap();
    drop(conn);
    let seen = server.finish();
    assert!(!seen[0].commands().iter().any(|l| l == "RSET"), "{:?}", seen[0].commands());
    seen[1].assert_ok();
}
