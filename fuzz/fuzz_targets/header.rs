//! The header writer, fed with fuzzed fields that pass validation (as the engine's are).
//! Properties: never panics; every line ends with CRLF and no CR or LF appears otherwise;
//! no empty line before the end of the block (which would end the headers early and turn
//! the rest into body); continuation lines start with a space; no line passes 998 bytes;
//! exactly one From, Subject and Message-ID; Bcc never; the subject decodes back to itself.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use zsmtp::wire::header::{write, Headers, TEXT_PLAIN};
use zsmtp::wire::syntax;
use zsmtp::Priority;
use zsmtp_fuzz::{Bytes, VecSink};

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).into_owned()
}

fuzz_target!(|input: &[u8]| {
    let mut b = Bytes::new(input);
    let priority = [Priority::Low, Priority::Normal, Priority::High][usize::from(b.byte() % 3)];
    let date = (b.byte() & 1 == 1).then(|| b.u64() as u32);
    let message_id = (b.u64(), b.u64() as u32, b.u64() as u32);
    let from = text(b.field(0x1f));
    let subject = text(b.field(0x1f));
    let to_field = text(b.field(0x1f));
    let cc_field = text(b.rest());

    let from = syntax::address_str(&from).unwrap_or("device@example.com").to_string();
    let subject = if syntax::subject(subject.as_bytes()).is_ok() { subject } else { "fallback".to_string() };
    let to: Vec<&str> = to_field.split(',').filter(|a| syntax::address(a.as_bytes()).is_ok()).take(64).collect();
    let cc: Vec<&str> = cc_field.split(',').filter(|a| syntax::address(a.as_bytes()).is_ok()).take(64).collect();
    let headers = Headers { from: &from, to: &to, cc: &cc, subject: &subject, priority, date, message_id, content: TEXT_PLAIN };

    let mut sink = VecSink::default();
    let Ok(()) = write(&mut sink, &headers);
    let block = sink.0;

    assert!(block.ends_with(b"\r\n\r\n"), "block end");
    for (i, &c) in block.iter().enumerate() {
        if c == b'\r' {
            assert_eq!(block.get(i + 1), Some(&b'\n'), "bare CR at {i}");
        }
        if c == b'\n' {
            assert!(i > 0 && block[i - 1] == b'\r', "bare LF at {i}");
        }
        assert!(c != 0, "NUL in the header block");
    }
    let body = &block[..block.len() - 2];
    let lines: Vec<&[u8]> = body.split(|&c| c == b'\n').filter(|l| !l.is_empty()).map(|l| l.strip_suffix(b"\r").expect("CRLF")).collect();
    let mut names: Vec<String> = Vec::new();
    for line in &lines {
        assert!(!line.is_empty(), "an empty line inside the header block ends it early");
        assert!(line.len() <= 998, "a header line of {} bytes", line.len());
        if line[0] == b' ' || line[0] == b'\t' {
            assert!(!names.is_empty(), "continuation before any header");
            continue;
        }
        let colon = line.iter().position(|&c| c == b':').expect("header name");
        let name = String::from_utf8(line[..colon].to_vec()).expect("ASCII name");
        assert!(name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'), "name {name:?}");
        names.push(name.to_ascii_lowercase());
    }
    for once in ["from", "subject", "message-id", "mime-version", "content-type"] {
        assert_eq!(names.iter().filter(|n| n.as_str() == once).count(), 1, "{once} in {names:?}");
    }
    assert!(!names.iter().any(|n| n == "bcc"));
    assert_eq!(names.iter().any(|n| n == "to"), !to.is_empty());
    assert_eq!(names.iter().any(|n| n == "cc"), !cc.is_empty());
    assert_eq!(names.iter().any(|n| n == "date"), date.is_some());

    // The subject comes back: as written, or decoded from its encoded words.
    let start = lines.iter().position(|l| l.starts_with(b"Subject: ")).expect("Subject");
    let mut value: Vec<u8> = lines[start][9..].to_vec();
    for more in lines[start + 1..].iter().take_while(|l| l.first() == Some(&b' ')) {
        value.extend_from_slice(b"\r\n");
        value.extend_from_slice(more);
    }
    let decoded = if value.starts_with(b"=?utf-8?B?") {
        let mut out = Vec::new();
        for word in value.split(|&c| c == b'\n') {
            let word = word.strip_prefix(b" ").unwrap_or(word);
            let word = word.strip_suffix(b"\r").unwrap_or(word);
            let inner = word.strip_prefix(b"=?utf-8?B?").and_then(|w| w.strip_suffix(b"?=")).expect("encoded word");
            out.extend(base64::engine::general_purpose::STANDARD.decode(inner).expect("base64"));
        }
        out
    } else {
        value
    };
    assert_eq!(decoded, subject.as_bytes(), "subject round trip");
});
