//! The outbox's C API (feature `outbox` over the shim, full profile): `nx_smtp_outbox_create`,
//! `nx_smtp_mail_queue`, `nx_smtp_outbox_notify_set`, `_status_get`, `_list`, `_flush`, `_drop`
//! and `_delete`, over [`crate::outbox`], the shim's storage ([`ShimStorage`]) and its delivery
//! worker (`smtp_shim_outbox_worker_*`).
//!
//! `NX_SMTP_OUTBOX` holds the engine's [`Outbox`] in its engine words, the buffer queueing
//! writes records through, the buffer a delivery reads a mail back into, a lock and the worker's
//! state. The engine borrows the queueing buffer of the same control block, which therefore must
//! not move while it is created (the header says so).
//!
//! Locks: the outbox's lock guards the engine for short steps only: a queue (a storage write),
//! a list, a lease, a settle. A delivery takes the client's lock for its whole batch (it sends
//! through the client's buffers), and the outbox's lock only to lease a mail and to settle it:
//! a queue never waits for the network. The order is always client, then outbox.

use core::ffi::{c_char, c_uint, c_ulong, c_void};
use core::mem::{align_of, size_of};
use core::ptr::{self, addr_of, addr_of_mut};
use core::sync::atomic::{AtomicUsize, Ordering};

use super::abi::*;
use super::args::*;
use super::full::{self, low32, EngineParts};
use crate::client::{Config, Connection, Mail};
use crate::error::{status, ServerReply};
use crate::limits::*;
use crate::outbox::{send_due, Batch, Event, EventKind, OnUnknown, Outbox, OutboxError, Policy, State, Status, Ticket};
use crate::platform::netx as platform;
use crate::platform::ShimStorage;
use crate::sys;
use crate::transport::Clock;

/// The engine in the control block's engine words.
type Engine = Outbox<'static, ShimStorage, OUTBOX_SLOTS>;

/// `NX_SMTP_OUTBOX_ENGINE_WORDS`.
const ENGINE_WORDS: usize = 8 + 2 * OUTBOX_SLOTS;
const _: () = assert!(
    size_of::<Engine>() <= ENGINE_WORDS * size_of::<u64>() && align_of::<Engine>() <= align_of::<u64>(),
    "NX_SMTP_OUTBOX_ENGINE_WORDS does not hold the outbox"
);

/// `NX_SMTP_OUTBOX_ID`: "SMTQ", set by create, cleared by delete.
pub const NX_SMTP_OUTBOX_ID: usize = 0x534D_5451;

/// A mail's state (`NX_SMTP_OUTBOX_QUEUED` ...), and `NX_SMTP_OUTBOX_DELIVERED` in events.
pub const NX_SMTP_OUTBOX_QUEUED: c_uint = 0;
pub const NX_SMTP_OUTBOX_RETRYING: c_uint = 1;
pub const NX_SMTP_OUTBOX_UNKNOWN: c_uint = 2;
pub const NX_SMTP_OUTBOX_FAILED: c_uint = 3;
pub const NX_SMTP_OUTBOX_DELIVERED: c_uint = 4;

/// The outbox's statuses.
pub const NX_SMTP_OUTBOX_FULL: c_uint = 0xCB;
pub const NX_SMTP_OUTBOX_NOT_FOUND: c_uint = 0xCC;
pub const NX_SMTP_OUTBOX_STORAGE_ERROR: c_uint = 0xCD;
pub const NX_SMTP_OUTBOX_BUSY: c_uint = 0xCE;

/// `NX_SMTP_OUTBOX_MAIL`.
#[repr(C)]
pub struct NxSmtpOutboxMail {
    pub nx_smtp_outbox_mail_id: c_ulong,
    pub nx_smtp_outbox_state: c_uint,
    pub nx_smtp_outbox_attempts: c_uint,
    pub nx_smtp_outbox_reply_code: c_uint,
    pub nx_smtp_outbox_reply_text: [u8; MAX_REPLY_TEXT + 1],
}

/// `NX_SMTP_OUTBOX_NOTIFY`.
pub type NxSmtpOutboxNotify = unsafe extern "C" fn(context: *mut c_void, event: c_uint, mail: *const NxSmtpOutboxMail);
/// `NX_SMTP_OUTBOX_LIST_CALLBACK`.
pub type NxSmtpOutboxListCallback = unsafe extern "C" fn(context: *mut c_void, mail: *const NxSmtpOutboxMail);

