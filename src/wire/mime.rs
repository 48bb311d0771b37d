//! The MIME vocabulary of a mail with an HTML alternative and attachments (RFC 2045, 2046,
//! 2183, 2231): the boundaries, the header lines of the message and of each part, the
//! transfer encoding of a text part, an attachment's file name parameter and its content type
//! guessed from the file name.
//!
//! Boundaries cannot occur in the content, by construction: each holds "=_", which neither
//! base64 ([`super::base64_lines`]) nor quoted-printable ([`super::quoted_printable`]) output
//! can contain, and a text part that would go out as it is (7bit or 8bit) is sent
//! quoted-printable instead when it holds the boundaries' common prefix ([`text_encoding`]).

use super::out::Sink;
use super::syntax::Invalid;

/// What all boundaries start with; a text holding it is never sent as it is.
pub const BOUNDARY_PREFIX: &[u8] = b"=_zsmtp_";
/// The boundary of multipart/mixed (the text, or its alternatives, and the attachments).
pub const MIXED: &[u8] = b"=_zsmtp_mixed";
/// The boundary of multipart/alternative (text, then HTML). Neither boundary is a prefix of
/// the other (RFC 2046 section 5.1.1).
pub const ALTERNATIVE: &[u8] = b"=_zsmtp_alternative";

/// The longest line of a text sent as it is (RFC 5322 section 2.1.1), CRLF not counted.
pub const MAX_TEXT_LINE: usize = 998;
/// The longest attachment file name, in bytes of UTF-8.
pub const MAX_FILE_NAME: usize = 255;
/// The longest content type given for an attachment.
pub const MAX_CONTENT_TYPE: usize = 127;

/// How a text part travels (RFC 2045 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// ASCII lines of at most 998 bytes, as they are.
    SevenBit,
    /// UTF-8 lines of at most 998 bytes, as they are (the server offers 8BITMIME).
    EightBit,
    /// Quoted-printable: 7-bit lines of at most 76 characters.
    QuotedPrintable,
}

impl TransferEncoding {
    const fn name(self) -> &'static [u8] {
        match self {
            TransferEncoding::SevenBit => b"7bit",
            TransferEncoding::EightBit => b"8bit",
            TransferEncoding::QuotedPrintable => b"quoted-printable",
        }
    }
}

/// How to send `text`: as it is when it can go so (7bit when ASCII, 8bit when the server
/// offers 8BITMIME), else quoted-printable. Quoted-printable whenever a line passes 998
/// bytes, the text holds NUL or the boundaries' prefix, or it is 8-bit and the server
/// takes only 7-bit: the mail is then 7-bit clean and never refused for its line length.
pub fn text_encoding(text: &[u8], eight_bit_mime: bool) -> TransferEncoding {
    let mut eight_bit = false;
    let mut line = 0usize;
    for &b in text {
        match b {
            b'\r' | b'\n' => line = 0,
            0 => return TransferEncoding::QuotedPrintable,
            _ => {
                eight_bit |= b >= 0x80;
                line += 1;
                if line > MAX_TEXT_LINE {
                    return TransferEncoding::QuotedPrintable;
                }
            }
        }
    }
    let holds_boundary = text.windows(BOUNDARY_PREFIX.len()).any(|w| w == BOUNDARY_PREFIX);
    match (eight_bit, eight_bit_mime) {
        _ if holds_boundary => TransferEncoding::QuotedPrintable,
        (false, _) => TransferEncoding::SevenBit,
        (true, true) => TransferEncoding::EightBit,
        (true, false) => TransferEncoding::QuotedPrintable,
    }
}

/// The message's MIME header lines (`MIME-Version`, `Content-Type` and, for one text part,
/// `Content-Transfer-Encoding`): multipart/mixed with attachments, else multipart/alternative
/// with an HTML part, else text/plain sent with `text`.
pub const fn message_headers(html: bool, attachments: bool, text: TransferEncoding) -> &'static [u8] {
    match (attachments, html, text) {
        (true, _, _) => b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_zsmtp_mixed\"\r\n",
        (false, true, _) => b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_zsmtp_alternative\"\r\n",
        (false, false, TransferEncoding::SevenBit) => {
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"
        }
        (false, false, TransferEncoding::EightBit) => {
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        }
        (false, false, TransferEncoding::QuotedPrintable) => {
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
        }
    }
}

