//! Input checks, all run before the first byte is sent. Whatever passes here cannot break
//! a command line or a header line: no CR, LF or NUL reaches the writers.

/// Why a field failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Contains CR, LF or NUL (or another control character where none is allowed).
    ControlCharacter,
    /// Longer than the protocol or the configured limit allows.
    TooLong,
    /// Empty where a value is required.
    Empty,
    /// Not of the required form (for example an address without '@').
    Syntax,
    /// Needs an extension the server does not offer (SMTPUTF8 for a non-ASCII address).
    NotSupportedByServer,
}

/// Longest address (RFC 5321 section 4.5.3.1.3: a path of 256 octets with its brackets).
pub const MAX_BARE_ADDRESS: usize = 254;
/// Longest local part (RFC 5321 section 4.5.3.1.1).
pub const MAX_LOCAL_PART: usize = 64;
/// Longest domain (RFC 5321 section 4.5.3.1.2).
pub const MAX_DOMAIN_NAME: usize = 255;
/// Longest user name or password the Rust API accepts (the C API has its own limits).
pub const MAX_CREDENTIAL: usize = 255;
/// Longest subject, in bytes of UTF-8.
pub const MAX_SUBJECT: usize = 998;

/// Refuses CR, LF and NUL: the bytes that could end a command or a header line.
pub fn no_line_breaks(text: &[u8]) -> Result<(), Invalid> {
    if text.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        Err(Invalid::ControlCharacter)
    } else {
        Ok(())
    }
}

/// Refuses every control character (CR, LF and NUL included), allowing TAB when asked.
fn controls(text: &[u8], allow_tab: bool) -> Result<(), Invalid> {
    no_line_breaks(text)?;
    if text.iter().any(|&b| (b < 0x20 && !(allow_tab && b == b'\t')) || b == 0x7f) {
        Err(Invalid::ControlCharacter)
    } else {
        Ok(())
    }
}

fn no_controls(text: &[u8]) -> Result<(), Invalid> {
    controls(text, false)
}

/// A user name or password: no control characters at all (CR/LF would end the AUTH line).
pub fn credential(text: &[u8]) -> Result<(), Invalid> {
    no_controls(text)
}

/// `address` split around its last '@' (the local part may contain a quoted '@'). Byte
/// patterns and checked splits throughout this module: no char-pattern or panicking string
/// code in the image.
pub fn split_at_last_at_sign(address: &str) -> Option<(&str, &str)> {
    let at = address.bytes().rposition(|b| b == b'@')?;
    let (local, at_domain) = address.split_at_checked(at)?;
    Some((local, at_domain.get(1..)?))
}

/// Checks a mailbox address, given bare (`a@b.example`) or in angle brackets
/// (`<a@b.example>`, as NetX Duo's example passes it); returns it bare.
pub fn address(text: &str) -> Result<&str, Invalid> {
    no_controls(text.as_bytes())?;
    let bare = match text.strip_prefix("<") {
        Some(inner) => inner.strip_suffix(">").ok_or(Invalid::Syntax)?,
        None => text,
    };
    if bare.is_empty() {
        return Err(Invalid::Empty);
    }
    if bare.len() > MAX_BARE_ADDRESS {
        return Err(Invalid::TooLong);
    }
    let (local, domain) = split_at_last_at_sign(bare).ok_or(Invalid::Syntax)?;
    if local.len() > MAX_LOCAL_PART {
        return Err(Invalid::TooLong);
    }
    local_part(local)?;
    mail_domain(domain)?;
    Ok(bare)
}

fn local_part(local: &str) -> Result<(), Invalid> {
    let b = local.as_bytes();
    if let [b'"', inner @ .., b'"'] = b {
        // Quoted string: printable text, quotes and backslashes only escaped.
        let mut escaped = false;
        for &c in inner {
            match (escaped, c) {
                (false, b'\\') => escaped = true,
                (false, b'"') => return Err(Invalid::Syntax),
                _ => escaped = false,
            }
        }
        return if escaped { Err(Invalid::Syntax) } else { Ok(()) };
    }
    dot_atom(b, |c| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c) || c >= 0x80)
}

/// Non-empty atoms of allowed characters joined by single dots.
fn dot_atom(text: &[u8], allowed: impl Fn(u8) -> bool) -> Result<(), Invalid> {
    if text.is_empty() {
        return Err(Invalid::Syntax);
    }
    for atom in text.split(|&c| c == b'.') {
        if atom.is_empty() || !atom.iter().all(|&c| allowed(c)) {
            return Err(Invalid::Syntax);
        }
    }
    Ok(())
}

