//! The EHLO capability parser against a reference written from its specification:
//! keywords and mechanisms are whole tokens (space or tab separated) compared without
//! regard to case; "AUTH=" glues the first mechanism; SIZE takes the next token when it is
//! a decimal that fits (else 0). Never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zsmtp::wire::ehlo::{AuthMechanisms, Capabilities};

fn reference(lines: &[&[u8]]) -> Capabilities {
    let mut c = Capabilities::NONE;
    for line in lines {
        let tokens: Vec<&[u8]> = line.split(|&b| b == b' ' || b == b'\t').filter(|t| !t.is_empty()).collect();
        let Some((keyword, rest)) = tokens.split_first() else { continue };
        let upper = keyword.to_ascii_uppercase();
        let mechanisms: Option<Vec<&[u8]>> = if upper == b"AUTH" {
            Some(rest.to_vec())
        } else if upper.starts_with(b"AUTH=") {
            let first = &keyword[5..];
            Some(std::iter::once(first).filter(|t| !t.is_empty()).chain(rest.iter().copied()).collect())
        } else {
            None
        };
        if let Some(mechanisms) = mechanisms {
            c.auth.advertised = true;
            for m in mechanisms {
                match m.to_ascii_uppercase().as_slice() {
                    b"PLAIN" => c.auth.plain = true,
                    b"LOGIN" => c.auth.login = true,
                    _ => {}
                }
            }
            continue;
        }
        match upper.as_slice() {
            b"PIPELINING" => c.pipelining = true,
            b"SIZE" => {
                let n = rest.first().and_then(|t| {
                    let s = std::str::from_utf8(t).ok()?;
                    (s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten()
                });
                c.size = Some(n.unwrap_or(0));
            }
            b"8BITMIME" => c.eight_bit_mime = true,
            b"SMTPUTF8" => c.smtputf8 = true,
            b"ENHANCEDSTATUSCODES" => c.enhanced_status_codes = true,
            b"STARTTLS" => c.starttls = true,
            _ => {}
        }
    }
    c
}

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let mut caps = Capabilities::NONE;
    for line in &lines {
        caps.add_line(line);
    }
    assert_eq!(caps, reference(&lines), "lines {lines:?}");
    // Offered mechanisms imply an AUTH line.
    let AuthMechanisms { advertised, plain, login } = caps.auth;
    assert!(advertised || !(plain || login));
});
