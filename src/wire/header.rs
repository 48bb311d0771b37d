//! The message header block (RFC 5322, MIME RFC 2045, RFC 2047 encoded words).
//!
//! Field values must have passed [`super::syntax`] (no CR, LF or NUL), so no value can
//! end a header line or start a new one. Bcc recipients are never written here.

use super::command::put_base64;
use super::out::Sink;

/// Mail priority, written as `X-Priority` and `Importance` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Low,
    Normal,
    High,
}

/// Everything the header block is made from.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    /// Bare addresses (no angle brackets).
    pub from: &'a str,
    pub to: &'a [&'a str],
    pub cc: &'a [&'a str],
    pub subject: &'a str,
    pub priority: Priority,
    /// Seconds since 1970 UTC, when the platform has a wall clock (else no Date header).
    /// 32 bits (until 2106): the date is then written with 32-bit arithmetic only.
    pub date: Option<u32>,
    /// Makes the Message-ID unique: (time or uptime, per-client sequence, entropy).
    pub message_id: (u64, u32, u32),
    /// The MIME header lines that say what the body is ([`TEXT_PLAIN`] for a text body).
    pub content: &'a [u8],
}

/// The MIME header lines of a UTF-8 text body sent as it is.
pub const TEXT_PLAIN: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n";

/// Soft line length limit of RFC 5322 (78 characters before CRLF).
const FOLD_AT: usize = 78;
/// Bytes of UTF-8 text per encoded word: 52 base64 characters, so that
/// "Subject: =?utf-8?B?...?=" stays within 78 characters.
const WORD_BYTES: usize = 39;

/// Writes the whole header block and the empty line that ends it.
pub fn write<S: Sink + ?Sized>(out: &mut S, h: &Headers<'_>) -> Result<(), S::Error> {
    if let Some(seconds) = h.date {
        out.put(b"Date: ")?;
        put_rfc5322_date(out, seconds)?;
        out.put(b"\r\n")?;
    }
    out.put(b"From: ")?;
    out.put(h.from.as_bytes())?;
    out.put(b"\r\n")?;
    put_address_list(out, b"To: ", h.to)?;
    put_address_list(out, b"Cc: ", h.cc)?;
    put_subject(out, h.subject)?;
    put_message_id(out, h)?;
    out.put(h.content)?;
    out.put(match h.priority {
        Priority::High => b"X-Priority: 1 (Highest)\r\nImportance: high\r\n".as_slice(),
        Priority::Normal => b"X-Priority: 3 (Normal)\r\nImportance: normal\r\n",
        Priority::Low => b"X-Priority: 5 (Lowest)\r\nImportance: low\r\n",
    })?;
    out.put(b"\r\n")
}

/// `To: a@x, b@y` folded before a line would pass 78 characters; nothing when empty.
fn put_address_list<S: Sink + ?Sized>(out: &mut S, name: &[u8], addresses: &[&str]) -> Result<(), S::Error> {
    if addresses.is_empty() {
        return Ok(());
    }
    out.put(name)?;
    let mut column = name.len();
    for (i, address) in addresses.iter().enumerate() {
        // Addresses may come in angle brackets (NetX Duo style): the header shows them bare.
        let address = address.strip_prefix("<").and_then(|a| a.strip_suffix(">")).unwrap_or(address);
        if i > 0 {
            out.put(b",")?;
            column += 1;
            if column + 1 + address.len() > FOLD_AT {
                out.put(b"\r\n")?;
                column = 0;
            }
            out.put(b" ")?;
            column += 1;
        }
        out.put(address.as_bytes())?;
        column += address.len();
    }
    out.put(b"\r\n")
}

