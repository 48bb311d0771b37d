//! The body encoder. Properties: never panics; chunk boundaries never change the output;
//! the output has no bare CR or LF, no lone "." line before the end, and ends with the
//! terminator; un-stuffing it gives back the CRLF-normalised input; NUL and only NUL is
//! refused as a control byte; a line is refused only when it is longer than 998 bytes;
//! `encoded_size` agrees with the bytes written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zsmtp::wire::body::{encoded_size, BodyEncoder, BodyError, MAX_LINE};
use zsmtp_fuzz::{normalise, unstuff, VecSink};

fn encode_chunks(chunks: &[&[u8]]) -> Result<Vec<u8>, BodyError<core::convert::Infallible>> {
    let mut sink = VecSink::default();
    let mut encoder = BodyEncoder::new();
    for chunk in chunks {
        encoder.encode(chunk, &mut sink)?;
    }
    encoder.finish(&mut sink)?;
    Ok(sink.0)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, body)) = input.split_first() else { return };
    let whole = encode_chunks(&[body]);

    // Chunk boundaries: fixed-size pieces, and cuts at every CR and LF (the hard places).
    let size = usize::from(control % 17) + 1;
    let pieces: Vec<&[u8]> = body.chunks(size).collect();
    assert_eq!(encode_chunks(&pieces), whole, "chunks of {size}");
    let mut cuts: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    for (i, &b) in body.iter().enumerate() {
        if b == b'\r' || b == b'\n' {
            cuts.push(&body[start..i]);
            cuts.push(&body[i..=i]);
            start = i + 1;
        }
    }
    cuts.push(&body[start..]);
    assert_eq!(encode_chunks(&cuts), whole, "cut at line ends");

    let normalised = normalise(body);
    let longest = normalised.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l).len()).max().unwrap_or(0);
    match &whole {
        Ok(wire) => {
            assert!(!body.contains(&0), "NUL accepted");
            assert!(longest <= MAX_LINE, "a line of {longest} bytes accepted");
            match unstuff(wire) {
                Ok(text) => assert_eq!(text, normalised, "round trip"),
                Err(why) => panic!("unclean wire: {why}"),
            }
            assert_eq!(encoded_size(body), Ok(wire.len() as u64));
        }
        Err(BodyError::Nul) => assert!(body.contains(&0)),
        Err(BodyError::LineTooLong) => assert!(longest > MAX_LINE, "refused a line of {longest} bytes"),
        Err(BodyError::Sink(never)) => match *never {},
    }
    if !body.contains(&0) && longest <= MAX_LINE {
        assert!(whole.is_ok(), "refused a valid body: {whole:?}");
    }
});
