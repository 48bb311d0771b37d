//! Crash consistency of the outbox: a storage that fails one write, or loses power (that write
//! and every later one lost), at write index k, for every k of a run that submits mails and
//! delivers them (deferrals, a permanent refusal and a vanished reply included). After a
//! reopen on what survived, every committed mail is delivered whole, none is lost or corrupted,
//! a mail arrives twice only when the cut fell between its final dot and the commit of its
//! reply, and never more often than there were cuts.
#![cfg(feature = "outbox")]
// OutboxError carries the public Error (the server reply text) by design, as the library does.
#![allow(clippy::result_large_err)]

mod support;

use std::collections::HashMap;
use support::outbox::{alarm_bodies, client, deliver_all};
use support::peer::{header, token, Answer, Peer};
use zsmtp::outbox::{OnUnknown, Outbox, OutboxError, Policy, RamStorage, State, Storage, StorageError};
use zsmtp::transport::host::StdClock;
use zsmtp::Mail;

const FROM: &str = "device@example.test";
const POLICY: Policy = Policy { first_retry_ms: 1, max_retry_ms: 1, on_unknown: OnUnknown::Resend };
type Ram = RamStorage<96, 128>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Write k fails (nothing changed); later writes succeed.
    Fail,
    /// Power is cut at write k: it and every later write are lost (each reports a failure, as
    /// a dying device would never see them succeed).
    Cut,
}

/// A storage that counts its writes and deletes and breaks at one of them.
struct Faulty<'s> {
    inner: &'s mut Ram,
    at: Option<usize>,
    fault: Fault,
    count: usize,
    /// Every write and delete: (key, was it a delete).
    log: Vec<(u16, bool)>,
}

impl Faulty<'_> {
    fn change(&mut self, key: u16, delete: bool, apply: impl FnOnce(&mut Ram) -> Result<(), StorageError>) -> Result<(), StorageError> {
        let index = self.count;
        self.count += 1;
        self.log.push((key, delete));
        let broken = match (self.at, self.fault) {
            (Some(k), Fault::Fail) => index == k,
            (Some(k), Fault::Cut) => index >= k,
            (None, _) => false,
        };
        if broken {
            return Err(StorageError::Failed);
        }
        apply(self.inner)
    }
}

impl Storage for Faulty<'_> {
    fn record_size(&self) -> usize {
        self.inner.record_size()
    }
    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        self.inner.read(key, buf)
    }
    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError> {
        self.change(key, false, |s| s.write(key, data))
    }
    fn delete(&mut self, key: u16) -> Result<(), StorageError> {
        self.change(key, true, |s| s.delete(key))
    }
}

/// The mails of a run: bodies with a unique token; mail 1 spans several records; mail 2 is
/// deferred (451) at its first final dot; mail 3's recipient is refused for good; the server
/// takes mail 4 the first time and vanishes without a reply.
fn bodies() -> Vec<Vec<u8>> {
    alarm_bodies(6, 12)
}

fn recipient(n: usize) -> &'static [&'static str] {
    if n == 3 {
        &["nobody@example.test"]
    } else {
        &["ops@example.test"]
    }
}

fn peer() -> Peer {
    Peer::start(
        |rcpt| if rcpt.starts_with("nobody@") { Answer::Reply("550 5.1.1 no such user") } else { Answer::Accept },
        |content, before| match token(content).as_deref() {
            Some("token-2") if before == 0 => Answer::Reply("451 4.3.0 later"),
            Some("token-4") if before == 0 => Answer::Vanish,
            _ => Answer::Accept,
        },
    )
}

/// What one run did: which mails were committed (their submit returned Ok), the write log, and
/// the write index of each mail's delivery commit (the deletion of its head record).
struct Run {
    committed: Vec<bool>,
    log: Vec<(u16, bool)>,
}