fn mail_domain(domain: &str) -> Result<(), Invalid> {
    if domain.len() > MAX_DOMAIN_NAME {
        return Err(Invalid::TooLong);
    }
    if domain.starts_with('[') {
        return address_literal(domain);
    }
    hostname(domain.as_bytes())
}

/// Labels of letters, digits, '-', '_' (seen on real hosts) or UTF-8, each at most 63 bytes.
fn hostname(name: &[u8]) -> Result<(), Invalid> {
    dot_atom(name, |c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c >= 0x80)?;
    if name.split(|&c| c == b'.').any(|label| label.len() > 63) {
        return Err(Invalid::Syntax);
    }
    Ok(())
}

/// `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
fn address_literal(text: &str) -> Result<(), Invalid> {
    let inner = text.strip_prefix("[").and_then(|t| t.strip_suffix("]")).ok_or(Invalid::Syntax)?;
    match inner.split_at_checked(5) {
        Some((tag, v6)) if tag.eq_ignore_ascii_case("IPv6:") => ip_text(v6, true),
        _ => ip_text(inner, false),
    }
}

/// A loose check of an IP literal's characters (the server judges the rest).
fn ip_text(text: &str, v6: bool) -> Result<(), Invalid> {
    let ok = !text.is_empty()
        && text.bytes().all(|c| c.is_ascii_digit() || c == b'.' || (v6 && (c.is_ascii_hexdigit() || c == b':')));
    if ok {
        Ok(())
    } else {
        Err(Invalid::Syntax)
    }
}

/// The name given in EHLO: a host name, an IP address, or an address literal.
pub fn client_domain(name: &str) -> Result<(), Invalid> {
    no_controls(name.as_bytes())?;
    if name.is_empty() {
        return Err(Invalid::Empty);
    }
    if name.len() > MAX_DOMAIN_NAME {
        return Err(Invalid::TooLong);
    }
    if name.starts_with('[') {
        address_literal(name)
    } else if name.contains(':') {
        ip_text(name, true)
    } else {
        hostname(name.as_bytes())
    }
}

/// The server: a host name or an IP literal (IPv6 with or without brackets).
pub fn server(name: &str) -> Result<(), Invalid> {
    no_controls(name.as_bytes())?;
    if name.is_empty() {
        return Err(Invalid::Empty);
    }
    if name.len() > MAX_DOMAIN_NAME {
        return Err(Invalid::TooLong);
    }
    let inner = name.strip_prefix("[").and_then(|n| n.strip_suffix("]"));
    match inner {
        Some(v6) => ip_text(v6, true),
        None if name.as_bytes().contains(&b':') => ip_text(name, true),
        None => hostname(name.as_bytes()),
    }
}

/// A header text (the subject): no control character but TAB, at most [`MAX_SUBJECT`] bytes.
pub fn subject(text: &str) -> Result<(), Invalid> {
    controls(text.as_bytes(), true)?;
    if text.len() > MAX_SUBJECT {
        return Err(Invalid::TooLong);
    }
    Ok(())
}