/// `NX_SMTP_OUTBOX`, field for field.
#[repr(C)]
pub struct NxSmtpOutbox {
    pub nx_smtp_outbox_id: c_ulong,
    pub nx_smtp_outbox_client: *mut NxSmtpClient,
    pub nx_smtp_outbox_notify: Option<NxSmtpOutboxNotify>,
    pub nx_smtp_outbox_notify_context: *mut c_void,
    pub nx_smtp_outbox_lock: LockWords,
    pub nx_smtp_outbox_worker: [c_ulong; OUTBOX_WORKER_WORDS],
    pub nx_smtp_outbox_engine: [u64; ENGINE_WORDS],
    pub nx_smtp_outbox_queue_buffer: [u8; OUTBOX_RECORD_MAX + 64],
    pub nx_smtp_outbox_delivery_buffer: [u8; OUTBOX_RECORD_MAX + OUTBOX_TEXT_MAX],
}

/// The retry policy of Kconfig's `SMTP_CLIENT_OUTBOX_RETRY_*`; unknown outcomes are resent.
const POLICY: Policy = Policy {
    first_retry_ms: OUTBOX_RETRY_FIRST_MS as u32,
    max_retry_ms: OUTBOX_RETRY_MAX_MS as u32,
    on_unknown: OnUnknown::Resend,
};

// ---- Access to the control block ---------------------------------------------------------------

/// # Safety
/// `outbox` is valid and aligned; all concurrent accesses to its id are atomic.
unsafe fn id_of<'a>(outbox: *mut NxSmtpOutbox) -> &'a AtomicUsize {
    // SAFETY: c_ulong has usize's size and alignment (checked in abi.rs); per the contract.
    unsafe { AtomicUsize::from_ptr(addr_of_mut!((*outbox).nx_smtp_outbox_id).cast::<usize>()) }
}

/// # Safety
/// As [`id_of`].
unsafe fn is_created(outbox: *mut NxSmtpOutbox) -> bool {
    // SAFETY: per this function's contract.
    unsafe { id_of(outbox) }.load(Ordering::Acquire) == NX_SMTP_OUTBOX_ID
}

/// # Safety
/// `outbox` is valid.
unsafe fn lock_of(outbox: *mut NxSmtpOutbox) -> *mut LockWords {
    // SAFETY: a field projection of a valid pointer; no reference is made.
    unsafe { addr_of_mut!((*outbox).nx_smtp_outbox_lock) }
}

/// # Safety
/// `outbox` is valid.
unsafe fn worker_of(outbox: *mut NxSmtpOutbox) -> *mut c_void {
    // SAFETY: a field projection of a valid pointer; no reference is made.
    unsafe { addr_of_mut!((*outbox).nx_smtp_outbox_worker).cast() }
}

/// Runs `f` on the engine of a created outbox under its lock; `NX_SMTP_CLIENT_NOT_INTIALIZED`
/// when it is not created (checked again under the lock).
///
/// # Safety
/// `outbox` is valid and its lock initialised (it was created), and no other thread deletes it
/// during the call; `f` does not reach the engine another way.
unsafe fn with_outbox<R>(outbox: *mut NxSmtpOutbox, f: impl FnOnce(&mut Engine) -> R) -> Result<R, c_uint> {
    let locked = || {
        // SAFETY: valid (contract); re-checked under the lock.
        if !unsafe { is_created(outbox) } {
            return Err(status::NX_SMTP_CLIENT_NOT_INTIALIZED);
        }
        // SAFETY: a created outbox holds an engine in its engine words (create wrote it), and
        // we hold its lock: this is the only reference to it.
        let engine = unsafe { &mut *addr_of_mut!((*outbox).nx_smtp_outbox_engine).cast::<Engine>() };
        Ok(f(engine))
    };
    // SAFETY: the lock was initialised by create (contract).
    unsafe { platform::with_lock(lock_of(outbox), locked) }
}

/// [`with_outbox`] for an engine call that may fail: its error as a status too.
///
/// # Safety
/// As [`with_outbox`].
unsafe fn try_with_outbox<T>(outbox: *mut NxSmtpOutbox, f: impl FnOnce(&mut Engine) -> Result<T, OutboxError>) -> Result<T, c_uint> {
    // SAFETY: per this function's contract.
    unsafe { with_outbox(outbox, f) }.and_then(|r| r.map_err(|e| status_of(&e)))
}

/// The status of an outbox error.
fn status_of(e: &OutboxError) -> c_uint {
    match e {
        OutboxError::Invalid(e) => e.status(),
        OutboxError::Full => NX_SMTP_OUTBOX_FULL,
        OutboxError::TooLarge => status::NX_SMTP_OVERSIZE_MAIL_DATA,
        OutboxError::Storage => NX_SMTP_OUTBOX_STORAGE_ERROR,
        OutboxError::NotFound => NX_SMTP_OUTBOX_NOT_FOUND,
        OutboxError::Busy => NX_SMTP_OUTBOX_BUSY,
        OutboxError::Setup => status::NX_SMTP_INTERNAL_ERROR,
    }
}

