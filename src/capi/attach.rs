//! The C API's MIME send (feature `mime`, full profile): `nx_smtp_mail_send_extended`, which
//! is `nx_smtp_mail_send` plus an HTML alternative and an array of attachments
//! (`NX_SMTP_ATTACHMENT`), each read from a buffer or streamed through a read callback.
//!
//! Every argument is checked before anything is sent (names, content types, pointers, no
//! argument inside the client's buffers); the attachments are then read while the mail is
//! sent, through the client's receive buffer, so RAM does not depend on their size. A read
//! callback that fails (or reports more than it was given room for) aborts the transaction
//! without ending DATA: the server never takes a truncated mail as complete.

use core::ffi::{c_char, c_uint, c_ulong, c_void};
use core::mem::offset_of;

use super::abi::*;
use super::args::{bounded_cstr, Region};
use crate::error::status;
use crate::session::{Attachment, AttachmentSource};
use crate::wire::mime::{self, MAX_CONTENT_TYPE, MAX_FILE_NAME};

/// Most attachments in one `nx_smtp_mail_send_extended` (the engine's descriptors for all of
/// them live on the caller's stack during the send; docs/PERFORMANCE.md has the peak stack).
pub const NX_SMTP_CLIENT_MAX_ATTACHMENTS: usize = 16;

/// `nx_smtp_attachment_length` of a callback attachment whose size is not known.
pub const NX_SMTP_ATTACHMENT_SIZE_UNKNOWN: c_ulong = c_ulong::MAX;

/// `UINT read(void *context, UCHAR *buffer, ULONG buffer_size, ULONG *bytes_read)`: writes up
/// to `buffer_size` bytes, sets `*bytes_read` (0 at the end) and returns `NX_SUCCESS`; any
/// other status fails the send.
pub type NxSmtpAttachmentRead = unsafe extern "C" fn(*mut c_void, *mut u8, c_ulong, *mut c_ulong) -> c_uint;

/// `NX_SMTP_ATTACHMENT`: one attachment, from `data` (`length` bytes) when `read` is NULL,
/// else from `read(context, ..)` (`length` its size, or `NX_SMTP_ATTACHMENT_SIZE_UNKNOWN`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NxSmtpAttachment {
    /// The file name the mail gives it: UTF-8, NUL-terminated, no path.
    pub nx_smtp_attachment_name: *const c_char,
    /// `type/subtype`, NUL-terminated; NULL: guessed from the name's extension.
    pub nx_smtp_attachment_content_type: *const c_char,
    pub nx_smtp_attachment_data: *const u8,
    pub nx_smtp_attachment_length: c_ulong,
    pub nx_smtp_attachment_read: Option<NxSmtpAttachmentRead>,
    pub nx_smtp_attachment_context: *mut c_void,
}

/// `nx_smtp_mail_send_extended`: `nx_smtp_mail_send` with an HTML alternative (`html_body`,
/// `html_body_length` bytes; NULL and 0: none) and `attachment_count` attachments (at most
/// `NX_SMTP_CLIENT_MAX_ATTACHMENTS`), sent as multipart/alternative inside multipart/mixed.
///
/// # Safety
/// As `nx_smtp_mail_send`; `html_body` is null or valid for `html_body_length` reads;
/// `attachments` is null or valid for `attachment_count` elements whose names and content
/// types are null or NUL-terminated and whose data is valid for `length` reads; a read
/// callback may be called, from the sending thread, until the call returns. All unchanged
/// until it returns.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // NetX Duo's services take their arguments flat
pub unsafe extern "C" fn nx_smtp_mail_send_extended(
    client_ptr: *mut NxSmtpClient,
    recipient_address: *mut c_char,
    priority: c_uint,
    subject: *mut c_char,
    mail_body: *mut c_char,
    mail_body_length: c_uint,
    html_body: *mut c_char,
    html_body_length: c_uint,
    attachments: *mut NxSmtpAttachment,
    attachment_count: c_uint,
) -> c_uint {
    let extend = |args: &mut super::full::Args<'_>| {
        // SAFETY: the caller's contract (above).
        args.mime = Some(unsafe { mime_args(client_ptr, html_body, html_body_length, attachments, attachment_count) }?);
        Ok(())
    };
    // SAFETY: the caller's contract includes nx_smtp_mail_send's.
    unsafe { super::mail_send(client_ptr, recipient_address, priority, subject, mail_body, mail_body_length, extend) }
}

// The C struct: six pointer-sized members (ULONG is pointer-sized on every target, abi.rs).
const _: () = assert!(core::mem::size_of::<NxSmtpAttachment>() == 6 * core::mem::size_of::<usize>());

/// The MIME parts of one send, as checked before the lock.
#[derive(Clone, Copy)]
pub(super) struct MimeArgs<'a> {
    pub html: &'a [u8],
    pub attachments: &'a [NxSmtpAttachment],
}

