//! IP addresses as text (RFC 5952 for IPv6), without `core::fmt`: the C API gives the server
//! as an address, and the connection wants its name.

use super::out::{Full, Out, Sink};

/// Room for the longest IPv6 text form (39) and then some.
pub const IP_TEXT_MAX: usize = 46;

/// Writes `a.b.c.d` for a host-order IPv4 word (no core::fmt).
pub fn format_ipv4(v4: u32, out: &mut Out<'_>) -> Result<(), Full> {
    for (i, octet) in v4.to_be_bytes().iter().enumerate() {
        if i > 0 {
            out.put(b".")?;
        }
        out.put_decimal(u32::from(*octet))?;
    }
    Ok(())
}

/// Writes the RFC 5952 text form of an IPv6 address given as four host-order words (most
/// significant first): lower-case hex, no leading zeros, the longest run of two or more
/// zero groups (the first on a tie) as `::` (no core::fmt).
pub fn format_ipv6(words: [u32; 4], out: &mut Out<'_>) -> Result<(), Full> {
    let mut groups = [0u16; 8];
    for (pair, word) in groups.chunks_exact_mut(2).zip(words) {
        if let [high, low] = pair {
            *high = (word >> 16) as u16;
            *low = (word & 0xFFFF) as u16;
        }
    }
    // The longest run of zero groups (the first one on a tie: only a longer run replaces it).
    let (mut best_start, mut best_len) = (8usize, 0usize);
    let (mut run_start, mut run_len) = (0usize, 0usize);
    for (i, &group) in groups.iter().enumerate() {
        if group != 0 {
            run_len = 0;
            continue;
        }
        if run_len == 0 {
            run_start = i;
        }
        run_len += 1;
        if run_len > best_len {
            best_start = run_start;
            best_len = run_len;
        }
    }
    if best_len < 2 {
        best_start = 8;
        best_len = 0;
    }
    for (i, &group) in groups.iter().enumerate() {
        if (best_start..best_start + best_len).contains(&i) {
            if i == best_start {
                out.put(b"::")?;
            }
            continue;
        }
        if i > 0 && i != best_start + best_len {
            out.put(b":")?;
        }
        out.put_hex(u64::from(group))?;
    }
    Ok(())
}

/// The low 32 bits of a word.
fn low32<W: Into<u64>>(w: W) -> u32 {
    (w.into() & 0xFFFF_FFFF) as u32
}

/// Room for the longest address text (IPv6, 39 bytes) and the NUL after it.
pub const ADDRESS_TEXT_LEN: usize = 48;

/// Writes an address as text with a NUL after it into `out`; its length without the NUL.
/// `words`: IPv4 in `words[0]`, or IPv6 as four words, most significant first; of any
/// unsigned type whose low 32 bits hold the word (C's `ULONG` is 32 or 64 bits wide).
///
/// One primitive for both C API profiles, with two bodies: the full profile's writes the
/// RFC 5952 form ([`format_ipv4`], [`format_ipv6`]); the small profile's (feature `small`)
/// writes IPv6 as eight groups without `::` (every resolver reads both) in one loop for IPv4
/// and IPv6, which is less code.
#[cfg(not(feature = "small"))]
pub fn address_text<W: Copy + Into<u64>>(v6: bool, words: &[W; 4], out: &mut [u8; ADDRESS_TEXT_LEN]) -> usize {
    let words = words.map(low32);
    let mut text = Out::new(&mut out[..IP_TEXT_MAX]);
    // IP_TEXT_MAX holds the longest form: neither write can run out of room.
    let _ = if v6 { format_ipv6(words, &mut text) } else { format_ipv4(words[0], &mut text) };
    let len = text.len();
    if let Some(nul) = out.get_mut(len) {
        *nul = 0;
    }
    len
}

