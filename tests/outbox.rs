//! The outbox (feature `outbox`) against a loopback SMTP peer: what submit refuses and stores,
//! order and one connection per batch, retries, 5xx set aside, outcome unknown resent with the
//! same Message-ID or parked, a full outbox, the directory backend and a damaged record.
#![cfg(feature = "outbox")]

mod support;

use support::peer::{header, token, Answer, Peer};
use zsmtp::error::{ErrorKind, Field, Invalid};
use zsmtp::outbox::{DirStorage, EventKind, OnUnknown, Outbox, OutboxError, Policy, RamStorage, State, Status, Storage, Ticket};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Client, Config, Mail, Timeouts};

const FROM: &str = "device@example.test";
/// Retries due at once, so that a test needs no sleeping.
const QUICK: Policy = Policy { first_retry_ms: 1, max_retry_ms: 1, on_unknown: OnUnknown::Resend };

fn client(port: u16) -> Client<'static, StdTransport, StdClock> {
    let timeouts = Timeouts { connect_ms: 2000, ..Timeouts::DEFAULT.every_reply(3000) };
    // The configuration's sender is never used: every queued mail carries its own.
    let config = Config::new("127.0.0.1", port, "device.test", "unused@example.test").timeouts(timeouts);
    Client::new(config, StdTransport::new(), StdClock::new()).unwrap()
}

fn list<S: Storage, const N: usize>(outbox: &mut Outbox<'_, S, N>) -> Vec<Status> {
    let mut all = Vec::new();
    outbox.list(|s| all.push(s.clone())).unwrap();
    all
}

fn body(n: usize) -> Vec<u8> {
    format!("Reading of sensor {n}: token-{n}\nline two\n").into_bytes()
}

/// Delivers until nothing is pending (at most `rounds` batches); returns the events.
fn flush<S: Storage, const N: usize>(outbox: &mut Outbox<'_, S, N>, client: &mut Client<'static, StdTransport, StdClock>, rounds: usize) -> Vec<(Ticket, EventKind)> {
    let mut events = Vec::new();
    let mut clock = StdClock::new();
    for _ in 0..rounds {
        if outbox.pending() == 0 {
            break;
        }
        outbox.retry_now();
        outbox.deliver(client, &mut clock, &mut |e| events.push((e.ticket, e.kind))).unwrap();
    }
    events
}

#[test]
fn submit_refuses_what_send_refuses_and_stores_nothing() {
    let mut storage: Box<RamStorage<32, 256>> = Box::default();
    let mut work = [0u8; 2048];
    let (mut outbox, _) = Outbox::<_, 4>::open(&mut *storage, &mut work, Policy::DEFAULT).unwrap();
    let mut clock = StdClock::new();
    let to = ["ops@example.test"];
    let invalid = |r: Result<Ticket, OutboxError>| match r {
        Err(OutboxError::Invalid(e)) => e.kind,
        other => panic!("{other:?}"),
    };
    assert_eq!(invalid(outbox.submit(FROM, &Mail::new("s", b"b"), &mut clock)), ErrorKind::InvalidInput(Field::Recipient, Invalid::Empty));
    let bad = ["ops@example.test\r\nRCPT TO:<x@y>"];
    assert!(matches!(invalid(outbox.submit(FROM, &Mail::new("s", b"b").to(&bad), &mut clock)), ErrorKind::InvalidInput(Field::Recipient, _)));
    assert!(matches!(invalid(outbox.submit("not an address", &Mail::new("s", b"b").to(&to), &mut clock)), ErrorKind::InvalidInput(Field::From, _)));
    assert_eq!(invalid(outbox.submit(FROM, &Mail::new("s", b"").to(&to), &mut clock)), ErrorKind::InvalidInput(Field::Body, Invalid::Empty));
    assert_eq!(invalid(outbox.submit(FROM, &Mail::new("s", &[b'x'; 999]).to(&to), &mut clock)), ErrorKind::InvalidInput(Field::Body, Invalid::TooLong));
    assert!(matches!(invalid(outbox.submit(FROM, &Mail::new("s\nBcc: x", b"b").to(&to), &mut clock)), ErrorKind::InvalidInput(Field::Subject, _)));
    assert_eq!(outbox.len(), 0);
    assert_eq!(storage.used(), 0, "a refused mail leaves no record");
}

