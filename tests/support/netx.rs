//! NetX Duo's regression fixture (../shared/reference/netx-smtp-behaviour.md), shared by the
//! tests of the full engine (scripted.rs) and of the C API in both profiles (capi_profiles.rs,
//! small.rs).

use super::*;

pub const USER: &str = "recipient@domain.com";
pub const PASS: &str = "testpwd";
pub const ADDR: &str = "recipient@domain.com";
pub const DOMAIN: &str = "domain.com";
pub const SUBJECT: &str = "NetX Duo SMTP Client Demo";

pub const GREETING: &str = "220-expresslogic.com ESMTP server ready\r\n220-second line\r\n220-third line\r\n220 fourth line\r\n";
pub const EHLO: &str = "250-expresslogic.com Hello\r\n250-ETRN\r\n250-AUTH LOGIN CRAM-MD5 PLAIN\r\n250-8BITMIME\r\n250 SIZE\r\n";
pub const QUIT_REPLY: &str = "221 expresslogic.com closing connection\r\n\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// NetX's 1344-byte body with lines starting with '.'.
pub fn netx_body() -> Vec<u8> {
    let mut body = Vec::new();
    let mut n = 0;
    while body.len() < 1344 {
        let line = if n % 4 == 1 { format!(".line {n} starts with a dot\r\n") } else { format!("line {n} of the NetX Duo demo message body.\r\n") };
        body.extend_from_slice(line.as_bytes());
        n += 1;
    }
    body.truncate(1342);
    body.extend_from_slice(b"\r\n");
    body
}

/// The lockstep transaction after AUTH, as NetX's canned server plays it.
pub fn lockstep_transaction() -> Vec<Step> {
    vec![
        Expect("MAIL FROM:<recipient@domain.com>"),
        send("250 sender ok\r\n"),
        Expect("RCPT TO:<recipient@domain.com>"),
        send("250 recipient ok\r\n"),
        Expect("DATA"),
        send("354 go ahead\r\n"),
        ExpectData,
        send("250 message accepted\r\n"),
        Expect("QUIT"),
        Send(QUIT_REPLY.as_bytes().to_vec()),
    ]
}

pub fn script(head: Vec<Step>, tail: Vec<Step>) -> Vec<Step> {
    head.into_iter().chain(tail).collect()
}

/// The delivered content equals the body (after the header block), un-stuffed.
pub fn assert_body_delivered(seen: &Seen, body: &[u8]) {
    let message = seen.message.as_ref().expect("message content");
    let text = String::from_utf8_lossy(message).to_string();
    let (_, content) = text.split_once("\r\n\r\n").expect("header block");
    let mut unstuffed = String::new();
    for line in format!("{content}\r\n").split_inclusive("\r\n") {
        unstuffed.push_str(line.strip_prefix('.').unwrap_or(line));
    }
    assert_eq!(unstuffed.as_bytes(), body);
}

/// Scenario 2: AUTH LOGIN with the prompts in the wrong order and case (answered by position).
pub fn netx_2_login_script() -> Vec<Step> {
    script(
        vec![
            send(GREETING),
            Expect("EHLO"),
            send(EHLO),
            Expect("AUTH LOGIN"),
            send("334 VXNlcm5hbWU6\r\n"),
            Expect("cmVjaXBpZW50QGRvbWFpbi5jb20="),
            send("334 cGFzc3dvcmQ6\r\n"),
            Expect("dGVzdHB3ZA=="),
            send("235 ok\r\n"),
        ],
        lockstep_transaction(),
    )
}

/// Scenario 5: the EHLO reply in two packets a second apart; the client waits silently.
pub fn netx_5_two_packet_ehlo_script() -> Vec<Step> {
    script(
        vec![
            send(GREETING),
            Expect("EHLO"),
            send("250-expresslogic.com Hello\r\n250-ETRN\r\n250-AUTH LOGIN CRAM-MD5 PLAIN\r\n250-8BITMIME\r\n"),
            Silence(1000),
            send("250 SIZE\r\n"),
            Expect("AUTH PLAIN "),
            send("235 ok\r\n"),
        ],
        lockstep_transaction(),
    )
}

/// Scenario 6: AUTH in the second packet, whose last line starts with a space (NetX's quirk).
pub fn netx_6_auth_in_second_packet_script() -> Vec<Step> {
    script(
        vec![
            send(GREETING),
            Expect("EHLO"),
            send("250-expresslogic.com Hello\r\n250-ETRN\r\n"),
            Silence(300),
            send("250-AUTH LOGIN CRAM-MD5 PLAIN\r\n 250 SIZE\r\n"),
            Expect("AUTH PLAIN "),
            send("235 ok\r\n"),
        ],
        lockstep_transaction(),
    )
}
