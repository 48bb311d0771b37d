//! The reply parser: `parse_line` over whatever bytes have arrived and `ReplyTracker` over
//! the lines. Never panics; a line is reported only when complete, with a code of 2xx-5xx
//! and text without line ends; a line that is incomplete in a prefix is "wait" (never an
//! early result), an error visible in a prefix stays an error; parsing in pieces gives the
//! same lines as parsing at once; enhanced codes agree with the reply's class.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zsmtp::wire::reply::{parse_enhanced, parse_line, ReplyError, ReplyTracker};

/// Lines (code, last, text) parsed from `data` at once, then the error if one stopped it.
fn parse_all(data: &[u8]) -> (Vec<(u16, bool, Vec<u8>)>, Option<ReplyError>) {
    let mut lines = Vec::new();
    let mut at = 0;
    loop {
        match parse_line(&data[at..]) {
            Ok(Some((line, used))) => {
                assert!(used > 0 && used <= data.len() - at, "used {used} of {}", data.len() - at);
                assert_eq!(data[at + used - 1], b'\n', "a line ends with LF");
                assert!((200..600).contains(&line.code), "code {}", line.code);
                // The text never holds a line end (a stray CR inside it is tolerated: it only
                // reaches ServerReply, which keeps printable ASCII, and capability tokens).
                assert!(!line.text.contains(&b'\n'), "LF inside the text");
                assert!(used >= line.text.len() + 4, "text longer than its line");
                // Every shorter prefix of this line is "not complete yet" or an error that
                // the whole line would also give: here the whole line parsed, so no error.
                for cut in [0, 1, 2, 3, 4, used / 2, used - 1] {
                    if cut < used {
                        assert_eq!(parse_line(&data[at..at + cut]), Ok(None), "prefix of {cut} bytes");
                    }
                }
                if let Some(e) = parse_enhanced(line.code, line.text) {
                    assert_eq!(u16::from(e.class), line.code / 100);
                }
                lines.push((line.code, line.last, line.text.to_vec()));
                at += used;
            }
            Ok(None) => return (lines, None),
            Err(e) => {
                // Errors are stable: more bytes never turn them into a line.
                let mut longer = data[at..].to_vec();
                longer.extend_from_slice(b"\r\n250 more\r\n");
                assert!(parse_line(&longer).is_err(), "an error became a line with more bytes");
                return (lines, Some(e));
            }
        }
    }
}

/// The same, fed in pieces of `piece` bytes through a buffer of `cap` bytes, as the link
/// reads them. Stops when a line no longer fits (the link's ReplyTooLong).
fn parse_in_pieces(data: &[u8], piece: usize, cap: usize) -> (Vec<(u16, bool, Vec<u8>)>, Option<ReplyError>, bool) {
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    let mut lines = Vec::new();
    loop {
        match parse_line(&buf) {
            Ok(Some((line, used))) => {
                lines.push((line.code, line.last, line.text.to_vec()));
                buf.drain(..used);
            }
            Ok(None) => {
                if fed == data.len() {
                    return (lines, None, false);
                }
                if buf.len() >= cap {
                    return (lines, None, true);
                }
                let n = piece.min(data.len() - fed).min(cap - buf.len());
                buf.extend_from_slice(&data[fed..fed + n]);
                fed += n;
            }
            Err(e) => return (lines, Some(e), false),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else { return };
    let (lines, error) = parse_all(data);

    let piece = usize::from(control & 0x3f) + 1;
    let (pieces, piece_error, too_long) = parse_in_pieces(data, piece, 512);
    if too_long {
        assert!(pieces.len() <= lines.len() && lines[..pieces.len()] == pieces[..]);
    } else {
        assert_eq!(pieces, lines, "pieces of {piece} bytes");
        assert_eq!(piece_error, error);
    }

    // The tracker: one code per reply, a reply ends at its last line.
    let mut tracker = ReplyTracker::new();
    for (code, last, text) in &lines {
        let line = zsmtp::wire::reply::ReplyLine { code: *code, last: *last, text };
        let before = tracker.lines();
        match tracker.feed(&line) {
            Ok(done) => {
                assert_eq!(done, *last);
                assert_eq!(tracker.lines(), before + 1);
                if done {
                    tracker = ReplyTracker::new();
                }
            }
            Err(e) => {
                assert_eq!(e, ReplyError::CodeMismatch);
                assert!(before > 0);
                tracker = ReplyTracker::new();
            }
        }
    }
});
