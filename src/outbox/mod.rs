//! The outbox (feature `outbox`): mails queued durably and delivered later, in order, through
//! the engine, with retries; no heap, generic over a [`Storage`] of keyed records.
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use zsmtp::outbox::{Outbox, Policy, RamStorage};
//! use zsmtp::transport::host::{StdClock, StdTransport};
//! use zsmtp::{Client, Config, Mail};
//!
//! let mut storage: Box<RamStorage<64, 256>> = Box::default();
//! let mut work = [0u8; 4096];
//! let (mut outbox, _recovered) = Outbox::<_, 16>::open(&mut *storage, &mut work, Policy::DEFAULT)?;
//! let mut clock = StdClock::new();
//! // Any thread that owns the outbox (behind a mutex) queues and returns at once:
//! let ticket = outbox.submit("device@example.com", &Mail::new("Pump 3 hot", b"93 C\n").to(&["ops@example.com"]), &mut clock)?;
//! // A worker delivers what is due, over one connection:
//! let config = Config::new("mail.example.com", 25, "device.example.com", "device@example.com");
//! let mut client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new()).unwrap();
//! let batch = outbox.deliver(&mut client, &mut clock, &mut |event| println!("{event:?}"))?;
//! # let _ = (ticket, batch);
//! # }
//! # Ok::<(), zsmtp::outbox::OutboxError>(())
//! ```
//!
//! How a mail is stored (docs/RELIABILITY.md, "The outbox", states the guarantees): each mail
//! owns a slot of keys; its data goes into data records first, then one head record commits it.
//! Its delivery state is a record of its own, replaced on every change. A delivered mail's head
//! record is deleted first (that deletion is the delivery's commit), then the rest. At
//! [`Outbox::open`] every slot is read back: a committed mail is kept whole, anything without a
//! valid head (a submit cut short, a removal cut short) is deleted, and a committed mail whose
//! data no longer verifies is set aside as failed, never sent.

mod deliver;
#[cfg(feature = "std")]
mod dir;
mod image;
mod policy;
mod ram;
mod record;
mod storage;

pub use deliver::{send_due, Batch, Lease};
#[cfg(feature = "std")]
pub use dir::DirStorage;
pub use image::MAX_ATTACHMENTS;
pub use policy::{OnUnknown, Policy};
pub use ram::RamStorage;
pub use record::{FORMAT_VERSION, HEADER_LEN as RECORD_HEADER_LEN};
pub use storage::{Storage, StorageError, FIRST_KEY, LAST_KEY, MAX_CHUNKS, MAX_SLOTS, MIN_RECORD_SIZE};

use crate::error::{Error, ServerReply, SERVER_REPLY_TEXT_LEN};
#[cfg(feature = "mime")]
use crate::error::{ErrorKind, Field, Invalid, Phase};
#[cfg(feature = "mime")]
use crate::session::Attachment;
use crate::session::{self, Mail, Origin};
use crate::transport::Clock;
use crate::wire::body::Counter;
use crate::wire::out::Sink;
use record::{Header, Kind, HEADER_LEN};
use storage::{chunk_key, head_key, state_key};

/// A queued mail's number: unique among the mails in the outbox, and increasing in the order
/// they were submitted (the order of delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub u32);

impl core::fmt::Display for Ticket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a queued mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for its first attempt.
    Queued,
    /// An attempt failed for a reason that may pass (no connection, a timeout, a 4xx reply);
    /// tried again after its backoff.
    Retrying,
    /// The link died after its final dot, before the server's reply: it may have been
    /// delivered. Resent, or parked, as [`Policy::on_unknown`] says.
    Unknown,
    /// Refused for good (a 5xx reply to its envelope or content), or its stored copy is
    /// damaged: set aside, never tried again, listed until removed.
    Failed,
}

impl State {
    /// The state's name in lists: `queued`, `retrying`, `unknown`, `failed`.
    pub const fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Retrying => "retrying",
            State::Unknown => "unknown",
            State::Failed => "failed",
        }
    }

    const fn code(self) -> u8 {
        match self {
            State::Queued => 0,
            State::Retrying => 1,
            State::Unknown => 2,
            State::Failed => 3,
        }
    }

    const fn from_code(code: u8) -> Option<State> {
        match code {
            0 => Some(State::Queued),
            1 => Some(State::Retrying),
            2 => Some(State::Unknown),
            3 => Some(State::Failed),
            _ => None,
        }
    }
}

