//! The platform glue above the client: what an application on Zephyr (or the shim's POSIX
//! twin) needs besides the transport.
//!
//! - [`ShimConfig`]: the run-time configuration store (Kconfig defaults, settings overrides);
//! - [`ShimLogger`] / [`install_logger`]: a `log` backend writing to Zephyr's log;
//! - [`zsmtp_shim_send_mail`] (and `zsmtp_shim_send_mail_attached`, feature `mime`): the
//!   entry points of the `smtp send` shell command;
//! - [`ShimStorage`] (feature `outbox`): the outbox's storage in the shim (ZMS on a flash
//!   partition on Zephyr, a directory in the POSIX twin);
//! - [`ShimClock`], [`ShimMutex`], [`in_isr`]: the shim's clock, mutex and context check
//!   (from [`crate::sys`]);
//! - `netx`: what the NetX C API (feature `capi`) takes from the platform, for the shim and
//!   for the std host.
//!
//! It sits above [`crate::client`] (the shell command builds a `Client`) and beside
//! `crate::capi`, and gives `crate::outbox` a `Storage`; `tests/layers.rs` keeps the layers
//! below free of it.
#![allow(unsafe_code)]

#[cfg(feature = "zsock")]
mod config;
#[cfg(feature = "zsock")]
mod log;
#[cfg(feature = "capi")]
pub(crate) mod netx;
#[cfg(all(feature = "zsock", feature = "outbox"))]
mod outbox_store;
#[cfg(feature = "zsock")]
mod shell;

#[cfg(feature = "zsock")]
pub use config::{configured_timing, ConfigError, ConfigProblem, ShimConfig, RX_BUFFER_SIZE, TX_BUFFER_SIZE};
#[cfg(feature = "zsock")]
pub use log::{install_logger, ShimLogger, SHIM_LOGGER};
#[cfg(all(feature = "zsock", feature = "outbox"))]
pub use outbox_store::{OpenError as OutboxOpenError, ShimStorage};
#[cfg(feature = "zsock")]
pub use shell::zsmtp_shim_send_mail;
#[cfg(all(feature = "zsock", feature = "mime"))]
pub use shell::{zsmtp_shim_send_mail_attached, ShimReadFn};
#[cfg(feature = "zsock")]
pub use crate::sys::{in_isr, ShimClock, ShimMutex};
