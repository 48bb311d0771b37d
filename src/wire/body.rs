//! The streaming body encoder: message text in, SMTP DATA bytes out, in bounded memory.
//!
//! - Every line end becomes CRLF: CRLF stays, a bare LF and a bare CR each become CRLF.
//!   No CR or LF can therefore reach the wire except as part of a CRLF that this encoder
//!   wrote, which is what makes SMTP smuggling ("\n.\n", "\r.\r") impossible through it.
//! - Every line that starts with "." gets one more "." (RFC 5321 section 4.5.2).
//! - [`BodyEncoder::finish`] ends the last line if the text did not, and writes ".\r\n".
//! - A NUL byte, or a line longer than 998 bytes (RFC 5321 section 4.5.3.1.6: 1000 octets
//!   with the CRLF, not counting the dot added for transparency), is an error: the caller
//!   must abort the mail rather than let a server mangle it.

use super::out::Sink;

/// The longest text line, CRLF and a stuffed dot not counted.
pub const MAX_LINE: usize = 998;

/// Why encoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError<E> {
    /// The sink failed.
    Sink(E),
    /// A line is longer than [`MAX_LINE`].
    LineTooLong,
    /// The text contains a NUL byte.
    Nul,
}

impl<E> From<E> for BodyError<E> {
    fn from(e: E) -> Self {
        BodyError::Sink(e)
    }
}

/// Encoder state between chunks: a chunk may end anywhere, even between CR and LF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyEncoder {
    /// The last byte was a CR, whose line is already ended: a LF right after it belongs to it.
    skip_lf: bool,
    /// Bytes of the current line so far (0: at the start of a line).
    line_len: usize,
}

impl Default for BodyEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyEncoder {
    pub const fn new() -> Self {
        BodyEncoder { skip_lf: false, line_len: 0 }
    }

    /// Encodes the next chunk of message text.
    ///
    /// Two bodies, one behaviour (one test suite runs on whichever is compiled): text runs
    /// written whole, or (the small profile) byte by byte in less code.
    #[cfg_attr(feature = "small", inline(always))]
    pub fn encode<S: Sink + ?Sized>(&mut self, input: &[u8], out: &mut S) -> Result<(), BodyError<S::Error>> {
        #[cfg(not(feature = "small"))]
        {
            let mut rest = input;
            while let Some((&b, after_b)) = rest.split_first() {
                let skip_lf = core::mem::replace(&mut self.skip_lf, false);
                match b {
                    b'\n' if skip_lf => rest = after_b,
                    b'\r' | b'\n' => {
                        self.end_line(out)?;
                        self.skip_lf = b == b'\r';
                        rest = after_b;
                    }
                    0 => return Err(BodyError::Nul),
                    _ => {
                        // The run of text up to the next CR, LF or NUL (or the end): one
                        // bounds check per run. A position always splits, so the fallback is
                        // never taken.
                        let (run, after_run) = match rest.iter().position(|&c| matches!(c, b'\r' | b'\n' | 0)) {
                            Some(end) => rest.split_at_checked(end).unwrap_or((rest, &[])),
                            None => (rest, &[][..]),
                        };
                        let stuff = self.line_len == 0 && b == b'.';
                        self.line_len += run.len();
                        if self.line_len > MAX_LINE {
                            return Err(BodyError::LineTooLong);
                        }
                        if stuff {
                            out.put(b".")?;
                        }
                        out.put(run)?;
                        rest = after_run;
                    }
                }
            }
        }
        #[cfg(feature = "small")]
        for &b in input {
            let skip_lf = core::mem::replace(&mut self.skip_lf, b == b'\r');
            match b {
                b'\n' if skip_lf => {}
                b'\r' | b'\n' => self.end_line(out)?,
                0 => return Err(BodyError::Nul),
                _ if self.line_len == MAX_LINE => return Err(BodyError::LineTooLong),
                _ => {
                    if self.line_len == 0 && b == b'.' {
                        out.put(b".")?;
                    }
                    out.put(&[b])?;
                    self.line_len += 1;
                }
            }
        }
        Ok(())
    }

