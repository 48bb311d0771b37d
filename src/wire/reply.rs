//! Server replies (RFC 5321 section 4.2), parsed one line at a time from whatever bytes
//! have arrived so far. Only one line ever needs to fit in the receive buffer; a reply of
//! many lines (a long EHLO) streams through it.
//!
//! Tolerated: LF without CR as a line end, spaces before the code (a quirk NetX Duo's own
//! tests rely on), a bare code line ("250"). Rejected: a code that is not three digits
//! starting with 2..5, anything else where the separator belongs, a continuation line whose
//! code differs from the first line's. A violation visible in a partial line is reported
//! at once, so a server that never sends LF after "2200" cannot make us wait.

/// An RFC 3463 enhanced status code `class.subject.detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

/// One line of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLine<'a> {
    /// The three-digit code.
    pub code: u16,
    /// True for the final line of the reply ("250 " or a bare "250").
    pub last: bool,
    /// The text after the separator, without the line end.
    pub text: &'a [u8],
}

/// A reply the parser cannot accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError {
    /// Not an SMTP reply line (bad code, bad separator).
    Syntax,
    /// A continuation line with a different code from the first line.
    CodeMismatch,
}

/// Parses the first line of `buf`.
///
/// Returns `Ok(None)` when the line is not complete yet (the caller reads more; when its
/// buffer is full, the line is too long for it), otherwise the line and the number of bytes
/// it took (line end included).
pub fn parse_line(buf: &[u8]) -> Result<Option<(ReplyLine<'_>, usize)>, ReplyError> {
    let lead = buf.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let rest = buf.get(lead..).unwrap_or_default();
    // Check what has arrived of the code and separator before waiting for the line end.
    for (i, &b) in rest.iter().take(4).enumerate() {
        let ok = match i {
            0 => (b'2'..=b'5').contains(&b),
            1 | 2 => b.is_ascii_digit(),
            _ => matches!(b, b' ' | b'-' | b'\r' | b'\n'),
        };
        if !ok {
            return Err(ReplyError::Syntax);
        }
    }
    let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    // Here rest[..lf] holds at least "ddd" (a line end only passes the checks at index 3).
    // `lf` is an index of `rest`: the `get` always succeeds.
    let line = rest.get(..lf).unwrap_or_default();
    // A pattern, not `strip_suffix`: that would link a memcmp.
    let line = match line {
        [text @ .., b'\r'] => text,
        _ => line,
    };
    let [d0, d1, d2, after_code @ ..] = line else {
        return Err(ReplyError::Syntax);
    };
    let code = u16::from(d0 - b'0') * 100 + u16::from(d1 - b'0') * 10 + u16::from(d2 - b'0');
    let (last, text) = match after_code {
        [] => (true, after_code),
        [b'-', text @ ..] => (false, text),
        [b' ', text @ ..] => (true, text),
        // A CR inside the line: "250\rX\n".
        _ => return Err(ReplyError::Syntax),
    };
    Ok(Some((ReplyLine { code, last, text }, lead + lf + 1)))
}

/// Follows the lines of one reply: checks that they share a code and says when it ends.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplyTracker {
    code: Option<u16>,
    lines: u32,
}

impl ReplyTracker {
    pub const fn new() -> Self {
        ReplyTracker { code: None, lines: 0 }
    }

    /// Takes the next line; returns true when the reply is complete.
    pub fn feed(&mut self, line: &ReplyLine<'_>) -> Result<bool, ReplyError> {
        match self.code {
            Some(code) if code != line.code => return Err(ReplyError::CodeMismatch),
            _ => self.code = Some(line.code),
        }
        self.lines = self.lines.saturating_add(1);
        Ok(line.last)
    }

    /// How many lines were taken so far (0 before the first).
    pub const fn lines(&self) -> u32 {
        self.lines
    }
}

