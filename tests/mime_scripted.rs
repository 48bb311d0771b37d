//! MIME mail (feature `mime`) against the scripted server, for what a real server cannot show:
//! a reader that fails in the middle of an attachment (the final dot must never leave), the
//! SIZE= declared (only when every size is known), a check that refuses before connecting, and
//! the exact bytes sent with and without 8BITMIME. Postfix reads real attachments back in
//! tests/live_attachments.rs.

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use support::readers::FailingReader;
use support::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Attachment, Client, Config, ErrorKind, Field, Invalid, Mail, Phase, Timeouts};

const EHLO_8BIT: &str = "250-x\r\n250-8BITMIME\r\n250 SIZE 100000000\r\n";
const EHLO_7BIT: &str = "250-x\r\n250 SIZE 100000000\r\n";

fn client(port: u16) -> Client<'static, StdTransport, StdClock> {
    let timeouts = Timeouts { connect_ms: 2000, greeting_ms: 3000, reply_ms: 3000, send_ms: 3000, final_reply_ms: 3000, total_ms: 20_000 };
    let config = Config::new("127.0.0.1", port, "device.example", "dev@example.com").timeouts(timeouts);
    Client::new(config, StdTransport::new(), StdClock::new()).unwrap()
}

/// (The scripted server's `message` is the content before the terminator "\r\n.\r\n".)
/// A whole accepted transaction in lockstep, with `ehlo` as the capabilities.
fn accepting(ehlo: &str) -> Vec<Step> {
    vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send(ehlo),
        Expect("MAIL FROM:"),
        send("250 ok\r\n"),
        Expect("RCPT TO:"),
        send("250 ok\r\n"),
        Expect("DATA"),
        send("354 go\r\n"),
        ExpectData,
        send("250 queued\r\n"),
        Expect("QUIT"),
        send("221 bye\r\n"),
    ]
}

#[test]
fn a_reader_failing_mid_attachment_never_ends_the_data() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send(EHLO_8BIT),
        Expect("MAIL FROM:"),
        send("250 ok\r\n"),
        Expect("RCPT TO:"),
        send("250 ok\r\n"),
        Expect("DATA"),
        send("354 go\r\n"),
        Mark,
        // Records everything until the client closes the connection.
        Hold(5000),
    ]);
    let mut c = client(server.port);
    let mut first = &b"a whole first attachment"[..];
    let mut failing = FailingReader::new(10_000);
    let mut attachments = [Attachment::new("first.txt", &mut first), Attachment::new("log.bin", &mut failing)];
    let e = c.send_mime(&Mail::new("s", b"text\n").to(&["a@x.example"]), &mut attachments).unwrap_err();
    assert_eq!((e.kind, e.phase), (ErrorKind::BodyRead, Phase::Message));
    let seen = server.finish();
    seen.assert_ok();
    let after_data = seen.after_mark(0);
    let text = String::from_utf8_lossy(after_data);
    // The mail went out up to the failing reader (its first 10,000 bytes as base64 lines of 76
    // characters: 131 of them, the last partial one maybe held back)...
    assert!(text.contains("filename=\"log.bin\""), "{text}");
    let after_part = &text[text.find("filename=\"log.bin\"").unwrap()..];
    assert!(after_part.split("\r\n").filter(|l| l.len() == 76).count() >= 130, "{after_part}");
    // ... and then nothing: no end of the attachment, no terminator, no QUIT.
    assert!(!after_data.windows(5).any(|w| w == b"\r\n.\r\n"), "the final dot was sent");
    assert!(!text.contains("=_zsmtp_mixed--"));
    assert!(!text.contains("QUIT"));
}

#[test]
fn a_reader_shorter_than_its_size_never_ends_the_data() {
    let server = Server::start(vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send(EHLO_8BIT),
        Expect("MAIL FROM:"),
        send("250 ok\r\n"),
        Expect("RCPT TO:"),
        send("250 ok\r\n"),
        Expect("DATA"),
        send("354 go\r\n"),
        Mark,
        Hold(5000),
    ]);
    let mut c = client(server.port);
    let mut short = &[7u8; 100][..];
    let mut attachments = [Attachment::new("a.bin", &mut short).size(101)];
    let e = c.send_mime(&Mail::new("s", b"text\n").to(&["a@x.example"]), &mut attachments).unwrap_err();
    assert_eq!((e.kind, e.phase), (ErrorKind::BodyRead, Phase::Message));
    let seen = server.finish();
    seen.assert_ok();
    assert!(!seen.after_mark(0).windows(5).any(|w| w == b"\r\n.\r\n"), "the final dot was sent");
}

fn size_declared(lines: &[String]) -> Option<u64> {
    let mail = lines.iter().find(|l| l.starts_with("MAIL FROM:")).unwrap();
    mail.split(' ').find_map(|p| p.strip_prefix("SIZE=")).map(|n| n.parse().unwrap())
}

