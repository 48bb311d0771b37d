//! Build-time limits and buffer sizes shared by the C API (the layout of `NX_SMTP_CLIENT`)
//! and the Zephyr glue. Each comes from a `ZSMTP_*` environment variable at build time (on
//! Zephyr, build.rs forwards the Kconfig values; the C header gets the same values as
//! `-D NX_SMTP_CLIENT_*`), or takes the default that `include/nxd_smtp_client.h` also has.

/// Parses a decimal build-time setting, or gives `default` when it is unset.
/// A malformed value stops the build (this runs in const context only).
const fn setting(value: Option<&str>, default: usize) -> usize {
    let bytes = match value {
        Some(v) => v.as_bytes(),
        None => return default,
    };
    assert!(!bytes.is_empty(), "ZSMTP_* settings must be decimal numbers");
    let mut n: usize = 0;
    let mut rest = bytes;
    while let [d, tail @ ..] = rest {
        assert!(d.is_ascii_digit(), "ZSMTP_* settings must be decimal numbers");
        n = n * 10 + (*d - b'0') as usize;
        rest = tail;
    }
    n
}

/// `NX_SMTP_CLIENT_MAX_USERNAME`: longest user name (NetX: 40).
pub const MAX_USERNAME: usize = setting(option_env!("ZSMTP_MAX_USERNAME"), 128);
/// `NX_SMTP_CLIENT_MAX_PASSWORD`: longest password (NetX: 20; relay API keys are 69+).
pub const MAX_PASSWORD: usize = setting(option_env!("ZSMTP_MAX_PASSWORD"), 128);
/// `NX_SMTP_CLIENT_MAX_DOMAIN`: longest EHLO name (RFC 5321 4.5.3.1.2: 255 octets).
pub const MAX_DOMAIN: usize = setting(option_env!("ZSMTP_MAX_DOMAIN"), 255);
/// `NX_SMTP_CLIENT_MAX_ADDRESS`: longest address, brackets included (RFC 5321
/// 4.5.3.1.3: a path is at most 256 octets).
pub const MAX_ADDRESS: usize = setting(option_env!("ZSMTP_MAX_ADDRESS"), 256);
/// `NX_SMTP_CLIENT_MAX_REPLY_TEXT`: text kept of the last decisive reply.
pub const MAX_REPLY_TEXT: usize = setting(option_env!("ZSMTP_MAX_REPLY_TEXT"), 128);
/// `NX_SMTP_CLIENT_RX_BUFFER_SIZE`.
pub const RX_BUFFER_SIZE: usize = setting(option_env!("ZSMTP_RX_BUFFER_SIZE"), 512);
/// `NX_SMTP_CLIENT_TX_BUFFER_SIZE`.
pub const TX_BUFFER_SIZE: usize = setting(option_env!("ZSMTP_TX_BUFFER_SIZE"), 1024);
/// `NX_SMTP_CLIENT_LOCK_WORDS`: lock storage in `ULONG` words.
pub const LOCK_WORDS: usize = setting(option_env!("ZSMTP_LOCK_WORDS"), 16);

/// `CONFIG_SMTP_CLIENT_LOG_LEVEL` on Zephyr (forwarded as ZSMTP_LOG_LEVEL; Zephyr's numbers:
/// 0 off .. 4 DBG). The engine logs the dialogue at debug level only, and only when this is 4:
/// below it the log calls and their formatting code are not compiled (about 4.8 KB of
/// Cortex-M4 code once a logger is installed, docs/PERFORMANCE.md). Host builds default to 4,
/// firmware builds without Kconfig to 3 (Zephyr's default, INF).
pub const LOG_LEVEL: usize = setting(option_env!("ZSMTP_LOG_LEVEL"), if cfg!(target_os = "none") { 3 } else { 4 });

/// Whether the dialogue (commands, replies) is logged at all: see [`LOG_LEVEL`].
pub const LOG_DIALOGUE: bool = LOG_LEVEL >= 4;