const fn state_value(state: State) -> c_uint {
    match state {
        State::Queued => NX_SMTP_OUTBOX_QUEUED,
        State::Retrying => NX_SMTP_OUTBOX_RETRYING,
        State::Unknown => NX_SMTP_OUTBOX_UNKNOWN,
        State::Failed => NX_SMTP_OUTBOX_FAILED,
    }
}

fn mail_of(ticket: Ticket, state: c_uint, attempts: u16, reply: Option<&ServerReply>) -> NxSmtpOutboxMail {
    let mut mail = NxSmtpOutboxMail {
        nx_smtp_outbox_mail_id: ticket.0 as c_ulong,
        nx_smtp_outbox_state: state,
        nx_smtp_outbox_attempts: c_uint::from(attempts),
        nx_smtp_outbox_reply_code: reply.map_or(0, |r| c_uint::from(r.code)),
        nx_smtp_outbox_reply_text: [0; MAX_REPLY_TEXT + 1],
    };
    let text = reply.map_or(&b""[..], |r| r.text().as_bytes());
    store(&mut mail.nx_smtp_outbox_reply_text, text.get(..text.len().min(MAX_REPLY_TEXT)).unwrap_or_default());
    mail
}

fn mail_of_status(s: &Status) -> NxSmtpOutboxMail {
    mail_of(s.ticket, state_value(s.state), s.attempts, s.reply.as_ref())
}

/// The checks every service makes first: a pointer, thread context, a created outbox.
///
/// # Safety
/// `outbox` is null or points to initialised memory of an `NX_SMTP_OUTBOX`.
unsafe fn entry_checks(outbox: *mut NxSmtpOutbox) -> Result<(), c_uint> {
    if outbox.is_null() {
        return Err(status::NX_PTR_ERROR);
    }
    if platform::in_isr() {
        return Err(status::NX_CALLER_ERROR);
    }
    // SAFETY: non-null, initialised (contract).
    if !unsafe { is_created(outbox) } {
        return Err(status::NX_SMTP_CLIENT_NOT_INTIALIZED);
    }
    Ok(())
}

/// A `ULONG` as 32 bits, `None` when it does not fit (it always does where `ULONG` is 32-bit).
#[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)] // u32 where ULONG is 32-bit
fn u32_of(value: c_ulong) -> Option<u32> {
    u32::try_from(value).ok()
}

/// A mail id as a ticket (ids are 32-bit; a larger `ULONG` names no mail).
fn ticket_of(id: c_ulong) -> Option<Ticket> {
    u32_of(id).map(Ticket)
}

fn status_from(result: Result<c_uint, c_uint>) -> c_uint {
    result.unwrap_or_else(|e| e)
}

// ---- Services ----------------------------------------------------------------------------------