#[test]
fn a_full_outbox_refuses_and_keeps_every_older_mail() {
    let mut storage: Box<RamStorage<64, 256>> = Box::default();
    let mut work = [0u8; 2048];
    let (mut outbox, _) = Outbox::<_, 3>::open(&mut *storage, &mut work, Policy::DEFAULT).unwrap();
    let mut clock = StdClock::new();
    let to = ["ops@example.test"];
    let bodies: Vec<Vec<u8>> = (0..4).map(body).collect();
    let tickets: Vec<Ticket> = (0..3).map(|i| outbox.submit(FROM, &Mail::new("s", &bodies[i]).to(&to), &mut clock).unwrap()).collect();
    assert_eq!(outbox.submit(FROM, &Mail::new("s", &bodies[3]).to(&to), &mut clock), Err(OutboxError::Full));
    assert_eq!(list(&mut outbox).iter().map(|s| s.ticket).collect::<Vec<_>>(), tickets);

    // Out of records rather than slots: refused as full too, nothing half-stored.
    let mut small: Box<RamStorage<5, 96>> = Box::default();
    let (mut outbox, _) = Outbox::<_, 8>::open(&mut *small, &mut work, Policy::DEFAULT).unwrap();
    outbox.submit(FROM, &Mail::new("s", b"short").to(&to), &mut clock).unwrap();
    let used = outbox.len();
    let long = vec![b'y'; 500];
    assert_eq!(outbox.submit(FROM, &Mail::new("s", &long).to(&to), &mut clock), Err(OutboxError::Full));
    assert_eq!(outbox.len(), used);
    let (mut outbox, recovered) = Outbox::<_, 8>::open(&mut *small, &mut work, Policy::DEFAULT).unwrap();
    assert_eq!((recovered.mails, recovered.discarded, recovered.damaged), (1, 0, 0));
    assert_eq!(list(&mut outbox).len(), 1);
}

#[test]
fn queued_mails_go_in_order_over_one_connection_and_leave_the_outbox() {
    let peer = Peer::accepting();
    let mut storage: Box<RamStorage<128, 128>> = Box::default();
    let mut work = [0u8; 4096];
    let (mut outbox, _) = Outbox::<_, 8>::open(&mut *storage, &mut work, QUICK).unwrap();
    let mut clock = StdClock::new();
    let to = ["ops@example.test"];
    let cc = ["boss@example.test"];
    // Several records each (records of 128 bytes).
    let bodies: Vec<Vec<u8>> = (0..6).map(|n| [body(n), vec![b'z'; 300], b"\n.leading dot\n".to_vec()].concat()).collect();
    for b in &bodies {
        outbox.submit(FROM, &Mail::new("Alarm", b).to(&to).cc(&cc), &mut clock).unwrap();
    }
    let mut c = client(peer.port);
    let events = flush(&mut outbox, &mut c, 1);
    assert_eq!(events.len(), 6);
    assert!(events.iter().all(|(_, k)| *k == EventKind::Delivered));
    assert_eq!(peer.connections(), 1, "one connection for the batch");
    let taken = peer.taken();
    let tokens: Vec<String> = taken.iter().map(|t| token(&t.content).unwrap()).collect();
    assert_eq!(tokens, (0..6).map(|n| format!("token-{n}")).collect::<Vec<_>>());
    for t in &taken {
        assert_eq!(header(&t.content, "From").as_deref(), Some(FROM));
        assert_eq!(header(&t.content, "Cc").as_deref(), Some("boss@example.test"));
        assert!(String::from_utf8_lossy(&t.content).contains("\r\n..leading dot\r\n"), "dot-stuffed as any send");
    }
    assert!(outbox.is_empty());
    assert_eq!(storage.used(), 0, "a delivered mail leaves no record");
}

