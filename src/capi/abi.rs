//! `NX_SMTP_CLIENT` and `NXD_ADDRESS` as C lays them out (include/nxd_smtp_client.h), the
//! header's constants, and the proof that both sides agree: at compile time here, and from C
//! through `_nx_smtp_client_layout_size` / `_nx_smtp_client_layout_offset`.

use core::ffi::{c_char, c_uint, c_ulong, c_ushort, c_void};
use core::mem::{align_of, offset_of, size_of};

use crate::session::{self};
use crate::limits::*;

const _: () = assert!(RX_BUFFER_SIZE >= session::MIN_RX, "NX_SMTP_CLIENT_RX_BUFFER_SIZE too small");
const _: () = assert!(TX_BUFFER_SIZE >= session::MIN_TX, "NX_SMTP_CLIENT_TX_BUFFER_SIZE too small");
// The id is read and written atomically (a sender may test it while another thread deletes).
const _: () = assert!(size_of::<c_ulong>() == size_of::<usize>() && align_of::<c_ulong>() == align_of::<usize>());

/// `NX_SMTP_CLIENT_ID`: "SMTP", set by create, cleared by delete.
pub const NX_SMTP_CLIENT_ID: usize = 0x534D_5450;

/// `NX_IP_VERSION_V4` / `NX_IP_VERSION_V6`.
pub const NX_IP_VERSION_V4: c_ulong = 4;
pub const NX_IP_VERSION_V6: c_ulong = 6;

/// `NX_SMTP_CLIENT_AUTH_*`.
pub const NX_SMTP_CLIENT_AUTH_NONE: c_uint = 0xFFFF;
pub const NX_SMTP_CLIENT_AUTH_LOGIN: c_uint = 1;
pub const NX_SMTP_CLIENT_AUTH_CRAM_MD5: c_uint = 2;
pub const NX_SMTP_CLIENT_AUTH_PLAIN: c_uint = 3;
/// `NX_SMTP_CLIENT_AUTH_XOAUTH2` / `_OAUTHBEARER` (ours, feature `oauth2`).
pub const NX_SMTP_CLIENT_AUTH_XOAUTH2: c_uint = 4;
pub const NX_SMTP_CLIENT_AUTH_OAUTHBEARER: c_uint = 5;

/// `NX_SMTP_CLIENT_TOKEN_REFRESH`: called right before AUTH with the context, the token
/// buffer, its size and the token's length, which it may replace (feature `oauth2`).
pub type TokenRefresh = unsafe extern "C" fn(context: *mut c_void, token: *mut c_char, token_size: c_uint, token_length: *mut c_uint) -> c_uint;

/// `NX_SMTP_CLIENT_TLS_*`: the transport security of a client (`nx_smtp_client_tls_set`).
pub const NX_SMTP_CLIENT_TLS_NONE: c_uint = 0;
pub const NX_SMTP_CLIENT_TLS_STARTTLS: c_uint = 1;
pub const NX_SMTP_CLIENT_TLS_IMPLICIT: c_uint = 2;

/// `NX_SMTP_MAIL_PRIORITY_*`.
pub const NX_SMTP_MAIL_PRIORITY_LOW: c_uint = 1;
pub const NX_SMTP_MAIL_PRIORITY_NORMAL: c_uint = 2;
pub const NX_SMTP_MAIL_PRIORITY_HIGH: c_uint = 4;

/// `NXD_ADDRESS`. The C union `{ ULONG v4; ULONG v6[4]; }` has the layout of `[ULONG; 4]`
/// with `v4` in word 0, so it is modelled as an array (no union access needed).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NxdAddress {
    pub nxd_ip_version: c_ulong,
    /// Host byte order words; IPv4 in word 0; IPv6 most significant word first.
    pub nxd_ip_address: [c_ulong; 4],
}

/// Lock storage (`ULONG nx_smtp_client_lock[NX_SMTP_CLIENT_LOCK_WORDS]`).
pub type LockWords = [c_ulong; LOCK_WORDS];

/// `NX_SMTP_CLIENT`, field for field (C `CHAR`/`UCHAR` arrays are `u8` arrays here: same
/// size and alignment).
#[repr(C)]
pub struct NxSmtpClient {
    pub nx_smtp_client_id: c_ulong,
    pub nx_smtp_username: [u8; MAX_USERNAME + 1],
    pub nx_smtp_password: [u8; MAX_PASSWORD + 1],
    pub nx_smtp_client_domain: [u8; MAX_DOMAIN + 1],
    pub nx_smtp_client_mail_from_address: [u8; MAX_ADDRESS + 1],
    pub nx_smtp_client_authentication_type: c_uint,
    pub nx_smtp_server_address: NxdAddress,
    pub nx_smtp_server_port: c_ushort,
    pub nx_smtp_client_tls_mode: c_uint,
    pub nx_smtp_client_tls_server_name: [u8; MAX_DOMAIN + 1],
    pub nx_smtp_client_mail_sequence: c_ulong,
    pub nx_smtp_client_last_reply_code: c_uint,
    pub nx_smtp_client_last_reply_text: [u8; MAX_REPLY_TEXT + 1],
    pub nx_smtp_client_rx_buffer: [u8; RX_BUFFER_SIZE],
    pub nx_smtp_client_tx_buffer: [u8; TX_BUFFER_SIZE],
    pub nx_smtp_client_lock: LockWords,
    /// The OAuth 2.0 fields (after the lock, so that the fields above keep their numbers).
    #[cfg(feature = "oauth2")]
    pub nx_smtp_client_token_refresh: Option<TokenRefresh>,
    #[cfg(feature = "oauth2")]
    pub nx_smtp_client_token_refresh_context: *mut c_void,
    #[cfg(feature = "oauth2")]
    pub nx_smtp_client_token_length: c_uint,
    /// The token (`nx_smtp_client_token_length` bytes, no NUL).
    #[cfg(feature = "oauth2")]
    pub nx_smtp_client_token: [u8; OAUTH2_TOKEN_MAX],
}

