// SPDX-License-Identifier: Apache-2.0

//! zsmtp self-test on the target: the wire layer (pure Rust, as built for this CPU) and the
//! platform shim (Zephyr sockets, clock, entropy, k_mutex, run-time configuration).
//! Prints one line per check and "All tests passed" when every check passed (the console
//! harness of testcase.yaml waits for that line).
#![no_std]

use core::ffi::c_void;

use embedded_io::Error as _;
use zephyr::printkln;
use zsmtp::platform::{in_isr, ShimConfig, ShimMutex};
use zsmtp::transport::shim::{ShimClock, ShimTransport};
use zsmtp::wire::body::BodyEncoder;
use zsmtp::wire::command;
use zsmtp::wire::ehlo::Capabilities;
use zsmtp::wire::out::Out;
use zsmtp::wire::reply::{parse_line, ReplyTracker};
use zsmtp::{Clock, Transport};

struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    fn check(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
            printkln!("PASS {}", name);
        } else {
            self.failed += 1;
            printkln!("FAIL {}", name);
        }
    }
}

#[no_mangle]
extern "C" fn rust_main() {
    let mut t = Tally { passed: 0, failed: 0 };
    wire_checks(&mut t);
    shim_checks(&mut t);
    printkln!("{} passed, {} failed", t.passed, t.failed);
    if t.failed == 0 {
        printkln!("All tests passed");
    }
}

fn wire_checks(t: &mut Tally) {
    // A multi-line reply, coalesced in one buffer.
    let buf = b"250-mail.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n";
    let mut at = 0;
    let mut tracker = ReplyTracker::new();
    let mut caps = Capabilities::NONE;
    let mut done = false;
    while let Ok(Some((line, used))) = parse_line(&buf[at..]) {
        at += used;
        caps.add_line(line.text);
        done = tracker.feed(&line) == Ok(true);
        if done {
            break;
        }
    }
    t.check("reply: multi-line reply parsed", done && at == buf.len() && tracker.lines() == 3);
    t.check("ehlo: PIPELINING and SIZE", caps.pipelining && caps.size == Some(1000));
    t.check("reply: incomplete line waits", parse_line(b"250 partial").ok() == Some(None));
    t.check("reply: garbage rejected", parse_line(b"hello\r\n").is_err());

    // Dot-stuffing, CRLF normalisation and the terminator, across chunk boundaries.
    let mut storage = [0u8; 64];
    let mut out = Out::new(&mut storage);
    let mut enc = BodyEncoder::new();
    let ok = enc.encode(b"line\n.dot\r", &mut out).is_ok()
        && enc.encode(b"\nend", &mut out).is_ok()
        && enc.finish(&mut out).is_ok();
    t.check("body: stuffing and CRLF", ok && out.as_bytes() == b"line\r\n..dot\r\nend\r\n.\r\n");

    // AUTH PLAIN with the initial response (RFC 4616, empty authorization identity).
    let mut storage = [0u8; 96];
    let mut out = Out::new(&mut storage);
    let ok = command::auth_plain(&mut out, b"recipient@domain.com", b"testpwd").is_ok();
    t.check(
        "command: AUTH PLAIN",
        ok && out.as_bytes() == b"AUTH PLAIN AHJlY2lwaWVudEBkb21haW4uY29tAHRlc3Rwd2Q=\r\n",
    );
}

fn shim_checks(t: &mut Tally) {
    t.check("shim: not in an ISR", !in_isr());

    let mut clock = ShimClock::new();
    let start = clock.now_ms();
    let mut later = start;
    for _ in 0..10_000_000u32 {
        later = clock.now_ms();
        if later > start {
            break;
        }
    }
    t.check("shim: uptime advances", later > start);
    let a = clock.entropy();
    let changed = (0..8).any(|_| clock.entropy() != a);
    t.check("shim: entropy varies", changed);

    let mut words = [0u32; 16];
    let storage = words.as_mut_ptr().cast::<c_void>();
    // SAFETY: 64 bytes on this stack frame, not moved until destroy below.
    let init = unsafe { ShimMutex::init(storage, 64) };
    if init {
        // SAFETY: initialised just above; this thread locks then unlocks it.
        unsafe {
            ShimMutex::lock(storage);
            ShimMutex::unlock(storage);
            ShimMutex::destroy(storage);
        }
    }
    t.check("shim: k_mutex in caller storage", init);
    let mut small = [0u32; 2];
    // SAFETY: 8 valid bytes, which init must refuse.
    let refused = !unsafe { ShimMutex::init(small.as_mut_ptr().cast(), 8) };
    t.check("shim: too small lock storage refused", refused);

    // Run-time configuration: a set is read back (and persisted where settings are on).
    let set = zsmtp::sys::config_set(c"port", c"2526");
    let bad = zsmtp::sys::config_set(c"port", c"70000");
    let port = ShimConfig::load().map(|c| c.port());
    t.check("config: set, reject, read back", set == 0 && bad < 0 && port == Ok(2526));

    // Sockets: nothing listens on port 1 of the loopback (a board whose stack has no loopback,
    // such as mps2/an385 under QEMU, builds with CONFIG_ZSMTP_SELFTEST_SOCKETS=0).
    if zephyr::kconfig::CONFIG_ZSMTP_SELFTEST_SOCKETS == 0 {
        printkln!("SKIP socket checks (CONFIG_ZSMTP_SELFTEST_SOCKETS=0)");
        return;
    }
    let mut link = ShimTransport::new();
    let refused = link.connect("127.0.0.1", 1, 2_000);
    t.check(
        "socket: connect to a closed port is refused",
        matches!(&refused, Err(e) if e.kind() == embedded_io::ErrorKind::ConnectionRefused),
    );
    link.close();
}
