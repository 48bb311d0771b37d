//! The outbox's C API (nx_smtp_mail_queue and the nx_smtp_outbox_* services) over the shim's
//! POSIX twin: storage in $ZSMTP_OUTBOX_DIR (one per process, as one flash partition per image),
//! the delivery worker a thread, the network state set as Zephyr's connection manager reports it.
//! Against Postfix (delivery into its Maildir) and aiosmtpd (its 451/550 test hooks); a silent
//! listener where a server must hold a delivery open, and a loopback peer (tests/support/peer.rs)
//! where the link must die after the final dot.
#![cfg(all(feature = "capi", feature = "zsock", feature = "outbox", not(feature = "small")))]

mod support;

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use support::capi::{cs, CClient};
use support::live::{delivered, token};
use support::peer::{Answer, Peer};
use zsmtp::capi::*;
use zsmtp::error::status::*;

extern "C" {
    /// The POSIX twin's test hook (shim/posix/smtp_outbox_worker.c).
    fn smtp_shim_posix_network_set(up: bool);
}

const POSTFIX: u16 = 2525;
const AIOSMTPD: u16 = 2625;
const WAIT: Duration = Duration::from_secs(30);

/// One outbox per process (one storage), one test at a time; each starts from an empty outbox.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    static DIR: std::sync::Once = std::sync::Once::new();
    DIR.call_once(|| {
        let dir = std::env::temp_dir().join(format!("zsmtp-capi-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::env::set_var("ZSMTP_OUTBOX_DIR", &dir);
    });
    network(true);
    guard
}

fn network(up: bool) {
    // SAFETY: a test hook without pointers.
    unsafe { smtp_shim_posix_network_set(up) }
}

fn client(port: u16) -> CClient {
    CClient::created(port, NX_SMTP_CLIENT_AUTH_LOGIN, "alice", "secret123", "<alice@example.test>", "device.example.test")
}

/// What the notify callback saw: (event, mail id, reply code).
#[derive(Default)]
struct Events {
    seen: Mutex<Vec<(u32, u64, u32)>>,
    changed: Condvar,
}

impl Events {
    /// Waits (bounded) until `done` holds for the events seen.
    fn wait_for(&self, what: &str, done: impl Fn(&[(u32, u64, u32)]) -> bool) -> Vec<(u32, u64, u32)> {
        let deadline = Instant::now() + WAIT;
        let mut seen = self.seen.lock().unwrap();
        while !done(&seen) {
            let left = deadline.checked_duration_since(Instant::now()).unwrap_or_else(|| panic!("{what}: events {:?}", *seen));
            seen = self.changed.wait_timeout(seen, left).unwrap().0;
        }
        seen.clone()
    }
}

unsafe extern "C" fn on_event(context: *mut c_void, event: u32, mail: *const NxSmtpOutboxMail) {
    // SAFETY: the context is the Events the test keeps alive until the outbox is deleted; the
    // mail is valid during the call.
    let (events, mail) = unsafe { (&*context.cast::<Events>(), &*mail) };
    events.seen.lock().unwrap().push((event, u64::from(mail.nx_smtp_outbox_mail_id as u32), mail.nx_smtp_outbox_reply_code));
    events.changed.notify_all();
}

/// An outbox control block on the heap, created over the process's storage for `client`.
struct COutbox {
    block: Box<MaybeUninit<NxSmtpOutbox>>,
    events: Arc<Events>,
}

/// One listed mail: id, state, attempts, reply code, reply text.
type Row = (u64, u32, u32, u32, String);

impl COutbox {
    fn created(client: &mut CClient) -> COutbox {
        let mut outbox = COutbox { block: Box::new(MaybeUninit::zeroed()), events: Arc::default() };
        assert_eq!(outbox.create(client), NX_SUCCESS, "nx_smtp_outbox_create");
        let context = Arc::as_ptr(&outbox.events).cast_mut().cast();
        // SAFETY: a created outbox; the callback's context outlives it (kept in self).
        assert_eq!(unsafe { nx_smtp_outbox_notify_set(outbox.ptr(), Some(on_event), context) }, NX_SUCCESS);
        outbox
    }

    fn create(&mut self, client: &mut CClient) -> u32 {
        // SAFETY: a zeroed block that stays on the heap, and a created client that outlives it.
        unsafe { nx_smtp_outbox_create(self.ptr(), client.ptr()) }
    }

    fn ptr(&mut self) -> *mut NxSmtpOutbox {
        self.block.as_mut_ptr()
    }

    fn queue_with(&mut self, to: &str, priority: u32, subject: &str, body: &[u8]) -> Result<u64, u32> {
        let (to, subject) = (cs(to), cs(subject));
        let mut id = 0;
        // SAFETY: a created outbox; NUL-terminated strings; the body valid for its length.
        let st = unsafe {
            nx_smtp_mail_queue(self.ptr(), to.as_ptr().cast_mut(), priority, subject.as_ptr().cast_mut(), body.as_ptr().cast::<i8>().cast_mut(), body.len() as u32, &mut id)
        };
        if st == NX_SUCCESS { Ok(u64::from(id as u32)) } else { Err(st) }
    }

    fn queue(&mut self, to: &str, subject: &str) -> u64 {
        let body = format!("Pump 3 reads 93 C ({subject}).\n");
        self.queue_with(to, 2, subject, body.as_bytes()).expect("nx_smtp_mail_queue")
    }

    fn list(&mut self) -> Vec<Row> {
        unsafe extern "C" fn each(context: *mut c_void, mail: *const NxSmtpOutboxMail) {
            // SAFETY: the context is the Vec below, the mail valid during the call.
            let (rows, m) = unsafe { (&mut *context.cast::<Vec<Row>>(), &*mail) };
            let end = m.nx_smtp_outbox_reply_text.iter().position(|&b| b == 0).unwrap_or(0);
            let text = String::from_utf8_lossy(&m.nx_smtp_outbox_reply_text[..end]).into_owned();
            rows.push((u64::from(m.nx_smtp_outbox_mail_id as u32), m.nx_smtp_outbox_state, m.nx_smtp_outbox_attempts, m.nx_smtp_outbox_reply_code, text));
        }
        let mut rows: Vec<Row> = Vec::new();
        let mut count = 0;
        // SAFETY: a created outbox; the callback writes only into `rows` during the call.
        let st = unsafe { nx_smtp_outbox_list(self.ptr(), Some(each), (&mut rows as *mut Vec<Row>).cast(), &mut count) };
        assert_eq!(st, NX_SUCCESS, "nx_smtp_outbox_list");
        assert_eq!(count as usize, rows.len());
        rows
    }

    fn status(&mut self, id: u64) -> Result<(u32, u32, u32), u32> {
        let mut mail = MaybeUninit::<NxSmtpOutboxMail>::zeroed();
        // SAFETY: a created outbox; the mail is writable.
        let st = unsafe { nx_smtp_outbox_status_get(self.ptr(), id as _, mail.as_mut_ptr()) };
        // SAFETY: zeroed, then written on success.
        let m = unsafe { mail.assume_init() };
        if st == NX_SUCCESS { Ok((m.nx_smtp_outbox_state, m.nx_smtp_outbox_attempts, m.nx_smtp_outbox_reply_code)) } else { Err(st) }
    }

    fn flush(&mut self) -> u32 {
        // SAFETY: a created outbox.
        unsafe { nx_smtp_outbox_flush(self.ptr()) }
    }

    fn drop_mail(&mut self, id: u64) -> u32 {
        // SAFETY: a created outbox.
        unsafe { nx_smtp_outbox_drop(self.ptr(), id as _) }
    }

    /// Drops every mail (a test's start and end): the storage is the process's.
    fn clear(&mut self) {
        for (id, ..) in self.list() {
            assert_eq!(self.drop_mail(id), NX_SUCCESS, "drop {id}");
        }
    }

    fn delete(&mut self) -> u32 {
        // SAFETY: an outbox block (created or not: a second delete answers NX_PTR_ERROR).
        unsafe { nx_smtp_outbox_delete(self.ptr()) }
    }
}

impl Drop for COutbox {
    fn drop(&mut self) {
        self.delete();
    }
}

/// The network is down: queued mails wait, untried. It comes up: the worker delivers them at
/// once (no retry backoff to sit out), in order, each once; the outbox is empty after.
#[test]
fn queued_mails_wait_for_the_network_then_go_out_at_once_in_order() {
    let _serial = serial();
    let mut c = client(POSTFIX);
    let mut outbox = COutbox::created(&mut c);
    outbox.clear();
    network(false);
    let tag = token("capi-outbox");
    let ids: Vec<u64> = (0..5).map(|i| outbox.queue("<bob@example.test>", &format!("{tag} alarm {i}"))).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    // A pass the worker would have made runs at once after queueing: give it the chance.
    std::thread::sleep(Duration::from_millis(500));
    let rows = outbox.list();
    assert_eq!(rows.iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>(), ids.iter().map(|&id| (id, NX_SMTP_OUTBOX_QUEUED, 0)).collect::<Vec<_>>(), "untried while the network is down");
    network(true);
    let seen = outbox.events.wait_for("five deliveries", |e| e.iter().filter(|e| e.0 == NX_SMTP_OUTBOX_DELIVERED).count() >= 5);
    let order: Vec<u64> = seen.iter().filter(|e| e.0 == NX_SMTP_OUTBOX_DELIVERED).map(|e| e.1).collect();
    assert_eq!(order, ids, "delivered in queue order");
    assert!(seen.iter().all(|e| e.0 == NX_SMTP_OUTBOX_DELIVERED && e.2 == 250), "{seen:?}");
    for i in 0..5 {
        delivered("bob", &format!("{tag} alarm {i}"), 1);
    }
    assert!(outbox.list().is_empty());
    assert_eq!(outbox.status(ids[0]), Err(NX_SMTP_OUTBOX_NOT_FOUND), "a delivered mail is gone");
}

/// While the worker's delivery waits on a server that has not greeted yet, another mail is
/// queued and the call returns: queueing never waits for the network.
#[test]
fn a_queue_returns_while_a_delivery_waits_on_the_server() {
    let _serial = serial();
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut c = client(port);
    let mut outbox = COutbox::created(&mut c);
    outbox.clear();
    let first = outbox.queue("<bob@example.test>", "held");
    // The worker connects: the delivery is under way, and the greeting is withheld.
    silent.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + WAIT;
    let held = loop {
        match silent.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the worker never connected: {e}"),
        }
    };
    let (done, finished) = std::sync::mpsc::channel();
    let block = outbox.ptr() as usize;
    std::thread::spawn(move || {
        let (to, subject, body) = (cs("<bob@example.test>"), cs("second"), b"queued meanwhile\n");
        let mut id = 0;
        // SAFETY: the outbox outlives this call: the test waits for it (or fails, leaking it).
        let st = unsafe { nx_smtp_mail_queue(block as *mut NxSmtpOutbox, to.as_ptr().cast_mut(), 2, subject.as_ptr().cast_mut(), body.as_ptr().cast::<i8>().cast_mut(), body.len() as u32, &mut id) };
        let _ = done.send((st, id));
    });
    let (st, second) = finished.recv_timeout(WAIT).expect("nx_smtp_mail_queue waited for the delivery");
    assert_eq!(st, NX_SUCCESS);
    assert!(u64::from(second as u32) > first);
    assert_eq!(outbox.status(first).map(|s| s.0), Ok(NX_SMTP_OUTBOX_QUEUED), "the mail being sent is still queued");
    assert_eq!(outbox.drop_mail(first), NX_SMTP_OUTBOX_BUSY, "a mail being sent cannot be dropped");
    network(false);
    drop(held);
    outbox.events.wait_for("the held attempt settled", |e| e.iter().any(|e| e.1 == first));
    assert_eq!(outbox.status(first).map(|s| (s.0, s.1)), Ok((NX_SMTP_OUTBOX_RETRYING, 1)));
    outbox.clear();
}