/// `nx_smtp_outbox_create`.
///
/// # Safety
/// `outbox_ptr` is null or valid for writes of a whole `NX_SMTP_OUTBOX` that is not created
/// (or not in use by another thread) and does not move until deleted; `client_ptr` is null or
/// points to an `NX_SMTP_CLIENT` that outlives the outbox.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_create(outbox_ptr: *mut NxSmtpOutbox, client_ptr: *mut NxSmtpClient) -> c_uint {
    if outbox_ptr.is_null() || client_ptr.is_null() {
        return status::NX_PTR_ERROR;
    }
    if platform::in_isr() {
        return status::NX_CALLER_ERROR;
    }
    // SAFETY: non-null client, initialised memory (contract).
    if !unsafe { super::args::is_created(client_ptr) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    let owner = outbox_ptr.cast::<c_void>();
    if sys::outbox_claim(owner).is_err() {
        return NX_SMTP_OUTBOX_BUSY;
    }
    // SAFETY: valid memory (contract); the claim just made us the storage's owner, so a
    // created outbox at this address is ours and must not be initialised again.
    if unsafe { is_created(outbox_ptr) } {
        return NX_SMTP_OUTBOX_BUSY;
    }
    let refuse = |code: c_uint| {
        sys::outbox_release(owner);
        code
    };
    let Ok(storage) = ShimStorage::open_with_record_max(OUTBOX_RECORD_MAX) else {
        return refuse(NX_SMTP_OUTBOX_STORAGE_ERROR);
    };
    let record_size = crate::outbox::Storage::record_size(&storage);
    // SAFETY: valid for writes of a whole NX_SMTP_OUTBOX, not in use (contract); all-zero is a
    // valid value of every field.
    unsafe { wipe(outbox_ptr.cast::<u8>(), size_of::<NxSmtpOutbox>()) };
    // SAFETY: the block does not move until deleted (contract), so its queueing buffer lives
    // as long as the engine, which delete drops before the block is reused; only the engine
    // uses that buffer.
    let queue_buffer: &'static mut [u8] = unsafe { &mut *addr_of_mut!((*outbox_ptr).nx_smtp_outbox_queue_buffer) };
    let (mut engine, recovered) = match Engine::open(storage, queue_buffer, POLICY) {
        Ok(opened) => opened,
        Err(e) => return refuse(status_of(&e)),
    };
    engine.set_text_limit(OUTBOX_RECORD_MAX + OUTBOX_TEXT_MAX - record_size);
    if recovered.discarded > 0 || recovered.damaged > 0 {
        log::warn!("outbox: {} interrupted write(s) discarded, {} damaged mail(s) set aside", recovered.discarded, recovered.damaged);
    }
    // SAFETY: valid, zeroed, not in use (contract): the fields are written before the id makes
    // the outbox visible to the other services.
    unsafe {
        addr_of_mut!((*outbox_ptr).nx_smtp_outbox_engine).cast::<Engine>().write(engine);
        addr_of_mut!((*outbox_ptr).nx_smtp_outbox_client).write(client_ptr);
    }
    // SAFETY: the lock words of the block just zeroed; nobody else uses them yet.
    if !unsafe { platform::lock_init(lock_of(outbox_ptr)) } {
        return refuse(status::NX_SMTP_INTERNAL_ERROR);
    }
    // SAFETY: valid (contract).
    unsafe { id_of(outbox_ptr) }.store(NX_SMTP_OUTBOX_ID, Ordering::Release);
    let size = OUTBOX_WORKER_WORDS * size_of::<c_ulong>();
    // SAFETY: the worker words are pointer-aligned (ULONG) and stay put until delete stops the
    // worker; `outbox_pass` takes a created outbox's pointer.
    if unsafe { sys::worker_start(worker_of(outbox_ptr), size, outbox_pass, owner) }.is_err() {
        // SAFETY: valid (contract); no worker runs, no other thread knows the outbox yet.
        unsafe {
            id_of(outbox_ptr).store(0, Ordering::Release);
            platform::lock_destroy(lock_of(outbox_ptr));
        }
        return refuse(status::NX_SMTP_INTERNAL_ERROR);
    }
    status::NX_SUCCESS
}

/// `nx_smtp_outbox_delete`: stops the worker, releases the storage (the mails stay in it).
///
/// # Safety
/// `outbox_ptr` is null or points to an `NX_SMTP_OUTBOX` (initialised memory); no other thread is
/// inside a service on it.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_delete(outbox_ptr: *mut NxSmtpOutbox) -> c_uint {
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return if code == status::NX_SMTP_CLIENT_NOT_INTIALIZED { status::NX_PTR_ERROR } else { code };
    }
    // SAFETY: a created outbox's worker; this is not the worker's thread (the pass calls no
    // service).
    unsafe { sys::worker_stop(worker_of(outbox_ptr)) };
    // SAFETY: created (checked); the lock is initialised; no other thread is inside a service.
    let stopped = unsafe {
        with_outbox(outbox_ptr, |_| {
            id_of(outbox_ptr).store(0, Ordering::Release);
        })
    };
    if stopped.is_err() {
        return status::NX_PTR_ERROR;
    }
    // SAFETY: nobody uses the outbox now (contract; the worker is stopped, the id cleared):
    // the engine is dropped once, then the buffers that held mail text are wiped.
    unsafe {
        ptr::drop_in_place(addr_of_mut!((*outbox_ptr).nx_smtp_outbox_engine).cast::<Engine>());
        platform::lock_destroy(lock_of(outbox_ptr));
        let start = addr_of_mut!((*outbox_ptr).nx_smtp_outbox_engine).cast::<u8>();
        let end = outbox_ptr.cast::<u8>().add(size_of::<NxSmtpOutbox>());
        wipe(start, end.offset_from(start).unsigned_abs());
    }
    sys::outbox_release(outbox_ptr.cast());
    status::NX_SUCCESS
}

