//! Base64 in lines (RFC 2045 section 6.8), streaming: bytes in, lines of 76 characters and
//! CRLF out, whatever the size of the chunks the bytes come in. The only state is the
//! unfinished line (at most 56 bytes), so an attachment of any size costs the same memory.
//!
//! The characters come from the `base64` crate (no_std, no alloc). The output holds only
//! `A-Z a-z 0-9 + / =` and CRLF: no line starts with '.', and no line holds "=_", which
//! is what keeps it apart from the MIME boundaries of [`super::mime`].

use super::out::Sink;
use base64::Engine as _;

/// Input bytes per line: 57 bytes make 76 characters.
pub const LINE_BYTES: usize = 57;
/// Characters per line, CRLF not counted.
pub const LINE_CHARS: usize = 76;

/// The encoder between chunks: the bytes of the line not yet written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base64Lines {
    line: [u8; LINE_BYTES],
    held: usize,
}

impl Default for Base64Lines {
    fn default() -> Self {
        Self::new()
    }
}

impl Base64Lines {
    pub const fn new() -> Self {
        Base64Lines { line: [0; LINE_BYTES], held: 0 }
    }

    /// Encodes the next chunk; every line it completes is written with its CRLF.
    pub fn encode<S: Sink + ?Sized>(&mut self, input: &[u8], out: &mut S) -> Result<(), S::Error> {
        let mut rest = input;
        while !rest.is_empty() {
            if self.held == 0 {
                // Whole lines straight from the input, without copying them first.
                if let Some((whole, after)) = rest.split_first_chunk::<LINE_BYTES>() {
                    put_line(out, whole)?;
                    rest = after;
                    continue;
                }
            }
            let take = (LINE_BYTES - self.held).min(rest.len());
            let (now, after) = rest.split_at_checked(take).unwrap_or((rest, &[]));
            if let Some(room) = self.line.get_mut(self.held..self.held + take) {
                room.copy_from_slice(now);
            }
            self.held += take;
            rest = after;
            if self.held == LINE_BYTES {
                self.held = 0;
                put_line(out, &self.line)?;
            }
        }
        Ok(())
    }

    /// Writes the last, shorter line (padded), if there is one. Empty input gives no output.
    pub fn finish<S: Sink + ?Sized>(&mut self, out: &mut S) -> Result<(), S::Error> {
        let held = core::mem::replace(&mut self.held, 0);
        match self.line.get(..held) {
            Some(rest) if !rest.is_empty() => put_line(out, rest),
            _ => Ok(()),
        }
    }
}

/// One line: the base64 of `bytes` (at most [`LINE_BYTES`]) and CRLF.
fn put_line<S: Sink + ?Sized>(out: &mut S, bytes: &[u8]) -> Result<(), S::Error> {
    let mut chars = [0u8; LINE_CHARS + 2];
    // At most 57 bytes make at most 76 characters: the buffer always holds them.
    let n = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut chars).unwrap_or(0);
    if let Some(end) = chars.get_mut(n..n + 2) {
        end.copy_from_slice(b"\r\n");
    }
    out.put(chars.get(..n + 2).unwrap_or_default())
}

/// The size of `n` bytes in base64 lines, CRLFs included; `None` past 4 GiB of input (a size
/// SIZE= could not declare anyway). 32-bit division: a 64-bit one links ~0.9 KB of
/// compiler-builtins on Cortex-M.
pub const fn encoded_len(n: u64) -> Option<u64> {
    if n > u32::MAX as u64 {
        return None;
    }
    let n = n as u32;
    let (whole, rest) = (n / LINE_BYTES as u32, n % LINE_BYTES as u32);
    let last = if rest == 0 { 0 } else { rest.div_ceil(3) * 4 + 2 };
    Some(whole as u64 * (LINE_CHARS as u64 + 2) + last as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    use crate::wire::out::VecSink;

    fn encode_chunks(chunks: &[&[u8]]) -> Vec<u8> {
        let mut sink = VecSink(Vec::new());
        let mut e = Base64Lines::new();
        for c in chunks {
            e.encode(c, &mut sink).unwrap();
        }
        e.finish(&mut sink).unwrap();
        sink.0
    }

    fn data(n: usize) -> Vec<u8> {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    fn decode(wire: &[u8]) -> Vec<u8> {
        let joined: Vec<u8> = wire.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
        base64::engine::general_purpose::STANDARD.decode(joined).unwrap()
    }

    fn assert_lines(wire: &[u8]) {
        if wire.is_empty() {
            return;
        }
        assert!(wire.ends_with(b"\r\n"));
        let lines: Vec<&[u8]> = wire.strip_suffix(b"\r\n").unwrap().split(|&b| b == b'\n').collect();
        for (i, line) in lines.iter().enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(line.len() <= LINE_CHARS, "line {i} has {} characters", line.len());
            if i + 1 < lines.len() {
                assert_eq!(line.len(), LINE_CHARS, "line {i} of a full line");
            }
            assert!(!line.starts_with(b"."));
        }
        assert!(!wire.windows(2).any(|w| w == b"=_"));
    }

    #[test]
    fn sizes_around_a_line_round_trip() {
        for n in [0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 1000, 4096] {
            let input = data(n);
            let wire = encode_chunks(&[&input]);
            assert_lines(&wire);
            assert_eq!(decode(&wire), input, "{n} bytes");
            assert_eq!(Some(wire.len() as u64), encoded_len(n as u64), "{n} bytes");
            assert_eq!(encoded_len(u64::from(u32::MAX) + 1), None);
        }
        assert_eq!(encode_chunks(&[b""]), b"");
        assert_eq!(encode_chunks(&[b"M"]), b"TQ==\r\n");
    }

    #[test]
    fn any_split_gives_the_same_lines() {
        let input = data(300);
        let whole = encode_chunks(&[&input]);
        for cut in 0..=input.len() {
            assert_eq!(encode_chunks(&[&input[..cut], &input[cut..]]), whole, "cut {cut}");
        }
        for size in [1, 2, 3, 5, 56, 57, 58, 100] {
            let chunks: Vec<&[u8]> = input.chunks(size).collect();
            assert_eq!(encode_chunks(&chunks), whole, "chunks of {size}");
        }
    }

    #[test]
    fn matches_the_crates_mime_engine() {
        // The reference: the crate's own encoding, wrapped at 76 characters.
        let input = data(10_000);
        let flat = base64::engine::general_purpose::STANDARD.encode(&input);
        let mut expected = Vec::new();
        for line in flat.as_bytes().chunks(LINE_CHARS) {
            expected.extend_from_slice(line);
            expected.extend_from_slice(b"\r\n");
        }
        assert_eq!(encode_chunks(&[&input]), expected);
    }
}