/// One attachment's bytes for the engine: a buffer, or the caller's read callback.
enum Source<'a> {
    Data(&'a [u8]),
    Callback { read: NxSmtpAttachmentRead, context: *mut c_void },
}

impl AttachmentSource for Source<'_> {
    fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        match self {
            Source::Data(data) => {
                let n = data.len().min(buf.len());
                let (now, rest) = data.split_at(n);
                buf.get_mut(..n).ok_or(embedded_io::ErrorKind::Other)?.copy_from_slice(now);
                *data = rest;
                Ok(n)
            }
            Source::Callback { read, context } => {
                let room = c_ulong::try_from(buf.len()).unwrap_or(c_ulong::MAX);
                let mut got: c_ulong = 0;
                // SAFETY: the caller's callback (its contract: it writes at most `room` bytes
                // to `buffer` and sets `*bytes_read`); `buf` is valid for `room` writes and
                // `got` for one, for the whole call.
                let rc = unsafe { read(*context, buf.as_mut_ptr(), room, &mut got) };
                if rc != status::NX_SUCCESS || got > room {
                    return Err(embedded_io::ErrorKind::Other);
                }
                usize::try_from(got).map_err(|_| embedded_io::ErrorKind::Other)
            }
        }
    }
}

/// A NUL-terminated text of at most `max` bytes, as UTF-8.
///
/// # Safety
/// `text` is non-null and NUL-terminated.
unsafe fn c_text<'a>(text: *const c_char, max: usize) -> Option<&'a str> {
    // SAFETY: non-null and NUL-terminated (contract); the read stops at the NUL or past `max`.
    let bytes = unsafe { bounded_cstr(text.cast_mut(), max) }.ok()?;
    core::str::from_utf8(bytes).ok()
}

/// Checks the HTML and the attachment array before anything is sent: pointers, names (UTF-8,
/// 1..=255 bytes, no control character), content types (`type/subtype`), buffers not inside
/// the client's buffers. `None`: `NX_SMTP_INVALID_PARAM` (or the status in `Err`).
///
/// # Safety
/// `html` is null or valid for `html_length` reads; `attachments` is null or valid for
/// `count` elements, whose strings are NUL-terminated and whose data is valid for `length`
/// reads, all unchanged until the send returns.
pub(super) unsafe fn mime_args<'a>(
    client: *mut NxSmtpClient,
    html: *const c_char,
    html_length: c_uint,
    attachments: *const NxSmtpAttachment,
    count: c_uint,
) -> Result<MimeArgs<'a>, c_uint> {
    if (html.is_null() && html_length != 0) || (attachments.is_null() && count != 0) {
        return Err(status::NX_PTR_ERROR);
    }
    if count as usize > NX_SMTP_CLIENT_MAX_ATTACHMENTS {
        return Err(status::NX_SIZE_ERROR);
    }
    let engine = Region::of(client.cast_const(), offset_of!(NxSmtpClient, nx_smtp_client_mail_sequence));
    let html: &[u8] = match html_length {
        0 => &[],
        // SAFETY: non-null and valid for `html_length` reads (contract).
        n => unsafe { core::slice::from_raw_parts(html.cast::<u8>(), n as usize) },
    };
    let attachments: &[NxSmtpAttachment] = match count {
        0 => &[],
        // SAFETY: non-null and valid for `count` elements (contract).
        n => unsafe { core::slice::from_raw_parts(attachments, n as usize) },
    };
    if engine.overlaps(html, 0) || engine.overlaps(as_bytes(attachments), 0) {
        return Err(status::NX_SMTP_INVALID_PARAM);
    }
    for a in attachments {
        if a.nx_smtp_attachment_name.is_null() {
            return Err(status::NX_PTR_ERROR);
        }
        // SAFETY: non-null, NUL-terminated (contract).
        let name = unsafe { c_text(a.nx_smtp_attachment_name, MAX_FILE_NAME) }.ok_or(status::NX_SMTP_INVALID_PARAM)?;
        if mime::file_name(name).is_err() || engine.overlaps(name.as_bytes(), 1) {
            return Err(status::NX_SMTP_INVALID_PARAM);
        }
        if !a.nx_smtp_attachment_content_type.is_null() {
            // SAFETY: non-null, NUL-terminated (contract).
            let ct = unsafe { c_text(a.nx_smtp_attachment_content_type, MAX_CONTENT_TYPE) }.ok_or(status::NX_SMTP_INVALID_PARAM)?;
            if mime::content_type(ct).is_err() || engine.overlaps(ct.as_bytes(), 1) {
                return Err(status::NX_SMTP_INVALID_PARAM);
            }
        }
        if a.nx_smtp_attachment_read.is_none() {
            if a.nx_smtp_attachment_data.is_null() && a.nx_smtp_attachment_length != 0 {
                return Err(status::NX_PTR_ERROR);
            }
            if engine.overlaps(data_of(a), 0) {
                return Err(status::NX_SMTP_INVALID_PARAM);
            }
        }
    }
    Ok(MimeArgs { html, attachments })
}

