//! Where a mail's body comes from: memory (checked whole before anything is sent) or a
//! reader (checked line by line as it streams).

use super::{check, Fault};
use crate::error::{ErrorKind, Phase};

/// Where a mail's body comes from.
pub trait BodySource {
    /// Checks the body before anything is sent; its size on the wire when known.
    fn check(&self) -> Result<Option<u64>, Fault>;
    /// The next chunk of text (empty at the end); `scratch` is free memory to read into.
    fn next_chunk<'s>(&'s mut self, scratch: &'s mut [u8]) -> Result<&'s [u8], Fault>;
}

/// A body in memory: checked whole before sending, encoded without copying.
impl BodySource for &[u8] {
    fn check(&self) -> Result<Option<u64>, Fault> {
        check::body_bytes(self).map(Some)
    }

    fn next_chunk<'s>(&'s mut self, _scratch: &'s mut [u8]) -> Result<&'s [u8], Fault> {
        Ok(core::mem::take(self))
    }
}

/// A body streamed from a reader, checked line by line as it goes.
pub struct ReaderBody<R>(pub R);

impl<R: embedded_io::Read> BodySource for ReaderBody<R> {
    fn check(&self) -> Result<Option<u64>, Fault> {
        Ok(None)
    }

    fn next_chunk<'s>(&'s mut self, scratch: &'s mut [u8]) -> Result<&'s [u8], Fault> {
        let n = self.0.read(scratch).map_err(|_| Fault::new(ErrorKind::BodyRead, Phase::Message))?;
        Ok(scratch.get(..n).unwrap_or(&[]))
    }
}
