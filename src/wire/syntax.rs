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

/// Printable ASCII: the only bytes the small profile's text fields take (its scope: no
/// TAB, no UTF-8).
#[cfg(feature = "small")]
fn printable(text: &[u8]) -> Result<(), Invalid> {
    if text.iter().all(|&b| (b' '..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err(Invalid::Syntax)
    }
}

/// A user name or password: no control characters at all (CR/LF would end the AUTH line).
/// The small profile: printable ASCII.
pub fn credential(text: &[u8]) -> Result<(), Invalid> {
    #[cfg(not(feature = "small"))]
    return no_controls(text);
    #[cfg(feature = "small")]
    return printable(text);
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
///
/// Local parts: dot-atoms or quoted strings, UTF-8 allowed (SMTPUTF8 is the session's
/// business); domains: host names or address literals. The small profile's body takes its
/// scope, in less code: dot-atom ASCII local parts and host names, and every refusal is
/// [`Invalid::Syntax`].
pub fn address(text: &[u8]) -> Result<&[u8], Invalid> {
    let bare = match text {
        [b'<', inner @ .., b'>'] => inner,
        _ => text,
    };
    #[cfg(not(feature = "small"))]
    {
        no_controls(text)?;
        if bare.first() == Some(&b'<') || bare.last() == Some(&b'>') {
            return Err(Invalid::Syntax);
        }
        if bare.is_empty() {
            return Err(Invalid::Empty);
        }
        if bare.len() > MAX_BARE_ADDRESS {
            return Err(Invalid::TooLong);
        }
        let at = bare.iter().rposition(|&b| b == b'@').ok_or(Invalid::Syntax)?;
        let (local, at_domain) = bare.split_at_checked(at).ok_or(Invalid::Syntax)?;
        if local.len() > MAX_LOCAL_PART {
            return Err(Invalid::TooLong);
        }
        local_part(local)?;
        mail_domain(at_domain.get(1..).unwrap_or_default())?;
    }
    #[cfg(feature = "small")]
    {
        let at = bare.iter().rposition(|&b| b == b'@').ok_or(Invalid::Syntax)?;
        let (local, at_domain) = bare.split_at_checked(at).ok_or(Invalid::Syntax)?;
        // RFC 5322 atext (ranges, not a table search: smaller code).
        let atext = |b: u8| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'/' | b'=' | b'?' | b'^'..=b'`' | b'{'..=b'~')
        };
        // Dot-separated atoms, none empty.
        let mut previous = b'.';
        for &b in local {
            if (b == b'.' && previous == b'.') || (b != b'.' && !atext(b)) {
                return Err(Invalid::Syntax);
            }
            previous = b;
        }
        if previous == b'.' || local.len() > MAX_LOCAL_PART || bare.len() > MAX_BARE_ADDRESS {
            return Err(Invalid::Syntax);
        }
        client_domain(at_domain.get(1..).unwrap_or_default())?;
    }
    Ok(bare)
}

/// [`address`] for text: the bare address, as text.
pub fn address_str(text: &str) -> Result<&str, Invalid> {
    let bare = address(text.as_bytes())?;
    // `bare` is `text` or `text` without its ASCII angle brackets: whole characters.
    Ok(if bare.len() == text.len() { text } else { text.get(1..text.len() - 1).unwrap_or(text) })
}

