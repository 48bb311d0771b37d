//! The Zephyr transport (src/transport/shim.rs) on the host, through the shim's POSIX twin
//! (shim/posix/smtp_shim_posix.c, compiled by build.rs): the same Rust code that runs on Zephyr,
//! against real sockets on loopback. Run with `cargo test --features zsock`.
#![cfg(feature = "zsock")]

mod support;

use std::ffi::{c_char, c_int, c_void, CString};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use embedded_io::{Error as _, ErrorKind, Read, Write};
use support::io::read_transport_until;
use zsmtp::platform::{in_isr, ShimConfig, ShimMutex};
use zsmtp::transport::shim::{ShimClock, ShimTransport};
use zsmtp::{Auth, Clock, Transport};

// The shell's send (src/platform/shell.rs), called as C calls it.
use zsmtp::platform::zsmtp_shim_send_mail;

extern "C" {
    // libc's listen(2), to shrink a std listener's backlog.
    fn listen(fd: c_int, backlog: c_int) -> c_int;
}

/// Every wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(5);

fn local_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local addr").port();
    (listener, port)
}

/// Accepts one connection (bounded) and runs `script` on it in a thread.
fn serve_once<F>(listener: TcpListener, script: F) -> thread::JoinHandle<Vec<u8>>
where
    F: FnOnce(&mut TcpStream) -> Vec<u8> + Send + 'static,
{
    thread::spawn(move || {
        listener.set_nonblocking(true).expect("nonblocking");
        let start = Instant::now();
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && start.elapsed() < LIMIT => {
                    thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(LIMIT)).expect("timeout");
        stream.set_write_timeout(Some(LIMIT)).expect("timeout");
        script(&mut stream)
    })
}

#[test]
fn round_trip_with_a_tiny_smtp_peer() {
    let (listener, port) = local_listener();
    let server = serve_once(listener, |s| {
        s.write_all(b"220 peer.test ESMTP\r\n").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(b"\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "client closed");
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"250-peer.test\r\n250 SIZE 1000\r\n").unwrap();
        got
    });

    let mut t = ShimTransport::new();
    t.connect("127.0.0.1", port, 2_000).expect("connect");
    assert!(t.is_connected());
    t.set_timeout(2_000);
    assert_eq!(read_transport_until(&mut t, b"\r\n", LIMIT), b"220 peer.test ESMTP\r\n");
    t.write_all(b"EHLO device.test\r\n").expect("write");
    t.flush().expect("flush");
    assert_eq!(read_transport_until(&mut t, b"SIZE 1000\r\n", LIMIT), b"250-peer.test\r\n250 SIZE 1000\r\n");
    assert_eq!(server.join().unwrap(), b"EHLO device.test\r\n");
    t.close();
    assert!(!t.is_connected());
    t.close(); // twice is fine
}

#[test]
fn large_write_arrives_intact() {
    let (listener, port) = local_listener();
    let server = serve_once(listener, |s| {
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        all
    });
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut t = ShimTransport::new();
    t.connect("127.0.0.1", port, 2_000).expect("connect");
    t.set_timeout(3_000);
    t.write_all(&data).expect("write_all");
    t.close();
    assert_eq!(server.join().unwrap(), data);
}

#[test]
fn recv_times_out_when_the_peer_is_silent() {
    let (listener, port) = local_listener();
    let server = serve_once(listener, |s| {
        // Say nothing; hold the connection until the client gives up and closes.
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    });
    let mut t = ShimTransport::new();
    t.connect("127.0.0.1", port, 2_000).expect("connect");
    t.set_timeout(300);
    let start = Instant::now();
    let err = t.read(&mut [0u8; 16]).expect_err("silent peer must time out");
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(waited >= Duration::from_millis(250), "gave up after {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    t.close();
    assert_eq!(server.join().unwrap(), b"");
}

#[test]
fn peer_close_reads_as_zero() {
    let (listener, port) = local_listener();
    let server = serve_once(listener, |s| {
        s.write_all(b"221 bye\r\n").unwrap();
        Vec::new() // dropping the stream closes it
    });
    let mut t = ShimTransport::new();
    t.connect("127.0.0.1", port, 2_000).expect("connect");
    t.set_timeout(2_000);
    assert_eq!(read_transport_until(&mut t, b"\r\n", LIMIT), b"221 bye\r\n");
    server.join().unwrap();
    assert_eq!(t.read(&mut [0u8; 16]).expect("read after close"), 0);
}

#[test]
fn refused_on_a_port_nobody_listens_on() {
    let (listener, port) = local_listener();
    drop(listener); // the port is now closed
    let mut t = ShimTransport::new();
    let start = Instant::now();
    let err = t.connect("127.0.0.1", port, 2_000).expect_err("nobody listens");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(err.errno() > 0);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(!t.is_connected());
    assert_eq!(t.read(&mut [0u8; 4]).unwrap_err().kind(), ErrorKind::NotConnected);
    assert_eq!(t.write(b"x").unwrap_err().kind(), ErrorKind::NotConnected);
}

#[test]
fn connect_times_out_when_the_listener_does_not_answer() {
    // A listener whose accept queue is full drops new SYNs (Linux: tcp_conn_request), so a
    // connection to it never completes: the loopback way to see a connect timeout.
    let (listener, port) = local_listener();
    // SAFETY: the descriptor is a listening TCP socket owned by `listener`, alive here.
    assert_eq!(unsafe { listen(listener.as_raw_fd(), 0) }, 0);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut held = Vec::new();
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < LIMIT, "the accept queue never filled");
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => break, // queue full: SYNs are dropped now
        }
        assert!(held.len() < 64, "backlog 0 accepted {} connections", held.len());
    }

    let mut t = ShimTransport::new();
    let start = Instant::now();
    let err = t.connect("127.0.0.1", port, 400).expect_err("must time out");
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(waited >= Duration::from_millis(350), "gave up after {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    drop(held);
}