#[test]
fn size_is_declared_only_when_every_size_is_known() {
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
    for ehlo in [EHLO_8BIT, EHLO_7BIT] {
        let server = Server::start(accepting(ehlo));
        let (mut a, mut b) = (&data[..], &data[..57]);
        let mut attachments = [Attachment::new("a.bin", &mut a).size(5000), Attachment::new("Grüße.txt", &mut b).size(57)];
        let mail = Mail::new("s", "Grüße\n.dot\n".as_bytes()).html(b"<p>hi</p>").to(&["a@x.example"]);
        client(server.port).send_mime(&mail, &mut attachments).unwrap();
        let seen = server.finish();
        seen.assert_ok();
        let declared = size_declared(&seen.lines()).expect("SIZE= declared");
        // What the server saw, and the "\r\n.\r\n" it stopped at.
        let actual = seen.message.as_ref().unwrap().len() as u64 + 5;
        // The header block is counted with the widest Message-ID: at most 32 bytes more.
        assert!(declared >= actual && declared - actual <= 32, "declared {declared}, sent {actual}");
    }
    let server = Server::start(accepting(EHLO_8BIT));
    let (mut a, mut b) = (&data[..], &data[..57]);
    let mut attachments = [Attachment::new("a.bin", &mut a).size(5000), Attachment::new("b.bin", &mut b)];
    client(server.port).send_mime(&Mail::new("s", b"t\n").to(&["a@x.example"]), &mut attachments).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(size_declared(&seen.lines()), None);
}

#[test]
fn bad_attachments_are_refused_before_connecting() {
    let server = Server::start(vec![]);
    let mut c = client(server.port);
    let mail = Mail::new("s", b"t\n").to(&["a@x.example"]);
    for (name, content_type, why) in [
        ("", None, Invalid::Empty),
        ("a\r\nBcc: x.txt", None, Invalid::ControlCharacter),
        ("a.txt", Some("text/plain\r\nX: y"), Invalid::ControlCharacter),
        ("a.txt", Some("plain"), Invalid::Syntax),
    ] {
        let mut r = &b"x"[..];
        let mut a = Attachment::new(name, &mut r);
        if let Some(t) = content_type {
            a = a.content_type(t);
        }
        let e = c.send_mime(&mail, &mut [a]).unwrap_err();
        assert_eq!((e.kind, e.phase), (ErrorKind::InvalidInput(Field::Attachment, why), Phase::Validate), "{name:?}");
    }
    assert!(!server.finish().connected, "nothing may be sent");
}

fn sent_mime(ehlo: &str, text: &[u8], html: &[u8]) -> Vec<u8> {
    let server = Server::start(accepting(ehlo));
    let mut bin = &[0u8, 0xff, b'.', b'\n', b'\r'][..];
    let mut attachments = [Attachment::new("€ report.bin", &mut bin)];
    let mail = Mail::new("s", text).html(html).to(&["a@x.example"]);
    client(server.port).send_mime(&mail, &mut attachments).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    let lines = seen.lines();
    let eight_bit = lines.iter().any(|l| l.starts_with("MAIL FROM:") && l.contains("BODY=8BITMIME"));
    assert_eq!(eight_bit, ehlo.contains("8BITMIME"));
    seen.message.unwrap()
}

#[test]
fn without_8bitmime_the_mail_is_7bit_clean_with_short_lines() {
    let long_line = "Überlänge ".repeat(200);
    let text = format!("Grüße aus dem Kühlhaus\n{long_line}\n.\n");
    let html = format!("<p>Grüße</p><p>{long_line}</p>");
    let message = sent_mime(EHLO_7BIT, text.as_bytes(), html.as_bytes());
    assert!(message.iter().all(|&b| b < 0x80), "8-bit byte sent to a 7-bit server");
    for line in message.split(|&b| b == b'\n') {
        assert!(line.len() <= 78, "{}", String::from_utf8_lossy(line));
    }
    let text = String::from_utf8(message).unwrap();
    assert_eq!(text.matches("Content-Transfer-Encoding: quoted-printable").count(), 2, "{text}");
    assert!(text.contains("Content-Type: multipart/mixed; boundary=\"=_zsmtp_mixed\"\r\n"));
    assert!(text.contains("filename*=utf-8''%E2%82%AC%20report.bin"));
    assert!(text.contains("\r\n\r\nAP8uCg0=\r\n"), "the attachment's base64: {text}");
}

#[test]
fn with_8bitmime_the_text_goes_as_it_is() {
    let message = sent_mime(EHLO_8BIT, "Grüße\n.dot\n".as_bytes(), b"<p>plain ascii</p>");
    let text = String::from_utf8(message).unwrap();
    assert!(text.contains("Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n..dot\r\n"), "{text}");
    assert!(text.contains("Content-Transfer-Encoding: 7bit\r\n\r\n<p>plain ascii</p>\r\n--=_zsmtp_alternative--"), "{text}");
}

#[test]
fn html_alone_is_multipart_alternative_through_send() {
    let server = Server::start(accepting(EHLO_8BIT));
    let mail = Mail::new("s", b"text\n").html(b"<p>html</p>").to(&["a@x.example"]);
    client(server.port).send(&mail).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    let text = String::from_utf8(seen.message.unwrap()).unwrap();
    assert!(text.contains("MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_zsmtp_alternative\"\r\n"), "{text}");
    assert!(!text.contains("mixed"));
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        body,
        "\r\n--=_zsmtp_alternative\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\ntext\r\n\r\n\
         --=_zsmtp_alternative\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n<p>html</p>\r\n\
         --=_zsmtp_alternative--"
    );
}

#[test]
fn text_alone_goes_quoted_printable_to_a_7bit_server() {
    let server = Server::start(accepting(EHLO_7BIT));
    let mail = Mail::new("s", "Grüße\n".as_bytes()).to(&["a@x.example"]);
    client(server.port).send_mime(&mail, &mut []).unwrap();
    let seen = server.finish();
    seen.assert_ok();
    let text = String::from_utf8(seen.message.unwrap()).unwrap();
    assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nGr=C3=BC=C3=9Fe"), "{text}");
}