/// `nx_smtp_mail_queue`: `nx_smtp_mail_send`'s arguments, checked as it checks them, stored.
///
/// # Safety
/// As `nx_smtp_mail_send`, with `outbox_ptr` for the client; `mail_id` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_mail_queue(
    outbox_ptr: *mut NxSmtpOutbox,
    recipient_address: *mut c_char,
    priority: c_uint,
    subject: *mut c_char,
    mail_body: *mut c_char,
    mail_body_length: c_uint,
    mail_id: *mut c_ulong,
) -> c_uint {
    if outbox_ptr.is_null() || recipient_address.is_null() || subject.is_null() || mail_body.is_null() {
        return status::NX_PTR_ERROR;
    }
    if mail_body_length == 0 {
        return status::NX_SMTP_INVALID_PARAM;
    }
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    // SAFETY: non-null, NUL-terminated (contract); each read stops at its NUL or one byte past
    // its limit.
    let (recipient, subject) = unsafe { (bounded_cstr(recipient_address, MAX_ADDRESS), bounded_cstr(subject, full::MAX_SUBJECT)) };
    // SAFETY: valid for `mail_body_length` bytes and unchanged during the call (contract).
    let body = unsafe { core::slice::from_raw_parts(mail_body.cast::<u8>(), mail_body_length as usize) };
    let (Ok(recipient), Ok(subject)) = (recipient, subject) else {
        return status::NX_SMTP_INVALID_PARAM;
    };
    // Queueing writes the outbox's buffers: no argument may live in the control block.
    let block = Region::span(outbox_ptr.cast_const().cast(), size_of::<NxSmtpOutbox>());
    if block.overlaps(recipient, 1) || block.overlaps(subject, 1) || block.overlaps(body, 0) {
        return status::NX_SMTP_INVALID_PARAM;
    }
    let Some(args) = full::mail_args(recipient, priority, subject, body) else {
        return status::NX_SMTP_INVALID_PARAM;
    };
    let (recipient, priority, subject, body) = args.mail_fields();
    // The client's sender address: written only by its create and delete (deleting the client
    // of a created outbox is the caller's error), so it is read without the client's lock,
    // which a delivery may hold for a minute.
    // SAFETY: a created outbox's client pointer, valid while the outbox is (contract of create).
    let client = unsafe { addr_of!((*outbox_ptr).nx_smtp_outbox_client).read() };
    // SAFETY: as above.
    if !unsafe { super::args::is_created(client) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    // SAFETY: as above: a field that does not change while the client is created.
    let Ok(from) = full::field_str(unsafe { &*addr_of!((*client).nx_smtp_client_mail_from_address) }) else {
        return status::NX_SMTP_INTERNAL_ERROR;
    };
    let to = [recipient];
    let mail = Mail::new(subject, body).to(&to).priority(priority);
    let mut clock = platform::clock();
    // SAFETY: created (checked); no other thread deletes it during the call (contract).
    let queued = unsafe { try_with_outbox(outbox_ptr, |engine| engine.submit(from, &mail, &mut clock)) };
    match queued {
        Ok(ticket) => {
            if !mail_id.is_null() {
                // SAFETY: non-null and writable (contract).
                unsafe { mail_id.write(ticket.0 as c_ulong) };
            }
            // SAFETY: a created outbox's worker.
            unsafe { sys::worker_kick(worker_of(outbox_ptr)) };
            status::NX_SUCCESS
        }
        Err(code) => code,
    }
}

/// `nx_smtp_outbox_notify_set`.
///
/// # Safety
/// `outbox_ptr` is null or points to an `NX_SMTP_OUTBOX` (initialised memory) that no other
/// thread deletes during the call; `notify` is null or a function of that type.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_notify_set(outbox_ptr: *mut NxSmtpOutbox, notify: Option<NxSmtpOutboxNotify>, context: *mut c_void) -> c_uint {
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    // SAFETY: created; the fields are written under the lock, and read under it by deliveries.
    status_from(unsafe {
        with_outbox(outbox_ptr, |_| {
            addr_of_mut!((*outbox_ptr).nx_smtp_outbox_notify).write(notify);
            addr_of_mut!((*outbox_ptr).nx_smtp_outbox_notify_context).write(context);
            status::NX_SUCCESS
        })
    })
}

/// `NX_SMTP_OUTBOX_UNKNOWN_RESEND` / `_PARK`: what happens to a mail whose outcome is unknown.
pub const NX_SMTP_OUTBOX_UNKNOWN_RESEND: c_uint = 0;
pub const NX_SMTP_OUTBOX_UNKNOWN_PARK: c_uint = 1;