/// Why the outbox refused or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxError {
    /// The mail is invalid, exactly as [`Client::send`](crate::Client::send) would refuse it
    /// (or an attachment's reader failed while it was read in): nothing was stored.
    Invalid(Error),
    /// The outbox is full (every slot holds a mail, or the storage has no room): nothing was
    /// stored, and no mail already queued was touched.
    Full,
    /// The mail is larger than the outbox can hold (more than [`MAX_CHUNKS`] records, or text
    /// and fields larger than the work buffer): nothing was stored.
    TooLarge,
    /// The storage failed. A submit that fails so stored nothing; during delivery the batch
    /// stops, and every committed mail is still there.
    Storage,
    /// No mail with this ticket.
    NotFound,
    /// The mail is being sent right now ([`Outbox::take_due`]): it cannot be removed until
    /// its attempt is settled.
    Busy,
    /// The work buffer is smaller than one record and 64 bytes, or the storage's record size is
    /// outside [`MIN_RECORD_SIZE`]..=`RECORD_HEADER_LEN + 65535`.
    Setup,
}

impl core::fmt::Display for OutboxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OutboxError::Invalid(e) => write!(f, "the mail is invalid: {e}"),
            OutboxError::Full => f.write_str("the outbox is full"),
            OutboxError::TooLarge => f.write_str("the mail is larger than the outbox can hold"),
            OutboxError::Storage => f.write_str("the outbox's storage failed"),
            OutboxError::NotFound => f.write_str("no such mail in the outbox"),
            OutboxError::Busy => f.write_str("the mail is being sent"),
            OutboxError::Setup => f.write_str("the work buffer or the storage's record size does not fit"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OutboxError {}

fn storage_error(e: StorageError) -> OutboxError {
    match e {
        StorageError::NoSpace => OutboxError::Full,
        StorageError::Failed => OutboxError::Storage,
    }
}

/// What [`Outbox::open`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Committed mails kept (failed ones included).
    pub mails: usize,
    /// Slots with uncommitted or half-removed records, now deleted.
    pub discarded: usize,
    /// Committed mails whose stored copy no longer verifies, now set aside as failed.
    pub damaged: usize,
}

/// One mail as [`Outbox::list`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub ticket: Ticket,
    pub state: State,
    /// Delivery attempts made so far.
    pub attempts: u16,
    /// When the next attempt is due, in the milliseconds of the clock given to
    /// [`Outbox::deliver`] (0: now).
    pub next_attempt_ms: u64,
    /// The last attempt's server reply; code 0 when no reply decided it (the text then names
    /// the status, `NX_NOT_CONNECTED`).
    pub reply: Option<ServerReply>,
}

/// What happened to a mail in [`Outbox::deliver`], given to its event callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The server accepted it; it is gone from the outbox.
    Delivered,
    /// It failed for a reason that may pass; tried again later.
    Retrying,
    /// Its outcome is unknown (see [`State::Unknown`]).
    Unknown,
    /// Refused for good, or its stored copy is damaged: set aside.
    Failed,
}

/// An event of [`Outbox::deliver`].
#[derive(Debug, Clone, Copy)]
pub struct Event<'e> {
    pub ticket: Ticket,
    pub kind: EventKind,
    /// Attempts made, this one included.
    pub attempts: u16,
    /// The server's reply (its final reply when delivered), or code 0 and the status name.
    pub reply: &'e ServerReply,
}

/// A mail in the outbox, as the outbox keeps it in RAM (the reply text stays in storage).
#[derive(Debug, Clone, Copy)]
struct Entry {
    sequence: u32,
    state: State,
    attempts: u16,
    /// Taken for delivery by [`Outbox::take_due`], not yet settled.
    in_flight: bool,
    /// Due when the clock reads at least this (0: now).
    due_ms: u64,
}

