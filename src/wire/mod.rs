//! The wire layer: pure functions and small state machines over byte slices. No I/O, no
//! clock, no allocation; every piece is unit-tested on its own (the smoltcp idea).
//!
//! - [`reply`]: incremental reply-line parser and enhanced status codes;
//! - [`ehlo`]: EHLO capabilities by keyword and token;
//! - [`command`]: SMTP command writer into a bounded buffer;
//! - [`header`]: message header writer (RFC 2047 subject, Date, Message-ID, priority);
//! - [`body`]: streaming body encoder (CRLF normalisation, dot-stuffing, terminator);
//! - [`syntax`]: field syntax checks (addresses, domains, subjects, credentials);
//! - [`ip`]: IPv4 and IPv6 addresses as text;
//! - `oauth` (feature `oauth2`): the XOAUTH2 and OAUTHBEARER responses and the error challenge;
//! - [`out`]: the bounded output buffer all writers share.

pub mod body;
pub mod command;
pub mod ehlo;
pub mod header;
pub mod ip;
#[cfg(feature = "oauth2")]
pub mod oauth;
pub mod out;
pub mod reply;
pub mod syntax;