/// `nx_smtp_outbox_policy_set`: the retry waits and the unknown-outcome rule.
///
/// # Safety
/// As `nx_smtp_outbox_notify_set`.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_policy_set(outbox_ptr: *mut NxSmtpOutbox, first_retry_ms: c_ulong, max_retry_ms: c_ulong, on_unknown: c_uint) -> c_uint {
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    let on_unknown = match on_unknown {
        NX_SMTP_OUTBOX_UNKNOWN_RESEND => OnUnknown::Resend,
        NX_SMTP_OUTBOX_UNKNOWN_PARK => OnUnknown::Park,
        _ => return status::NX_SMTP_INVALID_PARAM,
    };
    let (Some(first_retry_ms), Some(max_retry_ms)) = (u32_of(first_retry_ms), u32_of(max_retry_ms)) else {
        return status::NX_SMTP_INVALID_PARAM;
    };
    if first_retry_ms == 0 || max_retry_ms < first_retry_ms {
        return status::NX_SMTP_INVALID_PARAM;
    }
    let policy = Policy { first_retry_ms, max_retry_ms, on_unknown };
    // SAFETY: created (checked); no other thread deletes it during the call (contract).
    status_from(unsafe { with_outbox(outbox_ptr, |engine| engine.set_policy(policy)) }.map(|()| status::NX_SUCCESS))
}

/// `nx_smtp_outbox_resend`: a mail parked with an unknown outcome, queued again.
///
/// # Safety
/// As `nx_smtp_outbox_notify_set`.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_resend(outbox_ptr: *mut NxSmtpOutbox, mail_id: c_ulong) -> c_uint {
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    let Some(ticket) = ticket_of(mail_id) else { return NX_SMTP_OUTBOX_NOT_FOUND };
    // SAFETY: created (checked); no other thread deletes it during the call (contract).
    match unsafe { try_with_outbox(outbox_ptr, |engine| engine.resend(ticket)) } {
        Ok(()) => {
            // SAFETY: a created outbox's worker.
            unsafe { sys::worker_kick(worker_of(outbox_ptr)) };
            status::NX_SUCCESS
        }
        Err(code) => code,
    }
}

/// `nx_smtp_outbox_status_get`.
///
/// # Safety
/// As `nx_smtp_outbox_notify_set`; `mail` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_status_get(outbox_ptr: *mut NxSmtpOutbox, mail_id: c_ulong, mail: *mut NxSmtpOutboxMail) -> c_uint {
    if mail.is_null() {
        return status::NX_PTR_ERROR;
    }
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    let Some(ticket) = ticket_of(mail_id) else { return NX_SMTP_OUTBOX_NOT_FOUND };
    // SAFETY: created (checked); no other thread deletes it during the call (contract).
    match unsafe { try_with_outbox(outbox_ptr, |engine| engine.status(ticket)) } {
        Ok(s) => {
            // SAFETY: non-null and writable (contract).
            unsafe { mail.write(mail_of_status(&s)) };
            status::NX_SUCCESS
        }
        Err(code) => code,
    }
}

/// `nx_smtp_outbox_list`.
///
/// # Safety
/// As `nx_smtp_outbox_notify_set`; `callback` is null or a function of that type that calls no
/// outbox service; `mails` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_list(outbox_ptr: *mut NxSmtpOutbox, callback: Option<NxSmtpOutboxListCallback>, context: *mut c_void, mails: *mut c_uint) -> c_uint {
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    let mut count: c_uint = 0;
    let each = |s: &Status| {
        count += 1;
        if let Some(callback) = callback {
            let mail = mail_of_status(s);
            // SAFETY: the callback's contract (the header's): it reads the mail during the call.
            unsafe { callback(context, &mail) };
        }
    };
    // SAFETY: created (checked); no other thread deletes it during the call (contract).
    let result = status_from(unsafe { try_with_outbox(outbox_ptr, |engine| engine.list(each)) }.map(|()| status::NX_SUCCESS));
    if !mails.is_null() {
        // SAFETY: non-null and writable (contract).
        unsafe { mails.write(count) };
    }
    result
}

/// `nx_smtp_outbox_drop`.
///
/// # Safety
/// As `nx_smtp_outbox_notify_set`.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_drop(outbox_ptr: *mut NxSmtpOutbox, mail_id: c_ulong) -> c_uint {
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    let Some(ticket) = ticket_of(mail_id) else { return NX_SMTP_OUTBOX_NOT_FOUND };
    // SAFETY: created (checked); no other thread deletes it during the call (contract).
    status_from(unsafe { try_with_outbox(outbox_ptr, |engine| engine.remove(ticket)) }.map(|()| status::NX_SUCCESS))
}

