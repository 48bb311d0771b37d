//! The library against a real Postfix (live suite: feature `live-servers`, servers from
//! scripts/servers/start-all.sh; 127.0.0.1:2525, SASL user alice / secret123, Maildir delivery
//! for example.test under $ZSMTP_MAILDIR).

mod support;

use support::live::{delivered, token};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Mail};

const SERVER: &str = "127.0.0.1";
const PORT: u16 = 2525;

/// The body of a stored message (after the blank line), with LF line ends as Postfix stores.
fn stored_body(message: &[u8]) -> &[u8] {
    let at = message.windows(2).position(|w| w == b"\n\n").expect("header end");
    &message[at + 2..]
}

fn config() -> Config<'static> {
    Config::new(SERVER, PORT, "device.example.test", "alice@example.test").auth(Auth::Login, "alice", "secret123").allow_plaintext_auth(true)
}

#[test]
fn kept_connection_delivers_every_mail() {
    let tag = token("kept");
    let mut client: Client<'_, _, _> = Client::new(config(), StdTransport::new(), StdClock::new()).unwrap();
    let mut conn = client.connect().unwrap();
    for i in 0..10 {
        let subject = format!("{tag} #{i}");
        let body = format!("mail {i} of {tag}\n.dot line\n");
        conn.send(&Mail::new(&subject, body.as_bytes()).to(&["bob@example.test"])).unwrap();
    }
    // A refused recipient in the middle leaves the connection usable.
    let e = conn.send(&Mail::new(&tag, b"x\n").to(&["nobody@strict.test"])).unwrap_err();
    assert_eq!(e.status(), zsmtp::status::NX_SMTP_RCPT_REPLY_ERROR);
    conn.send(&Mail::new(&format!("{tag} #10"), b"after the refusal\n").to(&["bob@example.test"])).unwrap();
    conn.close();
    let mails = delivered("bob", &tag, 11);
    for m in &mails {
        let text = String::from_utf8_lossy(m);
        assert!(text.contains("with ESMTPA"), "{text}");
    }
}

#[test]
fn streamed_two_megabyte_body_arrives_intact() {
    let tag = token("stream");
    let mut body = Vec::new();
    let mut i = 0;
    while body.len() < 2 * 1024 * 1024 {
        body.extend_from_slice(format!("{}line {i} {tag} ÄÖÜ\r\n", if i % 7 == 0 { "." } else { "" }).as_bytes());
        i += 1;
    }
    let mut client: Client<'_, _, _> = Client::new(config(), StdTransport::new(), StdClock::new()).unwrap();
    let to = ["carol@example.test"];
    client.send_from_reader(&Mail::new(&tag, b"").to(&to), body.as_slice()).unwrap();
    let mails = delivered("carol", &tag, 1);
    let expected: Vec<u8> = String::from_utf8(body).unwrap().replace("\r\n", "\n").into_bytes();
    assert!(stored_body(&mails[0]) == expected.as_slice(), "the stored body differs");
}

/// The transport Zephyr uses (the C shim), here through its POSIX twin: the same Rust code
/// as on the device, against the same real server.
#[cfg(feature = "zsock")]
#[test]
fn zephyr_transport_path_delivers() {
    use zsmtp::transport::shim::{ShimClock, ShimTransport};
    let tag = token("zsock");
    let mut client: Client<'_, _, _> = Client::new(config(), ShimTransport::new(), ShimClock::new()).unwrap();
    let to = ["dave@example.test"];
    client.send(&Mail::new(&tag, b"via the shim\n..two dots\n").to(&to)).unwrap();
    let mails = delivered("dave", &tag, 1);
    assert_eq!(stored_body(&mails[0]), b"via the shim\n..two dots\n");
}