/// Number of fields of `NX_SMTP_CLIENT`.
pub(super) const FIELDS: usize = 16 + if cfg!(feature = "oauth2") { 4 } else { 0 };

/// Field offsets in declaration order (what `_nx_smtp_client_layout_offset` reports).
pub(super) const FIELD_OFFSETS: [usize; FIELDS] = [
    offset_of!(NxSmtpClient, nx_smtp_client_id),
    offset_of!(NxSmtpClient, nx_smtp_username),
    offset_of!(NxSmtpClient, nx_smtp_password),
    offset_of!(NxSmtpClient, nx_smtp_client_domain),
    offset_of!(NxSmtpClient, nx_smtp_client_mail_from_address),
    offset_of!(NxSmtpClient, nx_smtp_client_authentication_type),
    offset_of!(NxSmtpClient, nx_smtp_server_address),
    offset_of!(NxSmtpClient, nx_smtp_server_port),
    offset_of!(NxSmtpClient, nx_smtp_client_tls_mode),
    offset_of!(NxSmtpClient, nx_smtp_client_tls_server_name),
    offset_of!(NxSmtpClient, nx_smtp_client_mail_sequence),
    offset_of!(NxSmtpClient, nx_smtp_client_last_reply_code),
    offset_of!(NxSmtpClient, nx_smtp_client_last_reply_text),
    offset_of!(NxSmtpClient, nx_smtp_client_rx_buffer),
    offset_of!(NxSmtpClient, nx_smtp_client_tx_buffer),
    offset_of!(NxSmtpClient, nx_smtp_client_lock),
    #[cfg(feature = "oauth2")]
    offset_of!(NxSmtpClient, nx_smtp_client_token_refresh),
    #[cfg(feature = "oauth2")]
    offset_of!(NxSmtpClient, nx_smtp_client_token_refresh_context),
    #[cfg(feature = "oauth2")]
    offset_of!(NxSmtpClient, nx_smtp_client_token_length),
    #[cfg(feature = "oauth2")]
    offset_of!(NxSmtpClient, nx_smtp_client_token),
];

/// The layout C computes for `NX_SMTP_CLIENT` from the same limits (C's rules: each field at
/// the next multiple of its alignment, the size rounded up to the largest alignment).
// Used by the anonymous const below, which rustc before 1.87 does not count as a use.
#[allow(dead_code)]
pub(super) const fn expected_layout() -> ([usize; FIELDS], usize) {
    const fn up(n: usize, a: usize) -> usize {
        n.div_ceil(a) * a
    }
    let ul = align_of::<c_ulong>();
    let ui = align_of::<c_uint>();
    let us = align_of::<c_ushort>();
    let sizes_aligns: [(usize, usize); FIELDS] = [
        (size_of::<c_ulong>(), ul),
        (MAX_USERNAME + 1, 1),
        (MAX_PASSWORD + 1, 1),
        (MAX_DOMAIN + 1, 1),
        (MAX_ADDRESS + 1, 1),
        (size_of::<c_uint>(), ui),
        (5 * size_of::<c_ulong>(), ul),
        (size_of::<c_ushort>(), us),
        (size_of::<c_uint>(), ui),
        (MAX_DOMAIN + 1, 1),
        (size_of::<c_ulong>(), ul),
        (size_of::<c_uint>(), ui),
        (MAX_REPLY_TEXT + 1, 1),
        (RX_BUFFER_SIZE, 1),
        (TX_BUFFER_SIZE, 1),
        (LOCK_WORDS * size_of::<c_ulong>(), ul),
        #[cfg(feature = "oauth2")]
        (size_of::<usize>(), align_of::<usize>()),
        #[cfg(feature = "oauth2")]
        (size_of::<usize>(), align_of::<usize>()),
        #[cfg(feature = "oauth2")]
        (size_of::<c_uint>(), ui),
        #[cfg(feature = "oauth2")]
        (OAUTH2_TOKEN_MAX, 1),
    ];
    let mut offsets = [0usize; FIELDS];
    let mut at = 0;
    let mut max_align = 1;
    let mut fields: &[(usize, usize)] = &sizes_aligns;
    let mut slots: &mut [usize] = &mut offsets;
    // Both have FIELDS entries: the loop visits every field.
    while let ([(size, align), next_fields @ ..], [slot, next_slots @ ..]) = (fields, slots) {
        at = up(at, *align);
        *slot = at;
        at += *size;
        if *align > max_align {
            max_align = *align;
        }
        (fields, slots) = (next_fields, next_slots);
    }
    (offsets, up(at, max_align))
}

// Compile-time layout check: the Rust struct is laid out exactly as C lays out the header's
// declaration (the C side is checked against the exported values by tests/c).
const _: () = {
    let (offsets, size) = expected_layout();
    assert!(size_of::<NxSmtpClient>() == size);
    // Both are [usize; FIELDS]: the loop compares every field.
    let (mut actual, mut expected): (&[usize], &[usize]) = (&FIELD_OFFSETS, &offsets);
    while let ([a, actual_rest @ ..], [e, expected_rest @ ..]) = (actual, expected) {
        assert!(*a == *e);
        (actual, expected) = (actual_rest, expected_rest);
    }
};