/// The timeouts of the C API's small profile (feature `tiny`), fixed at build time: Kconfig's
/// CONFIG_SMTP_CLIENT_*_TIMEOUT_MS on Zephyr (forwarded as ZSMTP_*_TIMEOUT_MS), else the
/// library's defaults. The settings subsystem does not change them (the full profile reads it).
pub const TINY_TIMEOUTS: crate::client::Timeouts = {
    let d = crate::client::Timeouts::DEFAULT;
    crate::client::Timeouts {
        connect_ms: setting(option_env!("ZSMTP_CONNECT_TIMEOUT_MS"), d.connect_ms as usize) as u32,
        greeting_ms: setting(option_env!("ZSMTP_GREETING_TIMEOUT_MS"), d.greeting_ms as usize) as u32,
        reply_ms: setting(option_env!("ZSMTP_REPLY_TIMEOUT_MS"), d.reply_ms as usize) as u32,
        send_ms: setting(option_env!("ZSMTP_SEND_TIMEOUT_MS"), d.send_ms as usize) as u32,
        final_reply_ms: setting(option_env!("ZSMTP_FINAL_REPLY_TIMEOUT_MS"), d.final_reply_ms as usize) as u32,
        total_ms: 0,
    }
};

/// Whether the C API and the Zephyr configuration may send credentials over a connection
/// that is not encrypted: Kconfig CONFIG_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH (default n) on
/// Zephyr, forwarded as ZSMTP_ALLOW_PLAINTEXT_AUTH. Without it, firmware targets (`*-none-*`)
/// default to no; host builds (tests and tools against local servers) to yes.
pub const ALLOW_PLAINTEXT_AUTH: bool =
    setting(option_env!("ZSMTP_ALLOW_PLAINTEXT_AUTH"), if cfg!(target_os = "none") { 0 } else { 1 }) != 0;

/// The transport security of the module's configuration (`ShimConfig`) and the initial mode of
/// C API clients (`nx_smtp_client_tls_set` changes it per client): Kconfig choice
/// SMTP_CLIENT_TLS (CONFIG_SMTP_CLIENT_TLS_STARTTLS, _IMPLICIT, else none) on Zephyr, forwarded by build.rs as
/// ZSMTP_TLS_MODE ("none", "starttls", "implicit"); none without it.
pub const TLS_MODE: crate::client::TlsMode = tls_mode(option_env!("ZSMTP_TLS_MODE"));

const fn tls_mode(value: Option<&str>) -> crate::client::TlsMode {
    use crate::client::TlsMode;
    const fn same(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let (mut a, mut b) = (a, b);
        while let ([x, a_tail @ ..], [y, b_tail @ ..]) = (a, b) {
            if *x != *y {
                return false;
            }
            (a, b) = (a_tail, b_tail);
        }
        true
    }
    let Some(value) = value else {
        return TlsMode::None;
    };
    let v = value.as_bytes();
    let (starttls, implicit) = (same(v, b"starttls"), same(v, b"implicit"));
    // Evaluated at compile time: a wrong value stops the build.
    assert!(starttls || implicit || same(v, b"none"), "ZSMTP_TLS_MODE must be none, starttls or implicit");
    if starttls {
        TlsMode::StartTls
    } else if implicit {
        TlsMode::Implicit
    } else {
        TlsMode::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse() {
        assert_eq!(setting(None, 7), 7);
        assert_eq!(setting(Some("0"), 7), 0);
        assert_eq!(setting(Some("4096"), 7), 4096);
    }

    #[test]
    fn tls_modes_parse() {
        use crate::client::TlsMode;
        assert_eq!(tls_mode(None), TlsMode::None);
        assert_eq!(tls_mode(Some("none")), TlsMode::None);
        assert_eq!(tls_mode(Some("starttls")), TlsMode::StartTls);
        assert_eq!(tls_mode(Some("implicit")), TlsMode::Implicit);
    }
}
