//! MIME mail against the real Postfix (live suite: features `live-servers` and `mime`, servers
//! from scripts/servers/start-all.sh): attachments of 0 B, 1 B, 57 B, 58 B, 1 MiB and 50 MiB of
//! random binary (a fixed seed) with a text and an HTML part and non-ASCII file names, to
//! 127.0.0.1:2525 (8BITMIME) and 127.0.0.1:2526 (the same Postfix without 8BITMIME). Each
//! delivered message is read back with Python's `email` package (tests/support/mime_check.py,
//! the venv's python: $ZSMTP_VENV, default ~/.cache/zsmtp-venv) and compared byte for byte.
//! A reader that fails mid-attachment must leave nothing in the mailbox.

#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::live::{delivered, token, with_token};
use support::readers::{FailingReader, RandomBytes};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Attachment, Auth, Client, Config, ErrorKind, Mail, Phase};

const SERVER: &str = "127.0.0.1";
/// Postfix with 8BITMIME.
const PORT_8BIT: u16 = 2525;
/// The same Postfix, its EHLO without 8BITMIME.
const PORT_7BIT: u16 = 2526;
const MIB: usize = 1024 * 1024;

fn client(port: u16) -> Client<'static, StdTransport, StdClock> {
    let config = Config::new(SERVER, port, "device.example.test", "alice@example.test")
        .auth(Auth::Login, "alice", "secret123")
        .allow_plaintext_auth(true);
    Client::new(config, StdTransport::new(), StdClock::new()).unwrap()
}

/// One attachment of the test: name, expected content type, size, seed, whether its size is
/// given to the API.
struct Planned {
    name: &'static str,
    content_type: &'static str,
    len: usize,
    seed: u64,
    size_given: bool,
}

fn venv_python() -> PathBuf {
    let venv = std::env::var("ZSMTP_VENV").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/zsmtp-venv"));
    venv.join("bin/python")
}

/// Writes what was sent into `dir` and runs mime_check.py on the delivered `message`.
fn check_with_python(dir: &Path, message: &[u8], text: &str, html: Option<&str>, planned: &[Planned], seven_bit: bool) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("message.eml"), message).unwrap();
    std::fs::write(dir.join("text"), text).unwrap();
    let mut attachments = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        let file = dir.join(format!("attachment-{i}"));
        std::fs::write(&file, RandomBytes::all(p.seed, p.len)).unwrap();
        attachments.push(format!(r#"{{"name": {:?}, "type": {:?}, "file": {:?}}}"#, p.name, p.content_type, file.display().to_string()));
    }
    let html_path = html.map(|h| {
        std::fs::write(dir.join("html"), h).unwrap();
        format!("{:?}", dir.join("html").display().to_string())
    });
    let expected = format!(
        r#"{{"text": {:?}, "html": {}, "attachments": [{}]}}"#,
        dir.join("text").display().to_string(),
        html_path.unwrap_or_else(|| "null".into()),
        attachments.join(", ")
    );
    std::fs::write(dir.join("expected.json"), expected).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mime_check.py");
    let mut cmd = std::process::Command::new(venv_python());
    cmd.arg(script).arg(dir.join("message.eml")).arg(dir.join("expected.json"));
    if seven_bit {
        cmd.arg("--seven-bit");
    }
    let out = cmd.output().expect("run the venv's python");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}", said.trim());
    // Nothing of the mail is printed on success; the files go too.
    std::fs::remove_dir_all(dir).unwrap();
}

fn scratch_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("zsmtp-live-attachments-{tag}"))
}

