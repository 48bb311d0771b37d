//! The raw declarations of `shim/include/smtp_shim.h`, the only place they are written, and the
//! values of the C enums this crate reads. Only the safe wrappers of [`crate::sys`] use them.
//!
//! Both shims (`shim/zephyr/` and the POSIX twin `shim/posix/`) implement this header. The unit
//! test below reads the header and checks that every mirrored enum value is there, and that no
//! enum value is missing here.

// The header is mirrored whole (and checked below); not every value has a user in every build.
#![allow(dead_code)]

use core::ffi::{c_char, c_int, c_void};

/// `struct smtp_shim_tls`: opaque, only ever behind a pointer the shim returned.
#[repr(C)]
pub struct ShimTlsState {
    _opaque: [u8; 0],
}

extern "C" {
    pub fn smtp_shim_connect(host: *const c_char, port: u16, timeout_ms: u32) -> c_int;
    pub fn smtp_shim_send(fd: c_int, buf: *const u8, len: usize, timeout_ms: u32) -> c_int;
    pub fn smtp_shim_recv(fd: c_int, buf: *mut u8, len: usize, timeout_ms: u32) -> c_int;
    pub fn smtp_shim_close(fd: c_int);
    pub fn smtp_shim_error_class(err: c_int) -> c_int;

    pub fn smtp_shim_tls_start(
        fd: c_int,
        host: *const c_char,
        sec_tag: i32,
        ca_file: *const c_char,
        timeout_ms: u32,
        tls: *mut *mut ShimTlsState,
        tls_error: *mut c_int,
    ) -> c_int;
    #[allow(clippy::too_many_arguments)] // the C prototype
    pub fn smtp_shim_tls_connect(
        host: *const c_char,
        port: u16,
        verify_name: *const c_char,
        sec_tag: i32,
        ca_file: *const c_char,
        timeout_ms: u32,
        tls: *mut *mut ShimTlsState,
        tls_error: *mut c_int,
    ) -> c_int;
    pub fn smtp_shim_tls_send(tls: *mut ShimTlsState, buf: *const u8, len: usize, timeout_ms: u32) -> c_int;
    pub fn smtp_shim_tls_recv(tls: *mut ShimTlsState, buf: *mut u8, len: usize, timeout_ms: u32) -> c_int;
    pub fn smtp_shim_tls_close(tls: *mut ShimTlsState, timeout_ms: u32);

    pub fn smtp_shim_uptime_ms() -> i64;
    pub fn smtp_shim_unix_time(seconds: *mut i64) -> c_int;
    pub fn smtp_shim_random() -> u32;
    pub fn smtp_shim_in_isr() -> c_int;

    pub fn smtp_shim_mutex_init(storage: *mut c_void, size: usize) -> c_int;
    pub fn smtp_shim_mutex_lock(storage: *mut c_void);
    pub fn smtp_shim_mutex_unlock(storage: *mut c_void);
    pub fn smtp_shim_mutex_destroy(storage: *mut c_void);

    pub fn smtp_shim_config_load() -> c_int;
    pub fn smtp_shim_config_get(key: *const c_char, buf: *mut c_char, len: usize) -> c_int;
    pub fn smtp_shim_config_set(key: *const c_char, value: *const c_char) -> c_int;
    pub fn smtp_shim_log(level: u32, msg: *const c_char, len: usize);
}

/// `smtp_shim_outbox_pass_fn`: one delivery pass of an outbox; the milliseconds until its next
/// mail is due, or -1.
#[cfg(feature = "outbox")]
pub type OutboxPass = unsafe extern "C" fn(outbox: *mut c_void, network_up: bool) -> i64;

// The outbox's storage: only in builds with the outbox, whose shim defines these (Zephyr:
// CONFIG_SMTP_CLIENT_OUTBOX_ZMS; the POSIX twin: build.rs with the feature).
#[cfg(feature = "outbox")]
extern "C" {
    pub fn smtp_shim_outbox_open() -> c_int;
    pub fn smtp_shim_outbox_record_size() -> c_int;
    pub fn smtp_shim_outbox_read(key: u16, buf: *mut u8, len: usize) -> c_int;
    pub fn smtp_shim_outbox_write(key: u16, data: *const u8, len: usize) -> c_int;
    pub fn smtp_shim_outbox_delete(key: u16) -> c_int;
    pub fn smtp_shim_outbox_claim(owner: *mut c_void) -> c_int;
    pub fn smtp_shim_outbox_release(owner: *mut c_void);
    pub fn smtp_shim_outbox_owner() -> *mut c_void;
    pub fn smtp_shim_outbox_worker_start(state: *mut c_void, state_size: usize, pass: OutboxPass, outbox: *mut c_void) -> c_int;
    pub fn smtp_shim_outbox_worker_kick(state: *mut c_void);
    pub fn smtp_shim_outbox_worker_stop(state: *mut c_void);
}

// enum smtp_shim_error_class: what `smtp_shim_error_class` says of an errno value.
pub const CLASS_OTHER: c_int = 0;
pub const CLASS_TIMED_OUT: c_int = 1;
pub const CLASS_HOST_NOT_FOUND: c_int = 2;
pub const CLASS_REFUSED: c_int = 3;
pub const CLASS_RESET: c_int = 4;
pub const CLASS_ABORTED: c_int = 5;
pub const CLASS_BROKEN_PIPE: c_int = 6;
pub const CLASS_NOT_CONNECTED: c_int = 7;
pub const CLASS_INVALID: c_int = 8;
pub const CLASS_NO_MEMORY: c_int = 9;
pub const CLASS_UNREACHABLE: c_int = 10;
pub const CLASS_INTERRUPTED: c_int = 11;
pub const CLASS_UNSUPPORTED: c_int = 12;
pub const CLASS_NO_SPACE: c_int = 13;

