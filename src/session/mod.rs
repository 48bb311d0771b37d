//! The session engine (stub; being written).
use crate::client::{Config, Mail, Sent};
use crate::error::{Error, ServerReply};
use crate::transport::{Clock, Transport};

/// Smallest receive buffer: one RFC 5321 reply line (512 bytes).
pub const MIN_RX: usize = 512;
/// Smallest transmit buffer: the longest command (MAIL FROM with a 256-byte path and
/// parameters, or AUTH PLAIN with its response) must fit.
pub const MIN_TX: usize = 512;

/// Everything one send borrows: the link, the clock and the buffers of a client.
pub struct Parts<'p, T: Transport, K: Clock> {
    pub transport: &'p mut T,
    pub clock: &'p mut K,
    pub rx: &'p mut [u8],
    pub tx: &'p mut [u8],
    /// Receives the reply that decided the outcome.
    pub last_reply: &'p mut Option<ServerReply>,
    /// A per-client counter that makes Message-IDs unique.
    pub sequence: u32,
}

/// Sends one mail over a new connection and closes it, whatever happens.
pub fn send<T: Transport, K: Clock, R: embedded_io::Read>(
    _parts: Parts<'_, T, K>,
    _config: &Config<'_>,
    _mail: &Mail<'_>,
    _body: R,
) -> Result<Sent, Error> {
    todo!()
}
