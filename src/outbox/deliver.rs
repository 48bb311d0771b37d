//! Delivery: the due mails in submit order, through the engine, over one connection for the
//! batch; each outcome committed to the mail's records before the next mail is sent.

use super::image;
#[cfg(feature = "mime")]
use super::image::MAX_ATTACHMENTS;
use super::record::{Header, Kind, HEADER_LEN};
use super::storage::{chunk_key, head_key};
use super::{load, storage_error, write_state, Entry, Event, EventKind, Head, Loaded, OnUnknown, Outbox, OutboxError, State, Storage, Ticket, HEAD_LEN};
use crate::client::{Client, Connection};
use crate::error::{Error, ErrorKind, Invalid, Phase, ServerReply};
use crate::session::{Mail, Sent, MAX_RECIPIENTS};
use crate::transport::{Clock, Transport};
use core::cell::RefCell;

/// What one [`Outbox::deliver`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub delivered: usize,
    pub retrying: usize,
    pub unknown: usize,
    pub failed: usize,
    /// The last failure of the batch, if any.
    pub last_error: Option<Error>,
}

/// What a failed attempt means for the mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// It may pass: try again after a backoff.
    Retry,
    /// The server may have taken it.
    Unknown,
    /// Refused for good: set aside.
    Failed,
}

/// The outbox's rule for an error of a send. Only the mail's own refusal is final: a 5xx reply
/// to its envelope or content, a size over the server's limit, an address the server cannot
/// take (no SMTPUTF8), a stored copy that cannot be read. Everything about the connection
/// (connect, greeting, EHLO, TLS, AUTH, timeouts, 4xx, 421) may pass, and is retried.
fn verdict(e: &Error) -> Verdict {
    let mail_phase = matches!(e.phase, Phase::Mail | Phase::Rcpt | Phase::Data | Phase::Message);
    match e.kind {
        ErrorKind::OutcomeUnknown => Verdict::Unknown,
        ErrorKind::Rejected if mail_phase && e.reply.as_ref().is_some_and(|r| (500..600).contains(&r.code)) => Verdict::Failed,
        ErrorKind::TooLarge | ErrorKind::BodyRead => Verdict::Failed,
        ErrorKind::InvalidInput(_, Invalid::NotSupportedByServer) => Verdict::Failed,
        ErrorKind::InvalidInput(..) if e.phase == Phase::Validate => Verdict::Failed,
        _ => Verdict::Retry,
    }
}

/// The reply an outcome is listed with: the server's, else code 0 and the status's name.
fn reply_of(e: &Error) -> ServerReply {
    e.reply.clone().unwrap_or_else(|| ServerReply::new(0, None, e.status_name().as_bytes()))
}

/// Reads a stored mail's data at any offset, one record at a time (the last one kept), checking
/// every record it reads; shared by the attachments of one mail.
struct DataReader<'s, S: Storage> {
    storage: &'s mut S,
    record: &'s mut [u8],
    slot: usize,
    sequence: u32,
    /// The data record in `record`, and its payload's length.
    cached: Option<(usize, usize)>,
}

impl<S: Storage> DataReader<'_, S> {
    fn payload_per_record(&self) -> usize {
        self.record.len() - HEADER_LEN
    }

    /// Copies data from `offset` into `out`; returns how many bytes (0 past the data). A
    /// missing or damaged record is an error: the mail is never sent with it.
    fn read_at(&mut self, offset: u64, out: &mut [u8]) -> Result<usize, ()> {
        // A mail's data is below 4 GiB (its head holds a u32 length): word-sized arithmetic,
        // no 64-bit division on a 32-bit CPU.
        let offset = u32::try_from(offset).map_err(|_| ())? as usize;
        let per = self.payload_per_record().max(1);
        let (index, within) = (offset / per, offset % per);
        if self.cached.map(|(i, _)| i) != Some(index) {
            self.cached = None;
            if index >= super::MAX_CHUNKS {
                return Err(());
            }
            let len = match load(self.storage, chunk_key(self.slot, index), self.record) {
                Ok(Loaded::Good(Header { kind: Kind::Data, sequence, index: i }, payload)) if sequence == self.sequence && usize::from(i) == index => payload.len(),
                _ => return Err(()),
            };
            self.cached = Some((index, len));
        }
        let len = self.cached.map_or(0, |(_, len)| len);
        let available = self.record.get(HEADER_LEN + within..HEADER_LEN + len).unwrap_or_default();
        let n = available.len().min(out.len());
        if let (Some(o), Some(a)) = (out.get_mut(..n), available.get(..n)) {
            o.copy_from_slice(a);
        }
        Ok(n)
    }

    /// Fills `out` from `offset`.
    fn read_exact_at(&mut self, mut offset: u64, mut out: &mut [u8]) -> Result<(), ()> {
        while !out.is_empty() {
            let n = self.read_at(offset, out)?;
            if n == 0 {
                return Err(());
            }
            offset += n as u64;
            out = out.get_mut(n..).unwrap_or_default();
        }
        Ok(())
    }
}