/// The head record's payload: the image's length, record count, CRC-32, fixed part's length.
const HEAD_LEN: usize = 14;
/// The state record's largest payload: state, attempts, next attempt, reply code, text.
const STATE_LEN: usize = 1 + 2 + 8 + 2 + 1 + SERVER_REPLY_TEXT_LEN;

/// A durable outbox of at most `N` mails (at most [`MAX_SLOTS`]) over the storage `S`.
///
/// RAM: the storage handle, the work buffer the caller gives (one record, plus the largest
/// mail's text and fields, which are read back into it to be sent), and 16 bytes per slot.
/// Use it from one thread at a time (behind a mutex when several submit). To send without
/// holding that mutex, deliver through [`Outbox::take_due`], [`send_due`] and
/// [`Outbox::settle`] (what the C API's worker does).
pub struct Outbox<'w, S: Storage, const N: usize = 16> {
    storage: S,
    work: &'w mut [u8],
    entries: [Option<Entry>; N],
    next_sequence: u32,
    policy: Policy,
    /// After a failure of the connection itself, no mail is tried before this.
    hold_until_ms: u64,
    /// The largest text and fields a mail may have (what the buffer that sends it holds).
    text_limit: usize,
}

/// A record as read back from storage.
enum Loaded<'b> {
    Missing,
    Damaged,
    Good(Header, &'b [u8]),
}

fn load<'b, S: Storage>(storage: &mut S, key: u16, buf: &'b mut [u8]) -> Result<Loaded<'b>, OutboxError> {
    match storage.read(key, buf).map_err(storage_error)? {
        None => Ok(Loaded::Missing),
        Some(n) => match buf.get(..n).and_then(record::open) {
            Some((header, payload)) => Ok(Loaded::Good(header, payload)),
            None => Ok(Loaded::Damaged),
        },
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = bytes.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_le_bytes(b)
}

/// A mail's head: what commits it.
#[derive(Debug, Clone, Copy)]
struct Head {
    data_len: u32,
    chunks: u16,
    data_crc: u32,
    fixed_len: u32,
}

impl Head {
    fn parse(payload: &[u8]) -> Option<Head> {
        let p: &[u8; HEAD_LEN] = payload.try_into().ok()?;
        Some(Head {
            data_len: u32_at(p, 0),
            chunks: u16::from_le_bytes([p[4], p[5]]),
            data_crc: u32_at(p, 6),
            fixed_len: u32_at(p, 10),
        })
    }
}

impl<'w, S: Storage, const N: usize> Outbox<'w, S, N> {
    /// Opens the outbox on `storage`, recovering what a power cut may have left: every
    /// committed mail is kept (failed ones stay listed), every uncommitted or half-removed
    /// one is deleted, and a committed mail whose data no longer verifies is set aside as
    /// failed. Every waiting mail is due at once (the clock that timed its backoff may not have
    /// survived). `work` must hold one record and 64 bytes; its rest bounds a mail's text
    /// and fields (attachments are streamed from storage and not bounded by it). Open a storage
    /// with the same `N` every time: a mail in a slot beyond `N` is not seen.
    pub fn open(storage: S, work: &'w mut [u8], policy: Policy) -> Result<(Self, Recovered), OutboxError> {
        const { assert!(N >= 1 && N <= MAX_SLOTS, "an outbox has 1 to MAX_SLOTS slots") };
        let size = storage.record_size();
        if !(MIN_RECORD_SIZE..=HEADER_LEN + usize::from(u16::MAX)).contains(&size) || work.len() < size + 64 {
            return Err(OutboxError::Setup);
        }
        let text_limit = work.len() - size;
        let mut outbox = Outbox { storage, work, entries: [None; N], next_sequence: 1, policy, hold_until_ms: 0, text_limit };
        let mut recovered = Recovered::default();
        for slot in 0..N {
            outbox.recover(slot, &mut recovered)?;
        }
        let last = outbox.entries.iter().flatten().map(|e| e.sequence).max().unwrap_or(0);
        outbox.next_sequence = last.wrapping_add(1).max(1);
        Ok((outbox, recovered))
    }