    /// Ends the text: closes an open line and writes the end-of-data line ".\r\n".
    pub fn finish<S: Sink + ?Sized>(&mut self, out: &mut S) -> Result<(), BodyError<S::Error>> {
        if self.line_len > 0 {
            self.end_line(out)?;
        }
        out.put(b".\r\n")?;
        Ok(())
    }

    #[cfg_attr(feature = "small", inline(always))]
    fn end_line<S: Sink + ?Sized>(&mut self, out: &mut S) -> Result<(), BodyError<S::Error>> {
        out.put(b"\r\n")?;
        self.line_len = 0;
        Ok(())
    }
}

/// A sink that only counts, to check a body and learn its encoded size without sending it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counter(pub u64);

impl Sink for Counter {
    type Error = core::convert::Infallible;
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0 += bytes.len() as u64;
        Ok(())
    }
}

/// Checks a whole body; returns its size on the wire (stuffing and terminator included).
pub fn encoded_size(body: &[u8]) -> Result<u64, BodyError<core::convert::Infallible>> {
    let mut counter = Counter(0);
    let mut encoder = BodyEncoder::new();
    encoder.encode(body, &mut counter)?;
    encoder.finish(&mut counter)?;
    Ok(counter.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    use crate::wire::out::VecSink;

    fn encode_chunks(chunks: &[&[u8]]) -> Vec<u8> {
        let mut sink = VecSink(Vec::new());
        let mut e = BodyEncoder::new();
        for c in chunks {
            e.encode(c, &mut sink).unwrap();
        }
        e.finish(&mut sink).unwrap();
        sink.0
    }

    fn encode(body: &[u8]) -> Vec<u8> {
        encode_chunks(&[body])
    }

    /// What a server does: split at CRLF up to the "." line, drop one leading dot.
    fn unstuff(wire: &[u8]) -> Vec<u8> {
        let text = wire.strip_suffix(b".\r\n").expect("terminator");
        let mut out = Vec::new();
        for line in text.split_inclusive(|&b| b == b'\n') {
            assert!(line.ends_with(b"\r\n"), "line without CRLF: {line:?}");
            assert!(line != b".\r\n", "lone dot line inside the body");
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
        out
    }

    /// The reference normalisation: CRLF, bare CR, bare LF -> CRLF; final CRLF added.
    fn normalise(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'\r' if body.get(i + 1) == Some(&b'\n') => {
                    out.extend_from_slice(b"\r\n");
                    i += 2;
                    continue;
                }
                b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
                b => out.push(b),
            }
            i += 1;
        }
        if !out.is_empty() && !out.ends_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    fn assert_clean_wire(wire: &[u8]) {
        for (i, &b) in wire.iter().enumerate() {
            if b == b'\r' {
                assert_eq!(wire.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
            if b == b'\n' {
                assert!(i > 0 && wire[i - 1] == b'\r', "bare LF at {i}");
            }
        }
        assert!(wire.ends_with(b"\r\n.\r\n") || wire == b".\r\n");
    }

    #[test]
    fn plain_text_and_terminator() {
        assert_eq!(encode(b"hello\r\n"), b"hello\r\n.\r\n");
        assert_eq!(encode(b"hello"), b"hello\r\n.\r\n");
        assert_eq!(encode(b""), b".\r\n");
        assert_eq!(encode(b"a\r\nb"), b"a\r\nb\r\n.\r\n");
    }

    #[test]
    fn line_ends_are_normalised() {
        assert_eq!(encode(b"a\nb\n"), b"a\r\nb\r\n.\r\n");
        assert_eq!(encode(b"a\rb\r"), b"a\r\nb\r\n.\r\n");
        assert_eq!(encode(b"a\r\r\nb"), b"a\r\n\r\nb\r\n.\r\n");
        assert_eq!(encode(b"a\n\rb"), b"a\r\n\r\nb\r\n.\r\n");
        assert_eq!(encode(b"\n\n"), b"\r\n\r\n.\r\n");
        assert_eq!(encode(b"\r"), b"\r\n.\r\n");
    }

    #[test]
    fn dots_are_stuffed_at_every_line_start() {
        assert_eq!(encode(b".hidden\r\n"), b"..hidden\r\n.\r\n");
        assert_eq!(encode(b"a\r\n.\r\nb"), b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(encode(b"a\n.\nb"), b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(encode(b"a\r.\rb"), b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(encode(b"..\r\n"), b"...\r\n.\r\n");
        assert_eq!(encode(b"."), b"..\r\n.\r\n");
        assert_eq!(encode(b"a.b\r\n"), b"a.b\r\n.\r\n");
    }

    #[test]
    fn smuggling_sequences_cannot_end_the_data() {
        for evil in [
            &b"x\n.\nMAIL FROM:<evil@x>\n"[..],
            b"x\r.\rRCPT TO:<evil@x>\r",
            b"x\r\n.\nDATA\r\n",
            b"x\n.\r\nQUIT\r\n",
            b"x\r\n.\r\n",
            b"\r\n.\r\n",
        ] {
            let wire = encode(evil);
            assert_clean_wire(&wire);
            // The only "\r\n.\r\n" is the terminator at the very end.
            let first = wire.windows(5).position(|w| w == b"\r\n.\r\n");
            assert_eq!(first, Some(wire.len() - 5), "{evil:?}");
            assert_eq!(unstuff(&wire), normalise(evil));
        }
    }

    #[test]
    fn split_chunks_give_the_same_bytes() {
        let body: &[u8] = b".a\r\nb\rc\n.\r\r\n..\n\r.x\r\n";
        let whole = encode(body);
        for cut in 0..=body.len() {
            assert_eq!(encode_chunks(&[&body[..cut], &body[cut..]]), whole, "cut {cut}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(encode_chunks(&bytes), whole);
    }

    #[test]
    fn round_trips_exhaustively_over_a_small_alphabet() {
        // Every string of length <= 6 over {'.', 'a', CR, LF}.
        let alphabet = [b'.', b'a', b'\r', b'\n'];
        for len in 0..=6u32 {
            for mut n in 0..4usize.pow(len) {
                let mut body = Vec::new();
                for _ in 0..len {
                    body.push(alphabet[n % 4]);
                    n /= 4;
                }
                let wire = encode(&body);
                assert_clean_wire(&wire);
                assert_eq!(unstuff(&wire), normalise(&body), "{body:?}");
                assert_eq!(encoded_size(&body).unwrap(), wire.len() as u64);
            }
        }
    }

    #[test]
    fn round_trips_pseudo_random_bodies() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut body = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 300) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                body.push(match seed % 8 {
                    0 => b'.',
                    1 => b'\r',
                    2 => b'\n',
                    3 => 0xc3,
                    _ => b'a' + (seed % 26) as u8,
                });
            }
            let wire = encode(&body);
            assert_clean_wire(&wire);
            assert_eq!(unstuff(&wire), normalise(&body));
        }
    }

    #[test]
    fn line_length_limit_does_not_count_the_stuffed_dot() {
        let ok = [b'a'; MAX_LINE];
        assert!(encoded_size(&ok).is_ok());
        let mut long = ok.to_vec();
        long.push(b'a');
        assert_eq!(encoded_size(&long), Err(BodyError::LineTooLong));
        // RFC 5321 4.5.3.1.6: the dot duplicated for transparency is not counted.
        let mut dotted = ok.to_vec();
        dotted[0] = b'.';
        assert_eq!(encoded_size(&dotted), Ok(MAX_LINE as u64 + 1 + 2 + 3));
        dotted.push(b'a');
        assert_eq!(encoded_size(&dotted), Err(BodyError::LineTooLong));
        let mut lines = ok.to_vec();
        lines.extend_from_slice(b"\r\n");
        lines.extend_from_slice(&ok);
        assert!(encoded_size(&lines).is_ok());
        // Spread over chunks.
        let mut sink = VecSink(Vec::new());
        let mut e = BodyEncoder::new();
        e.encode(&ok[..500], &mut sink).unwrap();
        e.encode(&ok[500..], &mut sink).unwrap();
        assert_eq!(e.encode(b"a", &mut sink), Err(BodyError::LineTooLong));
    }

    #[test]
    fn nul_is_refused() {
        assert_eq!(encoded_size(b"a\0b"), Err(BodyError::Nul));
    }

    #[test]
    fn eight_bit_text_passes_unchanged() {
        let text = "Grüße, 温度 🚨\r\n".as_bytes();
        assert_eq!(unstuff(&encode(text)), text);
    }
}