/// Sends text, HTML and `planned` attachments to `port` for `user`, reads the one delivered
/// message back and compares it.
fn round_trip(port: u16, user: &str, planned: &[Planned]) {
    let tag = token(&format!("mime-{port}"));
    let text = format!("Grüße aus dem Kühlhaus ({tag}).\n.a line with a leading dot\n{}\ntrailing space \n", "Überlänge ".repeat(150));
    let html = format!("<html><body><p>Grüße, <b>HTML</b> ({tag})</p>\n<p>{}</p></body></html>\n", "lang ".repeat(300));
    let mut readers: Vec<RandomBytes> = planned.iter().map(|p| RandomBytes::new(p.seed, p.len)).collect();
    let mut attachments: Vec<Attachment<'_>> = planned
        .iter()
        .zip(readers.iter_mut())
        .map(|(p, r)| {
            let a = Attachment::new(p.name, r);
            if p.size_given {
                a.size(p.len as u64)
            } else {
                a
            }
        })
        .collect();
    let to = [format!("{user}@example.test")];
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let mail = Mail::new(&tag, text.as_bytes()).html(html.as_bytes()).to(&to);
    let started = Instant::now();
    client(port).send_mime(&mail, &mut attachments).unwrap();
    let sent_in = started.elapsed();
    let message = delivered(user, &tag, 1).remove(0);
    check_with_python(&scratch_dir(&tag), &message, &text, Some(&html), planned, port == PORT_7BIT);
    let total: usize = planned.iter().map(|p| p.len).sum();
    eprintln!("{total} bytes of attachments to port {port}: sent in {sent_in:?}");
}

fn small_and_medium() -> Vec<Planned> {
    vec![
        Planned { name: "empty.bin", content_type: "application/octet-stream", len: 0, seed: 1, size_given: true },
        Planned { name: "one.dat", content_type: "application/octet-stream", len: 1, seed: 2, size_given: false },
        Planned { name: "Messwerte-Kühlhaus-57.csv", content_type: "text/csv", len: 57, seed: 3, size_given: true },
        Planned { name: "snapshot 58.PNG", content_type: "image/png", len: 58, seed: 4, size_given: false },
        Planned { name: "温度记录-1MiB.gz", content_type: "application/gzip", len: MIB, seed: 5, size_given: true },
    ]
}

#[test]
fn attachments_arrive_byte_for_byte_with_8bitmime() {
    round_trip(PORT_8BIT, "bob", &small_and_medium());
}

#[test]
fn attachments_arrive_byte_for_byte_and_7bit_clean_without_8bitmime() {
    round_trip(PORT_7BIT, "carol", &small_and_medium());
}

#[test]
fn fifty_mebibytes_arrive_byte_for_byte() {
    let planned = [Planned { name: "Protokoll-€-50MiB.bin", content_type: "application/octet-stream", len: 50 * MIB, seed: 6, size_given: true }];
    let started = Instant::now();
    round_trip(PORT_8BIT, "dave", &planned);
    assert!(started.elapsed() < Duration::from_secs(60), "50 MiB took {:?}", started.elapsed());
}

/// Gives `good` random bytes, then fails.
#[test]
fn a_failing_reader_leaves_no_mail_in_the_mailbox() {
    for port in [PORT_8BIT, PORT_7BIT] {
        let tag = token(&format!("mime-fail-{port}"));
        let mut good = RandomBytes::new(7, 1000);
        let mut failing = FailingReader::new(300_000);
        let mut attachments = [Attachment::new("good.bin", &mut good), Attachment::new("failing.bin", &mut failing)];
        let to = ["alice@example.test"];
        let e = client(port).send_mime(&Mail::new(&tag, b"never delivered\n").to(&to), &mut attachments).unwrap_err();
        assert_eq!((e.kind, e.phase), (ErrorKind::BodyRead, Phase::Message));
        // A mail sent afterwards arrives; the abandoned one never does.
        let after = token(&format!("mime-after-{port}"));
        client(port).send(&Mail::new(&after, b"sent after the failed one\n").to(&to)).unwrap();
        delivered("alice", &after, 1);
        std::thread::sleep(Duration::from_secs(1));
        assert!(with_token("alice", &tag).is_empty(), "the abandoned mail was delivered");
    }
}

// ---- The C API: nx_smtp_mail_send_extended -----------------------------------------------------

