//! Where a mail's body comes from: memory (checked whole before anything is sent), a reader
//! (checked line by line as it streams), or, with the feature `mime`, a MIME message
//! (`super::mime`: text, HTML alternative, attachments).

use super::{check, Fault};
use crate::error::{ErrorKind, Phase};
use crate::wire::header;
use crate::wire::out::Sink;

/// Where a mail's body comes from, and what the header block says about it.
///
/// The engine calls, in order: [`check`](BodySource::check) before connecting,
/// [`fit`](BodySource::fit) once the server's EHLO is known, [`content_headers`](BodySource::content_headers)
/// for the header block (and for its size), and [`write_text`](BodySource::write_text) after DATA.
pub trait BodySource {
    /// Checks the body before anything is sent; its size on the wire when known.
    fn check(&self) -> Result<Option<u64>, Fault>;

    /// Fits the body to the server (`eight_bit_mime`: it takes 8-bit text) and returns its size
    /// on the wire (dot-stuffing and terminator included) when known. The default: a body sent
    /// as it is, whose size [`check`](BodySource::check) gave (`checked`).
    fn fit(&mut self, eight_bit_mime: bool, checked: Option<u64>) -> Option<u64> {
        let _ = eight_bit_mime;
        checked
    }

    /// The MIME header lines of the header block. The default: UTF-8 text, 8bit.
    fn content_headers(&self) -> &'static [u8] {
        header::TEXT_PLAIN
    }

    /// Writes the body's text to `out`, which encodes it for DATA (CRLF line ends,
    /// dot-stuffing, the line length limit); `scratch` is free memory to read into.
    fn write_text<S: Sink<Error = Fault>>(&mut self, out: &mut S, scratch: &mut [u8]) -> Result<(), Fault>;
}

/// A body in memory: checked whole before sending, encoded without copying.
impl BodySource for &[u8] {
    fn check(&self) -> Result<Option<u64>, Fault> {
        check::body_bytes(self).map(Some)
    }

    fn write_text<S: Sink<Error = Fault>>(&mut self, out: &mut S, _scratch: &mut [u8]) -> Result<(), Fault> {
        out.put(core::mem::take(self))
    }
}

/// A body streamed from a reader, checked line by line as it goes.
pub struct ReaderBody<R>(pub R);

impl<R: embedded_io::Read> BodySource for ReaderBody<R> {
    fn check(&self) -> Result<Option<u64>, Fault> {
        Ok(None)
    }

    fn write_text<S: Sink<Error = Fault>>(&mut self, out: &mut S, scratch: &mut [u8]) -> Result<(), Fault> {
        loop {
            let n = self.0.read(scratch).map_err(|_| Fault::new(ErrorKind::BodyRead, Phase::Message))?;
            match scratch.get(..n) {
                Some(chunk) if !chunk.is_empty() => out.put(chunk)?,
                _ => return Ok(()),
            }
        }
    }
}
