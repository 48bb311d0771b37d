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
//! - [`out`]: the bounded output buffer all writers share;
//! - [`mime`] (feature `mime`): boundaries, part headers, file names and content types;
//! - [`base64_lines`] (feature `mime`): streaming base64 in 76-character lines;
//! - [`quoted_printable`] (feature `mime`): streaming quoted-printable for text parts.

#[cfg(feature = "mime")]
pub mod base64_lines;
pub mod body;
pub mod command;
pub mod ehlo;
pub mod header;
pub mod ip;
#[cfg(feature = "mime")]
pub mod mime;
#[cfg(feature = "oauth2")]
pub mod oauth;
pub mod out;
#[cfg(feature = "mime")]
pub mod quoted_printable;
pub mod reply;
pub mod syntax;
