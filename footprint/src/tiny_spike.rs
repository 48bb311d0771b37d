//! SPIKE, NOT PRODUCT CODE (docs/PERFORMANCE.md, finding 1): how small NetX Duo's three
//! services can be in Rust at NetX's scope while keeping the rules zsmtp's engine keeps:
//! argument checks, input validation before any byte is sent, dot-stuffing and CRLF
//! normalisation, a timeout per reply, multi-line replies, AUTH PLAIN/LOGIN chosen by token,
//! "outcome unknown" after the dot, strings copied into the client and wiped on delete.
//! NetX's scope: lockstep (no pipelining), one recipient, ASCII subject and addresses (simpler
//! rules than `wire::validate`: no quoted local parts, no address literals), To/From/Subject/
//! MIME headers only, no TLS, reply codes without text, fixed timeouts, QUIT not sent after a
//! refusal. Built only by `footprint/measure.py --spike` (footprint feature `tiny-spike`,
//! instead of zsmtp's C API) and run under QEMU against the same in-memory server; it is not
//! tested beyond that one delivery and must not ship as it is.
#![allow(clippy::missing_safety_doc)]

use core::ffi::{c_char, c_int, c_void};

extern "C" {
    fn smtp_shim_connect(host: *const c_char, port: u16, timeout_ms: u32) -> c_int;
    fn smtp_shim_send(fd: c_int, buf: *const u8, len: usize, timeout_ms: u32) -> c_int;
    fn smtp_shim_recv(fd: c_int, buf: *mut u8, len: usize, timeout_ms: u32) -> c_int;
    fn smtp_shim_close(fd: c_int);
    fn smtp_shim_in_isr() -> c_int;
}

pub const NX_IP_VERSION_V4: u32 = 4;
const NX_IP_VERSION_V6: u32 = 6;
pub const NX_SMTP_CLIENT_AUTH_PLAIN: u32 = 3;
const AUTH_LOGIN: u32 = 1;
const AUTH_NONE: u32 = 0xFFFF;
pub const NX_SMTP_MAIL_PRIORITY_NORMAL: u32 = 2;

const OK: u32 = 0;
const NO_PACKET: u32 = 0x01;
const PTR_ERROR: u32 = 0x07;
const SIZE_ERROR: u32 = 0x09;
const CALLER_ERROR: u32 = 0x11;
const IP_ADDRESS_ERROR: u32 = 0x21;
const NOT_CONNECTED: u32 = 0x38;
const AUTH_ERROR: u32 = 0xA0;
const BAD_REPLY: u32 = 0xA2;
const INVALID_PARAM: u32 = 0xA5;
const GREET_ERROR: u32 = 0xA7;
const HELLO_ERROR: u32 = 0xA8;
const MAIL_ERROR: u32 = 0xA9;
const RCPT_ERROR: u32 = 0xAA;
const MESSAGE_ERROR: u32 = 0xAB;
const DATA_ERROR: u32 = 0xAC;
const AUTH_REPLY_ERROR: u32 = 0xAD;
const TRANSMIT_ERROR: u32 = 0xAF;
const REPLY_TOO_LONG: u32 = 0xB1;
const NOT_INIT: u32 = 0xB2;
const OUTCOME_UNKNOWN: u32 = 0xC0;

const MAGIC: u32 = 0x534D_5450;
const TIMEOUT_MS: u32 = 30_000;
const FINAL_MS: u32 = 60_000;

#[repr(C)]
pub struct NxdAddress {
    pub nxd_ip_version: u32,
    pub nxd_ip_address: [u32; 4],
}

#[repr(C)]
pub struct NxSmtpClient {
    magic: u32,
    auth: u32,
    port: u16,
    server: NxdAddress,
    user: [u8; 129],
    pass: [u8; 129],
    domain: [u8; 256],
    from: [u8; 257],
    rx: [u8; 512],
    tx: [u8; 512],
}

/// Copies a C string of at most `dst.len() - 1` bytes (NUL included in dst); its length.
/// `src` must be NUL-terminated.
unsafe fn copy_in(dst: &mut [u8], src: *const c_char) -> Result<usize, u32> {
    let mut i = 0;
    loop {
        // SAFETY: `src` is NUL-terminated (caller) and the loop stops at the NUL.
        let b = unsafe { src.add(i).cast::<u8>().read() };
        *dst.get_mut(i).ok_or(SIZE_ERROR)? = b;
        if b == 0 {
            return Ok(i);
        }
        i += 1;
    }
}