/// The headers of a part that is itself multipart/alternative, and the blank line.
pub fn put_alternative_part_headers<S: Sink + ?Sized>(out: &mut S) -> Result<(), S::Error> {
    out.put(b"Content-Type: multipart/alternative; boundary=\"=_zsmtp_alternative\"\r\n\r\n")
}

/// `Content-Type: text/<subtype>; charset=utf-8` and its transfer encoding.
fn put_text_type<S: Sink + ?Sized>(out: &mut S, subtype: &[u8], encoding: TransferEncoding) -> Result<(), S::Error> {
    out.put(b"Content-Type: text/")?;
    out.put(subtype)?;
    out.put(b"; charset=utf-8\r\nContent-Transfer-Encoding: ")?;
    out.put(encoding.name())?;
    out.put(b"\r\n")
}

/// A delimiter line: CRLF (which belongs to it, RFC 2046 section 5.1.1), `--boundary`, CRLF.
pub fn put_delimiter<S: Sink + ?Sized>(out: &mut S, boundary: &[u8]) -> Result<(), S::Error> {
    out.put(b"\r\n--")?;
    out.put(boundary)?;
    out.put(b"\r\n")
}

/// The close delimiter: CRLF, `--boundary--`, CRLF.
pub fn put_close_delimiter<S: Sink + ?Sized>(out: &mut S, boundary: &[u8]) -> Result<(), S::Error> {
    out.put(b"\r\n--")?;
    out.put(boundary)?;
    out.put(b"--\r\n")
}

/// The headers of a text part (`plain` or `html`) and the blank line.
pub fn put_text_part_headers<S: Sink + ?Sized>(out: &mut S, subtype: &[u8], encoding: TransferEncoding) -> Result<(), S::Error> {
    put_text_type(out, subtype, encoding)?;
    out.put(b"\r\n")
}

/// The headers of an attachment (base64) and the blank line: its content type (with the
/// `name` parameter too when the name is plain ASCII, for old readers), and
/// `Content-Disposition: attachment` with the file name ([`put_filename`]).
/// `name` and `content_type` must have passed [`file_name`] and [`content_type`].
pub fn put_attachment_headers<S: Sink + ?Sized>(out: &mut S, name: &str, content_type: &str) -> Result<(), S::Error> {
    out.put(b"Content-Type: ")?;
    out.put(content_type.as_bytes())?;
    if is_plain(name) {
        out.put(b";\r\n name=\"")?;
        out.put(name.as_bytes())?;
        out.put(b"\"")?;
    }
    out.put(b"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;")?;
    put_filename(out, name)?;
    out.put(b"\r\n\r\n")
}

/// A name that can go in a quoted string as it is: printable ASCII without '"' and '\'.
fn is_plain(name: &str) -> bool {
    name.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// Characters of an encoded file name per continuation line (RFC 2231 section 3), so that
/// each header line stays within 78 characters.
const SEGMENT_CHARS: usize = 56;

/// The `filename` parameter, each piece on a folded line of its own: `filename="a.csv"` for a
/// plain ASCII name; otherwise RFC 2231 UTF-8 with percent-encoding (`filename*=utf-8''%E2%82%AC.csv`),
/// in numbered continuations (`filename*0*=`, `filename*1*=`, ...) when it is long, each cut
/// between whole characters.
pub fn put_filename<S: Sink + ?Sized>(out: &mut S, name: &str) -> Result<(), S::Error> {
    if is_plain(name) {
        out.put(b"\r\n filename=\"")?;
        out.put(name.as_bytes())?;
        return out.put(b"\"");
    }
    let single = encoded_len(name) <= SEGMENT_CHARS;
    let mut rest = name;
    let mut index = 0u32;
    while !rest.is_empty() || index == 0 {
        // The longest run of whole characters whose encoding fits in a segment.
        let mut cut = 0;
        let mut width = 0;
        for (at, c) in rest.char_indices() {
            let mut utf8 = [0u8; 4];
            let w = encoded_len(c.encode_utf8(&mut utf8));
            if width + w > SEGMENT_CHARS && at > 0 {
                break;
            }
            width += w;
            cut = at + c.len_utf8();
        }
        let (segment, tail) = rest.split_at_checked(cut).unwrap_or((rest, ""));
        if index > 0 {
            out.put(b";")?;
        }
        out.put(b"\r\n filename*")?;
        if !single {
            out.put_decimal(index)?;
            out.put(b"*")?;
        }
        out.put(if index == 0 { b"=utf-8''".as_slice() } else { b"=" })?;
        put_percent_encoded(out, segment)?;
        rest = tail;
        index += 1;
    }
    Ok(())
}

/// An RFC 2231 / RFC 5987 attr-char: sent as it is; anything else is %XX.
fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

fn encoded_len(text: &str) -> usize {
    text.bytes().map(|b| if is_attr_char(b) { 1 } else { 3 }).sum()
}

fn put_percent_encoded<S: Sink + ?Sized>(out: &mut S, text: &str) -> Result<(), S::Error> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if is_attr_char(b) {
            out.put(&[b])?;
        } else {
            let digit = |n: u8| HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0');
            out.put(&[b'%', digit(b >> 4), digit(b)])?;
        }
    }
    Ok(())
}

