//! The entry point of the `smtp send` shell command (`zsmtp_shim_send_mail` in smtp_shim.h):
//! one mail with the run-time configuration.

use core::ffi::{c_char, CStr};
use core::fmt;

use super::config::{ConfigError, ConfigProblem, ShimConfig, RX_BUFFER_SIZE, TX_BUFFER_SIZE};
use super::log::Truncating;
use crate::client::{Client, Mail, Sent};
use crate::error::{status, Error, ErrorKind, Invalid, Phase};
use crate::sys::{in_isr, ShimClock};
use crate::transport::shim::ShimTransport;

/// Writes `args` into a C buffer of `len` bytes, cut to fit, always NUL-terminated.
///
/// # Safety
/// `out` must be null or valid for writes of `len` bytes.
unsafe fn put_c_text(out: *mut c_char, len: usize, args: fmt::Arguments<'_>) {
    if out.is_null() || len == 0 {
        return;
    }
    let mut line = Truncating::<256>::new();
    let _ = fmt::write(&mut line, args);
    let text = line.as_bytes();
    let n = text.len().min(len - 1);
    // SAFETY: the caller guarantees `out` is valid for `len` bytes; n + 1 <= len bytes are
    // written and the source (a local buffer of at least n bytes) does not overlap it.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr().cast::<c_char>(), out, n);
        *out.add(n) = 0;
    }
}

/// A configuration that cannot be loaded, as the client's validation error of its field.
fn config_error(e: ConfigError) -> Error {
    let why = match e.problem {
        ConfigProblem::UnknownKey => Invalid::Empty,
        ConfigProblem::TooLong => Invalid::TooLong,
        ConfigProblem::Invalid => Invalid::Syntax,
    };
    Error::new(ErrorKind::InvalidInput(e.field, why), Phase::Validate)
}

/// The shell's client: the run-time configuration over the module's sockets.
type ShellClient<'c> = Client<'c, ShimTransport, ShimClock, RX_BUFFER_SIZE, TX_BUFFER_SIZE>;

/// One mail to `to` with the run-time configuration, sent by `send` (with or without
/// attachments).
fn send_configured(
    to: &str,
    subject: &str,
    body: &[u8],
    send: impl FnOnce(&mut ShellClient<'_>, &Mail<'_>) -> Result<Sent, Error>,
) -> Result<Sent, Error> {
    let shim = ShimConfig::load().map_err(config_error)?;
    let mut client: ShellClient<'_> = Client::new(shim.config(), ShimTransport::new(), ShimClock::new())?;
    let recipients = [to];
    send(&mut client, &Mail::new(subject, body).to(&recipients))
}

/// The shell's arguments as text and bytes, or the status and reason of their refusal.
///
/// # Safety
/// `to` and `subject` must be null or NUL-terminated strings; `body` must be null or valid for
/// reads of `body_len` bytes, unchanged during the call that uses the result.
unsafe fn shell_args<'a>(
    to: *const c_char,
    subject: *const c_char,
    body: *const u8,
    body_len: usize,
) -> Result<(&'a str, &'a str, &'a [u8]), (u32, &'static str)> {
    if in_isr() {
        return Err((status::NX_CALLER_ERROR, "NX_CALLER_ERROR: called from an ISR"));
    }
    if to.is_null() || subject.is_null() || (body.is_null() && body_len != 0) {
        return Err((status::NX_PTR_ERROR, "NX_PTR_ERROR: null argument"));
    }
    // SAFETY: both are non-null and NUL-terminated (caller's contract); they outlive the use.
    let (to, subject) = unsafe { (CStr::from_ptr(to), CStr::from_ptr(subject)) };
    let body: &[u8] = if body_len == 0 {
        &[]
    } else {
        // SAFETY: non-null and valid for `body_len` bytes (caller's contract), not mutated
        // during the call.
        unsafe { core::slice::from_raw_parts(body, body_len) }
    };
    match (to.to_str(), subject.to_str()) {
        (Ok(to), Ok(subject)) => Ok((to, subject, body)),
        _ => Err((status::NX_SMTP_INVALID_PARAM, "NX_SMTP_INVALID_PARAM: not UTF-8")),
    }
}