fn cstr(buf: &[u8]) -> &[u8] {
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf.get(..n).unwrap_or(&[])
}

/// Printable ASCII without space: domain names, address parts.
fn atom_char(b: u8) -> bool {
    b > b' ' && b < 0x7f && !matches!(b, b'<' | b'>' | b'(' | b')' | b',' | b';' | b'\\' | b'"')
}

/// `local@domain` or `<local@domain>`: returns the bare address.
fn address(a: &[u8]) -> Result<&[u8], u32> {
    let bare = match a {
        [b'<', inner @ .., b'>'] => inner,
        _ => a,
    };
    let at = bare.iter().rposition(|&b| b == b'@').ok_or(INVALID_PARAM)?;
    let (local, domain) = (bare.get(..at).unwrap_or(&[]), bare.get(at + 1..).unwrap_or(&[]));
    if local.is_empty() || local.len() > 64 || !domain_ok(domain) || !local.iter().all(|&b| atom_char(b) && b != b'@') {
        return Err(INVALID_PARAM);
    }
    Ok(bare)
}

fn domain_ok(d: &[u8]) -> bool {
    !d.is_empty()
        && d.len() <= 255
        && d.split(|&b| b == b'.').all(|l| !l.is_empty() && l.len() <= 63 && l.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Body rules: no NUL, lines of at most 998 bytes (line ends are CR, LF or CRLF).
fn body_ok(body: &[u8]) -> bool {
    let mut line = 0usize;
    for &b in body {
        match b {
            0 => return false,
            b'\r' | b'\n' => line = 0,
            _ => {
                line += 1;
                if line > 998 {
                    return false;
                }
            }
        }
    }
    true
}

struct Link<'c> {
    fd: c_int,
    tx: &'c mut [u8; 512],
    tx_len: usize,
    rx: &'c mut [u8; 512],
    rx_len: usize,
}

impl Link<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), u32> {
        for &b in bytes {
            if self.tx_len == self.tx.len() {
                self.flush()?;
            }
            if let Some(slot) = self.tx.get_mut(self.tx_len) {
                *slot = b;
                self.tx_len += 1;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), u32> {
        let mut at = 0;
        while at < self.tx_len {
            let rest = self.tx.get(at..self.tx_len).unwrap_or(&[]);
            // SAFETY: `rest` is readable for its length during the call (shim contract).
            let n = unsafe { smtp_shim_send(self.fd, rest.as_ptr(), rest.len(), TIMEOUT_MS) };
            if n <= 0 {
                self.tx_len = 0;
                return Err(if n == -110 { NO_PACKET } else { TRANSMIT_ERROR });
            }
            at += n as usize;
        }
        self.tx_len = 0;
        Ok(())
    }

    fn base64(&mut self, parts: &[&[u8]]) -> Result<(), u32> {
        let mut group = 0u32;
        let mut held = 0u32;
        for &b in parts.iter().flat_map(|p| p.iter()) {
            group = group << 8 | u32::from(b);
            held += 1;
            if held == 3 {
                self.quad(group, 4)?;
                held = 0;
            }
        }
        if held > 0 {
            self.quad(group << (8 * (3 - held)), held + 1)?;
        }
        self.put(b"\r\n")
    }

    fn quad(&mut self, group: u32, keep: u32) -> Result<(), u32> {
        for i in 0..4u32 {
            let v = group >> (18 - 6 * i) & 63;
            let c = match v {
                _ if i >= keep => b'=',
                0..=25 => b'A' + v as u8,
                26..=51 => b'a' + (v - 26) as u8,
                52..=61 => b'0' + (v - 52) as u8,
                62 => b'+',
                _ => b'/',
            };
            self.put(&[c])?;
        }
        Ok(())
    }

    /// Sends what is buffered, reads one whole reply (multi-line), returns its code.
    /// `scan` sees each line's text (EHLO capabilities).
    fn reply(&mut self, timeout_ms: u32, scan: &mut dyn FnMut(&[u8])) -> Result<u16, u32> {
        self.flush()?;
        let mut first = 0u16;
        loop {
            let Some(end) = self.rx.get(..self.rx_len).and_then(|r| r.iter().position(|&b| b == b'\n')) else {
                if self.rx_len == self.rx.len() {
                    return Err(REPLY_TOO_LONG);
                }
                let free = self.rx.get_mut(self.rx_len..).unwrap_or(&mut []);
                // SAFETY: `free` is writable for its length during the call (shim contract).
                let n = unsafe { smtp_shim_recv(self.fd, free.as_mut_ptr(), free.len(), timeout_ms) };
                if n <= 0 {
                    return Err(if n == -110 { NO_PACKET } else { NOT_CONNECTED });
                }
                self.rx_len += n as usize;
                continue;
            };
            let line = self.rx.get(..end).unwrap_or(&[]);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let (code, more, text) = match line {
                [a, b, c, sep, text @ ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() && (*sep == b' ' || *sep == b'-') => {
                    (u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'), *sep == b'-', text)
                }
                [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                    (u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'), false, &[][..])
                }
                _ => return Err(BAD_REPLY),
            };
            if first == 0 {
                first = code;
            } else if code != first {
                return Err(BAD_REPLY);
            }
            scan(text);
            // Moves the unread bytes to the front with a plain loop: `copy_within` would link
            // a 1.5 KB memmove on targets whose C library does not provide it.
            let used = end + 1;
            for i in used..self.rx_len {
                let b = self.rx.get(i).copied().unwrap_or(0);
                if let Some(slot) = self.rx.get_mut(i - used) {
                    *slot = b;
                }
            }
            self.rx_len -= used;
            if !more {
                return Ok(code);
            }
        }
    }

    fn expect(&mut self, want: u16, error: u32) -> Result<(), u32> {
        let code = self.reply(TIMEOUT_MS, &mut |_| {})?;
        if code == want {
            Ok(())
        } else {
            Err(error)
        }
    }
}

fn put_decimal(out: &mut [u8], at: &mut usize, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or(&[]) {
        if let Some(slot) = out.get_mut(*at) {
            *slot = d;
            *at += 1;
        }
    }
}

fn put_byte(out: &mut [u8], at: &mut usize, b: u8) {
    if let Some(slot) = out.get_mut(*at) {
        *slot = b;
        *at += 1;
    }
}

/// The server address as text (IPv4 dotted, IPv6 eight hex groups), NUL-terminated.
fn server_text(a: &NxdAddress, out: &mut [u8; 48]) -> Result<(), u32> {
    let mut at = 0;
    let [w0, ..] = a.nxd_ip_address;
    match a.nxd_ip_version {
        NX_IP_VERSION_V4 => {
            for (i, o) in w0.to_be_bytes().iter().enumerate() {
                if i > 0 {
                    put_byte(out, &mut at, b'.');
                }
                put_decimal(out, &mut at, u32::from(*o));
            }
        }
        NX_IP_VERSION_V6 => {
            for (i, w) in a.nxd_ip_address.iter().flat_map(|w| [(w >> 16) as u16, *w as u16]).enumerate() {
                if i > 0 {
                    put_byte(out, &mut at, b':');
                }
                for shift in [12u32, 8, 4, 0] {
                    let v = (w >> shift) as u8 & 15;
                    put_byte(out, &mut at, if v < 10 { b'0' + v } else { b'a' + v - 10 });
                }
            }
        }
        _ => return Err(IP_ADDRESS_ERROR),
    }
    put_byte(out, &mut at, 0);
    Ok(())
}

#[no_mangle]
pub unsafe extern "C" fn nxd_smtp_client_create(
    client: *mut NxSmtpClient,
    ip: *mut c_void,
    pool: *mut c_void,
    user: *mut c_char,
    pass: *mut c_char,
    from: *mut c_char,
    domain: *mut c_char,
    auth: u32,
    server: *mut NxdAddress,
    port: u32,
) -> u32 {
    if client.is_null() || ip.is_null() || pool.is_null() || from.is_null() || domain.is_null() || server.is_null() {
        return PTR_ERROR;
    }
    // SAFETY: non-null and pointing to writable NX_SMTP_CLIENT storage (NetX contract).
    let c = unsafe { &mut *client };
    c.magic = 0;
    let auth = if matches!(auth, AUTH_LOGIN | AUTH_NONE) { auth } else { NX_SMTP_CLIENT_AUTH_PLAIN };
    if auth != AUTH_NONE && (user.is_null() || pass.is_null()) {
        return PTR_ERROR;
    }
    let r = (|| {
        if auth != AUTH_NONE {
            // SAFETY: non-null, NUL-terminated strings (NetX contract).
            unsafe { copy_in(&mut c.user, user)? };
            // SAFETY: as above.
            unsafe { copy_in(&mut c.pass, pass)? };
        }
        // SAFETY: as above.
        let n = unsafe { copy_in(&mut c.domain, domain)? };
        // SAFETY: as above.
        unsafe { copy_in(&mut c.from, from)? };
        if !domain_ok(c.domain.get(..n).unwrap_or(&[])) {
            return Err(INVALID_PARAM);
        }
        address(cstr(&c.from))?;
        if cstr(&c.user).contains(&b'\r') || cstr(&c.pass).contains(&b'\r') {
            return Err(INVALID_PARAM);
        }
        // SAFETY: non-null and readable (NetX contract).
        let s = unsafe { &*server };
        if !matches!(s.nxd_ip_version, NX_IP_VERSION_V4 | NX_IP_VERSION_V6) {
            return Err(IP_ADDRESS_ERROR);
        }
        c.server = NxdAddress { nxd_ip_version: s.nxd_ip_version, nxd_ip_address: s.nxd_ip_address };
        Ok(())
    })();
    if let Err(e) = r {
        return e;
    }
    c.auth = auth;
    c.port = port as u16;
    c.magic = MAGIC;
    OK
}

#[no_mangle]
pub unsafe extern "C" fn nx_smtp_client_delete(client: *mut NxSmtpClient) -> u32 {
    if client.is_null() {
        return PTR_ERROR;
    }
    // SAFETY: non-null and readable (NetX contract).
    if unsafe { (*client).magic } != MAGIC {
        return NOT_INIT;
    }
    let p = client.cast::<u8>();
    for i in 0..core::mem::size_of::<NxSmtpClient>() {
        // SAFETY: inside the client's storage; volatile so that the wipe is not optimised away.
        unsafe { core::ptr::write_volatile(p.add(i), 0) };
    }
    OK
}

#[no_mangle]
pub unsafe extern "C" fn nx_smtp_mail_send(
    client: *mut NxSmtpClient,
    rcpt: *mut c_char,
    priority: u32,
    subject: *mut c_char,
    body: *mut c_char,
    body_len: u32,
) -> u32 {
    if client.is_null() || rcpt.is_null() || subject.is_null() || body.is_null() {
        return PTR_ERROR;
    }
    if body_len == 0 || !matches!(priority, 1 | 2 | 4) {
        return INVALID_PARAM;
    }
    // SAFETY: a shim call without arguments.
    if unsafe { smtp_shim_in_isr() } != 0 {
        return CALLER_ERROR;
    }
    // SAFETY: non-null, a client the caller owns during the call (NetX contract).
    let c = unsafe { &mut *client };
    if c.magic != MAGIC {
        return NOT_INIT;
    }
    // SAFETY: non-null, NUL-terminated strings (NetX contract).
    let rcpt = unsafe { core::ffi::CStr::from_ptr(rcpt) }.to_bytes();
    // SAFETY: as above.
    let subject = unsafe { core::ffi::CStr::from_ptr(subject) }.to_bytes();
    // SAFETY: `body` is readable for `body_len` bytes (NetX contract).
    let body = unsafe { core::slice::from_raw_parts(body.cast::<u8>(), body_len as usize) };
    let rcpt = match address(rcpt) {
        Ok(r) if r.len() <= 256 => r,
        _ => return INVALID_PARAM,
    };
    if subject.len() > 900 || !subject.iter().all(|&b| (b' '..0x7f).contains(&b)) || !body_ok(body) {
        return INVALID_PARAM;
    }
    let mut host = [0u8; 48];
    if let Err(e) = server_text(&c.server, &mut host) {
        return e;
    }
    // SAFETY: `host` is NUL-terminated (server_text) and outlives the call.
    let fd = unsafe { smtp_shim_connect(host.as_ptr().cast(), c.port, TIMEOUT_MS) };
    if fd < 0 {
        return NOT_CONNECTED;
    }
    let (user, pass, domain, from, auth) = (cstr(&c.user), cstr(&c.pass), cstr(&c.domain), cstr(&c.from), c.auth);
    let from = address(from).unwrap_or(from);
    let mut link = Link { fd, tx: &mut c.tx, tx_len: 0, rx: &mut c.rx, rx_len: 0 };
    let mut past_dot = false;
    let result = (|| -> Result<(), u32> {
        link.expect(220, GREET_ERROR)?;
        link.put(b"EHLO ")?;
        link.put(domain)?;
        link.put(b"\r\n")?;
        let (mut plain, mut login) = (false, false);
        let code = link.reply(TIMEOUT_MS, &mut |text| {
            let mut words = text.split(|&b| b == b' ');
            if words.next().is_some_and(|w| w.eq_ignore_ascii_case(b"AUTH")) {
                for w in words {
                    plain |= w.eq_ignore_ascii_case(b"PLAIN");
                    login |= w.eq_ignore_ascii_case(b"LOGIN");
                }
            }
        })?;
        if code != 250 {
            return Err(HELLO_ERROR);
        }
        if auth != AUTH_NONE {
            if !plain && !login {
                return Err(AUTH_ERROR);
            }
            if (auth == NX_SMTP_CLIENT_AUTH_PLAIN && plain) || !login {
                link.put(b"AUTH PLAIN ")?;
                link.base64(&[b"\0", user, b"\0", pass])?;
            } else {
                link.put(b"AUTH LOGIN\r\n")?;
                link.expect(334, AUTH_REPLY_ERROR)?;
                link.base64(&[user])?;
                link.expect(334, AUTH_REPLY_ERROR)?;
                link.base64(&[pass])?;
            }
            link.expect(235, AUTH_REPLY_ERROR)?;
        }
        for (verb, path, error) in [(&b"MAIL FROM:<"[..], from, MAIL_ERROR), (b"RCPT TO:<", rcpt, RCPT_ERROR)] {
            link.put(verb)?;
            link.put(path)?;
            link.put(b">\r\n")?;
            let code = link.reply(TIMEOUT_MS, &mut |_| {})?;
            if !(200..300).contains(&code) {
                return Err(error);
            }
        }
        link.put(b"DATA\r\n")?;
        link.expect(354, DATA_ERROR)?;
        for (name, value) in [(&b"From: "[..], from), (b"To: ", rcpt), (b"Subject: ", subject)] {
            link.put(name)?;
            link.put(value)?;
            link.put(b"\r\n")?;
        }
        link.put(b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")?;
        let mut line_start = true;
        let mut cr = false;
        for &b in body {
            if cr && b == b'\n' {
                cr = false;
                continue;
            }
            cr = b == b'\r';
            if b == b'\r' || b == b'\n' {
                link.put(b"\r\n")?;
                line_start = true;
                continue;
            }
            if line_start && b == b'.' {
                link.put(b".")?;
            }
            link.put(&[b])?;
            line_start = false;
        }
        link.put(if line_start { b".\r\n" } else { b"\r\n.\r\n" })?;
        past_dot = true;
        let code = link.reply(FINAL_MS, &mut |_| {})?;
        if !(200..300).contains(&code) {
            return Err(MESSAGE_ERROR);
        }
        link.put(b"QUIT\r\n")?;
        let _ = link.reply(TIMEOUT_MS, &mut |_| {});
        Ok(())
    })();
    // SAFETY: the descriptor this send opened, closed once.
    unsafe { smtp_shim_close(fd) };
    for b in c.tx.iter_mut() {
        // SAFETY: a valid byte of the client's buffer; volatile: the credentials' base64 is wiped.
        unsafe { core::ptr::write_volatile(b, 0) };
    }
    match result {
        Ok(()) => OK,
        Err(NO_PACKET | NOT_CONNECTED | BAD_REPLY | TRANSMIT_ERROR | REPLY_TOO_LONG) if past_dot => OUTCOME_UNKNOWN,
        Err(e) => e,
    }
}