/// Reads an enhanced status code at the start of `text` (`5.1.1 User unknown`). Its class
/// must match the reply code's first digit, or it is not taken for one.
pub fn parse_enhanced(code: u16, text: &[u8]) -> Option<EnhancedCode> {
    let mut parts = [0u16; 3];
    let mut part = 0;
    let mut digits = 0;
    for &b in text {
        match b {
            b'0'..=b'9' if digits < 3 => {
                // `part` stays below 3 (it only grows while below 2).
                let p = parts.get_mut(part)?;
                *p = *p * 10 + u16::from(b - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && part < 2 => {
                part += 1;
                digits = 0;
            }
            b' ' | b'\t' => break,
            _ => return None,
        }
    }
    if part != 2 || digits == 0 {
        return None;
    }
    let [class, subject, detail] = parts;
    if !matches!(class, 2 | 4 | 5) || class != code / 100 {
        return None;
    }
    Some(EnhancedCode { class: class as u8, subject, detail })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(buf: &[u8]) -> (ReplyLine<'_>, usize) {
        parse_line(buf).unwrap().unwrap()
    }

    #[test]
    fn final_and_continuation_lines() {
        assert_eq!(line(b"250 OK\r\n"), (ReplyLine { code: 250, last: true, text: b"OK" }, 8));
        assert_eq!(line(b"250-PIPELINING\r\n"), (ReplyLine { code: 250, last: false, text: b"PIPELINING" }, 16));
        assert_eq!(line(b"354 go ahead\r\nextra"), (ReplyLine { code: 354, last: true, text: b"go ahead" }, 14));
    }

    #[test]
    fn bare_code_lines() {
        assert_eq!(line(b"250\r\n"), (ReplyLine { code: 250, last: true, text: b"" }, 5));
        assert_eq!(line(b"250\n"), (ReplyLine { code: 250, last: true, text: b"" }, 4));
        assert_eq!(line(b"250 \r\n"), (ReplyLine { code: 250, last: true, text: b"" }, 6));
        assert_eq!(line(b"250-\r\n"), (ReplyLine { code: 250, last: false, text: b"" }, 6));
    }

    #[test]
    fn lf_only_and_leading_space_tolerated() {
        assert_eq!(line(b"221 bye\n"), (ReplyLine { code: 221, last: true, text: b"bye" }, 8));
        assert_eq!(line(b" 250 SIZE\r\n"), (ReplyLine { code: 250, last: true, text: b"SIZE" }, 11));
    }

    #[test]
    fn incomplete_lines_wait_at_every_length() {
        let full = b"250-AUTH LOGIN PLAIN\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse_line(&full[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse_line(full).unwrap().is_some());
    }

    #[test]
    fn bad_codes_fail_as_soon_as_visible() {
        assert_eq!(parse_line(b"2200"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"222222220-hello\r\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"25x"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"x"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"199 too low\r\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"600 too high\r\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"25\r\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"\r\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"250\rX\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"250_x\r\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"HTTP/1.1 400\r\n"), Err(ReplyError::Syntax));
        assert_eq!(parse_line(b"\x00\x00\x00"), Err(ReplyError::Syntax));
    }

    #[test]
    fn several_replies_in_one_read() {
        let buf = b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n";
        let mut at = 0;
        let mut codes = [0u16; 3];
        for slot in &mut codes {
            let (l, used) = line(&buf[at..]);
            assert!(l.last);
            *slot = l.code;
            at += used;
        }
        assert_eq!(codes, [250, 250, 354]);
        assert_eq!(at, buf.len());
        assert_eq!(parse_line(&buf[at..]), Ok(None));
    }

    #[test]
    fn tracker_checks_codes_and_end() {
        let mut t = ReplyTracker::new();
        assert_eq!(t.feed(&ReplyLine { code: 250, last: false, text: b"a" }), Ok(false));
        assert_eq!(t.feed(&ReplyLine { code: 250, last: false, text: b"b" }), Ok(false));
        assert_eq!(t.feed(&ReplyLine { code: 251, last: true, text: b"c" }), Err(ReplyError::CodeMismatch));
        let mut t = ReplyTracker::new();
        assert_eq!(t.feed(&ReplyLine { code: 220, last: true, text: b"" }), Ok(true));
        assert_eq!(t.lines(), 1);
    }

    #[test]
    fn multi_line_reply_split_at_every_byte() {
        let reply = b"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";
        for split in 0..=reply.len() {
            // Feed the first `split` bytes, then the rest, parsing whatever is complete.
            let mut buf = [0u8; 128];
            let mut len = 0;
            let mut texts: std::vec::Vec<std::vec::Vec<u8>> = std::vec::Vec::new();
            let mut tracker = ReplyTracker::new();
            let mut done = false;
            for chunk in [&reply[..split], &reply[split..]] {
                buf[len..len + chunk.len()].copy_from_slice(chunk);
                len += chunk.len();
                while let Some((l, used)) = parse_line(&buf[..len]).unwrap() {
                    texts.push(l.text.to_vec());
                    done = tracker.feed(&l).unwrap();
                    buf.copy_within(used..len, 0);
                    len -= used;
                }
            }
            assert!(done, "split {split}");
            assert_eq!(texts.len(), 4);
            assert_eq!(texts[3], b"8BITMIME");
        }
    }

    #[test]
    fn enhanced_codes() {
        assert_eq!(parse_enhanced(550, b"5.1.1 <x@y>: Recipient address rejected"), Some(EnhancedCode { class: 5, subject: 1, detail: 1 }));
        assert_eq!(parse_enhanced(250, b"2.0.0 Ok: queued as 4F1A"), Some(EnhancedCode { class: 2, subject: 0, detail: 0 }));
        assert_eq!(parse_enhanced(421, b"4.7.0"), Some(EnhancedCode { class: 4, subject: 7, detail: 0 }));
        assert_eq!(parse_enhanced(535, b"5.7.139 Authentication unsuccessful"), Some(EnhancedCode { class: 5, subject: 7, detail: 139 }));
        assert_eq!(parse_enhanced(550, b"4.1.1 class differs"), None);
        assert_eq!(parse_enhanced(250, b"Ok"), None);
        assert_eq!(parse_enhanced(250, b"2.0 short"), None);
        assert_eq!(parse_enhanced(250, b"2.0.0000 long"), None);
        assert_eq!(parse_enhanced(250, b"3.0.0 bad class"), None);
        assert_eq!(parse_enhanced(250, b"2..0 x"), None);
        assert_eq!(parse_enhanced(250, b"2.0.0x"), None);
        assert_eq!(parse_enhanced(250, b""), None);
    }
}
