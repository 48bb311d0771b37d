//! The NetX C API from a test: a client control block on the heap, created, used and deleted
//! through the C entry points (whichever profile the test binary is built with).
#![cfg(feature = "capi")]

use std::ffi::CString;
use std::mem::MaybeUninit;
use zsmtp::capi::{
    nx_smtp_client_delete, nx_smtp_client_last_reply_get, nx_smtp_client_tls_set, nx_smtp_mail_send, nxd_smtp_client_create, NxSmtpClient,
    NxdAddress, NX_IP_VERSION_V4,
};
use zsmtp::error::status::NX_SUCCESS;

/// `s` as a C string.
pub fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// A client control block on the heap (NX_SMTP_CLIENT is large), deleted on drop.
pub struct CClient(Box<MaybeUninit<NxSmtpClient>>);

// SAFETY: the client is plain memory with its own lock; only the thread that owns this value
// calls into it.
unsafe impl std::marker::Send for CClient {}

impl Default for CClient {
    fn default() -> Self {
        CClient(Box::new(MaybeUninit::zeroed()))
    }
}

impl CClient {
    /// A client created for 127.0.0.1:`port`; panics if create refuses.
    pub fn created(port: u16, auth: u32, user: &str, pass: &str, from: &str, domain: &str) -> CClient {
        let mut c = CClient::default();
        assert_eq!(c.create_with(port, auth, user, pass, from, domain), NX_SUCCESS, "create");
        c
    }

    /// `nxd_smtp_client_create` for 127.0.0.1:`port`: its status.
    pub fn create_with(&mut self, port: u16, auth: u32, user: &str, pass: &str, from: &str, domain: &str) -> u32 {
        let (user, pass, from, domain) = (cs(user), cs(pass), cs(from), cs(domain));
        let mut server = NxdAddress { nxd_ip_version: NX_IP_VERSION_V4, nxd_ip_address: [0x7F00_0001, 0, 0, 0] };
        let mut dummy = 0u64;
        let d = (&mut dummy as *mut u64).cast();
        // SAFETY: every pointer is valid for the call; the strings are NUL-terminated.
        unsafe {
            nxd_smtp_client_create(
                self.ptr(),
                d,
                d,
                user.as_ptr().cast_mut(),
                pass.as_ptr().cast_mut(),
                from.as_ptr().cast_mut(),
                domain.as_ptr().cast_mut(),
                auth,
                &mut server,
                u32::from(port),
            )
        }
    }

    pub fn ptr(&mut self) -> *mut NxSmtpClient {
        self.0.as_mut_ptr()
    }

    /// The control block's bytes (what a wipe must have cleared).
    pub fn bytes(&self) -> Vec<u8> {
        // SAFETY: the block is initialised memory of its size (zeroed when made, written only
        // by the C API).
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast::<u8>(), std::mem::size_of::<NxSmtpClient>()) }.to_vec()
    }

    /// `nx_smtp_mail_send` with normal priority: its status.
    pub fn send(&mut self, to: &str, subject: &str, body: &[u8]) -> u32 {
        let (to, subject) = (cs(to), cs(subject));
        // SAFETY: a created client; NUL-terminated strings; the body valid for its length
        // (the API takes a mutable pointer but only reads it).
        unsafe { nx_smtp_mail_send(self.ptr(), to.as_ptr().cast_mut(), 2, subject.as_ptr().cast_mut(), body.as_ptr().cast::<i8>().cast_mut(), body.len() as u32) }
    }

    /// The code and text of the reply that decided the last send (0: none).
    pub fn last_reply(&mut self) -> (u32, String) {
        let mut code = 0;
        let mut text = [0u8; 129];
        // SAFETY: a created client; the buffer is valid for writes of its length.
        let st = unsafe { nx_smtp_client_last_reply_get(self.ptr(), &mut code, text.as_mut_ptr().cast(), text.len() as u32) };
        assert_eq!(st, NX_SUCCESS, "last_reply_get");
        let end = text.iter().position(|&b| b == 0).unwrap_or(0);
        (code, String::from_utf8_lossy(&text[..end]).to_string())
    }

    /// The code of the reply that decided the last send (0: none).
    pub fn last_code(&mut self) -> u32 {
        let mut code = 0;
        // SAFETY: a created client; a NULL text buffer of size 0 is allowed.
        assert_eq!(unsafe { nx_smtp_client_last_reply_get(self.ptr(), &mut code, std::ptr::null_mut(), 0) }, NX_SUCCESS);
        code
    }

    /// `nx_smtp_client_tls_set` without a server name: its status.
    pub fn tls_set(&mut self, mode: u32) -> u32 {
        // SAFETY: a created client; a NULL server name is allowed.
        unsafe { nx_smtp_client_tls_set(self.ptr(), mode, std::ptr::null_mut()) }
    }
}

#[cfg(feature = "oauth2")]
impl CClient {
    /// `nx_smtp_client_token_set`: its status.
    pub fn token_set(&mut self, token: &[u8]) -> u32 {
        // SAFETY: a client (created or not); the token valid for its length (only read).
        unsafe { zsmtp::capi::nx_smtp_client_token_set(self.ptr(), token.as_ptr().cast::<i8>().cast_mut(), token.len() as u32) }
    }

    /// `nx_smtp_client_token_refresh_set`: its status.
    ///
    /// # Safety
    /// `callback` keeps the contract of `NX_SMTP_CLIENT_TOKEN_REFRESH` with `context`.
    pub unsafe fn token_refresh_set(&mut self, callback: Option<zsmtp::capi::TokenRefresh>, context: *mut std::ffi::c_void) -> u32 {
        // SAFETY: a client (created or not); the callback's contract is the caller's.
        unsafe { zsmtp::capi::nx_smtp_client_token_refresh_set(self.ptr(), callback, context) }
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: the client (created or not: a second delete answers NX_PTR_ERROR).
        unsafe { nx_smtp_client_delete(self.ptr()) };
    }
}