/// Runs submit and delivery on a storage that breaks at write `at`, then reopens on what is
/// left and delivers the rest; checks everything the module's doc promises.
fn run(at: Option<usize>, fault: Fault) -> Run {
    let bodies = bodies();
    let peer = peer();
    let mut ram: Box<Ram> = Box::default();
    let mut work = [0u8; 2048];
    let mut c = client(peer.port);
    let mut clock = StdClock::new();
    let mut committed = vec![false; bodies.len()];
    let log;
    {
        let faulty = Faulty { inner: &mut ram, at, fault, count: 0, log: Vec::new() };
        let (mut outbox, _) = Outbox::<_, 8>::open(faulty, &mut work, POLICY).unwrap();
        let mut alive = true;
        for (n, b) in bodies.iter().enumerate() {
            match outbox.submit(FROM, &Mail::new("Alarm", b).to(recipient(n)), &mut clock) {
                Ok(_) => committed[n] = true,
                Err(OutboxError::Storage) => alive = fault == Fault::Fail,
                Err(e) => panic!("{e:?}"),
            }
            if !alive {
                break;
            }
        }
        if alive {
            let _ = deliver_all(&mut outbox, &mut c);
        }
        log = outbox.into_storage().log;
    }
    // Reboot: the storage as the cut left it, no more faults.
    let (mut outbox, _) = Outbox::<_, 8>::open(&mut *ram, &mut work, POLICY).unwrap();
    deliver_all(&mut outbox, &mut c).unwrap();
    let mut left = Vec::new();
    outbox.list(|s| left.push((s.state, s.reply.clone()))).unwrap();

    // Every committed mail but the refused one arrived, whole; nothing else arrived.
    let taken = peer.taken();
    let mut copies: HashMap<String, Vec<&support::peer::Taken>> = HashMap::new();
    for t in &taken {
        copies.entry(token(&t.content).unwrap()).or_default().push(t);
    }
    let case = format!("{fault:?} at {at:?}");
    let mut duplicates = 0;
    for (n, b) in bodies.iter().enumerate() {
        let got = copies.get(&format!("token-{n}")).map_or(&[][..], |v| v.as_slice());
        if !committed[n] || n == 3 {
            assert!(got.is_empty(), "{case}: mail {n} (committed {}) arrived", committed[n]);
            continue;
        }
        assert!(!got.is_empty(), "{case}: committed mail {n} was lost");
        let expected = String::from_utf8(b.clone()).unwrap().replace('\n', "\r\n");
        let id = header(&got[0].content, "Message-ID").unwrap();
        for copy in got {
            let text = String::from_utf8_lossy(&copy.content);
            let (_, body) = text.split_once("\r\n\r\n").unwrap();
            assert_eq!(body, expected, "{case}: mail {n} arrived changed");
            assert_eq!(header(&copy.content, "Message-ID").unwrap(), id, "{case}: mail {n} with another Message-ID");
        }
        // The vanished copy of mail 4 is the network's loss, not a cut's: resent by policy.
        let extra = got.len() - 1 - usize::from(got.iter().any(|t| t.vanished));
        if extra > 0 {
            // Only a cut between this mail's final dot and the commit of its reply (the head's
            // deletion, or its state's write) makes a second copy.
            let k = at.expect("no cut, no duplicate");
            let (key, delete) = log[k];
            assert!(delete && key % 256 == 0, "{case}: mail {n} twice, but write {k} was {:?}, not a delivery's commit", log[k]);
            duplicates += extra;
        }
    }
    assert!(duplicates <= usize::from(at.is_some()), "{case}: {duplicates} duplicates");
    // The refused mail is set aside (when it was committed), with the server's reply.
    if committed[3] {
        assert_eq!(left.len(), 1, "{case}: {left:?}");
        assert_eq!(left[0].0, State::Failed);
        assert_eq!(left[0].1.as_ref().unwrap().code, 550);
    } else {
        assert!(left.is_empty(), "{case}: {left:?}");
    }
    Run { committed, log }
}

#[test]
fn every_write_index_of_submit_and_delivery() {
    let clean = run(None, Fault::Fail);
    assert!(clean.committed.iter().all(|&c| c));
    let writes = clean.log.len();
    // Submits, a deferral, a refusal, an unknown outcome and six deliveries: many writes.
    assert!(writes > 30, "{writes}");
    let mut lost_submits = 0;
    for fault in [Fault::Fail, Fault::Cut] {
        for k in 0..=writes {
            let r = run(Some(k), fault);
            lost_submits += r.committed.iter().filter(|&&c| !c).count();
            // The run reached write k: the fault was really injected there.
            assert!(k == writes || r.log.len() > k, "{fault:?} at {k}: only {} writes", r.log.len());
        }
    }
    // Some cuts fell inside submits (refused: not committed, never sent).
    assert!(lost_submits > 0);
}

#[test]
fn a_cut_right_after_the_final_dot_duplicates_exactly_that_mail() {
    let clean = run(None, Fault::Fail);
    // The first head deletion is mail 0's delivery commit: cutting there resends mail 0 once.
    let k = clean.log.iter().position(|&(key, delete)| delete && key % 256 == 0).unwrap();
    let bodies = bodies();
    let peer = peer();
    let mut ram: Box<Ram> = Box::default();
    let mut work = [0u8; 2048];
    let mut c = client(peer.port);
    let mut clock = StdClock::new();
    {
        let faulty = Faulty { inner: &mut ram, at: Some(k), fault: Fault::Cut, count: 0, log: Vec::new() };
        let (mut outbox, _) = Outbox::<_, 8>::open(faulty, &mut work, POLICY).unwrap();
        for (n, b) in bodies.iter().enumerate() {
            outbox.submit(FROM, &Mail::new("Alarm", b).to(recipient(n)), &mut clock).unwrap();
        }
        assert_eq!(deliver_all(&mut outbox, &mut c), Err(OutboxError::Storage));
    }
    // The batch stopped at the failed commit: only mail 0 went out before the cut.
    assert_eq!(peer.taken().len(), 1);
    let (mut outbox, _) = Outbox::<_, 8>::open(&mut *ram, &mut work, POLICY).unwrap();
    deliver_all(&mut outbox, &mut c).unwrap();
    let tokens: Vec<String> = peer.taken().iter().map(|t| token(&t.content).unwrap()).collect();
    assert_eq!(tokens.iter().filter(|t| *t == "token-0").count(), 2);
    assert_eq!(tokens.iter().filter(|t| *t != "token-0").count(), 5, "{tokens:?}");
}