#[cfg(all(feature = "capi", not(feature = "small")))] // the small profile has no extended send
mod capi {
    use super::*;
    use core::ffi::{c_uint, c_ulong, c_void};
    use std::ffi::CString;
    use support::capi::{cs, CClient};
    use zsmtp::capi::*;
    use zsmtp::error::status;

    /// The read callback of a C attachment: `context` is a `RandomBytes`, or a `FailingReader`
    /// when `FAILING` (any failing status ends the send).
    unsafe extern "C" fn read_random(context: *mut c_void, buffer: *mut u8, size: c_ulong, got: *mut c_ulong) -> c_uint {
        // SAFETY: the test passes a live RandomBytes as the context and the library a buffer
        // of `size` bytes and a valid `got`.
        let (reader, buf) = unsafe { (&mut *context.cast::<RandomBytes>(), std::slice::from_raw_parts_mut(buffer, size as usize)) };
        let n = embedded_io::Read::read(reader, buf).unwrap();
        // SAFETY: valid for one write (above).
        unsafe { *got = n as c_ulong };
        status::NX_SUCCESS
    }

    unsafe extern "C" fn read_failing(context: *mut c_void, buffer: *mut u8, size: c_ulong, got: *mut c_ulong) -> c_uint {
        // SAFETY: as read_random, with a FailingReader.
        let (reader, buf) = unsafe { (&mut *context.cast::<FailingReader>(), std::slice::from_raw_parts_mut(buffer, size as usize)) };
        match embedded_io::Read::read(reader, buf) {
            Ok(n) => {
                // SAFETY: valid for one write.
                unsafe { *got = n as c_ulong };
                status::NX_SUCCESS
            }
            Err(_) => 0x41, // an application's own failure status
        }
    }

    fn attachment(name: &CString, data: &[u8]) -> NxSmtpAttachment {
        NxSmtpAttachment {
            nx_smtp_attachment_name: name.as_ptr(),
            nx_smtp_attachment_content_type: std::ptr::null(),
            nx_smtp_attachment_data: if data.is_empty() { std::ptr::null() } else { data.as_ptr() },
            nx_smtp_attachment_length: data.len() as c_ulong,
            nx_smtp_attachment_read: None,
            nx_smtp_attachment_context: std::ptr::null_mut(),
        }
    }

    fn send(c: &mut CClient, tag: &str, text: &str, html: &str, list: &mut [NxSmtpAttachment]) -> u32 {
        let (to, subject) = (cs("<alice@example.test>"), cs(tag));
        // SAFETY: a created client; every pointer lives until the call returns.
        unsafe {
            nx_smtp_mail_send_extended(
                c.ptr(),
                to.as_ptr().cast_mut(),
                NX_SMTP_MAIL_PRIORITY_NORMAL,
                subject.as_ptr().cast_mut(),
                text.as_ptr().cast_mut().cast(),
                text.len() as c_uint,
                html.as_ptr().cast_mut().cast(),
                html.len() as c_uint,
                list.as_mut_ptr(),
                list.len() as c_uint,
            )
        }
    }

    fn client(port: u16) -> CClient {
        CClient::created(port, NX_SMTP_CLIENT_AUTH_LOGIN, "alice", "secret123", "<alice@example.test>", "device.example.test")
    }