#[test]
fn ipv6_loopback_literal() {
    let listener = TcpListener::bind("[::1]:0").expect("this test needs ::1 (IPv6 loopback)");
    let port = listener.local_addr().unwrap().port();
    let server = serve_once(listener, |s| {
        s.write_all(b"220 v6\r\n").unwrap();
        Vec::new()
    });
    let mut t = ShimTransport::new();
    t.connect("::1", port, 2_000).expect("connect ::1");
    t.set_timeout(2_000);
    assert_eq!(read_transport_until(&mut t, b"\r\n", LIMIT), b"220 v6\r\n");
    server.join().unwrap();
}

#[test]
fn name_localhost_resolves_and_tries_each_address() {
    // Only 127.0.0.1 listens: if "localhost" resolves to ::1 first, that address is refused
    // and the next one must be tried.
    let (listener, port) = local_listener();
    let server = serve_once(listener, |s| {
        s.write_all(b"220 named\r\n").unwrap();
        Vec::new()
    });
    let mut t = ShimTransport::new();
    t.connect("localhost", port, 2_000).expect("connect localhost");
    t.set_timeout(2_000);
    assert_eq!(read_transport_until(&mut t, b"\r\n", LIMIT), b"220 named\r\n");
    server.join().unwrap();
}

#[test]
fn bad_host_arguments_are_invalid_input() {
    let mut t = ShimTransport::new();
    assert_eq!(t.connect("", 25, 100).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(t.connect("a\0b", 25, 100).unwrap_err().kind(), ErrorKind::InvalidInput);
    let long = "a".repeat(256);
    assert_eq!(t.connect(&long, 25, 100).unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn clock_is_monotonic_with_wall_time_and_entropy() {
    let mut clock = ShimClock::new();
    let a = clock.now_ms();
    thread::sleep(Duration::from_millis(20));
    let b = clock.now_ms();
    assert!(b >= a + 15, "uptime went from {a} to {b} over 20 ms");
    let now = clock.unix_time().expect("the host has a wall clock");
    assert!(now > 1_577_836_800, "wall clock reads {now}");
    let draws: Vec<u32> = (0..8).map(|_| clock.entropy()).collect();
    assert!(draws.windows(2).any(|w| w[0] != w[1]), "entropy repeats: {draws:?}");
    assert!(!in_isr());
}

#[test]
fn shim_mutex_serialises_threads() {
    #[repr(C, align(4))]
    struct LockWords([u32; 16]);
    struct Shared {
        words: std::cell::UnsafeCell<LockWords>,
        counter: std::cell::UnsafeCell<u64>,
    }
    // SAFETY: `counter` is only touched with the shim mutex held; the mutex itself is made for
    // concurrent use.
    unsafe impl Sync for Shared {}

    let shared = Arc::new(Shared {
        words: std::cell::UnsafeCell::new(LockWords([0; 16])),
        counter: std::cell::UnsafeCell::new(0),
    });
    let storage = shared.words.get().cast::<c_void>();
    // SAFETY: 64 bytes owned by `shared`, which does not move (it is in an Arc) and outlives
    // every use below.
    assert!(unsafe { ShimMutex::init(storage, 64) });

    let entered = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let shared = Arc::clone(&shared);
            let entered = Arc::clone(&entered);
            thread::spawn(move || {
                let storage = shared.words.get().cast::<c_void>();
                for _ in 0..10_000 {
                    // SAFETY: the mutex was initialised above and is destroyed only after every
                    // worker joined.
                    unsafe { ShimMutex::lock(storage) };
                    // A non-atomic read-modify-write: lost updates show a broken mutex.
                    // SAFETY: the mutex is held.
                    unsafe { *shared.counter.get() += 1 };
                    // SAFETY: held by this thread.
                    unsafe { ShimMutex::unlock(storage) };
                }
                entered.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(entered.load(Ordering::SeqCst), 4);
    // SAFETY: all workers joined; nobody holds the mutex.
    assert_eq!(unsafe { *shared.counter.get() }, 40_000);
    // SAFETY: initialised, unlocked, unused from now on.
    unsafe { ShimMutex::destroy(storage) };

    let mut small = [0u32; 4];
    // SAFETY: 16 valid bytes; init must refuse them.
    assert!(!unsafe { ShimMutex::init(small.as_mut_ptr().cast(), 16) });
    // SAFETY: a null pointer is refused, never dereferenced.
    assert!(!unsafe { ShimMutex::init(std::ptr::null_mut(), 64) });
}

fn set(key: &str, value: &str) -> c_int {
    let (k, v) = (CString::new(key).unwrap(), CString::new(value).unwrap());
    zsmtp::sys::config_set(&k, &v)
}

#[test]
fn run_time_configuration_round_trip() {
    // This is the only test that changes the configuration store.
    let defaults = ShimConfig::load().expect("defaults load");
    assert_eq!(defaults.server(), "127.0.0.1");
    assert_eq!(defaults.port(), 25);
    assert_eq!(defaults.auth(), Auth::None);
    assert_eq!(defaults.timeouts().connect_ms, 10_000);

    assert_eq!(set("server", "mail.example.test"), 0);
    assert_eq!(set("port", "2525"), 0);
    assert_eq!(set("from", "device@example.test"), 0);
    assert_eq!(set("auth", "login"), 0);
    assert_eq!(set("user", "device"), 0);
    assert_eq!(set("password", "s3cret pass"), 0);
    assert!(set("port", "0") < 0);
    assert!(set("port", "65536") < 0);
    assert!(set("server", "bad host") < 0);
    assert!(set("auth", "cram-md5") < 0);
    assert!(set("password", "line\nbreak") < 0);
    assert!(set("server", &"a".repeat(256)) < 0);
    assert!(set("timeout_reply", "5") < 0, "read-only key");
    assert!(set("nonsense", "1") < 0);

    let c = ShimConfig::load().expect("load");
    assert_eq!(c.server(), "mail.example.test");
    assert_eq!(c.port(), 2525);
    assert_eq!(c.from(), "device@example.test");
    assert_eq!(c.auth(), Auth::Login);
    let config = c.config();
    assert_eq!(config.username, "device");
    assert_eq!(config.password, "s3cret pass");
    let shown = format!("{c:?} {config:?}");
    assert!(!shown.contains("s3cret"), "password leaked into Debug: {shown}");

    // The shell's send, with this configuration pointed at a tiny SMTP peer.
    let (listener, port) = local_listener();
    let server = serve_once(listener, smtp_peer);
    assert_eq!(set("server", "127.0.0.1"), 0);
    assert_eq!(set("port", &port.to_string()), 0);
    assert_eq!(set("domain", "device.test"), 0);
    assert_eq!(set("auth", "none"), 0);
    let (to, subject) = (CString::new("bob@example.test").unwrap(), CString::new("shim send").unwrap());
    let body = b"one\n.two\n";
    let mut reply = [0 as c_char; 96];
    // SAFETY: NUL-terminated strings, a body and a reply buffer valid for their lengths.
    let status = unsafe {
        zsmtp_shim_send_mail(to.as_ptr(), subject.as_ptr(), body.as_ptr(), body.len(), reply.as_mut_ptr(), reply.len())
    };
    // SAFETY: the function NUL-terminates within reply.len().
    let reply = unsafe { std::ffi::CStr::from_ptr(reply.as_ptr()) }.to_string_lossy().into_owned();
    assert_eq!(status, 0, "send failed: {reply}");
    assert!(reply.starts_with("250"), "{reply}");
    let dialogue = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(dialogue.starts_with("EHLO device.test\r\n"), "{dialogue}");
    assert!(dialogue.contains("MAIL FROM:<device@example.test>"), "{dialogue}");
    assert!(dialogue.contains("RCPT TO:<bob@example.test>\r\n"), "{dialogue}");
    assert!(dialogue.contains("Subject: shim send\r\n"), "{dialogue}");
    assert!(dialogue.contains("\r\n\r\none\r\n..two\r\n.\r\n"), "{dialogue}");
    assert!(dialogue.ends_with("QUIT\r\n"), "{dialogue}");
    assert!(!dialogue.contains("s3cret"), "auth none must not send the password");

    // A null argument is refused before anything happens.
    // SAFETY: null pointers are checked first and never dereferenced; no reply buffer.
    let status = unsafe { zsmtp_shim_send_mail(std::ptr::null(), subject.as_ptr(), body.as_ptr(), 1, std::ptr::null_mut(), 0) };
    assert_eq!(status, zsmtp::status::NX_PTR_ERROR);

    #[cfg(feature = "mime")]
    shell_send_with_an_attachment(&to, &subject);
}

/// The shell's `smtp send --attach`: the file's bytes through the read callback, as base64 in
/// an attachment part; a callback that fails abandons the mail before its final dot.
#[cfg(feature = "mime")]
fn shell_send_with_an_attachment(to: &CString, subject: &CString) {
    use zsmtp::platform::zsmtp_shim_send_mail_attached;

    /// The callback's context: what is left to read, or a failure after `fail_after` bytes.
    struct File {
        left: &'static [u8],
        fail_after: Option<usize>,
    }
    unsafe extern "C" fn read(context: *mut std::ffi::c_void, buf: *mut u8, len: usize) -> c_int {
        // SAFETY: the test's File and a buffer of `len` bytes (the callback's contract).
        let (file, buf) = unsafe { (&mut *context.cast::<File>(), std::slice::from_raw_parts_mut(buf, len)) };
        if let Some(0) = file.fail_after {
            return -5; // EIO
        }
        let n = len.min(file.left.len()).min(file.fail_after.unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&file.left[..n]);
        file.left = &file.left[n..];
        file.fail_after = file.fail_after.map(|f| f - n);
        n as c_int
    }
    const DATA: &[u8] = b"time_s,temperature_c\n0,21.5\n60,21.7\n";
    let name = CString::new("readings.csv").unwrap();
    let body = b"readings attached\n";
    let send = |file: &mut File| {
        let mut reply = [0 as c_char; 96];
        // SAFETY: NUL-terminated strings, buffers valid for their lengths, a live File.
        let status = unsafe {
            zsmtp_shim_send_mail_attached(
                to.as_ptr(),
                subject.as_ptr(),
                body.as_ptr(),
                body.len(),
                name.as_ptr(),
                Some(read),
                (file as *mut File).cast(),
                DATA.len() as u64,
                reply.as_mut_ptr(),
                reply.len(),
            )
        };
        // SAFETY: NUL-terminated within reply.len().
        (status, unsafe { std::ffi::CStr::from_ptr(reply.as_ptr()) }.to_string_lossy().into_owned())
    };

    let (listener, port) = local_listener();
    let server = serve_once(listener, smtp_peer);
    assert_eq!(set("port", &port.to_string()), 0);
    let (status, reply) = send(&mut File { left: DATA, fail_after: None });
    assert_eq!(status, 0, "send failed: {reply}");
    let dialogue = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(dialogue.contains("Content-Disposition: attachment;\r\n filename=\"readings.csv\""), "{dialogue}");
    assert!(dialogue.contains("Content-Type: text/csv"), "{dialogue}");
    assert!(dialogue.contains("dGltZV9zLHRlbXBlcmF0dXJlX2MKMCwyMS41CjYwLDIxLjcK"), "the file as base64: {dialogue}");

    let (listener, port) = local_listener();
    let server = serve_once(listener, smtp_peer);
    assert_eq!(set("port", &port.to_string()), 0);
    let (status, reply) = send(&mut File { left: DATA, fail_after: Some(10) });
    assert_eq!(status, zsmtp::status::NX_SMTP_INTERNAL_ERROR, "{reply}");
    let dialogue = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(dialogue.contains("DATA\r\n") && !dialogue.contains("\r\n.\r\n"), "the mail must not end: {dialogue}");
}

/// A minimal SMTP server: no extensions, one message. Returns what the client sent.
fn smtp_peer(s: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut pending = Vec::new();
    let mut in_data = false;
    s.write_all(b"220 peer.test ESMTP\r\n").unwrap();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            return seen;
        }
        seen.extend_from_slice(&buf[..n]);
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = pending.drain(..end + 2).collect();
            if in_data {
                if line == b".\r\n" {
                    in_data = false;
                    s.write_all(b"250 2.0.0 queued\r\n").unwrap();
                }
                continue;
            }
            let reply: &[u8] = match &line[..4.min(line.len())] {
                b"EHLO" => b"250 peer.test\r\n",
                b"MAIL" | b"RCPT" => b"250 2.1.0 ok\r\n",
                b"DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                b"QUIT" => {
                    s.write_all(b"221 2.0.0 bye\r\n").unwrap();
                    return seen;
                }
                _ => b"500 5.5.1 what?\r\n",
            };
            s.write_all(reply).unwrap();
        }
    }
}
