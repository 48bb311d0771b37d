//! The whole engine against a fuzzed server: the fuzz input is the byte stream a server
//! sends (over every connection of the run), read in pieces of a fuzzed size, followed by
//! EOF, silence or a reset; writes may be partial and the link may break after a fuzzed
//! number of written bytes. One-shot sends and kept connections (several mails, RSET,
//! reconnects) are both driven.
//!
//! Properties: no panic; every send returns after a bounded number of reads; a send is Ok
//! only if its message terminator was written and a 2xx line arrived after it; once the
//! terminator was written, a failure is "outcome unknown" or the server's own refusal,
//! never a plain failure (a caller would retry and duplicate the mail); credentials are
//! never written unless the server's bytes mention AUTH; nothing is sent in clear after a
//! required STARTTLS fails (this transport has no TLS).
#![no_main]

use core::cell::{Cell, RefCell};
use libfuzzer_sys::fuzz_target;
use std::rc::Rc;
use zsmtp::{status, Auth, Client, Config, Error, ErrorKind, Mail, Phase, Priority, Sent, Timeouts, TlsMode};
use zsmtp_fuzz::{has_positive_line, AtEnd, Bytes, FuzzClock, FuzzTransport, LinkState};

const USER: &str = "fuzz-user";
const PASS: &str = "fuzz-Pa55w0rd";

/// Checks one send; `reads_before` is the read count when it started.
fn check(result: &Result<Sent, Error>, link: &LinkState<'_>, reads_before: usize) {
    // Every read either consumes server bytes or ends a wait (EOF, silence, reset): a send
    // may read every byte once plus a few reads per reply wait.
    let reads = link.reads - reads_before;
    assert!(reads <= link.server.len() + 64, "{reads} reads for one send of {} server bytes", link.server.len());
    match (result, link.terminator_read_pos) {
        (Ok(sent), Some(at)) => {
            assert!((200..300).contains(&sent.reply.code), "Ok with {}", sent.reply.code);
            assert!(has_positive_line(&link.server[at..link.pos]), "Ok without a 2xx line after the terminator");
        }
        (Ok(_), None) => panic!("Ok although the message terminator was never written"),
        (Err(e), Some(_)) => {
            let refusal = e.kind == ErrorKind::Rejected && e.phase == Phase::Message && e.reply.is_some();
            assert!(e.status() == status::NX_SMTP_OUTCOME_UNKNOWN || refusal, "the terminator was written, yet a plain failure: {e}");
        }
        (Err(_), None) => {}
    }
}

fn start_send(link: &Rc<RefCell<LinkState<'_>>>) -> usize {
    let mut s = link.borrow_mut();
    s.terminator_read_pos = None;
    s.reads
}

fuzz_target!(|input: &[u8]| {
    let mut b = Bytes::new(input);
    let (c0, c1, c2, c3, c4) = (b.byte(), b.byte(), b.byte(), b.byte(), b.byte());
    let server = b.rest();

    let auth = [Auth::None, Auth::Plain, Auth::Login][usize::from(c0 % 3)];
    let pipelining = c0 & 0x04 != 0;
    let tls = if c0 & 0x08 != 0 { TlsMode::StartTls } else { TlsMode::None };
    let kept = c0 & 0x10 != 0;
    let allow_partial = c0 & 0x20 != 0;
    let streamed = c0 & 0x40 != 0;
    let recipients = 1 + usize::from(c0 >> 7);
    let at_end = [AtEnd::Eof, AtEnd::Silence, AtEnd::Reset][usize::from(c1 % 3)];
    let chunk = usize::from(c1 >> 2) + 1;
    let write_max = if c2 == 0 { usize::MAX } else { usize::from(c2) };
    // The link breaks after this many written bytes (high bit clear: never).
    let write_budget = if c3 < 128 { usize::MAX } else { usize::from(c3 - 128) << 8 | usize::from(c4) };

    let now = Rc::new(Cell::new(0));
    let transport = FuzzTransport::new(server, chunk, at_end, write_max, write_budget, now.clone());
    let link = transport.state.clone();
    let clock = FuzzClock { now, wall: Some(1_795_884_420) };
    let timeouts = Timeouts { connect_ms: 1000, greeting_ms: 3000, reply_ms: 3000, send_ms: 3000, final_reply_ms: 5000, total_ms: 20_000 };
    let config = Config::new("127.0.0.1", 2525, "fuzz.example", "sender@fuzz.example")
        .auth(auth, USER, PASS)
        .allow_plaintext_auth(true)
        .tls(tls)
        .pipelining(pipelining)
        .timeouts(timeouts);
    let mut client: Client<'_, FuzzTransport<'_>, FuzzClock> = Client::new(config, transport, clock).expect("valid config");
    let to = ["a@fuzz.example", "b@fuzz.example"];
    let body: &[u8] = b"Hello.\n.dotted line\r\nbye\n";
    let mail = Mail::new("fuzz", body).to(&to[..recipients]).allow_partial(allow_partial).priority(Priority::High);

    if kept {
        let reads_before = start_send(&link);
        match client.connect() {
            Ok(mut connection) => {
                for i in 0..3 {
                    let reads_before = start_send(&link);
                    let result = if streamed && i == 1 { connection.send_from_reader(&mail, body) } else { connection.send(&mail) };
                    check(&result, &link.borrow(), reads_before);
                }
            }
            Err(_) => {
                let reads = link.borrow().reads - reads_before;
                assert!(reads <= server.len() + 64, "{reads} reads to open");
            }
        }
    } else {
        let reads_before = start_send(&link);
        let result = if streamed { client.send_from_reader(&mail, body) } else { client.send(&mail) };
        check(&result, &link.borrow(), reads_before);
    }

    let link = link.borrow();
    let written = &link.written;
    // Credentials only after an AUTH offer.
    if auth != Auth::None && !server.windows(4).any(|w| w.eq_ignore_ascii_case(b"AUTH")) {
        assert!(!written.windows(5).any(|w| w == b"AUTH "), "AUTH sent without an offer");
    }
    // A required STARTTLS that cannot happen leaves nothing else in clear.
    if tls == TlsMode::StartTls {
        for cmd in [&b"AUTH "[..], b"MAIL FROM", b"RCPT TO", b"DATA\r\n"] {
            assert!(!written.windows(cmd.len()).any(|w| w == cmd), "{:?} sent in clear", String::from_utf8_lossy(cmd));
        }
    }
});
