//! The outbox suites' client (short timeouts, to a loopback peer) and their delivery loop.
#![allow(clippy::result_large_err)] // OutboxError carries the server's reply by design

use zsmtp::outbox::{Outbox, OutboxError, Storage};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Client, Config, Timeouts};

/// A client of the loopback peer on `port`, with short timeouts.
/// `count` alarm bodies, each with a unique token (`token-N`); mail 1 spans several records
/// (`readings` lines of 50 bytes more).
pub fn alarm_bodies(count: usize, readings: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|n| {
            let mut b = format!("Alarm {n}: token-{n}\n").into_bytes();
            if n == 1 {
                for line in 0..readings {
                    b.extend_from_slice(format!("reading {line}: {}\n", "7".repeat(40)).as_bytes());
                }
            }
            b
        })
        .collect()
}

pub fn client(port: u16) -> Client<'static, StdTransport, StdClock> {
    let timeouts = Timeouts { connect_ms: 2000, ..Timeouts::DEFAULT.every_reply(3000) };
    Client::new(Config::new("127.0.0.1", port, "device.test", "unused@example.test").timeouts(timeouts), StdTransport::new(), StdClock::new()).unwrap()
}

/// Delivers until nothing is pending or the storage fails (the device dies).
pub fn deliver_all<S: Storage>(outbox: &mut Outbox<'_, S, 8>, client: &mut Client<'static, StdTransport, StdClock>) -> Result<(), OutboxError> {
    let mut clock = StdClock::new();
    for _ in 0..10 {
        if outbox.pending() == 0 {
            return Ok(());
        }
        outbox.retry_now();
        outbox.deliver(client, &mut clock, &mut |_| {})?;
    }
    panic!("still pending after 10 batches");
}