// enum smtp_shim_tls_error: why a TLS call failed.
pub const TLS_OK: c_int = 0;
pub const TLS_UNSUPPORTED: c_int = 1;
pub const TLS_NO_TRUST_ANCHORS: c_int = 2;
pub const TLS_UNTRUSTED: c_int = 3;
pub const TLS_NAME_MISMATCH: c_int = 4;
pub const TLS_EXPIRED: c_int = 5;
pub const TLS_HANDSHAKE: c_int = 6;
pub const TLS_TIMEOUT: c_int = 7;
pub const TLS_CONNECT: c_int = 8;
pub const TLS_CLOCK_NOT_SET: c_int = 9;

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = include_str!("../../shim/include/smtp_shim.h");

    /// The enumerators of `enum <name> { ... }` in the header, as (name, value).
    fn enumerators(name: &str) -> Vec<(String, i64)> {
        let open = format!("enum {name} {{");
        let start = HEADER.find(&open).unwrap_or_else(|| panic!("no `{open}` in smtp_shim.h")) + open.len();
        let body = &HEADER[start..start + HEADER[start..].find("};").expect("enum not closed")];
        let mut found = Vec::new();
        for line in body.lines() {
            // Drop comments (one-line and the continuation lines of a block comment).
            let code = line.split("/*").next().unwrap_or("").trim();
            if code.is_empty() || code.starts_with('*') {
                continue;
            }
            let (ident, value) = code.trim_end_matches(',').split_once('=').unwrap_or_else(|| panic!("no value in `{code}`"));
            found.push((ident.trim().to_string(), value.trim().parse().unwrap_or_else(|_| panic!("value of `{code}`"))));
        }
        found
    }

    /// Compares the header's enum with the mirror, in both directions: the differences.
    fn check(name: &str, prefix: &str, mirror: &[(&str, c_int)]) -> Vec<String> {
        let header = enumerators(name);
        let mut differences = Vec::new();
        if header.is_empty() {
            differences.push(format!("enum {name} read as empty"));
        }
        for (ident, value) in &header {
            let short = ident.strip_prefix(prefix).unwrap_or(ident);
            let mirrored = mirror.iter().find(|(m, _)| *m == short).map(|(_, v)| i64::from(*v));
            if mirrored != Some(*value) {
                differences.push(format!("{ident} = {value} in smtp_shim.h, mirrored as {mirrored:?}"));
            }
        }
        for (m, _) in mirror {
            if !header.iter().any(|(ident, _)| ident.strip_prefix(prefix) == Some(m)) {
                differences.push(format!("{prefix}{m} is not in smtp_shim.h"));
            }
        }
        differences
    }

    #[test]
    fn error_classes_match_the_header() {
        let differences = check(
            "smtp_shim_error_class",
            "SMTP_SHIM_ERR_",
            &[
                ("OTHER", CLASS_OTHER),
                ("TIMED_OUT", CLASS_TIMED_OUT),
                ("HOST_NOT_FOUND", CLASS_HOST_NOT_FOUND),
                ("REFUSED", CLASS_REFUSED),
                ("RESET", CLASS_RESET),
                ("ABORTED", CLASS_ABORTED),
                ("BROKEN_PIPE", CLASS_BROKEN_PIPE),
                ("NOT_CONNECTED", CLASS_NOT_CONNECTED),
                ("INVALID", CLASS_INVALID),
                ("NO_MEMORY", CLASS_NO_MEMORY),
                ("UNREACHABLE", CLASS_UNREACHABLE),
                ("INTERRUPTED", CLASS_INTERRUPTED),
                ("UNSUPPORTED", CLASS_UNSUPPORTED),
                ("NO_SPACE", CLASS_NO_SPACE),
            ],
        );
        assert_eq!(differences, Vec::<String>::new());
    }

    #[test]
    fn tls_errors_match_the_header() {
        let differences = check(
            "smtp_shim_tls_error",
            "SMTP_SHIM_TLS_",
            &[
                ("OK", TLS_OK),
                ("UNSUPPORTED", TLS_UNSUPPORTED),
                ("NO_TRUST_ANCHORS", TLS_NO_TRUST_ANCHORS),
                ("UNTRUSTED", TLS_UNTRUSTED),
                ("NAME_MISMATCH", TLS_NAME_MISMATCH),
                ("EXPIRED", TLS_EXPIRED),
                ("HANDSHAKE", TLS_HANDSHAKE),
                ("TIMEOUT", TLS_TIMEOUT),
                ("CONNECT", TLS_CONNECT),
                ("CLOCK_NOT_SET", TLS_CLOCK_NOT_SET),
            ],
        );
        assert_eq!(differences, Vec::<String>::new());
    }

    #[test]
    fn the_check_sees_a_changed_a_missing_and_an_unknown_value() {
        let differences = check("smtp_shim_tls_error", "SMTP_SHIM_TLS_", &[("OK", 0), ("UNSUPPORTED", 2), ("GONE", 11)]);
        assert!(differences.contains(&"SMTP_SHIM_TLS_UNSUPPORTED = 1 in smtp_shim.h, mirrored as Some(2)".to_string()), "{differences:?}");
        assert!(differences.contains(&"SMTP_SHIM_TLS_TIMEOUT = 7 in smtp_shim.h, mirrored as None".to_string()), "{differences:?}");
        assert!(differences.contains(&"SMTP_SHIM_TLS_GONE is not in smtp_shim.h".to_string()), "{differences:?}");
    }
}
