//! Measures the peak stack of one complete send (connect to QUIT, AUTH PLAIN, pipelined
//! envelope, a 64 KiB body) on this host by stack painting, and guards it with a bound.
//! It is a size check, not a timing test. x86_64 frames are larger than Cortex-M frames
//! (8-byte pointers), so the figure is an upper estimate for a 32-bit target.

mod support;

use std::hint::black_box;
use support::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, Mail};

const PAINT: usize = 96 * 1024;
const COLOUR: u8 = 0xA5;

#[inline(never)]
fn paint() {
    let mut area = std::mem::MaybeUninit::<[u8; PAINT]>::uninit();
    // SAFETY: writes PAINT bytes into this frame's own local array, which is exactly PAINT bytes.
    unsafe { std::ptr::write_bytes(area.as_mut_ptr().cast::<u8>(), COLOUR, PAINT) };
    black_box(&area);
}

/// Runs `f` and returns how many bytes of stack below the caller's frame it used.
#[inline(never)]
fn measure(f: impl FnOnce()) -> usize {
    let marker = 0u8;
    let top = black_box(&marker) as *const u8 as usize;
    paint();
    f();
    // Find the deepest byte that no longer has the paint colour.
    let bottom = top - PAINT;
    let mut deepest = top;
    for addr in (bottom..top).step_by(16) {
        // SAFETY: the addresses lie within this thread's stack (1 MiB, far larger than PAINT
        // below this frame), which is mapped and was written by `paint`; reading it
        // volatile only observes what the send left there.
        let byte = unsafe { std::ptr::read_volatile(addr as *const u8) };
        if byte != COLOUR {
            deepest = addr;
            break;
        }
    }
    top - deepest
}

#[test]
fn peak_stack_of_one_send() {
    let body: Vec<u8> = (0..2048).flat_map(|i| format!("line {i} of a long report.\n").into_bytes()).collect();
    let mut steps = vec![
        send("220 x\r\n"),
        Expect("EHLO"),
        send("250-x\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10000000\r\n250 AUTH PLAIN LOGIN\r\n"),
        Expect("AUTH PLAIN"),
        send("235 ok\r\n"),
    ];
    steps.extend(pipelined_rest_of_mail());
    let server = Server::start(steps);
    let port = server.port;
    let used = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let config = Config::new("127.0.0.1", port, "device.example", "dev@example.com").auth(Auth::Plain, "u", "p").allow_plaintext_auth(true);
            let mut client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new()).unwrap();
            let to = ["ops@example.com"];
            let mail = Mail::new("report", &body).to(&to);
            let mut outcome = None;
            let used = measure(|| outcome = Some(client.send(&mail)));
            outcome.unwrap().unwrap();
            used
        })
        .unwrap()
        .join()
        .unwrap();
    server.finish().assert_ok();
    println!("peak stack of one send (x86_64 host, std transport): {used} bytes");
    assert!(used > 256, "the measurement saw no stack use at all: {used}");
    assert!(used < 16 * 1024, "a send used {used} bytes of stack");
}
