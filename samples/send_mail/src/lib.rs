// SPDX-License-Identifier: Apache-2.0

//! zsmtp sample: sends one mail with the run-time configuration (Kconfig defaults, overridden
//! by the settings subsystem) and prints the outcome. The mail carries a CSV of readings
//! attached from a buffer (CONFIG_SMTP_CLIENT_ATTACHMENTS, zsmtp's feature `mime`): it is read
//! piece by piece while the mail is sent, as a file or a sensor log would be.
#![no_std]

use zephyr::printkln;
use zsmtp::platform::{install_logger, ShimConfig, RX_BUFFER_SIZE, TX_BUFFER_SIZE};
use zsmtp::transport::shim::{ShimClock, ShimTransport};
use zsmtp::{Attachment, Client, Mail};

const BODY: &[u8] = b"Hello from Zephyr.\n\n\
This mail was sent by the zsmtp send_mail sample: a Rust SMTP client\n\
without heap, over Zephyr's sockets. The readings are attached.\n";

/// The attachment: what a device would log.
const READINGS: &[u8] = b"time_s,temperature_c\n0,21.5\n60,21.7\n120,22.1\n180,22.4\n";

#[no_mangle]
extern "C" fn rust_main() {
    // SAFETY: rust_main runs once at start-up, before any other thread uses the log crate.
    unsafe { install_logger(log::LevelFilter::Info) };

    let settings = match ShimConfig::load() {
        Ok(settings) => settings,
        Err(e) => {
            printkln!("send_mail: failed: configuration: {:?}", e);
            return;
        }
    };
    let to = [zephyr::kconfig::CONFIG_SEND_MAIL_TO];
    printkln!(
        "send_mail: {} -> {} via {}:{}",
        settings.from(),
        to[0],
        settings.server(),
        settings.port()
    );

    let mut client: Client<'_, ShimTransport, ShimClock, RX_BUFFER_SIZE, TX_BUFFER_SIZE> =
        match Client::new(settings.config(), ShimTransport::new(), ShimClock::new()) {
            Ok(client) => client,
            Err(e) => {
                printkln!("send_mail: failed: {} (status 0x{:02X})", e, e.status());
                return;
            }
        };
    let mail = Mail::new(zephyr::kconfig::CONFIG_SEND_MAIL_SUBJECT, BODY).to(&to);
    // Any embedded_io::Read is a source; a byte slice reads itself.
    let mut readings = READINGS;
    let mut attachments = [Attachment::new("readings.csv", &mut readings).size(READINGS.len() as u64)];
    match client.send_mime(&mail, &mut attachments) {
        Ok(sent) => printkln!("send_mail: sent: {}", sent.reply),
        Err(e) => printkln!("send_mail: failed: {} (status 0x{:02X})", e, e.status()),
    }
}