/// The attachment array's own bytes (for the overlap check).
fn as_bytes(attachments: &[NxSmtpAttachment]) -> &[u8] {
    // SAFETY: a slice's memory read as bytes (any bit pattern is a valid u8), same lifetime.
    unsafe { core::slice::from_raw_parts(attachments.as_ptr().cast::<u8>(), core::mem::size_of_val(attachments)) }
}

/// A buffer attachment's data (checked by `mime_args`: non-null unless empty).
fn data_of(a: &NxSmtpAttachment) -> &[u8] {
    match (a.nx_smtp_attachment_data.is_null(), usize::try_from(a.nx_smtp_attachment_length)) {
        (false, Ok(len)) if len > 0 => {
            // SAFETY: valid for `length` reads (the caller's contract, checked non-null).
            unsafe { core::slice::from_raw_parts(a.nx_smtp_attachment_data, len) }
        }
        _ => &[],
    }
}

/// Runs `send` with the engine's view of `mime`'s attachments: sources and descriptors on
/// this stack frame, at most [`NX_SMTP_CLIENT_MAX_ATTACHMENTS`].
///
/// # Safety
/// `mime` was made by [`mime_args`], whose contract still holds.
pub(super) unsafe fn with_attachments<R>(mime: &MimeArgs<'_>, send: impl FnOnce(&mut [Attachment<'_>]) -> R) -> R {
    let mut at = 0;
    let mut sources: [Source<'_>; NX_SMTP_CLIENT_MAX_ATTACHMENTS] = core::array::from_fn(|i| match mime.attachments.get(i) {
        Some(NxSmtpAttachment { nx_smtp_attachment_read: Some(read), nx_smtp_attachment_context: context, .. }) => {
            Source::Callback { read: *read, context: *context }
        }
        Some(a) => Source::Data(data_of(a)),
        None => Source::Data(&[]),
    });
    let mut attachments = sources.each_mut().map(|source| {
        let described = mime.attachments.get(at);
        at += 1;
        // SAFETY: checked by mime_args (contract): NUL-terminated UTF-8 names and types.
        unsafe { describe(described, source) }
    });
    send(attachments.get_mut(..mime.attachments.len()).unwrap_or_default())
}

/// The engine's descriptor of attachment `a` reading from `source` (an unused slot: `None`).
///
/// # Safety
/// `a`'s name and content type are null or NUL-terminated (checked by `mime_args`).
#[allow(clippy::useless_conversion)] // c_ulong is u64 on 64-bit hosts, u32 on Cortex-M
unsafe fn describe<'a>(a: Option<&NxSmtpAttachment>, source: &'a mut Source<'_>) -> Attachment<'a> {
    let Some(a) = a else { return Attachment::new("", source) };
    // SAFETY: NUL-terminated when non-null (contract).
    let name = unsafe { c_text(a.nx_smtp_attachment_name, MAX_FILE_NAME) }.unwrap_or("");
    let mut attachment = Attachment::new(name, source);
    if !a.nx_smtp_attachment_content_type.is_null() {
        // SAFETY: non-null, NUL-terminated (contract).
        if let Some(ct) = unsafe { c_text(a.nx_smtp_attachment_content_type, MAX_CONTENT_TYPE) } {
            attachment = attachment.content_type(ct);
        }
    }
    match a.nx_smtp_attachment_read {
        Some(_) if a.nx_smtp_attachment_length == NX_SMTP_ATTACHMENT_SIZE_UNKNOWN => attachment,
        _ => attachment.size(u64::from(a.nx_smtp_attachment_length)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header's NX_SMTP_CLIENT_MAX_ATTACHMENTS and NX_SMTP_ATTACHMENT_SIZE_UNKNOWN are
    /// these.
    #[test]
    fn header_constants() {
        let header = include_str!("../../include/nxd_smtp_client.h");
        assert!(header.contains(&format!("#define NX_SMTP_CLIENT_MAX_ATTACHMENTS {NX_SMTP_CLIENT_MAX_ATTACHMENTS}")));
        assert!(header.contains("#define NX_SMTP_ATTACHMENT_SIZE_UNKNOWN ((ULONG)~0UL)"));
    }

    #[test]
    fn buffers_are_read_in_pieces() {
        let data = *b"0123456789";
        let mut s = Source::Data(&data);
        let mut buf = [0u8; 4];
        let mut got = std::vec::Vec::new();
        loop {
            let n = s.read_bytes(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, data);
    }
}