#[cfg(feature = "mime")]
/// One stored attachment as the engine's reader: bytes `offset..end` of the mail's data.
struct StoredPart<'r, 's, S: Storage> {
    data: &'r RefCell<DataReader<'s, S>>,
    offset: u64,
    end: u64,
}

#[cfg(feature = "mime")]
impl<S: Storage> embedded_io::ErrorType for StoredPart<'_, '_, S> {
    type Error = embedded_io::ErrorKind;
}

#[cfg(feature = "mime")]
impl<S: Storage> embedded_io::Read for StoredPart<'_, '_, S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let left = usize::try_from(self.end - self.offset).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let mut data = self.data.try_borrow_mut().map_err(|_| embedded_io::ErrorKind::Other)?;
        let n = data.read_at(self.offset, buf.get_mut(..want).unwrap_or_default()).map_err(|()| embedded_io::ErrorKind::InvalidData)?;
        if n == 0 {
            return Err(embedded_io::ErrorKind::InvalidData);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The attempt's result when the stored copy cannot be read: never sent.
const DAMAGED: Error = Error { kind: ErrorKind::BodyRead, phase: Phase::Validate, reply: None };

/// A mail taken for delivery by [`Outbox::take_due`]: send it with [`send_due`], then give
/// the outcome to [`Outbox::settle`]. Until then it is not taken again and cannot be removed.
#[derive(Debug)]
pub struct Lease {
    slot: usize,
    entry: Entry,
}

impl Lease {
    pub fn ticket(&self) -> Ticket {
        Ticket(self.entry.sequence)
    }
}

impl<S: Storage, const N: usize> Outbox<'_, S, N> {
    /// Delivers the mails that are due, oldest first, over one connection (opened for the
    /// batch, closed at its end), committing each outcome before the next mail:
    ///
    /// - accepted: removed (its head record deleted first), event [`EventKind::Delivered`];
    /// - a failure that may pass (no connection, timeout, TLS, AUTH, 4xx, 421): retrying after
    ///   capped exponential backoff with jitter, event [`EventKind::Retrying`]; when the
    ///   connection is lost the batch ends and every mail waits that long;
    /// - outcome unknown: listed as unknown, resent after a backoff or parked
    ///   ([`Policy::on_unknown`](super::Policy::on_unknown)), event [`EventKind::Unknown`]; the
    ///   batch ends;
    /// - refused for good (5xx to its envelope or content): set aside as failed with the
    ///   server's reply, never tried again, event [`EventKind::Failed`].
    ///
    /// `clock` times the backoff and gives its jitter. A storage failure ends the batch with
    /// [`OutboxError::Storage`]; every committed mail is still in the outbox.
    pub fn deliver<T: Transport, K: Clock, C: Clock, const RX: usize, const TX: usize>(
        &mut self,
        client: &mut Client<'_, T, K, RX, TX>,
        clock: &mut C,
        on_event: &mut dyn FnMut(&Event<'_>),
    ) -> Result<super::Batch, OutboxError> {
        let mut batch = super::Batch::default();
        let Some(lease) = self.take_due(clock.now_ms(), None) else { return Ok(batch) };
        let mut connection = match client.connect() {
            Ok(c) => c,
            Err(e) => {
                self.settle(lease, Err(e), false, clock, &mut batch, on_event)?;
                return Ok(batch);
            }
        };
        let mut next = Some(lease);
        while let Some(lease) = next {
            let ticket = lease.ticket();
            let result = send_due(&mut self.storage, self.work, &lease, &mut connection);
            let open = connection.is_open();
            if !self.settle(lease, result, open, clock, &mut batch, on_event)? {
                break;
            }
            next = self.take_due(clock.now_ms(), Some(ticket));
        }
        Ok(batch)
    }

    /// Takes the next mail due at `now_ms` (after `after`, in submit order) for delivery.
    pub fn take_due(&mut self, now_ms: u64, after: Option<Ticket>) -> Option<Lease> {
        if self.hold_until_ms > now_ms {
            return None;
        }
        let after = after.map_or(0, |t| t.0);
        let (slot, mut entry) = self.next_in_order(after, |e| self.deliverable(e) && !e.in_flight && e.due_ms <= now_ms)?;
        entry.in_flight = true;
        if let Some(e) = self.entries.get_mut(slot) {
            *e = Some(entry);
        }
        Some(Lease { slot, entry })
    }
}

/// Sends the leased mail on `connection`, read back from `storage` (the outbox's storage, or
/// another handle of it) through `work` (one record and the mail's text: see
/// [`Outbox::set_text_limit`]). A stored copy that cannot be read is never sent: that
/// attempt fails with [`ErrorKind::BodyRead`] and the mail is set aside.
pub fn send_due<S: Storage, T: Transport, K: Clock>(storage: &mut S, work: &mut [u8], lease: &Lease, connection: &mut Connection<'_, '_, T, K>) -> Result<Sent, Error> {
    let (slot, sequence) = (lease.slot, lease.entry.sequence);
    let mut head_buf = [0u8; HEADER_LEN + HEAD_LEN];
    let head = match load(storage, head_key(slot), &mut head_buf) {
        Ok(Loaded::Good(Header { kind: Kind::Head, sequence: s, .. }, p)) if s == sequence => Head::parse(p),
        _ => None,
    };
    let Some(head) = head else { return Err(DAMAGED) };
    let size = storage.record_size();
    let Some((record_buf, text)) = work.split_at_mut_checked(size) else { return Err(DAMAGED) };
    let fixed_len = head.fixed_len as usize;
    let Some(text) = text.get_mut(..fixed_len) else { return Err(DAMAGED) };
    let data = RefCell::new(DataReader { storage, record: record_buf, slot, sequence, cached: None });
    if data.borrow_mut().read_exact_at(0, text).is_err() {
        return Err(DAMAGED);
    }
    let Some(fixed) = image::parse_fixed(text) else { return Err(DAMAGED) };

    // The three lists, one after the other in one array of the engine's recipient limit.
    let mut names = [""; MAX_RECIPIENTS];
    let t = image::split(fixed.to, &mut names).ok_or(DAMAGED)?;
    let (to, rest) = names.split_at_mut(t);
    let c = image::split(fixed.cc, rest).ok_or(DAMAGED)?;
    let (cc, rest) = rest.split_at_mut(c);
    let b = image::split(fixed.bcc, rest).ok_or(DAMAGED)?;
    let bcc = rest.get(..b).unwrap_or_default();
    let mail = Mail::new(fixed.subject, fixed.body).to(to).cc(cc).bcc(bcc);
    let mail = mail.priority(fixed.priority).allow_partial(fixed.allow_partial).origin(fixed.origin);

    #[cfg(feature = "mime")]
    {
        let mail = mail.html(fixed.html);
        let count = fixed.attachment_count;
        if count == 0 {
            return connection.send(&mail);
        }
        // The sizes follow the attachments' data at the end of the image.
        let mut sizes = [0u64; MAX_ATTACHMENTS];
        let trailer = u64::from(head.data_len) - 8 * count as u64;
        for (i, size) in sizes.iter_mut().take(count).enumerate() {
            let mut b = [0u8; 8];
            data.borrow_mut().read_exact_at(trailer + 8 * i as u64, &mut b).map_err(|()| DAMAGED)?;
            *size = u64::from_le_bytes(b);
        }
        let mut offset = u64::from(head.fixed_len);
        let mut parts: [StoredPart<'_, '_, S>; MAX_ATTACHMENTS] = core::array::from_fn(|i| {
            let size = sizes.get(i).copied().unwrap_or(0);
            let part = StoredPart { data: &data, offset, end: offset + size };
            offset += size;
            part
        });
        if offset != trailer {
            return Err(DAMAGED);
        }
        let mut i = 0;
        let mut attachments = parts.each_mut().map(|part| {
            let (name, content_type) = fixed.attachments.get(i).copied().unwrap_or(("", ""));
            let size = part.end - part.offset;
            i += 1;
            let a = crate::session::Attachment::new(name, part).size(size);
            if content_type.is_empty() { a } else { a.content_type(content_type) }
        });
        connection.send_mime(&mail, attachments.get_mut(..count).unwrap_or_default())
    }
    #[cfg(not(feature = "mime"))]
    {
        if fixed.attachment_count > 0 || !fixed.html.is_empty() {
            return Err(DAMAGED);
        }
        connection.send(&mail)
    }
}

impl<S: Storage, const N: usize> Outbox<'_, S, N> {
    /// Commits the outcome of a leased mail's attempt, counts it in `batch` and reports it;
    /// returns whether the batch goes on (`open`: the connection is still usable; a failed
    /// connect is `Err` with `open` false).
    pub fn settle<C: Clock>(
        &mut self,
        lease: Lease,
        result: Result<Sent, Error>,
        open: bool,
        clock: &mut C,
        batch: &mut super::Batch,
        on_event: &mut dyn FnMut(&Event<'_>),
    ) -> Result<bool, OutboxError> {
        let Lease { slot, mut entry } = lease;
        entry.in_flight = false;
        if let Some(Some(e)) = self.entries.get_mut(slot) {
            e.in_flight = false;
        }
        let ticket = Ticket(entry.sequence);
        entry.attempts = entry.attempts.saturating_add(1);
        let error = match result {
            Ok(sent) => {
                // The delivery's commit: without its head the mail is gone.
                self.storage.delete(head_key(slot)).map_err(storage_error)?;
                if let Some(e) = self.entries.get_mut(slot) {
                    *e = None;
                }
                self.clear(slot)?;
                batch.delivered += 1;
                on_event(&Event { ticket, kind: EventKind::Delivered, attempts: entry.attempts, reply: &sent.reply });
                return Ok(true);
            }
            Err(e) => e,
        };
        let reply = reply_of(&error);
        let now = clock.now_ms();
        let (state, kind, goes_on) = match verdict(&error) {
            Verdict::Retry => (State::Retrying, EventKind::Retrying, open),
            Verdict::Unknown => (State::Unknown, EventKind::Unknown, false),
            Verdict::Failed => (State::Failed, EventKind::Failed, true),
        };
        entry.state = state;
        entry.due_ms = match state {
            State::Retrying => now + self.policy.backoff_ms(entry.attempts, clock.entropy()),
            State::Unknown if self.policy.on_unknown == OnUnknown::Resend => now + self.policy.backoff_ms(entry.attempts, clock.entropy()),
            _ => 0,
        };
        write_state(&mut self.storage, slot, &entry, entry.due_ms, &reply)?;
        if let Some(e) = self.entries.get_mut(slot) {
            *e = Some(entry);
        }
        if !goes_on {
            // The connection is gone: nothing is tried before this mail's backoff ends.
            self.hold_until_ms = self.hold_until_ms.max(entry.due_ms);
        }
        match kind {
            EventKind::Retrying => batch.retrying += 1,
            EventKind::Unknown => batch.unknown += 1,
            _ => batch.failed += 1,
        }
        batch.last_error = Some(error);
        on_event(&Event { ticket, kind, attempts: entry.attempts, reply: &reply });
        Ok(goes_on)
    }
}