#[test]
fn transient_failures_retry_and_a_permanent_refusal_is_set_aside() {
    // token-1 is deferred twice at the final dot; the recipient of token-2 is refused for good.
    let peer = Peer::start(
        |rcpt| if rcpt.starts_with("nobody@") { Answer::Reply("550 5.1.1 <nobody@example.test>: Recipient address rejected") } else { Answer::Accept },
        |content, before| if token(content).as_deref() == Some("token-1") && before < 2 { Answer::Reply("451 4.3.0 try again later") } else { Answer::Accept },
    );
    let mut storage: Box<RamStorage<64, 256>> = Box::default();
    let mut work = [0u8; 4096];
    let (mut outbox, _) = Outbox::<_, 8>::open(&mut *storage, &mut work, QUICK).unwrap();
    let mut clock = StdClock::new();
    let (good, bad) = (["ops@example.test"], ["nobody@example.test"]);
    let bodies: Vec<Vec<u8>> = (0..4).map(body).collect();
    let t0 = outbox.submit(FROM, &Mail::new("s", &bodies[0]).to(&good), &mut clock).unwrap();
    let t1 = outbox.submit(FROM, &Mail::new("s", &bodies[1]).to(&good), &mut clock).unwrap();
    let t2 = outbox.submit(FROM, &Mail::new("s", &bodies[2]).to(&bad), &mut clock).unwrap();
    let t3 = outbox.submit(FROM, &Mail::new("s", &bodies[3]).to(&good), &mut clock).unwrap();
    let mut c = client(peer.port);
    let mut events = Vec::new();
    outbox.deliver(&mut c, &mut clock, &mut |e| events.push((e.ticket, e.kind, e.reply.code))).unwrap();
    assert_eq!(
        events,
        [(t0, EventKind::Delivered, 250), (t1, EventKind::Retrying, 451), (t2, EventKind::Failed, 550), (t3, EventKind::Delivered, 250)]
    );
    let now = list(&mut outbox);
    assert_eq!(now.len(), 2);
    assert_eq!((now[0].ticket, now[0].state, now[0].attempts), (t1, State::Retrying, 1));
    assert_eq!(now[0].reply.as_ref().unwrap().text(), "4.3.0 try again later");
    assert_eq!((now[1].ticket, now[1].state, now[1].attempts), (t2, State::Failed, 1));
    assert!(now[1].reply.as_ref().unwrap().text().starts_with("5.1.1 <nobody@example.test>"));
    let more = flush(&mut outbox, &mut c, 5);
    assert_eq!(more, [(t1, EventKind::Retrying), (t1, EventKind::Delivered)]);
    // The failed one is never tried again, also after a reopen; it stays listed until removed.
    assert_eq!(outbox.pending(), 0);
    let (mut outbox, _) = Outbox::<_, 8>::open(&mut *storage, &mut work, QUICK).unwrap();
    assert_eq!(flush(&mut outbox, &mut c, 3), []);
    assert_eq!(list(&mut outbox)[0].state, State::Failed);
    outbox.remove(t2).unwrap();
    assert!(outbox.is_empty());
    let tokens: Vec<String> = peer.taken().iter().map(|t| token(&t.content).unwrap()).collect();
    assert_eq!(tokens, ["token-0", "token-3", "token-1"]);
}

