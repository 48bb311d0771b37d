//! [`Fault`]: the engine's own error, small and `Copy`; it becomes the public [`Error`] once,
//! at the end of a send.

use crate::error::{Error, ErrorKind, Field, Invalid, Phase};
use crate::wire::body::BodyError;

/// The engine's error while a send runs: small and `Copy`, so it travels cheaply through
/// nested calls on a small stack. The server's reply text stays in the session and joins
/// it once, when the public [`Error`] is made at the end of the send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: ErrorKind,
    pub phase: Phase,
}

impl Fault {
    pub const fn new(kind: ErrorKind, phase: Phase) -> Self {
        Fault { kind, phase }
    }

    /// The fault of a body the encoder refused (or of the sink it writes to).
    pub fn of_body(e: BodyError<Fault>) -> Fault {
        match e {
            BodyError::Sink(e) => e,
            BodyError::LineTooLong => Fault::new(ErrorKind::InvalidInput(Field::Body, Invalid::TooLong), Phase::Message),
            BodyError::Nul => Fault::new(ErrorKind::InvalidInput(Field::Body, Invalid::ControlCharacter), Phase::Message),
        }
    }
}

impl From<Fault> for Error {
    fn from(f: Fault) -> Self {
        Error::new(f.kind, f.phase)
    }
}