/// Bytes of base64 for `n` bytes of input.
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_at_the_last_at_sign() {
        assert_eq!(split_at_last_at_sign("a@b.example"), Some(("a", "b.example")));
        assert_eq!(split_at_last_at_sign("\"x@y\"@b.example"), Some(("\"x@y\"", "b.example")));
        assert_eq!(split_at_last_at_sign("josé@exemplo.br"), Some(("josé", "exemplo.br")));
        assert_eq!(split_at_last_at_sign("a@"), Some(("a", "")));
        assert_eq!(split_at_last_at_sign("@"), Some(("", "")));
        assert_eq!(split_at_last_at_sign("no-at-sign"), None);
        assert_eq!(split_at_last_at_sign(""), None);
    }

    #[test]
    fn addresses_bare_and_bracketed() {
        assert_eq!(address("a@b.example"), Ok("a@b.example"));
        assert_eq!(address("<myname@mycompany.com>"), Ok("myname@mycompany.com"));
        assert_eq!(address("first.last+tag@sub.example.co"), Ok("first.last+tag@sub.example.co"));
        assert_eq!(address("\"john doe\"@example.com"), Ok("\"john doe\"@example.com"));
        assert_eq!(address("user@[192.0.2.1]"), Ok("user@[192.0.2.1]"));
        assert_eq!(address("user@[IPv6:2001:db8::1]"), Ok("user@[IPv6:2001:db8::1]"));
        assert_eq!(address("josé@exemplo.br"), Ok("josé@exemplo.br"));
    }

    #[test]
    fn addresses_refused() {
        use Invalid::*;
        assert_eq!(address("a@b.example\r\nRCPT TO:<x@y>"), Err(ControlCharacter));
        assert_eq!(address("a@b\n"), Err(ControlCharacter));
        assert_eq!(address("a\0@b"), Err(ControlCharacter));
        assert_eq!(address("a\t@b"), Err(ControlCharacter));
        assert_eq!(address(""), Err(Empty));
        assert_eq!(address("<>"), Err(Empty));
        assert_eq!(address("<a@b"), Err(Syntax));
        assert_eq!(address("a@b>"), Err(Syntax));
        assert_eq!(address("a<x>@b"), Err(Syntax));
        assert_eq!(address("no-at-sign"), Err(Syntax));
        assert_eq!(address("@b.example"), Err(Syntax));
        assert_eq!(address("a@"), Err(Syntax));
        assert_eq!(address("a b@c"), Err(Syntax));
        assert_eq!(address("a@b c"), Err(Syntax));
        assert_eq!(address(".a@b"), Err(Syntax));
        assert_eq!(address("a..b@c"), Err(Syntax));
        assert_eq!(address("a@b..c"), Err(Syntax));
        assert_eq!(address("a@b."), Err(Syntax));
        assert_eq!(address("a,b@c"), Err(Syntax));
        assert_eq!(address("a@[1.2.3.x]"), Err(Syntax));
        assert_eq!(address("\"a\"b\"@c"), Err(Syntax));
    }

    #[test]
    fn address_length_limits() {
        let local64 = "l".repeat(64);
        let domain = std::format!("{}.{}.{}.example", "d".repeat(60), "e".repeat(60), "f".repeat(55));
        let ok = std::format!("{local64}@{domain}");
        assert!(ok.len() <= MAX_BARE_ADDRESS, "{}", ok.len());
        assert_eq!(address(&ok), Ok(ok.as_str()));
        assert_eq!(address(&std::format!("{}@x.example", "l".repeat(65))), Err(Invalid::TooLong));
        let long = std::format!("{local64}@{}.{domain}", "g".repeat(63));
        assert_eq!(address(&long), Err(Invalid::TooLong));
        let label64 = std::format!("a@{}.example", "x".repeat(64));
        assert_eq!(address(&label64), Err(Invalid::Syntax));
    }

    #[test]
    fn client_domains_and_servers() {
        assert_eq!(client_domain("device-7.example.com"), Ok(()));
        assert_eq!(client_domain("192.0.2.7"), Ok(()));
        assert_eq!(client_domain("2001:db8::7"), Ok(()));
        assert_eq!(client_domain("[IPv6:::1]"), Ok(()));
        assert_eq!(client_domain(""), Err(Invalid::Empty));
        assert_eq!(client_domain("bad name"), Err(Invalid::Syntax));
        assert_eq!(client_domain("x\r\nMAIL"), Err(Invalid::ControlCharacter));
        assert_eq!(server("127.0.0.1"), Ok(()));
        assert_eq!(server("::1"), Ok(()));
        assert_eq!(server("[::1]"), Ok(()));
        assert_eq!(server("localhost"), Ok(()));
        assert_eq!(server("smtp.example.com"), Ok(()));
        assert_eq!(server(""), Err(Invalid::Empty));
        assert_eq!(server("a b"), Err(Invalid::Syntax));
        assert_eq!(server("[zz::1]"), Err(Invalid::Syntax));
    }

    #[test]
    fn subjects() {
        assert_eq!(subject("Alarm: pump 3"), Ok(()));
        assert_eq!(subject("Température"), Ok(()));
        assert_eq!(subject("a\r\nBcc: x@y"), Err(Invalid::ControlCharacter));
        assert_eq!(subject("a\nb"), Err(Invalid::ControlCharacter));
        assert_eq!(subject("a\0b"), Err(Invalid::ControlCharacter));
        assert_eq!(subject("a\x1b[31mred"), Err(Invalid::ControlCharacter));
        assert_eq!(subject("tab\tok"), Ok(()));
        assert_eq!(credential(b"key\twith tab"), Err(Invalid::ControlCharacter));
        assert_eq!(credential(b"p@ss w0rd!"), Ok(()));
        assert_eq!(subject(&"s".repeat(MAX_SUBJECT)), Ok(()));
        assert_eq!(subject(&"s".repeat(MAX_SUBJECT + 1)), Err(Invalid::TooLong));
    }
}