#[test]
fn no_connection_keeps_every_mail_and_times_a_backoff() {
    // A bound socket that does not listen: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut storage: Box<RamStorage<64, 256>> = Box::default();
    let mut work = [0u8; 4096];
    let policy = Policy { first_retry_ms: 60_000, max_retry_ms: 600_000, on_unknown: OnUnknown::Resend };
    let (mut outbox, _) = Outbox::<_, 8>::open(&mut *storage, &mut work, policy).unwrap();
    let mut clock = StdClock::new();
    let to = ["ops@example.test"];
    let bodies: Vec<Vec<u8>> = (0..3).map(body).collect();
    for b in &bodies {
        outbox.submit(FROM, &Mail::new("s", b).to(&to), &mut clock).unwrap();
    }
    let mut c = client(port);
    let batch = outbox.deliver(&mut c, &mut clock, &mut |_| {}).unwrap();
    assert_eq!((batch.delivered, batch.retrying), (0, 1));
    assert_eq!(batch.last_error.unwrap().kind, ErrorKind::NotConnected);
    let states: Vec<(State, u16)> = list(&mut outbox).iter().map(|s| (s.state, s.attempts)).collect();
    assert_eq!(states, [(State::Retrying, 1), (State::Queued, 0), (State::Queued, 0)]);
    assert_eq!(list(&mut outbox)[0].reply.as_ref().unwrap().text(), "NX_NOT_CONNECTED");
    // Nothing is tried again before the backoff (30 to 60 s): a second call does nothing.
    let wait = outbox.next_due_ms().unwrap() - zsmtp::Clock::now_ms(&clock);
    assert!((29_000..=60_000).contains(&wait), "{wait}");
    assert_eq!(outbox.deliver(&mut c, &mut clock, &mut |_| {}).unwrap().retrying, 0);
    assert_eq!(outbox.pending(), 3);
}

#[test]
fn an_unknown_outcome_is_resent_with_the_same_message_id_or_parked() {
    let vanish_first = |content: &[u8], before: usize| if before == 0 && token(content).as_deref() == Some("token-0") { Answer::Vanish } else { Answer::Accept };
    let to = ["ops@example.test"];
    let b0 = body(0);
    for on_unknown in [OnUnknown::Resend, OnUnknown::Park] {
        let peer = Peer::start(|_| Answer::Accept, vanish_first);
        let mut storage: Box<RamStorage<64, 256>> = Box::default();
        let mut work = [0u8; 4096];
        let (mut outbox, _) = Outbox::<_, 4>::open(&mut *storage, &mut work, Policy { on_unknown, ..QUICK }).unwrap();
        let mut clock = StdClock::new();
        let ticket = outbox.submit(FROM, &Mail::new("s", &b0).to(&to), &mut clock).unwrap();
        let mut c = client(peer.port);
        let events = flush(&mut outbox, &mut c, 3);
        match on_unknown {
            OnUnknown::Resend => assert_eq!(events, [(ticket, EventKind::Unknown), (ticket, EventKind::Delivered)]),
            OnUnknown::Park => {
                assert_eq!(events, [(ticket, EventKind::Unknown)]);
                let parked = list(&mut outbox);
                assert_eq!((parked[0].state, parked[0].attempts), (State::Unknown, 1));
                assert_eq!(parked[0].reply.as_ref().unwrap().text(), "NX_SMTP_OUTCOME_UNKNOWN");
                assert_eq!(outbox.pending(), 0);
                outbox.resend(ticket).unwrap();
                assert_eq!(flush(&mut outbox, &mut c, 2), [(ticket, EventKind::Delivered)]);
            }
        }
        let taken = peer.taken();
        assert_eq!(taken.len(), 2);
        assert!(taken[0].vanished && !taken[1].vanished);
        let id = header(&taken[0].content, "Message-ID").unwrap();
        assert_eq!(header(&taken[1].content, "Message-ID").as_deref(), Some(id.as_str()), "the same Message-ID");
        assert_eq!(header(&taken[0].content, "Date"), header(&taken[1].content, "Date"));
        assert!(outbox.is_empty());
    }
}

