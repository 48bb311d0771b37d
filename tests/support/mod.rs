//! Code the test suites share, each kind in one place:
//! - [`server`]: a scripted SMTP server over loopback TCP, and [`Seen`], what a scripted server
//!   (plain or TLS) saw;
//! - [`tls_server`]: the same over TLS (rustls), for STARTTLS and implicit TLS;
//! - [`pki`]: test certificates (rcgen) and the server configurations built on them;
//! - [`capi`]: a NetX C API client from a test (create, send, last reply, delete);
//! - [`faults`]: the fault table (every security x mode x phase x fault), generic over what it
//!   drives;
//! - [`netx`]: NetX Duo's regression fixture;
//! - [`live`]: the real servers of the live suites (tests/live_*.rs): where their mail lands;
//! - [`io`]: reading until a delimiter, base64, descriptor counts;
//! - [`peer`]: a small SMTP peer that decides each recipient and message by a rule (the
//!   outbox tests, whose retries no fixed script can follow);
//! - `outbox` (feature `outbox`): the outbox suites' client and delivery loop;
//! - [`readers`]: deterministic random bytes and a failing reader, for attachments.
#![allow(dead_code)] // Each test binary uses a part of this.

pub mod capi;
pub mod faults;
pub mod io;
pub mod live;
pub mod netx;
#[cfg(feature = "outbox")]
pub mod outbox;
pub mod peer;
pub mod pki;
pub mod readers;
pub mod server;
pub mod tls_server;

#[allow(unused_imports)] // Not every test binary uses them.
pub use io::{b64, open_fds};
#[allow(unused_imports)]
pub use server::*;