/// `nx_smtp_outbox_flush`: every waiting mail due now, delivered in the calling thread.
///
/// # Safety
/// As `nx_smtp_outbox_notify_set`; the client given to create is still created.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_outbox_flush(outbox_ptr: *mut NxSmtpOutbox) -> c_uint {
    // SAFETY: per the contract.
    if let Err(code) = unsafe { entry_checks(outbox_ptr) } {
        return code;
    }
    // SAFETY: created (checked); no other thread deletes it during the call (contract).
    if let Err(code) = unsafe { with_outbox(outbox_ptr, |engine| engine.retry_now()) } {
        return code;
    }
    // SAFETY: as above.
    let delivered = unsafe { deliver(outbox_ptr) };
    // SAFETY: as above.
    let pending = unsafe { with_outbox(outbox_ptr, |engine| engine.pending()) };
    match (delivered, pending) {
        (_, Ok(0)) => status::NX_SUCCESS,
        (status::NX_SUCCESS, Ok(_)) => status::NX_NOT_CONNECTED,
        (code, _) => code,
    }
}

/// The worker's pass (`smtp_shim_outbox_pass_fn`): delivers what is due; the milliseconds
/// until the next mail is due, or -1.
///
/// # Safety
/// `outbox` is the pointer create gave the worker: a created outbox until the worker stops.
unsafe extern "C" fn outbox_pass(outbox: *mut c_void, network_up: bool) -> i64 {
    let outbox = outbox.cast::<NxSmtpOutbox>();
    if network_up {
        // SAFETY: created until the worker stops (contract).
        let _ = unsafe { with_outbox(outbox, |engine| engine.retry_now()) };
    }
    // SAFETY: as above.
    let _ = unsafe { deliver(outbox) };
    let clock = platform::clock();
    // SAFETY: as above.
    match unsafe { with_outbox(outbox, |engine| engine.next_due_ms()) } {
        Ok(Some(due)) => i64::try_from(due.saturating_sub(clock.now_ms())).unwrap_or(i64::MAX),
        _ => -1,
    }
}

/// Delivers the due mails over one connection of the outbox's client, under its lock; each
/// outcome settled under the outbox's lock and reported to the notify callback outside it.
/// `NX_SUCCESS`, or the status of the last failed attempt.
///
/// # Safety
/// `outbox` is created and not deleted during the call.
unsafe fn deliver(outbox: *mut NxSmtpOutbox) -> c_uint {
    // SAFETY: created (contract): its client pointer was set by create.
    let client = unsafe { addr_of!((*outbox).nx_smtp_outbox_client).read() };
    let mut clock = platform::clock();
    // Nothing due: no lock of the client, no connection.
    // SAFETY: created (contract).
    match unsafe { with_outbox(outbox, |engine| engine.next_due_ms()) } {
        Ok(Some(due)) if due <= clock.now_ms() => {}
        Ok(_) => return status::NX_SUCCESS,
        Err(code) => return code,
    }
    let mut outcome = status::NX_SUCCESS;
    let batch = |config: &Config<'_>, parts: EngineParts<'_>, sequence: &mut c_ulong| {
        let EngineParts { transport, clock: session_clock, rx, tx, last_reply, .. } = parts;
        let mut counter = low32(*sequence);
        let mut totals = Batch::default();
        // SAFETY: created (contract).
        let Ok(Some(first)) = (unsafe { with_outbox(outbox, |engine| engine.take_due(clock.now_ms(), None)) }) else { return Ok(()) };
        let Ok(mut storage) = ShimStorage::open_with_record_max(OUTBOX_RECORD_MAX) else {
            // SAFETY: created (contract).
            outcome = unsafe { settle(outbox, first, Err(DAMAGED_STORE), false, &mut clock, &mut totals) };
            return Ok(());
        };
        let mut connection = match Connection::open(transport, session_clock, rx, tx, config, last_reply, &mut counter) {
            Ok(c) => c,
            Err(e) => {
                // SAFETY: created (contract).
                outcome = unsafe { settle(outbox, first, Err(e), false, &mut clock, &mut totals) };
                return Ok(());
            }
        };
        // The delivery buffer: used only here, under the client's lock, which every delivery of
        // this outbox holds.
        // SAFETY: a field of the created outbox that nothing else references.
        let buffer = unsafe { &mut *addr_of_mut!((*outbox).nx_smtp_outbox_delivery_buffer) };
        let mut next = Some(first);
        while let Some(lease) = next {
            let ticket = lease.ticket();
            let result = send_due(&mut storage, buffer, &lease, &mut connection);
            let open = connection.is_open();
            // SAFETY: created (contract).
            let settled = unsafe { settle(outbox, lease, result, open, &mut clock, &mut totals) };
            if settled != status::NX_SUCCESS {
                outcome = settled;
            }
            if !open || settled == NX_SMTP_OUTBOX_STORAGE_ERROR {
                break;
            }
            // SAFETY: created (contract).
            next = unsafe { with_outbox(outbox, |engine| engine.take_due(clock.now_ms(), Some(ticket))) }.ok().flatten();
        }
        drop(connection);
        *sequence = c_ulong::from(counter);
        Ok(())
    };
    // SAFETY: the client given to create (created: checked under its lock below).
    let sent = unsafe {
        platform::with_lock(super::args::lock_of(client), || {
            if !super::args::is_created(client) {
                return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
            }
            full::with_engine(client, batch)
        })
    };
    if sent != status::NX_SUCCESS {
        return sent;
    }
    outcome
}

