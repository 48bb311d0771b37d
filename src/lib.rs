//! zsmtp: an SMTP client for Zephyr RTOS, `no_std` and allocation-free.
//!
//! Layers (see docs/ARCHITECTURE.md):
//! - [`wire`]: pure parsing and encoding, no I/O (replies, EHLO capabilities, commands,
//!   headers, the streaming body encoder, input validation);
//! - [`session`]: the engine that drives one SMTP dialogue over a [`Transport`];
//! - [`client`]: the idiomatic Rust API (configuration, mail builder, client);
//! - [`transport`]: the socket boundary (host std sockets; Zephyr through the C shim);
//! - `sys` (feature `zsock`): the platform shim's C functions, declared once, and the safe
//!   wrappers that are their only users;
//! - `platform`: the glue above the client (configuration store, logger, shell command, the C
//!   API's platform adapters);
//! - [`outbox`] (feature `outbox`): mails queued durably and delivered later, over the client;
//! - `capi`: NetX Duo's C API (`nxd_smtp_client_create`, ...), behind the `capi` feature.
//!
//! `unsafe` is allowed only at the edges: `sys`, `platform` and `capi`.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_code)]
#![forbid(unsafe_op_in_unsafe_fn)]
// The public `Error` carries the server's reply text by design (about 140 bytes). It is made
// once, at the end of a send; inside the engine errors are the 3-byte `session::Fault`.
#![allow(clippy::result_large_err)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

/// `log::debug!` for the SMTP dialogue, compiled only when [`limits::LOG_DIALOGUE`] is set
/// (CONFIG_SMTP_CLIENT_LOG_LEVEL = DBG): otherwise the formatting code is not in the image.
macro_rules! dialogue {
    ($($arg:tt)+) => {
        if $crate::limits::LOG_DIALOGUE {
            log::debug!($($arg)+)
        }
    };
}

pub mod client;
pub mod error;
pub mod limits;
pub mod session;
pub mod transport;
pub mod wire;

#[cfg(feature = "outbox")]
pub mod outbox;

#[cfg(feature = "zsock")]
pub mod sys;

#[cfg(any(feature = "zsock", feature = "capi"))]
pub mod platform;

#[cfg(feature = "capi")]
pub mod capi;

pub use client::{Auth, Client, Config, Connection, Mail, Priority, Sent, Timeouts, TlsMode};
#[cfg(feature = "mime")]
pub use client::{Attachment, AttachmentSource};
#[cfg(feature = "oauth2")]
pub use client::{TokenSource, TokenUnavailable};
pub use error::{status, Error, ErrorKind, Field, Invalid, Phase, ServerReply};
pub use transport::{Clock, TlsError, Transport};
