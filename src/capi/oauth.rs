//! The C API's OAuth 2.0 services (feature `oauth2`, full profile): `nx_smtp_client_token_set`
//! stores a bearer token in the client's own memory (`nx_smtp_client_token`, up to
//! `NX_SMTP_CLIENT_OAUTH2_TOKEN_MAX` bytes), `nx_smtp_client_token_refresh_set` a callback each
//! send calls right before AUTH (full.rs hands both to the engine). Delete wipes the token.

use core::ffi::{c_char, c_uint, c_void};
use core::ptr::addr_of_mut;

use super::abi::*;
use super::args::*;
use crate::error::status;
use crate::limits::OAUTH2_TOKEN_MAX;
use crate::platform::netx as platform;
use crate::wire::oauth::valid_token;

/// Zeroes the token and its length.
///
/// # Safety
/// `client` points to a client whose lock the caller holds (or that no one else uses).
pub(super) unsafe fn wipe_token(client: *mut NxSmtpClient) {
    // SAFETY: plain fields of a valid client, exclusive to the caller (contract).
    unsafe {
        wipe(addr_of_mut!((*client).nx_smtp_client_token).cast::<u8>(), OAUTH2_TOKEN_MAX);
        addr_of_mut!((*client).nx_smtp_client_token_length).write(0);
    }
}

/// `nx_smtp_client_token_set` (ours): the OAuth 2.0 token of the client's following sends.
///
/// # Safety
/// `client_ptr` is null or points to an `NX_SMTP_CLIENT` (initialised memory); `token` is null
/// or valid for `length` byte reads. No other thread deletes or re-creates the client during
/// the call.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_client_token_set(client_ptr: *mut NxSmtpClient, token: *mut c_char, length: c_uint) -> c_uint {
    if client_ptr.is_null() || (token.is_null() && length != 0) {
        return status::NX_PTR_ERROR;
    }
    if platform::in_isr() {
        return status::NX_CALLER_ERROR;
    }
    // SAFETY: non-null and initialised (contract).
    if !unsafe { is_created(client_ptr) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    if length as usize > OAUTH2_TOKEN_MAX {
        return status::NX_SIZE_ERROR;
    }
    let bytes: &[u8] = if length == 0 {
        &[]
    } else {
        // SAFETY: non-null and valid for `length` reads (contract), unchanged during the call.
        unsafe { core::slice::from_raw_parts(token.cast::<u8>(), length as usize) }
    };
    if !bytes.is_empty() && !valid_token(bytes) {
        return status::NX_SMTP_INVALID_PARAM;
    }
    // A token inside the control block would be overwritten while it is copied.
    if Region::of(client_ptr.cast_const(), 0).overlaps(bytes, 0) {
        return status::NX_SMTP_INVALID_PARAM;
    }
    let set = || {
        // SAFETY: plain fields of a created client, not the lock words; sends read them under
        // the same lock. The old token is wiped, not only overwritten where the new one is.
        unsafe {
            wipe_token(client_ptr);
            store(&mut *addr_of_mut!((*client_ptr).nx_smtp_client_token), bytes);
            addr_of_mut!((*client_ptr).nx_smtp_client_token_length).write(length);
        }
    };
    // SAFETY: a created client (checked above), valid memory (contract).
    unsafe { super::change_locked(client_ptr, set) }
}

/// `nx_smtp_client_token_refresh_set` (ours): the callback each send calls right before AUTH
/// (NULL: none), and its context.
///
/// # Safety
/// `client_ptr` is null or points to an `NX_SMTP_CLIENT` (initialised memory); `callback`, when
/// given, keeps the contract of `NX_SMTP_CLIENT_TOKEN_REFRESH` for as long as it is set. No
/// other thread deletes or re-creates the client during the call.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_client_token_refresh_set(client_ptr: *mut NxSmtpClient, callback: Option<TokenRefresh>, context: *mut c_void) -> c_uint {
    if client_ptr.is_null() {
        return status::NX_PTR_ERROR;
    }
    if platform::in_isr() {
        return status::NX_CALLER_ERROR;
    }
    // SAFETY: non-null and initialised (contract).
    if !unsafe { is_created(client_ptr) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    let set = || {
        // SAFETY: plain fields of a created client, not the lock words; sends read them under
        // the same lock.
        unsafe {
            addr_of_mut!((*client_ptr).nx_smtp_client_token_refresh).write(callback);
            addr_of_mut!((*client_ptr).nx_smtp_client_token_refresh_context).write(context);
        }
    };
    // SAFETY: a created client (checked above), valid memory (contract).
    unsafe { super::change_locked(client_ptr, set) }
}
