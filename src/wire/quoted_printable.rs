//! Quoted-printable (RFC 2045 section 6.7) for text parts, streaming: text in, 7-bit lines of
//! at most 76 characters out, whatever the size of the chunks the text comes in.
//!
//! - Printable ASCII stays as it is, except '=' (always `=3D`) and a '.' that starts a line
//!   (`=2E`: the line then reads the same with or without dot-stuffing).
//! - Every other byte (8-bit, control characters, NUL) becomes `=XX`.
//! - CRLF, a bare LF and a bare CR are each a line end (as in the 8-bit body), written CRLF.
//! - A space or tab before a line end (or at the very end) is encoded, so that no line ends
//!   in white space a gateway could strip.
//! - Longer lines are cut with soft line breaks (`=` CRLF) so that no line passes 76
//!   characters, the `=` included.
//!
//! No output ever holds "=_" ('=' is always followed by two hex digits or a line end), which
//! is what keeps it apart from the MIME boundaries of [`super::mime`].

use super::out::Sink;

/// The longest line, CRLF not counted.
pub const MAX_LINE: usize = 76;

/// The encoder between chunks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct QuotedPrintable {
    /// Characters on the current output line.
    column: usize,
    /// A space or tab not written yet: literal if text follows, encoded if a line end does.
    held: Option<u8>,
    /// The last byte was a CR: an LF right after it belongs to the same line end.
    after_cr: bool,
}

impl QuotedPrintable {
    pub const fn new() -> Self {
        QuotedPrintable { column: 0, held: None, after_cr: false }
    }