/// The small profile's body of [`address_text`] (see there).
#[cfg(feature = "small")]
pub fn address_text<W: Copy + Into<u64>>(v6: bool, words: &[W; 4], out: &mut [u8; ADDRESS_TEXT_LEN]) -> usize {
    let (units, bits, base, separator) = if v6 { (8, 16, 16, b':') } else { (4, 8, 10, b'.') };
    let mut at = 0;
    let mut push = |b: u8| {
        if let Some(slot) = out.get_mut(at) {
            *slot = b;
            at += 1;
        }
    };
    for i in 0..units {
        let word = words.get(i * bits / 32).map_or(0, |&w| low32(w));
        let unit = word >> (32 - bits - i * bits % 32) & ((1 << bits) - 1);
        if i > 0 {
            push(separator);
        }
        let mut digits = [0u8; 5];
        let mut n = 0;
        let mut rest = unit;
        while let Some(d) = digits.get_mut(n) {
            *d = (rest % base) as u8;
            rest /= base;
            n += 1;
            if rest == 0 {
                break;
            }
        }
        for &d in digits.get(..n).unwrap_or_default().iter().rev() {
            push(if d < 10 { b'0' + d } else { b'a' + d - 10 });
        }
    }
    push(0);
    at - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn v4(w: u32) -> String {
        let mut b = [0u8; IP_TEXT_MAX];
        let mut out = Out::new(&mut b);
        format_ipv4(w, &mut out).unwrap();
        String::from_utf8(out.as_bytes().to_vec()).unwrap()
    }

    fn v6(w: [u32; 4]) -> String {
        let mut b = [0u8; IP_TEXT_MAX];
        let mut out = Out::new(&mut b);
        format_ipv6(w, &mut out).unwrap();
        String::from_utf8(out.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn ipv4_text() {
        assert_eq!(v4(0x7F00_0001), "127.0.0.1");
        assert_eq!(v4(0), "0.0.0.0");
        assert_eq!(v4(0xFFFF_FFFF), "255.255.255.255");
        assert_eq!(v4(0x0A64_0A09), "10.100.10.9");
        for w in [0x0102_0304u32, 0xC0A8_0001, 0x6464_6464, 0x0909_6363] {
            let parsed: std::net::Ipv4Addr = v4(w).parse().unwrap();
            assert_eq!(u32::from(parsed), w);
        }
    }

    #[test]
    fn ipv6_text() {
        assert_eq!(v6([0, 0, 0, 1]), "::1");
        assert_eq!(v6([0, 0, 0, 0]), "::");
        assert_eq!(v6([0x2001_0db8, 0xf101, 0, 0x106]), "2001:db8:0:f101::106");
        assert_eq!(v6([0x2001_0db8, 0, 0, 1]), "2001:db8::1");
        // A single zero group is not compressed; the first of two equal runs is.
        assert_eq!(v6([0x2001_0db8, 0x0001_0001, 0x0001_0001, 0x0001_0000]), "2001:db8:1:1:1:1:1:0");
        assert_eq!(v6([0x2001_0000, 0x0001_0000, 0x0001_0000, 0x0001]), "2001:0:1:0:1::1");
        assert_eq!(v6([0x2001_0db8, 0, 0x0001_0000, 0x0000_0001]), "2001:db8::1:0:0:1");
        assert_eq!(v6([0xffff_ffff; 4]), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        assert_eq!(v6([0, 0, 0xffff, 0x7f00_0001]), "::ffff:7f00:1");
        // Round trip through std's parser for a spread of values.
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            let mut w = [0u32; 4];
            for word in &mut w {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Zero groups often, to exercise compression.
                *word = if x & 3 == 0 { 0 } else if x & 3 == 1 { x & 0xFFFF } else { x };
            }
            let text = v6(w);
            let parsed: std::net::Ipv6Addr = text.parse().unwrap();
            let octets = parsed.octets();
            for (i, word) in w.iter().enumerate() {
                assert_eq!(u32::from_be_bytes(octets[4 * i..4 * i + 4].try_into().unwrap()), *word, "{text}");
            }
            if parsed.to_ipv4_mapped().is_none() {
                assert_eq!(text, parsed.to_string(), "RFC 5952 form");
            }
        }
    }

    fn text(v6: bool, words: [u32; 4]) -> String {
        let mut out = [0xAAu8; ADDRESS_TEXT_LEN];
        let len = address_text(v6, &words, &mut out);
        assert_eq!(out[len], 0, "a NUL after the text");
        String::from_utf8(out[..len].to_vec()).unwrap()
    }

    #[test]
    fn address_text_of_either_profile() {
        assert_eq!(text(false, [0xC000_0219, 9, 9, 9]), "192.0.2.25");
        assert_eq!(text(false, [0xFFFF_FFFF, 0, 0, 0]), "255.255.255.255");
        assert_eq!(text(false, [0, 0, 0, 0]), "0.0.0.0");
        let longest = text(true, [0xffff_ffff; 4]);
        assert_eq!(longest, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        // Whatever the body, the text reads back as the same address.
        for w in [[0x2001_0db8, 0, 0, 1], [0, 0, 0, 1], [0x2001_0db8, 0xf101, 0, 0x106]] {
            let parsed: std::net::Ipv6Addr = text(true, w).parse().unwrap();
            assert_eq!(parsed.octets(), std::net::Ipv6Addr::from(((w[0] as u128) << 96) | ((w[1] as u128) << 64) | ((w[2] as u128) << 32) | w[3] as u128).octets());
        }
        if cfg!(feature = "small") {
            assert_eq!(text(true, [0x2001_0db8, 0, 0, 1]), "2001:db8:0:0:0:0:0:1");
        } else {
            assert_eq!(text(true, [0x2001_0db8, 0, 0, 1]), "2001:db8::1");
        }
    }

    #[test]
    fn ip_text_never_overruns() {
        let mut small = [0u8; 5];
        assert_eq!(format_ipv6([0x2001_0db8, 1, 1, 1], &mut Out::new(&mut small)), Err(Full));
        assert_eq!(format_ipv4(0xFFFF_FFFF, &mut Out::new(&mut small)), Err(Full));
    }
}
