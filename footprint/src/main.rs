//! The footprint image: NetX Duo's three SMTP services called through zsmtp's real code on a
//! bare-metal target, with an in-memory scripted SMTP server behind the platform shim.
//!
//! - Size: scripts/footprint builds this image twice, as is and with `--features baseline`
//!   (everything below except the three service calls). Startup, the shim stubs with the
//!   scripted server, stack painting and semihosting are in both, so the difference of the
//!   two images is zsmtp's code and data alone.
//! - Stack (Cortex-M4 under QEMU mps2-an386): the stack below `main` is painted, the client is
//!   created, one mail is sent (EHLO, AUTH PLAIN, pipelined MAIL/RCPT/DATA, headers, body,
//!   terminator with QUIT) and the client deleted; the deepest overwritten word is the peak
//!   stack of the services. The result is printed through semihosting:
//!   `stack=N create=S send=S delete=S mails=M bytes=B` (with the feature outbox, ` outbox=S`
//!   at the end: the outbox's services over the same client, see `outbox_services`).
//!
//! The client (`NX_SMTP_CLIENT`), and with the outbox its `NX_SMTP_OUTBOX`, live on `main`'s
//! stack, as a C caller would put them: zsmtp has no static buffers, so its .data and .bss are 0
//! (the harness's own statics, the scripted server and the outbox's RAM records, are in both
//! images).
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::hint::black_box;
use core::mem::MaybeUninit;
use core::ptr::{addr_of_mut, read_volatile, write_volatile};

#[cfg(not(feature = "baseline"))]
use zsmtp::capi::{
    nx_smtp_client_delete, nxd_smtp_client_create, NxSmtpClient, NxdAddress, NX_IP_VERSION_V4, NX_SMTP_CLIENT_AUTH_PLAIN,
    NX_SMTP_MAIL_PRIORITY_NORMAL,
};
#[cfg(all(not(feature = "baseline"), not(feature = "mime")))]
use zsmtp::capi::nx_smtp_mail_send;
#[cfg(all(not(feature = "baseline"), feature = "outbox"))]
use zsmtp::capi::{
    nx_smtp_mail_queue, nx_smtp_outbox_create, nx_smtp_outbox_delete, nx_smtp_outbox_drop, nx_smtp_outbox_flush, nx_smtp_outbox_list,
    nx_smtp_outbox_notify_set, nx_smtp_outbox_status_get, NxSmtpOutbox, NX_SMTP_OUTBOX_NOT_FOUND, NX_SMTP_OUTBOX_QUEUED,
};

// ------------------------------------------------------------------------------------------
// The scripted SMTP server behind the shim (a test harness: its statics are not zsmtp's).
// ------------------------------------------------------------------------------------------

const EHLO_REPLY: &[u8] = b"250-footprint\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10000000\r\n250 AUTH PLAIN LOGIN\r\n";

struct Server {
    out: [u8; 512],
    out_len: usize,
    out_pos: usize,
    line: [u8; 128],
    line_len: usize,
    in_data: bool,
    mails: u32,
    bytes: u32,
    clock: i64,
}

static mut SERVER: Server =
    Server { out: [0; 512], out_len: 0, out_pos: 0, line: [0; 128], line_len: 0, in_data: false, mails: 0, bytes: 0, clock: 0 };

fn server() -> &'static mut Server {
    // SAFETY: a single-threaded bare-metal image without interrupts using the server; each shim
    // call takes this reference once and drops it before returning.
    unsafe { &mut *addr_of_mut!(SERVER) }
}

impl Server {
    fn reply(&mut self, text: &[u8]) {
        if self.out_pos == self.out_len {
            self.out_pos = 0;
            self.out_len = 0;
        }
        for &b in text {
            if self.out_len < self.out.len() {
                self.out[self.out_len] = b;
                self.out_len += 1;
            }
        }
    }