/// Subjects of printable ASCII that fit on one line are written as they are; anything else
/// (non-ASCII, control characters, "=?" that a reader would take for an encoded word, or a
/// very long subject) becomes RFC 2047 B encoded words of whole UTF-8 characters, one per
/// folded line.
fn put_subject<S: Sink + ?Sized>(out: &mut S, subject: &str) -> Result<(), S::Error> {
    out.put(b"Subject: ")?;
    let bytes = subject.as_bytes();
    let plain = bytes.len() <= FOLD_AT * 10
        && bytes.iter().all(|&b| (0x20..0x7f).contains(&b))
        && !bytes.windows(2).any(|w| w == b"=?");
    if plain {
        out.put(bytes)?;
        return out.put(b"\r\n");
    }
    let mut rest = subject;
    let mut first = true;
    while !rest.is_empty() {
        let mut cut = rest.len().min(WORD_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        // `cut` is a character boundary (found above): the split always succeeds.
        let (word, tail) = rest.split_at_checked(cut).unwrap_or((rest, ""));
        if !first {
            out.put(b"\r\n ")?;
        }
        out.put(b"=?utf-8?B?")?;
        put_base64(out, &[word.as_bytes()])?;
        out.put(b"?=")?;
        first = false;
        rest = tail;
    }
    out.put(b"\r\n")
}

/// `Message-ID: <time.sequence.entropy@domain-of-from>` in hexadecimal.
fn put_message_id<S: Sink + ?Sized>(out: &mut S, h: &Headers<'_>) -> Result<(), S::Error> {
    let (time, sequence, entropy) = h.message_id;
    out.put(b"Message-ID: <")?;
    out.put_hex(time)?;
    out.put(b".")?;
    out.put_hex(u64::from(sequence))?;
    out.put(b".")?;
    out.put_hex(u64::from(entropy))?;
    out.put(b"@")?;
    let domain = super::syntax::split_at_last_at_sign(h.from).map_or("localhost", |(_, d)| d);
    out.put(domain.as_bytes())?;
    out.put(b">\r\n")
}

/// `Sat, 28 Nov 2026 16:47:00 +0000` from seconds since 1970 (UTC).
pub fn put_rfc5322_date<S: Sink + ?Sized>(out: &mut S, seconds: u32) -> Result<(), S::Error> {
    const DAYS: [&[u8]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let days = seconds / 86_400;
    let secs = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    // `days % 7` and `month - 1` (month is 1..=12) are always in range.
    out.put(DAYS.get((days % 7) as usize).copied().unwrap_or_default())?;
    out.put(b", ")?;
    out.put_decimal(u32::from(day))?;
    out.put(b" ")?;
    out.put(MONTHS.get(usize::from(month).wrapping_sub(1)).copied().unwrap_or_default())?;
    out.put(b" ")?;
    out.put_decimal(year)?;
    out.put(b" ")?;
    put_two_digits(out, secs / 3600)?;
    out.put(b":")?;
    put_two_digits(out, secs / 60 % 60)?;
    out.put(b":")?;
    put_two_digits(out, secs % 60)?;
    out.put(b" +0000")
}

fn put_two_digits<S: Sink + ?Sized>(out: &mut S, n: u32) -> Result<(), S::Error> {
    out.put(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8])
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01 (Howard Hinnant's
/// civil_from_days, for non-negative days).
fn civil_from_days(days: u32) -> (u32, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + u32::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::out::Out;

    fn text(f: impl FnOnce(&mut Out<'_>)) -> std::string::String {
        let mut buf = [0u8; 4096];
        let mut out = Out::new(&mut buf);
        f(&mut out);
        std::string::String::from_utf8(out.as_bytes().to_vec()).unwrap()
    }

    fn headers<'a>(subject: &'a str, to: &'a [&'a str], cc: &'a [&'a str]) -> Headers<'a> {
        Headers {
            from: "device@example.com",
            to,
            cc,
            subject,
            priority: Priority::Normal,
            date: Some(1_795_884_420),
            message_id: (0x1234, 7, 0xabcdef),
            content: TEXT_PLAIN,
        }
    }

    #[test]
    fn full_block() {
        let block = text(|o| write(o, &headers("Alarm", &["ops@example.com"], &["boss@example.com"])).unwrap());
        assert_eq!(
            block,
            "Date: Sat, 28 Nov 2026 16:47:00 +0000\r\n\
             From: device@example.com\r\n\
             To: ops@example.com\r\n\
             Cc: boss@example.com\r\n\
             Subject: Alarm\r\n\
             Message-ID: <1234.7.abcdef@example.com>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\
             X-Priority: 3 (Normal)\r\n\
             Importance: normal\r\n\
             \r\n"
        );
    }

    #[test]
    fn no_date_without_clock_no_empty_lists_and_priorities() {
        let mut h = headers("s", &[], &[]);
        h.date = None;
        h.priority = Priority::High;
        let block = text(|o| write(o, &h).unwrap());
        assert!(block.starts_with("From: device@example.com\r\nSubject: s\r\n"));
        assert!(!block.contains("To:") && !block.contains("Cc:") && !block.contains("Date:"));
        assert!(block.contains("X-Priority: 1 (Highest)\r\nImportance: high\r\n"));
        h.priority = Priority::Low;
        assert!(text(|o| write(o, &h).unwrap()).contains("X-Priority: 5 (Lowest)\r\nImportance: low\r\n"));
    }

    #[test]
    fn long_address_lists_fold() {
        let to = ["a-rather-long-mailbox-name-number-one@example.com"; 5];
        let block = text(|o| put_address_list(o, b"To: ", &to).unwrap());
        assert_eq!(text(|o| put_address_list(o, b"To: ", &["<a@b.example>", "c@d.example"]).unwrap()), "To: a@b.example, c@d.example\r\n");
        for line in block.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= FOLD_AT, "{line:?}");
        }
        let unfolded = block.replace("\r\n ", " ");
        assert_eq!(unfolded.trim_end(), std::format!("To: {}", to.join(", ")));
    }

    fn decode_subject(block: &str) -> std::string::String {
        use base64::Engine as _;
        let value = block.strip_prefix("Subject: ").unwrap().trim_end_matches("\r\n");
        let mut decoded = std::vec::Vec::new();
        for word in value.split("\r\n ") {
            let b64 = word.strip_prefix("=?utf-8?B?").unwrap().strip_suffix("?=").unwrap();
            decoded.extend(base64::engine::general_purpose::STANDARD.decode(b64).unwrap());
        }
        std::string::String::from_utf8(decoded).unwrap()
    }

    #[test]
    fn non_ascii_subjects_become_encoded_words() {
        for subject in [
            "Température élevée",
            "警报：泵 3 温度过高，请立即检查设备状态并联系值班工程师处理",
            "emoji 🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨",
            "tab\there",
            "looks =?encoded?= but is not",
        ] {
            let block = text(|o| put_subject(o, subject).unwrap());
            for line in block.split("\r\n") {
                assert!(line.len() <= FOLD_AT, "{line:?}");
            }
            assert_eq!(decode_subject(&block), subject);
        }
    }

    #[test]
    fn very_long_ascii_subject_is_encoded_and_folded() {
        let subject = "x".repeat(2000);
        let block = text(|o| put_subject(o, &subject).unwrap());
        assert!(block.split("\r\n").all(|l| l.len() <= FOLD_AT));
        assert_eq!(decode_subject(&block), subject);
    }

    #[test]
    fn dates() {
        let date = |s| text(|o| put_rfc5322_date(o, s).unwrap());
        assert_eq!(date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(date(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 +0000");
        assert_eq!(date(4_102_444_800), "Fri, 1 Jan 2100 00:00:00 +0000");
        assert_eq!(date(u32::MAX), "Sun, 7 Feb 2106 06:28:15 +0000");
    }
}
