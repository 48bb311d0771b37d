//! The outbox's storage in the shim (`ShimStorage`, `smtp_shim_outbox_*`), through the POSIX
//! twin (a directory of files, `$ZSMTP_OUTBOX_DIR`): the `Storage` contract the outbox rests on,
//! then crash consistency over it: power cut at every write index of a run that submits mails and
//! delivers them to a loopback peer, a reopen on the files that survived, and every committed
//! mail delivered whole, at most once more than it should only where the cut fell between its
//! final dot and the commit of its delivery.
//!
//! The shim holds one storage per process, so the tests take turns (`SHIM`).
// OutboxError carries the public Error (the server reply text) by design, as the library does.
#![allow(clippy::result_large_err)]

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use support::outbox::{alarm_bodies, client, deliver_all};
use support::peer::{header, token, Answer, Peer};
use zsmtp::outbox::{OnUnknown, Outbox, OutboxError, Policy, Storage, StorageError};
use zsmtp::platform::{OutboxOpenError, ShimStorage};
use zsmtp::transport::host::StdClock;
use zsmtp::Mail;

static SHIM: Mutex<()> = Mutex::new(());

/// A fresh directory for the shim's storage, with records of `record_size` bytes; the guard
/// keeps other tests off the shim while it lives.
fn shim_dir(name: &str, record_size: usize) -> (MutexGuard<'static, ()>, PathBuf) {
    let guard = SHIM.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("zsmtp-outbox-shim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::env::set_var("ZSMTP_OUTBOX_DIR", &dir);
    std::env::set_var("ZSMTP_OUTBOX_RECORD_SIZE", record_size.to_string());
    (guard, dir)
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn the_storage_contract() {
    let (_guard, dir) = shim_dir("contract", 200);
    let mut s = ShimStorage::open().unwrap();
    assert_eq!(s.record_size(), 200);
    let mut buf = [0u8; 256];

    // Missing, written, read back whole.
    assert_eq!(s.read(0x0100, &mut buf), Ok(None));
    s.write(0x0100, b"first record").unwrap();
    assert_eq!(s.read(0x0100, &mut buf), Ok(Some(12)));
    assert_eq!(&buf[..12], b"first record");
    // A record longer than the buffer fills it and reports its whole length.
    let mut short = [0u8; 5];
    assert_eq!(s.read(0x0100, &mut short), Ok(Some(12)));
    assert_eq!(&short, b"first");

    // Replaced whole, with no temporary left behind.
    s.write(0x0100, b"second").unwrap();
    assert_eq!(s.read(0x0100, &mut buf), Ok(Some(6)));
    assert_eq!(&buf[..6], b"second");
    assert_eq!(files(&dir), ["0100.rec"]);

    // Oversized and empty records are refused and change nothing.
    assert_eq!(s.write(0x0101, &[7u8; 201]), Err(StorageError::Failed));
    assert_eq!(s.write(0x0101, &[]), Err(StorageError::Failed));
    assert_eq!(s.read(0x0101, &mut buf), Ok(None));
    s.write(0x0101, &[7u8; 200]).unwrap();
    assert_eq!(s.read(0x0101, &mut buf), Ok(Some(200)));

    // Deleted; deleting what is not there succeeds.
    s.delete(0x0100).unwrap();
    assert_eq!(s.read(0x0100, &mut buf), Ok(None));
    s.delete(0x0100).unwrap();
    s.delete(0xFFFF).unwrap();

    // A write cut before its rename leaves a temporary, not a record: the reopen removes it and
    // the record is as it was.
    std::fs::write(dir.join("0101.tmp"), b"half a rec").unwrap();
    let mut s = ShimStorage::open().unwrap();
    assert_eq!(s.read(0x0101, &mut buf), Ok(Some(200)));
    assert_eq!(files(&dir), ["0101.rec"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_without_a_directory_or_with_too_small_records_fails() {
    let (_guard, dir) = shim_dir("unset", 200);
    std::env::remove_var("ZSMTP_OUTBOX_DIR");
    assert!(matches!(ShimStorage::open(), Err(OutboxOpenError::Mount(rc)) if rc < 0));
    std::env::set_var("ZSMTP_OUTBOX_DIR", &dir);
    std::env::set_var("ZSMTP_OUTBOX_RECORD_SIZE", "63");
    assert_eq!(ShimStorage::open().unwrap_err(), OutboxOpenError::RecordTooSmall(63));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- Crash consistency over ShimStorage --------------------------------------------------------

const FROM: &str = "device@example.test";
const POLICY: Policy = Policy { first_retry_ms: 1, max_retry_ms: 1, on_unknown: OnUnknown::Resend };
/// Small records, so that a mail spans several.
const RECORD: usize = 128;

/// A storage that loses power at write (or delete) index `at`: that one and every later one
/// fail and change nothing, as on a device that died there.
struct Cut<S> {
    inner: S,
    at: Option<usize>,
    count: usize,
    /// Every write and delete: (key, was it a delete).
    log: Vec<(u16, bool)>,
}

impl<S: Storage> Cut<S> {
    fn change(&mut self, key: u16, delete: bool) -> Result<(), StorageError> {
        let index = self.count;
        self.count += 1;
        self.log.push((key, delete));
        if self.at.is_some_and(|k| index >= k) {
            Err(StorageError::Failed)
        } else {
            Ok(())
        }
    }
}

impl<S: Storage> Storage for Cut<S> {
    fn record_size(&self) -> usize {
        self.inner.record_size()
    }
    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        self.inner.read(key, buf)
    }
    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError> {
        self.change(key, false)?;
        self.inner.write(key, data)
    }
    fn delete(&mut self, key: u16) -> Result<(), StorageError> {
        self.change(key, true)?;
        self.inner.delete(key)
    }
}

/// Four alarms with a unique token each; mail 1 spans several records.
fn bodies() -> Vec<Vec<u8>> {
    alarm_bodies(4, 8)
}

/// One run cut at write `at`: submit and deliver until the cut, reopen the shim's storage on
/// the files that survived, deliver the rest, and check what arrived. The number of writes a run
/// made (the clean run's is the range of `at`).
fn run(at: Option<usize>, peer: &Peer) -> usize {
    let bodies = bodies();
    let mut work = [0u8; 2048];
    let mut c = client(peer.port);
    let mut clock = StdClock::new();
    let before = peer.taken().len();
    let mut committed = vec![false; bodies.len()];
    let (log, writes);
    {
        let cut = Cut { inner: ShimStorage::open().unwrap(), at, count: 0, log: Vec::new() };
        let (mut outbox, _) = Outbox::<_, 8>::open(cut, &mut work, POLICY).unwrap();
        let mut alive = true;
        for (n, b) in bodies.iter().enumerate() {
            match outbox.submit(FROM, &Mail::new("Alarm", b).to(&["ops@example.test"]), &mut clock) {
                Ok(_) => committed[n] = true,
                Err(OutboxError::Storage) => alive = false,
                Err(e) => panic!("{e:?}"),
            }
            if !alive {
                break;
            }
        }
        if alive {
            let _ = deliver_all(&mut outbox, &mut c);
        }
        let cut = outbox.into_storage();
        writes = cut.count;
        log = cut.log;
    }
    // Reboot: a new ShimStorage on the files as the cut left them.
    let (mut outbox, _) = Outbox::<_, 8>::open(ShimStorage::open().unwrap(), &mut work, POLICY).unwrap();
    deliver_all(&mut outbox, &mut c).unwrap();
    let mut left = 0;
    outbox.list(|_| left += 1).unwrap();
    assert_eq!(left, 0, "cut at {at:?}: mails left after delivery");

    let taken = peer.taken();
    let mut copies: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    for t in &taken[before..] {
        copies.entry(token(&t.content).unwrap()).or_default().push(t.content.clone());
    }
    let mut duplicates = 0;
    for (n, b) in bodies.iter().enumerate() {
        let got = copies.get(&format!("token-{n}")).map_or(&[][..], |v| v.as_slice());
        if !committed[n] {
            assert!(got.is_empty(), "cut at {at:?}: uncommitted mail {n} arrived");
            continue;
        }
        assert!(!got.is_empty(), "cut at {at:?}: committed mail {n} was lost");
        let expected = String::from_utf8(b.clone()).unwrap().replace('\n', "\r\n");
        let id = header(&got[0], "Message-ID").unwrap();
        for copy in got {
            let text = String::from_utf8_lossy(copy);
            assert_eq!(text.split_once("\r\n\r\n").unwrap().1, expected, "cut at {at:?}: mail {n} arrived changed");
            assert_eq!(header(copy, "Message-ID").unwrap(), id, "cut at {at:?}: mail {n} with another Message-ID");
        }
        if got.len() > 1 {
            // Only a cut at the commit of this mail's delivery (its head record's deletion).
            let k = at.expect("no cut, no duplicate");
            let (key, delete) = log[k];
            assert!(delete && key % 256 == 0, "cut at {at:?}: mail {n} twice, but write {k} was {:?}", log[k]);
            duplicates += got.len() - 1;
        }
    }
    assert!(duplicates <= usize::from(at.is_some()), "cut at {at:?}: {duplicates} duplicates");
    writes
}

#[test]
fn a_power_cut_at_every_write_index_loses_and_corrupts_nothing() {
    let (_guard, dir) = shim_dir("crash", RECORD);
    let peer = Peer::start(|_| Answer::Accept, |_, _| Answer::Accept);
    let total = run(None, &peer);
    assert!(total > bodies().len() * 3, "a clean run wrote only {total} records");
    for at in 0..total {
        run(Some(at), &peer);
    }
    // Every run ended with an empty outbox: no record is left in the directory.
    assert_eq!(files(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(&dir).unwrap();
}