    fn line(&mut self) {
        let line = &self.line[..self.line_len.min(self.line.len())];
        if self.in_data {
            if line == b".\r\n" {
                self.in_data = false;
                self.mails += 1;
                self.reply(b"250 2.0.0 Ok: queued\r\n");
            }
            return;
        }
        let verb = if line.len() >= 4 { [line[0], line[1], line[2], line[3]] } else { [0; 4] };
        match &verb {
            b"EHLO" => self.reply(EHLO_REPLY),
            b"AUTH" => self.reply(b"235 2.7.0 Authentication successful\r\n"),
            b"MAIL" | b"RCPT" | b"RSET" => self.reply(b"250 2.1.0 Ok\r\n"),
            b"DATA" => {
                self.in_data = true;
                self.reply(b"354 End data with <CR><LF>.<CR><LF>\r\n");
            }
            b"QUIT" => self.reply(b"221 2.0.0 Bye\r\n"),
            _ => self.reply(b"500 5.5.2 Error\r\n"),
        }
    }
}

const FD: c_int = 3;
const ETIMEDOUT: c_int = 110;
const ENOENT: c_int = 2;

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_connect(_host: *const c_char, _port: u16, _timeout_ms: u32) -> c_int {
    let s = server();
    s.out_len = 0;
    s.out_pos = 0;
    s.line_len = 0;
    s.in_data = false;
    s.reply(b"220 footprint ESMTP\r\n");
    FD
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_send(_fd: c_int, buf: *const u8, len: usize, _timeout_ms: u32) -> c_int {
    let s = server();
    for i in 0..len {
        // SAFETY: the caller passes `len` readable bytes at `buf` (shim contract).
        let b = unsafe { buf.add(i).read() };
        if s.line_len < s.line.len() {
            s.line[s.line_len] = b;
        }
        s.line_len += 1;
        if b == b'\n' {
            s.line();
            s.line_len = 0;
        }
    }
    s.bytes = s.bytes.wrapping_add(len as u32);
    len as c_int
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_recv(_fd: c_int, buf: *mut u8, len: usize, _timeout_ms: u32) -> c_int {
    let s = server();
    s.clock += 1;
    let n = (s.out_len - s.out_pos).min(len);
    if n == 0 {
        return -ETIMEDOUT;
    }
    for i in 0..n {
        // SAFETY: the caller passes `len` writable bytes at `buf` and n <= len.
        unsafe { buf.add(i).write(s.out[s.out_pos + i]) };
    }
    s.out_pos += n;
    n as c_int
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_close(_fd: c_int) {}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_error_class(err: c_int) -> c_int {
    match err.unsigned_abs() as c_int {
        ETIMEDOUT => 1,
        ENOENT => 2,
        _ => 7,
    }
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_uptime_ms() -> i64 {
    let s = server();
    s.clock += 1;
    s.clock
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_unix_time(seconds: *mut i64) -> c_int {
    // SAFETY: the caller passes a valid i64 (shim contract).
    unsafe { seconds.write(1_764_000_000) };
    0
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_random() -> u32 {
    0x1234_5678 ^ server().clock as u32
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_in_isr() -> c_int {
    0
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_mutex_init(storage: *mut c_void, size: usize) -> c_int {
    if storage.is_null() || size < 64 {
        -22
    } else {
        0
    }
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_mutex_lock(_storage: *mut c_void) {}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_mutex_unlock(_storage: *mut c_void) {}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_mutex_destroy(_storage: *mut c_void) {}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_config_load() -> c_int {
    0
}

/// The Kconfig defaults a Zephyr build would return (timeouts in ms, pipelining on).
#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_config_get(key: *const c_char, buf: *mut c_char, len: usize) -> c_int {
    // SAFETY: `key` is NUL-terminated (shim contract); its first bytes are read up to the NUL.
    let first = unsafe { key.cast::<u8>().read() };
    // SAFETY: as above; "timeout_*" keys are longer than 9 bytes.
    let ninth = if first == b't' { unsafe { key.cast::<u8>().add(8).read() } } else { 0 };
    let value: &[u8] = match (first, ninth) {
        (b'p', _) => b"y",
        (b't', b'f') => b"60000",  // timeout_final
        (b't', b't') => b"300000", // timeout_total
        (b't', b'c') => b"10000",  // timeout_connect
        (b't', _) => b"30000",
        _ => return -ENOENT,
    };
    if value.len() + 1 > len {
        return -28;
    }
    for (i, &b) in value.iter().chain(&[0u8]).enumerate() {
        // SAFETY: i < value.len() + 1 <= len writable bytes at `buf` (shim contract).
        unsafe { buf.cast::<u8>().add(i).write(b) };
    }
    value.len() as c_int
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_log(_level: u32, _msg: *const c_char, _len: usize) {}

// TLS is not used by the NetX services here (NetX Duo has none): these say "unsupported".
const ENOTSUP: c_int = 134;

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_tls_start(
    _fd: c_int,
    _host: *const c_char,
    _sec_tag: i32,
    _ca_file: *const c_char,
    _timeout_ms: u32,
    tls: *mut *mut c_void,
    tls_error: *mut c_int,
) -> c_int {
    // SAFETY: valid out-pointers (shim contract).
    unsafe {
        tls.write(core::ptr::null_mut());
        tls_error.write(1);
    }
    -ENOTSUP
}

#[no_mangle]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
extern "C" fn smtp_shim_tls_connect(
    _host: *const c_char,
    _port: u16,
    _verify_name: *const c_char,
    _sec_tag: i32,
    _ca_file: *const c_char,
    _timeout_ms: u32,
    tls: *mut *mut c_void,
    tls_error: *mut c_int,
) -> c_int {
    // SAFETY: valid out-pointers (shim contract).
    unsafe {
        tls.write(core::ptr::null_mut());
        tls_error.write(1);
    }
    -ENOTSUP
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_tls_send(_tls: *mut c_void, _buf: *const u8, _len: usize, _timeout_ms: u32) -> c_int {
    -ENOTSUP
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_tls_recv(_tls: *mut c_void, _buf: *mut u8, _len: usize, _timeout_ms: u32) -> c_int {
    -ENOTSUP
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_tls_close(_tls: *mut c_void, _timeout_ms: u32) {}

// The outbox's storage and worker (zsmtp feature `outbox`): a few records in RAM, kept as a ZMS
// partition keeps them, and no worker thread (the image flushes in its own thread). In every
// image (through SHIM below), so that they cancel out of the difference like the others.

const EINVAL: c_int = 22;
const EBUSY: c_int = 16;
const ENOSPC: c_int = 28;
/// A record's largest size: the C API's default NX_SMTP_OUTBOX_RECORD_MAX.
const RECORD_SIZE: usize = 512;
/// Records held at once: a mail's head, data and state records, and one more.
const RECORDS: usize = 4;

struct Records {
    /// 0: a free entry (the outbox's keys start at 0x100).
    keys: [u16; RECORDS],
    lens: [u16; RECORDS],
    data: [[u8; RECORD_SIZE]; RECORDS],
    owner: *mut c_void,
}

static mut STORE: Records =
    Records { keys: [0; RECORDS], lens: [0; RECORDS], data: [[0; RECORD_SIZE]; RECORDS], owner: core::ptr::null_mut() };

fn store() -> &'static mut Records {
    // SAFETY: a single-threaded bare-metal image without interrupts using the store; each shim
    // call takes this reference once and drops it before returning.
    unsafe { &mut *addr_of_mut!(STORE) }
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_open() -> c_int {
    0
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_record_size() -> c_int {
    black_box(RECORD_SIZE as c_int)
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_read(key: u16, buf: *mut u8, len: usize) -> c_int {
    let s = store();
    let Some(i) = s.keys.iter().position(|&k| k == key) else { return 0 };
    let n = usize::from(s.lens[i]);
    for j in 0..n.min(len) {
        // SAFETY: the caller passes `len` writable bytes at `buf` (shim contract).
        unsafe { buf.add(j).write(s.data[i][j]) };
    }
    n as c_int
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_write(key: u16, data: *const u8, len: usize) -> c_int {
    let s = store();
    if len == 0 || len > RECORD_SIZE {
        return -EINVAL;
    }
    let Some(i) = s.keys.iter().position(|&k| k == key).or_else(|| s.keys.iter().position(|&k| k == 0)) else {
        return -ENOSPC;
    };
    for j in 0..len {
        // SAFETY: the caller passes `len` readable bytes at `data` (shim contract).
        s.data[i][j] = unsafe { data.add(j).read() };
    }
    s.keys[i] = key;
    s.lens[i] = len as u16;
    0
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_delete(key: u16) -> c_int {
    let s = store();
    if let Some(i) = s.keys.iter().position(|&k| k == key) {
        s.keys[i] = 0;
    }
    0
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_claim(owner: *mut c_void) -> c_int {
    let s = store();
    if !s.owner.is_null() && s.owner != owner {
        return -EBUSY;
    }
    s.owner = owner;
    0
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_release(owner: *mut c_void) {
    let s = store();
    if s.owner == owner {
        s.owner = core::ptr::null_mut();
    }
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_owner() -> *mut c_void {
    store().owner
}

/// `smtp_shim_outbox_pass_fn`.
type OutboxPass = unsafe extern "C" fn(outbox: *mut c_void, network_up: bool) -> i64;

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_worker_start(state: *mut c_void, state_size: usize, pass: OutboxPass, outbox: *mut c_void) -> c_int {
    // No thread runs the pass: the image keeps it (a Zephyr worker would call it) and flushes.
    black_box((state, pass, outbox));
    if state_size < 4 {
        -12
    } else {
        0
    }
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_worker_kick(state: *mut c_void) {
    black_box(state);
}

#[no_mangle]
#[inline(never)]
extern "C" fn smtp_shim_outbox_worker_stop(state: *mut c_void) {
    black_box(state);
}

/// Keeps every shim function in both images (the baseline never calls them), so that they
/// cancel out of the difference.
#[used]
static SHIM: ShimTable = ShimTable([
    smtp_shim_connect as *const (),
    smtp_shim_send as *const (),
    smtp_shim_recv as *const (),
    smtp_shim_close as *const (),
    smtp_shim_error_class as *const (),
    smtp_shim_uptime_ms as *const (),
    smtp_shim_unix_time as *const (),
    smtp_shim_random as *const (),
    smtp_shim_in_isr as *const (),
    smtp_shim_mutex_init as *const (),
    smtp_shim_mutex_lock as *const (),
    smtp_shim_mutex_unlock as *const (),
    smtp_shim_mutex_destroy as *const (),
    smtp_shim_config_load as *const (),
    smtp_shim_config_get as *const (),
    smtp_shim_log as *const (),
    smtp_shim_tls_start as *const (),
    smtp_shim_tls_connect as *const (),
    smtp_shim_tls_send as *const (),
    smtp_shim_tls_recv as *const (),
    smtp_shim_tls_close as *const (),
    smtp_shim_outbox_open as *const (),
    smtp_shim_outbox_record_size as *const (),
    smtp_shim_outbox_read as *const (),
    smtp_shim_outbox_write as *const (),
    smtp_shim_outbox_delete as *const (),
    smtp_shim_outbox_claim as *const (),
    smtp_shim_outbox_release as *const (),
    smtp_shim_outbox_owner as *const (),
    smtp_shim_outbox_worker_start as *const (),
    smtp_shim_outbox_worker_kick as *const (),
    smtp_shim_outbox_worker_stop as *const (),
    outbox_event as *const (),
    outbox_listed as *const (),
]);

#[allow(dead_code)] // read only through #[used] and black_box
struct ShimTable([*const (); 34]);
// SAFETY: the table holds function addresses only; nothing is ever mutated through it.
unsafe impl Sync for ShimTable {}

// ------------------------------------------------------------------------------------------
// Semihosting (Cortex-M under QEMU) and the result line.
// ------------------------------------------------------------------------------------------

#[cfg(target_arch = "arm")]
fn semihost(op: u32, arg: usize) {
    // SAFETY: the semihosting trap (BKPT 0xAB): QEMU with -semihosting services it; r0 is the
    // operation and r1 its argument block or string, both valid for the call.
    unsafe { core::arch::asm!("bkpt #0xab", inout("r0") op => _, in("r1") arg, options(nostack)) };
}

#[cfg(not(target_arch = "arm"))]
fn semihost(_op: u32, _arg: usize) {}

fn exit(ok: bool) -> ! {
    // SYS_EXIT with ADP_Stopped_ApplicationExit (0x20026) or ADP_Stopped_InternalError (0x20024).
    semihost(0x18, if ok { 0x20026 } else { 0x20024 });
    loop {
        core::hint::spin_loop();
    }
}

struct Line {
    buf: [u8; 160],
    len: usize,
}

impl Line {
    fn text(&mut self, t: &[u8]) {
        for &b in t {
            if self.len < self.buf.len() - 1 {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
    }

    fn num(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.text(&digits[i..]);
    }

    fn print(&mut self) {
        self.buf[self.len] = 0;
        // SYS_WRITE0: a NUL-terminated string.
        semihost(0x04, self.buf.as_ptr() as usize);
    }
}

// ------------------------------------------------------------------------------------------
// Stack painting.
// ------------------------------------------------------------------------------------------

const PAINT: usize = 16 * 1024;
const COLOUR: u32 = 0xA5A5_5A5A;

#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    #[cfg(target_arch = "arm")]
    // SAFETY: reads the stack pointer register; no memory is touched.
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    #[cfg(target_arch = "riscv32")]
    // SAFETY: as above.
    unsafe {
        core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// Paints the words from `bottom` up to the current stack pointer, without a call frame (the
/// loop runs in the caller's frame, entirely below nothing it uses).
#[inline(always)]
fn paint(bottom: usize) {
    #[cfg(target_arch = "arm")]
    // SAFETY: [bottom, sp) is free stack below the caller's frame (RAM is 256 KiB; the image's
    // statics are far below); no interrupt is enabled that could use it meanwhile.
    unsafe {
        core::arch::asm!(
            "mov r3, sp",
            "2:",
            "str r1, [r0]",
            "adds r0, #4",
            "cmp r0, r3",
            "blo 2b",
            inout("r0") bottom => _, in("r1") COLOUR, out("r3") _,
            options(nostack)
        )
    };
    #[cfg(target_arch = "riscv32")]
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "mv t1, sp",
            "2:",
            "sw {c}, 0({p})",
            "addi {p}, {p}, 4",
            "bltu {p}, t1, 2b",
            p = inout(reg) bottom => _, c = in(reg) COLOUR, out("t1") _,
            options(nostack)
        )
    };
}

/// Bytes between `top` and the deepest word of the painted area that was overwritten.
fn used_below(bottom: usize, top: usize) -> usize {
    let mut addr = bottom;
    while addr < top {
        // SAFETY: painted stack memory, mapped RAM, read only.
        if unsafe { read_volatile(addr as *const u32) } != COLOUR {
            return top - addr;
        }
        addr += 4;
    }
    0
}

// ------------------------------------------------------------------------------------------
// The three services.
// ------------------------------------------------------------------------------------------

const USERNAME: &[u8] = b"device17@example.com\0";
const PASSWORD: &[u8] = b"app-password-0123456789\0";
const FROM: &[u8] = b"<device17@example.com>\0";
const DOMAIN: &[u8] = b"device17.example.com\0";
const TO: &[u8] = b"<ops@example.com>\0";
const SUBJECT: &[u8] = b"Pump 7 over temperature\0";
#[cfg(feature = "mime")]
const HTML: &[u8] = b"<p>Sensor 3 reads <b>93 C</b>.</p>\0";
#[cfg(feature = "mime")]
const ATTACHMENT: &[u8] = b"readings.csv\0";
const BODY: &[u8] = b"Sensor 3 reads 93 C.\nSensor 4 reads 71 C.\n.hidden line that starts with a dot\r\nThe pump was stopped at 12:04:05 and restarted at 12:09:30.\n";

/// The statuses `services` returns: create, send, delete, and with the outbox its services'.
const STATUSES: usize = if cfg!(feature = "outbox") { 4 } else { 3 };
/// Mails the scripted server receives: one sent, and with the outbox one delivered by a flush.
const MAILS: u32 = if cfg!(feature = "outbox") { 2 } else { 1 };

/// The mail the outbox's callbacks see (their code is the same in every image).
#[cfg(all(not(feature = "baseline"), feature = "outbox"))]
type OutboxMail = zsmtp::capi::NxSmtpOutboxMail;
#[cfg(not(all(not(feature = "baseline"), feature = "outbox")))]
type OutboxMail = c_void;

/// `NX_SMTP_OUTBOX_EVENT_DELIVERED` (the value itself: this code is the same in every image).
const DELIVERED: c_uint = 4;

/// The outbox's notify callback: counts the deliveries in the `u32` at `context`.
extern "C" fn outbox_event(context: *mut c_void, event: c_uint, _mail: *const OutboxMail) {
    if event == DELIVERED {
        // SAFETY: the image passes a valid u32 as the context.
        unsafe { *context.cast::<u32>() += 1 };
    }
}

/// The outbox's list callback: counts the mails in the `u32` at `context`.
extern "C" fn outbox_listed(context: *mut c_void, _mail: *const OutboxMail) {
    // SAFETY: the image passes a valid u32 as the context.
    unsafe { *context.cast::<u32>() += 1 };
}

/// The outbox over the client: created, a mail queued, its status and the list read, flushed
/// (delivered to the scripted server), another queued and dropped, deleted. 0, or the failing
/// step (from 1) << 16 | what it returned.
///
/// # Safety
/// `client` is a created client, `outbox` writable storage of `NX_SMTP_OUTBOX`'s size that
/// does not move during the call.
#[cfg(all(not(feature = "baseline"), feature = "outbox"))]
unsafe fn outbox_services(client: *mut NxSmtpClient, outbox: *mut NxSmtpOutbox) -> u32 {
    let s = |p: &[u8]| p.as_ptr().cast::<c_char>().cast_mut();
    let mut step = 0u32;
    macro_rules! expect {
        ($got:expr, $want:expr) => {{
            step += 1;
            let got = $got;
            if got != $want {
                return step << 16 | got;
            }
        }};
    }
    let (mut delivered, mut listed, mut count, mut id, mut other) = (0u32, 0u32, 0, 0, 0);
    let mut mail = MaybeUninit::<OutboxMail>::uninit();
    // SAFETY: `client` and `outbox` per this function's contract; every string is
    // NUL-terminated, outside the outbox and outlives the calls; the callbacks' contexts are
    // u32 locals that outlive the outbox; `mail`, `count`, `id` and `other` are writable.
    unsafe {
        expect!(nx_smtp_outbox_create(outbox, client), 0);
        expect!(nx_smtp_outbox_notify_set(outbox, Some(outbox_event), addr_of_mut!(delivered).cast()), 0);
        let queue = |id| nx_smtp_mail_queue(outbox, s(TO), NX_SMTP_MAIL_PRIORITY_NORMAL, s(SUBJECT), s(BODY), BODY.len() as u32, id);
        expect!(queue(&mut id), 0);
        expect!(nx_smtp_outbox_status_get(outbox, id, mail.as_mut_ptr()), 0);
        expect!(mail.assume_init_ref().nx_smtp_outbox_state, NX_SMTP_OUTBOX_QUEUED);
        expect!(nx_smtp_outbox_list(outbox, Some(outbox_listed), addr_of_mut!(listed).cast(), &mut count), 0);
        expect!(count + listed, 2);
        expect!(nx_smtp_outbox_flush(outbox), 0);
        expect!(delivered, 1);
        expect!(nx_smtp_outbox_status_get(outbox, id, mail.as_mut_ptr()), NX_SMTP_OUTBOX_NOT_FOUND);
        expect!(queue(&mut other), 0);
        expect!(nx_smtp_outbox_drop(outbox, other), 0);
        expect!(nx_smtp_outbox_delete(outbox), 0);
    }
    0
}

/// (create, send, delete) statuses, and with the outbox its services' (`outbox_services`).
#[cfg(not(feature = "baseline"))]
#[inline(never)]
fn services(storage: *mut c_void) -> [u32; STATUSES] {
    let client = storage.cast::<NxSmtpClient>();
    let mut server = NxdAddress { nxd_ip_version: NX_IP_VERSION_V4, nxd_ip_address: [0xC000_0219, 0, 0, 0] };
    let mut ip = 0u32;
    let mut pool = 0u32;
    let s = |p: &[u8]| p.as_ptr().cast::<c_char>().cast_mut();
    #[cfg(feature = "logger")]
    // SAFETY: called once, before any other thread exists (there is none).
    unsafe {
        zsmtp::platform::install_logger(zsmtp_log_level());
    }
    // SAFETY: `client` points to writable storage of NX_SMTP_CLIENT's size (main's stack); every
    // string is NUL-terminated and outlives the calls; ip and pool are non-null dummies (unused).
    unsafe {
        let create = nxd_smtp_client_create(
            client,
            addr_of_mut!(ip).cast(),
            addr_of_mut!(pool).cast(),
            s(USERNAME),
            s(PASSWORD),
            s(FROM),
            s(DOMAIN),
            NX_SMTP_CLIENT_AUTH_PLAIN,
            &mut server,
            25,
        );
        // With the feature mime the image sends through the extended call (HTML and a buffer
        // attachment), so the size row counts the attachment code too.
        #[cfg(not(feature = "mime"))]
        let send = nx_smtp_mail_send(client, s(TO), NX_SMTP_MAIL_PRIORITY_NORMAL, s(SUBJECT), s(BODY), BODY.len() as u32);
        #[cfg(feature = "mime")]
        let send = {
            let mut parts = [zsmtp::capi::NxSmtpAttachment {
                nx_smtp_attachment_name: ATTACHMENT.as_ptr().cast(),
                nx_smtp_attachment_content_type: core::ptr::null(),
                nx_smtp_attachment_data: BODY.as_ptr(),
                nx_smtp_attachment_length: BODY.len() as _,
                nx_smtp_attachment_read: None,
                nx_smtp_attachment_context: core::ptr::null_mut(),
            }];
            zsmtp::capi::nx_smtp_mail_send_extended(
                client,
                s(TO),
                NX_SMTP_MAIL_PRIORITY_NORMAL,
                s(SUBJECT),
                s(BODY),
                BODY.len() as u32,
                s(HTML),
                HTML.len() as u32 - 1,
                parts.as_mut_ptr(),
                1,
            )
        };
        // With the feature outbox, the outbox over the same client, before it is deleted.
        #[cfg(feature = "outbox")]
        let outbox = outbox_services(client, addr_of_mut!((*storage.cast::<ClientStorage>()).outbox));
        let delete = nx_smtp_client_delete(client);
        #[cfg(feature = "outbox")]
        return [create, send, delete, outbox];
        #[cfg(not(feature = "outbox"))]
        [create, send, delete]
    }
}

#[cfg(all(not(feature = "baseline"), not(feature = "outbox")))]
type ClientStorage = NxSmtpClient;

/// With the outbox, its control block (about 3.7 KB) beside the client, on `main`'s stack as
/// the client is: a firmware would make both statics of its own, but here a static would be
/// counted as zsmtp's .bss, and the stack painting starts below `main`'s frame.
#[cfg(all(not(feature = "baseline"), feature = "outbox"))]
#[repr(C)]
struct ClientStorage {
    client: NxSmtpClient,
    outbox: NxSmtpOutbox,
}

#[cfg(feature = "logger")]
fn zsmtp_log_level() -> log::LevelFilter {
    log::LevelFilter::Info
}

#[cfg(feature = "baseline")]
#[inline(never)]
fn services(client: *mut c_void) -> [u32; STATUSES] {
    black_box((client, USERNAME, PASSWORD, FROM, DOMAIN, TO, SUBJECT, BODY));
    [0; STATUSES]
}

#[cfg(feature = "baseline")]
type ClientStorage = [u32; 4];

/// Sizes read from the ELF by scripts/footprint (the same table in both images): the C API's
/// `NX_SMTP_CLIENT` with the default limits, the Rust `Client` with the default buffers
/// (RX 512, TX 1024) and with the smallest ones (512, 512), all over the Zephyr transport.
#[no_mangle]
#[used]
static FOOTPRINT_SIZES: [u32; 3] = [
    core::mem::size_of::<zsmtp::capi::NxSmtpClient>() as u32,
    core::mem::size_of::<zsmtp::Client<'static, zsmtp::transport::shim::ShimTransport, zsmtp::transport::shim::ShimClock>>() as u32,
    core::mem::size_of::<zsmtp::Client<'static, zsmtp::transport::shim::ShimTransport, zsmtp::transport::shim::ShimClock, 512, 512>>()
        as u32,
];

fn main() -> ! {
    black_box((&SHIM, &FOOTPRINT_SIZES));
    let mut client = MaybeUninit::<ClientStorage>::uninit();
    let top = stack_pointer();
    let bottom = top - PAINT;
    paint(bottom);
    let status = services(black_box(client.as_mut_ptr().cast()));
    let used = used_below(bottom, top);
    let s = server();
    let mut line = Line { buf: [0; 160], len: 0 };
    line.text(b"stack=");
    line.num(used as u32);
    for (name, v) in [(&b" create="[..], status[0]), (b" send=", status[1]), (b" delete=", status[2])] {
        line.text(name);
        line.num(v);
    }
    line.text(b" mails=");
    line.num(s.mails);
    line.text(b" bytes=");
    line.num(s.bytes);
    #[cfg(feature = "outbox")]
    {
        line.text(b" outbox=");
        line.num(status[3]);
    }
    line.text(b"\n");
    line.print();
    exit(status == [0; STATUSES] && (cfg!(feature = "baseline") || s.mails == MAILS))
}

// ------------------------------------------------------------------------------------------
// Startup.
// ------------------------------------------------------------------------------------------

extern "C" {
    static mut _sdata: u32;
    static mut _edata: u32;
    static _sidata: u32;
    static mut _sbss: u32;
    static mut _ebss: u32;
}

/// Copies .data, zeroes .bss, enables the FPU (Cortex-M4F), runs `main`.
#[no_mangle]
unsafe extern "C" fn rust_reset() -> ! {
    // SAFETY: linker-script symbols delimiting .data (and its load image) and .bss; nothing has
    // used those sections yet; word-aligned by the script.
    unsafe {
        let mut dst = addr_of_mut!(_sdata);
        let mut src = &raw const _sidata;
        while dst < addr_of_mut!(_edata) {
            write_volatile(dst, read_volatile(src));
            dst = dst.add(1);
            src = src.add(1);
        }
        let mut b = addr_of_mut!(_sbss);
        while b < addr_of_mut!(_ebss) {
            write_volatile(b, 0);
            b = b.add(1);
        }
    }
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    // SAFETY: CPACR (0xE000ED88) of the Cortex-M4: full access to CP10 and CP11 (the FPU).
    unsafe {
        let cpacr = 0xE000_ED88 as *mut u32;
        write_volatile(cpacr, read_volatile(cpacr) | (0xF << 20));
        core::arch::asm!("dsb", "isb");
    }
    main()
}

#[cfg(target_arch = "arm")]
#[no_mangle]
unsafe extern "C" fn reset() -> ! {
    // SAFETY: the hardware loaded SP from the vector table.
    unsafe { rust_reset() }
}

#[cfg(target_arch = "riscv32")]
core::arch::global_asm!(".section .text.reset", ".globl reset", "reset:", "la sp, _stack_top", "j rust_reset");

#[cfg(target_arch = "arm")]
extern "C" fn fault() -> ! {
    let mut line = Line { buf: [0; 160], len: 0 };
    line.text(b"fault\n");
    line.print();
    exit(false)
}

/// Reset and the 14 system exceptions of ARMv6-M/ARMv7-M (the initial SP comes from link.ld).
#[cfg(target_arch = "arm")]
#[link_section = ".vector_table.reset"]
#[used]
static VECTORS: [unsafe extern "C" fn() -> !; 15] = {
    let f: unsafe extern "C" fn() -> ! = fault;
    [reset, f, f, f, f, f, f, f, f, f, f, f, f, f, f]
};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    let mut line = Line { buf: [0; 160], len: 0 };
    line.text(b"panic\n");
    line.print();
    exit(false)
}