    /// The storage, back (for a test, or to reopen).
    pub fn into_storage(self) -> S {
        self.storage
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Replaces the retry policy; waiting mails keep the time their last failure set.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// Sets the largest text and fields (subject, addresses, body, HTML, attachment names) a
    /// submitted mail may have, when its deliveries read it into another buffer than this
    /// outbox's work buffer ([`send_due`]): that buffer's length less one record. A larger
    /// mail is refused with [`OutboxError::TooLarge`]. Default: the work buffer's length less
    /// one record.
    pub fn set_text_limit(&mut self, bytes: usize) {
        self.text_limit = bytes;
    }

    /// Reads slot `slot` back: a committed mail, or leftovers to delete.
    fn recover(&mut self, slot: usize, recovered: &mut Recovered) -> Result<(), OutboxError> {
        let mut buf = [0u8; HEADER_LEN + HEAD_LEN];
        let head = match load(&mut self.storage, head_key(slot), &mut buf)? {
            Loaded::Good(Header { kind: Kind::Head, sequence, .. }, payload) => Head::parse(payload).map(|h| (sequence, h)),
            Loaded::Missing => None,
            _ => {
                self.storage.delete(head_key(slot)).map_err(storage_error)?;
                None
            }
        };
        let Some((sequence, head)) = head else {
            if self.clear(slot)? {
                recovered.discarded += 1;
            }
            return Ok(());
        };
        recovered.mails += 1;
        let mut entry = Entry { sequence, state: State::Queued, attempts: 0, in_flight: false, due_ms: 0 };
        let mut state = [0u8; HEADER_LEN + STATE_LEN];
        if let Loaded::Good(Header { kind: Kind::State, sequence: s, .. }, p) = load(&mut self.storage, state_key(slot), &mut state)? {
            if s == sequence {
                if let (Some(&code), Some(&[a0, a1])) = (p.first(), p.get(1..3)) {
                    entry.state = State::from_code(code).unwrap_or(State::Queued);
                    entry.attempts = u16::from_le_bytes([a0, a1]);
                }
            }
        }
        if entry.state != State::Failed && !self.verify(slot, sequence, &head)? {
            recovered.damaged += 1;
            entry.state = State::Failed;
            let reply = ServerReply::new(0, None, b"the stored copy is damaged; it was never sent");
            write_state(&mut self.storage, slot, &entry, 0, &reply)?;
        }
        if let Some(e) = self.entries.get_mut(slot) {
            *e = Some(entry);
        }
        Ok(())
    }

    /// Whether every data record of the mail in `slot` is there, whole, and its data matches
    /// the head's length and CRC.
    fn verify(&mut self, slot: usize, sequence: u32, head: &Head) -> Result<bool, OutboxError> {
        let mut crc = record::CRC32_INIT;
        let mut total = 0u64;
        for index in 0..usize::from(head.chunks) {
            if index >= MAX_CHUNKS {
                return Ok(false);
            }
            match load(&mut self.storage, chunk_key(slot, index), self.work)? {
                Loaded::Good(Header { kind: Kind::Data, sequence: s, index: i }, payload) if s == sequence && usize::from(i) == index => {
                    crc = record::crc32_update(crc, payload);
                    total += payload.len() as u64;
                }
                _ => return Ok(false),
            }
        }
        Ok(total == u64::from(head.data_len) && record::crc32_finish(crc) == head.data_crc && head.fixed_len <= head.data_len)
    }

    /// Deletes whatever a slot without a committed mail holds: its state record and its data
    /// records, the last first, so that a cut leaves a prefix that the next open deletes.
    /// Returns whether there was anything.
    fn clear(&mut self, slot: usize) -> Result<bool, OutboxError> {
        let mut probe = [0u8; HEADER_LEN];
        let had_state = self.storage.read(state_key(slot), &mut probe).map_err(storage_error)?.is_some();
        if had_state {
            self.storage.delete(state_key(slot)).map_err(storage_error)?;
        }
        let mut count = 0;
        while count < MAX_CHUNKS && self.storage.read(chunk_key(slot, count), &mut probe).map_err(storage_error)?.is_some() {
            count += 1;
        }
        for index in (0..count).rev() {
            self.storage.delete(chunk_key(slot, index)).map_err(storage_error)?;
        }
        Ok(had_state || count > 0)
    }

    /// Queues `mail` from `from` (its envelope sender and From header) and returns its ticket
    /// at once; nothing goes on the network. The mail is checked exactly as
    /// [`Client::send`](crate::Client::send) checks it, then stored whole: envelope, header
    /// fields, body, HTML alternative, with a Date and a Message-ID fixed now (from `clock`),
    /// which every delivery attempt sends unchanged. When this returns `Ok` the mail is
    /// committed: it survives a power cut. On any error nothing is stored and no mail already
    /// queued is touched: a full outbox refuses ([`OutboxError::Full`]), it never drops a mail.
    pub fn submit<K: Clock>(&mut self, from: &str, mail: &Mail<'_>, clock: &mut K) -> Result<Ticket, OutboxError> {
        self.store(from, mail, Parts::none(), clock)
    }

    /// As [`Outbox::submit`], with `attachments` (feature `mime`): each is read from its
    /// reader now, into storage, and sent from there.
    #[cfg(feature = "mime")]
    pub fn submit_mime<K: Clock>(
        &mut self,
        from: &str,
        mail: &Mail<'_>,
        attachments: &mut [Attachment<'_>],
        clock: &mut K,
    ) -> Result<Ticket, OutboxError> {
        self.store(from, mail, Parts { attachments }, clock)
    }

    fn store<K: Clock>(&mut self, from: &str, mail: &Mail<'_>, mut parts: Parts<'_, '_>, clock: &mut K) -> Result<Ticket, OutboxError> {
        let invalid = |e: Error| OutboxError::Invalid(e);
        let sequence = self.next_sequence;
        let unix_time = clock.unix_time();
        let origin = Origin {
            from,
            date: unix_time.and_then(|s| u32::try_from(s).ok()),
            message_id: (unix_time.unwrap_or_else(|| clock.now_ms()), sequence, clock.entropy()),
        };
        let mail = mail.origin(origin);
        // The checks of a send: the mail (the sender included), then its body.
        session::check_mail(&mail).map_err(|f| invalid(f.into()))?;
        parts.check(&mail).map_err(invalid)?;
        let slot = self.entries.iter().position(Option::is_none).ok_or(OutboxError::Full)?;

        let lists = image::Lists { to: mail.to, cc: mail.cc, bcc: mail.bcc };
        let fields = image::Fixed {
            origin,
            to: &[],
            cc: &[],
            bcc: &[],
            subject: mail.subject,
            priority: mail.priority,
            allow_partial: mail.allow_partial,
            body: mail.body,
            #[cfg(feature = "mime")]
            html: mail.html,
            #[cfg(not(feature = "mime"))]
            html: &[],
            attachments: [("", ""); MAX_ATTACHMENTS],
            attachment_count: 0,
        };
        let mut measure = Counter(0);
        let _ = image::write_fixed(&mut measure, &origin, &lists, &fields, parts.names());
        let size = self.storage.record_size();
        if measure.0 > self.text_limit as u64 {
            return Err(OutboxError::TooLarge);
        }

        let (record_buf, scratch) = self.work.split_at_mut(size);
        let mut writer = ImageWriter { storage: &mut self.storage, record: record_buf, slot, sequence, index: 0, fill: 0, crc: record::CRC32_INIT, total: 0 };
        let written = image::write_fixed(&mut writer, &origin, &lists, &fields, parts.names())
            .and_then(|()| parts.read_into(&mut writer, scratch))
            .and_then(|()| writer.finish());
        let result = written.and_then(|head| {
            let mut p = [0u8; HEAD_LEN];
            p[0..4].copy_from_slice(&head.data_len.to_le_bytes());
            p[4..6].copy_from_slice(&head.chunks.to_le_bytes());
            p[6..10].copy_from_slice(&head.data_crc.to_le_bytes());
            p[10..14].copy_from_slice(&(measure.0 as u32).to_le_bytes());
            let mut buf = [0u8; HEADER_LEN + HEAD_LEN];
            buf[HEADER_LEN..].copy_from_slice(&p);
            let n = record::seal(&mut buf, Header { kind: Kind::Head, sequence, index: 0 }, HEAD_LEN);
            // The commit: once this record is written, the mail is queued.
            writer.storage.write(head_key(slot), buf.get(..n).unwrap_or_default()).map_err(storage_error)
        });
        if let Err(e) = result {
            // Best effort: what is left is deleted by the next open.
            let _ = self.clear(slot);
            return Err(e);
        }
        if let Some(e) = self.entries.get_mut(slot) {
            *e = Some(Entry { sequence, state: State::Queued, attempts: 0, in_flight: false, due_ms: 0 });
        }
        self.next_sequence = sequence.wrapping_add(1).max(1);
        Ok(Ticket(sequence))
    }

    /// How many mails the outbox holds (failed ones included).
    pub fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many mails are still to be delivered: queued, retrying, and unknown ones unless
    /// parked.
    pub fn pending(&self) -> usize {
        self.entries.iter().flatten().filter(|e| self.deliverable(e)).count()
    }

    fn deliverable(&self, e: &Entry) -> bool {
        match e.state {
            State::Queued | State::Retrying => true,
            State::Unknown => self.policy.on_unknown == OnUnknown::Resend,
            State::Failed => false,
        }
    }

    /// When the next mail is due (in the clock's milliseconds), if any is waiting.
    pub fn next_due_ms(&self) -> Option<u64> {
        self.entries.iter().flatten().filter(|e| self.deliverable(e)).map(|e| e.due_ms.max(self.hold_until_ms)).min()
    }

    /// Makes every waiting mail due now (the network just came back; a flush was asked for).
    /// Nothing is written.
    pub fn retry_now(&mut self) {
        self.hold_until_ms = 0;
        for e in self.entries.iter_mut().flatten() {
            e.due_ms = 0;
        }
    }

    fn slot_of(&self, ticket: Ticket) -> Result<usize, OutboxError> {
        self.entries.iter().position(|e| e.is_some_and(|e| e.sequence == ticket.0)).ok_or(OutboxError::NotFound)
    }

    /// Removes a mail, whatever its state (a failed one the application has seen, a parked
    /// one it gives up on). Its head record goes first: a cut leaves leftovers that the next
    /// open deletes, never half a mail. A mail being sent is [`OutboxError::Busy`].
    pub fn remove(&mut self, ticket: Ticket) -> Result<(), OutboxError> {
        let slot = self.slot_of(ticket)?;
        if self.entries.get(slot).copied().flatten().is_some_and(|e| e.in_flight) {
            return Err(OutboxError::Busy);
        }
        self.storage.delete(head_key(slot)).map_err(storage_error)?;
        if let Some(e) = self.entries.get_mut(slot) {
            *e = None;
        }
        self.clear(slot).map(|_| ())
    }

    /// Sends a mail parked with an unknown outcome again ([`OnUnknown::Park`]): it becomes
    /// queued, due now, with the same Message-ID.
    pub fn resend(&mut self, ticket: Ticket) -> Result<(), OutboxError> {
        let slot = self.slot_of(ticket)?;
        let Some(Some(mut entry)) = self.entries.get(slot).copied() else { return Err(OutboxError::NotFound) };
        if entry.state != State::Unknown {
            return Ok(());
        }
        entry.state = State::Queued;
        entry.due_ms = 0;
        let reply = self.status_of(slot, &entry)?.reply.unwrap_or_else(|| ServerReply::new(0, None, b""));
        write_state(&mut self.storage, slot, &entry, 0, &reply)?;
        if let Some(e) = self.entries.get_mut(slot) {
            *e = Some(entry);
        }
        Ok(())
    }

    fn status_of(&mut self, slot: usize, entry: &Entry) -> Result<Status, OutboxError> {
        let mut buf = [0u8; HEADER_LEN + STATE_LEN];
        let (mut next_attempt_ms, mut reply) = (0, None);
        if let Loaded::Good(Header { kind: Kind::State, sequence, .. }, p) = load(&mut self.storage, state_key(slot), &mut buf)? {
            if sequence == entry.sequence && p.len() >= 14 {
                let mut next = [0u8; 8];
                next.copy_from_slice(p.get(3..11).unwrap_or(&[0; 8]));
                next_attempt_ms = u64::from_le_bytes(next);
                let code = u16::from_le_bytes([p.get(11).copied().unwrap_or(0), p.get(12).copied().unwrap_or(0)]);
                let len = usize::from(p.get(13).copied().unwrap_or(0));
                reply = p.get(14..14 + len).map(|text| ServerReply::new(code, None, text));
            }
        }
        Ok(Status { ticket: Ticket(entry.sequence), state: entry.state, attempts: entry.attempts, next_attempt_ms, reply })
    }

    /// One mail's state, attempts and last reply.
    pub fn status(&mut self, ticket: Ticket) -> Result<Status, OutboxError> {
        let slot = self.slot_of(ticket)?;
        let Some(Some(entry)) = self.entries.get(slot).copied() else { return Err(OutboxError::NotFound) };
        self.status_of(slot, &entry)
    }

    /// Every mail, in the order of delivery, with its state, attempts and last reply.
    pub fn list(&mut self, mut each: impl FnMut(&Status)) -> Result<(), OutboxError> {
        let mut after = 0u32;
        while let Some((slot, entry)) = self.next_in_order(after, |_| true) {
            each(&self.status_of(slot, &entry)?);
            after = entry.sequence;
        }
        Ok(())
    }

    /// The mail after sequence number `after` in submit order that `wanted` accepts.
    fn next_in_order(&self, after: u32, wanted: impl Fn(&Entry) -> bool) -> Option<(usize, Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(slot, e)| e.map(|e| (slot, e)))
            .filter(|(_, e)| e.sequence > after && wanted(e))
            .min_by_key(|(_, e)| e.sequence)
    }
}

/// Writes a mail's state record (`next_attempt_ms`: when it is due, for lists).
fn write_state<S: Storage>(storage: &mut S, slot: usize, entry: &Entry, next_attempt_ms: u64, reply: &ServerReply) -> Result<(), OutboxError> {
    let text = reply.text().as_bytes();
    let text = text.get(..SERVER_REPLY_TEXT_LEN).unwrap_or(text);
    let mut p = [0u8; STATE_LEN];
    p[0] = entry.state.code();
    p[1..3].copy_from_slice(&entry.attempts.to_le_bytes());
    p[3..11].copy_from_slice(&next_attempt_ms.to_le_bytes());
    p[11..13].copy_from_slice(&reply.code.to_le_bytes());
    p[13] = text.len() as u8;
    if let Some(t) = p.get_mut(14..14 + text.len()) {
        t.copy_from_slice(text);
    }
    let mut buf = [0u8; HEADER_LEN + STATE_LEN];
    buf[HEADER_LEN..].copy_from_slice(&p);
    let n = record::seal(&mut buf, Header { kind: Kind::State, sequence: entry.sequence, index: 0 }, 14 + text.len());
    storage.write(state_key(slot), buf.get(..n).unwrap_or_default()).map_err(storage_error)
}

/// The attachments of a submit (none without the feature `mime`).
struct Parts<'m, 'a> {
    #[cfg(feature = "mime")]
    attachments: &'m mut [Attachment<'a>],
    #[cfg(not(feature = "mime"))]
    attachments: core::marker::PhantomData<(&'m (), &'a ())>,
}