#[test]
fn the_directory_backend_survives_a_reopen_and_a_damaged_record_is_never_sent() {
    let dir = std::env::temp_dir().join(format!("zsmtp-outbox-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut work = vec![0u8; 8192];
    let to = ["ops@example.test"];
    let bodies: Vec<Vec<u8>> = (0..3).map(|n| [body(n), vec![b'q'; 400]].concat()).collect();
    let tickets: Vec<Ticket> = {
        let (mut outbox, _) = Outbox::<_, 8>::open(DirStorage::open(&dir, 256).unwrap(), &mut work, QUICK).unwrap();
        let mut clock = StdClock::new();
        bodies.iter().map(|b| outbox.submit(FROM, &Mail::new("s", b).to(&to), &mut clock).unwrap()).collect()
    };
    // A flipped byte in the second mail's data, as a failing flash or disk would leave it.
    let second_data = dir.join(format!("{:04x}.rec", 0x0200 + 2 + 1));
    let mut bytes = std::fs::read(&second_data).unwrap();
    bytes[40] ^= 0x20;
    std::fs::write(&second_data, bytes).unwrap();
    // A temporary file of a write cut short is no record.
    std::fs::write(dir.join("0700.tmp"), b"half").unwrap();

    let (mut outbox, recovered) = Outbox::<_, 8>::open(DirStorage::open(&dir, 256).unwrap(), &mut work, QUICK).unwrap();
    assert_eq!((recovered.mails, recovered.damaged), (3, 1));
    assert!(!dir.join("0700.tmp").exists());
    let states: Vec<(Ticket, State)> = list(&mut outbox).iter().map(|s| (s.ticket, s.state)).collect();
    assert_eq!(states, [(tickets[0], State::Queued), (tickets[1], State::Failed), (tickets[2], State::Queued)]);
    let peer = Peer::accepting();
    let mut c = client(peer.port);
    flush(&mut outbox, &mut c, 2);
    let tokens: Vec<String> = peer.taken().iter().map(|t| token(&t.content).unwrap()).collect();
    assert_eq!(tokens, ["token-0", "token-2"]);
    outbox.remove(tickets[1]).unwrap();
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(feature = "mime")]
#[test]
fn attachments_are_read_in_at_submit_and_streamed_from_storage() {
    use support::readers::RandomBytes;
    use zsmtp::Attachment;
    let peer = Peer::accepting();
    let mut storage: Box<RamStorage<200, 256>> = Box::default();
    let mut work = [0u8; 4096];
    let (mut outbox, _) = Outbox::<_, 4>::open(&mut *storage, &mut work, QUICK).unwrap();
    let mut clock = StdClock::new();
    let to = ["ops@example.test"];
    let b = body(7);
    let csv = b"time,value\n0,1\n".to_vec();
    let (mut csv_reader, mut random) = (&csv[..], RandomBytes::new(42, 20_000));
    let mut attachments = [Attachment::new("readings.csv", &mut csv_reader), Attachment::new("dump.bin", &mut random).size(20_000)];
    let mail = Mail::new("Report", &b).to(&to).html(b"<p>report</p>");
    outbox.submit_mime(FROM, &mail, &mut attachments, &mut clock).unwrap();
    // The sources are spent: what is sent comes from the outbox's own copy.
    assert_eq!(embedded_io::Read::read(&mut random, &mut [0u8; 8]).unwrap(), 0);
    let mut c = client(peer.port);
    flush(&mut outbox, &mut c, 1);
    let taken = peer.taken();
    assert_eq!(taken.len(), 1);
    let text = String::from_utf8_lossy(&taken[0].content).to_string();
    assert!(text.contains("filename=\"readings.csv\"") && text.contains("<p>report</p>"), "{text}");
    let expected = support::b64(&RandomBytes::all(42, 20_000));
    let encoded: String = text.split("filename=\"dump.bin\"").nth(1).unwrap().split("\r\n\r\n").nth(1).unwrap().split("\r\n--").next().unwrap().replace("\r\n", "");
    assert_eq!(encoded, expected);

    // A reader that fails refuses the mail, and nothing is stored.
    let used = storage.used();
    let (mut outbox, _) = Outbox::<_, 4>::open(&mut *storage, &mut work, QUICK).unwrap();
    let mut failing = support::readers::FailingReader::new(300);
    let mut attachments = [Attachment::new("x.bin", &mut failing)];
    assert!(matches!(outbox.submit_mime(FROM, &mail, &mut attachments, &mut clock), Err(OutboxError::Invalid(e)) if e.kind == ErrorKind::BodyRead));
    assert_eq!(storage.used(), used);
}