/// Through aiosmtpd's hooks: a 451 is retried and then delivered, a 550 is set aside as failed
/// with its reply and never retried, until dropped. The worker is idle (network down): the
/// flushes deliver in the calling thread.
#[test]
fn a_4xx_is_retried_and_a_5xx_set_aside_until_dropped() {
    let _serial = serial();
    let mut c = client(AIOSMTPD);
    let mut outbox = COutbox::created(&mut c);
    outbox.clear();
    network(false);
    let run = token("run");
    let later = outbox.queue(&format!("<defer-{run}@aio.test>"), "deferred");
    let refused = outbox.queue(&format!("<reject-{run}@aio.test>"), "refused");
    let fine = outbox.queue("<fine@aio.test>", "fine");
    assert_eq!(outbox.flush(), NX_SMTP_RCPT_REPLY_ERROR, "the last failure's status");
    let seen = outbox.events.wait_for("three outcomes", |e| e.len() >= 3);
    assert_eq!(seen, vec![(NX_SMTP_OUTBOX_RETRYING, later, 451), (NX_SMTP_OUTBOX_FAILED, refused, 550), (NX_SMTP_OUTBOX_DELIVERED, fine, 250)]);
    let rows = outbox.list();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0, rows[0].1, rows[0].2, rows[0].3), (later, NX_SMTP_OUTBOX_RETRYING, 1, 451));
    assert_eq!((rows[1].0, rows[1].1, rows[1].2, rows[1].3), (refused, NX_SMTP_OUTBOX_FAILED, 1, 550));
    assert!(rows[1].4.starts_with("5.1.1 <reject-") || rows[1].4.contains("reject-"), "{rows:?}");
    // The second flush delivers the deferred mail; the refused one is not tried again.
    assert_eq!(outbox.flush(), NX_SUCCESS, "nothing left to deliver (the failed mail aside)");
    outbox.events.wait_for("the retry delivered", |e| e.contains(&(NX_SMTP_OUTBOX_DELIVERED, later, 250)));
    assert_eq!(outbox.list().iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>(), vec![(refused, NX_SMTP_OUTBOX_FAILED, 1)]);
    assert_eq!(outbox.drop_mail(refused), NX_SUCCESS);
    assert_eq!(outbox.drop_mail(refused), NX_SMTP_OUTBOX_NOT_FOUND);
    assert!(outbox.list().is_empty());
}

