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

fn send_configured(to: &str, subject: &str, body: &[u8]) -> Result<Sent, Error> {
    let shim = ShimConfig::load().map_err(config_error)?;
    let mut client: Client<'_, ShimTransport, ShimClock, RX_BUFFER_SIZE, TX_BUFFER_SIZE> =
        Client::new(shim.config(), ShimTransport::new(), ShimClock::new())?;
    let recipients = [to];
    let mail = Mail::new(subject, body).to(&recipients);
    client.send(&mail)
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
    // SAFETY: `reply`/`reply_len` as guaranteed by the caller, for every answer below.
    let answer = |args: fmt::Arguments<'_>| unsafe { put_c_text(reply, reply_len, args) };
    if in_isr() {
        return status::NX_CALLER_ERROR;
    }
    if to.is_null() || subject.is_null() || (body.is_null() && body_len != 0) {
        answer(format_args!("NX_PTR_ERROR: null argument"));
        return status::NX_PTR_ERROR;
    }
    // SAFETY: both are non-null and NUL-terminated (caller's contract); they outlive this call.
    let (to, subject) = unsafe { (CStr::from_ptr(to), CStr::from_ptr(subject)) };
    let body: &[u8] = if body_len == 0 {
        &[]
    } else {
        // SAFETY: non-null and valid for `body_len` bytes (caller's contract), not mutated
        // during the call.
        unsafe { core::slice::from_raw_parts(body, body_len) }
    };
    let (Ok(to), Ok(subject)) = (to.to_str(), subject.to_str()) else {
        answer(format_args!("NX_SMTP_INVALID_PARAM: not UTF-8"));
        return status::NX_SMTP_INVALID_PARAM;
    };
    match send_configured(to, subject, body) {
        Ok(sent) => {
            answer(format_args!("{}", sent.reply));
            status::NX_SUCCESS
        }
        Err(e) => {
            answer(format_args!("{}", e));
            e.status()
        }
    }
}