impl<'m, 'a> Parts<'m, 'a> {
    fn none() -> Self {
        Parts {
            #[cfg(feature = "mime")]
            attachments: &mut [],
            #[cfg(not(feature = "mime"))]
            attachments: core::marker::PhantomData,
        }
    }

    /// The body's checks of a send: a MIME body's when the mail has an HTML alternative or
    /// attachments, else a plain body's.
    fn check(&mut self, mail: &Mail<'_>) -> Result<(), Error> {
        #[cfg(feature = "mime")]
        if !mail.html.is_empty() || !self.attachments.is_empty() {
            if self.attachments.len() > MAX_ATTACHMENTS {
                return Err(Error::new(ErrorKind::InvalidInput(Field::Attachment, Invalid::TooLong), Phase::Validate));
            }
            use session::BodySource as _;
            return session::MimeBody::new(mail.body, mail.html, self.attachments).check().map(|_| ()).map_err(Error::from);
        }
        #[cfg(not(feature = "mime"))]
        let _ = &self.attachments;
        session::body_bytes(mail.body).map(|_| ()).map_err(Error::from)
    }

    fn names(&self) -> impl Iterator<Item = (&str, &str)> + use<'_, 'm, 'a> {
        #[cfg(feature = "mime")]
        return self.attachments.iter().map(|a| (a.name, a.content_type.unwrap_or("")));
        #[cfg(not(feature = "mime"))]
        return core::iter::empty();
    }

    /// Reads every attachment into the image, then their sizes. A reader that fails, or gives
    /// another size than it declared, refuses the mail.
    fn read_into<S: Storage>(&mut self, writer: &mut ImageWriter<'_, S>, scratch: &mut [u8]) -> Result<(), OutboxError> {
        #[cfg(feature = "mime")]
        {
            let read_failed = || OutboxError::Invalid(Error::new(ErrorKind::BodyRead, Phase::Validate));
            let mut sizes = [0u64; MAX_ATTACHMENTS];
            for (a, size) in self.attachments.iter_mut().zip(sizes.iter_mut()) {
                loop {
                    let n = a.source.read_bytes(scratch).map_err(|_| read_failed())?;
                    let Some(piece) = scratch.get(..n).filter(|p| !p.is_empty()) else { break };
                    writer.put(piece)?;
                    *size += n as u64;
                }
                if a.size.is_some_and(|declared| declared != *size) {
                    return Err(read_failed());
                }
            }
            for size in sizes.iter().take(self.attachments.len()) {
                writer.put(&size.to_le_bytes())?;
            }
        }
        #[cfg(not(feature = "mime"))]
        let _ = (writer, scratch);
        Ok(())
    }
}