    /// Encodes the next chunk of text.
    pub fn encode<S: Sink + ?Sized>(&mut self, input: &[u8], out: &mut S) -> Result<(), S::Error> {
        for &b in input {
            let after_cr = core::mem::replace(&mut self.after_cr, false);
            match b {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    self.end_line(out)?;
                    self.after_cr = b == b'\r';
                }
                b' ' | b'\t' => {
                    if let Some(space) = self.held.replace(b) {
                        self.put_literal(out, space)?;
                    }
                }
                _ => {
                    if let Some(space) = self.held.take() {
                        self.put_literal(out, space)?;
                    }
                    if (b'!'..=b'~').contains(&b) && b != b'=' && !(b == b'.' && self.column == 0) {
                        self.put_literal(out, b)?;
                    } else {
                        self.put_encoded(out, b)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends the text: white space held at the very end is encoded. The last line gets no
    /// line end of its own (the MIME delimiter that follows brings it).
    pub fn finish<S: Sink + ?Sized>(&mut self, out: &mut S) -> Result<(), S::Error> {
        if let Some(space) = self.held.take() {
            self.put_encoded(out, space)?;
        }
        *self = QuotedPrintable::new();
        Ok(())
    }

    fn end_line<S: Sink + ?Sized>(&mut self, out: &mut S) -> Result<(), S::Error> {
        if let Some(space) = self.held.take() {
            self.put_encoded(out, space)?;
        }
        self.column = 0;
        out.put(b"\r\n")
    }

    /// Room for `width` more characters on this line (and a soft break's '=' after them).
    fn make_room<S: Sink + ?Sized>(&mut self, out: &mut S, width: usize) -> Result<(), S::Error> {
        if self.column + width > MAX_LINE - 1 {
            out.put(b"=\r\n")?;
            self.column = 0;
        }
        Ok(())
    }

    fn put_literal<S: Sink + ?Sized>(&mut self, out: &mut S, b: u8) -> Result<(), S::Error> {
        self.make_room(out, 1)?;
        if b == b'.' && self.column == 0 {
            // A soft break just made this '.' the first of a line.
            return self.put_encoded(out, b);
        }
        self.column += 1;
        out.put(&[b])
    }

    fn put_encoded<S: Sink + ?Sized>(&mut self, out: &mut S, b: u8) -> Result<(), S::Error> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.make_room(out, 3)?;
        self.column += 3;
        let digit = |n: u8| HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0');
        out.put(&[b'=', digit(b >> 4), digit(b)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    use crate::wire::out::VecSink;

    fn encode_chunks(chunks: &[&[u8]]) -> Vec<u8> {
        let mut sink = VecSink(Vec::new());
        let mut e = QuotedPrintable::new();
        for c in chunks {
            e.encode(c, &mut sink).unwrap();
        }
        e.finish(&mut sink).unwrap();
        sink.0
    }

    fn encode(text: &[u8]) -> Vec<u8> {
        encode_chunks(&[text])
    }

    /// An RFC 2045 decoder, written for the test: soft breaks removed, =XX decoded, CRLF kept.
    fn decode(wire: &[u8]) -> Vec<u8> {
        let hex = |c: u8| (c as char).to_digit(16).expect("hex digit") as u8;
        let mut out = Vec::new();
        let mut i = 0;
        while i < wire.len() {
            match wire[i] {
                b'=' if wire[i + 1..].starts_with(b"\r\n") => i += 3,
                b'=' => {
                    assert!(wire[i + 1].is_ascii_digit() || (b'A'..=b'F').contains(&wire[i + 1]), "lower-case or bad hex");
                    out.push(hex(wire[i + 1]) << 4 | hex(wire[i + 2]));
                    i += 3;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }

    /// Line ends as the encoder reads them: CRLF, bare CR and bare LF each become CRLF.
    fn normalise(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            match text[i] {
                b'\r' if text.get(i + 1) == Some(&b'\n') => {
                    out.extend_from_slice(b"\r\n");
                    i += 1;
                }
                b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
                b => out.push(b),
            }
            i += 1;
        }
        out
    }

    fn assert_clean(wire: &[u8]) {
        for line in wire.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(line.len() <= MAX_LINE, "{} characters: {:?}", line.len(), std::string::String::from_utf8_lossy(line));
            assert!(line.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\t'), "not 7-bit clean: {line:?}");
            assert!(!line.ends_with(b" ") && !line.ends_with(b"\t"), "trailing white space: {line:?}");
            assert!(!line.starts_with(b"."), "leading dot: {line:?}");
        }
        for (i, &b) in wire.iter().enumerate() {
            if b == b'\r' {
                assert_eq!(wire.get(i + 1), Some(&b'\n'));
            }
            if b == b'\n' {
                assert_eq!(wire[i - 1], b'\r');
            }
        }
        assert!(!wire.windows(2).any(|w| w == b"=_"));
    }

    fn sample() -> Vec<u8> {
        let mut text = "Grüße aus dem Kühlhaus: 3 °C.\r\n.leading dot\nA = B \t\r\ntrailing tab\t\n".as_bytes().to_vec();
        text.extend_from_slice(&[b'x'; 200]);
        text.extend_from_slice("\r\n温度 ".repeat(40).as_bytes());
        text.extend_from_slice(b"\0\x1b end \r\r\n");
        text
    }

    #[test]
    fn known_encodings() {
        assert_eq!(encode(b"a=b"), b"a=3Db");
        assert_eq!(encode("é".as_bytes()), b"=C3=A9");
        assert_eq!(encode(b"end \r\nnext\t"), b"end=20\r\nnext=09");
        assert_eq!(encode(b"a  b"), b"a  b");
        assert_eq!(encode(b".\n.."), b"=2E\r\n=2E.");
        assert_eq!(encode(b"a\rb\nc\r\nd"), b"a\r\nb\r\nc\r\nd");
        assert_eq!(encode(b""), b"");
        let long = encode(&[b'y'; 80]);
        assert_eq!(long, [&[b'y'; 75][..], b"=\r\n", &[b'y'; 5]].concat());
    }

    #[test]
    fn output_is_seven_bit_short_lined_and_round_trips() {
        let text = sample();
        let wire = encode(&text);
        assert_clean(&wire);
        assert_eq!(decode(&wire), normalise(&text));
    }

    #[test]
    fn any_split_gives_the_same_output() {
        let text = sample();
        let whole = encode(&text);
        for cut in 0..=text.len() {
            assert_eq!(encode_chunks(&[&text[..cut], &text[cut..]]), whole, "cut {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(encode_chunks(&bytes), whole);
    }

    #[test]
    fn soft_breaks_never_split_an_escape_or_strand_a_dot() {
        // Every position of an 8-bit character or a dot against the 76-character limit.
        for pad in 0..80 {
            for tail in [&b"\xc3\xa9\xc3\xa9"[..], b"....", b"  x", b"= ="] {
                let mut text = vec![b'a'; pad];
                text.extend_from_slice(tail);
                text.extend_from_slice(&[b'b'; 90]);
                let wire = encode(&text);
                assert_clean(&wire);
                assert_eq!(decode(&wire), text, "pad {pad} tail {tail:?}");
            }
        }
    }

    #[test]
    fn pseudo_random_text_round_trips() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 400) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    match seed % 10 {
                        0 => b' ',
                        1 => b'\r',
                        2 => b'\n',
                        3 => b'.',
                        4 => b'=',
                        5 => (seed >> 8) as u8,
                        _ => b'a' + (seed % 26) as u8,
                    }
                })
                .collect();
            let wire = encode(&text);
            assert_clean(&wire);
            assert_eq!(decode(&wire), normalise(&text));
        }
    }
}
