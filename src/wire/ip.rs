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

    #[test]
    fn ip_text_never_overruns() {
        let mut small = [0u8; 5];
        assert_eq!(format_ipv6([0x2001_0db8, 1, 1, 1], &mut Out::new(&mut small)), Err(Full));
        assert_eq!(format_ipv4(0xFFFF_FFFF, &mut Out::new(&mut small)), Err(Full));
    }
}