/// What an attempt is settled with when the storage cannot be opened for reading: never sent.
const DAMAGED_STORE: crate::error::Error = crate::error::Error { kind: crate::error::ErrorKind::BodyRead, phase: crate::error::Phase::Validate, reply: None };

/// Settles one attempt under the outbox's lock and reports it to the notify callback outside
/// it. `NX_SUCCESS` when the mail was delivered, else the attempt's status (or the storage's).
///
/// # Safety
/// `outbox` is created and not deleted during the call.
unsafe fn settle(outbox: *mut NxSmtpOutbox, lease: crate::outbox::Lease, result: Result<crate::client::Sent, crate::error::Error>, open: bool, clock: &mut platform::PlatformClock, totals: &mut Batch) -> c_uint {
    let attempt = match &result {
        Ok(_) => status::NX_SUCCESS,
        Err(e) => e.status(),
    };
    let mut report: Option<(c_uint, NxSmtpOutboxMail)> = None;
    let mut note = |event: &Event<'_>| {
        let kind = match event.kind {
            EventKind::Delivered => NX_SMTP_OUTBOX_DELIVERED,
            EventKind::Retrying => NX_SMTP_OUTBOX_RETRYING,
            EventKind::Unknown => NX_SMTP_OUTBOX_UNKNOWN,
            EventKind::Failed => NX_SMTP_OUTBOX_FAILED,
        };
        report = Some((kind, mail_of(event.ticket, kind, event.attempts, Some(event.reply))));
    };
    // SAFETY: created (contract); the notify fields are read under the lock.
    let settled = unsafe {
        with_outbox(outbox, |engine| {
            let settled = engine.settle(lease, result, open, clock, totals, &mut note);
            (settled, addr_of!((*outbox).nx_smtp_outbox_notify).read(), addr_of!((*outbox).nx_smtp_outbox_notify_context).read())
        })
    };
    let Ok((settled, notify, context)) = settled else { return status::NX_SMTP_CLIENT_NOT_INTIALIZED };
    if let (Some(notify), Some((kind, mail))) = (notify, &report) {
        // SAFETY: the callback's contract (the header's); outside the outbox's lock.
        unsafe { notify(context, *kind, mail) };
    }
    match settled {
        Ok(_) => attempt,
        Err(e) => status_of(&e),
    }
}

/// `sizeof(NX_SMTP_OUTBOX)` as this library lays it out (for the C layout test).
#[no_mangle]
pub extern "C" fn _nx_smtp_outbox_layout_size() -> c_uint {
    size_of::<NxSmtpOutbox>() as c_uint
}

/// The offsets of `NX_SMTP_OUTBOX`'s fields in declaration order, then `NX_SMTP_OUTBOX_MAIL`'s.
const OUTBOX_FIELD_OFFSETS: [usize; 14] = [
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_id),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_client),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_notify),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_notify_context),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_lock),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_worker),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_engine),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_queue_buffer),
    core::mem::offset_of!(NxSmtpOutbox, nx_smtp_outbox_delivery_buffer),
    core::mem::offset_of!(NxSmtpOutboxMail, nx_smtp_outbox_mail_id),
    core::mem::offset_of!(NxSmtpOutboxMail, nx_smtp_outbox_state),
    core::mem::offset_of!(NxSmtpOutboxMail, nx_smtp_outbox_attempts),
    core::mem::offset_of!(NxSmtpOutboxMail, nx_smtp_outbox_reply_code),
    core::mem::offset_of!(NxSmtpOutboxMail, nx_smtp_outbox_reply_text),
];

/// The offset of field `field` (0..=8 `NX_SMTP_OUTBOX`'s, 9..=13 `NX_SMTP_OUTBOX_MAIL`'s, in
/// declaration order), `0xFFFFFFFF` past the last (for the C layout test).
#[no_mangle]
pub extern "C" fn _nx_smtp_outbox_layout_offset(field: c_uint) -> c_uint {
    OUTBOX_FIELD_OFFSETS.get(field as usize).map_or(c_uint::MAX, |&o| o as c_uint)
}