/// Bad input is refused with nx_smtp_mail_send's statuses and stores nothing; a full outbox
/// refuses the next mail and keeps every earlier one; the mails survive a delete and a new
/// create (what a reboot does), and a second outbox cannot take the storage.
#[test]
fn bad_input_a_full_outbox_and_a_restart() {
    let _serial = serial();
    let mut c = client(POSTFIX);
    let mut outbox = COutbox::created(&mut c);
    outbox.clear();
    network(false);
    for (to, priority, subject, body, expected) in [
        ("<bob@example.test>", 2, "Hi\r\nBcc: eve@example.test", &b"x\n"[..], NX_SMTP_INVALID_PARAM),
        ("bob@example.test\r\nRCPT TO:<eve@example.test>", 2, "Hi", b"x\n", NX_SMTP_INVALID_PARAM),
        ("<bob@example.test>", 3, "Hi", b"x\n", NX_SMTP_INVALID_PARAM),
        ("<bob@example.test>", 2, "Hi", b"", NX_SMTP_INVALID_PARAM),
        ("<bob@example.test>", 2, "Hi", b"nul \0 inside\n", NX_SMTP_INVALID_PARAM),
    ] {
        assert_eq!(outbox.queue_with(to, priority, subject, body), Err(expected), "{to:?} {subject:?} {body:?}");
    }
    let too_long = "a line of forty-nine bytes of text, no more than.\n".repeat(60);
    let too_long = too_long.as_bytes();
    assert_eq!(outbox.queue_with("<bob@example.test>", 2, "big", too_long), Err(NX_SMTP_OVERSIZE_MAIL_DATA));
    assert!(outbox.list().is_empty(), "a refused mail left something");

    let capacity = zsmtp::limits::OUTBOX_SLOTS;
    let ids: Vec<u64> = (0..capacity).map(|i| outbox.queue("<bob@example.test>", &format!("fill {i}"))).collect();
    assert_eq!(outbox.queue_with("<bob@example.test>", 2, "one more", b"x\n"), Err(NX_SMTP_OUTBOX_FULL));
    assert_eq!(outbox.list().iter().map(|r| r.0).collect::<Vec<_>>(), ids, "every earlier mail kept");

    let mut other = COutbox { block: Box::new(MaybeUninit::zeroed()), events: Arc::default() };
    assert_eq!(other.create(&mut c), NX_SMTP_OUTBOX_BUSY, "one outbox per storage");
    assert_eq!(outbox.delete(), NX_SUCCESS);
    assert_eq!(outbox.delete(), NX_PTR_ERROR, "a second delete");
    assert_eq!(outbox.queue_with("<bob@example.test>", 2, "after delete", b"x\n"), Err(NX_SMTP_CLIENT_NOT_INTIALIZED));
    let mut again = COutbox::created(&mut c);
    assert_eq!(again.list().iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), ids.iter().map(|&id| (id, NX_SMTP_OUTBOX_QUEUED)).collect::<Vec<_>>(), "kept across delete and create");
    let next = again.queue_with("<bob@example.test>", 2, "x", b"x\n");
    assert_eq!(next, Err(NX_SMTP_OUTBOX_FULL));
    again.clear();
    let after = again.queue("<bob@example.test>", "after restart");
    assert!(after > *ids.last().unwrap(), "ids keep increasing after a restart");
    again.clear();
}