    /// HTML and three attachments through the C API, one of each kind (an empty buffer, a
    /// buffer with a given content type, a callback of unknown size), to Postfix with and
    /// without 8BITMIME; read back byte for byte.
    #[test]
    fn c_attachments_from_buffers_and_callbacks_arrive_byte_for_byte() {
        for port in [PORT_8BIT, PORT_7BIT] {
            let tag = token(&format!("capi-mime-{port}"));
            let text = format!("Grüße über die C-Schnittstelle ({tag}).\n");
            let html = format!("<p>Grüße, <b>C</b> ({tag})</p>\n");
            let planned = [
                Planned { name: "empty.bin", content_type: "application/octet-stream", len: 0, seed: 11, size_given: true },
                Planned { name: "Messwerte-Kühlhaus.dat", content_type: "text/csv", len: 57, seed: 12, size_given: true },
                Planned { name: "log-1MiB.gz", content_type: "application/gzip", len: MIB, seed: 13, size_given: false },
            ];
            let names: Vec<CString> = planned.iter().map(|p| cs(p.name)).collect();
            let csv = RandomBytes::all(12, 57);
            let mut stream = RandomBytes::new(13, MIB);
            let content_type = cs("text/csv");
            let mut list = [attachment(&names[0], &[]), attachment(&names[1], &csv), attachment(&names[2], &[])];
            list[1].nx_smtp_attachment_content_type = content_type.as_ptr();
            list[2].nx_smtp_attachment_read = Some(read_random);
            list[2].nx_smtp_attachment_context = (&mut stream as *mut RandomBytes).cast();
            list[2].nx_smtp_attachment_length = NX_SMTP_ATTACHMENT_SIZE_UNKNOWN;
            let mut c = client(port);
            assert_eq!(send(&mut c, &tag, &text, &html, &mut list), status::NX_SUCCESS, "{:?}", c.last_reply());
            let message = delivered("alice", &tag, 1).remove(0);
            check_with_python(&scratch_dir(&tag), &message, &text, Some(&html), &planned, port == PORT_7BIT);
        }
    }

    /// A callback that fails mid-attachment: its status ends the send, nothing is delivered.
    #[test]
    fn a_failing_c_callback_leaves_no_mail() {
        let tag = token("capi-mime-fail");
        let name = cs("failing.bin");
        let mut failing = FailingReader::new(300_000);
        let mut list = [attachment(&name, &[])];
        list[0].nx_smtp_attachment_read = Some(read_failing);
        list[0].nx_smtp_attachment_context = (&mut failing as *mut FailingReader).cast();
        list[0].nx_smtp_attachment_length = NX_SMTP_ATTACHMENT_SIZE_UNKNOWN;
        let mut c = client(PORT_8BIT);
        assert_eq!(send(&mut c, &tag, "never delivered\n", "", &mut list), status::NX_SMTP_INTERNAL_ERROR);
        let after = token("capi-mime-after");
        assert_eq!(c.send("<alice@example.test>", &after, b"sent after the failed one\n"), status::NX_SUCCESS);
        delivered("alice", &after, 1);
        std::thread::sleep(Duration::from_secs(1));
        assert!(with_token("alice", &tag).is_empty(), "the abandoned mail was delivered");
    }

    /// Bad descriptors are refused before anything is sent (no server listens on port 1).
    #[test]
    fn bad_descriptors_are_refused_before_connecting() {
        let mut c = client(1);
        let good = cs("a.txt");
        let bad_names = [cs(""), cs("a\r\nb.txt")];
        for name in &bad_names {
            let mut list = [attachment(name, b"x")];
            assert_eq!(send(&mut c, "s", "b\n", "", &mut list), status::NX_SMTP_INVALID_PARAM);
        }
        let mut list = [attachment(&good, b"x")];
        list[0].nx_smtp_attachment_name = std::ptr::null();
        assert_eq!(send(&mut c, "s", "b\n", "", &mut list), status::NX_PTR_ERROR);
        let mut list = [attachment(&good, b"x")];
        list[0].nx_smtp_attachment_data = std::ptr::null();
        assert_eq!(send(&mut c, "s", "b\n", "", &mut list), status::NX_PTR_ERROR);
        let bad_type = cs("not a type");
        let mut list = [attachment(&good, b"x")];
        list[0].nx_smtp_attachment_content_type = bad_type.as_ptr();
        assert_eq!(send(&mut c, "s", "b\n", "", &mut list), status::NX_SMTP_INVALID_PARAM);
        let mut many = vec![attachment(&good, b"x"); NX_SMTP_CLIENT_MAX_ATTACHMENTS + 1];
        assert_eq!(send(&mut c, "s", "b\n", "", &mut many), status::NX_SIZE_ERROR);
        // Nothing was even tried: the last reply is still none.
        assert_eq!(c.last_code(), 0);
    }
}
