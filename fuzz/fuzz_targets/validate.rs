//! Input validation never panics, and whatever it accepts carries no CR, LF or NUL (the
//! bytes that could end a command or a header line) and stays within its length limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zsmtp::session;
use zsmtp::wire::syntax;
use zsmtp::{Auth, Config, Mail};

fn clean(s: &[u8]) -> bool {
    !s.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else { return };
    let s = String::from_utf8_lossy(data);
    let s: &str = &s;

    if let Ok(bare) = syntax::address_str(s) {
        assert!(clean(bare.as_bytes()) && !bare.is_empty() && bare.len() <= syntax::MAX_BARE_ADDRESS);
        assert!(!bare.starts_with('<') && !bare.ends_with('>'), "brackets kept: {bare:?}");
        assert!(bare.contains('@') && s.contains(bare));
    }
    // The byte-level check on raw bytes (C strings need not be UTF-8): the same rules.
    if let Ok(bare) = syntax::address(data) {
        assert!(clean(bare) && !bare.is_empty() && bare.len() <= syntax::MAX_BARE_ADDRESS);
        assert!(bare.first() != Some(&b'<') && bare.last() != Some(&b'>'), "brackets kept: {bare:?}");
    }
    if syntax::subject(s.as_bytes()).is_ok() {
        assert!(clean(s.as_bytes()) && s.len() <= syntax::MAX_SUBJECT);
    }
    if syntax::credential(data).is_ok() {
        assert!(clean(data) && !data.iter().any(|&b| b < 0x20 || b == 0x7f));
    }
    if syntax::client_domain(s.as_bytes()).is_ok() {
        assert!(clean(s.as_bytes()) && !s.is_empty() && s.len() <= syntax::MAX_DOMAIN_NAME && !s.contains(' '));
    }
    if syntax::server(s).is_ok() {
        assert!(clean(s.as_bytes()) && !s.is_empty() && !s.contains(' '));
    }
    if syntax::no_line_breaks(data).is_ok() {
        assert!(clean(data));
    }
    if let Ok(size) = session::body_bytes(data) {
        assert!(!data.contains(&0) && size >= data.len() as u64);
    }

    // Whole configurations and mails, with the fuzzed text in one field at a time.
    let field = control % 6;
    let pick = |i: u8, good: &'static str| if field == i { s } else { good };
    let config = Config::new(pick(0, "127.0.0.1"), 2525, pick(1, "device.example"), pick(2, "dev@example.com"))
        .auth(if control & 0x40 != 0 { Auth::Plain } else { Auth::Login }, pick(3, "user"), pick(4, "password"));
    if session::check_config(&config, 512).is_ok() {
        for f in [config.server, config.domain, config.from, config.username, config.password] {
            assert!(clean(f.as_bytes()), "accepted {f:?}");
        }
    }
    let to = [pick(5, "a@example.com")];
    let mail = Mail::new(if control & 0x80 != 0 { s } else { "subject" }, b"body").to(&to);
    if session::check_mail(&mail).is_ok() {
        assert!(clean(to[0].as_bytes()));
        assert!(clean(if control & 0x80 != 0 { s.as_bytes() } else { b"subject" }));
    }
});
