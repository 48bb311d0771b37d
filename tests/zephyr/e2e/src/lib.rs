// SPDX-License-Identifier: Apache-2.0

//! zsmtp end-to-end test application: loads the run-time configuration and leaves the rest to
//! the shell ("smtp config set", "smtp send"), which pytest/test_e2e.py drives against a real
//! SMTP server on the host's loopback (native_sim/native/64, sockets offloaded to the host).
#![no_std]

use zephyr::printkln;
use zsmtp::platform::{install_logger, ShimConfig};

#[no_mangle]
extern "C" fn rust_main() {
    // SAFETY: rust_main runs once at start-up, before the shell thread uses the client.
    unsafe { install_logger(log::LevelFilter::Info) };
    match ShimConfig::load() {
        Ok(c) => printkln!("zsmtp e2e ready: {}:{}", c.server(), c.port()),
        Err(e) => printkln!("zsmtp e2e: configuration error {:?}", e),
    }
}
