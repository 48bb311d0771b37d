//! The C API's session (`nxd_smtp_client_create`, `nx_smtp_mail_send`,
//! `nx_smtp_client_last_reply_get`, `nx_smtp_client_delete`) against a fuzzed server, in
//! whichever profile the fuzz crate is built with: feature `capi` the full one, feature `small`
//! the small one (scripts/fuzz builds and runs both, as `capi` and `capi-small`).
//!
//! The C API talks only through the platform shim, here its POSIX twin, so the server is a
//! loopback socket: a thread accepts the client's connection, writes the fuzz input (after a
//! control byte) at once, ends its side (FIN) and records everything the client sends until the
//! client closes. Every read of the client therefore ends in data or EOF: no timeout is waited
//! out, and one input is one short dialogue.
//!
//! Properties: no panic (no abort across the C boundary); a status NetX knows; NX_SUCCESS only
//! if the client sent the message terminator and the server's bytes hold a 2xx line; once the
//! terminator was sent, a failure is NX_SMTP_OUTCOME_UNKNOWN or a refusal of the message by a
//! 4xx/5xx reply (never a plain failure that invites a duplicating retry); every line the
//! client sends ends in CRLF (no bare CR or LF reaches the wire); no AUTH command unless the
//! server's bytes mention AUTH.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::CString;
use std::io::{ErrorKind, Read, Write};
use std::mem::MaybeUninit;
use std::net::{Shutdown, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zsmtp::capi::{
    nx_smtp_client_delete, nx_smtp_client_last_reply_get, nx_smtp_mail_send, nxd_smtp_client_create, NxSmtpClient, NxdAddress, NX_IP_VERSION_V4,
    NX_SMTP_CLIENT_AUTH_LOGIN, NX_SMTP_CLIENT_AUTH_NONE, NX_SMTP_CLIENT_AUTH_PLAIN,
};
use zsmtp::status;

const USER: &str = "fuzz-user";
const PASS: &str = "fuzz-Pa55w0rd";
const BODIES: [&[u8]; 4] = [
    b"hello\r\n",
    b".hidden\r\na\r\n.\r\nb",
    b"x\n.\nMAIL FROM:<evil@x>\n",
    b"x\r.\rRCPT TO:<e@x>\r",
];

/// The server's side of one connection: writes `stream`, ends its side, and returns what the
/// client sent (empty if the client never connected before `done`).
fn serve(listener: TcpListener, stream: Vec<u8>, done: Arc<AtomicBool>) -> Vec<u8> {
    listener.set_nonblocking(true).expect("non-blocking listener");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut socket = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == ErrorKind::WouldBlock && !done.load(Ordering::Acquire) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(_) => return Vec::new(),
        }
    };
    socket.set_nonblocking(false).expect("blocking socket");
    let _ = socket.set_nodelay(true);
    let _ = socket.write_all(&stream);
    let _ = socket.shutdown(Shutdown::Write);
    let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
    let mut received = Vec::new();
    let mut buf = [0u8; 16 << 10];
    loop {
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
    received
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, stream)) = input.split_first() else { return };
    let auth = [NX_SMTP_CLIENT_AUTH_NONE, NX_SMTP_CLIENT_AUTH_PLAIN, NX_SMTP_CLIENT_AUTH_LOGIN][usize::from(control % 3)];
    let body = BODIES[usize::from(control >> 2) % BODIES.len()];

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("port").port();
    let done = Arc::new(AtomicBool::new(false));
    let server = {
        let (stream, done) = (stream.to_vec(), done.clone());
        std::thread::spawn(move || serve(listener, stream, done))
    };

    let mut client: Box<MaybeUninit<NxSmtpClient>> = Box::new(MaybeUninit::zeroed());
    let c = client.as_mut_ptr();
    let cs = |s: &str| CString::new(s).expect("no NUL");
    let (user, pass, from, domain, to, subject) = (cs(USER), cs(PASS), cs("device@fuzz.test"), cs("device.fuzz.test"), cs("ops@fuzz.test"), cs("fuzzed"));
    let mut address = NxdAddress { nxd_ip_version: NX_IP_VERSION_V4, nxd_ip_address: [0x7F00_0001, 0, 0, 0] };
    let mut dummy = 0u64;
    let d = (&mut dummy as *mut u64).cast();
    let mut code = 0;
    // SAFETY: every pointer is valid for its call; the strings are NUL-terminated; the client
    // lives on the heap, is created before the send and deleted once.
    let st = unsafe {
        let created = nxd_smtp_client_create(
            c,
            d,
            d,
            user.as_ptr().cast_mut(),
            pass.as_ptr().cast_mut(),
            from.as_ptr().cast_mut(),
            domain.as_ptr().cast_mut(),
            auth,
            &mut address,
            u32::from(port),
        );
        assert_eq!(created, status::NX_SUCCESS, "create");
        let st = nx_smtp_mail_send(c, to.as_ptr().cast_mut(), 2, subject.as_ptr().cast_mut(), body.as_ptr().cast::<core::ffi::c_char>().cast_mut(), body.len() as u32);
        assert_eq!(nx_smtp_client_last_reply_get(c, &mut code, std::ptr::null_mut(), 0), status::NX_SUCCESS);
        assert_eq!(nx_smtp_client_delete(c), status::NX_SUCCESS);
        st
    };
    done.store(true, Ordering::Release);
    let sent = server.join().expect("server thread");

    assert_ne!(status::name(st), "NX_UNKNOWN_STATUS", "status 0x{st:02X}");
    let terminator = sent.windows(5).any(|w| w == b"\r\n.\r\n");
    if st == status::NX_SUCCESS {
        assert!(terminator, "NX_SUCCESS although the message terminator was never sent");
        assert!(zsmtp_fuzz::has_positive_line(stream), "NX_SUCCESS without a 2xx line from the server");
    } else if terminator {
        let refused = st == status::NX_SMTP_MESSAGE_REPLY_ERROR && (400..600).contains(&code);
        assert!(st == status::NX_SMTP_OUTCOME_UNKNOWN || refused, "the terminator was sent, yet 0x{st:02X} {} (last reply {code})", status::name(st));
    }
    for (i, &b) in sent.iter().enumerate() {
        assert!(b != b'\r' || sent.get(i + 1) == Some(&b'\n'), "bare CR sent at {i}");
        assert!(b != b'\n' || (i > 0 && sent[i - 1] == b'\r'), "bare LF sent at {i}");
    }
    if !contains(stream, b"AUTH") {
        assert!(!contains(&sent, b"AUTH "), "AUTH sent although the server never mentioned it");
    }
});