/// The shell's answer: the final reply, or what went wrong; the status.
///
/// # Safety
/// `reply` must be null or valid for writes of `reply_len` bytes.
unsafe fn answer(result: Result<Sent, Error>, reply: *mut c_char, reply_len: usize) -> u32 {
    match result {
        Ok(sent) => {
            // SAFETY: the caller's contract.
            unsafe { put_c_text(reply, reply_len, format_args!("{}", sent.reply)) };
            status::NX_SUCCESS
        }
        Err(e) => {
            // SAFETY: the caller's contract.
            unsafe { put_c_text(reply, reply_len, format_args!("{}", e)) };
            e.status()
        }
    }
}

/// Sends one mail with the run-time configuration (the `smtp send TO SUBJECT BODY` shell
/// command). See `zsmtp_shim_send_mail` in smtp_shim.h.
///
/// # Safety
/// `to` and `subject` must be null or NUL-terminated strings; `body` must be null or valid for
/// reads of `body_len` bytes; `reply` must be null or valid for writes of `reply_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn zsmtp_shim_send_mail(
    to: *const c_char,
    subject: *const c_char,
    body: *const u8,
    body_len: usize,
    reply: *mut c_char,
    reply_len: usize,
) -> u32 {
    // SAFETY: the caller's contract is shell_args' and answer's.
    unsafe {
        match shell_args(to, subject, body, body_len) {
            Ok((to, subject, body)) => answer(send_configured(to, subject, body, |c, m| c.send(m)), reply, reply_len),
            Err((code, why)) => {
                put_c_text(reply, reply_len, format_args!("{why}"));
                code
            }
        }
    }
}

/// `zsmtp_shim_read_fn`: the next bytes of an attachment, or a negative errno.
#[cfg(feature = "mime")]
pub type ShimReadFn = unsafe extern "C" fn(*mut core::ffi::c_void, *mut u8, usize) -> core::ffi::c_int;

/// An attachment read through the shell's callback (a file of Zephyr's file system).
#[cfg(feature = "mime")]
struct ShimReader {
    read: ShimReadFn,
    context: *mut core::ffi::c_void,
}

#[cfg(feature = "mime")]
impl crate::session::AttachmentSource for ShimReader {
    fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        // SAFETY: the shell's callback (zsmtp_shim_read_fn's contract: at most `len` bytes
        // written to `buf`); `buf` is valid for its length during the call.
        let n = unsafe { (self.read)(self.context, buf.as_mut_ptr(), buf.len()) };
        usize::try_from(n).ok().filter(|&n| n <= buf.len()).ok_or(embedded_io::ErrorKind::Other)
    }
}

/// [`zsmtp_shim_send_mail`] with one attachment read through `read` (the `smtp send --attach`
/// shell command). See `zsmtp_shim_send_mail_attached` in smtp_shim.h.
///
/// # Safety
/// As [`zsmtp_shim_send_mail`]; `name` is null or NUL-terminated; `read` may be called with
/// `context` until the call returns.
#[cfg(feature = "mime")]
#[no_mangle]
#[allow(clippy::too_many_arguments)] // a C entry point: its arguments are flat
pub unsafe extern "C" fn zsmtp_shim_send_mail_attached(
    to: *const c_char,
    subject: *const c_char,
    body: *const u8,
    body_len: usize,
    name: *const c_char,
    read: Option<ShimReadFn>,
    context: *mut core::ffi::c_void,
    size: u64,
    reply: *mut c_char,
    reply_len: usize,
) -> u32 {
    // SAFETY: the caller's contract is shell_args' and answer's.
    let args = unsafe { shell_args(to, subject, body, body_len) };
    let checked = args.and_then(|args| {
        let read = read.ok_or((status::NX_PTR_ERROR, "NX_PTR_ERROR: null argument"))?;
        if name.is_null() {
            return Err((status::NX_PTR_ERROR, "NX_PTR_ERROR: null argument"));
        }
        // SAFETY: non-null and NUL-terminated (caller's contract).
        let name = unsafe { CStr::from_ptr(name) }.to_str().map_err(|_| (status::NX_SMTP_INVALID_PARAM, "NX_SMTP_INVALID_PARAM: not UTF-8"))?;
        Ok((args, name, read))
    });
    match checked {
        Ok(((to, subject, body), name, read)) => {
            let mut source = ShimReader { read, context };
            let mut attachments = [crate::session::Attachment::new(name, &mut source).size(size)];
            let result = send_configured(to, subject, body, |c, m| c.send_mime(m, &mut attachments));
            // SAFETY: the caller's contract.
            unsafe { answer(result, reply, reply_len) }
        }
        Err((code, why)) => {
            // SAFETY: the caller's contract.
            unsafe { put_c_text(reply, reply_len, format_args!("{why}")) };
            code
        }
    }
}