/// Writes a mail's image into data records, one full record at a time.
struct ImageWriter<'a, S: Storage> {
    storage: &'a mut S,
    record: &'a mut [u8],
    slot: usize,
    sequence: u32,
    index: usize,
    fill: usize,
    crc: u32,
    total: u64,
}

impl<S: Storage> ImageWriter<'_, S> {
    fn write_record(&mut self) -> Result<(), OutboxError> {
        if self.index >= MAX_CHUNKS {
            return Err(OutboxError::TooLarge);
        }
        let header = Header { kind: Kind::Data, sequence: self.sequence, index: self.index as u16 };
        let n = record::seal(self.record, header, self.fill);
        self.storage.write(chunk_key(self.slot, self.index), self.record.get(..n).unwrap_or_default()).map_err(storage_error)?;
        self.index += 1;
        self.fill = 0;
        Ok(())
    }

    fn finish(&mut self) -> Result<Head, OutboxError> {
        if self.fill > 0 {
            self.write_record()?;
        }
        let data_len = u32::try_from(self.total).map_err(|_| OutboxError::TooLarge)?;
        Ok(Head { data_len, chunks: self.index as u16, data_crc: record::crc32_finish(self.crc), fixed_len: 0 })
    }
}

impl<S: Storage> Sink for ImageWriter<'_, S> {
    type Error = OutboxError;

    fn put(&mut self, mut bytes: &[u8]) -> Result<(), OutboxError> {
        self.crc = record::crc32_update(self.crc, bytes);
        self.total += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = self.record.get_mut(HEADER_LEN + self.fill..).unwrap_or_default();
            let n = room.len().min(bytes.len());
            let (now, later) = bytes.split_at(n);
            if let Some(r) = room.get_mut(..n) {
                r.copy_from_slice(now);
            }
            self.fill += n;
            bytes = later;
            if HEADER_LEN + self.fill >= self.record.len() {
                self.write_record()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_slot_costs_sixteen_bytes_of_ram() {
        // docs/PERFORMANCE.md states it; State's unused values hold Option's None.
        assert_eq!(core::mem::size_of::<Option<super::Entry>>(), 16);
    }
}