/// The link dies after the final dot (the peer takes the message and closes without a reply):
/// the outcome is unknown. Parked (nx_smtp_outbox_policy_set), the mail waits, listed as
/// unknown and not pending, until nx_smtp_outbox_resend sends it again, with the same
/// Message-ID. The policy's arguments are checked.
#[test]
fn an_unknown_outcome_is_parked_until_resent_with_the_same_message_id() {
    let _serial = serial();
    let peer = Peer::start(|_| Answer::Accept, |_, before| if before == 0 { Answer::Vanish } else { Answer::Accept });
    // The peer offers no AUTH.
    let mut c = CClient::created(peer.port, NX_SMTP_CLIENT_AUTH_NONE, "", "", "<alice@example.test>", "device.example.test");
    let mut outbox = COutbox::created(&mut c);
    outbox.clear();
    network(false);
    // SAFETY: a created outbox.
    unsafe {
        assert_eq!(nx_smtp_outbox_policy_set(outbox.ptr(), 0, 10, NX_SMTP_OUTBOX_UNKNOWN_PARK), NX_SMTP_INVALID_PARAM, "a first wait of 0");
        assert_eq!(nx_smtp_outbox_policy_set(outbox.ptr(), 10, 5, NX_SMTP_OUTBOX_UNKNOWN_PARK), NX_SMTP_INVALID_PARAM, "max below first");
        assert_eq!(nx_smtp_outbox_policy_set(outbox.ptr(), 10, 20, 2), NX_SMTP_INVALID_PARAM, "an unknown rule");
        assert_eq!(nx_smtp_outbox_policy_set(outbox.ptr(), 1000, 2000, NX_SMTP_OUTBOX_UNKNOWN_PARK), NX_SUCCESS);
    }
    let id = outbox.queue("<bob@example.test>", "unknown outcome");
    assert_eq!(outbox.flush(), NX_SUCCESS, "nothing left to deliver: the mail is parked");
    outbox.events.wait_for("the unknown outcome", |e| e.contains(&(NX_SMTP_OUTBOX_UNKNOWN, id, 0)));
    assert_eq!(outbox.status(id).map(|s| (s.0, s.1)), Ok((NX_SMTP_OUTBOX_UNKNOWN, 1)));
    assert_eq!(outbox.flush(), NX_SUCCESS);
    assert_eq!(peer.taken().len(), 1, "a parked mail is not sent again by a flush");
    // SAFETY: a created outbox.
    assert_eq!(unsafe { nx_smtp_outbox_resend(outbox.ptr(), id as _) }, NX_SUCCESS);
    assert_eq!(outbox.flush(), NX_SUCCESS);
    outbox.events.wait_for("the resent mail delivered", |e| e.contains(&(NX_SMTP_OUTBOX_DELIVERED, id, 250)));
    let taken = peer.taken();
    assert_eq!(taken.len(), 2);
    let ids: Vec<Option<String>> = taken.iter().map(|t| support::peer::header(&t.content, "Message-ID")).collect();
    assert!(ids[0].is_some() && ids[0] == ids[1], "the same Message-ID: {ids:?}");
    assert!(outbox.list().is_empty());
    // SAFETY: a created outbox.
    assert_eq!(unsafe { nx_smtp_outbox_resend(outbox.ptr(), id as _) }, NX_SMTP_OUTBOX_NOT_FOUND);
}