/// Checks an attachment's file name: 1 to 255 bytes of UTF-8 without control characters.
pub fn file_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err(Invalid::Empty);
    }
    if name.len() > MAX_FILE_NAME {
        return Err(Invalid::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::ControlCharacter);
    }
    Ok(())
}

/// Checks a content type given for an attachment: printable ASCII, `type/subtype` with
/// optional parameters (`text/csv; charset=utf-8`), at most 127 bytes.
pub fn content_type(text: &str) -> Result<(), Invalid> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(Invalid::Empty);
    }
    if bytes.len() > MAX_CONTENT_TYPE {
        return Err(Invalid::TooLong);
    }
    if !bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        return Err(Invalid::ControlCharacter);
    }
    let essence = bytes.split(|&b| b == b';').next().unwrap_or_default();
    let mut halves = essence.split(|&b| b == b'/');
    let token = |t: Option<&[u8]>| t.is_some_and(|t| !t.is_empty() && t.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b)));
    if !token(halves.next()) || !token(halves.next()) || halves.next().is_some() {
        return Err(Invalid::Syntax);
    }
    Ok(())
}

/// The content type of a file, from its extension (case-insensitive); anything not listed
/// is `application/octet-stream`.
pub fn guess_content_type(name: &str) -> &'static str {
    const TYPES: [(&str, &str); 8] = [
        ("txt", "text/plain"),
        ("csv", "text/csv"),
        ("json", "application/json"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("pdf", "application/pdf"),
        ("gz", "application/gzip"),
    ];
    let extension = match name.rsplit_once('.') {
        Some((_, extension)) => extension,
        None => return "application/octet-stream",
    };
    TYPES.iter().find(|(e, _)| e.eq_ignore_ascii_case(extension)).map_or("application/octet-stream", |(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::out::Out;
    use std::string::String;

    fn text(f: impl FnOnce(&mut Out<'_>)) -> String {
        let mut buf = [0u8; 4096];
        let mut out = Out::new(&mut buf);
        f(&mut out);
        String::from_utf8(out.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn types_are_guessed_from_the_extension() {
        for (name, t) in [
            ("a.txt", "text/plain"),
            ("readings.CSV", "text/csv"),
            ("x.json", "application/json"),
            ("snap.png", "image/png"),
            ("snap.jpg", "image/jpeg"),
            ("snap.JPEG", "image/jpeg"),
            ("r.pdf", "application/pdf"),
            ("log.tar.gz", "application/gzip"),
            ("firmware.bin", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
            ("csv", "application/octet-stream"),
            ("a.txt.", "application/octet-stream"),
            ("€.csv", "text/csv"),
        ] {
            assert_eq!(guess_content_type(name), t, "{name}");
        }
    }

    #[test]
    fn text_encodings() {
        use TransferEncoding::*;
        assert_eq!(text_encoding(b"plain ascii\r\n", false), SevenBit);
        assert_eq!(text_encoding(b"plain ascii\r\n", true), SevenBit);
        assert_eq!(text_encoding("Grüße".as_bytes(), true), EightBit);
        assert_eq!(text_encoding("Grüße".as_bytes(), false), QuotedPrintable);
        assert_eq!(text_encoding(&[b'x'; 998], false), SevenBit);
        assert_eq!(text_encoding(&[b'x'; 999], true), QuotedPrintable);
        let mut lines = [b'x'; 998].to_vec();
        lines.push(b'\n');
        lines.extend_from_slice(&[b'y'; 998]);
        assert_eq!(text_encoding(&lines, true), SevenBit);
        assert_eq!(text_encoding(b"a\0b", true), QuotedPrintable);
        assert_eq!(text_encoding(b"x\r\n--=_zsmtp_mixed--\r\n", true), QuotedPrintable);
        assert_eq!(text_encoding(b"=_zsmtp", true), SevenBit);
    }

    #[test]
    fn file_names() {
        let disposition = |name| text(|o| put_filename(o, name).unwrap());
        assert_eq!(disposition("a.csv"), "\r\n filename=\"a.csv\"");
        assert_eq!(disposition("€.csv"), "\r\n filename*=utf-8''%E2%82%AC.csv");
        assert_eq!(disposition("say \"hi\".txt"), "\r\n filename*=utf-8''say%20%22hi%22.txt");
        // A long name: numbered continuations, cut between whole characters.
        let long = "Messwerte-Kühlhaus-Süd-".repeat(5) + "€.csv";
        let written = disposition(&long);
        let mut joined = String::new();
        for (i, line) in written.split("\r\n").skip(1).enumerate() {
            assert!(line.len() <= 78, "{line:?}");
            let prefix = std::format!(" filename*{i}*=");
            let value = line.strip_prefix(&prefix).unwrap_or_else(|| panic!("{line:?}"));
            let value = value.strip_suffix(';').unwrap_or(value);
            joined.push_str(if i == 0 { value.strip_prefix("utf-8''").unwrap() } else { value });
        }
        let decoded: std::vec::Vec<u8> = {
            let b = joined.as_bytes();
            let mut out = std::vec::Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(u8::from_str_radix(core::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            out
        };
        assert_eq!(String::from_utf8(decoded).unwrap(), long);
    }

    #[test]
    fn attachment_headers() {
        assert_eq!(
            text(|o| put_attachment_headers(o, "a.csv", "text/csv").unwrap()),
            "Content-Type: text/csv;\r\n name=\"a.csv\"\r\nContent-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment;\r\n filename=\"a.csv\"\r\n\r\n"
        );
        assert_eq!(
            text(|o| put_attachment_headers(o, "€.bin", "application/octet-stream").unwrap()),
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment;\r\n filename*=utf-8''%E2%82%AC.bin\r\n\r\n"
        );
    }

    #[test]
    fn structure_lines() {
        let mixed = message_headers(true, true, TransferEncoding::EightBit);
        assert_eq!(mixed, b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_zsmtp_mixed\"\r\n");
        assert!(message_headers(true, false, TransferEncoding::SevenBit).ends_with(b"multipart/alternative; boundary=\"=_zsmtp_alternative\"\r\n"));
        assert!(message_headers(false, false, TransferEncoding::QuotedPrintable).ends_with(b"Content-Transfer-Encoding: quoted-printable\r\n"));
        assert_eq!(message_headers(false, false, TransferEncoding::EightBit), crate::wire::header::TEXT_PLAIN);
        assert_eq!(text(|o| put_alternative_part_headers(o).unwrap()), "Content-Type: multipart/alternative; boundary=\"=_zsmtp_alternative\"\r\n\r\n");
        assert_eq!(
            text(|o| put_text_part_headers(o, b"html", TransferEncoding::QuotedPrintable).unwrap()),
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        );
        assert_eq!(text(|o| put_delimiter(o, ALTERNATIVE).unwrap()), "\r\n--=_zsmtp_alternative\r\n");
        assert_eq!(text(|o| put_close_delimiter(o, MIXED).unwrap()), "\r\n--=_zsmtp_mixed--\r\n");
        assert!(!ALTERNATIVE.starts_with(MIXED) && !MIXED.starts_with(ALTERNATIVE));
    }

    #[test]
    fn checks() {
        assert_eq!(file_name("a.csv"), Ok(()));
        assert_eq!(file_name("Grüße €.pdf"), Ok(()));
        assert_eq!(file_name(""), Err(Invalid::Empty));
        assert_eq!(file_name("a\r\nb"), Err(Invalid::ControlCharacter));
        assert_eq!(file_name("a\u{7f}"), Err(Invalid::ControlCharacter));
        assert_eq!(file_name(&"x".repeat(256)), Err(Invalid::TooLong));
        assert_eq!(content_type("text/csv"), Ok(()));
        assert_eq!(content_type("text/csv; charset=utf-8"), Ok(()));
        assert_eq!(content_type("application/vnd.ms-excel"), Ok(()));
        assert_eq!(content_type("text"), Err(Invalid::Syntax));
        assert_eq!(content_type("text/"), Err(Invalid::Syntax));
        assert_eq!(content_type("a/b/c"), Err(Invalid::Syntax));
        assert_eq!(content_type("text/csv\r\nBcc: x"), Err(Invalid::ControlCharacter));
        assert_eq!(content_type(""), Err(Invalid::Empty));
    }
}