#[cfg(not(feature = "small"))]
fn local_part(local: &[u8]) -> Result<(), Invalid> {
    if let [b'"', inner @ .., b'"'] = local {
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
    dot_atom(local, |c| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c) || c >= 0x80)
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

#[cfg(not(feature = "small"))]
fn mail_domain(domain: &[u8]) -> Result<(), Invalid> {
    if domain.len() > MAX_DOMAIN_NAME {
        return Err(Invalid::TooLong);
    }
    if domain.first() == Some(&b'[') {
        return address_literal(domain);
    }
    hostname(domain)
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
#[cfg(not(feature = "small"))]
fn address_literal(text: &[u8]) -> Result<(), Invalid> {
    let [b'[', inner @ .., b']'] = text else { return Err(Invalid::Syntax) };
    match inner.split_at_checked(5) {
        Some((tag, v6)) if tag.eq_ignore_ascii_case(b"IPv6:") => ip_text(v6, true),
        _ => ip_text(inner, false),
    }
}

/// A loose check of an IP literal's characters (the server judges the rest).
fn ip_text(text: &[u8], v6: bool) -> Result<(), Invalid> {
    let ok = !text.is_empty()
        && text.iter().all(|&c| c.is_ascii_digit() || c == b'.' || (v6 && (c.is_ascii_hexdigit() || c == b':')));
    if ok {
        Ok(())
    } else {
        Err(Invalid::Syntax)
    }
}

/// The name given in EHLO: a host name, an IP address, or an address literal. The small
/// profile's body: a host name of letters, digits and hyphens (labels of at most 63 bytes),
/// every refusal [`Invalid::Syntax`].
pub fn client_domain(name: &[u8]) -> Result<(), Invalid> {
    #[cfg(not(feature = "small"))]
    {
        no_controls(name)?;
        if name.is_empty() {
            return Err(Invalid::Empty);
        }
        if name.len() > MAX_DOMAIN_NAME {
            return Err(Invalid::TooLong);
        }
        if name.first() == Some(&b'[') {
            address_literal(name)
        } else if name.contains(&b':') {
            ip_text(name, true)
        } else {
            hostname(name)
        }
    }
    #[cfg(feature = "small")]
    {
        let mut label = 0;
        for &b in name {
            if b == b'.' && label > 0 {
                label = 0;
            } else if (b.is_ascii_alphanumeric() || b == b'-') && label < 63 {
                label += 1;
            } else {
                return Err(Invalid::Syntax);
            }
        }
        if label > 0 && name.len() <= MAX_DOMAIN_NAME {
            Ok(())
        } else {
            Err(Invalid::Syntax)
        }
    }
}

/// The server: a host name or an IP literal (IPv6 with or without brackets).
pub fn server(name: &str) -> Result<(), Invalid> {
    let name = name.as_bytes();
    no_controls(name)?;
    if name.is_empty() {
        return Err(Invalid::Empty);
    }
    if name.len() > MAX_DOMAIN_NAME {
        return Err(Invalid::TooLong);
    }
    match name {
        [b'[', v6 @ .., b']'] => ip_text(v6, true),
        _ if name.contains(&b':') => ip_text(name, true),
        _ => hostname(name),
    }
}

/// A header text (the subject): no control character but TAB, at most [`MAX_SUBJECT`] bytes.
/// The small profile: printable ASCII (its length is bounded where it is read).
pub fn subject(text: &[u8]) -> Result<(), Invalid> {
    #[cfg(not(feature = "small"))]
    {
        controls(text, true)?;
        if text.len() > MAX_SUBJECT {
            return Err(Invalid::TooLong);
        }
        Ok(())
    }
    #[cfg(feature = "small")]
    printable(text)
}

/// The refusal this build's bodies report where the full ones report `full`: the small
/// profile's bodies report every refusal as [`Invalid::Syntax`].
#[cfg(test)]
pub(crate) fn reported(full: Invalid) -> Invalid {
    if cfg!(feature = "small") {
        Invalid::Syntax
    } else {
        full
    }
}

/// Bytes of base64 for `n` bytes of input.
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wire::syntax::reported as why;

    fn addr(text: &str) -> Result<&str, Invalid> {
        address_str(text)
    }

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

    /// What both bodies take: dot-atom ASCII local parts and host names.
    #[test]
    fn addresses_bare_and_bracketed() {
        assert_eq!(addr("a@b.example"), Ok("a@b.example"));
        assert_eq!(addr("<myname@mycompany.com>"), Ok("myname@mycompany.com"));
        assert_eq!(addr("first.last+tag@sub.example.co"), Ok("first.last+tag@sub.example.co"));
        assert_eq!(addr("x!#$%&'*+-/=?^_`{|}~@d"), Ok("x!#$%&'*+-/=?^_`{|}~@d"));
        assert_eq!(address(b"<a@b.example>"), Ok(&b"a@b.example"[..]));
    }

    /// The full body's wider scope: quoted local parts, address literals, UTF-8.
    #[cfg(not(feature = "small"))]
    #[test]
    fn addresses_beyond_dot_atoms() {
        assert_eq!(addr("\"john doe\"@example.com"), Ok("\"john doe\"@example.com"));
        assert_eq!(addr("user@[192.0.2.1]"), Ok("user@[192.0.2.1]"));
        assert_eq!(addr("user@[IPv6:2001:db8::1]"), Ok("user@[IPv6:2001:db8::1]"));
        assert_eq!(addr("josé@exemplo.br"), Ok("josé@exemplo.br"));
        assert_eq!(addr("a@b_c.example"), Ok("a@b_c.example"));
        assert_eq!(addr("a@[1.2.3.x]"), Err(Invalid::Syntax));
        assert_eq!(addr("\"a\"b\"@c"), Err(Invalid::Syntax));
    }

    /// The small body refuses what lies beyond its scope.
    #[cfg(feature = "small")]
    #[test]
    fn small_profile_addresses_are_dot_atoms() {
        for beyond in ["\"john doe\"@example.com", "user@[192.0.2.1]", "josé@exemplo.br", "a@b_c.example"] {
            assert_eq!(addr(beyond), Err(Invalid::Syntax), "{beyond}");
        }
        assert_eq!(credential("pässword".as_bytes()), Err(Invalid::Syntax));
        assert_eq!(subject(b"tab\tno"), Err(Invalid::Syntax));
        assert_eq!(client_domain(b"192.0.2.7"), Ok(()), "digits and dots are a host name");
        assert_eq!(client_domain(b"[IPv6:::1]"), Err(Invalid::Syntax));
    }

    #[test]
    fn addresses_refused() {
        use Invalid::*;
        assert_eq!(addr("a@b.example\r\nRCPT TO:<x@y>"), Err(why(ControlCharacter)));
        assert_eq!(addr("a@b\n"), Err(why(ControlCharacter)));
        assert_eq!(addr("a\0@b"), Err(why(ControlCharacter)));
        assert_eq!(addr("a\t@b"), Err(why(ControlCharacter)));
        assert_eq!(addr("\r\n@b"), Err(why(ControlCharacter)));
        assert_eq!(addr(""), Err(why(Empty)));
        assert_eq!(addr("<>"), Err(why(Empty)));
        for bad in [
            "<a@b", "a@b>", "a<x>@b", "no-at-sign", "@b.example", "a@", "a b@c", "a@b c", ".a@b", "a.@b", "a..b@c",
            "a@b..c", "a@.b", "a@b.", "a,b@c",
        ] {
            assert_eq!(addr(bad), Err(Syntax), "{bad:?}");
        }
    }

    #[test]
    fn address_length_limits() {
        let local64 = "l".repeat(64);
        let domain = std::format!("{}.{}.{}.example", "d".repeat(60), "e".repeat(60), "f".repeat(55));
        let ok = std::format!("{local64}@{domain}");
        assert!(ok.len() <= MAX_BARE_ADDRESS, "{}", ok.len());
        assert_eq!(addr(&ok), Ok(ok.as_str()));
        assert_eq!(addr(&std::format!("{}@x.example", "l".repeat(65))), Err(why(Invalid::TooLong)));
        let long = std::format!("{local64}@{}.{domain}", "g".repeat(63));
        assert_eq!(addr(&long), Err(why(Invalid::TooLong)));
        let label63 = std::format!("a@{}.example", "x".repeat(63));
        assert!(addr(&label63).is_ok());
        let label64 = std::format!("a@{}.example", "x".repeat(64));
        assert_eq!(addr(&label64), Err(Invalid::Syntax));
    }

    #[test]
    fn client_domains() {
        assert_eq!(client_domain(b"device-7.example.com"), Ok(()));
        assert_eq!(client_domain(b"a-b"), Ok(()));
        assert_eq!(client_domain(&[b'a'; 63]), Ok(()));
        assert_eq!(client_domain(&[b'a'; 64]), Err(Invalid::Syntax));
        assert_eq!(client_domain(b"a..b"), Err(Invalid::Syntax));
        assert_eq!(client_domain(b""), Err(why(Invalid::Empty)));
        assert_eq!(client_domain(b"bad name"), Err(Invalid::Syntax));
        assert_eq!(client_domain(b"x\r\nMAIL"), Err(why(Invalid::ControlCharacter)));
    }

    #[cfg(not(feature = "small"))]
    #[test]
    fn client_domains_as_addresses() {
        assert_eq!(client_domain(b"192.0.2.7"), Ok(()));
        assert_eq!(client_domain(b"2001:db8::7"), Ok(()));
        assert_eq!(client_domain(b"[IPv6:::1]"), Ok(()));
    }

    #[test]
    fn servers() {
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
    fn subjects_and_credentials() {
        assert_eq!(subject(b"Alarm: pump 3"), Ok(()));
        assert_eq!(subject(b"a\r\nBcc: x@y"), Err(why(Invalid::ControlCharacter)));
        assert_eq!(subject(b"a\nb"), Err(why(Invalid::ControlCharacter)));
        assert_eq!(subject(b"a\0b"), Err(why(Invalid::ControlCharacter)));
        assert_eq!(subject(b"a\x1b[31mred"), Err(why(Invalid::ControlCharacter)));
        assert_eq!(credential(b"key\twith tab"), Err(why(Invalid::ControlCharacter)));
        assert_eq!(credential(b"p@ss\r\nw0rd"), Err(why(Invalid::ControlCharacter)));
        assert_eq!(credential(b"p@ss w0rd!"), Ok(()));
    }

    #[cfg(not(feature = "small"))]
    #[test]
    fn subjects_with_tab_and_utf8() {
        assert_eq!(subject("Température".as_bytes()), Ok(()));
        assert_eq!(subject(b"tab\tok"), Ok(()));
        assert_eq!(subject("s".repeat(MAX_SUBJECT).as_bytes()), Ok(()));
        assert_eq!(subject("s".repeat(MAX_SUBJECT + 1).as_bytes()), Err(Invalid::TooLong));
    }
}
